"""The :class:`BuildEnv` of a container build: ``install``, ``run`` and the host-to-container
path translation, every command an ``exec`` in the build's container.

Paths: ``cmd`` strings are container paths; :class:`pathlib.Path` arguments (and ``cwd``) are
host paths and are translated with :meth:`ContainerBuildEnv.env_path`. The project root
translates to the writable copy the backend builds in.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from hwb import BuildEnv, BuildError, PythonInfo, Reporter, RunResult
from hwb.constraints import BuildConstraints, InstallFiles, install_error
from hwb_plugins.container.execution import exec_in
from hwb_plugins.container.images import Image
from hwb_plugins.container.interpreter import Runner
from hwb_plugins.container.layout import BUILD_SRC, SCRATCH, WHEELHOUSE, WORK
from hwb_plugins.container.settings import ContainerSettings
from hwb_plugins.container.wheelhouse import Wheelhouse, network_hint

if TYPE_CHECKING:
    import docker

    from hwb_plugins.container.layers import Layers


class ContainerBuildEnv(BuildEnv):
    """Commands run through ``exec`` in the build's container."""

    on_host = False

    def __init__(
        self,
        *,
        python: PythonInfo,
        source_dir: Path,
        reporter: Reporter,
        client: docker.DockerClient,
        container_id: str,
        image: Image,
        settings: ContainerSettings,
        scratch: Path,
        work_dir: Path,
        wheelhouse: Wheelhouse | None,
        image_path: str,
        source_inside: str = BUILD_SRC,
        scratch_inside: str = SCRATCH,
        work_inside: str = WORK,
    ) -> None:
        super().__init__(python=python, source_dir=source_dir, reporter=reporter)
        self.isolation = settings.engine.name
        self.client = client
        self.container_id = container_id
        self.image = image
        self.settings = settings
        self.scratch = scratch
        """The host directory of this build's scratch files (its container path: ``scratch_inside``)."""
        self.scratch_inside = scratch_inside
        self.build_src = f"{scratch_inside}/src"
        """The writable copy of the source that the backend builds in."""
        self.job_environment: dict[str, str] = {}
        """Variables every command of this build gets beyond the container's own (a build in a
        kept container: its own ``HOME`` and ``TMPDIR``, and the tag its processes are found by)."""
        self.stop: Callable[[], None] | None = None
        """Stops this build's processes at its time limit, where stopping the container would
        stop other builds' too (a kept container); ``None``: the container is stopped."""
        self.wheelhouse = wheelhouse
        self.base_python = ""
        self.pip_cmd: list[str] = []
        self.uv: str | None = None
        """hwb's uv inside the container, when it runs there (else pip installs)."""
        self.layers: Layers | None = None
        """Prepared environments (``cache-envs``), when uv runs and the build is offline."""
        self._layer_bins: list[str] = []
        self.venv = f"{scratch_inside}/env"
        self._image_path = image_path
        self.source_inside = source_inside
        """Where the project is: the writable copy (a build), or the read-only mount (a test)."""
        # Longest host prefix first, so a nested directory wins over its parent.
        self._paths: list[tuple[Path, str]] = sorted(
            [(source_dir, source_inside), (scratch, scratch_inside), (work_dir, work_inside)]
            + ([(wheelhouse.root, WHEELHOUSE)] if wheelhouse else []),
            key=lambda item: len(str(item[0])),
            reverse=True,
        )
        self._hook_calls = itertools.count(1)

    @property
    def default_cwd(self) -> str:
        """Where commands run unless told: the build's copy of the source, or the scratch
        directory of a test environment (which has no copy)."""
        return self.build_src if self.source_inside == self.build_src else self.scratch_inside

    # ----------------------------------------------------------------- BuildEnv

    @property
    def python_executable(self) -> str:
        return f"{self.venv}/bin/python"

    def env_path(self, host_path: Path) -> str:
        """Where ``host_path`` is inside the container; an error when it is not mounted there."""
        absolute = Path(os.path.abspath(host_path))
        for host, inside in self._paths:
            if absolute == host or host in absolute.parents:
                rel = absolute.relative_to(host)
                return str(PurePosixPath(inside, *rel.parts))
        raise BuildError(
            f"{host_path} is not visible inside the build container",
            hint="only the project, the wheelhouse and hwb's work directory are mounted",
        )

    def install(self, requirements: Sequence[str]) -> None:
        if not requirements:
            return
        reqs = list(requirements)
        installer = "pip"
        files = self._constraint_files(reqs)
        if self.layers is not None and self.wheelhouse is not None:
            set_key = self.wheelhouse.fetch(reqs, files)
            self._add_layer(self.layers.get(reqs, files, set_key), reqs)
            return
        # The installer's arguments: the requirements, or the constraints files (a container
        # path: the scratch directory is mounted) with them.
        wanted = files.args(self.env_path) if files is not None else reqs
        if self.wheelhouse is not None:
            set_key = self.wheelhouse.fetch(reqs, files)
            if files is None:
                wanted = self.wheelhouse.installable(reqs, set_key)
            inside = self.wheelhouse.container_path(WHEELHOUSE, set_key)
            links = ["--no-index", "--find-links", inside]
            if self.uv is not None:
                installer = "uv"
                argv = [self.uv, "pip", "install", "--python", self.python_executable, *_UV_FLAGS]
                argv += [*links, *wanted]
            else:
                argv = [*self.pip_cmd, "install", "--no-compile", *links, *wanted]
            hint = f"the output above (or -v) shows {installer}'s error; or " + network_hint(
                self.settings.engine.table
            )
        else:
            argv = [*self.pip_cmd, "install", "--no-compile", *wanted]
            hint = "check the names and versions (-v shows pip's output) and that the container can reach your index"
        self.reporter.step("installing in the container: " + ", ".join(reqs))
        try:
            self.exec(argv, what=f"{installer} install")
        except BuildError as exc:
            raise install_error(
                self.build_constraints,
                exc.details or "",
                BuildError(
                    "could not install in the build container: " + ", ".join(reqs),
                    hint=hint,
                    details=exc.details,
                ),
            ) from None

    def _constraint_files(self, reqs: Sequence[str]) -> InstallFiles | None:
        """The build constraints' files for installing ``reqs``, in the scratch directory
        (mounted): ``None`` when the build has none."""
        constraints: BuildConstraints | None = self.build_constraints
        if constraints is None:
            return None
        directory = self.scratch / f"constraints-{next(self._hook_calls)}"
        return constraints.install_files(reqs, self.python.marker_env, directory)

    def install_wheel(
        self, wheel: Path, *, extras: Sequence[str] = (), requirements: Sequence[str] = ()
    ) -> None:
        """The wheel from hwb's work directory (mounted), its dependencies and ``requirements``
        from the host's wheelhouse when the container is offline."""
        from hwb_plugins.container.wheeldeps import dependencies

        name = wheel.name.split("-", 1)[0]
        spec = f"{name}[{','.join(extras)}]" if extras else name
        spec += f" @ file://{self.env_path(wheel)}"
        reqs = list(requirements)
        if self.wheelhouse is not None:
            # The wheel's Requires-Dist is the build's word too: the same rules as the build
            # requirements (only requirements from an index are fetched).
            wanted = [*dependencies(wheel, extras, self.python.marker_env), *reqs]
            links = ["--no-index"]
            if wanted:
                set_key = self.wheelhouse.fetch(wanted)
                reqs = self.wheelhouse.installable(reqs, set_key)
                links += ["--find-links", self.wheelhouse.container_path(WHEELHOUSE, set_key)]
        else:
            links = []
        if self.uv is not None:
            argv = [self.uv, "pip", "install", "--python", self.python_executable, *_UV_FLAGS]
        else:
            argv = [*self.pip_cmd, "install", "--no-compile"]
        self.reporter.step("installing in the container: " + ", ".join([wheel.name, *reqs]))
        try:
            self.exec([*argv, *links, spec, *reqs], what="installing the wheel")
        except BuildError as exc:
            raise BuildError(
                f"could not install {wheel.name} in the container",
                hint="the output above (or -v) shows the installer's error",
                details=exc.details,
            ) from None

    def _add_layer(self, layer: dict[str, Any], reqs: Sequence[str]) -> None:
        """Put a prepared environment on the build environment's ``sys.path`` (a ``.pth`` file:
        the layer's own ``.pth`` files are read too) and its ``bin`` on ``PATH``."""
        from hwb_plugins.container.layers import ENVS

        inside = f"{ENVS}/{layer['key']}"
        purelib = str(layer["purelib"])
        own = self.venv + purelib[len(inside) :]  # the same layout in the build's environment
        line = f"import site; site.addsitedir({purelib!r})\n"
        self.reporter.step(
            f"installing in the container: {', '.join(reqs)} (prepared environment {layer['key']})"
        )
        pth = f"{own}/hwb-{layer['key']}.pth"
        try:  # the scratch directory is the host's: no exec needed (0.05 s each)
            (self.scratch / pth[len(self.scratch_inside) + 1 :]).write_text(line)
        except OSError:  # a user namespace may own it differently: the container writes it
            write = "import sys; open(sys.argv[1], 'w').write(sys.argv[2])"
            self.exec(
                [self.python_executable, "-c", write, pth, line], what="adding the environment"
            )
        self._layer_bins.append(str(layer["bin"]))

    def run(
        self,
        cmd: Sequence[str],
        *,
        cwd: Path | None = None,
        extra_env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> RunResult:
        argv = [self.env_path(c) if isinstance(c, Path) else str(c) for c in cmd]
        return self.exec(argv, cwd=self.container_cwd(cwd), extra_env=extra_env, check=check)

    def describe(self) -> str:
        return f"{self.isolation} {self.image.ref} ({self.python.describe()})"

    def identity(self) -> dict[str, Any]:
        """The image: its reference, its id and the registry digests it is known by (none
        for an image built here)."""
        digests: list[str] = []
        try:
            digests = list(self.client.images.get(self.image.id).attrs.get("RepoDigests") or [])
        except Exception:  # the engine is asked only for the record
            pass
        return {"image": self.image.ref, "image_id": self.image.id, "image_digests": digests}

    # ----------------------------------------------------------------- exec

    def container_cwd(self, cwd: Path | str | None) -> str:
        if cwd is None:
            return self.default_cwd
        path = Path(cwd)
        try:
            return self.env_path(path)
        except BuildError:
            return str(PurePosixPath(str(cwd)))  # already a path inside the container

    def exec_environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        path = ":".join([f"{self.venv}/bin", *reversed(self._layer_bins), self._image_path])
        env = {"PATH": path, "VIRTUAL_ENV": self.venv, **self.job_environment}
        if extra:
            env.update(extra)
        return env

    def exec(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None = None,
        extra_env: Mapping[str, str] | None = None,
        check: bool = True,
        what: str | None = None,
    ) -> RunResult:
        return exec_in(
            self.client,
            self.container_id,
            argv,
            reporter=self.reporter,
            cwd=cwd or self.default_cwd,
            environment=self.exec_environment(extra_env),
            check=check,
            what=what,
            settings=self.settings,
            stop=self.stop,
        )


# uv in the container: nothing from the project's or the image's uv configuration, no cache
# (the container is thrown away), never a download of an interpreter.
_UV_FLAGS = ["--no-config", "--no-cache", "--no-python-downloads", "--quiet"]


def prepare_venv(env: ContainerBuildEnv, run: Runner, image_pip: str) -> None:
    """A virtual environment for the build requirements, and the pip that installs into it:
    the image's (22.3+ can target another interpreter), else one bootstrapped into the venv."""
    base = env.base_python
    if env.uv is not None:
        run(
            [env.uv, "venv", "--python", base, *_UV_FLAGS, "--no-project", env.venv],
            "creating the virtual environment",
        )
        return
    if _version_at_least(image_pip, (22, 3)):
        run([base, "-m", "venv", "--without-pip", env.venv], "creating the virtual environment")
        env.pip_cmd = [base, "-m", "pip", "--python", env.python_executable]
        return
    if env.wheelhouse is None:  # online: ensurepip puts a pip into the venv
        run([base, "-m", "venv", env.venv], "creating the virtual environment")
    else:
        run([base, "-m", "venv", "--without-pip", env.venv], "creating the virtual environment")
        set_key = env.wheelhouse.fetch(["pip"])
        wheels = [name for name in env.wheelhouse.files(set_key) if name.startswith("pip-")]
        inside = env.wheelhouse.container_path(WHEELHOUSE, set_key)
        if not wheels:
            raise BuildError(
                "the wheelhouse has no pip wheel to bootstrap the container's installer"
            )
        env.exec(
            [
                env.python_executable,
                f"{inside}/{wheels[-1]}/pip",
                "install",
                "--no-index",
                "--find-links",
                inside,
                "pip",
            ],
            what="bootstrapping pip",
        )
    env.pip_cmd = [env.python_executable, "-m", "pip"]


def _version_at_least(text: str, wanted: tuple[int, int]) -> bool:
    parts = []
    for piece in text.split(".")[:2]:
        digits = "".join(itertools.takewhile(str.isdigit, piece))
        if not digits:
            return False
        parts.append(int(digits))
    return len(parts) == 2 and (parts[0], parts[1]) >= wanted
