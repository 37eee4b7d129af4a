"""Example budgets of the property tests: the whole budget in `make test`, a tenth of it in `make test-fast`.

`make test-fast` loads Hypothesis's ``quick`` profile (``--hypothesis-profile=quick``, registered in
``tests/conftest.py``); a test states its whole budget once, ``@settings(max_examples=examples(300))``.
"""

from __future__ import annotations

from hypothesis import settings

QUICK = "quick"


def register_profiles() -> None:
    """The ``quick`` profile: the defaults with fewer examples (tests that state a budget use ``examples``)."""
    settings.register_profile(QUICK, max_examples=10)


def examples(whole: int) -> int:
    """``whole`` examples, or a tenth of them (at least 10) under the ``quick`` profile."""
    return max(10, whole // 10) if settings.get_current_profile_name() == QUICK else whole
