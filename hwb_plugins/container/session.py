"""One container build from start to end: connect to the engine, get the image, create and
start the hardened container, find and probe its interpreter, copy the source in, prepare the
build environment, and afterwards remove all of it (on success, failure and Ctrl-C)."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hwb_core.errors import BuildError
from hwb_core.interfaces import EnvRequest, RunResult
from hwb_plugins.container import images, vcs
from hwb_plugins.container.buildenv import ContainerBuildEnv, prepare_venv
from hwb_plugins.container.engine import Engine
from hwb_plugins.container.execution import exec_in
from hwb_plugins.container.interpreter import ImageFacts, choose_interpreter, image_path, probe
from hwb_plugins.container.layers import ENVS, Layers, envs_root
from hwb_plugins.container.layout import BUILD_SRC, HOME, SCRATCH, SRC_MOUNT, UV, rmtree
from hwb_plugins.container.lifecycle import (
    create_container,
    remove_container,
    start_container,
    sweep_orphans,
)
from hwb_plugins.container.settings import load
from hwb_plugins.container.wheelhouse import Wheelhouse, wheelhouse_root

# Copies the read-only source into the scratch directory: modes and times, never owners.
_COPY = "import shutil, sys; shutil.copytree(sys.argv[1], sys.argv[2], symlinks=True)"


@contextlib.contextmanager
def container_env(engine: Engine, request: EnvRequest) -> Iterator[ContainerBuildEnv]:
    """Create the container, prepare it, yield the environment; remove it all afterwards."""
    reporter = request.reporter
    project = request.project
    settings = load(request.config, project.root, engine)
    cli = engine.name
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(_connect(engine, settings.hosts, reporter))
        sweep_orphans(client, reporter, cli)
        image = images.resolve(client, settings, project.name, reporter)

        scratch = Path(tempfile.mkdtemp(prefix=f"hwb-{cli}-"))
        keep = settings.keep_container
        if not keep:
            stack.callback(rmtree, scratch)
        for name in ("hooks", "home"):
            (scratch / name).mkdir()
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

        container_id = create_container(
            client,
            settings,
            image,
            project.name,
            project.root,
            scratch,
            request.work_dir,
            wheelhouse_dir,
            uv,
            extra_volumes={str(layers_root): {"bind": ENVS, "mode": "ro"}} if layers_root else None,
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

        path = image_path(client, image)
        probe_env = {"PATH": path, "HOME": HOME}

        def run(argv: list[str], what: str, check: bool = True) -> RunResult:
            return exec_in(
                client,
                container_id,
                argv,
                reporter=reporter,
                cwd=SCRATCH,
                environment=probe_env,
                check=check,
                what=what,
                settings=settings,
            )

        facts = ImageFacts(image)
        base_python = choose_interpreter(run, request.python, image, facts)
        container_python, target, image_pip = probe(
            run, base_python, image, settings.arch, scratch, facts
        )
        wheelhouse = (
            Wheelhouse(
                wheelhouse_dir,
                target,
                request.python,
                reporter,
                engine.table,
                max_age_days=settings.cache_max_age,
                refresh=settings.refresh,
            )
            if wheelhouse_dir
            else None
        )
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
            scratch=scratch,
            work_dir=request.work_dir,
            wheelhouse=wheelhouse,
            image_path=path,
            # A test environment builds nothing: the project is seen read-only, never copied.
            source_inside=BUILD_SRC if request.purpose == "build" else SRC_MOUNT,
        )
        env.base_python = base_python
        env.uv = UV if uv is not None else None
        if (
            uv is not None
            and layers_root is not None
            and wheelhouse is not None
            and not request.fresh
        ):
            env.layers = Layers(client, settings, image, base_python, wheelhouse, uv, reporter)

        if request.purpose == "build":
            reporter.step(f"copying the source into the container ({SRC_MOUNT} is read-only)")
            run([base_python, "-c", _COPY, SRC_MOUNT, BUILD_SRC], "copying the source")
            if vcs.is_checkout(project.root):
                _describe_checkout(run, base_python, project.root, reporter)
        prepare_venv(env, run, image_pip)
        yield env


@contextlib.contextmanager
def _connect(engine: Engine, hosts: tuple[str, ...], reporter: Any) -> Iterator[Any]:
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


def _describe_checkout(run: Any, python: str, root: Path, reporter: Any) -> None:
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
        [python, "-c", vcs.WRITE, f"{BUILD_SRC}/.git_archival.txt", text], "describing the checkout"
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
