"""Deploy targets behind one small interface, model materialisation, smoke checks, and the promotion itself.

Targets (``deploy.target`` in params.yaml):
  local       the embedded default: the version's model folder under ``deployments/releases/<version>`` and a
              ``slipway serve`` process per stage on a configured port (pid file in ``deployments/<stage>/``);
  container   ``docker build`` of ``infra/Dockerfile`` tagged with the model version, ``docker push``,
              ``docker run`` one container per stage;
  kubernetes  the stage's kustomize overlay with the image set to the version, ``kubectl apply``, rollout status;
              skipped (and said so) when there is no kubeconfig.

Promotion (``promote``): for each stage in order: deploy, smoke-test, assign the stage tag, push it. When any of
these fails, the stage is redeployed with the version its tag names (what served before), no new stage tag is left
locally or on the remote, and PromotionError says what happened.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import yaml

from slipway.commands import CommandError, is_secret_name, run_command
from slipway.config import DeployConfig
from slipway.dvc_remote import remote_problem
from slipway.provenance import file_md5
from slipway.registry import Registry, RegistryError, Version, changed_files

RELEASE_FILE = "version.json"
"""Written into a materialised model folder; the serving API reports it on /version."""
UNDIGESTED = frozenset({RELEASE_FILE, "metadata.json", "onnx_check.json"})
"""Files of a model folder a registration does not digest: the release note the materialiser writes, the training
provenance (it names the commit it was trained at, so a rebuild at the version's commit differs) and the report of
the ONNX check (serving reads neither of the last two for predictions). Every other file must match."""


class DeployError(RuntimeError):
    """A deploy or its smoke test failed."""


class PromotionError(RuntimeError):
    """A promotion stopped; the message says where, and what serves now."""


@dataclass(frozen=True)
class Deployment:
    stage: str
    version: str
    url: str | None
    """Where the stage answers; None when the target skipped the deploy."""
    detail: str = ""


class DeployTarget(Protocol):
    """Where models run. ``rollback`` redeploys a version that served before (its model folder may be gone)."""

    name: str

    def deploy(self, stage: str, version: str, model_dir: Path) -> Deployment: ...

    def current(self, stage: str) -> str | None: ...

    def rollback(self, stage: str, version: str, model_dir: Path) -> Deployment: ...

    def stop(self, stage: str) -> None: ...


# ---------------------------------------------------------------- the model folder of a version


def artifact_path(repo: Path, artifact: str, revision: str | None = None) -> str:
    """The artifact's file as declared in dvc.yaml ``artifacts:`` (e.g. ``outputs/model/model.skops``)."""
    at_revision = revision is not None
    text = _run(["git", "show", f"{revision}:dvc.yaml"], repo) if at_revision else (repo / "dvc.yaml").read_text()
    declared = (yaml.safe_load(text) or {}).get("artifacts") or {}
    if artifact not in declared:
        raise DeployError(f"dvc.yaml declares no artifact {artifact!r} (artifacts: {sorted(declared)})")
    return str(declared[artifact]["path"])


def _copy_model_dir(source: Path, dest: Path) -> None:
    staging = dest.with_name(dest.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(source, staging)
    shutil.rmtree(dest, ignore_errors=True)
    staging.rename(dest)


def folder_digests(folder: Path) -> dict[str, str]:
    """md5 of every file of a model folder that a registration records (all but ``UNDIGESTED``); anything that
    is not a plain file is listed with an empty digest, so it can never match."""
    return {
        path.name: file_md5(path) if path.is_file() and not path.is_symlink() else ""
        for path in sorted(folder.iterdir())
        if path.name not in UNDIGESTED
    }


def folder_problems(found: dict[str, str], registered: Version, model_file: str) -> list[str]:
    """How a model folder (its ``folder_digests``) differs from a registered version, one phrase per file naming
    it; [] when it is the one. A version registered before folders were digested: only its model file's md5."""
    if model_file not in found:
        return [f"{model_file} is missing"]
    if not registered.files:
        same = registered.model_md5 is None or found[model_file] == registered.model_md5
        return [] if same else [f"{model_file} differs"]
    expected = {**registered.files, **({model_file: registered.model_md5} if registered.model_md5 else {})}

    def problem(name: str) -> str:
        if name not in expected:
            return f"{name} is not part of the registered model"
        return f"{name} is missing" if name not in found else f"{name} differs"

    return [problem(name) for name in changed_files(found, expected)]


def write_release(model_dir: Path, version: str, commit: str | None, artifact: str) -> None:
    (model_dir / RELEASE_FILE).write_text(
        json.dumps({"artifact": artifact, "version": version, "commit": commit}, indent=2) + "\n"
    )


def read_release(model_dir: Path) -> dict[str, str | None]:
    path = model_dir / RELEASE_FILE
    return json.loads(path.read_text()) if path.exists() else {}


class Materialiser:
    """Puts a registered version's model folder in ``<directory>/releases/<version>``, every file checked against
    the digests its registration recorded (a differing, missing or extra file is refused, naming it). Sources,
    first that works: that folder already there; the workspace (when its model is the version's); DVC at the
    version's commit (local cache, then the DVC remote); a rebuild of the train stage at that commit in a temporary
    worktree (the model folder is byte-reproducible, so the digests prove it is the same)."""

    def __init__(self, repo: Path, registry: Registry, directory: Path, log: Callable[[str], None] = print) -> None:
        self.repo = repo
        self.registry = registry
        self.releases = directory / "releases"
        self.log = log

    @staticmethod
    def _problems(folder: Path, file_name: str, found: Version) -> list[str]:
        if not folder.is_dir():
            return [f"{folder} is not a folder"]
        return folder_problems(folder_digests(folder), found, file_name)

    def __call__(self, version: str) -> Path:
        found = self.registry.get(version)
        relative = artifact_path(self.repo, self.registry.artifact, found.commit)
        model_dir_rel, file_name = os.path.split(relative)
        dest = self.releases / version
        if not self._problems(dest, file_name, found):
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        sources: list[tuple[str, Callable[[Path], None]]] = [
            ("workspace", lambda tmp: shutil.copytree(self.repo / model_dir_rel, tmp)),
            ("DVC", lambda tmp: self._from_dvc(found.commit, model_dir_rel, tmp)),
            ("rebuild", lambda tmp: self._rebuild(found.commit, model_dir_rel, tmp)),
        ]
        refused: list[str] = []
        for label, fetch in sources:
            tmp = dest.with_name(f"{version}.{label}")
            shutil.rmtree(tmp, ignore_errors=True)
            try:
                fetch(tmp)
            except Exception as error:  # any failure: try the next source
                self.log(f"{version}: not from {label} ({str(error).strip().splitlines()[-1][:200] or error!r})")
                shutil.rmtree(tmp, ignore_errors=True)
                continue
            problems = self._problems(tmp, file_name, found)
            if not problems:
                write_release(tmp, version, found.commit, self.registry.artifact)
                _copy_model_dir(tmp, dest)
                shutil.rmtree(tmp, ignore_errors=True)
                self.log(f"{version}: model folder from {label} -> {dest}")
                return dest
            self.log(f"{version}: the {label} model folder is not the registered one ({', '.join(problems)})")
            refused.append(f"{label}: {', '.join(problems)}")
            shutil.rmtree(tmp, ignore_errors=True)
        detail = f" (refused {'; '.join(refused)})" if refused else ""
        raise DeployError(f"cannot materialise {self.registry.artifact} {version}: no source has its model{detail}")

    def _from_dvc(self, commit: str, path: str, dest: Path) -> None:
        from dvc.api import DVCFileSystem

        fs = DVCFileSystem(str(self.repo), rev=commit)
        try:
            fs.get(path, str(dest), recursive=True)
        except Exception as error:  # DVC says "failed to load directory" when its remote is not there: name it
            unreachable = remote_problem(self.repo)
            if unreachable:
                raise DeployError(unreachable) from error
            raise

    def _rebuild(self, commit: str, path: str, dest: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="slipway-rebuild-") as scratch:
            tree = Path(scratch) / "tree"
            _run(["git", "worktree", "add", "--detach", "--quiet", str(tree), commit], self.repo)
            try:
                cache = _run(["dvc", "cache", "dir"], self.repo).strip()
                _run(["dvc", "config", "--local", "cache.dir", cache], tree)
                stage = _stage_producing(tree, path)
                if stage is None:
                    raise DeployError(f"no dvc.yaml stage at {commit[:12]} produces {path}")
                _run(["dvc", "repro", "--pull", stage], tree)
                shutil.copytree(tree / path, dest)
            finally:
                _run(["git", "worktree", "remove", "--force", str(tree)], self.repo, check=False)


def _stage_producing(repo: Path, path: str) -> str | None:
    stages = (yaml.safe_load((repo / "dvc.yaml").read_text()) or {}).get("stages") or {}
    for name, stage in stages.items():
        for out in stage.get("outs") or []:
            out_path = next(iter(out)) if isinstance(out, dict) else out
            if out_path == path:
                return name
    return None


def _run(command: Sequence[str], cwd: Path, check: bool = True, input: str | None = None) -> str:
    """A command's output through the project's command runner; a failure is a DeployError (one redacted line)."""
    try:
        return run_command(command, cwd, check=check, input=input).stdout
    except CommandError as error:
        raise DeployError(str(error)) from None


# ---------------------------------------------------------------- HTTP checks


def http_json(url: str, timeout: float = 5.0) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read()
            return response.status, json.loads(body) if body else None
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.loads(error.read() or b"null")
        except ValueError:
            return error.code, None
    except (urllib.error.URLError, OSError, ValueError):
        return 0, None


def wait_ready(url: str, timeout: float, alive: Callable[[], bool] = lambda: True) -> None:
    """Poll ``/ready`` until it answers 200; fail early when the server process is gone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = http_json(f"{url}/ready", timeout=2.0)
        if status == 200:
            return
        detail = body.get("detail") if isinstance(body, dict) else None
        if status == 503 and isinstance(detail, str) and detail.startswith("model not loaded"):
            raise DeployError(f"{url}/ready: {detail}")  # the server tried and failed: waiting will not help
        if not alive():
            raise DeployError(f"the server for {url} exited before it was ready")
        time.sleep(0.25)
    raise DeployError(f"{url}/ready did not answer 200 within {timeout:.0f} s")


def served_version(url: str) -> str | None:
    """The model version a server reports on ``/version`` (None if it does not answer)."""
    status, body = http_json(f"{url}/version")
    if status != 200 or not isinstance(body, dict):
        return None
    for key in ("model_version", "version"):
        if isinstance(body.get(key), str):
            return body[key]
    return None


def smoke(url: str, version: str) -> None:
    """The serving smoke test (``slipway smoke``) against a deployment, which must report ``version``."""
    from slipway.serving.smoke import smoke_test

    result = smoke_test(url, expect_version=version, wait=10.0)
    if not result.ok:
        raise DeployError(f"smoke test of {url} failed:\n{result.render()}")


# ---------------------------------------------------------------- targets


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        if (Path("/proc") / str(pid) / "stat").read_text().split(") ", 1)[1].startswith("Z"):
            return False
    return True


class LocalTarget:
    """A ``slipway serve`` process per stage on this machine (``make serve`` runs the prod one in the foreground)."""

    name = "local"

    def __init__(self, config: DeployConfig, directory: Path) -> None:
        self.config = config
        self.directory = directory

    def _state_dir(self, stage: str) -> Path:
        return self.directory / stage

    def url(self, stage: str) -> str:
        return f"http://{self.config.host}:{self.config.stages[stage].port}"

    def _state(self, stage: str) -> dict[str, object]:
        path = self._state_dir(stage) / "state.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def current(self, stage: str) -> str | None:
        state = self._state(stage)
        pid = state.get("pid")
        if isinstance(pid, int) and _process_alive(pid):
            return str(state.get("version"))
        return None

    def stop(self, stage: str) -> None:
        pid = self._state(stage).get("pid")
        if isinstance(pid, int) and _process_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while _process_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _process_alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
        (self._state_dir(stage) / "state.json").unlink(missing_ok=True)

    def command(self, stage: str, model_dir: Path) -> list[str]:
        return [
            sys.executable, "-m", "slipway.cli", "serve", "--model-dir", str(model_dir),
            "--host", self.config.host, "--port", str(self.config.stages[stage].port),
        ]  # fmt: skip

    def deploy(self, stage: str, version: str, model_dir: Path) -> Deployment:
        self.stop(stage)
        state_dir = self._state_dir(stage)
        state_dir.mkdir(parents=True, exist_ok=True)
        env = {name: value for name, value in os.environ.items() if not is_secret_name(name)}  # serving needs none
        env.update(SLIPWAY_MODEL_VERSION=version, SLIPWAY_STAGE=stage)
        with (state_dir / "server.log").open("ab") as log:
            process = subprocess.Popen(
                self.command(stage, model_dir.resolve()),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        (state_dir / "state.json").write_text(
            json.dumps({"version": version, "pid": process.pid, "model_dir": str(model_dir.resolve())}) + "\n"
        )
        url = self.url(stage)
        try:
            wait_ready(url, self.config.smoke.timeout_seconds, alive=lambda: process.poll() is None)
        except DeployError as error:
            tail = (state_dir / "server.log").read_text(errors="replace")[-1500:]
            self.stop(stage)
            raise DeployError(f"{error}\n--- server log (tail)\n{tail}") from None
        return Deployment(stage, version, url, f"pid {process.pid}, log {state_dir / 'server.log'}")

    def rollback(self, stage: str, version: str, model_dir: Path) -> Deployment:
        return self.deploy(stage, version, model_dir)


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

    def build(self, version: str, model_dir: Path) -> str:
        """Build (and push, when configured) the image of a version; returns its name. The build context is
        the repository with ``build/image`` filled by ``infra/image_context.sh`` (wheels + the model folder)."""
        image = self.image(version)
        _run([str(self.repo / "infra" / "image_context.sh"), str(model_dir.resolve())], self.repo)
        base = ["--build-arg", f"BASE_IMAGE={self.config.base_image}"] if self.config.base_image else []
        _run([self.docker, "build", "--file", "infra/Dockerfile", "--tag", image, *base,
              "--label", f"org.opencontainers.image.version={version}", "."], self.repo)  # fmt: skip
        if self.config.push:
            _run([self.docker, "push", image], self.repo)
        return image

    def current(self, stage: str) -> str | None:
        found = _run([self.docker, "inspect", "--format", "{{.Config.Image}}", self.container(stage)], self.repo, False)
        image = found.strip()
        return image.rsplit(":", 1)[1] if ":" in image else None

    def stop(self, stage: str) -> None:
        _run([self.docker, "rm", "--force", self.container(stage)], self.repo, check=False)

    def _run_container(self, stage: str, version: str) -> Deployment:
        self.stop(stage)
        port = self.config.stages[stage].port
        _run([self.docker, "run", "--detach", "--name", self.container(stage), "--restart", "unless-stopped",
              "--publish", f"{self.config.host}:{port}:{self.container_port}",
              "--env", f"SLIPWAY_STAGE={stage}", self.image(version)], self.repo)  # fmt: skip
        url = self.url(stage)
        wait_ready(url, self.config.smoke.timeout_seconds)
        return Deployment(stage, version, url, f"container {self.container(stage)} from {self.image(version)}")

    def deploy(self, stage: str, version: str, model_dir: Path) -> Deployment:
        self.build(version, model_dir)
        return self._run_container(stage, version)

    def rollback(self, stage: str, version: str, model_dir: Path) -> Deployment:
        """The previous image is already in the registry: pull and run it (no rebuild)."""
        _run([self.docker, "pull", self.image(version)], self.repo, check=False)
        return self._run_container(stage, version)


def set_overlay_image(kustomization: dict[str, object], name: str, image: str) -> dict[str, object]:
    """What ``kustomize edit set image name=repo:tag`` does to a kustomization."""
    repository, _, tag = image.rpartition(":")
    images = [entry for entry in kustomization.get("images") or [] if entry.get("name") != name]  # type: ignore[union-attr]
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
            return _run([self.kubectl, "kustomize", str(tree / "overlays" / stage)], self.repo)

    def namespace(self, stage: str) -> str:
        return f"slipway-{stage}"

    def current(self, stage: str) -> str | None:
        if not kubeconfig_present():
            return None
        image = _run([self.kubectl, "get", "deployment", self.deployment, "--namespace", self.namespace(stage),
                      "--output", "jsonpath={.spec.template.spec.containers[0].image}"], self.repo, False)  # fmt: skip
        return image.rsplit(":", 1)[1] if ":" in image else None

    def stop(self, stage: str) -> None:
        """Nothing to stop: a cluster keeps serving what was applied last."""

    def deploy(self, stage: str, version: str, model_dir: Path) -> Deployment:
        if not kubeconfig_present():
            return Deployment(stage, version, None, "skipped: no kubeconfig (set the KUBECONFIG secret to deploy)")
        manifests = self.render(stage, version)
        _run([self.kubectl, "apply", "--filename", "-"], self.repo, input=manifests)
        _run([self.kubectl, "rollout", "status", f"deployment/{self.deployment}", "--namespace",
              self.namespace(stage), f"--timeout={int(self.config.smoke.timeout_seconds)}s"], self.repo)  # fmt: skip
        url = self.config.stages[stage].url
        return Deployment(stage, version, url, f"applied overlay {stage} with {self.config.image}:{version}")

    def rollback(self, stage: str, version: str, model_dir: Path) -> Deployment:
        return self.deploy(stage, version, model_dir)


def make_target(config: DeployConfig, repo: Path, name: str | None = None) -> DeployTarget:
    chosen = name or config.target
    if chosen == "local":
        return LocalTarget(config, repo / config.directory)
    if chosen == "container":
        return ContainerTarget(config, repo)
    if chosen == "kubernetes":
        kubeconfig_from_secret()
        return KubernetesTarget(config, repo)
    raise DeployError(f"unknown deploy target {chosen!r} (local, container, kubernetes)")


# ---------------------------------------------------------------- promotion


@dataclass(frozen=True)
class StageResult:
    stage: str
    version: str
    ok: bool
    detail: str
    tag: str = ""


class StageRegistry(Protocol):
    def stage_version(self, stage: str) -> str | None: ...

    def assign(self, version: str, stage: str) -> str: ...

    def push(self, tags: list[str]) -> None:
        """Publish tags; on failure they are deleted locally too, and RegistryError is raised."""
        ...


def deploy_stage(
    stage: str,
    version: str,
    *,
    registry: StageRegistry,
    target: DeployTarget,
    materialise: Callable[[str], Path],
    check: Callable[[str, str], None] = smoke,
    log: Callable[[str], None] = print,
    push_tags: bool = False,
) -> StageResult:
    """Deploy a version to a stage, smoke-test it, assign the stage tag and (``push_tags``) publish it.

    All four steps are one unit: when any fails, no new tag is left here or on the remote, the stage is
    redeployed with the version its tag names (what served before), and PromotionError says so. So the remote's
    tags, this repository's tags and what serves agree after a failure (the remote is what the next job reads)."""
    previous = registry.stage_version(stage)
    log(f"[{stage}] deploying {version} with the {target.name} target (tag says {previous or 'nothing'} serves)")
    step = f"deploying {version}"
    try:
        deployment = target.deploy(stage, version, materialise(version))
        if deployment.url is None:
            log(f"[{stage}] {deployment.detail}")
            return StageResult(stage, version, True, deployment.detail)
        check(deployment.url, version)
        log(f"[{stage}] {version} passed its smoke test at {deployment.url}")
        step = f"tagging {version} as {stage}"
        tag = registry.assign(version, stage)
        if push_tags and tag:
            step = f"pushing the tag {tag}"
            registry.push([tag])
    except (DeployError, RegistryError) as error:
        log(f"[{stage}] {version} FAILED: {error}")
        if previous is None or previous == version:
            target.stop(stage)
            raise PromotionError(
                f"{stage}: {step} failed and no earlier version is tagged {stage}; the stage is stopped"
            ) from error
        try:
            restored = target.rollback(stage, previous, materialise(previous))
            if restored.url is not None:
                check(restored.url, previous)
                log(f"[{stage}] rolled back to {previous}, which passed its smoke test at {restored.url}")
        except (DeployError, RegistryError) as rollback_error:
            raise PromotionError(
                f"{stage}: {step} failed, and rolling back to {previous} failed too: {rollback_error}"
            ) from error
        raise PromotionError(
            f"{stage}: {step} failed; rolled back to {previous}, which serves again and is still "
            f"the version tagged {stage}"
        ) from error
    return StageResult(stage, version, True, deployment.detail, tag)


def promote(
    version: str,
    stages: Sequence[str],
    *,
    registry: StageRegistry,
    target: DeployTarget,
    materialise: Callable[[str], Path],
    check: Callable[[str, str], None] = smoke,
    log: Callable[[str], None] = print,
    push_tags: bool = False,
) -> list[StageResult]:
    """deploy → smoke → assign → push, stage after stage; stops at the first failure (PromotionError)."""
    return [
        deploy_stage(stage, version, registry=registry, target=target, materialise=materialise, check=check,
                     log=log, push_tags=push_tags)
        for stage in stages
    ]  # fmt: skip
