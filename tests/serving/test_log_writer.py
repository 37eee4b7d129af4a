"""The background writer: the caller never waits on the disk unless the queue is full, nothing is lost, and a
stream of requests is written in a few rounds a second, not one per request."""

from __future__ import annotations

import logging
import threading
import time

from support.waiting import became_true

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


def test_a_stream_of_requests_is_written_in_one_round_per_linger_not_one_per_request() -> None:
    """Single-record requests arrive a few hundred microseconds apart: woken for each, the writer would take the
    GIL and a write from the server every time. It waits ``linger`` after a round's first item; a flush does not."""
    rounds: list[list[int]] = []
    writer = BackgroundWriter(rounds.append, "test writer", max_pending=1000, linger=30.0)
    for item in range(40):
        writer.submit(item)
        time.sleep(0.002)  # time enough for a writer woken by each item to write it
    assert rounds == []  # still lingering
    started = time.monotonic()
    writer.flush()
    assert time.monotonic() - started < 10, "flush waited for the linger"
    assert rounds == [list(range(40))]
    writer.submit(40)
    started = time.monotonic()
    writer.close()
    assert time.monotonic() - started < 10, "close waited for the linger"
    assert rounds == [list(range(40)), [40]]


def test_a_round_starts_by_itself_after_the_linger_or_at_once_when_half_the_room_is_taken() -> None:
    rounds: list[list[int]] = []
    writer = BackgroundWriter(rounds.append, "test writer", max_pending=10, linger=0.05)
    writer.submit(0)
    assert became_true(lambda: bool(rounds), 10), "the round did not start after its linger"
    writer.close()
    rounds.clear()
    writer = BackgroundWriter(rounds.append, "test writer", max_pending=10, linger=30.0)
    writer.submit(1, weight=4)
    assert not became_true(lambda: bool(rounds), 0.2)  # lingering: less than half the room taken
    writer.submit(2)
    assert became_true(lambda: bool(rounds), 10), "half the room taken, and the round still lingered"
    writer.close()
    assert [item for items in rounds for item in items] == [1, 2]
