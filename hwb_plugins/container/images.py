"""Which image a build runs in, and getting it onto this machine.

- ``image`` names one; ``manylinux``/``musllinux`` name the PyPA image for the target
  architecture. Missing ones are pulled (``pull = "missing"``) with progress.
- ``dockerfile`` builds one, tagged ``hwb-dockerfile/<project>:<hash>`` where the hash covers
  the Dockerfile, every file of its context that Docker would send (``.dockerignore``
  respected) and the platform: an unchanged recipe is reused without contacting the builder.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hwb import Reporter
from hwb_plugins.container.errors import (
    ContainerError,
    ImageUnavailable,
    engine_message,
    is_no_space,
    one_line,
)
from hwb_plugins.container.settings import PLATFORM_ARCH, ContainerSettings

if TYPE_CHECKING:
    import docker

LABEL = "hwb"
DOCKERFILE_REPOSITORY = "hwb-dockerfile"

_ENGINE_ARCH = {"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "arm": "armv7l"}


@dataclasses.dataclass(frozen=True)
class Image:
    ref: str
    """What the user knows it as: a name or the Dockerfile's tag."""
    id: str
    arch: str
    """Architecture of its binaries, as in wheel tags."""


def resolve(
    client: docker.DockerClient, settings: ContainerSettings, project_name: str, reporter: Reporter
) -> Image:
    if settings.dockerfile is not None:
        return build_from_dockerfile(client, settings, project_name, reporter)
    ref = settings.image or settings.default_image()
    return ensure(client, ref, settings, reporter)


def ensure(
    client: docker.DockerClient, ref: str, settings: ContainerSettings, reporter: Reporter
) -> Image:
    """The image ``ref``, pulled first when the pull policy asks for it."""
    from docker.errors import APIError, ImageNotFound

    local = None
    if settings.pull != "always":
        try:
            local = client.images.get(ref)
        except ImageNotFound:
            local = None
        except APIError as exc:
            raise _image_error(settings, ref, exc) from None
    if local is not None:
        arch = _image_arch(local.attrs)
        if settings.platform is None or arch == settings.arch:
            return Image(ref, local.id, arch)
        reporter.info(
            f"{ref} on this machine is for {arch}; looking for its {settings.arch} variant"
        )
    if settings.pull == "never":
        raise ImageUnavailable(
            f'image {ref} is not on this machine (for {settings.arch}) and pull = "never"',
            hint=f"load or build it (`{settings.engine.name} pull {ref}`), or allow pulling with "
            'pull = "missing"',
        )
    pull(client, ref, settings, reporter)
    try:
        pulled = client.images.get(ref)
    except ImageNotFound:
        raise ImageUnavailable(f"image {ref} was pulled but the engine cannot find it") from None
    arch = _image_arch(pulled.attrs)
    if settings.platform is not None and arch != settings.arch:
        raise ImageUnavailable(
            f"image {ref} is for {arch}, not {settings.arch}",
            hint=f"use an image built for {settings.platform}",
        )
    return Image(ref, pulled.id, arch)


def pull(
    client: docker.DockerClient, ref: str, settings: ContainerSettings, reporter: Reporter
) -> None:
    """Pull ``ref``, reporting progress about every two seconds."""
    from docker.errors import APIError
    from docker.utils import parse_repository_tag

    repository, tag = parse_repository_tag(ref)
    reporter.step(f"pulling {ref}" + (f" for {settings.platform}" if settings.platform else ""))
    layers: dict[str, tuple[int, int]] = {}
    last = time.monotonic()
    try:
        stream = client.api.pull(
            repository, tag or "latest", stream=True, decode=True, platform=settings.platform
        )
        for event in stream:
            if "error" in event:
                raise ImageUnavailable(
                    f"cannot pull image {ref}: {one_line(event['error'])}",
                    hint=_pull_hint(settings, ref, event["error"]),
                )
            layer, status = event.get("id"), event.get("status", "")
            detail = event.get("progressDetail") or {}
            if layer and detail.get("total"):
                layers[layer] = (int(detail.get("current", 0)), int(detail["total"]))
            elif layer and status in ("Pull complete", "Already exists") and layer in layers:
                size = layers[layer][1]
                layers[layer] = (size, size)
            if status and not detail:
                reporter.output(f"{layer + ': ' if layer else ''}{status}")
            if layers and time.monotonic() - last >= 2:
                last = time.monotonic()
                done_mb = sum(c for c, _ in layers.values()) / 1e6
                total_mb = sum(t for _, t in layers.values()) / 1e6
                reporter.info(f"  pulling {ref}: {done_mb:.0f} of {total_mb:.0f} MB")
    except APIError as exc:
        raise _image_error(settings, ref, exc) from None
    except ImageUnavailable:
        raise
    except Exception as exc:  # connection dropped in the middle of a pull
        raise ImageUnavailable(
            f"cannot pull image {ref}: {one_line(str(exc))}",
            hint=_pull_hint(settings, ref, str(exc)),
        ) from None


def _image_error(settings: ContainerSettings, ref: str, exc: Exception) -> ImageUnavailable:
    message = engine_message(exc)
    return ImageUnavailable(
        f"cannot pull image {ref}: {message}", hint=_pull_hint(settings, ref, message)
    )


def _pull_hint(settings: ContainerSettings, ref: str, message: str) -> str:
    lowered = message.lower()
    cli = settings.engine.name
    if is_no_space(lowered):
        return settings.engine.prune_hint
    if any(
        s in lowered
        for s in ("not found", "manifest unknown", "does not exist", "denied", "unauthorized")
    ):
        return (
            f"check the name; for a private registry run `{cli} login` first; or choose another "
            f"image with --image (pull it by hand with `{cli} pull {ref}`)"
        )
    return (
        f"this machine may be offline: pull it where it can be (`{cli} pull {ref}`, then "
        f"`{cli} save`/`{cli} load`), or use a local image with --image or --dockerfile"
    )


def _image_arch(attrs: dict[str, Any]) -> str:
    arch = str(attrs.get("Architecture") or "")
    variant = str(attrs.get("Variant") or "")
    if arch == "arm" and variant not in ("", "v7"):
        return f"arm{variant}"
    return _ENGINE_ARCH.get(arch, arch)


# --------------------------------------------------------------------------- Dockerfile


def recipe_hash(dockerfile: Path, context: Path, platform: str | None) -> str:
    """A hash of what the image is built from: the Dockerfile, the context files Docker would
    send (names, modes and contents) and the platform."""
    from docker.utils.build import exclude_paths

    digest = hashlib.sha256()
    digest.update(b"hwb-dockerfile-1\0")
    digest.update((platform or "").encode() + b"\0")
    digest.update(dockerfile.read_bytes() + b"\0")
    patterns = _dockerignore(context)
    try:
        relative_dockerfile = str(dockerfile.relative_to(context))
    except ValueError:
        relative_dockerfile = None
    for rel in sorted(exclude_paths(str(context), patterns, dockerfile=relative_dockerfile)):
        path = context / rel
        digest.update(rel.encode("utf-8", "surrogateescape") + b"\0")
        if path.is_symlink():
            digest.update(b"L" + os.readlink(path).encode("utf-8", "surrogateescape"))
        elif path.is_file():
            digest.update(b"F%o\0" % (path.stat().st_mode & 0o777))
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _dockerignore(context: Path) -> list[str]:
    path = context / ".dockerignore"
    if not path.is_file():
        return []
    lines = (line.strip() for line in path.read_text(errors="replace").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def dockerfile_tag(project_name: str, digest: str) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", project_name.lower()).strip(".-_") or "project"
    return f"{DOCKERFILE_REPOSITORY}/{slug}:{digest}"


def build_from_dockerfile(
    client: docker.DockerClient, settings: ContainerSettings, project_name: str, reporter: Reporter
) -> Image:
    from docker.errors import APIError, ImageNotFound

    assert settings.dockerfile is not None and settings.dockerfile_context is not None
    dockerfile, context = settings.dockerfile, settings.dockerfile_context
    tag = dockerfile_tag(project_name, recipe_hash(dockerfile, context, settings.platform))
    try:
        existing = client.images.get(tag)
        reporter.step(f"reusing image {tag} (built from {dockerfile.name}, unchanged since)")
        return Image(tag, existing.id, _image_arch(existing.attrs))
    except ImageNotFound:
        pass
    except APIError as exc:
        raise ContainerError(
            f"the {settings.engine.display} engine failed: {engine_message(exc)}"
        ) from None
    reporter.step(f"building image {tag} from {dockerfile}")
    try:
        relative: str = str(dockerfile.relative_to(context))
    except ValueError:
        relative = str(dockerfile)  # outside the context: the SDK adds it to the upload
    tail: list[str] = []
    try:
        for event in client.api.build(
            path=str(context),
            dockerfile=relative,
            tag=tag,
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
            platform=settings.platform,
            labels={LABEL: "1", "hwb.dockerfile": str(dockerfile)},
        ):
            if "stream" in event:
                for line in str(event["stream"]).splitlines():
                    if line.strip():
                        tail.append(line)
                        reporter.output(line)
            if "error" in event:
                message = one_line(event["error"])
                raise ImageUnavailable(
                    f"building the image from {dockerfile.name} failed: {message}",
                    hint=settings.engine.prune_hint
                    if is_no_space(message)
                    else "fix the Dockerfile; the output above (or -v) shows the failing step",
                    details="\n".join(tail[-30:]),
                )
    except APIError as exc:
        message = engine_message(exc)
        raise ImageUnavailable(
            f"building the image from {dockerfile.name} failed: {message}",
            hint=settings.engine.prune_hint
            if is_no_space(message)
            else "check that the FROM image exists on this machine or can be pulled",
        ) from None
    try:
        built = client.images.get(tag)
    except ImageNotFound:
        raise ImageUnavailable(
            f"building the image from {dockerfile.name} produced no image"
        ) from None
    arch = _image_arch(built.attrs)
    if settings.platform is not None and arch != PLATFORM_ARCH[settings.platform]:
        raise ImageUnavailable(
            f"the image built from {dockerfile.name} is for {arch}, not {settings.arch}"
        )
    return Image(tag, built.id, arch)
