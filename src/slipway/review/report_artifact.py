"""The pull request's report artifact, read as untrusted data.

A fork's pull request runs its own version of ``pr.yml``, so whatever it uploads as the ``report`` artifact may
have been written by anyone. Before anything from it is pushed or posted it must be: ``report.md`` (bounded size,
UTF-8) and PNG images (bounded size and count, PNG signature) as regular files directly in the folder, with every
local link in the markdown naming one of those PNGs. A symbolic link anywhere, a link that leaves the folder or
names another file, an oversized or fake PNG refuses the whole artifact. Other files are never read, published or
trusted: they are listed as ignored (a pull-request number written into the artifact is one of them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

REPORT_NAME = "report.md"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_MARKDOWN_BYTES = 60_000
"""A GitHub comment holds at most 65,536 characters; the watermark and rewritten links need some of them."""
MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_IMAGES = 20
IMAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\.png")
ALLOWED_SCHEMES = ("https://", "http://", "mailto:")

LINK_PATTERNS = (
    re.compile(r"(\]\(\s*<?)([^)\s>]*)"),  # inline: [text](target), ![alt](target)
    re.compile(r"^(\s{0,3}\[[^\]]+\]:\s*<?)(\S*?)(?=>?(?:\s|$))", re.MULTILINE),  # reference: [id]: target
    re.compile(r"""(\b(?:src|href)\s*=\s*["']?)([^"'\s>]*)""", re.IGNORECASE),  # HTML
)
"""Every way the markdown may name a file; group 2 is the target (group 1 what precedes it, kept on rewriting)."""


class ReportRefused(ValueError):
    """The artifact is not a report this workflow will publish; the message names the file and the reason."""


@dataclass(frozen=True)
class CheckedReport:
    """What passed the checks: the markdown, the PNGs it may link (name -> path), and what was left aside."""

    markdown: str
    images: dict[str, Path]
    ignored: list[str] = field(default_factory=list)


def is_local(target: str) -> bool:
    """Whether a link target names a file (not a web address or an anchor within the page)."""
    return bool(target) and not target.startswith("#") and not target.lower().startswith(ALLOWED_SCHEMES)


def local_links(markdown: str) -> list[str]:
    """Every local link target in the markdown: the targets a publisher would read from disk."""
    return [m.group(2) for pattern in LINK_PATTERNS for m in pattern.finditer(markdown) if is_local(m.group(2))]


def check_link(target: str, images: dict[str, Path]) -> None:
    """A local link must be the bare name of one of the report's PNGs."""
    if "/" in target or "\\" in target or target.startswith("..") or "%" in target or ":" in target:
        raise ReportRefused(f"{REPORT_NAME} links {_shown(target)}, outside the report folder (only its PNGs)")
    if target not in images:
        raise ReportRefused(f"{REPORT_NAME} links {_shown(target)}, which is not one of the report's PNG images")


def _check_png(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_IMAGE_BYTES:
        raise ReportRefused(
            f"{_shown(path.name)} is {size:,} bytes, more than the {MAX_IMAGE_BYTES:,} an image may have"
        )
    with path.open("rb") as handle:
        if handle.read(len(PNG_SIGNATURE)) != PNG_SIGNATURE:
            raise ReportRefused(f"{_shown(path.name)} is not a PNG image (no PNG signature)")


def _read_markdown(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_MARKDOWN_BYTES:
        raise ReportRefused(f"{REPORT_NAME} is {size:,} bytes, more than the {MAX_MARKDOWN_BYTES:,} a comment holds")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ReportRefused(f"{REPORT_NAME} is not UTF-8 text") from None


def _shown(name: str) -> str:
    """A file name from the artifact as it may appear in a log line: quoted, escaped, shortened."""
    return repr(name if len(name) <= 80 else name[:77] + "...")


def check_report_folder(folder: Path) -> CheckedReport:
    """Check a downloaded report folder; raise ReportRefused naming the first problem found. Only the folder's
    own entries are looked at: sub-folders are never entered (their content is ignored)."""
    if folder.is_symlink() or not folder.is_dir():
        raise ReportRefused(f"{folder} is not a folder (was the report artifact uploaded?)")
    images: dict[str, Path] = {}
    ignored: list[str] = []
    markdown_path: Path | None = None
    for entry in sorted(folder.iterdir()):
        name = entry.name
        if entry.is_symlink():
            raise ReportRefused(f"{_shown(name)} is a symbolic link; the report holds regular files only")
        if name == REPORT_NAME and entry.is_file():
            markdown_path = entry
        elif name.lower().endswith(".png") and entry.is_file():
            if not IMAGE_NAME.fullmatch(name):
                raise ReportRefused(f"{_shown(name)} is not a plain image name (letters, digits, '_', '.', '-')")
            _check_png(entry)
            images[name] = entry
        else:
            ignored.append(_shown(name) + ("/" if entry.is_dir() else ""))
    if markdown_path is None:
        raise ReportRefused(f"no {REPORT_NAME} in the report artifact")
    if len(images) > MAX_IMAGES:
        raise ReportRefused(f"{len(images)} images, more than the {MAX_IMAGES} a report may hold")
    markdown = _read_markdown(markdown_path)
    for target in local_links(markdown):
        check_link(target, images)
    return CheckedReport(markdown, images, ignored)
