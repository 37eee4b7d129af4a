"""The background writer: the caller never waits on the disk unless the queue is full, and nothing is lost."""

from __future__ import annotations

import logging
import threading

from slipway.serving.log_writer import BackgroundWriter


class StalledDisk:
    """A write function that blocks until released, recording what it wrote and in how many rounds."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.rounds: list[list[int]] = []

    def write(self, items: list[int]) -> None:
        self.released.wait(timeout=30)
        self.rounds.append(items)


def test_a_stalled_disk_makes_a_full_queue_wait_and_loses_nothing() -> None:
    disk = StalledDisk()
    writer = BackgroundWriter(disk.write, "test writer", max_pending=10)
    for item in range(10):
        writer.submit(item)  # returns at once: room in the queue, the disk's slowness does not matter
    blocked = threading.Thread(target=writer.submit, args=(10,))
    blocked.start()
    blocked.join(timeout=0.5)
    assert blocked.is_alive(), "the eleventh item should wait for room while the disk is stalled"
    disk.released.set()
    blocked.join(timeout=30)
    writer.close()
    assert [item for items in disk.rounds for item in items] == list(range(11))
    assert len(disk.rounds) < 11  # written in rounds of everything waiting, not one call per item


def test_flush_waits_until_everything_submitted_is_written() -> None:
    written: list[int] = []
    writer = BackgroundWriter(written.extend, "test writer", max_pending=1000)
    for item in range(500):
        writer.submit(item)
    writer.flush()
    assert written == list(range(500))
    writer.submit(500)  # still running after a flush
    writer.close()
    writer.submit(501)  # a new thread after a close
    writer.close()
    assert written == list(range(502))


def test_a_failed_write_is_logged_and_the_writer_carries_on(caplog) -> None:
    written: list[str] = []

    def write(items: list[str]) -> None:
        if "bad" in items:
            raise OSError("No space left on device")
        written.extend(items)

    writer = BackgroundWriter(write, "test writer", max_pending=1000)
    with caplog.at_level(logging.ERROR):
        writer.submit("bad")
        writer.flush()
        writer.submit("good")
        writer.close()
    assert written == ["good"]
    assert "test writer: could not write 1 item(s): OSError: No space left on device" in caplog.text
