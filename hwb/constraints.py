"""Pinned build requirements: a constraints file (pip and uv's format) that every install of a
build's requirements obeys, in every isolation (``build-constraint``, ``--build-constraint``).
The plugin ``constraints`` reads the file (the ``build_constraints`` hook); this module holds
what every isolation needs to apply it.

The file holds requirement lines (``setuptools==68.2.2``), optionally with markers and
``--hash=sha256:...`` options, comments and ``\\`` continuations; nothing else. When one line
carries a hash, hash checking is on: every build requirement must be pinned there with ``==``
and hashes, and so must everything it pulls in. Isolations apply it through
:attr:`hwb_core.interfaces.BuildEnv.build_constraints`, set by the core while the backend's
requirements are installed: an installer gets ``-c FILE`` and, when hashed, the requirements
rewritten as pinned, hashed lines (:meth:`BuildConstraints.pinned_lines`),
``--require-hashes`` and wheels only (``--only-binary :all:``); when it fails, :func:`install_error` says why in hwb's words.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from hwb_core.errors import BuildError, ConfigError

_HASH = re.compile(r"--hash[= ](\w+:[0-9a-fA-F]+)")


@dataclasses.dataclass(frozen=True)
class Pin:
    """One line of the file."""

    name: str
    """The canonical (PEP 503) name."""
    requirement: str
    """The line's requirement, without its hashes (``setuptools==68.2.2``)."""
    specifier: str
    marker: str | None
    hashes: tuple[str, ...]
    """``"sha256:..."`` entries, as written."""

    @property
    def version(self) -> str | None:
        """The version pinned with ``==``, else ``None``."""
        match = re.fullmatch(r"===?\s*([^,*\s]+)", self.specifier.strip())
        return match.group(1) if match else None


@dataclasses.dataclass(frozen=True)
class BuildConstraints:
    path: Path
    """The file, absolute."""
    source: str
    """Where it was named (``--build-constraint``, a pyproject.toml, ``HWB_BUILD_CONSTRAINT``)."""
    text: str
    pins: tuple[Pin, ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def hashed(self) -> bool:
        return any(pin.hashes for pin in self.pins)

    def pins_for(self, marker_env: Mapping[str, str]) -> dict[str, Pin]:
        """The lines that apply to an interpreter (``PythonInfo.marker_env``), by name."""
        from packaging.markers import Marker

        found: dict[str, Pin] = {}
        for pin in self.pins:
            if pin.marker and marker_env and not Marker(pin.marker).evaluate(dict(marker_env)):
                continue
            found.setdefault(pin.name, pin)
        return found

    def pinned_lines(self, requirements: Sequence[str], marker_env: Mapping[str, str]) -> list[str]:
        """``requirements`` as lines of a requirements file for a hash-checking install:
        each pinned with ``==`` and the file's hashes. Raises :class:`BuildError` naming a
        requirement the file does not pin, or pins to a version it does not allow."""
        from packaging.markers import default_environment
        from packaging.requirements import InvalidRequirement, Requirement
        from packaging.utils import canonicalize_name

        environment: dict[str, str] = dict(marker_env) or {
            k: str(v) for k, v in default_environment().items()
        }
        pins = self.pins_for(environment)
        lines: list[str] = []
        for text in requirements:
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                raise BuildError(f"build requirement {text!r} is not a valid requirement") from None
            if requirement.marker and not requirement.marker.evaluate(environment):
                continue
            pin = pins.get(canonicalize_name(requirement.name))
            if pin is None or not pin.hashes or pin.version is None:
                raise BuildError(
                    f"build requirement {text} has no pinned, hashed line in {self.path}, which "
                    "has hashes (then every build requirement needs one)",
                    hint=f"add it: hwb lock -o {self.path}",
                )
            if requirement.url or not requirement.specifier.contains(pin.version, prereleases=True):
                raise BuildError(
                    f"{self.path} pins {pin.name}=={pin.version}, but the build requires {text}",
                    hint=f"write the file again: hwb lock -o {self.path}",
                )
            extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
            hashes = " ".join(f"--hash={h}" for h in pin.hashes)
            lines.append(f"{requirement.name}{extras}=={pin.version} {hashes}")
        return lines

    def install_files(
        self, requirements: Sequence[str], marker_env: Mapping[str, str], directory: Path
    ) -> InstallFiles:
        """Write what an installer needs into ``directory`` (a copy of the file, and the
        pinned requirements when it has hashes), for an interpreter with ``marker_env``."""
        directory.mkdir(parents=True, exist_ok=True)
        copy = directory / "build-constraints.txt"
        copy.write_text(self.text, encoding="utf-8")
        if not self.hashed:
            return InstallFiles(copy, None, tuple(requirements), self)
        pinned = directory / "build-requirements.txt"
        lines = self.pinned_lines(requirements, marker_env)
        pinned.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return InstallFiles(copy, pinned, (), self)

    def violations(self, installed: Mapping[str, str], marker_env: Mapping[str, str]) -> list[str]:
        """Distributions of ``installed`` (canonical name: version) outside the file's pins."""
        from packaging.specifiers import SpecifierSet

        found = []
        for name, pin in self.pins_for(marker_env).items():
            have = installed.get(name)
            if have is not None and not SpecifierSet(pin.specifier).contains(
                have, prereleases=True
            ):
                found.append(f"{name} {have} (the constraints say {pin.requirement})")
        return found

    def install_failure(self, output: str) -> BuildError | None:
        """The one-line error for an installer's output that tells of a hash problem."""
        mismatch = re.search(r"Hash mismatch for `([^`]+)`", output)  # uv
        if mismatch is None and "DO NOT MATCH THE HASHES" in output:  # pip
            pip = re.search(
                r"^\s+(\S+) from \S+", output.split("DO NOT MATCH THE HASHES", 1)[1], re.M
            )
            mismatch = pip
        if mismatch is not None:
            return BuildError(
                f"{mismatch.group(1)} does not match its hash in {self.path}",
                hint="the file or the index changed; check where the difference comes from, then "
                f"write the file again with hwb lock -o {self.path}",
                details=output,
            )
        missing = re.search(r"no trusted hash was provided for: `([^`]+)`", output) or re.search(
            r"missing from some requirements.*?\n\s+(\S+)", output, re.S
        )
        if missing is not None:
            return BuildError(
                f"{missing.group(1)} is needed by a build requirement but has no hash in "
                f"{self.path}",
                hint=f"write the file again: hwb lock -o {self.path}",
                details=output,
            )
        return None


@dataclasses.dataclass(frozen=True)
class InstallFiles:
    """The files of one constrained install (:meth:`BuildConstraints.install_files`)."""

    constraints: Path
    requirements: Path | None
    """The requirements pinned and hashed, when the constraints have hashes."""
    plain: tuple[str, ...]
    """The requirements as given, when they have none."""
    owner: BuildConstraints

    def digest(self) -> str:
        """A hash of what the install obeys (the file, and the pinned requirements)."""
        text = self.owner.text + "\0" + "\n".join(self.plain)
        if self.requirements is not None:
            text += "\0" + self.requirements.read_text(encoding="utf-8")
        return hashlib.sha256(text.encode()).hexdigest()

    def args(self, path: Callable[[Path], str] = str) -> list[str]:
        """An installer's arguments (``pip install``, ``uv pip install``, ``pip download``),
        the files named as ``path`` gives them (a container's paths). Under hashes, wheels
        only (``--only-binary :all:``, which pip and uv both take): an installer that may build
        an sdist falls back to it when a wheel's hash does not match, and the same file would
        pass in one isolation and fail in another."""
        args = ["-c", path(self.constraints)]
        if self.requirements is None:
            return [*args, *self.plain]
        return [*args, "--require-hashes", *ONLY_WHEELS, "-r", path(self.requirements)]


#: Under hashed constraints, build requirements are installed from wheels only.
ONLY_WHEELS = ("--only-binary", ":all:")


def parse(text: str, path: Path) -> tuple[Pin, ...]:
    """The lines of a constraints file; a :class:`ConfigError` names a line hwb cannot use."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    pins: list[Pin] = []
    logical = re.sub(r"\\\r?\n", " ", text)
    for number, raw in enumerate(logical.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        hashes = tuple(_HASH.findall(line))
        rest = _HASH.sub("", line).strip()
        if rest.startswith("-"):
            raise ConfigError(
                f"{path}: {rest.split()[0]} is not supported in a build constraints file",
                hint="give requirement lines with --hash options only (hwb lock writes one)",
            )
        try:
            requirement = Requirement(rest)
        except InvalidRequirement as exc:
            raise ConfigError(
                f"{path}, line {number}: {rest!r} is not a requirement ({exc})",
                hint="write NAME==VERSION, optionally with markers and --hash=sha256:...",
            ) from None
        for entry in hashes:
            if not entry.startswith("sha256:"):
                raise ConfigError(
                    f"{path}, line {number}: {entry.split(':')[0]} hashes are not supported",
                    hint="use sha256 (hwb lock writes them)",
                )
        pins.append(
            Pin(
                name=canonicalize_name(requirement.name),
                requirement=str(requirement).split(";")[0].strip(),
                specifier=str(requirement.specifier),
                marker=str(requirement.marker) if requirement.marker else None,
                hashes=hashes,
            )
        )
    if any(p.hashes for p in pins):
        unhashed = [p.requirement for p in pins if not p.hashes]
        if unhashed:
            raise ConfigError(
                f"{path} has hashes, but not on {', '.join(unhashed)}",
                hint="hash every line or none (hwb lock writes them all)",
            )
        unpinned = [p.requirement for p in pins if p.version is None]
        if unpinned:
            raise ConfigError(
                f"{path} has hashes, but {', '.join(unpinned)} is not pinned with ==",
                hint="pin every line to one version (hwb lock does)",
            )
    return tuple(pins)


def install_error(
    constraints: BuildConstraints | InstallFiles | None, output: str, otherwise: BuildError
) -> BuildError:
    """The error for an install of build requirements that failed with ``output``: under
    ``constraints`` (the build's, or the files of one install), hwb's one line for a hash the
    file lacks or that does not match; else ``otherwise``, the installer's own error."""
    if isinstance(constraints, InstallFiles):
        constraints = constraints.owner
    explained = constraints.install_failure(output) if constraints is not None else None
    return explained or otherwise
