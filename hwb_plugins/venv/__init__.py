"""Isolation ``venv``: a throwaway virtual environment per build.

uv creates it and installs into it when uv is available and ``use-uv`` is true; otherwise the
standard library's venv and pip do. The environment is removed after the build, whatever happens.
With ``cache-envs`` it is kept instead, in hwb's cache directory, and reused by the next build
with the same interpreter and requirements (:mod:`hwb_plugins.venv.cache`, docs/caching.md).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hwb import (
    BuildError,
    Capabilities,
    CliOption,
    Config,
    ConfigError,
    ConfigKey,
    EnvRequest,
    IsolationInfo,
    PythonInfo,
    Reporter,
    hookimpl,
    process,
)
from hwb.hostenv import HostBuildEnv
from hwb_plugins.venv import cache as _cache
from hwb_plugins.venv import windows

if TYPE_CHECKING:
    from hwb.cache import CacheArea
    from hwb.constraints import BuildConstraints

NAME = "venv"


@hookimpl
def register_isolation() -> IsolationInfo:
    return IsolationInfo(
        NAME,
        "a throwaway virtual environment on the host (uv when available)",
        capabilities=Capabilities(native=True, rank=50),
    )


@hookimpl(optionalhook=True)  # the cache-command plugin's hook
def cache_areas() -> list[CacheArea]:
    """The environments this plugin keeps (``cache-envs``), for ``hwb cache``."""
    from hwb_plugins.venv.cache_area import area

    return [area()]


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    return {
        "isolation.venv.use-uv": ConfigKey(
            "bool", True, "Create environments and install with uv when it is available."
        ),
        "isolation.venv.cache-envs": ConfigKey(
            "bool",
            False,
            "Keep build environments in hwb's cache and reuse them (same interpreter, same requirements).",
        ),
        "isolation.venv.cache-max-age": ConfigKey(
            "float",
            7.0,
            "Days after which a cached build environment is made afresh (0: no limit).",
            minimum=0,
        ),
        "isolation.venv.refresh-envs": ConfigKey(
            "bool",
            False,
            "Make the cached build environments this build uses afresh (--refresh-envs).",
        ),
        "isolation.venv.index-max-age": ConfigKey(
            "float",
            600.0,
            "Seconds after an online install during which the same requirements install from "
            "uv's cache alone when they can (PyPI's own caching period; 0: ask the index every "
            "time).",
            minimum=0,
        ),
        "isolation.venv.python-path": ConfigKey(
            "path", None, "Interpreter to build with, overriding --python."
        ),
        **windows.CONFIG_KEYS,
    }


@hookimpl
def cli_options(command: str) -> list[CliOption] | None:
    if command not in ("build", "matrix"):
        return None
    key = "isolation.venv.cache-envs"
    return [
        CliOption(
            ("--cache-envs",),
            key,
            "venv: reuse cached build environments.",
            is_flag=True,
            flag_value="true",
        ),
        CliOption(
            ("--no-cache-envs",),
            key,
            "venv: a throwaway build environment.",
            is_flag=True,
            flag_value="false",
        ),
        CliOption(
            ("--refresh-envs",),
            "isolation.venv.refresh-envs",
            "venv: make the cached build environments afresh.",
            is_flag=True,
        ),
    ]


def find_uv() -> str | None:
    """The uv executable: the one installed with hwb first, then PATH."""
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def _host_pip_can_target() -> bool:
    """pip 22.3+ can install into another interpreter with ``--python``."""
    try:
        from importlib.metadata import version

        major, minor = (int(p) for p in version("pip").split(".")[:2])
    except Exception:
        return False
    return (major, minor) >= (22, 3)


def env_python(env_dir: Path) -> Path:
    return windows.env_python(env_dir)  # Scripts\python.exe on Windows, bin/python elsewhere


class VenvBuildEnv(HostBuildEnv):
    isolation = NAME
    #: uv's ``--link-mode``: ``None`` for its default (hard links into uv's cache on Linux);
    #: ``copy`` for a cached environment, whose files then share nothing with uv's cache and
    #: whose fingerprint (change times) no other install can disturb.
    link_mode: str | None = None

    def __init__(
        self,
        *,
        python: PythonInfo,
        source_dir: Path,
        reporter: Reporter,
        env_dir: Path,
        uv: str | None,
    ) -> None:
        super().__init__(python=python, source_dir=source_dir, reporter=reporter)
        self.env_dir = env_dir
        self.uv = uv
        self._pip_mode = "uv" if uv else ("host" if _host_pip_can_target() else "own")
        self.path_prefix = [str(env_python(env_dir).parent)]
        # The backend writes no bytecode: a throwaway environment would be deleted with it
        # (writing it costs a hatchling build about 0.3 s), a cached one was compiled when it
        # was made, and the project's own tree stays free of __pycache__.
        self.extra_environ = {"VIRTUAL_ENV": str(env_dir), "PYTHONDONTWRITEBYTECODE": "1"}

    @property
    def python_executable(self) -> str:
        return str(env_python(self.env_dir))

    def installer_environ(self) -> dict[str, str]:
        """The installer's variables: the credentials the backend does not get are withheld
        from it too (index settings kept), and it runs in the environment's directory, so
        nothing in the source tree (a ``uv.toml``, a ``pip.conf``, a file named like a
        requirement) applies."""
        from hwb import installer_environment

        return installer_environment(self.environ(), self.backend_environment)

    def create(self) -> None:
        base = self.python.path
        if self.uv:
            cmd = [self.uv, "venv", "--quiet", "--no-config", "--python", base, str(self.env_dir)]
            what = "uv venv"
        else:
            cmd = [base, "-m", "venv", str(self.env_dir)]
            if self._pip_mode == "host":
                cmd.insert(3, "--without-pip")
            what = "python -m venv"
        process.run(
            cmd,
            reporter=self.reporter,
            env=self.environ(),
            what=what,
            hint=f"check that {base} can create virtual environments",
        )

    #: Seconds an online install of the same requirements, interpreter and index settings
    #: lets the next ones try uv's cache alone first (``index-max-age``; 0: never).
    index_max_age: float = 0.0

    def _recently_resolved(self, requirements: Sequence[str]) -> Path:
        """The marker of the last online install of ``requirements`` here (``resolved/`` in
        hwb's cache): its time says how fresh uv's cache is for them."""
        from hwb.paths import cache_dir

        key, _ = _cache.env_key(
            self.python,
            requirements,
            self._pip_mode,
            {**os.environ, **self.target_environ},
            _constraints_digest(self),
        )
        return cache_dir() / "resolved" / key

    def install(self, requirements: Sequence[str], *, offline_first: bool = False) -> None:
        if not requirements:
            return
        if self.build_constraints is not None:
            with tempfile.TemporaryDirectory(prefix="hwb-constraints-") as tmp:
                constrained = constraint_args(
                    self.build_constraints, requirements, self.python, Path(tmp)
                )
                self._install(requirements, constrained, offline_first=offline_first)
            return
        self._install(requirements, list(requirements), offline_first=offline_first)

    def _install(
        self, requirements: Sequence[str], args: Sequence[str], *, offline_first: bool
    ) -> None:
        """Install ``requirements``, given to the installer as ``args``."""
        marker = None
        if self._pip_mode == "uv" and self.index_max_age > 0 and not offline_first:
            marker = self._recently_resolved(requirements)
            try:
                offline_first = time.time() - marker.stat().st_mtime < self.index_max_age
            except OSError:
                offline_first = False
        if self._pip_mode == "uv":
            assert self.uv is not None
            cmd = [self.uv, "pip", "install", "--python", self.python_executable, *args]
            if self.link_mode:
                cmd[3:3] = ["--link-mode", self.link_mode]
            if offline_first:
                # Everything may be in uv's cache already: no request to the index then.
                offline = [*cmd[:3], "--offline", *cmd[3:]]
                result = process.run(
                    offline,
                    reporter=self.reporter,
                    cwd=self.env_dir,
                    env=self.installer_environ(),
                    check=False,
                )
                if result.returncode == 0:
                    return
                self.reporter.debug("not all in uv's cache; installing online")
        elif self._pip_mode == "host":
            cmd = [
                sys.executable,
                "-m",
                "pip",
                "--python",
                self.python_executable,
                "install",
                "--disable-pip-version-check",
                *args,
            ]
        else:
            cmd = [
                self.python_executable,
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                *args,
            ]
        try:
            process.run(
                cmd,
                reporter=self.reporter,
                cwd=self.env_dir,
                env=self.installer_environ(),
                what="installing build requirements",
            )
            if marker is not None:
                with contextlib.suppress(OSError):
                    marker.parent.mkdir(parents=True, exist_ok=True)
                    marker.touch()
        except BuildError as exc:
            from hwb.constraints import install_error

            raise install_error(
                self.build_constraints,
                exc.details or "",
                BuildError(
                    "could not install build requirements: " + ", ".join(requirements),
                    hint="check the names and versions in [build-system] requires (run with -v for the installer's output)",
                    details=exc.details,
                ),
            ) from None

    def install_wheel(
        self, wheel: Path, *, extras: Sequence[str] = (), requirements: Sequence[str] = ()
    ) -> None:
        """As the default, trying uv's cache alone first (a test's requirements are often
        there already) and keeping no marker of it: the wheel's path is new every time."""
        name = wheel.name.split("-", 1)[0]
        spec = f"{name}[{','.join(extras)}]" if extras else name
        self.install([f"{spec} @ {wheel.resolve().as_uri()}", *requirements], offline_first=True)


def constraint_args(
    constraints: BuildConstraints, requirements: Sequence[str], python: PythonInfo, tmp: Path
) -> list[str]:
    """The installer's arguments (uv and pip alike) for ``requirements`` within the build
    constraints (:meth:`~hwb.constraints.BuildConstraints.install_files` in ``tmp``)."""
    return constraints.install_files(requirements, python.marker_env, tmp).args()


def _constraints_digest(env: VenvBuildEnv) -> str:
    return env.build_constraints.sha256 if env.build_constraints is not None else ""


@hookimpl
def create_env(isolation: str, request: EnvRequest) -> object | None:
    if isolation != NAME:
        return None
    return _venv(request)


@contextmanager
def _venv(request: EnvRequest) -> Iterator[VenvBuildEnv]:
    config: Config = request.config
    python = request.python
    path_key = windows.python_path_key(config)
    custom = config.get(path_key)
    if custom:
        from hwb.pythons import interrogate

        info = interrogate(os.path.expanduser(custom), "python-path")
        if info is None:
            raise ConfigError(
                f"{path_key} {custom!r} ({config.source(path_key)}) is not a working interpreter",
                hint="point it at a python executable or remove it",
            )
        python = info
    uv = find_uv() if config.get("isolation.venv.use-uv") else None
    # The target's variables (macOS: MACOSX_DEPLOYMENT_TARGET, ARCHFLAGS), then the Windows table.
    target_environ = {**request.extra_env, **windows.environment(config, request.reporter)}
    # A test environment is always new: a wheel installed into a cached one would linger.
    if config.get("isolation.venv.cache-envs") and request.purpose == "build" and not request.fresh:
        max_age = config.get("isolation.venv.cache-max-age")
        cached = CachedVenvBuildEnv(
            python=python,
            source_dir=request.project.root,
            reporter=request.reporter,
            uv=uv,
            refresh=bool(config.get("isolation.venv.refresh-envs")),
            max_age_days=float(max_age),
        )
        cached.target_environ = target_environ
        try:
            yield cached
        finally:
            cached.release()
        return
    env_dir = request.work_dir / "env"
    env = VenvBuildEnv(
        python=python,
        source_dir=request.project.root,
        reporter=request.reporter,
        env_dir=env_dir,
        uv=uv,
    )
    env.target_environ = target_environ
    env.index_max_age = float(config.get("isolation.venv.index-max-age") or 0)
    try:
        what = "build" if request.purpose == "build" else request.purpose
        request.reporter.step(f"creating {what} environment with {'uv' if uv else 'venv'}")
        env.create()
        yield env
    finally:
        shutil.rmtree(env_dir, ignore_errors=True)


#: Keys refreshed by this process already: ``hwb matrix --refresh-envs`` makes each one once.
_refreshed: set[str] = set()
_refreshed_lock = threading.Lock()


class CachedVenvBuildEnv(VenvBuildEnv):
    """A build environment from hwb's cache, chosen by what is installed into it.

    Every :meth:`install` names requirements; the environment used is the cached one holding
    exactly all the requirements named so far (``build-system.requires``, then what
    ``get_requires_for_build_wheel`` asked for), made when missing. A cached environment is
    never changed once complete: a different set is a different environment.
    """

    def __init__(
        self,
        *,
        python: PythonInfo,
        source_dir: Path,
        reporter: Reporter,
        uv: str | None,
        refresh: bool,
        max_age_days: float,
    ) -> None:
        super().__init__(
            python=python, source_dir=source_dir, reporter=reporter, env_dir=Path(os.devnull), uv=uv
        )
        self.refresh = refresh
        self.max_age_days = max_age_days
        self.requested: list[str] = []
        self.acquired: list[_cache.Acquired] = []

    @property
    def python_executable(self) -> str:
        if not self.acquired:
            self._resolve()
        return str(env_python(self.env_dir))

    def installer_environ(self) -> dict[str, str]:
        """The installer's variables: the credentials the backend does not get are withheld
        from it too (index settings kept), and it runs in the environment's directory, so
        nothing in the source tree (a ``uv.toml``, a ``pip.conf``, a file named like a
        requirement) applies."""
        from hwb import installer_environment

        return installer_environment(self.environ(), self.backend_environment)

    def create(self) -> None:  # made on first use instead
        pass

    def install(self, requirements: Sequence[str], *, offline_first: bool = True) -> None:
        new = [r for r in requirements if r not in self.requested]
        if self.acquired and not new:
            return
        self.requested.extend(new)
        self._resolve()

    def _resolve(self) -> None:
        key, identity = _cache.env_key(
            self.python,
            self.requested,
            self._pip_mode,
            {**os.environ, **self.target_environ},
            _constraints_digest(self),
        )
        refresh = False
        if self.refresh:
            with _refreshed_lock:
                refresh = key not in _refreshed
                _refreshed.add(key)
        requirements = list(self.requested)
        constraints = self.build_constraints

        def build(tmp: Path) -> None:
            self.reporter.step(
                f"creating build environment with {'uv' if self.uv else 'venv'} (cache key {key})"
            )
            fresh = VenvBuildEnv(
                python=self.python,
                source_dir=self.source_dir,
                reporter=self.reporter,
                env_dir=tmp,
                uv=self.uv,
            )
            fresh.target_environ = self.target_environ
            fresh.link_mode = "copy"
            fresh.build_constraints = constraints
            fresh.create()
            fresh.install(requirements, offline_first=not refresh)

        acquired = _cache.acquire(
            key,
            identity,
            build,
            refresh=refresh,
            max_age_days=self.max_age_days,
            reporter=self.reporter,
        )
        if acquired.reused:
            self.reporter.step(f"reusing cached build environment {key} ({acquired.path})")
        else:
            self.reporter.info(
                f"cached build environment {key} ({acquired.reason}): {acquired.path}"
            )
        self.acquired.append(acquired)
        self.env_dir = acquired.path
        self.path_prefix = [str(env_python(acquired.path).parent)]
        self.extra_environ = {"VIRTUAL_ENV": str(acquired.path), "PYTHONDONTWRITEBYTECODE": "1"}

    def remembered(self, name: str, find: Callable[[], Any]) -> Any:
        """``find()``, asked once per cached environment: a complete one never changes, so a
        true answer is kept in it (``.hwb-NAME.json``) for the next build (the provenance
        plugin's list of what it holds)."""
        import json

        kept = self.env_dir / f".hwb-{name}.json"
        try:
            return json.loads(kept.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
        found = find()
        if found:
            with contextlib.suppress(OSError):
                temporary = kept.with_name(f".hwb-{name}-{os.getpid()}.tmp")
                temporary.write_text(json.dumps(found), encoding="utf-8")
                os.replace(temporary, kept)
        return found

    def release(self) -> None:
        for acquired in self.acquired:
            acquired.lock.release()
        self.acquired.clear()
