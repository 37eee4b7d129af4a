"""Write Copier's answers into the project's own files: params.yaml and .dvc/config stay plain files, not templates.

Copier runs this after every render (``copy``, and each of the three renders of an ``update``), with its own
interpreter, so it needs nothing but the standard library. It edits single lines in place: comments, order and
every other line stay as they are, and a value that already holds the answer is left untouched, so running it
again changes nothing. Usage (from the project root)::

    python answers.py image_repository=ghcr.io/acme/churn report_title="Churn model" dvc_remote_url=dvc-storage
"""

from __future__ import annotations

import json
import posixpath
import re
import sys
from pathlib import Path

PARAMS = "params.yaml"
DVC_CONFIG = ".dvc/config"
PARAMS_KEYS = {"image_repository": ("deploy", "image"), "report_title": ("report", "title")}
"""Answer name -> the params.yaml key it sets."""
REMOTE_ANSWER = "dvc_remote_url"
PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./@%+ :,()-]*$")
"""Text that YAML reads back as the same plain string (quoted otherwise)."""
RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "~"}


class AnswerError(ValueError):
    """An answer that cannot be written: the message names the answer and why."""


def yaml_scalar(value: str) -> str:
    """``value`` as a YAML scalar: plain when that reads back as the same string, else double-quoted."""
    plain = (
        PLAIN.match(value) and not value.endswith((" ", ":")) and ": " not in value and value.lower() not in RESERVED
    )
    return value if plain else json.dumps(value, ensure_ascii=False)


def _split_value(rest: str) -> tuple[str, str]:
    """The text after ``key:`` -> (the scalar as written, the trailing comment from its ``#``, or "")."""
    quoted = re.match(r"""\s*("(?:[^"\\]|\\.)*"|'(?:[^']|'')*')\s*(#.*)?$""", rest)
    if quoted:
        return quoted.group(1), quoted.group(2) or ""
    comment = re.search(r"\s#", rest)
    if comment is None:
        return rest.strip(), ""
    return rest[: comment.start()].strip(), rest[comment.start() + 1 :]


def read_scalar(written: str) -> str:
    """The string a one-line YAML scalar holds, as written: plain, single- or double-quoted."""
    if written.startswith('"'):
        return json.loads(written)
    if written.startswith("'"):
        return written[1:-1].replace("''", "'")
    return written


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _content(line: str) -> bool:
    """A line that holds YAML content (not blank, not only a comment)."""
    return bool(line.strip()) and not line.strip().startswith("#")


def _find_key(lines: list[str], path: tuple[str, ...]) -> int:
    """Index of the line holding ``path`` (keys of nested block mappings); AnswerError if it is not there."""
    start, end, index = 0, len(lines), -1
    for key in path:
        children = [i for i in range(start, end) if _content(lines[i])]
        indent = _indent(lines[children[0]]) if children else 0
        pattern = re.compile(rf"{re.escape(key)}:(\s|$)")
        found = [i for i in children if _indent(lines[i]) == indent and pattern.match(lines[i].lstrip())]
        if not found:
            raise AnswerError(f"{PARAMS} has no key {'.'.join(path)}")
        index = found[0]
        later = [i for i in range(index + 1, len(lines)) if _content(lines[i]) and _indent(lines[i]) <= indent]
        start, end = index + 1, later[0] if later else len(lines)
    return index


def set_yaml_value(text: str, path: tuple[str, ...], value: str) -> str:
    """params.yaml text with the scalar at ``path`` set to ``value``; its comment (in its column when the value
    fits) and every other line kept. Unchanged when the key already holds ``value``."""
    lines = text.split("\n")
    index = _find_key(lines, path)
    head, _, rest = lines[index].partition(":")
    written, comment = _split_value(rest)
    if written and read_scalar(written) == value:
        return text
    line = f"{head}: {yaml_scalar(value)}"
    if comment:
        column = len(lines[index]) - len(comment)
        line += " " * (column - len(line)) + comment if column - len(line) >= 2 else "  " + comment
    lines[index] = line
    return "\n".join(lines)


def dvc_url(answer: str) -> str:
    """The remote URL as .dvc/config stores it: URLs and absolute paths as given, a folder relative to the project
    root made relative to .dvc/ (what ``dvc remote add`` does with a relative path)."""
    if "://" in answer or posixpath.isabs(answer):
        return answer
    return posixpath.relpath(posixpath.normpath(answer), ".dvc")


def set_dvc_remote_url(text: str, url: str) -> str:
    """.dvc/config text with the default remote's ``url`` set to ``url``; every other line kept."""
    if re.search(r"[\s#'\"]", url) or not url:
        raise AnswerError(f"{REMOTE_ANSWER}: {url!r} must be a URL or a path without spaces, quotes or '#'")
    lines = text.split("\n")
    section, name = None, None
    for line in lines:
        header = re.match(r"^\s*\[(.*)\]\s*$", line)
        if header:
            section = header.group(1)
            continue
        option = re.match(r"^\s*remote\s*=\s*(\S+)\s*$", line)
        if section == "core" and option:
            name = option.group(1)
    if name is None:
        raise AnswerError(f"{DVC_CONFIG} names no default remote (core.remote)")
    wanted = f"""'remote "{name}"'"""
    section = None
    for index, line in enumerate(lines):
        header = re.match(r"^\s*\[(.*)\]\s*$", line)
        if header:
            section = header.group(1)
            continue
        option = re.match(r"^(\s*)url\s*=\s*(.*?)\s*$", line)
        if section == wanted and option:
            if option.group(2) != url:
                lines[index] = f"{option.group(1)}url = {url}"
            return "\n".join(lines)
    raise AnswerError(f"{DVC_CONFIG} has no url for the default remote {name!r}")


def parse_answers(arguments: list[str]) -> dict[str, str]:
    """``name=value`` arguments -> answers; AnswerError for an unknown name or a value on several lines."""
    answers = {}
    for argument in arguments:
        name, equals, value = argument.partition("=")
        if not equals or name not in {*PARAMS_KEYS, REMOTE_ANSWER}:
            known = ", ".join(sorted({*PARAMS_KEYS, REMOTE_ANSWER}))
            raise AnswerError(f"unknown answer {argument!r}: expected name=value with name one of {known}")
        if "\n" in value or "\r" in value or not value.strip():
            raise AnswerError(f"{name}: the answer must be one non-empty line")
        answers[name] = value
    return answers


def apply_answers(root: Path, answers: dict[str, str]) -> list[str]:
    """Write the answers into ``root``'s files; the names of the files that changed."""
    changed = []
    params = root / PARAMS
    keys = {PARAMS_KEYS[name]: value for name, value in answers.items() if name in PARAMS_KEYS}
    if keys:
        text = params.read_text()
        new = text
        for path, value in keys.items():
            new = set_yaml_value(new, path, value)
        if new != text:
            params.write_text(new)
            changed.append(PARAMS)
    if REMOTE_ANSWER in answers:
        config = root / DVC_CONFIG
        text = config.read_text()
        new = set_dvc_remote_url(text, dvc_url(answers[REMOTE_ANSWER]))
        if new != text:
            config.write_text(new)
            changed.append(DVC_CONFIG)
    return changed


def main(arguments: list[str]) -> int:
    try:
        changed = apply_answers(Path.cwd(), parse_answers(arguments))
    except (AnswerError, OSError) as error:
        print(f"answers: {error}", file=sys.stderr)
        return 2
    for name in changed:
        print(f"answers: wrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
