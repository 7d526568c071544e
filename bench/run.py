"""Time hwb against the other ways of building a wheel, on three sample projects.

    python bench/run.py [--runs 7] [--projects hatchling,setuptools,setuptools-ext] [--no-write]

Projects (generated in a temporary directory, the same files every time):

- ``hatchling``: a pure-Python package of 20 modules built with hatchling;
- ``setuptools``: the same package built with setuptools;
- ``setuptools-ext``: setuptools with one C extension module.

Tools, all in one tools environment the script makes first (a venv of the interpreter running
it, with hwb installed from this checkout, pypa/build, pip and the backends), and all building
for that environment's interpreter:

- ``hwb`` (``hwb build --isolation venv``: a fresh environment per build, the default);
- ``hwb --no-test`` (the same without trying the wheel: for a C extension the difference is
  the cost of the default import check, a fresh environment, an install and an import);
- ``hwb --cache-envs`` (warm: the environment is in hwb's cache from the warm-up run), and the
  same with ``HWB_NO_PRESTART=1`` (without the backend started ahead: docs/caching.md);
- ``uv build --wheel``;
- ``python -m build --wheel`` (pip) and ``python -m build --wheel --installer uv``;
- ``pip wheel --no-deps``;
- ``in-process``: the backend's ``build_wheel`` called in a process that has imported it
  already: the floor no frontend can go under.

Every build gets a fresh copy of its project (setuptools reuses
``build/`` otherwise), copied outside the timed part. After one warm-up build per tool and
project (which also fills uv's and pip's caches), the runs go round-robin: run 1 of every tool,
then run 2 of every tool, and so on, so a noisy neighbour slows every tool alike. Medians and
min-max are printed, with the ratio of each median to ``uv build``'s, and written into
``docs/performance.md`` between the ``bench`` markers (the rest of the page is left alone), with
the machine, the date and the versions. ``hwb --version`` and ``hwb plugins`` are timed too.
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
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "docs" / "performance.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
PROJECTS = ("hatchling", "setuptools", "setuptools-ext")
TOOLS_REQUIREMENTS = ["build", "pip", "hatchling", "setuptools"]

# --------------------------------------------------------------------------- sample projects

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

BACKENDS = {
    "hatchling": ('requires = ["hatchling"]', "hatchling.build"),
    "setuptools": ('requires = ["setuptools>=61"]', "setuptools.build_meta"),
    "setuptools-ext": ('requires = ["setuptools>=61"]', "setuptools.build_meta"),
}


def make_project(kind: str, root: Path) -> Path:
    """Write the sample project ``kind`` under ``root``."""
    requires, backend = BACKENDS[kind]
    package = root / "src" / "benchpkg"
    package.mkdir(parents=True)
    text = f"""\
        [build-system]
        {requires}
        build-backend = "{backend}"

        [project]
        name = "benchpkg"
        version = "1.0"
        description = "A sample project for bench/run.py"
        requires-python = ">=3.8"
        """
    if kind == "setuptools-ext":
        text += """
        [tool.setuptools]
        package-dir = {"" = "src"}
        ext-modules = [{name = "benchpkg._speed", sources = ["src/benchpkg/_speed.c"]}]
        """
    (root / "pyproject.toml").write_text(textwrap.dedent(text))
    (package / "__init__.py").write_text('"""Sample package."""\n')
    for i in range(20):
        (package / f"mod{i:02d}.py").write_text(
            f'"""Module {i}."""\n\n\ndef value() -> int:\n    return {i}\n\n\n'
            f"class Thing{i}:\n    def __init__(self) -> None:\n        self.n = {i}\n"
        )
    if kind == "setuptools-ext":
        (package / "_speed.c").write_text(C_SOURCE)
    return root


# --------------------------------------------------------------------------- tools


def uv_bin() -> str:
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if not found:
            raise SystemExit("uv is needed (pip install uv)") from None
        return found


def make_tools_env(root: Path, uv: str) -> Path:
    """A venv with hwb (from this checkout), pypa/build, pip and the backends (for the
    in-process floor), compiled to bytecode as pip installs them: every Python tool starts the
    way it would for a user, whatever the state of the environment running this script."""
    env = root / "tools"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(env)], check=True)
    python = env / "bin" / "python"
    subprocess.run([uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", str(python),
                    str(REPO), *TOOLS_REQUIREMENTS], check=True)
    return python


FLOOR = """\
import importlib, sys, time
backend = importlib.import_module(sys.argv[1])
started = time.perf_counter()
backend.build_wheel(sys.argv[2])
print(time.perf_counter() - started)
"""


class Bench:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.uv = uv_bin()
        self.tools_python = make_tools_env(work, self.uv)
        self.hwb = str(self.tools_python.parent / "hwb")
        self.cache = work / "hwb-cache"
        self.environ = dict(os.environ)
        # pypa/build --installer uv looks for uv on PATH.
        self.environ["PATH"] = os.pathsep.join([str(Path(self.uv).parent), self.environ.get("PATH", "")])
        self.counter = 0

    def tools(self) -> dict[str, Callable[[Path, Path, str], list[str] | None]]:
        python = str(self.tools_python)
        return {
            "hwb": lambda src, out, kind: [self.hwb, "build", str(src), "-o", str(out), "--isolation", "venv",
                                           "-q"],
            "hwb --no-test": lambda src, out, kind: [
                self.hwb, "build", str(src), "-o", str(out), "--isolation", "venv", "--no-test", "-q"],
            "hwb --cache-envs (warm)": lambda src, out, kind: [
                self.hwb, "build", str(src), "-o", str(out), "--isolation", "venv", "--cache-envs", "-q"],
            "hwb --cache-envs (warm, HWB_NO_PRESTART=1)": lambda src, out, kind: [
                "env", "HWB_NO_PRESTART=1", self.hwb, "build", str(src), "-o", str(out), "--isolation", "venv",
                "--cache-envs", "-q"],
            "uv build --wheel": lambda src, out, kind: [
                self.uv, "build", "--wheel", "--quiet", "--python", python, "--out-dir", str(out), str(src)],
            "python -m build --wheel": lambda src, out, kind: [
                python, "-m", "build", "--wheel", "--outdir", str(out), str(src)],
            "python -m build --wheel --installer uv": lambda src, out, kind: [
                python, "-m", "build", "--wheel", "--installer", "uv", "--outdir", str(out), str(src)],
            "pip wheel --no-deps": lambda src, out, kind: [
                python, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check",
                "-w", str(out), str(src)],
            "in-process build_wheel": lambda src, out, kind: None,
        }

    def one(self, tool: str, kind: str) -> float:
        """Build a fresh copy of ``kind`` with ``tool``; the seconds it took."""
        self.counter += 1
        base = self.work / f"run{self.counter}"
        src = make_project(kind, base / "src")
        out = base / "out"
        out.mkdir()
        env = dict(self.environ, HWB_CACHE_DIR=str(self.cache))
        cmd = self.tools()[tool](src, out, kind)
        if cmd is None:
            backend = BACKENDS[kind][1]
            result = subprocess.run([str(self.tools_python), "-c", FLOOR, backend, str(out)], cwd=src, env=env,
                                    capture_output=True, text=True)
            if result.returncode != 0:
                raise SystemExit(f"in-process {backend} failed:\n{result.stderr}")
            seconds = float(result.stdout.strip().splitlines()[-1])
        else:
            started = time.perf_counter()
            result = subprocess.run(cmd, cwd=src, env=env, capture_output=True, text=True,
                                    stdin=subprocess.DEVNULL)
            seconds = time.perf_counter() - started
            if result.returncode != 0:
                raise SystemExit(f"{tool} failed on {kind}: {' '.join(cmd)}\n{result.stdout}\n{result.stderr}")
        if not list(out.glob("*.whl")):
            raise SystemExit(f"{tool} made no wheel for {kind}")
        shutil.rmtree(base, ignore_errors=True)
        return seconds

    def startup(self, args: list[str], runs: int) -> list[float]:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run([self.hwb, *args], capture_output=True, env=self.environ, check=True)
            times.append(time.perf_counter() - started)
        return times

    def versions(self) -> dict[str, str]:
        def out(cmd: list[str]) -> str:
            return subprocess.run(cmd, capture_output=True, text=True, env=self.environ).stdout.strip()

        py = str(self.tools_python)
        return {
            "hwb": out([self.hwb, "--version"]).split()[-1],
            "uv": out([self.uv, "--version"]).split()[1],
            "build": out([py, "-m", "build", "--version"]).split()[1],
            "pip": out([py, "-m", "pip", "--version"]).split()[1],
            "hatchling": out([py, "-c", "import importlib.metadata as m; print(m.version('hatchling'))"]),
            "setuptools": out([py, "-c", "import importlib.metadata as m; print(m.version('setuptools'))"]),
            "Python": platform.python_version(),
        }


# --------------------------------------------------------------------------- report


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    system = platform.platform(terse=True)
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                system = line.split("=", 1)[1].strip('"') + f" (Linux {platform.release()})"
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {system}"


def section(results: dict[str, dict[str, list[float]]], startup: dict[str, list[float]],
            versions: dict[str, str], runs: int) -> str:
    lines = [
        "## Single builds: hwb, uv, pypa/build and pip",
        "",
        f"Produced by `python bench/run.py --runs {runs}`: every tool builds a fresh copy of each",
        "sample project (generated by the script) for the same interpreter, after one warm-up build",
        f"each (warm uv and pip caches), {runs} runs round-robin. Wall-clock seconds: median",
        "(min-max), and the median's ratio to `uv build --wheel`'s on the same project.",
        "",
    ]
    kinds = list(results)
    tools = list(next(iter(results.values())))
    lines.append("| tool | " + " | ".join(f"{k} s" for k in kinds) + " | " + " | ".join(
        f"{k} vs uv" for k in kinds) + " |")
    lines.append("| --- " * (1 + 2 * len(kinds)) + "|")
    for tool in tools:
        cells, ratios = [], []
        for kind in kinds:
            values = results[kind][tool]
            median = statistics.median(values)
            uv = statistics.median(results[kind]["uv build --wheel"])
            cells.append(f"{median:.2f} ({min(values):.2f}-{max(values):.2f})")
            ratios.append(f"{median / uv:.2f}x")
        lines.append(f"| `{tool}` | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    lines += ["", "| start-up | median s (min-max) |", "| --- | --- |"]
    for label, values in startup.items():
        lines.append(f"| `{label}` | {statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f}) |")

    def med(kind: str, tool: str) -> float:
        return statistics.median(results[kind][tool])

    lines += ["", "Targets (issues 3 and 12):", ""]
    if "hatchling" in results:
        uv = med("hatchling", "uv build --wheel")
        checks = [
            ("warm `--cache-envs` rebuild at most 0.4x `uv build` (hatchling)",
             med("hatchling", "hwb --cache-envs (warm)") / uv, 0.4),
            ("default build at most 1.0x `uv build` (hatchling)", med("hatchling", "hwb") / uv, 1.0),
            ("default build at most 0.5x `python -m build` (hatchling)",
             med("hatchling", "hwb") / med("hatchling", "python -m build --wheel"), 0.5),
        ]
        for label, ratio, target in checks:
            verdict = "met" if ratio <= target else f"**missed** by {ratio - target:.2f}"
            lines.append(f"- {label}: {ratio:.2f}x, {verdict}")
    for label, target in (("hwb --version", 0.1), ("hwb plugins", 0.3)):
        if label in startup:
            value = statistics.median(startup[label])
            verdict = "met" if value <= target else f"**missed** by {value - target:.2f} s"
            lines.append(f"- `{label}` under {target} s: {value:.3f} s, {verdict}")
    lines += [
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}.",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".",
        "The machine is shared: compare ratios measured side by side, not seconds across pages.",
    ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    page = PAGE.read_text(encoding="utf-8") if PAGE.exists() else ""
    block = f"{START}\n{text}\n{END}"
    if START in page and END in page:
        head, rest = page.split(START, 1)
        _old, tail = rest.split(END, 1)
        page = head + block + tail
    else:
        page = page.rstrip("\n") + ("\n\n" if page else "") + block + "\n"
    PAGE.write_text(page, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--projects", default=",".join(PROJECTS))
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    args = parser.parse_args()
    kinds = [k for k in args.projects.split(",") if k]
    for kind in kinds:
        if kind not in BACKENDS:
            raise SystemExit(f"unknown project {kind!r}: choose from {', '.join(PROJECTS)}")
    with tempfile.TemporaryDirectory(prefix="hwb-bench-") as tmp:
        bench = Bench(Path(tmp))
        tools = list(bench.tools())
        results: dict[str, dict[str, list[float]]] = {k: {t: [] for t in tools} for k in kinds}
        for kind in kinds:
            for tool in tools:
                print(f"warm-up {kind}: {tool}: {bench.one(tool, kind):.2f}s", file=sys.stderr)
        for run in range(args.runs):
            for kind in kinds:
                for tool in tools:
                    results[kind][tool].append(bench.one(tool, kind))
            print(f"run {run + 1}/{args.runs} done", file=sys.stderr)
        startup: dict[str, list[float]] = {"hwb --version": [], "hwb plugins": []}
        bench.startup(["plugins"], 1)
        for _ in range(args.runs):
            startup["hwb --version"] += bench.startup(["--version"], 1)
            startup["hwb plugins"] += bench.startup(["plugins"], 1)
        text = section(results, startup, bench.versions(), args.runs)
    print(text)
    if not args.no_write:
        write_section(text)
        print(f"\nwritten into {PAGE.relative_to(REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()
