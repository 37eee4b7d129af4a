"""Adopt the template for a new table: the I/O half.

:func:`adopt` writes ``schema.yaml``, edits ``params.yaml`` and ``dvc.yaml`` (comment-preserving), replaces the table
in ``data/`` and runs ``dvc add data`` — all of it under an undo journal (:mod:`slipway.adopt.journal`), so that an
error, SIGTERM, or SIGKILL followed by the next run puts every file back as it was."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

import slipway.data.schema  # noqa: F401  (registers the dataset-level checks the schema uses)
from slipway.adapters.commands import redact, secrets_in, summary
from slipway.adopt.edits import _yaml, monitor_kpis_for, schema_text, updated_dvc_yaml, updated_params
from slipway.adopt.infer import AdoptError, AdoptOptions, Plan, plan_adoption
from slipway.adopt.journal import ADOPT, Undone, begin, close, locked, pending, undo
from slipway.adopt.signals import child_options as journal_child_options
from slipway.adopt.signals import settle, signals_raise, stop_child
from slipway.config import TASK_KPIS, ConfigError, load_config, parse_config
from slipway.data.tables import DataReadError, read_table

DATA_DIR = "data"


LOCK_WAIT = 30.0
"""Seconds to wait for another adopt (or the ``dvc add`` it started) to end."""


@dataclass(frozen=True)
class Adopted:
    plan: Plan
    data_path: str
    removed: list[str]
    written: list[str]
    dry_run: bool = False
    files: dict[Path, str] = field(default_factory=dict, repr=False)
    """The new text of each small file written."""
    recovered: Undone | None = None
    """An earlier, interrupted adoption that was undone first."""


def next_steps(done: Adopted) -> str:
    """What was changed (or would be, in a dry run), what to review, and the commands that follow."""
    removed = f"; remove {', '.join(f'{DATA_DIR}/{name}' for name in done.removed)}" if done.removed else ""
    done_line = f"write {', '.join(done.written)}{removed}; run `dvc add {DATA_DIR}`"
    if done.dry_run:
        lines = [f"dry run, nothing was changed; adopting would {done_line}", "", "then review:"]
    else:
        lines = [f"done: {done_line}", "", "review before you commit:"]
    lines += [f"  - {note}" for note in done.plan.review]
    if not done.dry_run:
        lines += ["", "then: dvc repro && dvc push && git add -A && git commit -m 'Adopt my data'"]
    return "\n".join(lines)


def read_source(path: Path) -> pd.DataFrame:
    """The table to adopt; unreadable or empty files become an AdoptError."""
    if path.is_dir():
        raise AdoptError(f"{path}: is a folder, give the table file (.csv or .parquet)")
    try:
        return read_table(path)
    except DataReadError as error:
        raise AdoptError(str(error)) from None


def _dvc() -> str:
    beside = Path(sys.executable).with_name("dvc")
    return str(beside) if beside.exists() else "dvc"


def _dvc_add(root: Path) -> None:
    """``dvc add data``; a signal that stops adopt meanwhile ends the child before the undo starts."""
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "ITERATIVE_DO_NOT_TRACK": "1"}
    process = subprocess.Popen(
        [_dvc(), "add", DATA_DIR],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **journal_child_options(),
    )
    try:
        stdout, stderr = process.communicate()
    except BaseException:
        stop_child(process)
        raise
    if process.returncode != 0:
        raise AdoptError(f"`dvc add {DATA_DIR}` failed: {summary(redact(stderr or stdout, secrets_in(os.environ)))}")


def _planned_files(root: Path, table: Path, options: AdoptOptions) -> tuple[Plan, dict[Path, str]]:
    """The plan, and the new text of each small file it changes (the data folder is handled apart)."""
    params_path, dvc_yaml = root / "params.yaml", root / "dvc.yaml"
    try:
        config = load_config(params_path)
    except ConfigError as error:
        raise AdoptError(f"cannot read the project's settings: {error}") from None
    plan = plan_adoption(read_source(table), options, source=table.name)
    params_text = updated_params(params_path.read_text(), plan, f"{DATA_DIR}/{table.name}")
    sections = _yaml().load(params_text) or {}
    if "gate" in sections:
        plan.review.append(
            "params.yaml gate: floors are set at a trivial baseline (random ranking, majority class, mean); "
            "raise them once you know what a good model scores"
        )
    if "kpis" in (sections.get("monitor") or {}):
        plan.review.append(
            f"params.yaml monitor.kpis: {monitor_kpis_for(plan)} is a trivial baseline; "
            f"tighten it (KPIs for {plan.task}: {', '.join(TASK_KPIS[plan.task])})"
        )
    try:
        parse_config(_yaml().load(params_text))
    except ConfigError as error:
        raise AdoptError(f"the updated params.yaml would not be valid: {error}") from None
    files = {root / config.data.schema_path: schema_text(plan), params_path: params_text}
    plots = updated_dvc_yaml(dvc_yaml.read_text(), plan.task) if dvc_yaml.exists() else None
    if plots is not None:
        files[dvc_yaml] = plots
    return plan, files


def _swap_in(root: Path, table: Path, files: dict[Path, str], dvc_add: Callable[[Path], None]) -> None:
    """Journal the originals, move the new table and files in, run dvc add; on any failure or signal, undo."""
    names = list(dict.fromkeys([*(str(path.relative_to(root)) for path in files), "data.dvc", ".gitignore"]))
    try:
        journal = begin(root, ADOPT, f"adopt {table.name}", names, [DATA_DIR])
        journal.replace_folder(DATA_DIR, lambda folder: shutil.copy2(table, folder / table.name))
        for path, text in files.items():
            journal.replace_file(str(path.relative_to(root)), text.encode())
        dvc_add(root)
    except BaseException:
        undo(root, ADOPT)
        raise
    settle()
    close(journal.path)  # the adoption is complete: this rename is the commit


def adopt(
    table: Path,
    options: AdoptOptions,
    root: Path = Path("."),
    dry_run: bool = False,
    dvc_add: Callable[[Path], None] = _dvc_add,
) -> Adopted:
    """Adopt ``table`` in the repository at ``root``: every change lands, or none does.

    An adoption interrupted earlier (killed) is undone first, and reported in ``Adopted.recovered``; a dry run
    refuses to start on top of one. SIGTERM, SIGHUP and SIGINT during the adoption undo it and raise
    :class:`slipway.adopt.signals.Interrupted`.
    """
    root = root.resolve()
    table = table.resolve() if table.exists() else table
    if not (root / ".dvc").is_dir():
        raise AdoptError(f"{root} is not a DVC project (no .dvc folder): run adopt in its root or pass --repo")
    if dry_run:
        if pending(root, ADOPT):
            raise AdoptError("an interrupted adoption is still recorded: run `slipway adopt --recover` first")
        return _decide(root, table, options, dry_run=True)
    with signals_raise(), locked(root, ADOPT, LOCK_WAIT):
        recovered = undo(root, ADOPT)
        done = _decide(root, table, options, dry_run=False, recovered=recovered)
        _swap_in(root, table, done.files, dvc_add)
    return done


def _decide(root: Path, table: Path, options: AdoptOptions, dry_run: bool, recovered: Undone | None = None) -> Adopted:
    plan, files = _planned_files(root, table, options)
    data_path = f"{DATA_DIR}/{table.name}"
    data_dir = root / DATA_DIR
    removed = sorted(p.name for p in data_dir.iterdir() if p.name != table.name) if data_dir.is_dir() else []
    written = [*(str(path.relative_to(root)) for path in files), data_path, "data.dvc"]
    return Adopted(plan, data_path, removed, written, dry_run, files, recovered)
