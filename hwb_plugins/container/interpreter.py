"""The image's interpreter: which ``/opt/python/<tag>`` serves ``--python``, and what it is
(version, ABI, C library, pip), asked of the interpreter itself."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from hwb_core.interfaces import PythonInfo, RunResult
from hwb_plugins.container.errors import InterpreterNotInImage
from hwb_plugins.container.images import Image
from hwb_plugins.container.layout import DEFAULT_PATH
from hwb_plugins.container.wheelhouse import Target

if TYPE_CHECKING:
    import docker

#: Runs a command in the container: ``run(argv, what, check=True)``.
Runner = Callable[..., RunResult]

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


_LIST_PYTHONS = 'for p in /opt/python/*/bin/python; do [ -x "$p" ] && echo "$p"; done; true'


def probe(run: Runner, base_python: str, image: Image, arch: str) -> tuple[PythonInfo, Target, str]:
    """The container's interpreter as hwb describes interpreters, the wheelhouse's target, and
    the version of the image's pip (``""`` when it has none)."""
    answer = json.loads(
        run([base_python, "-c", _PROBE], "probing the interpreter").output.strip().splitlines()[-1]
    )
    python = PythonInfo(
        path=base_python,
        version=answer["version"],
        implementation=answer["implementation"],
        abi_tag=answer["abi"],
        source=f"image {image.ref}",
        platform_tag=answer.get("platform_tag", ""),
    )
    target = Target(
        version=answer["version"],
        implementation=answer["implementation"],
        abi=answer["abi"],
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


def choose_interpreter(run: Runner, python: PythonInfo, image: Image) -> str:
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


def image_path(client: docker.DockerClient, image: Image) -> str:
    try:
        env = client.images.get(image.id).attrs.get("Config", {}).get("Env") or []
    except Exception:
        env = []
    for item in env:
        if item.startswith("PATH="):
            return str(item[5:])
    return DEFAULT_PATH
