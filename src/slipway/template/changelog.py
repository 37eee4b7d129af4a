"""The template's changelog between two versions: the sections a template update's pull request quotes."""

from __future__ import annotations

import re

SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-(\d+)-g[0-9a-f]+)?$")


def version_key(ref: str) -> tuple[int, int, int] | None:
    """``v1.2.3`` (or ``1.2.3``, or git describe's ``v1.2.3-4-gabc123``) -> (1, 2, 3); None for anything else."""
    match = SEMVER.match(ref.strip())
    return (int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None


def is_release(ref: str) -> bool:
    """A tag such as ``v1.2.3``, not a commit after it (``v1.2.3-4-gabc123``)."""
    match = SEMVER.match(ref.strip())
    return bool(match) and match.group(4) is None  # type: ignore[union-attr]


def changelog_sections(text: str) -> list[tuple[str, str]]:
    """The ``## `` sections of a changelog, in order: (heading, the section's markdown including its heading)."""
    parts = re.split(r"(?m)^(?=## )", text)
    return [(part.splitlines()[0][3:].strip(), part.rstrip() + "\n") for part in parts if part.startswith("## ")]


def changelog_excerpt(text: str, old: str, new: str) -> str:
    """The sections of the versions after ``old`` up to ``new``, newest first (as the changelog lists them), and
    the "Unreleased" section when ``new`` is a commit past its release."""
    low, high = version_key(old), version_key(new)
    chosen = []
    for heading, section in changelog_sections(text):
        version = version_key(heading.split()[0].strip("[]")) if heading else None
        if version is None:
            if heading.lower().startswith("unreleased") and high is not None and not is_release(new):
                chosen.append(section)
            continue
        if (low is None or version > low) and (high is None or version <= high):
            chosen.append(section)
    return "\n".join(chosen)
