#!/usr/bin/env bash
# The Debian base of the container deploy test (infra/container_test.sh): bookworm with python3 and venv, made with
# debootstrap once and kept as a tar in ${SLIPWAY_CACHE:-~/.cache/slipway}/base-bookworm.tar; prints that path.
#   infra/base_image.sh
# Another run making it at the same time is waited for (a lock beside the tar), so CI can start it early in the
# background and the test takes what it made. Needs root and debootstrap; downloads from $DEBIAN_MIRROR.
set -euo pipefail
cache=${SLIPWAY_CACHE:-$HOME/.cache/slipway}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
base_tar=$cache/base-bookworm.tar
mkdir -p "$cache"

exec 9>"$base_tar.lock"
flock 9
if [[ ! -s $base_tar ]]; then
    rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
    trap 'rm -rf "$rootfs"' EXIT
    echo "building the Debian base image with debootstrap (once; cached in $base_tar)" >&2
    debootstrap --variant=minbase --include=python3,python3-venv bookworm "$rootfs" "$mirror" \
        >"$rootfs.log" 2>&1 || { tail -20 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
    rm -f "$rootfs.log"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -cf "$base_tar.part" . && mv "$base_tar.part" "$base_tar"
fi
echo "$base_tar"
