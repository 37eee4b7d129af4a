"""The command runner: secrets reach commands through the environment, and never leave in an error message."""

from __future__ import annotations

import base64
import secrets
import sys

import pytest
from support import leaks

from slipway.adapters.commands import (
    MASK,
    CommandError,
    as_bytes,
    base64_forms,
    child_env,
    git_auth_env,
    redact,
    run_command,
    secrets_in,
)

TOKEN = "ghs_" + secrets.token_hex(20)


def _inner_base64(prefix: bytes, secret: bytes, suffix: bytes) -> str:
    """The characters of base64(prefix + secret + suffix) that encode bytes of the secret only."""
    encoded = base64.b64encode(prefix + secret + suffix).decode()
    start, end = -(-len(prefix) // 3), (len(prefix) + len(secret)) // 3
    return encoded[4 * start : 4 * end]


@pytest.mark.parametrize("prefix", [b"", b"x", b"xy", b"x-access-token:", b"user:"])
@pytest.mark.parametrize("suffix", [b"", b"\n", b"!?"])
def test_base64_of_a_secret_is_masked_at_any_offset(prefix: bytes, suffix: bytes) -> None:
    encoded = base64.b64encode(prefix + TOKEN.encode() + suffix).decode()
    inner = _inner_base64(prefix, TOKEN.encode(), suffix)
    assert len(inner) >= 40
    masked = redact(f"AUTHORIZATION: basic {encoded}", [TOKEN])
    assert inner not in masked and MASK in masked
    assert any(form in encoded for form in base64_forms(TOKEN))


def test_redact_masks_plain_url_encoded_and_url_credentials() -> None:
    text = f"token {TOKEN} quoted {TOKEN.replace('_', '%5F')} url https://bob:hunter22@example.com/repo.git"
    masked = redact(text, [TOKEN])
    assert TOKEN not in masked and "hunter22" not in masked
    assert "https://***@example.com/repo.git" in masked


def test_secret_variables_are_found_by_name_and_short_values_ignored() -> None:
    kubeconfig = "apiVersion: v1\nusers:\n- user:\n    token: " + "k" * 30 + "\n"
    found = secrets_in(
        {"GITHUB_TOKEN": TOKEN, "MY_API_KEY": "abcdefgh", "KUBECONFIG_DATA": kubeconfig, "CI_TOKEN": "1", "HOME": "/h"}
    )
    assert {TOKEN, "abcdefgh", kubeconfig.strip(), "token: " + "k" * 30} <= found
    assert "1" not in found and "/h" not in found and "users:" not in found


def test_git_auth_env_appends_to_the_git_config_already_in_the_environment() -> None:
    assert git_auth_env("/srv/origin.git", TOKEN, {}) == {}
    assert git_auth_env("https://github.com/o/r.git", None, {}) == {}
    added = git_auth_env("https://github.com/o/r.git", TOKEN, {"GIT_CONFIG_COUNT": "1"})
    header = "AUTHORIZATION: basic " + base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert added == {
        "GIT_CONFIG_COUNT": "3",
        "GIT_CONFIG_KEY_1": "http.https://github.com/.extraheader",
        "GIT_CONFIG_VALUE_1": "",  # resets any header configured before for the host
        "GIT_CONFIG_KEY_2": "http.https://github.com/.extraheader",
        "GIT_CONFIG_VALUE_2": header,
    }


def test_a_failing_command_that_prints_the_secret_raises_one_redacted_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    script = (
        "import base64, os, sys; t = os.environ['GITHUB_TOKEN']; "
        "print('remote: token', t, file=sys.stderr); "
        "print('header basic', base64.b64encode(('x-access-token:' + t).encode()).decode(), file=sys.stderr); "
        "print('fatal: could not push to https://x:' + t + '@example.com/r.git', file=sys.stderr); sys.exit(3)"
    )
    with pytest.raises(CommandError) as caught:
        run_command([sys.executable, "-c", script])
    message = str(caught.value)
    assert "\n" not in message and "failed (exit 3)" in message and "could not push" in message
    assert leaks(message, TOKEN) == [] and leaks(caught.value.output, TOKEN) == []
    assert caught.value.returncode == 3


def test_secrets_given_by_the_caller_are_masked_even_on_the_command_line() -> None:
    password = secrets.token_hex(16)
    with pytest.raises(CommandError) as caught:
        run_command([sys.executable, "-c", "import sys; sys.exit(sys.argv[1])", password], secrets=[password])
    assert password not in str(caught.value) and password not in caught.value.output


def test_input_goes_to_stdin_and_a_missing_program_is_one_line() -> None:
    assert run_command([sys.executable, "-c", "import sys; print(sys.stdin.read()[::-1])"], input="abc").stdout == (
        "cba\n"
    )
    with pytest.raises(CommandError, match="could not start"):
        run_command(["no-such-program-here", "--flag"])


def test_output_that_is_not_utf8_neither_fails_the_call_nor_loses_a_byte() -> None:
    raw = b"caf\xe9 \xff\xfe\x00 ok\n"  # latin-1 and stray bytes, as binary files and old tools print them
    result = run_command([sys.executable, "-c", f"import sys; sys.stdout.buffer.write({raw!r})"])
    assert as_bytes(result.stdout) == raw
    assert result.stdout.endswith(" ok\n")


def test_a_long_running_child_gets_no_secret_variable() -> None:
    base = {"GITHUB_TOKEN": TOKEN, "DB_PASSWORD": "hunter2hunter2", "KUBECONFIG_DATA": "apiVersion: v1", "HOME": "/h"}
    env = child_env({"SLIPWAY_STAGE": "prod"}, base=base)
    assert env == {"HOME": "/h", "SLIPWAY_STAGE": "prod"}
