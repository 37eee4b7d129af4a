"""What a ``.dvc`` file records, read as the YAML it is: no DVC import, so the pipeline's stages (which record the
data's hash in the model's provenance) and the stage host that preloads their imports do not load DVC."""

from __future__ import annotations

from pathlib import Path

import yaml


def dvc_file_md5(text: str | None) -> str | None:
    """The hash a ``.dvc`` file's text records for its (first) output; None when there is none or the text is not
    a ``.dvc`` file."""
    try:
        data = yaml.safe_load(text or "")
    except yaml.YAMLError:
        return None
    outs = data.get("outs") if isinstance(data, dict) else None
    first = outs[0] if isinstance(outs, list) and outs else None
    md5 = first.get("md5") if isinstance(first, dict) else None
    return md5 if isinstance(md5, str) else None


def dvc_tracked_md5(dvc_file: Path | str) -> str | None:
    """The hash recorded in a ``.dvc`` file (e.g. ``data.dvc``), if there is one."""
    path = Path(dvc_file)
    return dvc_file_md5(path.read_text()) if path.is_file() else None
