"""Safe persistence with skops (no pickle): saving is byte-reproducible, and a model loads only when every
type it holds is trusted by exact name (``slipway.artifact.trusted_types`` + ``train.trusted_types``)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

import skops.io as sio
from sklearn.pipeline import Pipeline

from slipway.artifact.tree_check import tree_problem
from slipway.artifact.trusted_types import BUILTIN_TRUSTED_TYPES
from slipway.config import ConfigError

_OBJECT_ID = re.compile(r'("__id__": )(\d+)()|(")(\d+)(\.npy")')


def _stable_zip(archive: bytes) -> bytes:
    """Make a skops archive reproducible: the same model always gives the same bytes (and hash).

    skops names objects and array members after memory addresses and stamps the time; renumber them
    in order of first reference in ``schema.json`` and use a fixed timestamp.
    """
    with zipfile.ZipFile(io.BytesIO(archive)) as src:
        members = {info.filename: src.read(info.filename) for info in src.infolist()}
    schema = members.pop("schema.json").decode()
    numbers: dict[str, str] = {}

    def renumber(match: re.Match[str]) -> str:
        before, old, after = (g for g in match.groups() if g is not None)
        return f"{before}{numbers.setdefault(old, str(len(numbers) + 1))}{after}"

    schema = _OBJECT_ID.sub(renumber, schema)
    renamed = {f"{numbers[name[:-4]]}.npy" if name[:-4] in numbers else name: data for name, data in members.items()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name, data in [("schema.json", schema.encode()), *sorted(renamed.items())]:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, data)
    return out.getvalue()


def save_model(model: Pipeline, path: Path | str) -> None:
    """Persist with skops, byte-for-byte reproducibly."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_stable_zip(sio.dumps(model)))


class UnsafeModelError(ConfigError):
    """A model file was refused: it is not a readable skops file, it holds types nobody declared trusted (loading
    them could run code), or its trees point outside themselves. The message names what and where."""


def trusted_types(declared: Sequence[str] = ()) -> frozenset[str]:
    """The exact type names a model may hold: the reviewed built-in list plus those declared in params.yaml."""
    return frozenset(BUILTIN_TRUSTED_TYPES) | frozenset(declared)


def untrusted_types(path: Path | str, declared: Sequence[str] = ()) -> list[str]:
    """Types in a skops file that neither skops' defaults nor the trusted list cover (nothing is constructed)."""
    allowed = trusted_types(declared)
    return sorted(t for t in sio.get_untrusted_types(file=path) if t not in allowed)


def load_model(path: Path | str, declared: Sequence[str] = ()) -> Pipeline:
    """Load a skops file that holds only trusted types (exact names, see ``slipway.artifact.trusted_types``); refuse
    anything else before constructing a single object, then check the indices of any gradient-boosted trees."""
    try:
        found = sio.get_untrusted_types(file=path)
    except Exception as error:  # not a zip, no schema.json, a malformed tree: nothing was constructed
        raise UnsafeModelError(f"{path}: not a readable skops file ({type(error).__name__}: {error})") from None
    refused = sorted(set(found) - trusted_types(declared))
    if refused:
        raise UnsafeModelError(
            f"{path}: refusing to load untrusted types {refused} (constructing them could run code); if you "
            "trained this model and reviewed these types, list them in params.yaml under train.trusted_types"
        )
    try:
        model = sio.load(path, trusted=sorted(found))
    except Exception as error:  # trusted types with content their classes reject
        raise UnsafeModelError(f"{path}: cannot be loaded ({type(error).__name__}: {error})") from None
    try:
        problem = tree_problem(model)
    except Exception as error:  # a tree ensemble missing the attributes a fitted one has
        problem = f"gradient-boosted trees cannot be checked ({type(error).__name__}: {error})"
    if problem:
        raise UnsafeModelError(f"{path}: refusing a model whose {problem}")
    return model
