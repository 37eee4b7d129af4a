"""The registry: tag format, versioning rule, GTO round trip in a scratch repository, lineage."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import free_port, leaks, project_env, run
from support.demo import DEMO_PARAMS
from support.git_server import HttpsGitRemote
from support.secrets import token_forms

from slipway.release.lineage import lineage, lock_data_hashes, lock_params
from slipway.release.registry import (
    Registry,
    RegistryError,
    Tag,
    Version,
    decide,
    message_files,
    message_model_md5,
    next_version,
    parse_tag,
    registration_message,
    version_tag,
    versions_from_gto,
)

MD5_A = "a" * 32
MD5_B = "b" * 32
MD5_C = "c" * 32
FILES = {"model.skops": MD5_A, "model.onnx": MD5_B, "input_schema.yaml": MD5_C}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("model@v1.2.3", Tag("model", version="v1.2.3")),
        ("churn-model@v0.10.0", Tag("churn-model", version="v0.10.0")),
        ("model#prod#7", Tag("model", stage="prod", counter=7)),
        ("model#staging#12", Tag("model", stage="staging", counter=12)),
        ("model@1.2.3", None),
        ("model#prod", None),
        ("v1.2.3", None),
        ("model@v1.2", None),
    ],
)
def test_parse_tag(name: str, expected: Tag | None) -> None:
    assert parse_tag(name) == expected


def test_version_tag_round_trips_and_refuses_bad_versions() -> None:
    assert parse_tag(version_tag("model", "v0.3.0")) == Tag("model", version="v0.3.0")
    with pytest.raises(RegistryError, match="not a valid version tag"):
        version_tag("model", "0.3")


def test_next_version_starts_at_0_1_0_and_bumps_minor() -> None:
    assert next_version(None) == "v0.1.0"
    assert next_version("v0.1.0") == "v0.2.0"
    assert next_version("v1.9.4") == "v1.10.0"


def test_model_md5_survives_the_tag_message() -> None:
    message = registration_message("model", "v0.2.0", MD5_A)
    assert message_model_md5(message) == MD5_A
    assert message_model_md5("Registered by hand") is None
    assert message_model_md5(None) is None


def test_every_file_digest_survives_the_tag_message_and_old_messages_still_read() -> None:
    message = registration_message("model", "v0.2.0", MD5_A, FILES)
    assert message_model_md5(message) == MD5_A
    assert message_files(message) == FILES
    old = "Register model v0.1.0\n\nmodel_md5: " + MD5_A + "\n"  # what tags said before folders were digested
    assert message_model_md5(old) == MD5_A and message_files(old) == {}
    assert message_files("file: ../escape " + MD5_A) == {}  # names are plain file names, never paths


def test_rule_registers_when_any_served_file_changed() -> None:
    latest = Version("v0.1.0", "c1", MD5_A, files=FILES)
    assert decide(MD5_A, latest, dict(FILES)).register is False
    schema_changed = decide(MD5_A, latest, {**FILES, "input_schema.yaml": MD5_A})
    assert (schema_changed.register, schema_changed.version) == (True, "v0.2.0")
    assert schema_changed.reason == "changed since v0.1.0: input_schema.yaml"
    no_onnx = decide(MD5_A, latest, {k: v for k, v in FILES.items() if k != "model.onnx"})
    assert no_onnx.register and "model.onnx" in no_onnx.reason
    old_tag = Version("v0.1.0", "c1", MD5_A)  # registered before folders were digested: the model md5 decides
    assert decide(MD5_A, old_tag, {**FILES, "input_schema.yaml": MD5_A}).register is False
    assert decide(MD5_B, old_tag, FILES).register is True


def test_rule_registers_first_model_and_changed_models_only() -> None:
    first = decide(MD5_A, None)
    assert (first.register, first.version) == (True, "v0.1.0")
    same = decide(MD5_A, Version("v0.1.0", "c1", MD5_A))
    assert (same.register, same.version) == (False, "v0.1.0")
    assert "unchanged" in same.reason
    changed = decide(MD5_B, Version("v0.1.0", "c1", MD5_A))
    assert (changed.register, changed.version) == (True, "v0.2.0")
    unknown = decide(MD5_A, Version("v0.4.0", "c1", None))  # registered by hand without an md5: treat as changed
    assert (unknown.register, unknown.version) == (True, "v0.5.0")


def test_versions_from_gto_sorts_by_semver_and_reads_md5_and_stages() -> None:
    def item(version: str, md5: str, stages: list[str]) -> dict[str, object]:
        return {
            "version": version,
            "commit_hexsha": f"commit-{version}",
            "registrations": [{"message": registration_message("model", version, md5, FILES)}],
            "deregistrations": [],
            "stages": [{"stage": stage, "is_active": True} for stage in stages],
        }

    found = versions_from_gto([item("v0.9.0", MD5_A, []), item("v0.10.0", MD5_B, ["prod"])])
    assert [v.version for v in found] == ["v0.10.0", "v0.9.0"]
    assert found[0] == Version("v0.10.0", "commit-v0.10.0", MD5_B, ("prod",), FILES)


LOCK = {
    "stages": {
        "prepare": {
            "deps": [{"path": "data", "md5": "d" * 32 + ".dir"}, {"path": "pipelines/prepare.py", "md5": "p" * 32}]
        },
        "train": {"params": {"params.yaml": {"data.target": "churned", "train": {"model": "logreg"}}}},
    }
}


def test_lock_readers() -> None:
    assert lock_data_hashes(LOCK, "data") == {"data": "d" * 32 + ".dir"}
    assert lock_params(LOCK) == {"data.target": "churned", "train": {"model": "logreg"}}
    assert lock_params(LOCK, "missing") == {}


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A tiny repository with the files lineage reads, two commits apart."""
    repo = tmp_path / "repo"
    repo.mkdir()
    env = project_env(repo)
    run(["git", "init", "-q", "-b", "main"], repo, env=env)
    (repo / "dvc.yaml").write_text("metrics:\n  - outputs/metrics.json\n")
    (repo / "params.yaml").write_text("data:\n  path: data/churn.csv\n")
    (repo / "outputs").mkdir()
    for commit, auc in (("first", 0.8), ("second", 0.85)):
        (repo / "dvc.lock").write_text(json.dumps(LOCK))
        (repo / "outputs" / "metrics.json").write_text(json.dumps({"roc_auc": auc}))
        run(["git", "add", "-A"], repo, env=env)
        run(["git", "commit", "-q", "-m", commit], repo, env=env)
    return repo


@pytest.mark.slow
def test_register_assign_and_lineage_with_gto(scratch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in project_env(scratch).items():
        monkeypatch.setenv(key, value)
    registry = Registry(scratch)
    assert registry.latest() is None and registry.stage_version("prod") is None

    first = registry.register(MD5_A, ref="HEAD~1", files=FILES)
    assert (first.register, first.version) == (True, "v0.1.0")
    assert registry.register(MD5_A, files=FILES).register is False  # same model at a newer commit: nothing new
    second = registry.register(MD5_B)
    assert (second.register, second.version) == (True, "v0.2.0")
    assert [v.version for v in registry.versions()] == ["v0.2.0", "v0.1.0"]
    assert registry.get("v0.1.0").model_md5 == MD5_A and registry.get("v0.1.0").files == FILES

    assert registry.assign("v0.1.0", "prod") == "model#prod#1"
    assert registry.assign("v0.1.0", "prod") == ""  # already there: no new tag
    assert registry.assign("v0.2.0", "prod").startswith("model#prod#")
    assert registry.stage_version("prod") == "v0.2.0"
    tags = run(["git", "tag", "--list"], scratch).stdout.split()
    assert sorted(tags) == ["model#prod#1", "model#prod#2", "model@v0.1.0", "model@v0.2.0"]

    head = run(["git", "rev-parse", "HEAD"], scratch).stdout.strip()
    found = lineage(registry, "v0.2.0")
    assert found.commit == head and found.model_md5 == MD5_B
    assert found.data == {"data": "d" * 32 + ".dir"}
    assert found.metrics == {"roc_auc": 0.85}
    assert found.params["train"] == {"model": "logreg"}
    assert lineage(registry, "v0.1.0").metrics == {"roc_auc": 0.8}
    text = found.render()
    assert head in text and "roc_auc: 0.85" in text and "prod" in text
    with pytest.raises(RegistryError, match="not registered"):
        lineage(registry, "v9.0.0")


@pytest.mark.slow
def test_the_registry_is_read_through_gtos_python_api(scratch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in project_env(scratch).items():
        monkeypatch.setenv(key, value)
    registry = Registry(scratch)
    registry.register(MD5_A, ref="HEAD~1", files=FILES)
    registry.assign("v0.1.0", "prod")
    broken = scratch.parent / "bin"
    broken.mkdir()
    (broken / "gto").write_text("#!/bin/sh\necho 'gto is not to be run for reads' >&2\nexit 9\n")
    (broken / "gto").chmod(0o755)
    monkeypatch.setenv("PATH", f"{broken}:{project_env(scratch)['PATH']}")

    assert [v.version for v in registry.versions()] == ["v0.1.0"] and registry.get("v0.1.0").files == FILES
    assert registry.stage_version("prod") == "v0.1.0" and registry.stage_version("staging") is None
    assert lineage(registry, "v0.1.0").metrics == {"roc_auc": 0.8}
    with pytest.raises(RegistryError, match="gto is not to be run"):
        registry.register(MD5_B)  # writes still go through the gto command (tags made as git makes them)


def test_reading_a_folder_that_is_no_repository_is_a_registry_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="cannot read the registry"):
        Registry(tmp_path / "nowhere").versions()


@pytest.mark.slow
def test_lineage_cli_on_an_unknown_version_fails_clearly(scratch: Path) -> None:
    (scratch / "params.yaml").write_text(DEMO_PARAMS.read_text())
    result = run(["slipway", "lineage", "v0.1.0"], scratch, check=False)
    assert result.returncode == 1
    assert "not registered" in result.stderr


# ---------------------------------------------------------------- pushing tags: the token stays secret

TOKEN = "ghs_" + secrets.token_hex(24)


@pytest.fixture
def registered(scratch: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The scratch repository with v0.1.0 registered and the project's params.yaml (what the CLI reads)."""
    for key, value in project_env(scratch).items():
        monkeypatch.setenv(key, value)
    Registry(scratch).register(MD5_A)
    shutil.copy(DEMO_PARAMS, scratch / "params.yaml")
    run(["git", "commit", "-qam", "params"], scratch)
    return scratch


@pytest.fixture
def https_remote(tmp_path: Path) -> Iterator[HttpsGitRemote]:
    served = tmp_path / "served"
    served.mkdir()
    with HttpsGitRemote(served, tmp_path) as remote:
        yield remote


def _recording_git(folder: Path) -> tuple[Path, Path]:
    """A ``git`` first on PATH that writes each command line it gets to a log, then runs the real git."""
    log, bin_dir = folder / "git-command-lines.txt", folder / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {log}\nexec {shutil.which("git")} "$@"\n')
    (bin_dir / "git").chmod(0o755)
    return bin_dir, log


def _cli(repo: Path, bin_dir: Path, *args: str, **env: str) -> tuple[int, str]:
    base = project_env(repo, GITHUB_TOKEN=TOKEN, **env)
    base["PATH"] = f"{bin_dir}:{base['PATH']}"
    base.pop("GIT_SSL_CAINFO", None)  # it would override the http.sslCAInfo the test server's certificate needs
    result = run(["slipway", *args], repo, check=False, env=base)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.slow
def test_a_refused_https_push_shows_one_line_without_the_token(
    registered: Path, https_remote: HttpsGitRemote, tmp_path: Path
) -> None:
    run(["git", "clone", "-q", "--bare", str(registered), str(https_remote.root / "origin.git")], tmp_path)
    run(["git", "remote", "add", "origin", https_remote.url("origin.git")], registered)
    bin_dir, command_lines = _recording_git(tmp_path)

    code, output = _cli(registered, bin_dir, "assign", "v0.1.0", "--stage", "prod", "--push-tags",
                        **https_remote.git_env())  # fmt: skip

    assert code == 1, output
    assert "Traceback" not in output and len(output.strip().splitlines()) == 1, output
    assert "model#prod#1" in output and "403" in output, output
    assert leaks(output, TOKEN) == [], output
    assert leaks(command_lines.read_text(), TOKEN) == []  # nor on any git command line
    expected = "basic " + token_forms(TOKEN)["base64 of x-access-token:token"]
    pushes = [request for request in https_remote.requests if "git-receive-pack" in request.path]
    fetches = [request for request in https_remote.requests if "git-upload-pack" in request.path]
    assert pushes and all(request.authorization == expected for request in pushes)  # the token went through the env
    assert fetches and all(request.authorization == expected for request in fetches)
    local = set(run(["git", "tag", "--list"], registered).stdout.split())
    assert local == {"model@v0.1.0"}  # the refused stage tag is not left behind: local tags agree with the remote


@pytest.mark.slow
def test_an_unreachable_https_remote_shows_one_line_without_the_token(registered: Path, tmp_path: Path) -> None:
    run(["git", "remote", "add", "origin", f"https://127.0.0.1:{free_port()}/origin.git"], registered)
    bin_dir, command_lines = _recording_git(tmp_path)

    code, output = _cli(registered, bin_dir, "assign", "v0.1.0", "--stage", "prod", "--push-tags")

    assert code == 1, output
    assert "Traceback" not in output and len(output.strip().splitlines()) == 1, output
    assert "unable to access" in output, output
    assert leaks(output, TOKEN) == [] and leaks(command_lines.read_text(), TOKEN) == []


@pytest.mark.slow
def test_a_push_to_an_unreachable_remote_deletes_the_new_tag_here(registered: Path, monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    run(["git", "remote", "add", "origin", f"https://127.0.0.1:{free_port()}/origin.git"], registered)
    registry = Registry(registered)
    tag = registry.assign("v0.1.0", "prod")
    with pytest.raises(RegistryError) as caught:
        registry.push([tag])
    assert f"pushing {tag} to origin failed" in str(caught.value) and leaks(str(caught.value), TOKEN) == []
    assert registry.stage_version("prod") is None
