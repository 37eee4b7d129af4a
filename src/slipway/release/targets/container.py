"""The container target: the serving image tagged with the model version, one container per stage."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from slipway.adapters.http import NotReady, wait_ready
from slipway.config import DeployConfig
from slipway.release.targets.base import DeployError, Deployment, run_tool


class ContainerTarget:
    """The serving image, tagged with the model version, one container per stage (``docker`` on PATH)."""

    name = "container"
    container_port = 8000

    def __init__(self, config: DeployConfig, repo: Path, docker: str = "docker") -> None:
        self.config = config
        self.repo = repo
        self.docker = docker

    def image(self, version: str) -> str:
        return f"{self.config.image}:{version}"

    def container(self, stage: str) -> str:
        return f"slipway-{stage}"

    def url(self, stage: str) -> str:
        return f"http://{self.config.host}:{self.config.stages[stage].port}"

    def login(self, env: Mapping[str, str] | None = None) -> None:
        """``docker login`` to the image's registry with ``$REGISTRY_TOKEN`` (user ``$REGISTRY_USER``, else
        ``$GITHUB_ACTOR``); the token goes on stdin, never on the command line."""
        env = os.environ if env is None else env
        host = self.config.image.split("/", 1)[0]
        user = env.get("REGISTRY_USER") or env.get("GITHUB_ACTOR") or "token"
        token = env.get("REGISTRY_TOKEN", "")
        if not token:
            raise DeployError(f"docker login to {host}: REGISTRY_TOKEN is not set")
        login = [self.docker, "login", host, "--username", user, "--password-stdin"]
        run_tool(login, self.repo, input=token, secrets=[token])

    def build(self, version: str, model_dir: Path) -> str:
        """Build (and push, when configured) the image of a version; returns its name. The build context is
        the repository with ``build/image`` filled by ``infra/image_context.sh`` (wheels + the model folder)."""
        image = self.image(version)
        run_tool([str(self.repo / "infra" / "image_context.sh"), str(model_dir.resolve())], self.repo)
        base = ["--build-arg", f"BASE_IMAGE={self.config.base_image}"] if self.config.base_image else []
        label = f"org.opencontainers.image.version={version}"
        build = [self.docker, "build", "--file", "infra/Dockerfile", "--tag", image, *base, "--label", label, "."]
        run_tool(build, self.repo)
        if self.config.push:
            run_tool([self.docker, "push", image], self.repo)
        return image

    def current(self, stage: str) -> str | None:
        found = run_tool(
            [self.docker, "inspect", "--format", "{{.Config.Image}}", self.container(stage)], self.repo, False
        )
        image = found.strip()
        return image.rsplit(":", 1)[1] if ":" in image else None

    def stop(self, stage: str) -> None:
        run_tool([self.docker, "rm", "--force", self.container(stage)], self.repo, check=False)

    def _run_container(self, stage: str, version: str) -> Deployment:
        self.stop(stage)
        port = self.config.stages[stage].port
        run_tool([self.docker, "run", "--detach", "--name", self.container(stage), "--restart", "unless-stopped",
                  "--publish", f"{self.config.host}:{port}:{self.container_port}",
                  "--env", f"SLIPWAY_STAGE={stage}", self.image(version)], self.repo)  # fmt: skip
        url = self.url(stage)
        try:
            wait_ready(url, self.config.smoke.timeout_seconds)
        except NotReady as error:
            raise DeployError(str(error)) from None
        return Deployment(stage, version, url, f"container {self.container(stage)} from {self.image(version)}")

    def deploy(self, stage: str, version: str, model_dir: Path) -> Deployment:
        self.build(version, model_dir)
        return self._run_container(stage, version)

    def rollback(self, stage: str, version: str, model_dir: Path) -> Deployment:
        """The previous image is already in the registry: pull and run it (no rebuild)."""
        run_tool([self.docker, "pull", self.image(version)], self.repo, check=False)
        return self._run_container(stage, version)
