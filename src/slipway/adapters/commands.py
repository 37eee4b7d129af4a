"""The one way Slipway runs an external command (git, gto, dvc, docker, kubectl, gh, cml).

Secrets never travel on a command line: callers pass them through ``env`` (for git, ``GIT_CONFIG_*`` variables,
see :func:`git_auth_env`) or ``input``. Whatever leaves this module in an exception or a log line is redacted
first: the values of known secret environment variables and of ``secrets=`` given by the caller, their base64
and URL-encoded forms (an HTTP ``Authorization: basic`` header is base64), and the user-info part of URLs.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger("slipway.adapters.commands")

SECRET_ENV_VARS: tuple[str, ...] = (
    "GITHUB_TOKEN", "GH_TOKEN", "REPO_TOKEN", "REGISTRY_TOKEN", "SLIPWAY_BOT_TOKEN", "CML_RUNNER_TOKEN",
    "KUBECONFIG_DATA", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_CLIENT_SECRET",
    "AZURE_STORAGE_KEY", "AZURE_STORAGE_CONNECTION_STRING", "GOOGLE_APPLICATION_CREDENTIALS_DATA",
)  # fmt: skip
"""Variables whose values are secret wherever they appear (CI secrets the workflows and tools use)."""
_SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|PRIVATE_KEY|ACCESS_KEY|CREDENTIALS_DATA)$")
"""Any other variable named like a secret is treated as one."""
MIN_SECRET_LENGTH = 6
"""Shorter values (``1``, ``true``) are not masked: replacing them everywhere would garble every message."""
MASK = "***"
_LONG_LINE = 20
_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
_SUMMARY_LINES = 3
_SUMMARY_CHARS = 400


class CommandError(RuntimeError):
    """An external command failed or could not start. The message is one redacted line: the command (shortened)
    and the last lines of what it printed; ``output`` holds the redacted tail of its output."""

    def __init__(self, message: str, returncode: int | None, output: str = "") -> None:
        super().__init__(message)
        self.returncode = returncode
        self.output = output


# ---------------------------------------------------------------- pure: what is secret, and masking it


def is_secret_name(name: str) -> bool:
    return name in SECRET_ENV_VARS or bool(_SECRET_NAME.search(name))


def base64_forms(secret: str) -> set[str]:
    """Strings that appear in any base64 (standard or URL-safe) text that encodes ``secret`` somewhere inside it,
    whatever its byte offset: the encodings of the secret from each of the three alignments, cut to whole groups."""
    raw = secret.encode()
    forms: set[str] = set()
    for start in range(3):
        core = raw[start:]
        core = core[: len(core) - len(core) % 3]
        if len(core) >= 3:
            encoded = base64.b64encode(core).decode()
            forms |= {encoded, encoded.replace("+", "-").replace("/", "_")}
    return forms


def secret_forms(secret: str) -> set[str]:
    """The secret, its URL-encoded form and its base64 forms (empty for values too short to mask)."""
    if len(secret) < MIN_SECRET_LENGTH:
        return set()
    return {secret, quote(secret, safe=""), *base64_forms(secret)}


def secrets_in(env: Mapping[str, str]) -> set[str]:
    """The secret values in an environment (by variable name). Of a multi-line value (a kubeconfig), each long
    line is one too: keys and tokens sit on lines of their own, and may be quoted without the rest."""
    found: set[str] = set()
    for name, value in env.items():
        if not is_secret_name(name) or len(value.strip()) < MIN_SECRET_LENGTH:
            continue
        found.add(value.strip())
        found.update(line.strip() for line in value.splitlines() if len(line.strip()) >= _LONG_LINE)
    return found


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every form of every secret replaced by ``***``, and user-info removed from URLs."""
    forms: set[str] = set()
    for secret in secrets:
        forms |= secret_forms(secret)
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    return _URL_USERINFO.sub(rf"\g<scheme>{MASK}@", text)


def summary(output: str, lines: int = _SUMMARY_LINES, chars: int = _SUMMARY_CHARS) -> str:
    """The last non-empty lines of a command's output, joined into one line of at most ``chars`` characters."""
    kept = [line.strip() for line in output.splitlines() if line.strip()][-lines:]
    joined = " | ".join(kept)
    return joined if len(joined) <= chars else "..." + joined[-(chars - 3) :]


def display(command: Sequence[str], chars: int = 160) -> str:
    """A command as shown in messages: program name and arguments, shortened (redact the words first)."""
    if not command:
        return ""
    words = [" ".join(str(word).split()) for word in [os.path.basename(str(command[0])), *command[1:]]]
    shown = " ".join(word if len(word) <= 60 else word[:57] + "..." for word in words)
    return shown if len(shown) <= chars else shown[: chars - 3] + "..."


def git_auth_env(remote_url: str, token: str | None, env: Mapping[str, str]) -> dict[str, str]:
    """``GIT_CONFIG_*`` variables that authenticate git's HTTPS requests to ``remote_url`` with a token (an
    ``Authorization`` header for that host), appended to the ones ``env`` already has. Empty when there is no
    token or the remote is not HTTPS. Any extra header configured for the host before is reset first."""
    if not token or not remote_url.startswith("https://"):
        return {}
    host = "/".join(remote_url.split("/", 3)[:3])
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    try:
        count = int(env.get("GIT_CONFIG_COUNT", "0"))
    except ValueError:
        count = 0
    key = f"http.{host}/.extraheader"
    entries = [(key, ""), (key, f"AUTHORIZATION: basic {basic}")]
    added = {"GIT_CONFIG_COUNT": str(count + len(entries))}
    for index, (name, value) in enumerate(entries, start=count):
        added[f"GIT_CONFIG_KEY_{index}"] = name
        added[f"GIT_CONFIG_VALUE_{index}"] = value
    return added


# ---------------------------------------------------------------- I/O: running a command

QUIET_TOOLS = {"DVC_NO_ANALYTICS": "1", "ITERATIVE_DO_NOT_TRACK": "1", "GIT_TERMINAL_PROMPT": "0"}
"""What every tool this project runs is told: no usage reports, no prompt for credentials."""


def run_command(
    command: Sequence[str],
    cwd: Path | str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    check: bool = True,
    capture: bool = True,
    secrets: Iterable[str] = (),
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` (never through a shell) with the current environment plus ``env``, no terminal on stdin
    (nothing may stop at a prompt) unless ``input`` is given, and analytics and git prompts off.

    With ``check`` a non-zero exit raises CommandError; so does a command that cannot start or times out. The
    message and the output it carries are redacted of ``secrets``, of secret variables in the environment and
    in ``env``. ``capture=False`` lets the output go to the terminal (for long-running, chatty tools). Output is
    read as UTF-8, line endings as they are; bytes that are not UTF-8 never fail the call (:func:`as_bytes`
    restores them exactly)."""
    full_env = {**os.environ, **QUIET_TOOLS, **(env or {})}
    hidden = {*secrets_in(full_env), *(secret for secret in secrets if secret)}
    shown = display([redact(str(word), hidden) for word in command])
    log.debug("running %s in %s", shown, cwd or ".")
    try:
        ran = subprocess.run(
            list(map(str, command)),
            cwd=cwd,
            env=full_env,
            input=None if input is None else input.encode(),
            stdin=subprocess.DEVNULL if input is None else None,
            capture_output=capture,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise CommandError(f"`{shown}` did not finish within {timeout:g} s", None) from None
    except OSError as error:
        raise CommandError(f"`{shown}` could not start: {redact(error.strerror or str(error), hidden)}", None) from None
    result = subprocess.CompletedProcess(ran.args, ran.returncode, _text(ran.stdout), _text(ran.stderr))
    if check and result.returncode != 0:
        output = redact((result.stderr or "") + "\n" + (result.stdout or "") if capture else "", hidden)
        said = summary(redact(result.stderr or result.stdout or "", hidden)) if capture else ""
        message = f"`{shown}` failed (exit {result.returncode})" + (f": {said}" if said else "")
        log.debug("%s", message)
        raise CommandError(message, result.returncode, output[-4000:])
    return result


def _text(output: bytes | None) -> str | None:
    return None if output is None else output.decode("utf-8", "surrogateescape")


def as_bytes(output: str) -> bytes:
    """The exact bytes a command printed, from the text :func:`run_command` captured."""
    return output.encode("utf-8", "surrogateescape")


def child_env(extra: Mapping[str, str] | None = None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a long-running child that needs no secret (a server started with ``Popen`` or
    ``os.execve``): ``base`` (the current environment) without its secret variables, plus ``extra``."""
    env = {name: value for name, value in (os.environ if base is None else base).items() if not is_secret_name(name)}
    env.update(extra or {})
    return env
