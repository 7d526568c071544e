"""The work of the backend started ahead (:mod:`hwb_plugins.prestart`): the plan of a command
line (:func:`_plan_path`), the process started from it as hwb starts (:func:`begin`, the
``hwb.early`` entry point), adopted by the build when it is the process it would have started
(:func:`adopt`), and the plan kept for the next run (:func:`remember`).

The waiting process reads its orders on stdin and exits when stdin closes, so a hwb that dies
takes it along. ``HWB_NO_PRESTART=1`` turns all of this off."""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hwb.driver import DRIVER

if TYPE_CHECKING:
    from hwb import BackendEnvironment


#: What the process runs until it knows its request (then the driver, in the same process).
WAITER = os.path.join(os.path.dirname(os.path.realpath(__file__)), "waiter.py")

#: Days a plan is kept after it was last written.
KEEP_DAYS = 30
#: The largest project file (``pyproject.toml``, ``setup.py``, an sdist) read to find a plan.
MAX_PROJECT_FILE = 16 * 1024 * 1024

_lock = threading.Lock()
# The plan file of this run (set by begin: only ``hwb build`` has one), the process started
# from it, what it was started with, and the backend process the build ran (for the next plan).
_state: dict[str, Any] = {
    "plan": None,
    "proc": None,
    "cmd": None,
    "env": None,
    "stamp": None,
    "paths": (),
    "ran": None,
    "work": None,
    "built_in": None,
}
#: The build's temporary directory (:func:`work_dir`).
WORK_PREFIX = "hwb-build-"


def plans_dir() -> Path:
    from hwb.paths import cache_dir

    return cache_dir() / "prestart"


def _project_file(args: Sequence[str]) -> tuple[int, Path] | None:
    """The file that says which project a ``hwb build`` command line builds, found without
    parsing it, and the argument that named it (``-1``: none): the first argument that is a
    directory with ``pyproject.toml`` (else ``setup.py``) or an sdist, else the working
    directory's."""
    for index, arg in [*[(i, a) for i, a in enumerate(args) if i and a[:1] != "-"], (-1, ".")]:
        if arg.endswith((".tar.gz", ".zip")) and os.path.isfile(arg):
            return index, Path(arg)
        for name in ("pyproject.toml", "setup.py"):
            candidate = Path(arg, name)
            if candidate.is_file():
                return index, candidate
    return None


def _plan_path(args: Sequence[str]) -> Path | None:
    """The plan of this command line: keyed by hwb's version and interpreter, the command
    line's options with their values, hwb's ``HWB_*`` variables (all that decides the
    configuration, hence the isolation and the backend's variables) and the bytes of the
    project's ``pyproject.toml`` (or its sdist), not by the project's path or the output
    directory's, so a fresh copy of a project (a CI job, a benchmark) finds the plan of the last
    copy, and two projects built in turn each keep their own."""
    import zlib

    from hwb import __version__

    found = _project_file(args)
    if found is None or found[1].stat().st_size > MAX_PROJECT_FILE:
        return None
    options = []  # less the project and the output directory (a new one each run, maybe)
    for i, arg in enumerate(args):
        if i != found[0] and not (i and args[i - 1] in ("-o", "--outdir")):
            outdir = arg == "--outdir" or arg.startswith(("--outdir=", "-o"))
            options.append("-o" if outdir else arg)
    settings = sorted((k, v) for k, v in os.environ.items() if k.startswith("HWB_"))
    key = json.dumps([__version__, sys.executable, options, settings]).encode()
    key += b"\0" + found[1].read_bytes()
    return plans_dir() / f"{zlib.crc32(key):08x}{zlib.adler32(key):08x}.json"


def _ours(info: os.stat_result) -> bool:
    """Owned by this user and writable by no one else: a plan names a program to run, and a
    cache directory may be shared."""
    return hasattr(os, "geteuid") and info.st_uid == os.geteuid() and not info.st_mode & 0o022


def begin(args: Sequence[str]) -> None:
    """For ``hwb build ...``: start the backend process the plan for this command line names,
    if there is one, it and its directory are this user's alone, and its interpreter still
    exists."""
    if not args or args[0] != "build" or os.environ.get("HWB_NO_PRESTART"):
        return
    try:
        plan_file = _plan_path(args)
        if plan_file is None:
            return
        _state["plan"] = plan_file
        if not _ours(os.stat(plan_file.parent)):
            return
        with open(plan_file, encoding="utf-8") as stream:
            if not _ours(os.fstat(stream.fileno())):
                return
            plan = json.load(stream)
        python = plan["python"]
        if plan["driver"] != DRIVER or not os.path.isfile(python):
            return
        from hwb import BackendEnvironment
        from hwb.hostenv import host_environ

        # The backend's variables, computed as the build will (withheld credentials
        # included), then the build's own; the last build's temporary directory, which the
        # compiler flags of a SOURCE_DATE_EPOCH map, is made anew for this one.
        env = host_environ(BackendEnvironment(tuple(plan["pass"]), tuple(plan["block"])))
        env.update(plan["env_set"])
        if plan["work"]:
            import tempfile

            _state["work"] = Path(tempfile.mkdtemp(prefix=WORK_PREFIX))
            env = {k: v.replace(plan["work"], str(_state["work"])) for k, v in env.items()}
        from hwb.process import spawn

        cmd = [python, WAITER, "--wait", str(plan_file), DRIVER]
        paths = [p for p in plan.get("paths", []) if isinstance(p, str)]
        stamp = _stamp(python, paths)
        proc = spawn(cmd, cwd=os.path.dirname(DRIVER), env=env, stdin=subprocess.PIPE)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return
    finally:
        atexit.register(discard)
    _state.update(proc=proc, cmd=cmd, env=env, stamp=stamp, paths=paths)


def work_dir() -> Path:
    """A new temporary directory for the build (``hwb-build-*``): the one :func:`begin` made
    for the process it started, if any (the ``build_work_dir`` hook)."""
    import tempfile

    with _lock:
        work, _state["work"] = _state["work"], None
        work = work or Path(tempfile.mkdtemp(prefix=WORK_PREFIX))
        _state["built_in"] = _state["built_in"] or work
    return work


def forget() -> None:
    """Write no plan for this build: ``--isolation auto`` chose its isolation (the
    ``select_isolation`` hook was called), and may choose a container next time, for which
    nothing may be started on this machine."""
    with _lock:
        _state["plan"] = None


def _stamp(python: str, paths: Sequence[str]) -> list[Any]:
    """What tells whether the environment of ``python`` changed since the process started
    ahead imported from it: its ``pyvenv.cfg`` (else the interpreter), made again when a cached
    environment past its age limit is replaced at the same path, and the directories on its
    ``sys.path``, whose modification time changes when a distribution is installed into them,
    upgraded or removed."""
    found: list[Any] = []
    venv_cfg = os.path.join(os.path.dirname(os.path.dirname(python)), "pyvenv.cfg")
    for path in (venv_cfg if os.path.exists(venv_cfg) else python, *paths):
        try:
            info = os.stat(path)
        except OSError:
            found.append(None)
            continue
        found.append([info.st_ino, info.st_mtime_ns])
    return found


def adopt(
    cmd: Sequence[str], cwd: Path | str, env: Mapping[str, str], rule: BackendEnvironment
) -> subprocess.Popen[str] | None:
    """The waiting process, given ``cmd``'s arguments and ``cwd``, if it is the one
    ``cmd`` (``python DRIVER REQUEST RESULT``) with ``env`` (made by ``rule``) would start;
    else ``None`` (and the waiting one is stopped). Each process is adopted at most once."""
    with _lock:
        proc: subprocess.Popen[str] | None = _state["proc"]
        started: list[str] = _state["cmd"]
        _state["proc"] = None
        if _state["plan"] is not None and _state["ran"] is None:
            _state["ran"] = ([str(c) for c in cmd], dict(env), rule)
        if proc is None:
            return None
        same = (
            len(cmd) == 4
            and [str(c) for c in cmd[:2]] == [started[0], started[4]]
            and dict(env) == _state["env"]
            and _stamp(str(cmd[0]), _state["paths"]) == _state["stamp"]
            and proc.poll() is None
        )
        if not same:
            _finish(proc)
            return None
        assert proc.stdin is not None
        try:
            order = {"argv": [str(c) for c in cmd[2:]], "cwd": str(cwd)}
            proc.stdin.write(json.dumps(order) + "\n")
            proc.stdin.close()
        except OSError:
            _finish(proc)
            return None
        return proc


def remember(backend: str, modules: Sequence[str], paths: Sequence[str] = ()) -> None:
    """After the driver ran on the host and listed the ``modules`` its hooks imported: keep
    the plan for the next ``hwb build`` (a no-op in any other command, and after the first
    backend process of this one)."""
    from hwb.hostenv import host_environ

    with _lock:
        plan_file, _state["plan"] = _state["plan"], None
        ran, work = _state["ran"], _state["built_in"]
    if plan_file is None or ran is None:
        return
    cmd, env, rule = ran
    if len(cmd) != 4 or cmd[1] != DRIVER:
        return
    # The variables the backend got as its rule and the changes the build made: nothing of
    # hwb's own (which may hold secrets) is written down.
    base = host_environ(type(rule)(rule.passed, rule.blocked))
    plan = {
        "python": str(cmd[0]),
        "driver": DRIVER,
        "backend": backend,
        "pass": list(rule.passed),
        "block": list(rule.blocked),
        "env_set": {k: v for k, v in env.items() if base.get(k) != v},
        "work": str(work) if work else None,
        "modules": [m for m in modules if isinstance(m, str)],
        "paths": [p for p in paths if isinstance(p, str)],
    }
    # Written as hwb exits, once the build's environment is removed or kept: a throwaway
    # environment's interpreter is gone by then, and its plan would only displace a lasting one.
    atexit.register(_write, plan_file, plan)


def _write(plan_file: Path, plan: dict[str, Any]) -> None:
    if not os.path.isfile(plan["python"]):
        return
    try:
        plan_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.stat(plan_file.parent).st_uid == getattr(os, "geteuid", lambda: -1)():
            os.chmod(plan_file.parent, 0o700)  # made open to others by a umask of 002, say
        if not _ours(os.stat(plan_file.parent)):
            return  # another user's: never ours to fill
        partial = plan_file.with_name(f".{plan_file.name}.{os.getpid()}")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        with open(os.open(partial, flags, 0o600), "w") as out:
            json.dump(plan, out)
        os.replace(partial, plan_file)
        _prune(plan_file.parent)
    except OSError:
        pass  # a cache that cannot be written only costs the next run its head start


def _prune(where: Path) -> None:
    """Remove plans no command line has used for :data:`KEEP_DAYS` days."""
    import time

    oldest = time.time() - KEEP_DAYS * 86400
    for entry in os.scandir(where):
        try:
            if entry.stat().st_mtime < oldest:
                os.unlink(entry.path)
        except OSError:
            pass


def discard() -> None:
    """Stop a waiting process nobody adopted (at exit, and when the build cannot use it)."""
    with _lock:
        proc, _state["proc"] = _state["proc"], None
        work, _state["work"] = _state["work"], None
    if proc is not None:
        _finish(proc)
    if work is not None:  # made for a build that never came
        try:
            os.rmdir(work)
        except OSError:
            pass


def _finish(proc: subprocess.Popen[str]) -> None:
    """Stop a waiting process at once (it has only imported modules: nothing of it is lost),
    rather than let it finish importing on a processor the build could use."""
    try:
        proc.kill()
    except OSError:
        pass
    proc.wait()
    for stream in (proc.stdin, proc.stdout):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass
