"""Build requirements for an offline container: resolved and downloaded on the host, as wheels
for the container's interpreter and platform, into the host's wheelhouse (``wheelhouse/`` in
hwb's cache directory), mounted read-only. The wheelhouse lasts: a requirement set is
downloaded once per target and age limit, and later builds find it there without asking the
index (``refresh-envs`` downloads it afresh).

The host runs ``pip download --only-binary=:all:`` with the container's Python version,
implementation, ABI and every platform tag its C library accepts (``manylinux_2_36`` down to
``manylinux_2_5``, or ``musllinux_1_2`` down to ``musllinux_1_0``). A requirement with no such
wheel cannot be installed offline: the error says so and points at ``network = true``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from hwb_core import process
from hwb_core.constraints import InstallFiles
from hwb_core.errors import BuildError
from hwb_core.interfaces import PythonInfo, Reporter
from hwb_plugins.container.errors import WheelNotAvailable


def network_hint(table: str) -> str:
    """How to let the container install from the index itself, ``table`` naming the keys'."""
    return f"let the container install it from the index itself: network = true in {table} (or --network)"


@dataclasses.dataclass(frozen=True)
class Target:
    """The container's interpreter and platform, as it answered the probe."""

    version: str
    """``"3.12.1"``."""
    implementation: str
    """``"cpython"`` or ``"pypy"``."""
    abi: str
    """``"cp312"``, ``"cp313t"``, ``"pypy310_pp73"``."""
    arch: str
    libc: str
    """``"glibc"`` or ``"musl"``."""
    libc_version: tuple[int, int]

    @property
    def implementation_tag(self) -> str:
        return {"cpython": "cp", "pypy": "pp"}.get(self.implementation, self.implementation)

    def platform_tags(self) -> list[str]:
        """Every platform tag this libc accepts, most specific first (what pip would accept)."""
        major, minor = self.libc_version
        tags: list[str] = []
        if self.libc == "musl":
            return [f"musllinux_{major}_{m}_{self.arch}" for m in range(minor, -1, -1)]
        if self.libc != "glibc" or major != 2:
            return [f"linux_{self.arch}"]
        oldest = 5 if self.arch in ("x86_64", "i686") else 17
        legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
        for m in range(minor, oldest - 1, -1):
            tags.append(f"manylinux_2_{m}_{self.arch}")
            if m in legacy and (m != 12 or self.arch in ("x86_64", "i686")):
                tags.append(f"{legacy[m]}_{self.arch}")
        return tags

    def key(self) -> str:
        """The directory name of this target in the host's wheelhouse:
        ``cp312-3.12.1-manylinux_2_36_x86_64``."""
        tags = self.platform_tags()
        platform = tags[0] if tags else self.arch
        text = f"{self.abi}-{self.version}-{platform}"
        return re.sub(r"[^A-Za-z0-9._-]", "_", text)

    def describe(self) -> str:
        name = {"cpython": "CPython", "pypy": "PyPy"}.get(self.implementation, self.implementation)
        platform = self.platform_tags()[0] if self.platform_tags() else self.arch
        return f"{name} {self.version}, {platform}"


def wheelhouse_root() -> Path:
    """The host's wheelhouse: one directory per container target, mounted read-only."""
    from hwb_core.paths import cache_dir

    return cache_dir() / "wheelhouse"


class Wheelhouse:
    """The wheels of one container target (interpreter and platform) in the host's wheelhouse,
    kept between builds. A requirement set downloaded once is recorded in ``sets/``; the next
    build that needs the same set, within ``max_age_days``, asks no index at all."""

    def __init__(
        self,
        root: Path,
        target: Target,
        python: PythonInfo,
        reporter: Reporter,
        table: str,
        *,
        max_age_days: float = 7.0,
        refresh: bool = False,
    ) -> None:
        self.root = root
        self.key = target.key()
        self.path = root / self.key
        self.network_hint = network_hint(table)
        self.target = target
        self.python = python
        self.reporter = reporter
        self.max_age_days = max_age_days
        self.refresh = refresh
        self._pip: list[str] | None = None

    def container_path(self, inside_root: str) -> str:
        """This target's directory inside the container, the root being mounted at
        ``inside_root``."""
        return f"{inside_root}/{self.key}"

    def fetch(self, requirements: Sequence[str], constraints: InstallFiles | None = None) -> None:
        """Make sure ``requirements`` and everything they need are here: from an earlier
        build's record when it is fresh, else downloaded; raise when one has no wheel.
        ``constraints``: the build constraints' files the download obeys (part of the set's
        key)."""
        if not requirements:
            return
        key = requirement_set_key(requirements, constraints)
        record = self.path / "sets" / f"{key}.json"
        if self._fresh(record):
            self.reporter.debug(
                f"{', '.join(requirements)}: in the host's wheelhouse ({self.path}), no download"
            )
            return
        from filelock import FileLock

        try:
            (self.path / "sets").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BuildError(
                f"cannot keep the wheelhouse in {self.path} ({exc.strerror or exc})",
                hint="set HWB_CACHE_DIR to a writable directory",
            ) from None
        with FileLock(str(self.path / ".lock")):
            if self._fresh(record):  # another build fetched the same set meanwhile
                return
            staging = Path(tempfile.mkdtemp(prefix=".download-", dir=self.path))
            try:
                self._download(requirements, staging, constraints)
                files = sorted(p.name for p in staging.iterdir() if p.is_file())
                for name in files:
                    os.replace(staging / name, self.path / name)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            document = {"requirements": list(requirements), "files": files, "created": time.time()}
            partial = record.with_name(record.name + ".part")
            partial.write_text(json.dumps(document, indent=1))
            os.replace(partial, record)

    def _fresh(self, record: Path) -> bool:
        """A set recorded within the age limit whose files are all still here."""
        if self.refresh:
            return False
        try:
            document = json.loads(record.read_text())
        except (OSError, ValueError):
            return False
        age_days = (time.time() - float(document.get("created", 0))) / 86400
        if self.max_age_days and age_days > self.max_age_days:
            return False
        return all((self.path / name).is_file() for name in document.get("files", []))

    def _download(
        self, requirements: Sequence[str], dest: Path, constraints: InstallFiles | None = None
    ) -> None:
        target = self.target
        self.reporter.step(
            f"downloading {', '.join(requirements)} on the host for the container ({target.describe()})"
        )
        cmd = [
            *self.pip(),
            "download",
            "--dest",
            str(dest),
            "--find-links",
            str(self.path),
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "--no-input",
            "--progress-bar",
            "off",
            "--python-version",
            target.version,
            "--implementation",
            target.implementation_tag,
            "--abi",
            target.abi,
        ]
        for tag in target.platform_tags():
            cmd += ["--platform", tag]
        cmd += constraints.args() if constraints is not None else list(requirements)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        result = process.run(cmd, reporter=self.reporter, env=env, check=False, what="pip download")
        if result.returncode == 0:
            return
        if constraints is not None:
            explained = constraints.owner.install_failure(result.output)
            if explained is not None:
                raise explained
        missing = re.findall(r"No matching distribution found for (\S+)", result.output)
        if missing:
            raise WheelNotAvailable(
                f"no wheel of {', '.join(dict.fromkeys(missing))} fits the container "
                f"({target.describe()}), and the container is offline",
                hint=self.network_hint,
                details=result.output,
            )
        raise BuildError(
            "could not download the build requirements for the container: "
            + ", ".join(requirements),
            hint="check the names, versions and your index settings (-v shows pip's output); or "
            + self.network_hint,
            details=result.output,
        )

    def files(self) -> list[str]:
        return sorted(p.name for p in self.path.glob("*.whl"))

    def pip(self) -> list[str]:
        """A pip on the host: hwb's own, else the one of the interpreter found for --python."""
        if self._pip is None:
            self._pip = host_pip(self.python, self.network_hint)
        return self._pip


def requirement_set_key(
    requirements: Sequence[str], constraints: InstallFiles | None = None
) -> str:
    """The same set, however it was spelled or ordered, gives the same key (and the same
    build constraints)."""
    from hwb_core.requirements import normalize_all

    text = "\n".join(normalize_all(requirements))
    if constraints is not None:
        text += "\n" + constraints.digest()
    return hashlib.sha256(text.encode()).hexdigest()[:20]


_has_pip: dict[str, bool] = {}


def host_pip(python: PythonInfo, network_hint: str) -> list[str]:
    """A pip on the host to download with: hwb's own, else that of the interpreter found for
    ``--python`` or of the one hwb's environment was made from, else a private one that hwb's uv
    installs once into hwb's cache (``tools/``): hwb's environment may have no pip (uv made it)
    and the host may have no interpreter of the version a container builds for."""
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    base = getattr(sys, "_base_executable", "") or ""
    for candidate in dict.fromkeys(p for p in (python.path, base) if p):
        if candidate not in _has_pip:  # asked once per process (hwb matrix builds many times)
            try:
                _has_pip[candidate] = (
                    subprocess.run(
                        [candidate, "-m", "pip", "--version"],
                        capture_output=True,
                        timeout=60,
                        stdin=subprocess.DEVNULL,
                    ).returncode
                    == 0
                )
            except (OSError, subprocess.TimeoutExpired):
                _has_pip[candidate] = False
        if _has_pip[candidate]:
            return [candidate, "-m", "pip"]
    private = _private_pip()
    if private is not None:
        return private
    where = " or ".join(dict.fromkeys(p for p in (sys.executable, python.path) if p))
    raise BuildError(
        "no pip on this machine to download build requirements for the offline container",
        hint=f"install pip for {where}; or " + network_hint,
    )


def _private_pip() -> list[str] | None:
    """``tools/pip-<python>/`` in hwb's cache: a virtual environment with pip, made once by
    hwb's uv (``None`` without uv, or when it cannot be made)."""
    from filelock import FileLock

    from hwb_core.paths import cache_dir

    try:
        import uv

        uv_bin = uv.find_uv_bin()
    except (ImportError, FileNotFoundError):
        uv_bin = shutil.which("uv") or ""
    if not uv_bin:
        return None
    tag = f"{sys.implementation.name}-{sys.version_info[0]}.{sys.version_info[1]}"
    env_dir = cache_dir() / "tools" / f"pip-{tag}"
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    try:
        env_dir.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(env_dir) + ".lock"):
            if not (env_dir / "ready").is_file():
                shutil.rmtree(env_dir, ignore_errors=True)
                for cmd in (
                    [
                        uv_bin,
                        "venv",
                        "--quiet",
                        "--no-config",
                        "--python",
                        sys.executable,
                        str(env_dir),
                    ],
                    [
                        uv_bin,
                        "pip",
                        "install",
                        "--quiet",
                        "--no-config",
                        "--python",
                        str(python),
                        "pip",
                    ],
                ):
                    subprocess.run(
                        cmd, check=True, capture_output=True, timeout=300, stdin=subprocess.DEVNULL
                    )
                (env_dir / "ready").write_text("")
    except (OSError, subprocess.SubprocessError):
        return None
    return [str(python), "-m", "pip"]
