"""A token in the forms it could leak in: as is, in base64, and as git's basic-auth header value."""

from __future__ import annotations

import base64


def token_forms(token: str) -> dict[str, str]:
    """Form name -> the text to look for."""
    return {
        "token": token,
        "base64 of the token": base64.b64encode(token.encode()).decode(),
        "base64 of x-access-token:token": base64.b64encode(f"x-access-token:{token}".encode()).decode(),
    }


def leaks(text: str, token: str) -> list[str]:
    """The names of the forms of ``token`` that appear in ``text``."""
    return [name for name, form in token_forms(token).items() if form in text]
