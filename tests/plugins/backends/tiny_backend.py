"""A complete PEP 517 backend in one file, with no build requirements.

Tests copy it into a project and point ``[build-system] backend-path`` at it, so a real build
runs through hwb (environment, hook subprocess, publish) without reaching any index. It packs the
project's package directory (named after the project) and a valid ``.dist-info``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import zipfile


def _metadata():
    with open("pyproject.toml", encoding="utf-8") as stream:
        text = stream.read()
    name = re.search(r'^name\s*=\s*"([^"]+)"', text, re.M).group(1)
    version = re.search(r'^version\s*=\s*"([^"]+)"', text, re.M).group(1)
    return re.sub(r"[-_.]+", "_", name).lower(), version


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name, version = _metadata()
    dist_info = f"{name}-{version}.dist-info"
    files = {}
    if os.path.isdir(name):
        for dirpath, _dirnames, filenames in os.walk(name):
            for filename in sorted(filenames):
                path = os.path.join(dirpath, filename)
                with open(path, "rb") as stream:
                    files[path.replace(os.sep, "/")] = stream.read()
    files[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    )
    files[f"{dist_info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: tiny_backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = [_record_line(arcname, data) for arcname, data in files.items()]
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    filename = f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as wheel:
        for arcname, data in files.items():
            wheel.writestr(arcname, data)
    return filename
