"""Build requirements for an offline container: resolved and downloaded on the host, as wheels
for the container's interpreter and platform, into the host's wheelhouse (``wheelhouse/`` in
hwb's cache directory), mounted read-only. The wheelhouse lasts: a requirement set is
downloaded once per target and age limit, and later builds find it there without asking the
index (``refresh-envs`` downloads it afresh).

What a build asks for is data, never code on the host. Only requirements from an index are
fetched (:func:`check_requirements`: no URL, path, VCS reference or installer option, unless a
wheel with its hash is listed in ``allow-direct-references``), as wheels only, in an empty
working directory, with the credentials a backend would not get withheld. Each set has a
directory of its own (``sets/<key>/``), which is all the container's installer sees, and its
record holds every wheel's sha256: a set changed since it was downloaded (something on the host
wrote into it) is downloaded again.

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

from hwb import BuildError, PythonInfo, Reporter, from_index_only, installer_environment, process
from hwb.constraints import InstallFiles, install_error
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
    from hwb.paths import cache_dir

    return cache_dir() / "wheelhouse"


#: Bumped when sets recorded by an older hwb no longer do (2: a directory per set, hashes).
SET_FORMAT = 2


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
        allowed: Sequence[str] = (),
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
        self.table = table
        self.allowed = tuple(allowed)
        self._pip: list[str] | None = None

    def container_path(self, inside_root: str, set_key: str | None = None) -> str:
        """This target's directory inside the container (the root being mounted at
        ``inside_root``), or that of its requirement set ``set_key``."""
        base = f"{inside_root}/{self.key}"
        return f"{base}/sets/{set_key}" if set_key else base

    def fetch(self, requirements: Sequence[str], constraints: InstallFiles | None = None) -> str:
        """Make sure ``requirements`` and everything they need are here: from an earlier
        build's set when it is fresh and unchanged, else downloaded; raise when one has no
        wheel, or is not a requirement from an index. ``constraints``: the build constraints'
        files the download obeys (part of the set's key). The set's key is returned: its
        directory (:meth:`container_path`) holds its wheels and nothing else."""
        check_requirements(requirements, self.allowed, self.table)
        key = requirement_set_key(requirements, constraints)
        record = self.path / "sets" / f"{key}.json"
        if self._fresh(record):
            self.reporter.debug(
                f"{', '.join(requirements)}: in the host's wheelhouse ({self.path}), no download"
            )
            return key
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
                return key
            staging = Path(tempfile.mkdtemp(prefix=".download-", dir=self.path))
            try:
                self._download(requirements, staging, constraints)
                files = {p.name: _sha256(p) for p in sorted(staging.iterdir()) if p.is_file()}
                final = record.with_suffix("")
                shutil.rmtree(final, ignore_errors=True)
                os.replace(staging, final)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            document = {
                "format": SET_FORMAT,
                "requirements": list(requirements),
                "files": files,
                "created": time.time(),
            }
            partial = record.with_name(record.name + ".part")
            partial.write_text(json.dumps(document, indent=1))
            os.replace(partial, record)
        return key

    def installable(self, requirements: Sequence[str], set_key: str) -> list[str]:
        """``requirements`` as the container's offline installer gets them: a direct reference
        allowed by ``allow-direct-references`` becomes ``name==version`` of the wheel the set
        holds (its directory has no other)."""
        if not self.allowed:
            return list(requirements)
        from packaging.requirements import Requirement
        from packaging.specifiers import SpecifierSet
        from packaging.utils import parse_wheel_filename

        out = []
        for text in requirements:
            if text.lstrip().startswith("-") or from_index_only(text):
                out.append(text)
                continue
            requirement = Requirement(text)
            url = requirement.url or ""
            version = parse_wheel_filename(url.split("#")[0].rsplit("/", 1)[-1])[1]
            requirement.url = None
            requirement.specifier = SpecifierSet(f"=={version}")
            out.append(str(requirement))
        return out

    def _fresh(self, record: Path) -> bool:
        """A set recorded within the age limit whose directory holds its wheels, unchanged
        (their sha256 as downloaded) and nothing else. A changed set is said and downloaded
        again: something wrote into hwb's cache (a build on this host runs as you)."""
        if self.refresh:
            return False
        try:
            document = json.loads(record.read_text())
        except (OSError, ValueError):
            return False
        if not isinstance(document, dict) or document.get("format") != SET_FORMAT:
            return False
        age_days = (time.time() - float(document.get("created", 0))) / 86400
        if self.max_age_days and age_days > self.max_age_days:
            return False
        files: dict[str, str] = document.get("files") or {}
        directory = record.with_suffix("")
        try:
            found = {p.name: p for p in directory.iterdir()}
            same = set(found) == set(files) and all(
                found[name].is_file()
                and not found[name].is_symlink()
                and _sha256(found[name]) == digest
                for name, digest in files.items()
            )
        except OSError:
            return False
        if not same:
            self.reporter.warn(
                f"the wheelhouse's set {directory.name} ({', '.join(document.get('requirements') or [])}) "
                "changed since it was downloaded: downloading it again"
            )
        return same

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
        env = installer_environment(os.environ)
        env = {k: v for k, v in env.items() if not k.startswith("PYTHON")}
        # In the empty staging directory: a requirement never names a file of the working
        # directory, and no configuration found there applies.
        result = process.run(
            cmd, reporter=self.reporter, env=env, cwd=dest, check=False, what="pip download"
        )
        if result.returncode == 0:
            return
        missing = re.findall(r"No matching distribution found for (\S+)", result.output)
        if missing:
            failure: BuildError = WheelNotAvailable(
                f"no wheel of {', '.join(dict.fromkeys(missing))} fits the container "
                f"({target.describe()}), and the container is offline",
                hint=self.network_hint,
                details=result.output,
            )
        else:
            failure = BuildError(
                "could not download the build requirements for the container: "
                + ", ".join(requirements),
                hint="check the names, versions and your index settings (-v shows pip's output); "
                "or " + self.network_hint,
                details=result.output,
            )
        raise install_error(constraints, result.output, failure)

    def files(self, set_key: str) -> list[str]:
        return sorted(p.name for p in (self.path / "sets" / set_key).glob("*.whl"))

    def pip(self) -> list[str]:
        """A pip on the host: hwb's own, else the one of the interpreter found for --python."""
        if self._pip is None:
            self._pip = host_pip(self.python, self.network_hint)
        return self._pip


def check_requirements(requirements: Sequence[str], allowed: Sequence[str], table: str) -> None:
    """Refuse what a build asks the host to fetch unless it is a requirement from an index (or a
    wheel listed in ``allow-direct-references``): a path, a VCS URL, a URL of an sdist or an
    installer option would make the host read, build or run what the project chose."""
    for text in requirements:
        if from_index_only(text) or _normal(text) in allowed:
            continue
        raise BuildError(
            f"the build asked the host to fetch {text.strip()!r}, which is not a requirement "
            "from an index (a URL, path or VCS reference is never fetched for a container)",
            hint="name it by version from your index; or list the wheel with its hash in "
            f"allow-direct-references in {table}; or let the container fetch it itself: "
            f"network = true in {table}",
        )


def _normal(text: str) -> str:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return str(Requirement(text))
    except InvalidRequirement:
        return text


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def requirement_set_key(
    requirements: Sequence[str], constraints: InstallFiles | None = None
) -> str:
    """The same set, however it was spelled or ordered, gives the same key (and the same
    build constraints)."""
    from hwb import normalize_all

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

    from hwb.paths import cache_dir

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
