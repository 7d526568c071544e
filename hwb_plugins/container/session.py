"""One container build from start to end: connect to the engine, get the image, create and
start the hardened container, find and probe its interpreter, copy the source in, prepare the
build environment, and afterwards remove all of it (on success, failure and Ctrl-C). In
``hwb matrix`` the container could be the run's, kept between jobs (:mod:`.shared`, off since
security issue 25): then only the build's own directories and processes would be removed, and
:func:`prepare` all that runs."""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from hwb import BuildError, EnvRequest, RunResult
from hwb_plugins.container import images, vcs
from hwb_plugins.container.buildenv import ContainerBuildEnv, prepare_venv
from hwb_plugins.container.engine import Engine
from hwb_plugins.container.execution import exec_in
from hwb_plugins.container.images import Image
from hwb_plugins.container.interpreter import ImageFacts, choose_interpreter, image_path, probe
from hwb_plugins.container.layers import ENVS, Layers, envs_root
from hwb_plugins.container.layout import SCRATCH, SRC_MOUNT, UV, WORK, rmtree
from hwb_plugins.container.lifecycle import (
    create_container,
    remove_container,
    start_container,
    sweep_orphans,
)
from hwb_plugins.container.settings import ContainerSettings, load
from hwb_plugins.container.wheelhouse import Wheelhouse, wheelhouse_root

# Copies the read-only source into the scratch directory: modes and times, never owners.
_COPY = "import shutil, sys; shutil.copytree(sys.argv[1], sys.argv[2], symlinks=True)"


@contextlib.contextmanager
def container_env(engine: Engine, request: EnvRequest) -> Iterator[ContainerBuildEnv]:
    """The build's environment: in a container of its own, removed afterwards; or, in a session
    that keeps containers (``hwb matrix``), in the session's container for this image, in
    directories of its own (:mod:`.shared`)."""
    settings = load(request.config, request.project.root, engine)
    if request.scope is not None:
        from hwb_plugins.container import shared

        if shared.applies(request, settings):
            with shared.build_env(engine, request, settings) as env:
                yield env
            return
    with own_container(engine, request, settings) as env:
        yield env


@contextlib.contextmanager
def own_container(
    engine: Engine, request: EnvRequest, settings: ContainerSettings
) -> Iterator[ContainerBuildEnv]:
    """Create the container, prepare it, yield the environment; remove it all afterwards."""
    reporter = request.reporter
    project = request.project
    cli = engine.name
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(connect(engine, settings.hosts, reporter))
        sweep_orphans(client, reporter, cli)
        image = images.resolve(client, settings, project.name, reporter)

        scratch = Path(tempfile.mkdtemp(prefix=f"hwb-{cli}-"))
        keep = settings.keep_container
        if not keep:
            stack.callback(rmtree, scratch)
        for name in ("hooks", "home"):
            (scratch / name).mkdir()
        mounts = host_mounts(settings)

        container_id = create_container(
            client,
            settings,
            image,
            project.name,
            project.root,
            scratch,
            request.work_dir,
            mounts.wheelhouse,
            mounts.uv,
            extra_volumes=mounts.extra_volumes,
        )
        if keep:
            short = container_id[:12]
            stack.callback(
                reporter.info,
                f"kept build container {short} (full id {container_id}): enter it with "
                f"`{cli} exec -it {short} sh` (after `{cli} start {short}` if it stopped); remove it "
                f"with `{cli} rm -f {short}` and its scratch files with `rm -rf {scratch}`",
            )
        else:
            stack.callback(remove_container, client, container_id, reporter, cli)
        start_container(client, container_id, settings)
        if request.scope is not None:  # hwb matrix: Ctrl-C reaches no command in a container
            stack.callback(request.scope.on_stop(lambda: client.api.kill(container_id)))
        place = Place(
            scratch=scratch, scratch_inside=SCRATCH, source_view=SRC_MOUNT, work_inside=WORK
        )
        yield prepare(client, container_id, image, settings, mounts, request, place)


@dataclasses.dataclass(frozen=True)
class HostMounts:
    """What of the host a container sees beside the build's own directories."""

    wheelhouse: Path | None
    """The host's wheelhouse (offline builds)."""
    uv: Path | None
    """hwb's uv, where it applies."""
    layers: Path | None
    """The prepared environments (``cache-envs``)."""

    @property
    def extra_volumes(self) -> dict[str, dict[str, str]] | None:
        return {str(self.layers): {"bind": ENVS, "mode": "ro"}} if self.layers else None


def host_mounts(settings: ContainerSettings) -> HostMounts:
    """The host directories the settings call for, made where missing."""
    wheelhouse_dir = None
    if not settings.network:
        wheelhouse_dir = wheelhouse_root()
        try:
            wheelhouse_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BuildError(
                f"cannot keep the wheelhouse in {wheelhouse_dir} ({exc.strerror or exc})",
                hint="set HWB_CACHE_DIR to a writable directory",
            ) from None
    uv = uv_binary(settings)
    layers_root = None
    if uv is not None and wheelhouse_dir is not None and settings.cache_envs:
        layers_root = envs_root()
        layers_root.mkdir(parents=True, exist_ok=True)
    return HostMounts(wheelhouse_dir, uv, layers_root)


@dataclasses.dataclass(frozen=True)
class Place:
    """Where one build's files are: its scratch directory on the host and in the container,
    where the container sees the project (read-only) and the build's work directory."""

    scratch: Path
    scratch_inside: str
    source_view: str
    work_inside: str
    environment: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Variables for every command of the build beyond the container's own."""
    stop: Callable[[], None] | None = None
    """Stops the build's processes at its time limit, where the container must live on (a kept
    one); ``None``: the container itself is stopped."""

    @property
    def home(self) -> str:
        return f"{self.scratch_inside}/home"

    @property
    def build_src(self) -> str:
        return f"{self.scratch_inside}/src"


def prepare(
    client: Any,
    container_id: str,
    image: Image,
    settings: ContainerSettings,
    mounts: HostMounts,
    request: EnvRequest,
    place: Place,
) -> ContainerBuildEnv:
    """Make the build's environment in a started container: its interpreter found and
    probed, the source copied (a build), the virtual environment made."""
    reporter = request.reporter
    project = request.project
    path = image_path(client, image)
    probe_env = {"PATH": path, "HOME": place.home, **place.environment}

    def run(argv: list[str], what: str, check: bool = True) -> RunResult:
        return exec_in(
            client,
            container_id,
            argv,
            reporter=reporter,
            cwd=place.scratch_inside,
            environment=probe_env,
            check=check,
            what=what,
            settings=settings,
            stop=place.stop,
        )

    facts = ImageFacts(image)
    base_python = choose_interpreter(run, request.python, image, facts)
    container_python, target, image_pip = probe(
        run, base_python, image, settings.arch, place.scratch, facts, place.scratch_inside
    )
    wheelhouse = (
        Wheelhouse(
            mounts.wheelhouse,
            target,
            request.python,
            reporter,
            settings.engine.table,
            max_age_days=settings.cache_max_age,
            refresh=settings.refresh,
            allowed=settings.allowed_direct,
        )
        if mounts.wheelhouse
        else None
    )
    uv = mounts.uv
    if uv is not None and not _uv_runs(run, uv, facts):
        reporter.debug("hwb's uv does not run in this image: pip installs instead")
        uv = None

    env = ContainerBuildEnv(
        python=container_python,
        source_dir=project.root,
        reporter=reporter,
        client=client,
        container_id=container_id,
        image=image,
        settings=settings,
        scratch=place.scratch,
        work_dir=request.work_dir,
        wheelhouse=wheelhouse,
        image_path=path,
        # A test environment builds nothing: the project is seen read-only, never copied.
        source_inside=place.build_src if request.purpose == "build" else place.source_view,
        scratch_inside=place.scratch_inside,
        work_inside=place.work_inside,
    )
    env.job_environment = dict(place.environment)
    env.stop = place.stop
    env.base_python = base_python
    env.uv = UV if uv is not None else None
    if (
        uv is not None
        and mounts.layers is not None
        and wheelhouse is not None
        and not request.fresh
    ):
        env.layers = Layers(client, settings, image, base_python, wheelhouse, uv, reporter)

    if request.purpose == "build":
        reporter.step(f"copying the source into the container ({SRC_MOUNT} is read-only)")
        run([base_python, "-c", _COPY, place.source_view, place.build_src], "copying the source")
        if vcs.is_checkout(project.root):
            _describe_checkout(run, base_python, project.root, place.build_src, reporter)
    prepare_venv(env, run, image_pip)
    return env


@contextlib.contextmanager
def connect(engine: Engine, hosts: tuple[str, ...], reporter: Any) -> Iterator[Any]:
    """A client of the first of ``hosts`` that answers (each that does not is reported), or
    of the environment's engine when none is configured."""
    from hwb_plugins.container.errors import EngineUnavailable

    if not hosts or engine.connect_to is None:
        with engine.connect(reporter) as client:
            yield client
        return
    problems = []
    for host in hosts:
        try:
            manager = engine.connect_to(reporter, host)
            client = manager.__enter__()
        except EngineUnavailable as exc:
            problems.append(exc.message)
            reporter.warn(f"{engine.display} engine {host}: {exc.message}; trying the next")
            continue
        reporter.step(f"building on the {engine.display} engine at {host}")
        try:
            yield client
        finally:
            manager.__exit__(None, None, None)
        return
    raise EngineUnavailable(
        f"no {engine.display} engine answered: " + "; ".join(problems),
        hint=f"check the engines in {engine.table} host/hosts (or --{engine.name}-host)",
    )


def _describe_checkout(run: Any, python: str, root: Path, build_src: str, reporter: Any) -> None:
    """Where the image has no git, leave a ``.git_archival.txt`` in the container's copy so
    that versions from git tags come out as on the host (see ``vcs``)."""
    if run([python, "-c", vcs.HAS_GIT], "looking for git", check=False).returncode == 0:
        return
    text = vcs.archival(root)
    if text is None:
        reporter.warn(
            "the image has no git and the host's git cannot describe this checkout: a version "
            "derived from git tags (setuptools-scm, hatch-vcs) will not be found in the container"
        )
        return
    run(
        [python, "-c", vcs.WRITE, f"{build_src}/.git_archival.txt", text], "describing the checkout"
    )
    reporter.debug("the image has no git: the checkout's HEAD is described in .git_archival.txt")


def uv_binary(settings: Any) -> Path | None:
    """hwb's own uv, to mount into an offline container of this machine's architecture (an
    x86_64 uv cannot run in an emulated aarch64 image); ``None`` where it does not apply."""
    from hwb_plugins.container.settings import host_arch

    if not settings.use_uv or settings.network or settings.arch != host_arch():
        return None
    try:
        import uv

        found = Path(uv.find_uv_bin())
    except (ImportError, FileNotFoundError):
        import shutil

        which = shutil.which("uv")
        found = Path(which) if which else None  # type: ignore[assignment]
    return found.resolve() if found is not None and found.is_file() else None


def _uv_runs(run: Any, uv: Path, facts: ImageFacts) -> bool:
    """Whether hwb's uv runs in the image (asked once per image and uv binary)."""
    stat = uv.stat()
    key = f"{uv}:{stat.st_size}:{int(stat.st_mtime)}"
    known = facts.get("uv", key)
    if known is None:
        known = run([UV, "--version"], "trying uv", check=False).returncode == 0
        facts.put("uv", known, key)
    return bool(known)
