"""Time ``hwb matrix`` of a C extension over four interpreters, two jobs at a time against one.

    python bench/matrix.py [--runs 5] [--no-write]

Both settings run the same matrix (CPython 3.10 to 3.13 from pyenv, ``--isolation venv``, a
setuptools project with one C file) in alternation, after one warm-up run, so a noisy neighbour
slows both alike; the medians and their ratio are printed and written into
``docs/performance.md`` between the ``matrix`` markers (the rest of the page is left alone).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "docs" / "performance.md"
START, END = "<!-- matrix:start -->", "<!-- matrix:end -->"
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
TARGET = 0.6

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
    (root / "src" / "benchext" / "__init__.py").write_text("from benchext._speed import add\n")
    (root / "src" / "benchext" / "_speed.c").write_text(C_SOURCE)
    return root


def run_matrix(project: Path, out: Path, parallel: int) -> float:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        sys.executable,
        "-m",
        "hwb_core",
        "matrix",
        str(project),
        "--python",
        ",".join(PYTHONS),
        "--isolation",
        "venv",
        "--parallel",
        str(parallel),
        "-o",
        str(out),
        "-q",
    ]
    started = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"hwb matrix --parallel {parallel} failed:\n{result.stderr}")
    wheels = list(out.glob("*.whl"))
    if len(wheels) != len(PYTHONS):
        sys.exit(f"expected {len(PYTHONS)} wheels, got {[w.name for w in wheels]}")
    return elapsed


def section(medians: dict[int, float], runs: dict[int, list[float]]) -> str:
    ratio = medians[2] / medians[1]
    verdict = "meets" if ratio <= TARGET else "misses"
    rows = "\n".join(
        f"| `--parallel {n}` | {medians[n]:.2f} | {', '.join(f'{t:.2f}' for t in runs[n])} |"
        for n in (1, 2)
    )
    return textwrap.dedent(f"""\
        {START}
        ## `hwb matrix`: jobs in parallel

        A setuptools project with one C file, built for CPython {", ".join(PYTHONS)} (pyenv) with
        `hwb matrix --isolation venv`, one job at a time and two at a time. The two settings
        alternate, {len(runs[1])} runs each after a warm-up run (warm uv cache). Produced by
        `python bench/matrix.py`.

        | command | median wall s | runs (s) |
        | --- | --- | --- |
        {{rows}}

        **`--parallel 2` takes {ratio:.2f}x the time of `--parallel 1`** ({verdict} the target of
        {TARGET}x or less). Part of each job waits (creating its environment, asking the package
        index for setuptools) and part computes (setuptools, gcc): two jobs on two cores overlap both.

        Measured {time.strftime("%Y-%m-%d")} on {os.cpu_count()} CPUs ({platform.machine()}), Python
        {platform.python_version()}. The machine is shared: compare the ratio, not the seconds.
        {END}
        """).replace("{rows}", rows)


def write_section(text: str) -> None:
    if PAGE.exists():
        page = PAGE.read_text()
        if START in page and END in page:
            before, rest = page.split(START, 1)
            after = rest.split(END, 1)[1]
            page = before + text.rstrip("\n") + after
        else:
            page = page.rstrip("\n") + "\n\n" + text
    else:
        page = text
    PAGE.parent.mkdir(parents=True, exist_ok=True)
    PAGE.write_text(page)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each setting (default 5)")
    parser.add_argument(
        "--no-write", action="store_true", help=f"do not update {PAGE.relative_to(REPO)}"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hwb-bench-matrix-") as tmp:
        project = make_project(Path(tmp) / "benchext")
        out = Path(tmp) / "out"
        run_matrix(project, out, 2)  # warm-up: uv cache, interpreter cache
        runs: dict[int, list[float]] = {1: [], 2: []}
        for i in range(args.runs):
            for parallel in (1, 2) if i % 2 == 0 else (2, 1):
                elapsed = run_matrix(project, out, parallel)
                runs[parallel].append(elapsed)
                print(f"run {i + 1}: --parallel {parallel}: {elapsed:.2f}s", flush=True)
    medians = {n: statistics.median(times) for n, times in runs.items()}
    print(
        f"median --parallel 1: {medians[1]:.2f}s, --parallel 2: {medians[2]:.2f}s, "
        f"ratio {medians[2] / medians[1]:.2f}x (target <= {TARGET}x)"
    )
    if not args.no_write:
        write_section(section(medians, runs))
        print(f"wrote the matrix section of {PAGE.relative_to(REPO)}")


if __name__ == "__main__":
    main()
