"""GitHub Actions at the edge: step outputs, the step summary, and the link to the run. Outside Actions (no
``GITHUB_OUTPUT`` / ``GITHUB_STEP_SUMMARY`` / ``GITHUB_RUN_ID``) each does nothing or returns ""."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Mapping

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def output_text(values: Mapping[str, str]) -> str:
    """What GitHub reads as step outputs: ``name=value`` lines, and a value with a line break as
    ``name<<delimiter`` / value / ``delimiter`` with a delimiter the value does not contain (so no value can end
    its own entry and add another output)."""
    parts = []
    for name, value in values.items():
        if not _NAME.match(name):
            raise ValueError(f"{name!r} is not a step output name")
        if "\n" not in value and "\r" not in value:
            parts.append(f"{name}={value}\n")
            continue
        delimiter = f"ghadelimiter_{uuid.uuid4().hex}"
        while delimiter in value:
            delimiter = f"ghadelimiter_{uuid.uuid4().hex}"
        parts.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return "".join(parts)


def write_outputs(values: Mapping[str, str], env: Mapping[str, str] | None = None) -> None:
    """Append step outputs to ``$GITHUB_OUTPUT`` (nothing outside Actions)."""
    path = (os.environ if env is None else env).get("GITHUB_OUTPUT")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(output_text(values))


def append_summary(markdown: str, env: Mapping[str, str] | None = None) -> None:
    """Append markdown to the job's summary page, ``$GITHUB_STEP_SUMMARY`` (nothing outside Actions)."""
    path = (os.environ if env is None else env).get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(markdown if markdown.endswith("\n") else markdown + "\n")


def run_url(env: Mapping[str, str] | None = None) -> str:
    """The link to the running workflow run ("" outside Actions)."""
    env = os.environ if env is None else env
    if not env.get("GITHUB_RUN_ID"):
        return ""
    server = env.get("GITHUB_SERVER_URL") or "https://github.com"
    return f"{server}/{env.get('GITHUB_REPOSITORY', '')}/actions/runs/{env['GITHUB_RUN_ID']}"
