"""Deploy targets and the promotion's rollback rule, with stand-ins that record what they were asked."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from support import free_port, project_env, run

from slipway.config import DeployConfig, StageDeployConfig
from slipway.release.promote import PromotionError, deploy_stage, promote, served_version
from slipway.release.registry import Registry, RegistryError
from slipway.release.targets.base import DeployError, Deployment
from slipway.release.targets.kubernetes import KubernetesTarget, kubeconfig_present, set_overlay_image
from slipway.release.targets.local import LocalTarget

REPO_ROOT = Path(__file__).resolve().parents[1]


class FakeRegistry:
    def __init__(self, stages: dict[str, str]) -> None:
        self.stages = dict(stages)
        self.assigned: list[tuple[str, str]] = []

    def stage_version(self, stage: str) -> str | None:
        return self.stages.get(stage)

    def assign(self, version: str, stage: str) -> str:
        self.assigned.append((version, stage))
        self.stages[stage] = version
        return f"model#{stage}#{len(self.assigned)}"

    def push(self, tags: list[str]) -> None:
        raise RegistryError(f"pushing {', '.join(tags)} to origin failed (refused)")


class FakeTarget:
    """Serves whatever it was last given, except versions listed as broken."""

    name = "fake"

    def __init__(self, broken: set[str], serving: dict[str, str]) -> None:
        self.broken = broken
        self.serving = dict(serving)
        self.calls: list[tuple[str, str, str]] = []

    def deploy(self, stage: str, version: str, model_dir: Path) -> Deployment:
        self.calls.append(("deploy", stage, version))
        self.serving[stage] = version
        if version in self.broken:
            raise DeployError(f"{version} did not become ready")
        return Deployment(stage, version, f"http://{stage}")

    def rollback(self, stage: str, version: str, model_dir: Path) -> Deployment:
        self.calls.append(("rollback", stage, version))
        self.serving[stage] = version
        return Deployment(stage, version, f"http://{stage}")

    def current(self, stage: str) -> str | None:
        return self.serving.get(stage)

    def stop(self, stage: str) -> None:
        self.calls.append(("stop", stage, ""))
        self.serving.pop(stage, None)


def _check_serving(target: FakeTarget):
    def check(url: str, version: str) -> None:
        stage = url.removeprefix("http://")
        if target.serving.get(stage) != version:
            raise DeployError(f"{stage} serves {target.serving.get(stage)}, not {version}")

    return check


def test_promotion_assigns_each_stage_after_its_smoke_test() -> None:
    registry = FakeRegistry({"staging": "v0.1.0", "prod": "v0.1.0"})
    target = FakeTarget(set(), {"staging": "v0.1.0", "prod": "v0.1.0"})
    results = promote(
        "v0.2.0", ["staging", "prod"], registry=registry, target=target,
        materialise=lambda v: Path(v), check=_check_serving(target), log=lambda _: None,
    )  # fmt: skip
    assert [r.tag for r in results] == ["model#staging#1", "model#prod#2"]
    assert registry.assigned == [("v0.2.0", "staging"), ("v0.2.0", "prod")]
    assert target.serving == {"staging": "v0.2.0", "prod": "v0.2.0"}


def test_failed_deploy_rolls_back_to_the_tagged_version_and_leaves_tags() -> None:
    registry = FakeRegistry({"staging": "v0.1.0", "prod": "v0.1.0"})
    target = FakeTarget({"v0.2.0"}, {"staging": "v0.1.0", "prod": "v0.1.0"})
    with pytest.raises(PromotionError, match=r"rolled back to v0\.1\.0"):
        deploy_stage(
            "prod", "v0.2.0", registry=registry, target=target,
            materialise=lambda v: Path(v), check=_check_serving(target), log=lambda _: None,
        )  # fmt: skip
    assert target.calls == [("deploy", "prod", "v0.2.0"), ("rollback", "prod", "v0.1.0")]
    assert target.serving["prod"] == "v0.1.0"
    assert registry.assigned == []


def test_failed_smoke_test_rolls_back_too() -> None:
    registry = FakeRegistry({"prod": "v0.1.0"})
    target = FakeTarget(set(), {"prod": "v0.1.0"})

    def smoke(url: str, version: str) -> None:
        if version == "v0.2.0":
            raise DeployError("POST /predict answered 500")

    with pytest.raises(PromotionError, match="rolled back"):
        deploy_stage(
            "prod", "v0.2.0", registry=registry, target=target,
            materialise=lambda v: Path(v), check=smoke, log=lambda _: None,
        )  # fmt: skip
    assert target.serving["prod"] == "v0.1.0" and registry.assigned == []


def test_first_deploy_failing_stops_the_stage() -> None:
    registry = FakeRegistry({})
    target = FakeTarget({"v0.1.0"}, {})
    with pytest.raises(PromotionError, match="no earlier version"):
        deploy_stage(
            "staging", "v0.1.0", registry=registry, target=target,
            materialise=lambda v: Path(v), check=_check_serving(target), log=lambda _: None,
        )  # fmt: skip
    assert target.calls[-1] == ("stop", "staging", "")


def test_a_first_deploy_whose_tag_push_fails_stops_the_stage() -> None:
    registry = FakeRegistry({})
    target = FakeTarget(set(), {})
    with pytest.raises(PromotionError, match=r"pushing the tag model#staging#1 failed and no earlier version"):
        deploy_stage(
            "staging", "v0.1.0", registry=registry, target=target, materialise=lambda v: Path(v),
            check=_check_serving(target), log=lambda _: None, push_tags=True,
        )  # fmt: skip
    assert target.calls[-1] == ("stop", "staging", "") and "staging" not in target.serving


def test_set_overlay_image_is_kustomize_edit_set_image() -> None:
    edited = set_overlay_image(
        {"resources": ["../../base"], "images": [{"name": "slipway", "newTag": "latest"}, {"name": "other"}]},
        "slipway",
        "ghcr.io/acme/churn:v0.3.0",
    )
    assert edited["images"] == [
        {"name": "other"},
        {"name": "slipway", "newName": "ghcr.io/acme/churn", "newTag": "v0.3.0"},
    ]


def test_kubeconfig_detection(tmp_path: Path) -> None:
    assert not kubeconfig_present({"HOME": str(tmp_path)})
    config = tmp_path / "kubeconfig"
    config.write_text("apiVersion: v1\nkind: Config\n")
    assert kubeconfig_present({"HOME": str(tmp_path), "KUBECONFIG": str(config)})


def _recording_kubectl(tmp_path: Path) -> tuple[Path, Path]:
    """A kubectl stand-in: records each call (and stdin of apply); `kustomize` goes to the real static kubectl."""
    log = tmp_path / "kubectl-calls.txt"
    real = REPO_ROOT / ".tools" / "kubectl"
    script = tmp_path / "kubectl"
    script.write_text(
        textwrap.dedent(f"""\
            #!/bin/sh
            echo "$*" >> {log}
            case "$1" in
              kustomize) exec {real} "$@" ;;
              apply) cat > {tmp_path}/applied.yaml ;;
            esac
            """)
    )
    script.chmod(0o755)
    return script, log


def test_kubernetes_target_skips_without_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    kubectl, log = _recording_kubectl(tmp_path)
    target = KubernetesTarget(DeployConfig(), REPO_ROOT, kubectl=str(kubectl))
    deployment = target.deploy("prod", "v0.3.0", tmp_path)
    assert deployment.url is None and "skipped: no kubeconfig" in deployment.detail
    assert not log.exists()


@pytest.mark.skipif(not (REPO_ROOT / ".tools" / "kubectl").exists(), reason="run `make kubectl` first")
def test_kubernetes_target_applies_the_overlay_with_the_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file = tmp_path / "kubeconfig"
    config_file.write_text("apiVersion: v1\nkind: Config\n")
    monkeypatch.setenv("KUBECONFIG", str(config_file))
    kubectl, log = _recording_kubectl(tmp_path)
    config = DeployConfig(image="ghcr.io/acme/churn", stages={"prod": StageDeployConfig(url="https://churn.example")})
    deployment = KubernetesTarget(config, REPO_ROOT, kubectl=str(kubectl)).deploy("prod", "v0.3.0", tmp_path)
    assert deployment.url == "https://churn.example"
    calls = log.read_text().splitlines()
    assert calls[0].startswith("kustomize ") and calls[0].endswith("overlays/prod")
    assert calls[1:] == [
        "apply --filename -",
        "rollout status deployment/slipway --namespace slipway-prod --timeout=60s",
    ]
    applied = list(yaml.safe_load_all((tmp_path / "applied.yaml").read_text()))
    (deployment_doc,) = [doc for doc in applied if doc["kind"] == "Deployment"]
    assert deployment_doc["metadata"]["namespace"] == "slipway-prod"
    assert deployment_doc["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/acme/churn:v0.3.0"
    overlay = yaml.safe_load((REPO_ROOT / "infra/k8s/overlays/prod/kustomization.yaml").read_text())
    assert overlay["images"][0]["newTag"] == "latest"  # the repository's overlay is not edited


FAKE_SERVER = """
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
port = int(sys.argv[sys.argv.index("--port") + 1])
model_dir = sys.argv[sys.argv.index("--model-dir") + 1]
if os.path.exists(os.path.join(model_dir, "broken")):
    sys.exit("model is broken")
class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"model_version": os.environ["SLIPWAY_MODEL_VERSION"]}).encode()
        self.send_response(200); self.end_headers(); self.wfile.write(body)
    def log_message(self, *args): pass
HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


class FakeServeTarget(LocalTarget):
    def command(self, stage: str, model_dir: Path) -> list[str]:
        port = str(self.config.stages[stage].port)
        return [sys.executable, "-c", FAKE_SERVER, "--model-dir", str(model_dir), "--port", port]


@pytest.mark.slow
def test_local_target_starts_replaces_and_stops_its_server(tmp_path: Path) -> None:
    config = DeployConfig(stages={"prod": StageDeployConfig(port=free_port())}, smoke={"timeout_seconds": 20})
    target = FakeServeTarget(config, tmp_path / "deployments")
    good, broken = tmp_path / "good", tmp_path / "broken"
    good.mkdir()
    broken.mkdir()
    (broken / "broken").write_text("")
    try:
        first = target.deploy("prod", "v0.1.0", good)
        assert first.url is not None and served_version(first.url) == "v0.1.0" and target.current("prod") == "v0.1.0"
        pid = int(yaml.safe_load((tmp_path / "deployments/prod/state.json").read_text())["pid"])
        second = target.deploy("prod", "v0.2.0", good)
        assert second.url is not None and served_version(second.url) == "v0.2.0"
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # the old server is gone
        with pytest.raises(DeployError, match="exited before it was ready"):
            target.deploy("prod", "v0.3.0", broken)
        assert target.current("prod") is None and served_version(first.url) is None
    finally:
        target.stop("prod")


# ---------------------------------------------------------------- a tag push that fails is inside the rollback


@pytest.mark.slow
def test_promotion_whose_tag_push_is_refused_rolls_back_and_leaves_no_tag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, origin = tmp_path / "repo", tmp_path / "origin.git"
    repo.mkdir()
    for key, value in project_env(repo).items():
        monkeypatch.setenv(key, value)
    registry = Registry(repo)
    run(["git", "init", "-q", "-b", "main"], repo)
    for number, md5 in ((1, "a" * 32), (2, "b" * 32)):
        (repo / "model.txt").write_text(f"model {number}\n")
        run(["git", "add", "-A"], repo)
        run(["git", "commit", "-q", "-m", f"model {number}"], repo)
        registry.register(md5)
    registry.assign("v0.1.0", "prod")
    run(["git", "clone", "-q", "--bare", str(repo), str(origin)], tmp_path)
    run(["git", "remote", "add", "origin", str(origin)], repo)
    hook = origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'tags of prod are protected' >&2\nexit 1\n")
    hook.chmod(0o755)

    config = DeployConfig(stages={"prod": StageDeployConfig(port=free_port())}, smoke={"timeout_seconds": 20})
    target = FakeServeTarget(config, tmp_path / "deployments")
    model_dir = tmp_path / "model"
    model_dir.mkdir()

    def check(url: str, version: str) -> None:
        if served_version(url) != version:
            raise DeployError(f"{url} serves {served_version(url)}, not {version}")

    logged: list[str] = []
    try:
        target.deploy("prod", "v0.1.0", model_dir)
        with pytest.raises(PromotionError, match=r"pushing the tag model#prod#2 failed; rolled back to v0\.1\.0"):
            promote(
                "v0.2.0", ["prod"], registry=registry, target=target, materialise=lambda _: model_dir, check=check,
                log=logged.append, push_tags=True,
            )  # fmt: skip
        served = served_version(target.url("prod"))
    finally:
        target.stop("prod")
    assert any("v0.2.0 passed its smoke test" in line for line in logged)  # it did serve, then was rolled back
    local = set(run(["git", "tag", "--list"], repo).stdout.split())
    remote = {
        line.split("refs/tags/")[1]
        for line in run(["git", "ls-remote", "--tags", "--refs", str(origin)], repo).stdout.splitlines()
    }
    assert local == remote == {"model@v0.1.0", "model@v0.2.0", "model#prod#1"}
    assert served == registry.stage_version("prod") == "v0.1.0"  # served, local and remote tags agree
