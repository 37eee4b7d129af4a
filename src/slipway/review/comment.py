"""Whether and how the report is posted as the pull request's sticky comment."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # heavy imports (pandera, scipy) only where the report is built, not for `slipway comment`
    pass


def comment_decision(token: bool, head_repository: str, repository: str) -> tuple[bool, str]:
    """Whether to post the PR comment: only with a token, and never for a fork's PR (its token is read-only)."""
    if head_repository and repository and head_repository != repository:
        return False, f"pull request from a fork ({head_repository}), which gets no write token"
    if not token:
        return False, "no token (REPO_TOKEN is not set)"
    return True, "token available, same repository"
