"""The image's interpreter: which ``/opt/python/<tag>`` serves ``--python``, and what it is
(version, ABI, C library, pip), asked of the interpreter itself."""

from __future__ import annotations

import itertools
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hwb import PythonInfo, RunResult, pythons
from hwb_plugins.container.errors import InterpreterNotInImage
from hwb_plugins.container.images import Image
from hwb_plugins.container.layout import DEFAULT_PATH, SCRATCH
from hwb_plugins.container.wheelhouse import Target

if TYPE_CHECKING:
    import docker

#: Runs a command in the container: ``run(argv, what, check=True)``.
Runner = Callable[..., RunResult]

_LIST_PYTHONS = 'for p in /opt/python/*/bin/python; do [ -x "$p" ] && echo "$p"; done; true'


class ImageFacts:
    """What an image answered before, kept per image id (``images/<id>.json`` in hwb's cache):
    its interpreters, each one's probe, whether hwb's uv runs there. An id names the image's
    content, so the answers hold as long as it exists; the next build of the same image skips
    asking (about 0.2 s)."""

    def __init__(self, image: Image) -> None:
        from hwb.paths import cache_dir

        safe = "".join(c if c.isalnum() else "-" for c in image.id)
        self.path = cache_dir() / "images" / f"{safe}.json"
        try:
            self.data: dict[str, Any] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.data = {}

    def get(self, name: str, key: str | None = None) -> Any:
        value = self.data.get(name)
        return value.get(key) if key is not None and isinstance(value, dict) else value

    def put(self, name: str, value: Any, key: str | None = None) -> None:
        if key is not None:
            self.data.setdefault(name, {})[key] = value
        else:
            self.data[name] = value
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.part")
            partial.write_text(json.dumps(self.data))
            os.replace(partial, self.path)
        except OSError:
            pass  # only a shortcut: the next build asks again


def probe(
    run: Runner,
    base_python: str,
    image: Image,
    arch: str,
    scratch: Path,
    facts: ImageFacts | None = None,
    scratch_inside: str = SCRATCH,
) -> tuple[PythonInfo, Target, str]:
    """The container's interpreter as hwb describes interpreters (the kernel's one probe,
    :data:`hwb.pythons.PROBE`, with hwb's ``packaging`` copied into the scratch mount),
    the wheelhouse's target, and the version of the image's pip (``""`` when it has none).
    ``scratch`` is the host directory seen at ``scratch_inside`` in the container."""
    answer = facts.get("probe", base_python) if facts is not None else None
    if answer is None:
        lib = scratch / "probe-lib"
        if not (lib / "packaging").is_dir():
            shutil.copytree(
                Path(pythons.packaging_location()) / "packaging",
                lib / "packaging",
                ignore=shutil.ignore_patterns("__pycache__"),
            )
        output = run(
            [base_python, "-c", pythons.PROBE, f"{scratch_inside}/probe-lib"],
            "probing the interpreter",
        )
        answer = json.loads(output.output.strip().splitlines()[-1])
        if facts is not None:
            facts.put("probe", answer, base_python)
    python = pythons.info_from_probe(answer, base_python, f"image {image.ref}")
    target = Target(
        version=python.version,
        implementation=python.implementation,
        abi=python.abi_tag,
        arch=image.arch or arch,
        libc=answer["libc"][0],
        libc_version=_major_minor(answer["libc"][1]),
    )
    return python, target, str(answer.get("pip", ""))


def _major_minor(text: str) -> tuple[int, int]:
    parts = [int("".join(itertools.takewhile(str.isdigit, p)) or 0) for p in text.split(".")[:2]]
    parts += [0] * (2 - len(parts))
    return parts[0], parts[1]


def interpreter_dir(python: PythonInfo) -> str:
    """``/opt/python`` directory name for an interpreter: 3.12 -> ``cp312-cp312``."""
    major, minor = python.version_tuple[:2]
    if python.implementation == "pypy":
        return f"pp{major}{minor}-{python.abi_tag}"
    abi = python.abi_tag
    if (major, minor) < (3, 8) and not abi.endswith("m"):
        abi += "m"
    return f"cp{major}{minor}-{abi}"


def choose_interpreter(
    run: Runner, python: PythonInfo, image: Image, facts: ImageFacts | None = None
) -> str:
    wanted = interpreter_dir(python)
    found = facts.get("pythons") if facts is not None else None
    if found is None:
        found = [
            line.strip()
            for line in run(
                ["/bin/sh", "-c", _LIST_PYTHONS], "listing interpreters"
            ).output.splitlines()
        ]
        found = [p for p in found if p.startswith("/opt/python/")]
        if facts is not None:
            facts.put("pythons", found)
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
    """``cp313-cp313t`` -> ``CPython 3.13t``, ``pp39-pypy39_pp73`` -> ``PyPy 3.9``."""
    tag, _, abi = name.partition("-")
    digits = tag[2:]
    version = f"{digits[0]}.{digits[1:]}" if len(digits) >= 2 and digits.isdigit() else digits
    if tag.startswith("cp") and abi.endswith("t"):
        version += "t"
    return f"{'PyPy' if tag.startswith('pp') else 'CPython'} {version}"


def image_path(client: docker.DockerClient, image: Image) -> str:
    try:
        env = client.images.get(image.id).attrs.get("Config", {}).get("Env") or []
    except Exception:
        env = []
    for item in env:
        if item.startswith("PATH="):
            return str(item[5:])
    return DEFAULT_PATH
