"""The Kubernetes target: the stage's kustomize overlay with the image set to the version, applied with kubectl."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import cast

import yaml

from slipway.config import DeployConfig
from slipway.release.targets.base import DeployError, Deployment, run_tool


def set_overlay_image(kustomization: dict[str, object], name: str, image: str) -> dict[str, object]:
    """What ``kustomize edit set image name=repo:tag`` does to a kustomization."""
    repository, _, tag = image.rpartition(":")
    listed = cast("list[dict[str, object]]", kustomization.get("images") or [])  # kustomize's list of image entries
    images = [entry for entry in listed if entry.get("name") != name]
    images.append({"name": name, "newName": repository, "newTag": tag})
    return {**kustomization, "images": images}


def kubeconfig_from_secret() -> None:
    """In CI the kubeconfig comes as a secret's text in KUBECONFIG_DATA: write it to a private file."""
    data = os.environ.get("KUBECONFIG_DATA", "")
    if data.strip() and not os.environ.get("KUBECONFIG"):
        handle, path = tempfile.mkstemp(prefix="kubeconfig-")
        with os.fdopen(handle, "w") as file:
            file.write(data)
        os.environ["KUBECONFIG"] = path


def kubeconfig_present(env: dict[str, str] | None = None) -> bool:
    env = dict(os.environ if env is None else env)
    paths = env.get("KUBECONFIG") or str(Path(env.get("HOME", "~")).expanduser() / ".kube" / "config")
    return any(Path(path).is_file() and Path(path).stat().st_size > 0 for path in paths.split(os.pathsep) if path)


class KubernetesTarget:
    """``kubectl apply`` of the stage's kustomize overlay with the image set to the version."""

    name = "kubernetes"
    image_name = "slipway"
    deployment = "slipway"

    def __init__(self, config: DeployConfig, repo: Path, kubectl: str = "kubectl") -> None:
        self.config = config
        self.repo = repo
        self.kubectl = kubectl

    def render(self, stage: str, version: str) -> str:
        """The manifests of a stage for a version (``kubectl kustomize`` of an edited copy of the overlay)."""
        with tempfile.TemporaryDirectory(prefix="slipway-k8s-") as scratch:
            tree = Path(scratch) / "k8s"
            shutil.copytree(self.repo / self.config.kubernetes_dir, tree)
            kustomization_file = tree / "overlays" / stage / "kustomization.yaml"
            if not kustomization_file.exists():
                raise DeployError(f"no kustomize overlay for stage {stage!r}: {kustomization_file} is missing")
            edited = set_overlay_image(
                yaml.safe_load(kustomization_file.read_text()) or {},
                self.image_name,
                f"{self.config.image}:{version}",
            )
            kustomization_file.write_text(yaml.safe_dump(edited, sort_keys=False))
            return run_tool([self.kubectl, "kustomize", str(tree / "overlays" / stage)], self.repo)

    def namespace(self, stage: str) -> str:
        return f"slipway-{stage}"

    def current(self, stage: str) -> str | None:
        if not kubeconfig_present():
            return None
        image = run_tool([self.kubectl, "get", "deployment", self.deployment, "--namespace", self.namespace(stage),
                          "--output", "jsonpath={.spec.template.spec.containers[0].image}"],
                         self.repo, False)  # fmt: skip
        return image.rsplit(":", 1)[1] if ":" in image else None

    def stop(self, stage: str) -> None:
        """Nothing to stop: a cluster keeps serving what was applied last."""

    def deploy(self, stage: str, version: str, model_dir: Path) -> Deployment:
        if not kubeconfig_present():
            return Deployment(stage, version, None, "skipped: no kubeconfig (set the KUBECONFIG secret to deploy)")
        manifests = self.render(stage, version)
        run_tool([self.kubectl, "apply", "--filename", "-"], self.repo, input=manifests)
        timeout = f"--timeout={int(self.config.smoke.timeout_seconds)}s"
        run_tool([self.kubectl, "rollout", "status", f"deployment/{self.deployment}", "--namespace",
                  self.namespace(stage), timeout], self.repo)  # fmt: skip
        url = self.config.stages[stage].url
        return Deployment(stage, version, url, f"applied overlay {stage} with {self.config.image}:{version}")

    def rollback(self, stage: str, version: str, model_dir: Path) -> Deployment:
        return self.deploy(stage, version, model_dir)
