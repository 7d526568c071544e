"""The build container's life: how it is hardened, created, started and removed, and the
sweep of containers an hwb killed outright left behind.

The container runs as the invoking user's uid:gid, with every capability dropped,
no-new-privileges, a pids limit, the configured memory and CPU limits, no network unless
``network = true``, and no host environment variable unless listed in ``env``. It runs
``sleep infinity`` under the engine's init; every step is an ``exec`` in it
(:mod:`.execution`).
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hwb import Reporter
from hwb_plugins.container import engine
from hwb_plugins.container.errors import ContainerError, engine_message, is_no_space
from hwb_plugins.container.images import Image
from hwb_plugins.container.layout import HOME, LABEL, SCRATCH, SRC_MOUNT, UV, WHEELHOUSE, WORK
from hwb_plugins.container.settings import ContainerSettings

if TYPE_CHECKING:
    import docker


def container_user(security: set[str]) -> str | None:
    """The invoking user's uid:gid, so files in the output belong to them. A rootless engine
    maps the container's root to the invoking user already; on Windows the engine's VM decides."""
    if "rootless" in security:
        return "0:0"
    if not hasattr(os, "getuid"):
        return None
    return f"{os.getuid()}:{os.getgid()}"


def container_spec(
    settings: ContainerSettings,
    image: Image,
    project_name: str,
    source: Path,
    scratch: Path,
    work_dir: Path,
    wheelhouse: Path | None,
    user: str | None,
    selinux: bool = False,
    uv: Path | None = None,
    extra_volumes: Mapping[str, Mapping[str, str]] | None = None,
    shared: bool = False,
) -> dict[str, Any]:
    """The arguments of ``containers.create``: every hardening and limit in one place.
    ``shared``: a container kept for several builds (:mod:`.shared`), labelled so."""
    from docker.types import DeviceRequest

    # On SELinux hosts a bind mount must be relabelled (z: shared) for the container to read it.
    relabel = ",z" if selinux else ""
    mounts = [
        (str(source), SRC_MOUNT, "ro"),
        (str(scratch), SCRATCH, "rw"),
        (str(work_dir), WORK, "rw"),
    ]
    if wheelhouse is not None:
        mounts.append((str(wheelhouse), WHEELHOUSE, "ro"))
    if uv is not None:
        mounts.append((str(uv), UV, "ro"))
    for host, mount in (extra_volumes or {}).items():
        mounts.append((host, mount["bind"], mount["mode"]))
    volumes: dict[str, dict[str, str]] | list[str] = {
        host: {"bind": bind, "mode": mode + relabel} for host, bind, mode in mounts
    }
    if len(volumes) < len(mounts):  # one host directory at two places (a kept container's)
        volumes = [f"{host}:{bind}:{mode}{relabel}" for host, bind, mode in mounts]
    environment = {
        "HOME": HOME,
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
    if shared:
        spec["labels"]["hwb.shared"] = "1"
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
    settings: ContainerSettings,
    image: Image,
    project_name: str,
    source: Path,
    scratch: Path,
    work_dir: Path,
    wheelhouse: Path | None,
    uv: Path | None = None,
    *,
    extra_volumes: Mapping[str, Mapping[str, str]] | None = None,
    shared: bool = False,
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
        uv=uv,
        extra_volumes=extra_volumes,
        shared=shared,
    )
    try:
        container = client.containers.create(**spec)
    except APIError as exc:
        message = engine_message(exc)
        raise ContainerError(
            f"the {settings.engine.display} engine refused the build container: {message}",
            hint=settings.engine.prune_hint
            if is_no_space(message)
            else f"check memory, cpus and gpu in {settings.engine.table}",
        ) from None
    return str(container.id)


def start_container(
    client: docker.DockerClient, container_id: str, settings: ContainerSettings
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
            hint=settings.engine.prune_hint
            if is_no_space(message)
            else "check that the image has `sleep` (coreutils or busybox)",
        ) from None


def remove_container(
    client: docker.DockerClient, container_id: str, reporter: Reporter, cli: str
) -> None:
    """Remove the container and whatever runs in it, and return once it is gone; survives one
    more Ctrl-C while at it. An engine under load may refuse at first (a kill that timed out,
    a removal already in progress): it is asked again, for up to :data:`REMOVE_PATIENCE`
    seconds, before the container is reported as left behind."""
    import time

    from docker.errors import APIError, NotFound

    deadline = time.monotonic() + REMOVE_PATIENCE
    interrupted = False
    problem = ""
    while True:
        try:
            client.api.remove_container(container_id, force=True, v=True)
            _wait_until_gone(client, container_id, deadline)
            return
        except NotFound:
            return
        except KeyboardInterrupt:
            if interrupted:
                raise
            interrupted = True
            continue
        except APIError as exc:
            problem = engine_message(exc)
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    reporter.warn(
        f"could not remove build container {container_id[:12]}: {problem}; "
        f"remove it with `{cli} rm -f {container_id[:12]}`"
    )


def _wait_until_gone(client: docker.DockerClient, container_id: str, deadline: float) -> None:
    """An engine may answer a removal before the container is gone (podman's compatible API
    under load): wait until asking for it finds nothing."""
    import time

    from docker.errors import NotFound

    while time.monotonic() < deadline:
        try:
            client.api.inspect_container(container_id)
        except NotFound:
            # podman may still list a container it is removing: gone means unlisted too
            if not client.api.containers(all=True, filters={"id": container_id}):
                return
        time.sleep(0.2)


#: Seconds :func:`remove_container` keeps asking an engine that refuses.
REMOVE_PATIENCE = 20.0


def sweep_orphans(client: docker.DockerClient, reporter: Reporter, cli: str) -> None:
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
            remove_container(client, item["Id"], reporter, cli)


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
