#!/usr/bin/env bash
# Build the Docker images the docker tests use, from Debian packages and the host's pyenv
# interpreters: nothing is pulled from a registry.
#
#   hwb-test/manylinux:latest  Debian bookworm (minbase) with gcc, make, git and libyaml-dev, and a
#                              manylinux-like /opt/python/cpXY-cpXY/bin/python for each version
#                              in HWB_TEST_PYTHONS (default "3.11 3.12"), copied from pyenv.
#   hwb-test/runtime:latest    the same without libyaml and git (to import a repaired wheel where the
#                              library is absent, and to build where the image has no git).
#
# Each image is also tagged with a hash of its recipe (this file, the interpreter versions);
# when that tag exists the image is not built again, so a rerun takes a second.
#
# With --arm64 it makes hwb-test/manylinux-arm64:latest instead, for the manual qemu test of
# docs/docker.md: Debian's own python3 (3.11, with its headers) as /opt/python/cp311-cp311,
# no pip (hwb brings one). It needs qemu-user-static and binfmt-support and takes a few minutes.
#
# Usage: tests/docker/make_images.sh [--arm64]   (root; debootstrap, patchelf, a running engine)
set -euo pipefail

DOCKER=${DOCKER:-/usr/bin/docker}        # the engine's own CLI (has the legacy builder)
PYTHONS=${HWB_TEST_PYTHONS:-"3.11 3.12"}
PYENV_VERSIONS=${PYENV_ROOT:-$HOME/.pyenv}/versions
SUITE=bookworm
PACKAGES=python3,python3-venv,git,gcc,make,libc6-dev,libyaml-dev,ca-certificates,libssl3,libffi8,libsqlite3-0,libbz2-1.0,liblzma5,zlib1g,libreadline8,libncursesw6,libuuid1,libexpat1,libgdbm6

log() { printf '[make_images] %s\n' "$*" >&2; }

# The newest pyenv release of each wanted version: "3.12" -> "3.12.1".
versions=()
for short in $PYTHONS; do
  full=$(ls -1 "$PYENV_VERSIONS" 2>/dev/null | grep -E "^${short//./\\.}\.[0-9]+$" | sort -V | tail -n 1 || true)
  if [ -z "$full" ]; then
    log "pyenv has no Python $short under $PYENV_VERSIONS"; exit 1
  fi
  versions+=("$full")
done

recipe_hash=$( { cat "$0"; echo "$PACKAGES ${versions[*]}"; } | sha256sum | cut -c1-16)

if [ "${1:-}" = "--arm64" ]; then
  image=hwb-test/manylinux-arm64
  if "$DOCKER" image inspect "$image:$recipe_hash" >/dev/null 2>&1; then
    "$DOCKER" tag "$image:$recipe_hash" "$image:latest"; log "$image exists"; exit 0
  fi
  command -v qemu-aarch64-static >/dev/null 2>&1 || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user-static binfmt-support >/dev/null
  }
  mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  work=$(mktemp -d /var/tmp/hwb-images.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  root=$work/rootfs
  log "debootstrap $SUITE arm64 (two stages, the second under qemu)"
  debootstrap --arch=arm64 --foreign --variant=minbase --include="$PACKAGES,python3-dev" "$SUITE" "$root" \
    "${mirror:-http://deb.debian.org/debian}" >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
  chroot "$root" /debootstrap/debootstrap --second-stage >>"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  mkdir -p "$root/opt/python/cp311-cp311/bin"
  ln -s /usr/bin/python3.11 "$root/opt/python/cp311-cp311/bin/python"
  tar -C "$root" -cf "$work/rootfs.tar" .
  printf 'FROM scratch\nADD rootfs.tar /\nENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8\nCMD ["/bin/bash"]\n' >"$work/Dockerfile"
  log "building $image:$recipe_hash (linux/arm64)"
  DOCKER_BUILDKIT=0 "$DOCKER" build -q --platform linux/arm64 -t "$image:$recipe_hash" "$work" >/dev/null
  "$DOCKER" tag "$image:$recipe_hash" "$image:latest"
  log "done: $image ($("$DOCKER" image inspect -f '{{.Architecture}}' "$image:latest"))"
  exit 0
fi
BUILD_IMAGE=hwb-test/manylinux
RUNTIME_IMAGE=hwb-test/runtime

have_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

if have_image "$BUILD_IMAGE:$recipe_hash" && have_image "$RUNTIME_IMAGE:$recipe_hash"; then
  "$DOCKER" tag "$BUILD_IMAGE:$recipe_hash" "$BUILD_IMAGE:latest"
  "$DOCKER" tag "$RUNTIME_IMAGE:$recipe_hash" "$RUNTIME_IMAGE:latest"
  log "images for recipe $recipe_hash exist: nothing to do"
  exit 0
fi

mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}

work=$(mktemp -d /var/tmp/hwb-images.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs

log "debootstrap $SUITE (minbase) from $mirror"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

for full in "${versions[@]}"; do
  short=${full%.*}
  tag="cp${short/./}-cp${short/./}"
  src=$PYENV_VERSIONS/$full
  dest=$root/opt/python/$tag
  log "copying pyenv $full to /opt/python/$tag"
  mkdir -p "$dest"
  # The standard library without its test suite, static library and GUI parts; site-packages
  # with pip only (the host's own packages and .pth hooks stay on the host).
  tar -C "$src" -c \
    --exclude="lib/python$short/test" --exclude="lib/python$short/idlelib" \
    --exclude="lib/python$short/tkinter" --exclude="lib/python$short/turtledemo" \
    --exclude="lib/python$short/config-$short-*/libpython$short.a" \
    --exclude="lib/python$short/site-packages" \
    bin include lib | tar -C "$dest" -x
  mkdir -p "$dest/lib/python$short/site-packages"
  (cd "$src/lib/python$short/site-packages" && cp -a pip pip-*.dist-info "$dest/lib/python$short/site-packages/")
  # The interpreter finds libpython next to itself, wherever it lives.
  patchelf --set-rpath '$ORIGIN/../lib' "$dest/bin/python$short"
  # pyenv's prefix and rpath are written into sysconfig, python-config, pkg-config files and
  # script shebangs: point them at /opt/python and drop the rpath, or every extension built
  # here would carry a RUNPATH into the host's pyenv.
  grep -rlI --null "$src" "$dest" | xargs -0 -r sed -i \
    -e "s#-Wl,-rpath,$src/lib##g" -e "s#-Wl,-rpath=$src/lib##g" -e "s#$src#/opt/python/$tag#g"
  if grep -rqI -- "-rpath" "$dest/lib/python$short"/_sysconfigdata_*.py; then
    log "an rpath is left in the sysconfig of $full"; exit 1
  fi
  # Byte-code compiled afresh (the host's caches name host paths), as an image's would be:
  # the build runs as an unprivileged user who could not write it.
  find "$dest" -name '__pycache__' -prune -exec rm -rf {} +
  "$dest/bin/python$short" -E -m compileall -q -j 0 -s "$root" -p / "$dest/lib/python$short" >/dev/null 2>&1 || true
done

log "importing $BUILD_IMAGE:$recipe_hash"
tar -C "$root" -c . | "$DOCKER" import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV LANG=C.UTF-8' \
  -c 'CMD ["/bin/bash"]' \
  -c "LABEL hwb.test-recipe=$recipe_hash" \
  - "$BUILD_IMAGE:$recipe_hash" >/dev/null
"$DOCKER" tag "$BUILD_IMAGE:$recipe_hash" "$BUILD_IMAGE:latest"

log "building $RUNTIME_IMAGE:$recipe_hash (no libyaml)"
ctx=$work/runtime
mkdir -p "$ctx"
cat >"$ctx/Dockerfile" <<EOF
FROM $BUILD_IMAGE:$recipe_hash
RUN rm -f /usr/lib/*/libyaml* /usr/include/yaml.h /usr/bin/git && ldconfig && ! ldconfig -p | grep -q libyaml
EOF
DOCKER_BUILDKIT=0 "$DOCKER" build -q -t "$RUNTIME_IMAGE:$recipe_hash" "$ctx" >/dev/null
"$DOCKER" tag "$RUNTIME_IMAGE:$recipe_hash" "$RUNTIME_IMAGE:latest"
# Images of earlier recipes only take space.
for repo in "$RUNTIME_IMAGE" "$BUILD_IMAGE"; do
  old_tags=$("$DOCKER" image ls "$repo" --format '{{.Tag}}' | grep -v -x -e latest -e "$recipe_hash" || true)
  for old in $old_tags; do "$DOCKER" rmi "$repo:$old" >/dev/null 2>&1 || true; done
done
log "done: $BUILD_IMAGE and $RUNTIME_IMAGE at recipe $recipe_hash"
