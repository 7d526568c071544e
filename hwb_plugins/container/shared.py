"""Build containers kept for a session of builds (``hwb matrix``, through ``EnvRequest.scope``).

**Off** (:data:`SHARING` is false, so :func:`applies` says no to every build): every matrix
job builds in a container of its own and tries its wheel in another, as ``hwb build`` does.
Security issue 25 showed why: jobs in one kept container run there as one user, so one job's
build could reach the others. A process that left its session and dropped ``HWB_BUILD_ID``
outlived its job and wrote into the next job's source copy (and so its wheel); it could plant a
``.pth`` in another job's test environment, making a broken extension pass its import check;
and every job could write into the others' directories and, run as the owner of the image's
files, into ``/opt/python/*/site-packages``. ``tests/test_attack_shared.py`` runs these attacks.

What would let sharing come back: each job running in the kept container as a user of its own,
its directories owned by that user (mode 0700), its processes ended by ``kill -9 -1`` run as
that user (which no new session escapes), and its test environment made by yet another user
once the build's processes are gone. Handing directories to other users takes ``CAP_CHOWN`` on
the host side: hwb has it only when it runs as root with a rootful engine (a privileged
``exec`` is refused in a container whose capabilities were all dropped), so other setups would
still get containers of their own.

What the code below does when sharing is on: builds whose containers would be identical (the
same engine and hosts, image, hardening, limits, environment and mounts) share one, each in
directories of its own, as cibuildwheel builds every Python of a platform in one container.
The container is created for the first build that needs it, kept running between builds, and
removed when the session ends (success, failure, Ctrl-C; after a kill, the orphan sweep of the
next hwb finds it by its ``hwb.pid`` label as any other).

A kept container mounts the session's directory of work directories (``Scope.root``) twice::

    /hwb/src       read-only: a build's private copy of the project is /hwb/src/<work dir>/src
    /hwb/work      writable: a build's work directory (its wheel, its repaired wheel)
    /hwb/scratch   the container's scratch directory; each build has its own job-N/ in it
                   (src, env, hooks, home, tmp: HOME and TMPDIR point there), removed after it

beside the wheelhouse, hwb's uv and the prepared environments, read-only as for one build.
Every command of a build carries ``HWB_BUILD_ID``: at the build's time limit, or when it ends by
an error or Ctrl-C, the processes that carry its id are killed, and the container lives on for
the other builds. A container found stopped is removed and replaced by the next build.

The fresh environment a wheel is tried in is a build's too: a new virtual environment (without
the interpreter's site-packages) in a new directory of the kept container.

Not shared even then (a container of their own, as ``hwb build``): ``keep-container``,
``memory`` and ``cpus`` (limits meant per build), ``--check-reproducible``'s fresh builds and
``--in-place`` builds (the project is not in the session's directory).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hwb import EnvRequest, Reporter, Scope
from hwb_plugins.container import images
from hwb_plugins.container.buildenv import ContainerBuildEnv
from hwb_plugins.container.engine import Engine, security_options
from hwb_plugins.container.images import Image
from hwb_plugins.container.layout import SCRATCH, SRC_MOUNT, WORK, rmtree
from hwb_plugins.container.lifecycle import (
    container_spec,
    container_user,
    create_container,
    remove_container,
    start_container,
    sweep_orphans,
)
from hwb_plugins.container.session import (
    HostMounts,
    Place,
    connect,
    host_mounts,
    prepare,
)
from hwb_plugins.container.settings import ContainerSettings

#: The variable by which a build's processes in a kept container are found.
BUILD_ID = "HWB_BUILD_ID"

# Kills every process of the container whose environment holds HWB_BUILD_ID=$1 (the shell
# itself, and the tr and grep it runs, do not).
_KILL = (
    'for d in /proc/[0-9]*; do p="${d#/proc/}"; [ "$p" = "$$" ] && continue; '
    "tr '\\000' '\\n' < \"$d/environ\" 2>/dev/null | grep -qx \"" + BUILD_ID + '=$1" '
    '&& kill -9 "$p" 2>/dev/null; done; true'
)


#: Whether builds share kept containers at all. Off (security issue 25): jobs in one container
#: run as one user, so one job's build could reach another's directories, its test environment
#: and the image's site-packages, and a process that leaves its session outlived its job. Until
#: each job runs as a user of its own there, every build and every test environment of a matrix
#: gets a container of its own, as ``hwb build`` does.
SHARING = False


def applies(request: EnvRequest, settings: ContainerSettings) -> bool:
    """Whether this build may use a kept container (see the module's docstring and
    :data:`SHARING`)."""
    if not SHARING:
        return False
    scope = request.scope
    if scope is None or request.fresh or settings.keep_container:
        return False
    if settings.memory is not None or settings.cpus is not None:
        return False
    return _within(request.work_dir, scope.root) and _within(request.project.root, scope.root)


def _within(path: Path, root: Path) -> bool:
    path, root = Path(os.path.abspath(path)), Path(os.path.abspath(root))
    return path == root or root in path.parents


@dataclasses.dataclass
class Kept:
    """A started container kept for the session."""

    client: Any
    container_id: str
    scratch: Path
    """The host directory mounted at ``/hwb/scratch``: one ``job-N`` directory per build."""
    jobs: Iterator[int] = dataclasses.field(default_factory=lambda: itertools.count(1))

    def running(self) -> bool:
        try:
            state = self.client.api.inspect_container(self.container_id).get("State") or {}
        except Exception:  # gone, or the engine does not answer: start another
            return False
        return bool(state.get("Running"))

    def kill(self, build_id: str) -> None:
        """Kill the processes of one build (best effort: a dead container has none)."""
        try:
            exec_id = self.client.api.exec_create(
                self.container_id, ["/bin/sh", "-c", _KILL, "sh", build_id]
            )["Id"]
            self.client.api.exec_start(exec_id)
        except Exception:
            pass


@contextlib.contextmanager
def build_env(
    engine: Engine, request: EnvRequest, settings: ContainerSettings
) -> Iterator[ContainerBuildEnv]:
    """The build's environment in the session's container for its image (made if needed), in
    a new directory of its own that is removed afterwards."""
    scope = request.scope
    assert scope is not None
    reporter = request.reporter
    steady = _Steady(reporter)  # the kept things outlive this build: its reporter may stop
    client = scope.keep(
        ("engine", engine.name, settings.hosts),
        functools.partial(_client, engine, settings.hosts, steady),
    )
    security = security_options(client)
    project = request.project
    image = images.resolve(client, settings, project.name, reporter)
    mounts = host_mounts(settings)
    spec = container_spec(
        settings,
        image,
        project.name,
        scope.root,
        Path(SCRATCH),  # each container has its own: not part of what makes two alike
        scope.root,
        mounts.wheelhouse,
        container_user(security),
        selinux="selinux" in security,
        uv=mounts.uv,
        extra_volumes=mounts.extra_volumes,
        shared=True,
    )
    for unique in ("name", "labels"):
        spec.pop(unique)
    key = ("container", engine.name, settings.hosts, json.dumps(spec, sort_keys=True, default=repr))
    make = functools.partial(_container, client, settings, image, project.name, scope, mounts)
    kept = scope.keep(key, make)
    if not kept.running():
        reporter.warn(
            f"the session's build container {kept.container_id[:12]} stopped: starting another"
        )
        scope.drop(key, kept)
        kept = scope.keep(key, make)
    number = next(kept.jobs)
    build_id = f"{os.getpid()}-{number}"
    host = kept.scratch / f"job-{number}"
    inside = f"{SCRATCH}/job-{number}"
    place = Place(
        scratch=host,
        scratch_inside=inside,
        source_view=f"{SRC_MOUNT}/{_relative(project.root, scope.root)}",
        work_inside=f"{WORK}/{_relative(request.work_dir, scope.root)}",
        environment={"HOME": f"{inside}/home", "TMPDIR": f"{inside}/tmp", BUILD_ID: build_id},
        stop=functools.partial(kept.kill, build_id),
    )
    try:
        for name in ("hooks", "home", "tmp"):
            (host / name).mkdir(parents=True)
        reporter.debug(
            f"building in the session's container {kept.container_id[:12]} ({image.ref}), "
            f"in {inside}"
        )
        yield prepare(client, kept.container_id, image, settings, mounts, request, place)
    finally:
        # Nothing the build started outlives it: what an error or Ctrl-C left running, a
        # daemon a tool started (a single build's container takes them with it).
        kept.kill(build_id)
        rmtree(host)


def _relative(path: Path, root: Path) -> str:
    return Path(os.path.abspath(path)).relative_to(os.path.abspath(root)).as_posix()


@contextlib.contextmanager
def _client(engine: Engine, hosts: tuple[str, ...], reporter: Reporter) -> Iterator[Any]:
    """A client of the engine for the session (and whatever provides it: a podman service)."""
    with connect(engine, hosts, reporter) as client:
        sweep_orphans(client, reporter, engine.name)
        yield client


@contextlib.contextmanager
def _container(
    client: Any,
    settings: ContainerSettings,
    image: Image,
    project_name: str,
    scope: Scope,
    mounts: HostMounts,
) -> Iterator[Kept]:
    """Create and start a container for the session's builds; remove it at the end. When the
    session is stopped (Ctrl-C, ``--fail-fast``) the container is killed at once: every build's
    command in it ends, which no signal to hwb's children would do."""
    cli = settings.engine.name
    reporter = _Quiet()
    scratch = Path(tempfile.mkdtemp(prefix=f"hwb-{cli}-"))
    try:
        container_id = create_container(
            client,
            settings,
            image,
            project_name,
            scope.root,
            scratch,
            scope.root,
            mounts.wheelhouse,
            mounts.uv,
            extra_volumes=mounts.extra_volumes,
            shared=True,
        )
        forget = scope.on_stop(lambda: client.api.kill(container_id))
        try:
            start_container(client, container_id, settings)
            yield Kept(client, container_id, scratch)
        finally:
            forget()
            remove_container(client, container_id, reporter, cli)
    finally:
        rmtree(scratch)


class _Steady:
    """A reporter that never raises: a job's reporter stops the job at its next message once
    the run is stopping, which must not stop what the session keeps for the other jobs."""

    def __init__(self, reporter: Reporter) -> None:
        self._reporter = reporter
        self.verbosity = reporter.verbosity

    def _call(self, method: str, text: str) -> None:
        try:
            getattr(self._reporter, method)(text)
        except (Exception, KeyboardInterrupt):
            pass

    def step(self, message: str) -> None:
        self._call("step", message)

    def info(self, message: str) -> None:
        self._call("info", message)

    def warn(self, message: str) -> None:
        self._call("warn", message)

    def debug(self, message: str) -> None:
        self._call("debug", message)

    def output(self, line: str) -> None:
        self._call("output", line)


class _Quiet:
    """The reporter of a container's removal at the session's end, when no build's reporter
    is left: only a warning (a container that could not be removed) is told, on stderr."""

    verbosity = 0

    def step(self, message: str) -> None:
        pass

    info = debug = output = step

    def warn(self, message: str) -> None:
        print(f"warning: {message}", file=sys.stderr)
