"""hwb's container builds against cibuildwheel 4.3, side by side in one image (issue 12).

    /work/venv-dev/bin/python bench/containers.py [--runs 5] [--no-write]

Run it with the Python of hwb's development environment (it needs pip, for one download); hwb
is that environment's ``hwb`` (``--hwb`` to choose another). What it does:

1. ``bench/cibw_image.sh`` makes, once and offline, the image ``hwb-bench/manylinux4:latest``:
   hwb-test/manylinux (``tests/docker/make_images.sh``) with CPython 3.10 to 3.13 under
   ``/opt/python`` and what cibuildwheel needs of a manylinux image. Both tools build in it.
2. cibuildwheel 4.3 goes into a venv of its own under ``~/.cache/hwb-bench`` (never into hwb's
   environment), and the newest setuptools wheel into a find-links folder there, which
   cibuildwheel's containers read through ``/host`` with ``PIP_NO_INDEX=1`` (and, for the
   ``build[uv]`` frontend, ``UV_OFFLINE=1``): both tools build offline.
3. The same setuptools project with one C file (``bench/docker_overhead.py``'s) is built by

   - ``hwb build --isolation docker --python 3.12`` (warm: the host's wheelhouse and the
     prepared environments exist after the warm-up run),
   - ``hwb build --isolation venv --python 3.12`` (the default: a fresh environment),
   - cibuildwheel ``cp312-manylinux_x86_64`` with the ``pip`` and the ``build[uv]`` frontends,
   - ``hwb matrix --isolation docker --parallel 2`` for 3.10, 3.11, 3.12 and 3.13,
   - cibuildwheel ``cp310`` to ``cp313`` (one container), with both frontends,

   each from a fresh copy of the project into an empty output directory (copied outside the
   timed part), after one warm-up run each, then ``--runs`` rounds in which every command runs
   once, the order rotating from round to round, so a noisy neighbour slows them alike. A run
   counts only when the command succeeded and left exactly one repaired manylinux wheel per
   Python in the output directory.
4. One more build each of hwb docker, hwb venv and cibuildwheel (pip), untimed, is read line by
   line as it runs (``hwb build -vv``'s step lines, cibuildwheel's step titles): where the time
   goes.

Medians, runs, the ratios the issue sets targets for, the machine, the date and every version
are printed and written into ``docs/performance.md`` between the ``containers`` markers (the
rest of the page is left alone).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from docker_overhead import make_project  # bench/ is not a package

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "docs" / "performance.md"
START, END = "<!-- containers:start -->", "<!-- containers:end -->"
IMAGE = "hwb-bench/manylinux4:latest"
IMAGE_SCRIPT = REPO / "bench" / "cibw_image.sh"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hwb-bench"
CIBW_REQUIREMENT = "cibuildwheel==4.3.*"
DOCKER = "/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker"
ONE = ("3.12",)
FOUR = ("3.10", "3.11", "3.12", "3.13")

# (what the issue compares, numerator, denominator, target or None)
RATIOS = (
    ("docker build / venv build", "hwb docker", "hwb venv", 1.5),
    ("docker build / cibuildwheel (pip)", "hwb docker", "cibuildwheel pip", 0.6),
    ("docker build / cibuildwheel (build[uv])", "hwb docker", "cibuildwheel build[uv]", None),
    ("4 Pythons: hwb matrix / cibuildwheel (pip)", "hwb matrix", "cibuildwheel pip x4", 0.5),
    (
        "4 Pythons: hwb matrix / cibuildwheel (build[uv])",
        "hwb matrix",
        "cibuildwheel build[uv] x4",
        None,
    ),
)


def tag(version: str) -> str:
    return "cp" + version.replace(".", "")


# --------------------------------------------------------------------------- preparation


def make_image(image: str) -> str:
    """Run bench/cibw_image.sh (the default image only); say what it took."""
    if image != IMAGE:
        subprocess.run([DOCKER, "image", "inspect", image], check=True, capture_output=True)
        return f"`{image}`, given (not made here)"
    started = time.perf_counter()
    result = subprocess.run(
        ["bash", str(IMAGE_SCRIPT)], stdin=subprocess.DEVNULL, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    sys.stderr.write(result.stderr)
    if result.returncode != 0:
        sys.exit(f"{IMAGE_SCRIPT.name} failed")
    if "nothing to do" in result.stderr:
        made = re.search(r"\(made in (\d+) s on (\S+)\)", result.stderr)
        when = f", made by it in {made[1]} s on {made[2]}" if made else ""
        return (
            f"already there (`{IMAGE_SCRIPT.relative_to(REPO)}` found it in {elapsed:.1f} s{when})"
        )
    return f"made by `{IMAGE_SCRIPT.relative_to(REPO)}` in this run: {elapsed:.0f} s"


def cibuildwheel_env() -> Path:
    """A venv of cibuildwheel 4.3 in the bench cache (made once); its python."""
    venv = CACHE / "cibw-4.3"
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import cibuildwheel; print(cibuildwheel.__version__)"]
    if python.exists() and subprocess.run(check, capture_output=True, text=True).stdout.startswith(
        "4.3"
    ):
        return python
    shutil.rmtree(venv, ignore_errors=True)
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    base = sys.executable
    if uv:
        subprocess.run([uv, "venv", "-q", "--python", base, str(venv)], check=True)
        subprocess.run(
            [uv, "pip", "install", "-q", "--python", str(python), CIBW_REQUIREMENT], check=True
        )
    else:
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", CIBW_REQUIREMENT], check=True)
    return python


def find_links() -> Path:
    """The newest setuptools wheel, for cibuildwheel's offline containers."""
    folder = CACHE / "find-links"
    folder.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--only-binary=:all:",
            "--no-deps",
            "-d",
            str(folder),
            "setuptools",
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0 and not list(folder.glob("setuptools-*.whl")):
        sys.exit(f"pip download setuptools failed:\n{result.stderr}")
    wheels = sorted(folder.glob("setuptools-*.whl"), key=lambda p: p.stat().st_mtime)
    for old in wheels[:-1]:  # keep one version: the one pip resolves is the one in the table
        old.unlink()
    return folder


# --------------------------------------------------------------------------- commands


class Bench:
    def __init__(self, work: Path, image: str, hwb: list[str], cibw_python: Path, links: Path):
        self.work = work
        self.image = image
        self.hwb = hwb
        self.cibw = [str(cibw_python), "-m", "cibuildwheel"]
        self.links = links
        self.count = 0
        self.wheels: dict[str, list[str]] = {}

    # name -> f(project, output folder) -> (argv, environment or None); each runs in the project.
    def commands(
        self,
    ) -> dict[str, Callable[[Path, Path], tuple[list[str], dict[str, str] | None]]]:
        image, hwb = self.image, self.hwb
        return {
            "hwb docker": lambda p, o: (
                [
                    *hwb,
                    "build",
                    str(p),
                    "--isolation",
                    "docker",
                    "--image",
                    image,
                    "--python",
                    "3.12",
                    "-o",
                    str(o),
                    "-q",
                ],
                None,
            ),
            "hwb venv": lambda p, o: (
                [
                    *hwb,
                    "build",
                    str(p),
                    "--isolation",
                    "venv",
                    "--python",
                    "3.12",
                    "-o",
                    str(o),
                    "-q",
                ],
                None,
            ),
            "cibuildwheel pip": lambda p, o: self.cibuildwheel(o, "pip", ONE),
            "cibuildwheel build[uv]": lambda p, o: self.cibuildwheel(o, "build[uv]", ONE),
            "hwb matrix": lambda p, o: (
                [
                    *hwb,
                    "matrix",
                    str(p),
                    "--isolation",
                    "docker",
                    "--image",
                    image,
                    "--python",
                    ",".join(FOUR),
                    "--parallel",
                    "2",
                    "-o",
                    str(o),
                    "-q",
                ],
                None,
            ),
            "cibuildwheel pip x4": lambda p, o: self.cibuildwheel(o, "pip", FOUR),
            "cibuildwheel build[uv] x4": lambda p, o: self.cibuildwheel(o, "build[uv]", FOUR),
        }

    @staticmethod
    def pythons(name: str) -> tuple[str, ...]:
        return FOUR if name == "hwb matrix" or name.endswith(" x4") else ONE

    def cibuildwheel(
        self, out: Path, frontend: str, pythons: tuple[str, ...]
    ) -> tuple[list[str], dict[str, str]]:
        links = f"/host{self.links}"
        inside = f"PIP_NO_INDEX=1 PIP_FIND_LINKS={links}"
        if frontend == "build[uv]":
            inside += f" UV_OFFLINE=1 UV_NO_INDEX=1 UV_FIND_LINKS={links}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CIBW_")}
        env.update(
            CIBW_BUILD=" ".join(f"{tag(v)}-manylinux_x86_64" for v in pythons),
            CIBW_ARCHS="x86_64",
            CIBW_MANYLINUX_X86_64_IMAGE=self.image,
            CIBW_CONTAINER_ENGINE="docker; create_args: --network=none",
            CIBW_BUILD_FRONTEND=frontend,
            CIBW_ENVIRONMENT_LINUX=inside,
            PYTHONUNBUFFERED="1",
        )
        return [*self.cibw, "--platform", "linux", "--output-dir", str(out)], env

    def fresh(self) -> tuple[Path, Path]:
        """A fresh copy of the project (cibuildwheel runs in it) and an empty output folder."""
        self.count += 1
        run = self.work / f"run{self.count:03d}"
        return make_project(run / "benchext"), run / "out"

    def one(self, name: str) -> float:
        project, out = self.fresh()
        argv, env = self.commands()[name](project, out)
        started = time.perf_counter()
        result = subprocess.run(
            argv, env=env, cwd=project, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            sys.exit(
                f"{name} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        self.check(name, out)
        shutil.rmtree(project.parent, ignore_errors=True)
        return elapsed

    def check(self, name: str, out: Path) -> list[str]:
        """Exactly one repaired manylinux wheel per Python, or the run does not count."""
        wheels = sorted(w.name for w in out.glob("*.whl"))
        expected = self.pythons(name)

        def repaired(wheel: str) -> bool:  # every platform tag a manylinux one
            return all(t.startswith("manylinux") for t in wheel[:-4].split("-")[-1].split("."))

        ok = len(wheels) == len(expected) and all(
            sum(f"-{tag(v)}-{tag(v)}-" in w and repaired(w) for w in wheels) == 1 for v in expected
        )
        if not ok:
            sys.exit(
                f"{name}: expected one repaired manylinux wheel for each of {expected}, "
                f"got {wheels}"
            )
        self.wheels[name] = wheels
        return wheels

    def matrix_jobs(self) -> tuple[dict[str, float], float]:
        """One more ``hwb matrix`` run, untimed: each job's own duration (``--json``)."""
        project, out = self.fresh()
        argv, _ = self.commands()["hwb matrix"](project, out)
        started = time.perf_counter()
        result = subprocess.run(
            [*argv, "--json"], cwd=project, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            sys.exit(f"hwb matrix --json failed:\n{result.stderr[-3000:]}")
        self.check("hwb matrix", out)
        shutil.rmtree(project.parent, ignore_errors=True)
        jobs = json.loads(result.stdout)["jobs"]
        return {job["python"]: float(job["duration_s"]) for job in jobs}, elapsed

    def trace(self, name: str, extra: list[str]) -> tuple[list[tuple[str, float]], float]:
        """Run ``name`` once more, untimed, stamping each output line as it arrives."""
        project, out = self.fresh()
        argv, env = self.commands()[name](project, out)
        argv = [a for a in argv if a != "-q"] + extra
        env = dict(env or os.environ, PYTHONUNBUFFERED="1")
        started = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            env=env,
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        lines: list[tuple[str, float]] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append((line.rstrip("\n"), time.perf_counter() - started))
        proc.wait()
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            sys.exit(f"{name} (traced) failed:\n" + "\n".join(text for text, _ in lines[-40:]))
        self.check(name, out)
        shutil.rmtree(project.parent, ignore_errors=True)
        return lines, elapsed


# --------------------------------------------------------------------------- where the time goes

HWB_STEP = re.compile(r"^\[\s*[\d.]+s\] (.*)$")
HWB_COMMAND = re.compile(r"^\$ (\(container\) )?(\S+)(.*)$")
HWB_DONE = re.compile(r"^built .*\((.*)\)$")
CIBW_STEPS = (
    "Starting container image",
    "Copying project into container",
    "Setting up build environment",
    "Building wheel",
    "Repairing wheel",
    "Copying wheels back to host",
)
SMALL = 0.02  # phases shorter than this are left out of the tables


def phases(lines: list[tuple[str, float]], elapsed: float, tool: str) -> list[tuple[str, float]]:
    """(phase, seconds) from the arrival times of the step lines, start-up and exit included.

    hwb's marks are its step lines and, at -vv, the commands it runs (the step line names what
    hwb is about to do; the command line, what then takes the time); cibuildwheel's are its
    step titles.
    """
    marks: list[tuple[str, float]] = [("start-up: interpreter, imports, options", 0.0)]
    for text, at in lines:
        if tool.startswith("hwb"):
            if m := HWB_STEP.match(text):
                marks.append((shorten(m.group(1)), at))
            elif m := HWB_COMMAND.match(text):
                marks.append((command(m.group(1) or "", m.group(2), m.group(3)), at))
            elif HWB_DONE.match(text):
                after = "removing the container, exit" if "docker" in tool else "clean-up, exit"
                marks.append((f"after the wheel is published: {after}", at))
        else:
            stripped = text.strip()
            for step in CIBW_STEPS:
                if stripped.startswith(step) and stripped.endswith("..."):
                    marks.append((step, at))
            if re.match(r"^\d+ wheels? produced", stripped):
                marks.append(("summary, removing the container, exit", at))
    bounds = [at for _, at in marks[1:]] + [elapsed]
    return [(label, end - at) for (label, at), end in zip(marks, bounds, strict=True)]


def shorten(message: str) -> str:
    message = re.sub(r" \(docker [^)]*\)+$", "", message)  # the image and interpreter, again
    message = re.sub(r"\(prepared environment [0-9a-f]+\)", "(prepared environment)", message)
    message = re.sub(r"benchext-0\.1-\S+\.whl", "the wheel", message)
    message = re.sub(r"\(/\S+\)", "", message).replace("  ", " ")
    return message.replace("|", "/")[:90].strip()


def command(where: str, program: str, rest: str) -> str:
    """A command line of hwb -vv, short: programs and files by their base names."""
    words = [
        w.rsplit("/", 1)[-1] if w.startswith("/") and not w.endswith("/") and "*" not in w else w
        for w in rest.split()
    ]
    text = " ".join([program.rsplit("/", 1)[-1], *words])
    if len(text) > 52:
        text = text[:51] + "…"
    return f"{where}`{text.replace('|', '/').replace('`', '')}`"


# --------------------------------------------------------------------------- versions, machine


def out(cmd: list[str], env: dict[str, str] | None = None) -> str:
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return (result.stdout or result.stderr).strip() if result.returncode == 0 else "?"


def versions(bench: Bench, cibw_python: Path) -> dict[str, str]:
    inside = out(
        [
            DOCKER,
            "run",
            "--rm",
            "--network",
            "none",
            bench.image,
            "sh",
            "-c",
            "for d in /opt/python/cp3*; do [ $d = /opt/python/cp39-cp39 ] && continue; "
            "$d/bin/python -c 'import sys, pip, build; "
            'print("%d.%d.%d" % sys.version_info[:3], pip.__version__, build.__version__)\'; done; '
            "auditwheel --version | head -n 1 | cut -d' ' -f2; patchelf --version | cut -d' ' -f2; "
            "uv --version | cut -d' ' -f2; ldd --version | head -n 1 | awk '{print $NF}'; "
            "echo $AUDITWHEEL_PLAT",
        ]
    ).splitlines()
    pythons = [line.split() for line in inside[:-5]] if len(inside) > 5 else []
    tools = inside[-5:] if len(inside) >= 5 else ["?"] * 5
    hwb_uv = shutil.which("uv", path=str(Path(bench.hwb[0]).parent)) or "uv"
    setuptools = sorted(bench.links.glob("setuptools-*.whl"))
    hwb_setuptools = sorted(
        {
            w.name.split("-")[1]
            for w in (Path.home() / ".cache" / "hwb" / "wheelhouse").glob("cp*/setuptools-*.whl")
        }
    )
    return {
        "hwb": out([*bench.hwb, "--version"]).removeprefix("hwb ") + f" ({checkout()})",
        "cibuildwheel": out(
            [str(cibw_python), "-c", "import cibuildwheel; print(cibuildwheel.__version__)"]
        ),
        "Docker engine": out([DOCKER, "version", "-f", "{{.Server.Version}}"]),
        "image": f"`{bench.image}` ({out([DOCKER, 'image', 'inspect', '-f', '{{.Id}}', bench.image])[7:19]}, "
        f"Debian 12, glibc {tools[3]}, AUDITWHEEL_PLAT={tools[4]})",
        "CPython in the image": ", ".join(p[0] for p in pythons) or "?",
        "pip / build in the image": ", ".join(sorted({f"{p[1]} / {p[2]}" for p in pythons})) or "?",
        "auditwheel / patchelf / uv in the image (cibuildwheel's)": " / ".join(tools[:3]),
        "uv that hwb mounts": out([hwb_uv, "--version"]).removeprefix("uv ").split(" ")[0],
        "setuptools": f"{', '.join(hwb_setuptools) or '?'} (hwb's wheelhouse), "
        f"{setuptools[-1].name.split('-')[1] if setuptools else '?'} (cibuildwheel's find-links)",
        "harness Python": platform.python_version(),
    }


def checkout() -> str:
    """The commit of this checkout (the dev install is editable), and whether hwb is changed."""
    commit = out(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    changed = out(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "hwb_core", "hwb_plugins"]
    )
    files = len(changed.splitlines()) if changed not in ("", "?") else 0
    return f"commit {commit}" + (
        f", {files} file{'s' if files > 1 else ''} of hwb changed in the work tree" if files else ""
    )


def machine() -> str:
    cpu = platform.machine()
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
    return f"{cpu}, {os.cpu_count()} CPUs ({platform.machine()}), {system}"


# --------------------------------------------------------------------------- the page


def fmt(seconds: float) -> str:
    return f"{seconds:.2f}"


def section(
    warmup: dict[str, float],
    runs: dict[str, list[float]],
    wheels: dict[str, list[str]],
    traces: dict[str, list[tuple[str, float]]],
    trace_totals: dict[str, float],
    jobs: tuple[dict[str, float], float],
    vers: dict[str, str],
    image_note: str,
    n: int,
    load: tuple[float, float],
) -> str:
    med = {name: statistics.median(times) for name, times in runs.items()}
    label = {
        "hwb docker": "`hwb build --isolation docker` (warm)",
        "hwb venv": "`hwb build --isolation venv`",
        "cibuildwheel pip": "cibuildwheel, `pip` frontend",
        "cibuildwheel build[uv]": "cibuildwheel, `build[uv]` frontend",
        "hwb matrix": "`hwb matrix --isolation docker --parallel 2` (warm)",
        "cibuildwheel pip x4": "cibuildwheel, `pip` frontend",
        "cibuildwheel build[uv] x4": "cibuildwheel, `build[uv]` frontend",
    }

    def rows(names: tuple[str, ...]) -> str:
        return "\n".join(
            f"| {label[name]} | {fmt(med[name])} | {min(runs[name]):.2f}-{max(runs[name]):.2f} | "
            f"{', '.join(fmt(t) for t in runs[name])} |"
            for name in names
        )

    ratio_lines = []
    for what, num, den, target in RATIOS:
        ratio = med[num] / med[den]
        pairs = [a / b for a, b in zip(runs[num], runs[den], strict=True)]
        verdict = "-"
        if target is not None:
            verdict = (
                f"≤ {target}x: **met**"
                if ratio <= target
                else f"≤ {target}x: **missed** by {ratio - target:.2f}"
            )
        ratio_lines.append(
            f"| {what} | {ratio:.2f}x | {min(pairs):.2f}-{max(pairs):.2f}x | {verdict} |"
        )

    def trace_table(name: str) -> str:
        kept = [(what, sec) for what, sec in traces[name] if sec >= SMALL]
        return "\n".join(f"| {what} | {sec:.2f} |" for what, sec in kept) + (
            f"\n| **whole command** | **{trace_totals[name]:.2f}** |"
        )

    job_times, matrix_wall = jobs
    job_text = ", ".join(f"{py}: {sec:.2f} s" for py, sec in sorted(job_times.items()))
    warm_text = ", ".join(f"{name} {sec:.2f} s" for name, sec in warmup.items())
    versions_text = "\n".join(f"- {k}: {v}" for k, v in vers.items())
    return f"""{START}
## Containers: hwb against cibuildwheel (issue 12)

Produced by `/work/venv-dev/bin/python bench/containers.py --runs {n}`. Both tools build in one
image, `hwb-bench/manylinux4:latest` (Debian 12 with gcc, CPython 3.10 to 3.13 under
`/opt/python`, and what cibuildwheel expects of a manylinux image: pypa/build and pip in each
Python, auditwheel, patchelf and uv on `PATH`, `AUDITWHEEL_PLAT`). Image: {image_note}.
Both build offline (`--network none`): hwb from its host wheelhouse, cibuildwheel from a
find-links folder holding setuptools (`PIP_NO_INDEX=1`; `UV_OFFLINE=1` for `build[uv]`).
The project is the one-file C extension of [Docker against venv](#docker-against-venv). Every
command builds a fresh copy of it into an empty folder, after one warm-up run of each (which
makes hwb's prepared environments), then {n} rounds in which each command runs once, the order
rotating from round to round. A run counts only if it left one repaired manylinux wheel per
Python (hwb: `{wheels["hwb docker"][0]}`; cibuildwheel:
`{wheels["cibuildwheel pip"][0]}`). Wall-clock seconds of the whole command.

CPython 3.12, one wheel:

| command | median s | min-max | runs (s) |
| --- | --- | --- | --- |
{rows(("hwb docker", "hwb venv", "cibuildwheel pip", "cibuildwheel build[uv]"))}

CPython 3.10, 3.11, 3.12 and 3.13, four wheels (cibuildwheel: the four one after the other in
one container; hwb: a container per job and another per wheel tried, two jobs at a time):

| command | median s | min-max | runs (s) |
| --- | --- | --- | --- |
{rows(("hwb matrix", "cibuildwheel pip x4", "cibuildwheel build[uv] x4"))}

The warm-up runs, not counted (hwb's first build of a requirement set on an image makes its
prepared environment): {warm_text}.

| ratio | of the medians | range over the rounds | issue 12 target |
| --- | --- | --- | --- |
{chr(10).join(ratio_lines)}

### Where the time goes

One more build of each, untimed, its output stamped line by line as it arrives: the marks are
`hwb build -vv`'s step lines and the commands it runs (in the container or on the host), and
cibuildwheel's step titles. Each phase runs from its mark to the next; phases under {SMALL} s
are left out.

`hwb build --isolation docker` (warm), CPython 3.12:

| phase | s |
| --- | --- |
{trace_table("hwb docker")}

`hwb build --isolation venv`, CPython 3.12:

| phase | s |
| --- | --- |
{trace_table("hwb venv")}

cibuildwheel, `pip` frontend, cp312:

| phase | s |
| --- | --- |
{trace_table("cibuildwheel pip")}

`hwb matrix --json` once more ({matrix_wall:.2f} s in all): each job's own duration {job_text}.

Measured {time.strftime("%Y-%m-%d")} on {machine()}; load average {load[0]:.2f} before and
{load[1]:.2f} after (the machine is shared: compare the ratios, measured side by side, not the
seconds across pages). Versions:

{versions_text}
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds after the warm-up (default 5)")
    parser.add_argument(
        "--image",
        default=IMAGE,
        help=f"image for both tools (default {IMAGE}, made by bench/cibw_image.sh)",
    )
    parser.add_argument(
        "--hwb",
        default=None,
        help="hwb executable (default: the one next to this Python, else python -m hwb_core)",
    )
    parser.add_argument(
        "--no-write", action="store_true", help=f"print, do not touch {PAGE.relative_to(REPO)}"
    )
    args = parser.parse_args()

    beside = Path(sys.executable).parent / "hwb"
    hwb = (
        [args.hwb]
        if args.hwb
        else [str(beside)]
        if beside.exists()
        else [sys.executable, "-m", "hwb_core"]
    )
    image_note = make_image(args.image)
    print(f"image: {image_note}", flush=True)
    cibw_python = cibuildwheel_env()
    links = find_links()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="hwb-bench-containers-") as tmp:
        bench = Bench(Path(tmp), args.image, hwb, cibw_python, links)
        names = list(bench.commands())
        warmup: dict[str, float] = {}
        for name in names:
            warmup[name] = bench.one(name)
            print(f"warm-up: {name}: {warmup[name]:.2f}s", flush=True)
        runs: dict[str, list[float]] = {name: [] for name in names}
        for i in range(args.runs):
            shift = i % len(names)
            for name in names[shift:] + names[:shift]:
                elapsed = bench.one(name)
                runs[name].append(elapsed)
                print(f"round {i + 1}: {name}: {elapsed:.2f}s", flush=True)
        traces: dict[str, list[tuple[str, float]]] = {}
        totals: dict[str, float] = {}
        for name, extra, tool in (
            ("hwb docker", ["-vv"], "hwb docker"),
            ("hwb venv", ["-vv"], "hwb venv"),
            ("cibuildwheel pip", [], "cibuildwheel"),
        ):
            lines, totals[name] = bench.trace(name, extra)
            traces[name] = phases(lines, totals[name], tool)
        jobs = bench.matrix_jobs()
        vers = versions(bench, cibw_python)
        wheels = dict(bench.wheels)
    load_after = os.getloadavg()[0]
    for name, times in runs.items():
        print(f"median {name}: {statistics.median(times):.2f}s")
    text = section(
        warmup,
        runs,
        wheels,
        traces,
        totals,
        jobs,
        vers,
        image_note,
        args.runs,
        (load_before, load_after),
    )
    print(text)
    if not args.no_write:
        write_section(text)
        print(f"wrote the containers section of {PAGE.relative_to(REPO)}")


if __name__ == "__main__":
    main()
