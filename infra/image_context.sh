#!/usr/bin/env bash
# Fill build/image/ for infra/Dockerfile: wheels of slipway and its core dependencies (no `pipeline` extra), for
# CPython 3.11 on manylinux x86_64, a copy of the model folder, and params.yaml (its train.trusted_types say which
# types a model by import path may hold). The image build then needs no network.
#   infra/image_context.sh MODEL_DIR            (run from anywhere; writes <repo>/build/image)
# Wheels are cached in ${SLIPWAY_CACHE:-~/.cache/slipway}/wheels.
set -euo pipefail
model_dir=$(realpath "${1:?usage: infra/image_context.sh MODEL_DIR}")
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${SLIPWAY_CACHE:-$HOME/.cache/slipway}
out=$repo/build/image
uv=(uv)
command -v uv >/dev/null 2>&1 || uv=(python3 -m uv)

[[ -f $model_dir/model.skops ]] || { echo "image_context: $model_dir/model.skops not found" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out/wheels" "$cache/wheels"

# Exactly the locked versions of the core dependencies.
(cd "$repo" && "${uv[@]}" export --quiet --frozen --no-dev --no-emit-project --no-hashes \
    --format requirements-txt -o "$out/requirements.txt")
if [[ ! -x $cache/pip/bin/pip ]]; then
    "${uv[@]}" venv --quiet --seed "$cache/pip"  # any Python: pip downloads for --python-version 3.11
fi
download() {  # the wheels of requirements.txt for CPython 3.11 on manylinux x86_64, into the cache; "$@": pip options
    "$cache/pip/bin/pip" download --quiet --disable-pip-version-check --only-binary=:all: "$@" \
        --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        --platform manylinux_2_5_x86_64 --platform manylinux1_x86_64 --platform any \
        -r "$out/requirements.txt" -d "$cache/wheels"
}
# From the cache alone when it holds every wheel (any build after the first: no network, 1 s instead of 5),
# else from the package index.
download --no-index --find-links "$cache/wheels" >/dev/null 2>&1 || download
# Only the wheels this lock needs (the cache may hold older versions too).
"$cache/pip/bin/python" - "$out/requirements.txt" "$cache/wheels" "$out/wheels" <<'PY'
import shutil, sys
from pathlib import Path
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename
requirements, cache, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
target = {"python_version": "3.11", "python_full_version": "3.11.2", "sys_platform": "linux",
          "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
          "implementation_name": "cpython", "platform_python_implementation": "CPython"}
wanted = {}
for line in Path(requirements).read_text().splitlines():
    line = line.strip()
    if not line or line.startswith(("#", "-")):
        continue
    requirement = Requirement(line)
    if requirement.marker is None or requirement.marker.evaluate(target):
        wanted[canonicalize_name(requirement.name)] = next(iter(requirement.specifier)).version
found = set()
for wheel in cache.glob("*.whl"):
    name, version, _, _ = parse_wheel_filename(wheel.name)
    if wanted.get(name) == str(version):
        shutil.copy2(wheel, out / wheel.name)
        found.add(name)
missing = sorted(set(wanted) - found)
if missing:
    sys.exit(f"image_context: no wheel for {missing}")
PY
(cd "$repo" && "${uv[@]}" build --quiet --wheel --out-dir "$out/wheels")
cp -r "$model_dir" "$out/model"
rm -f "$out/model/.gitignore"
cp "$repo/params.yaml" "$out/params.yaml"
echo "image_context: $(find "$out/wheels" -name "*.whl" | wc -l) wheels, model from $model_dir -> $out"
