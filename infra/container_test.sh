#!/usr/bin/env bash
# Real container deploy, offline: build the serving image from infra/, push it to a registry on 127.0.0.1 (the
# stand-in for GHCR), run it by digest, smoke-test it over HTTP, stop it.
#   infra/container_test.sh MODEL_DIR [EXPECTED_VERSION]
# Needs root and Debian's docker.io, debootstrap and docker-registry (see .ci/run). Everything it starts (its own
# dockerd on a private socket and data root, the registry, the container) is stopped on exit. The Debian base
# image is infra/base_image.sh's: built with debootstrap once and cached.
set -euo pipefail
model_dir=$(realpath "${1:?usage: infra/container_test.sh MODEL_DIR [EXPECTED_VERSION]}")
expected_version=${2:-}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/slipway-container.XXXXXX")
slipway=${SLIPWAY:-$repo/.venv/bin/slipway}
export DOCKER_HOST=unix://$work/docker.sock

say() { printf '[container-test %(%H:%M:%S)T] %s\n' -1 "$*"; }
fail() { say "FAILED: $*"; exit 1; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

cleanup() {
    local code=$?
    set +e
    if [[ -n ${container:-} ]]; then
        ((code == 0)) || { say "container logs:"; docker logs "$container" 2>&1 | tail -30; }
        docker rm -f "$container" >/dev/null 2>&1
    fi
    [[ -f $work/registry.pid ]] && kill "$(cat "$work/registry.pid")" 2>/dev/null
    if [[ -f $work/docker.pid ]]; then
        local pid
        pid=$(cat "$work/docker.pid")
        kill "$pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    fi
    ((code == 0)) || { say "dockerd log:"; tail -20 "$work/dockerd.log" 2>/dev/null; }
    # dockerd leaves mounts (e.g. exec-root/netns/default) behind; unmount them before removing the folder.
    awk -v root="$work/" 'index($2, root) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l
    rm -rf "$work"
    exit "$code"
}
trap cleanup EXIT

((EUID == 0)) || fail "must run as root (it starts its own Docker daemon)"
for tool in dockerd docker debootstrap docker-registry; do
    command -v "$tool" >/dev/null || fail "$tool not found: apt-get install docker.io debootstrap docker-registry"
done
[[ -x $slipway ]] || fail "$slipway not found (make setup)"

say "starting dockerd (no bridge, no iptables; containers use the host network)"
dockerd --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
    --data-root "$work/data" --exec-root "$work/exec" --host "$DOCKER_HOST" --pidfile "$work/docker.pid" \
    >"$work/dockerd.log" 2>&1 &
for _ in $(seq 120); do docker version >/dev/null 2>&1 && break; sleep 0.5; done
docker version >/dev/null 2>&1 || fail "dockerd did not start"

base_tar=$("$repo/infra/base_image.sh") || fail "the Debian base image (infra/base_image.sh)"
say "importing the base image"
docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' "$base_tar" slipway-base:bookworm >/dev/null

say "preparing the build context (wheels downloaded on the host)"
"$repo/infra/image_context.sh" "$model_dir" 2>&1 | grep -v "^WARNING: Location" || true
[[ -d $repo/build/image/model ]] || fail "infra/image_context.sh did not prepare build/image"

say "building the image with the legacy builder, without network"
DOCKER_BUILDKIT=0 docker build --quiet --network none --build-arg BASE_IMAGE=slipway-base:bookworm \
    -f "$repo/infra/Dockerfile" -t slipway-serving:candidate "$repo" >"$work/build.log" 2>&1 \
    || { tail -30 "$work/build.log"; fail "docker build"; }
user=$(docker image inspect --format '{{.Config.User}}' slipway-serving:candidate)
[[ $user != "" && $user != root && $user != 0* ]] || fail "image runs as root (User=$user)"
size=$(docker image inspect --format '{{.Size}}' slipway-serving:candidate)
say "image built: user $user, $((size / 1000000)) MB"

say "starting the registry on 127.0.0.1 (stand-in for GHCR)"
registry_port=$(free_port)
cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$registry_port
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
echo $! >"$work/registry.pid"
registry=127.0.0.1:$registry_port
for _ in $(seq 60); do python3 -c "import urllib.request; urllib.request.urlopen('http://$registry/v2/')" 2>/dev/null && break; sleep 0.5; done

tag=$registry/slipway/serving:${expected_version:-candidate}
docker tag slipway-serving:candidate "$tag"
docker push "$tag" >"$work/push.log" 2>&1 || { cat "$work/push.log"; fail "docker push"; }
digest=$(sed -n 's/.*digest: \(sha256:[0-9a-f]\{64\}\).*/\1/p' "$work/push.log")
[[ -n $digest ]] || { cat "$work/push.log"; fail "no digest in the push output"; }
reference=$registry/slipway/serving@$digest
say "pushed $tag as $reference"

# Forget the local copy so the run really pulls by digest from the registry.
docker rmi slipway-serving:candidate "$tag" >/dev/null
docker pull --quiet "$reference" >/dev/null || fail "docker pull $reference"

port=$(free_port)
say "running $reference on 127.0.0.1:$port"
container=$(docker run --detach --network host --read-only --tmpfs /tmp \
    -e SLIPWAY_HOST=127.0.0.1 -e SLIPWAY_PORT="$port" "$reference")

smoke=("$slipway" smoke --url "http://127.0.0.1:$port" --wait 180)
[[ -n $expected_version ]] && smoke+=(--expect-version "$expected_version")
"${smoke[@]}" || fail "smoke test of $reference"

say "waiting for Docker's HEALTHCHECK to report healthy"
for _ in $(seq 90); do
    health=$(docker inspect --format '{{.State.Health.Status}}' "$container")
    [[ $health == healthy ]] && break
    [[ $health == unhealthy ]] && fail "HEALTHCHECK reports unhealthy"
    sleep 1
done
[[ $health == healthy ]] || fail "HEALTHCHECK still '$health' after 90 s"

served_digest=$(docker inspect --format '{{.Image}}' "$container")
docker stop --time 10 "$container" >/dev/null
state=$(docker inspect --format '{{.State.Status}} exit={{.State.ExitCode}}' "$container")
say "stopped: $state"
echo "CONTAINER-TEST-OK reference=$reference image=$served_digest user=$user size_mb=$((size / 1000000))"
