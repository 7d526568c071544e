"""One hardened, long-lived container per build, and the :class:`BuildEnv` that runs in it.

Layout inside the container::

    /hwb/src         the project, mounted read-only
    /hwb/scratch     writable, private to this build (a host temporary directory):
        src/           the copy of /hwb/src the backend builds in (it may write into its tree)
        env/           the virtual environment holding the build requirements
        hooks/         PEP 517 hook calls: pyproject-hooks' _in_process.py, input and output
        home/          HOME (pip, compilers' caches)
    /hwb/work        hwb's work directory for this build: the wheel and the repaired wheel
    /hwb/wheelhouse  wheels the host downloaded for the container (offline builds), read-only

The container runs as the invoking user's uid:gid, with every capability dropped,
no-new-privileges, a pids limit, the configured memory and CPU limits, no network unless
``network = true``, and no host environment variable unless listed in ``env``. It is created
once, every step is an ``exec`` in it, and it is removed on success, failure and Ctrl-C.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import itertools
import json
import os
import secrets
import shutil
import socket
import stat
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from hwb_core.errors import BuildError
from hwb_core.interfaces import BuildEnv, EnvRequest, PythonInfo, Reporter, RunResult
from hwb_plugins.docker import engine, images
from hwb_plugins.docker.errors import (
    PRUNE_HINT,
    ContainerError,
    InterpreterNotInImage,
    MemoryLimitExceeded,
    NoSpaceLeft,
    engine_message,
    is_no_space,
)
from hwb_plugins.docker.settings import DockerSettings, load
from hwb_plugins.docker.wheelhouse import NETWORK_HINT, Target, Wheelhouse

if TYPE_CHECKING:
    import docker

NAME = "docker"
SRC_MOUNT = "/hwb/src"
SCRATCH = "/hwb/scratch"
WORK = "/hwb/work"
WHEELHOUSE = "/hwb/wheelhouse"
TAIL_LINES = 40
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#: Labels on every container hwb makes: ``docker ps -a --filter label=hwb=1`` lists them.
LABEL = "hwb"

# Runs under the image's interpreter (Python 3.6 and later): what it is, its C library, its pip.
_PROBE = r"""
import json, os, platform, sys, sysconfig
libc = ["", "0.0"]
try:
    found = os.confstr("CS_GNU_LIBC_VERSION")
    if found:
        libc = found.split()[:2]
except (AttributeError, ValueError, OSError):
    pass
if not libc[0]:
    import glob, subprocess
    for loader in glob.glob("/lib/ld-musl-*.so.1"):
        out = subprocess.run([loader], stdout=subprocess.PIPE, stderr=subprocess.PIPE).stderr
        for line in out.decode("utf-8", "replace").splitlines():
            if line.startswith("Version"):
                libc = ["musl", line.split()[1]]
impl = sys.implementation.name
ver = sys.version_info
if impl == "cpython":
    abi = "cp%d%d" % (ver[0], ver[1])
    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        abi += "t"
    if ver < (3, 8):
        abi += "m"
elif impl == "pypy":
    abi = "pypy%d%d_pp%d%d" % (ver[0], ver[1], sys.pypy_version_info[0], sys.pypy_version_info[1])
else:
    abi = (sysconfig.get_config_var("SOABI") or "none").replace("-", "_").replace(".", "_")
try:
    import pip
    pip_version = pip.__version__
except Exception:
    pip_version = ""
print(json.dumps({"version": platform.python_version(), "implementation": impl, "abi": abi,
                  "machine": platform.machine(), "libc": libc, "pip": pip_version,
                  "platform_tag": sysconfig.get_platform().replace("-", "_").replace(".", "_")}))
"""

# Copies the read-only source into the scratch directory: modes and times, never owners.
_COPY = "import shutil, sys; shutil.copytree(sys.argv[1], sys.argv[2], symlinks=True)"

_LIST_PYTHONS = 'for p in /opt/python/*/bin/python; do [ -x "$p" ] && echo "$p"; done; true'


# --------------------------------------------------------------------------- the environment


class DockerBuildEnv(BuildEnv):
    """Commands run through ``docker exec`` in the build's container.

    Paths: ``cmd`` strings are container paths; :class:`pathlib.Path` arguments (and ``cwd``)
    are host paths and are translated with :meth:`env_path`. The project root translates to the
    writable copy the backend builds in.
    """

    isolation = NAME
    on_host = False

    def __init__(
        self,
        *,
        python: PythonInfo,
        source_dir: Path,
        reporter: Reporter,
        client: docker.DockerClient,
        container_id: str,
        image: images.Image,
        settings: DockerSettings,
        scratch: Path,
        work_dir: Path,
        wheelhouse: Wheelhouse | None,
        image_path: str,
    ) -> None:
        super().__init__(python=python, source_dir=source_dir, reporter=reporter)
        self.client = client
        self.container_id = container_id
        self.image = image
        self.settings = settings
        self.scratch = scratch
        self.wheelhouse = wheelhouse
        self.base_python = ""
        self.pip_cmd: list[str] = []
        self.venv = f"{SCRATCH}/env"
        self._image_path = image_path
        # Longest host prefix first, so a nested directory wins over its parent.
        self._paths: list[tuple[Path, str]] = sorted(
            [(source_dir, f"{SCRATCH}/src"), (scratch, SCRATCH), (work_dir, WORK)]
            + ([(wheelhouse.path, WHEELHOUSE)] if wheelhouse else []),
            key=lambda item: len(str(item[0])),
            reverse=True,
        )
        self._hook_calls = itertools.count(1)

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
        if self.wheelhouse is not None:
            self.wheelhouse.fetch(reqs)
            args = ["install", "--no-compile", "--no-index", "--find-links", WHEELHOUSE, *reqs]
            hint = "the output above (or -v) shows pip's error; or " + NETWORK_HINT
        else:
            args = ["install", "--no-compile", *reqs]
            hint = "check the names and versions (-v shows pip's output) and that the container can reach your index"
        self.reporter.step("installing in the container: " + ", ".join(reqs))
        try:
            self._exec([*self.pip_cmd, *args], what="pip install")
        except BuildError as exc:
            raise BuildError(
                "could not install in the build container: " + ", ".join(reqs),
                hint=hint,
                details=exc.details,
            ) from None

    def run(
        self,
        cmd: Sequence[str],
        *,
        cwd: Path | None = None,
        extra_env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> RunResult:
        argv = [self.env_path(c) if isinstance(c, Path) else str(c) for c in cmd]
        return self._exec(argv, cwd=self._container_cwd(cwd), extra_env=extra_env, check=check)

    def describe(self) -> str:
        return f"{NAME} {self.image.ref} ({self.python.describe()})"

    # ----------------------------------------------------------------- PEP 517 hooks

    def run_hook(
        self, cmd: Sequence[str], cwd: Path | None, extra_environ: Mapping[str, str] | None
    ) -> None:
        """Run one pyproject-hooks call (``[python, _in_process.py, hook, tmpdir]``, host paths)
        in the container: the script and the hook's input go to the scratch directory with their
        paths translated, the output comes back to the host directory pyproject-hooks reads."""
        python, script, hook_name, host_dir = str(cmd[0]), Path(cmd[1]), str(cmd[2]), Path(cmd[3])
        hooks = self.scratch / "hooks"
        call_dir = hooks / f"{next(self._hook_calls):02d}-{hook_name}"
        call_dir.mkdir(parents=True)
        script_copy = hooks / "_in_process.py"
        shutil.copyfile(script, script_copy)
        data = json.loads((host_dir / "input.json").read_text(encoding="utf-8"))
        kwargs = data.get("kwargs") or {}
        for key in ("wheel_directory", "metadata_directory", "sdist_directory"):
            if kwargs.get(key):
                kwargs[key] = self.env_path(Path(kwargs[key]))
        (call_dir / "input.json").write_text(json.dumps(data), encoding="utf-8")
        self._exec(
            [python, self.env_path(script_copy), hook_name, self.env_path(call_dir)],
            cwd=self._container_cwd(cwd),
            extra_env=self._translate_environ(extra_environ or {}),
            what=f"the backend's {hook_name}",
        )
        output = call_dir / "output.json"
        if output.is_file():
            shutil.copyfile(output, host_dir / "output.json")

    def _translate_environ(self, environ: Mapping[str, str]) -> dict[str, str]:
        result = dict(environ)
        if "_PYPROJECT_HOOKS_BACKEND_PATH_JSON" in result:  # pyproject-hooks 1.x
            paths = json.loads(result["_PYPROJECT_HOOKS_BACKEND_PATH_JSON"])
            result["_PYPROJECT_HOOKS_BACKEND_PATH_JSON"] = json.dumps(
                [self.env_path(Path(p)) for p in paths]
            )
        if "PEP517_BACKEND_PATH" in result:  # pyproject-hooks 1.0 / pep517
            paths = result["PEP517_BACKEND_PATH"].split(os.pathsep)
            result["PEP517_BACKEND_PATH"] = ":".join(self.env_path(Path(p)) for p in paths if p)
        return result

    # ----------------------------------------------------------------- exec

    def _container_cwd(self, cwd: Path | str | None) -> str:
        if cwd is None:
            return f"{SCRATCH}/src"
        path = Path(cwd)
        try:
            return self.env_path(path)
        except BuildError:
            return str(PurePosixPath(str(cwd)))  # already a path inside the container

    def exec_environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {"PATH": f"{self.venv}/bin:{self._image_path}", "VIRTUAL_ENV": self.venv}
        if extra:
            env.update(extra)
        return env

    def _exec(
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
            cwd=cwd or f"{SCRATCH}/src",
            environment=self.exec_environment(extra_env),
            check=check,
            what=what,
            settings=self.settings,
        )


def exec_in(
    client: docker.DockerClient,
    container_id: str,
    argv: Sequence[str],
    *,
    reporter: Reporter,
    cwd: str,
    environment: Mapping[str, str],
    check: bool = True,
    what: str | None = None,
    settings: DockerSettings | None = None,
) -> RunResult:
    """``docker exec``: output streamed to the reporter line by line, its tail kept for errors."""
    from docker.errors import APIError, NotFound

    reporter.debug("$ (container) " + " ".join(argv))
    api = client.api
    try:
        exec_id = api.exec_create(
            container_id,
            list(argv),
            environment=dict(environment),
            workdir=cwd,
            stdout=True,
            stderr=True,
        )["Id"]
        stream = api.exec_start(exec_id, stream=True)
    except NotFound:
        raise ContainerError(
            "the build container disappeared (removed from outside hwb?)"
        ) from None
    except APIError as exc:
        message = engine_message(exc)
        if "is not running" in message:
            raise ContainerError(
                "the build container stopped unexpectedly",
                hint="`docker events` or the engine's log may say why (out of memory, killed)",
            ) from None
        raise ContainerError(
            f"the Docker engine could not run a command in the container: {message}"
        ) from None
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    pending = ""
    for chunk in stream:
        pending += decoder.decode(chunk)
        *lines, pending = pending.split("\n")
        for line in lines:
            line = line.rstrip("\r")
            tail.append(line)
            reporter.output(line)
    pending += decoder.decode(b"", final=True)
    if pending:
        tail.append(pending)
        reporter.output(pending)
    returncode = api.exec_inspect(exec_id).get("ExitCode")
    returncode = -1 if returncode is None else int(returncode)
    output = "\n".join(tail)
    if check and returncode != 0:
        label = what or os.path.basename(str(argv[0]))
        if returncode in (126, 127) and (
            "executable file not found" in output or "no such file" in output.lower()
        ):
            raise BuildError(f"{argv[0]} was not found in the build container", details=output)
        if returncode == 137 and settings is not None and settings.memory is not None:
            if _oom_kills(client, container_id) > 0:
                raise MemoryLimitExceeded(
                    f"{label} was killed: the build container ran out of memory (limit {settings.memory_text})",
                    hint="raise memory in [tool.hwb.isolation.docker] (or --memory), or build with fewer parallel jobs",
                    details=output,
                )
        if is_no_space(output):
            raise NoSpaceLeft(
                f"{label} failed: no space left on device", hint=PRUNE_HINT, details=output
            )
        raise BuildError(
            f"{label} failed in the build container (exit code {returncode})", details=output
        )
    return RunResult(returncode, output)


def _oom_kills(client: docker.DockerClient, container_id: str) -> int:
    """How many processes the container's memory cgroup has killed (cgroup v1 or v2)."""
    script = (
        "cat /sys/fs/cgroup/memory.events 2>/dev/null || "
        "cat /sys/fs/cgroup/memory/memory.oom_control 2>/dev/null; true"
    )
    try:
        exec_id = client.api.exec_create(container_id, ["sh", "-c", script])["Id"]
        text = client.api.exec_start(exec_id).decode("utf-8", "replace")
    except Exception:
        return 0
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == "oom_kill" and value.strip().isdigit():
            return int(value)
    return 0


# --------------------------------------------------------------------------- lifecycle


@contextlib.contextmanager
def docker_env(request: EnvRequest) -> Iterator[DockerBuildEnv]:
    """Create the container, prepare it, yield the environment; remove it all afterwards."""
    reporter = request.reporter
    project = request.project
    settings = load(request.config, project.root)
    with contextlib.ExitStack() as stack:
        client = engine.connect()
        stack.callback(client.close)
        sweep_orphans(client, reporter)
        image = images.resolve(client, settings, project.name, reporter)

        scratch = Path(tempfile.mkdtemp(prefix="hwb-docker-"))
        keep = settings.keep_container
        if not keep:
            stack.callback(_rmtree, scratch)
        for name in ("hooks", "home"):
            (scratch / name).mkdir()
        wheelhouse_dir = None
        if not settings.network:
            wheelhouse_dir = Path(tempfile.mkdtemp(prefix="hwb-wheelhouse-"))
            stack.callback(_rmtree, wheelhouse_dir)

        container_id = create_container(
            client,
            settings,
            image,
            project.name,
            project.root,
            scratch,
            request.work_dir,
            wheelhouse_dir,
        )
        if keep:
            short = container_id[:12]
            stack.callback(
                reporter.info,
                f"kept build container {short} (full id {container_id}): enter it with "
                f"`docker exec -it {short} sh` (after `docker start {short}` if it stopped); remove it "
                f"with `docker rm -f {short}` and its scratch files with `rm -rf {scratch}`",
            )
        else:
            stack.callback(remove_container, client, container_id, reporter)
        start_container(client, container_id, settings)

        image_path = _image_path(client, image)
        probe_env = {"PATH": image_path, "HOME": f"{SCRATCH}/home"}

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

        base_python = choose_interpreter(run, request.python, image)
        probe = json.loads(
            run([base_python, "-c", _PROBE], "probing the interpreter")
            .output.strip()
            .splitlines()[-1]
        )
        container_python = PythonInfo(
            path=base_python,
            version=probe["version"],
            implementation=probe["implementation"],
            abi_tag=probe["abi"],
            source=f"image {image.ref}",
            platform_tag=probe.get("platform_tag", ""),
        )
        target = Target(
            version=probe["version"],
            implementation=probe["implementation"],
            abi=probe["abi"],
            arch=image.arch or settings.arch,
            libc=probe["libc"][0],
            libc_version=_major_minor(probe["libc"][1]),
        )
        wheelhouse = (
            Wheelhouse(wheelhouse_dir, target, request.python, reporter) if wheelhouse_dir else None
        )

        env = DockerBuildEnv(
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
            image_path=image_path,
        )
        env.base_python = base_python

        reporter.step(f"copying the source into the container ({SRC_MOUNT} is read-only)")
        run([base_python, "-c", _COPY, SRC_MOUNT, f"{SCRATCH}/src"], "copying the source")
        prepare_venv(env, run, probe.get("pip", ""))
        yield env


def prepare_venv(env: DockerBuildEnv, run: Any, image_pip: str) -> None:
    """A virtual environment for the build requirements, and the pip that installs into it:
    the image's (22.3+ can target another interpreter), else one bootstrapped into the venv."""
    base = env.base_python
    if _version_at_least(image_pip, (22, 3)):
        run([base, "-m", "venv", "--without-pip", env.venv], "creating the virtual environment")
        env.pip_cmd = [base, "-m", "pip", "--python", env.python_executable]
        return
    if env.wheelhouse is None:  # online: ensurepip puts a pip into the venv
        run([base, "-m", "venv", env.venv], "creating the virtual environment")
    else:
        run([base, "-m", "venv", "--without-pip", env.venv], "creating the virtual environment")
        env.wheelhouse.fetch(["pip"])
        wheels = [name for name in env.wheelhouse.files() if name.startswith("pip-")]
        if not wheels:
            raise BuildError(
                "the wheelhouse has no pip wheel to bootstrap the container's installer"
            )
        env._exec(
            [
                env.python_executable,
                f"{WHEELHOUSE}/{wheels[-1]}/pip",
                "install",
                "--no-index",
                "--find-links",
                WHEELHOUSE,
                "pip",
            ],
            what="bootstrapping pip",
        )
    env.pip_cmd = [env.python_executable, "-m", "pip"]


def _major_minor(text: str) -> tuple[int, int]:
    parts = [int("".join(itertools.takewhile(str.isdigit, p)) or 0) for p in text.split(".")[:2]]
    parts += [0] * (2 - len(parts))
    return parts[0], parts[1]


def _version_at_least(text: str, wanted: tuple[int, int]) -> bool:
    parts = []
    for piece in text.split(".")[:2]:
        digits = "".join(itertools.takewhile(str.isdigit, piece))
        if not digits:
            return False
        parts.append(int(digits))
    return len(parts) == 2 and (parts[0], parts[1]) >= wanted


def interpreter_dir(python: PythonInfo) -> str:
    """``/opt/python`` directory name for an interpreter: 3.12 -> ``cp312-cp312``."""
    major, minor = python.version_tuple[:2]
    if python.implementation == "pypy":
        return f"pp{major}{minor}-{python.abi_tag}"
    abi = python.abi_tag
    if (major, minor) < (3, 8) and not abi.endswith("m"):
        abi += "m"
    return f"cp{major}{minor}-{abi}"


def choose_interpreter(run: Any, python: PythonInfo, image: images.Image) -> str:
    wanted = interpreter_dir(python)
    found = [
        line.strip()
        for line in run(
            ["/bin/sh", "-c", _LIST_PYTHONS], "listing interpreters"
        ).output.splitlines()
    ]
    found = [p for p in found if p.startswith("/opt/python/")]
    path = f"/opt/python/{wanted}/bin/python"
    if path in found:
        return path
    names = sorted({p.split("/")[3] for p in found})
    listing = ", ".join(f"{n} ({_describe_dir(n)})" for n in names) if names else "none"
    others = [_describe_dir(n).split()[-1] for n in names if n.startswith("cp")]
    hint = (
        f"build with one of those (--python {others[-1]})"
        if others
        else "use a manylinux-style image"
    )
    raise InterpreterNotInImage(
        f"image {image.ref} has no /opt/python/{wanted} for {python.describe().split(' (')[0]}; "
        f"it has: {listing}",
        hint=f"{hint}, or choose an image that has it (--image, --dockerfile)",
    )


def _describe_dir(name: str) -> str:
    tag = name.split("-")[0]
    digits = tag[2:]
    version = f"{digits[0]}.{digits[1:]}" if len(digits) >= 2 and digits.isdigit() else digits
    return f"{'PyPy' if tag.startswith('pp') else 'CPython'} {version}"


def _image_path(client: docker.DockerClient, image: images.Image) -> str:
    try:
        env = client.images.get(image.id).attrs.get("Config", {}).get("Env") or []
    except Exception:
        env = []
    for item in env:
        if item.startswith("PATH="):
            return str(item[5:])
    return DEFAULT_PATH


def container_user(security: set[str]) -> str | None:
    """The invoking user's uid:gid, so files in the output belong to them. A rootless engine
    maps the container's root to the invoking user already; on Windows the engine's VM decides."""
    if "rootless" in security:
        return "0:0"
    if not hasattr(os, "getuid"):
        return None
    return f"{os.getuid()}:{os.getgid()}"


def container_spec(
    settings: DockerSettings,
    image: images.Image,
    project_name: str,
    source: Path,
    scratch: Path,
    work_dir: Path,
    wheelhouse: Path | None,
    user: str | None,
    selinux: bool = False,
) -> dict[str, Any]:
    """The arguments of ``containers.create``: every hardening and limit in one place."""
    from docker.types import DeviceRequest

    # On SELinux hosts a bind mount must be relabelled (z: shared) for the container to read it.
    relabel = ",z" if selinux else ""
    volumes = {
        str(source): {"bind": SRC_MOUNT, "mode": "ro" + relabel},
        str(scratch): {"bind": SCRATCH, "mode": "rw" + relabel},
        str(work_dir): {"bind": WORK, "mode": "rw" + relabel},
    }
    if wheelhouse is not None:
        volumes[str(wheelhouse)] = {"bind": WHEELHOUSE, "mode": "ro" + relabel}
    environment = {
        "HOME": f"{SCRATCH}/home",
        "LANG": "C.UTF-8",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "PIP_ROOT_USER_ACTION": "ignore",
        "PIP_NO_WARN_SCRIPT_LOCATION": "1",
        "PIP_PROGRESS_BAR": "off",
    }
    environment.update(settings.container_environment())
    slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in project_name.lower()).strip(
        "-_."
    )
    spec: dict[str, Any] = {
        "image": image.id,
        "command": ["sleep", "infinity"],
        "name": f"hwb-{slug or 'build'}-{secrets.token_hex(4)}",
        "init": True,
        "working_dir": SCRATCH,
        "environment": environment,
        "labels": {
            LABEL: "1",
            "hwb.project": project_name,
            "hwb.host": socket.gethostname(),
            "hwb.pid": str(os.getpid()),
            "hwb.keep": "1" if settings.keep_container else "0",
        },
        "hostname": "hwb-build",
        "network_mode": "bridge" if settings.network else "none",
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "pids_limit": settings.pids_limit,
        "volumes": volumes,
        "detach": True,
    }
    if user is not None:
        spec["user"] = user
    if settings.memory is not None:
        spec["mem_limit"] = settings.memory
        spec["memswap_limit"] = settings.memory  # no swap beyond the limit
    if settings.cpus is not None:
        spec["nano_cpus"] = int(settings.cpus * 1e9)
    if settings.wants_gpu:
        request: dict[str, Any] = {"driver": settings.gpu_driver, "capabilities": [["gpu"]]}
        if settings.gpu_devices:
            request["device_ids"] = list(settings.gpu_devices)
        else:
            request["count"] = -1
        spec["device_requests"] = [DeviceRequest(**request)]
    if settings.platform is not None:
        spec["platform"] = settings.platform
    return spec


def create_container(
    client: docker.DockerClient,
    settings: DockerSettings,
    image: images.Image,
    project_name: str,
    source: Path,
    scratch: Path,
    work_dir: Path,
    wheelhouse: Path | None,
) -> str:
    from docker.errors import APIError

    security = engine.security_options(client)
    spec = container_spec(
        settings,
        image,
        project_name,
        source,
        scratch,
        work_dir,
        wheelhouse,
        container_user(security),
        selinux="selinux" in security,
    )
    try:
        container = client.containers.create(**spec)
    except APIError as exc:
        message = engine_message(exc)
        raise ContainerError(
            f"the Docker engine refused the build container: {message}",
            hint=PRUNE_HINT
            if is_no_space(message)
            else "check memory, cpus and gpu in [tool.hwb.isolation.docker]",
        ) from None
    return str(container.id)


def start_container(
    client: docker.DockerClient, container_id: str, settings: DockerSettings
) -> None:
    from docker.errors import APIError

    try:
        client.api.start(container_id)
    except APIError as exc:
        message = engine_message(exc)
        if settings.wants_gpu and ("device driver" in message or "gpu" in message.lower()):
            raise ContainerError(
                f"the build container cannot get the GPUs it asked for: {message}",
                hint="install the NVIDIA Container Toolkit and restart the engine, check gpu-devices, "
                "or set gpu = false",
            ) from None
        if "exec format error" in message.lower():
            raise ContainerError(
                f"the image's binaries cannot run on this machine: {message}",
                hint="register qemu for its architecture (`apt-get install qemu-user-static binfmt-support`)",
            ) from None
        raise ContainerError(
            f"the build container did not start: {message}",
            hint=PRUNE_HINT
            if is_no_space(message)
            else "check that the image has `sleep` (coreutils or busybox)",
        ) from None


def remove_container(client: docker.DockerClient, container_id: str, reporter: Reporter) -> None:
    """Remove the container and whatever runs in it; survives one more Ctrl-C while at it."""
    from docker.errors import APIError, NotFound

    for attempt in range(2):
        try:
            client.api.remove_container(container_id, force=True, v=True)
            return
        except NotFound:
            return
        except KeyboardInterrupt:
            if attempt:
                raise
        except APIError as exc:
            if "already in progress" in engine_message(exc):
                return
            reporter.warn(
                f"could not remove build container {container_id[:12]}: {engine_message(exc)}; "
                f"remove it with `docker rm -f {container_id[:12]}`"
            )
            return


def sweep_orphans(client: docker.DockerClient, reporter: Reporter) -> None:
    """Remove containers that an hwb on this machine left behind when it was killed outright
    (SIGKILL, power loss): labelled hwb, not kept, and their hwb process gone."""
    try:
        found = client.api.containers(
            all=True,
            filters={"label": [f"{LABEL}=1", f"hwb.host={socket.gethostname()}", "hwb.keep=0"]},
        )
    except Exception:
        return
    for item in found:
        labels = item.get("Labels") or {}
        pid = labels.get("hwb.pid", "")
        if pid.isdigit() and not _alive(int(pid)):
            reporter.debug(f"removing container {item['Id'][:12]} left by hwb process {pid}")
            remove_container(client, item["Id"], reporter)


def _alive(pid: int) -> bool:
    if os.name != "posix":
        return True  # cannot tell: leave the container alone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _rmtree(path: Path) -> None:
    """Remove a tree the container wrote, read-only directories included."""

    def make_writable(func: Any, name: str, _exc: Any) -> None:
        try:
            os.chmod(os.path.dirname(name), stat.S_IRWXU)
            os.chmod(name, stat.S_IRWXU)
            func(name)
        except OSError:
            pass

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=make_writable)
    else:
        shutil.rmtree(path, onerror=make_writable)
