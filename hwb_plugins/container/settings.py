"""The ``[tool.hwb.isolation.<engine>]`` keys, their command-line flags, and their validation.

Docker and podman take the same keys, each under its own table: :func:`schema` and
:func:`cli_options` declare them for one engine, :func:`load` reads them. Nothing here imports
the Docker SDK: the keys must be declared (and ``hwb --help`` built) without it.
"""

from __future__ import annotations

import dataclasses
import os
import platform as host_platform
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hwb import CliOption, Config, ConfigError, ConfigKey

if TYPE_CHECKING:
    from hwb_plugins.container.engine import Engine

MANYLINUX_VERSIONS = ("2014", "2_28", "2_34", "2_35")
MUSLLINUX_VERSIONS = ("1_1", "1_2")
DEFAULT_MANYLINUX = "2_28"
PULL_POLICIES = ("missing", "always", "never")

#: ``--platform`` value (OCI platform) -> the architecture in wheel tags and PyPA image names.
PLATFORM_ARCH = {
    "linux/amd64": "x86_64",
    "linux/arm64": "aarch64",
    "linux/arm/v7": "armv7l",
    "linux/386": "i686",
    "linux/ppc64le": "ppc64le",
    "linux/s390x": "s390x",
    "linux/riscv64": "riscv64",
}
_ARCH_ALIASES = {
    "x86_64": "linux/amd64",
    "amd64": "linux/amd64",
    "aarch64": "linux/arm64",
    "arm64": "linux/arm64",
    "linux/arm64/v8": "linux/arm64",
    "armv7l": "linux/arm/v7",
    "armv7": "linux/arm/v7",
    "linux/arm": "linux/arm/v7",
    "i686": "linux/386",
    "i386": "linux/386",
    "x86": "linux/386",
    "ppc64le": "linux/ppc64le",
    "s390x": "linux/s390x",
    "riscv64": "linux/riscv64",
}


def schema(name: str) -> dict[str, ConfigKey]:
    """Every key of the engine ``name`` (``"docker"``), under ``isolation.<name>.``."""
    prefix = f"isolation.{name}."
    return {
        prefix + "manylinux": ConfigKey(
            "str",
            DEFAULT_MANYLINUX,
            "manylinux image for the build: 2014, 2_28 (default), 2_34 or 2_35 (quay.io/pypa).",
        ),
        prefix + "musllinux": ConfigKey(
            "str", None, "Build in a musllinux image instead (1_2) for musl-based systems (Alpine)."
        ),
        prefix + "image": ConfigKey(
            "str",
            None,
            "Build in this image (overrides manylinux/musllinux); it needs /opt/python/<tag>.",
        ),
        prefix + "dockerfile": ConfigKey(
            "path",
            None,
            "Build the image from this Dockerfile (relative to the project); tagged by a hash of its "
            "content and context and reused while they are unchanged.",
        ),
        prefix + "dockerfile-context": ConfigKey(
            "path", None, "Build context for dockerfile (default: the Dockerfile's directory)."
        ),
        prefix + "platform": ConfigKey(
            "str",
            None,
            f"Target platform, as {name} --platform: linux/amd64, linux/arm64, ... "
            "(default: this machine's); another architecture runs under qemu.",
        ),
        prefix + "pull": ConfigKey(
            "str",
            "missing",
            "When to pull the image: missing (default), always or never.",
            choices=PULL_POLICIES,
        ),
        prefix + "memory": ConfigKey(
            "str", None, "Memory limit of the build container: 512m, 8g, ..."
        ),
        prefix + "cpus": ConfigKey(
            "float", None, "CPU limit of the build container (2.5 = two and a half CPUs)."
        ),
        prefix + "pids-limit": ConfigKey(
            "int", 4096, "Most processes the build container may run at once."
        ),
        prefix + "gpu": ConfigKey(
            "bool", False, "Give the container the machine's GPUs (CUDA builds)."
        ),
        prefix + "gpu-runtime": ConfigKey(
            "str",
            "nvidia",
            "Engine device driver that provides the GPUs (NVIDIA Container Toolkit: nvidia).",
        ),
        prefix + "gpu-devices": ConfigKey(
            "list",
            [],
            'GPUs to give the container (IDs or UUIDs, ["0", "1"]); empty with gpu = all.',
        ),
        prefix + "host": ConfigKey(
            "str",
            None,
            "The engine to build on: a URL (unix:///run/other.sock, ssh://user@box, tcp://...) "
            "or a context name; default: the environment's (DOCKER_HOST, the current context, "
            "the default socket).",
        ),
        prefix + "hosts": ConfigKey(
            "table",
            {},
            'Engines by architecture (aarch64 = ["ssh://arm-box"]): a build for that '
            "architecture runs natively on the first that answers; hwb matrix spreads its jobs "
            "over all of them (--docker-host ARCH=URL, repeatable).",
        ),
        prefix + "network": ConfigKey(
            "bool",
            False,
            "Let the container reach the network and install build requirements itself (default: "
            "offline, from a wheelhouse the host prepares).",
        ),
        prefix + "allow-direct-references": ConfigKey(
            "list",
            [],
            "Direct references a build may ask the host to download for an offline container, "
            "each exactly as asked and only a wheel with its hash: "
            '"name @ https://host/name-1.0-py3-none-any.whl#sha256=..." (any other URL, path or '
            "VCS reference from a build is refused).",
        ),
        prefix + "env": ConfigKey(
            "list",
            [],
            "Environment for the build: NAME passes the host's value, NAME=VALUE sets one. Nothing "
            "else from the host reaches the container.",
        ),
        prefix + "auditwheel-policy": ConfigKey(
            "str",
            None,
            "auditwheel policy for the repair (manylinux_2_28_x86_64, ...; default: auto).",
        ),
        prefix + "auditwheel-exclude": ConfigKey(
            "list",
            [],
            "Libraries auditwheel must not bundle (libcuda.so.1, ...); shell-style patterns.",
        ),
        prefix + "keep-container": ConfigKey(
            "bool",
            False,
            "Keep the build container (stopped) after the build and print its id, for debugging.",
        ),
        prefix + "cache-max-age": ConfigKey(
            "float",
            7.0,
            "Days after which the host's wheelhouse downloads a requirement set afresh (0: no "
            "limit).",
        ),
        prefix + "refresh-envs": ConfigKey(
            "bool",
            False,
            "Download this build's requirements afresh into the host's wheelhouse "
            "(--refresh-envs).",
        ),
        prefix + "cache-envs": ConfigKey(
            "bool",
            True,
            "Install build requirements and repair tools from environments prepared once per "
            "image, interpreter and requirement set (kept read-only in hwb's cache; needs uv in "
            "the image and an offline build).",
        ),
        prefix + "use-uv": ConfigKey(
            "bool",
            True,
            "Make the container's build environment and install into it with hwb's uv, mounted "
            "read-only, where it runs in the image (else the image's pip).",
        ),
    }


def cli_options(name: str, command: str) -> list[CliOption]:
    """The flags of the engine ``name``: the same flags for every engine, each bound to that
    engine's key (the core lets one flag set the keys of every plugin that declares it)."""
    prefix = f"isolation.{name}."
    options = [
        CliOption(
            ("--manylinux",),
            prefix + "manylinux",
            f"{name}: manylinux image (2014, 2_28, 2_34, 2_35).",
            metavar="VERSION",
        ),
        CliOption(
            ("--musllinux",),
            prefix + "musllinux",
            f"{name}: build in a musllinux image (1_2).",
            metavar="VERSION",
        ),
        CliOption(("--image",), prefix + "image", f"{name}: build in this image.", metavar="IMAGE"),
        CliOption(
            ("--dockerfile",),
            prefix + "dockerfile",
            f"{name}: build the image from this Dockerfile.",
            metavar="FILE",
        ),
        CliOption(("--memory",), prefix + "memory", f"{name}: memory limit (8g).", metavar="SIZE"),
        CliOption(("--cpus",), prefix + "cpus", f"{name}: CPU limit (2.5).", metavar="N"),
        CliOption(
            ("--gpu",), prefix + "gpu", f"{name}: give the container the GPUs.", is_flag=True
        ),
        CliOption(
            ("--network",),
            prefix + "network",
            f"{name}: let the container reach the network (default: offline).",
            is_flag=True,
        ),
        CliOption(
            (f"--{name}-host",),
            prefix + "hosts",
            f"{name}: an engine for an architecture, ARCH=URL (repeatable).",
            metavar="ARCH=URL",
            multiple=True,
        ),
        CliOption(
            ("--keep-container",),
            prefix + "keep-container",
            f"{name}: keep the build container and print its id.",
            is_flag=True,
        ),
        CliOption(
            ("--cache-envs",),
            prefix + "cache-envs",
            f"{name}: prepared build environments (the default).",
            is_flag=True,
            flag_value="true",
        ),
        CliOption(
            ("--no-cache-envs",),
            prefix + "cache-envs",
            f"{name}: install into each build's environment afresh.",
            is_flag=True,
            flag_value="false",
        ),
        CliOption(
            ("--refresh-envs",),
            prefix + "refresh-envs",
            f"{name}: download the build requirements and prepare their environments afresh.",
            is_flag=True,
        ),
    ]
    if command == "build":
        # hwb matrix has its own --platform (linux, macos, windows) and routes architectures itself.
        options.append(
            CliOption(
                ("--platform",),
                prefix + "platform",
                f"{name}: target platform (linux/arm64, ...).",
                metavar="OS/ARCH",
            )
        )
    return options


@dataclasses.dataclass(frozen=True)
class ContainerSettings:
    """The validated settings of one container build."""

    engine: Engine

    image: str | None
    dockerfile: Path | None
    dockerfile_context: Path | None
    manylinux: str
    musllinux: str | None
    platform: str | None
    """Normalised ``os/arch`` to ask the engine for, ``None`` for the engine's default."""
    arch: str
    """Target architecture as in wheel tags: ``x86_64``, ``aarch64``."""
    pull: str
    memory: int | None
    memory_text: str | None
    cpus: float | None
    pids_limit: int
    gpu: bool
    gpu_driver: str
    gpu_devices: tuple[str, ...]
    network: bool
    env: tuple[tuple[str, str | None], ...]
    auditwheel_policy: str | None
    auditwheel_exclude: tuple[str, ...]
    keep_container: bool
    cache_max_age: float = 7.0
    """Days a requirement set stays in the host's wheelhouse (0: no limit)."""
    refresh: bool = False
    use_uv: bool = True
    cache_envs: bool = True
    allowed_direct: tuple[str, ...] = ()
    """``allow-direct-references``, normalised: wheels by URL with their sha256."""
    hosts: tuple[str, ...] = ()
    """The engines to try, in order: ``host``, else ``hosts`` for the target architecture;
    empty for the environment's own."""

    @property
    def wants_gpu(self) -> bool:
        return self.gpu or bool(self.gpu_devices)

    def default_image(self) -> str:
        """The PyPA image for ``manylinux``/``musllinux`` and the target architecture."""
        if self.musllinux:
            return f"quay.io/pypa/musllinux_{self.musllinux}_{self.arch}"
        if self.manylinux == "2014":
            return f"quay.io/pypa/manylinux2014_{self.arch}"
        return f"quay.io/pypa/manylinux_{self.manylinux}_{self.arch}"

    def container_environment(self, environ: dict[str, str] | None = None) -> dict[str, str]:
        """The variables from ``env`` that reach the container (unset host names are skipped)."""
        source = os.environ if environ is None else environ
        result: dict[str, str] = {}
        for name, value in self.env:
            if value is not None:
                result[name] = value
            elif name in source:
                result[name] = source[name]
        return result


def load(config: Config, project_root: Path, engine: Engine) -> ContainerSettings:
    """Read and check every key of ``engine``; an invalid value is a :class:`ConfigError` naming the key
    and where it was set."""

    prefix = engine.prefix

    def get(name: str) -> Any:
        return config.get(prefix + name)

    def bad(name: str, message: str, hint: str) -> ConfigError:
        return ConfigError(f"{prefix}{name} ({config.source(prefix + name)}) {message}", hint=hint)

    manylinux = _normalise_version(get("manylinux"), "manylinux")
    if manylinux not in MANYLINUX_VERSIONS:
        raise bad(
            "manylinux",
            f"is {get('manylinux')!r}",
            "choose one of: " + ", ".join(MANYLINUX_VERSIONS),
        )
    musllinux = get("musllinux")
    if musllinux is not None:
        musllinux = _normalise_version(musllinux, "musllinux")
        if musllinux not in MUSLLINUX_VERSIONS:
            raise bad(
                "musllinux",
                f"is {get('musllinux')!r}",
                "choose one of: " + ", ".join(MUSLLINUX_VERSIONS),
            )
        if config.source(prefix + "manylinux") != "default":
            raise bad("musllinux", "and manylinux are both set", "choose one of the two")

    image = get("image") or None
    dockerfile_text = get("dockerfile") or None
    if image and dockerfile_text:
        raise bad(
            "image",
            "and dockerfile are both set",
            "build in a named image or from a Dockerfile, not both",
        )
    dockerfile = None
    context = None
    if dockerfile_text:
        dockerfile = _project_path(project_root, dockerfile_text)
        if not dockerfile.is_file():
            raise bad(
                "dockerfile",
                f"names {dockerfile}, which is not a file",
                "give the path of a Dockerfile",
            )
        context_text = get("dockerfile-context")
        context = _project_path(project_root, context_text) if context_text else dockerfile.parent
        if not context.is_dir():
            raise bad(
                "dockerfile-context",
                f"names {context}, which is not a directory",
                "give a directory",
            )

    platform_text = get("platform")
    if platform_text:
        oci_platform = _normalise_platform(platform_text)
        if oci_platform is None:
            raise bad(
                "platform", f"is {platform_text!r}", "use one of: " + ", ".join(PLATFORM_ARCH)
            )
    else:
        oci_platform = None
    arch = PLATFORM_ARCH[oci_platform] if oci_platform else host_arch()

    memory_text = get("memory")
    memory = None
    if memory_text is not None:
        memory = parse_size(str(memory_text))
        if memory is None or memory < 6 * 1024 * 1024:
            raise bad(
                "memory", f"is {memory_text!r}", "give a size of at least 6m, such as 512m or 8g"
            )
    cpus = get("cpus")
    if cpus is not None and cpus <= 0:
        raise bad("cpus", f"is {cpus}", "give a positive number such as 2 or 1.5")
    pids_limit = get("pids-limit")
    if pids_limit is not None and pids_limit < 16:
        raise bad(
            "pids-limit", f"is {pids_limit}", "builds start compilers and shells: allow at least 16"
        )

    max_age = float(get("cache-max-age"))
    if max_age < 0:
        raise bad("cache-max-age", f"is {max_age:g}", "give a number of days, 0 for no age limit")

    env: list[tuple[str, str | None]] = []
    for entry in get("env") or []:
        name, sep, value = entry.partition("=")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise bad("env", f"has {entry!r}", "entries are NAME (the host's value) or NAME=VALUE")
        env.append((name, value if sep else None))

    allowed: list[str] = []
    for entry in get("allow-direct-references") or []:
        normal = _direct_wheel(str(entry))
        if normal is None:
            raise bad(
                "allow-direct-references",
                f"has {entry!r}",
                'list wheels by URL with their hash: "name @ https://host/name-1.0-py3-none-any.whl'
                '#sha256=<64 hex digits>"',
            )
        allowed.append(normal)

    return ContainerSettings(
        engine=engine,
        image=image,
        dockerfile=dockerfile,
        dockerfile_context=context,
        manylinux=manylinux,
        musllinux=musllinux,
        platform=oci_platform,
        arch=arch,
        pull=get("pull"),
        memory=memory,
        memory_text=str(memory_text) if memory_text is not None else None,
        cpus=cpus,
        pids_limit=pids_limit,
        gpu=bool(get("gpu")),
        gpu_driver=get("gpu-runtime") or "",
        gpu_devices=tuple(str(d) for d in get("gpu-devices") or []),
        network=bool(get("network")),
        env=tuple(env),
        auditwheel_policy=get("auditwheel-policy") or None,
        auditwheel_exclude=tuple(get("auditwheel-exclude") or []),
        keep_container=bool(get("keep-container")),
        cache_max_age=max_age,
        refresh=bool(get("refresh-envs")),
        use_uv=bool(get("use-uv")),
        cache_envs=bool(get("cache-envs")),
        allowed_direct=tuple(allowed),
        hosts=_engines(get("host"), get("hosts") or {}, arch),
    )


def _direct_wheel(text: str) -> str | None:
    """``text`` normalised when it is ``name @ https://.../file.whl#sha256=HEX``, else ``None``."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return None
    url = requirement.url or ""
    if not re.fullmatch(r"https://[^\s#]+\.whl#sha256=[0-9a-fA-F]{64}", url):
        return None
    return str(requirement)


def _engines(host: str | None, hosts: dict[str, Any], arch: str) -> tuple[str, ...]:
    if host:
        return (host,)
    listed = hosts.get(arch) or ()
    return (listed,) if isinstance(listed, str) else tuple(str(h) for h in listed)


def _project_path(root: Path, text: str) -> Path:
    path = Path(os.path.expanduser(text))
    return (path if path.is_absolute() else root / path).resolve()


def _normalise_version(value: str, family: str) -> str:
    text = str(value).strip().lower()
    for prefix in (family + "_", family):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    return text.replace(".", "_")


def _normalise_platform(text: str) -> str | None:
    value = text.strip().lower()
    if value in PLATFORM_ARCH:
        return value
    return _ARCH_ALIASES.get(value)


def host_arch() -> str:
    machine = host_platform.machine().lower()
    oci_platform = _ARCH_ALIASES.get(machine)
    return PLATFORM_ARCH[oci_platform] if oci_platform else machine


def parse_size(text: str) -> int | None:
    """``"512m"`` -> bytes; ``None`` when it is not a size."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)i?b?\s*", text.lower())
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2)
    factor = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}[unit]
    return int(number * factor)
