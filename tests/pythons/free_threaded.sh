#!/usr/bin/env bash
# Build a free-threaded CPython (--disable-gil) from Debian's source of 3.13, once, for the
# tests of free-threaded wheels (none is packaged for Debian 12). The result lives in a
# directory named after the source's hash, so a rerun with the same source does nothing:
#
#   $HWB_CI_CACHE/cpython-3.13.5t-<sha16>/bin/python3.13t      (the build)
#   $HWB_CI_CACHE/cpython-3.13t -> cpython-3.13.5t-<sha16>     (what the tests look for)
#
# HWB_CI_CACHE defaults to /var/cache/hwb-ci. On these machines the build takes about
# 2 min 20 s on 2 cores; the download is 22 MB from Debian's archive.
#
# With --image it then makes the Docker image hwb-test/free-threaded:latest: the test image
# hwb-test/manylinux (tests/docker/make_images.sh, made first) with the build copied in at the
# same path and linked as /opt/python/cp313-cp313t/bin/python. The image is tagged with a hash
# of its base image and the build, and not made again while that tag exists.
#
# Usage: tests/pythons/free_threaded.sh [--image]   (gcc, make and the usual -dev libraries;
#        for --image a running engine)
set -euo pipefail

CACHE=${HWB_CI_CACHE:-/var/cache/hwb-ci}
VERSION=3.13.5
SHA256=93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640
URL=http://deb.debian.org/debian/pool/main/p/python3.13/python3.13_${VERSION}.orig.tar.xz
PREFIX=$CACHE/cpython-${VERSION}t-${SHA256:0:16}
LINK=$CACHE/cpython-3.13t

log() { printf '[free-threaded] %s\n' "$*" >&2; }

DOCKER=${DOCKER:-/usr/bin/docker}
BASE_IMAGE=hwb-test/manylinux:latest
IMAGE=hwb-test/free-threaded

make_image() {
  local base_id recipe ctx
  base_id=$("$DOCKER" image inspect -f '{{.Id}}' "$BASE_IMAGE") \
    || { log "$BASE_IMAGE is missing: run tests/docker/make_images.sh first"; exit 1; }
  recipe=$(printf '%s %s %s' "$base_id" "$PREFIX" "$(sha256sum "$0")" | sha256sum | cut -c1-16)
  if "$DOCKER" image inspect "$IMAGE:$recipe" >/dev/null 2>&1; then
    "$DOCKER" tag "$IMAGE:$recipe" "$IMAGE:latest"
    log "$IMAGE:$recipe exists: nothing to do"
    return
  fi
  ctx=$(mktemp -d /var/tmp/hwb-ft-image.XXXXXX)
  tar -C / -cf "$ctx/python.tar" "${PREFIX#/}"
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $BASE_IMAGE
ADD python.tar /
RUN mkdir -p /opt/python/cp313-cp313t/bin \\
 && ln -s $PREFIX/bin/python3.13t /opt/python/cp313-cp313t/bin/python \\
 && /opt/python/cp313-cp313t/bin/python -c 'import sys; assert not sys._is_gil_enabled()'
LABEL hwb.test-recipe=$recipe
DOCKERFILE
  log "building $IMAGE:$recipe"
  DOCKER_BUILDKIT=0 "$DOCKER" build -q --network none -t "$IMAGE:$recipe" "$ctx" >/dev/null \
    || { rm -rf "$ctx"; log "building $IMAGE failed"; exit 1; }
  rm -rf "$ctx"
  "$DOCKER" tag "$IMAGE:$recipe" "$IMAGE:latest"
  for old in $("$DOCKER" image ls "$IMAGE" --format '{{.Tag}}' | grep -v -x -e latest -e "$recipe" || true); do
    "$DOCKER" rmi "$IMAGE:$old" >/dev/null 2>&1 || true
  done
  log "done: $IMAGE:$recipe"
}

if [ -x "$PREFIX/bin/python3.13t" ] && [ -f "$PREFIX/.complete" ]; then
  ln -sfn "$(basename "$PREFIX")" "$LINK"
  log "$PREFIX exists"
  if [ "${1:-}" = "--image" ]; then make_image; fi
  exit 0
fi

mkdir -p "$CACHE/src"
tarball=$CACHE/src/$(basename "$URL")
if ! echo "$SHA256  $tarball" | sha256sum -c --status 2>/dev/null; then
  log "downloading $URL"
  curl -sSfL -o "$tarball.part" "$URL"
  mv "$tarball.part" "$tarball"
  echo "$SHA256  $tarball" | sha256sum -c --status || { log "$tarball: unexpected sha256"; exit 1; }
fi

work=$(mktemp -d /var/tmp/hwb-cpython.XXXXXX)
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xJf "$tarball"
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -n 1)
rm -rf "$PREFIX"
log "building CPython $VERSION --disable-gil into $PREFIX"
start=$(date +%s)
(
  cd "$src"
  ./configure --disable-gil --prefix="$PREFIX" --without-ensurepip >"$work/configure.log" 2>&1 \
    || { tail -n 30 "$work/configure.log" >&2; exit 1; }
  make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -n 30 "$work/make.log" >&2; exit 1; }
  make install >"$work/install.log" 2>&1 || { tail -n 30 "$work/install.log" >&2; exit 1; }
)
# The test suite and the static library are not needed to build or import wheels.
rm -rf "$PREFIX/lib/python3.13t/test" "$PREFIX"/lib/python3.13t/config-3.13t-*/libpython3.13t.a
gil=$("$PREFIX/bin/python3.13t" -c 'import sysconfig; print(sysconfig.get_config_var("Py_GIL_DISABLED"))')
[ "$gil" = 1 ] || { log "the build is not free-threaded (Py_GIL_DISABLED=$gil)"; exit 1; }
touch "$PREFIX/.complete"
ln -sfn "$(basename "$PREFIX")" "$LINK"
log "done in $(( $(date +%s) - start )) s: $PREFIX/bin/python3.13t"
if [ "${1:-}" = "--image" ]; then make_image; fi
