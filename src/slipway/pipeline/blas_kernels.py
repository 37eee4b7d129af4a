"""The same BLAS kernels on every x86-64 machine, so that a stage trains the same model bytes wherever it runs.

OpenBLAS (numpy's and scipy's) picks its kernels by the CPU it finds: AVX-512 kernels on one machine, AVX2 on
another, and they round differently. A logistic regression fitted by L-BFGS then differs in its last bits, the
model's hash differs, and a fresh clone's ``dvc repro`` no longer matches the committed ``dvc.lock``. Pinning
``OPENBLAS_CORETYPE`` to Haswell's kernels (AVX2 and FMA: every x86-64 CI runner of the last decade has them)
before numpy is imported makes the arithmetic the same on all of them. A value the user set wins; a CPU without
AVX2 or another architecture is left to OpenBLAS's own choice.
"""

from __future__ import annotations

import os
import platform
from collections.abc import MutableMapping
from pathlib import Path

CORETYPE_VARIABLE = "OPENBLAS_CORETYPE"
PINNED_CORETYPE = "Haswell"
_REQUIRED_FLAGS = frozenset({"avx2", "fma"})


def pin_blas_kernels(
    environ: MutableMapping[str, str] = os.environ,
    machine: str | None = None,
    cpuinfo: Path = Path("/proc/cpuinfo"),
) -> str | None:
    """Set ``OPENBLAS_CORETYPE`` in ``environ`` to the pinned kernels where this CPU runs them and nothing chose
    already; return the core type in force (``None``: OpenBLAS chooses). Effective only before numpy is imported."""
    if CORETYPE_VARIABLE in environ:
        return environ[CORETYPE_VARIABLE]
    if (machine or platform.machine()).lower() not in {"x86_64", "amd64"}:
        return None
    if not _cpu_flags(cpuinfo) >= _REQUIRED_FLAGS:
        return None
    environ[CORETYPE_VARIABLE] = PINNED_CORETYPE
    return PINNED_CORETYPE


def _cpu_flags(cpuinfo: Path) -> frozenset[str]:
    """The feature flags of the first CPU in ``/proc/cpuinfo`` (none if it cannot be read)."""
    try:
        with cpuinfo.open() as lines:
            for line in lines:
                name, _, value = line.partition(":")
                if name.strip() == "flags":
                    return frozenset(value.split())
    except OSError:
        pass
    return frozenset()
