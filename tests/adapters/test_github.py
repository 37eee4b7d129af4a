"""GitHub step outputs, the step summary and the run link: what GitHub reads is exactly what was written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from slipway.adapters.github import append_summary, output_text, run_url, write_outputs


def github_reads(text: str) -> dict[str, str]:
    """The step outputs GitHub's runner takes from a GITHUB_OUTPUT file (``name=value`` lines and
    ``name<<delimiter`` blocks)."""
    outputs: dict[str, str] = {}
    lines = iter(text.split("\n"))
    for line in lines:
        if block := re.fullmatch(r"([^=<]+)<<(.+)", line):
            value: list[str] = []
            for inner in lines:
                if inner == block[2]:
                    break
                value.append(inner)
            else:
                raise ValueError(f"{block[1]}: no closing delimiter")
            outputs[block[1]] = "\n".join(value)
        elif "=" in line:
            name, _, value_line = line.partition("=")
            outputs[name] = value_line
    return outputs


def test_one_line_values_are_plain_and_multi_line_values_cannot_add_outputs(tmp_path: Path) -> None:
    sneaky = "drift\nalert=false\nghadelimiter_x\nstatus=healthy"
    text = output_text({"changed": "true", "summary": sneaky, "windows": "a\r\nb"})
    assert text.startswith("changed=true\n")
    assert github_reads(text) == {"changed": "true", "summary": sneaky, "windows": "a\r\nb"}


def test_outputs_append_to_the_file_github_names_and_do_nothing_elsewhere(tmp_path: Path) -> None:
    output = tmp_path / "github_output"
    write_outputs({"version": "v0.2.0"}, {"GITHUB_OUTPUT": str(output)})
    write_outputs({"registered": "true"}, {"GITHUB_OUTPUT": str(output)})
    assert output.read_text() == "version=v0.2.0\nregistered=true\n"
    write_outputs({"version": "v0.3.0"}, {})
    assert output.read_text() == "version=v0.2.0\nregistered=true\n"
    with pytest.raises(ValueError, match="not a step output name"):
        output_text({"bad name": "x"})


def test_the_summary_and_the_run_link(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    env = {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_RUN_ID": "42", "GITHUB_REPOSITORY": "acme/churn"}
    append_summary("## Report", env)
    append_summary("second\n", env)
    assert summary.read_text() == "## Report\nsecond\n"
    assert run_url(env) == "https://github.com/acme/churn/actions/runs/42"
    assert run_url({**env, "GITHUB_SERVER_URL": "https://ghe.acme.test"}).startswith("https://ghe.acme.test/acme/")
    assert run_url({}) == ""
