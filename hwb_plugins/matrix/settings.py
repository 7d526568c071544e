"""The ``[tool.hwb.matrix]`` settings and ``[[tool.hwb.matrix.exclude]]`` entries.

Kept apart from the planner because the plugin's ``config_schema`` imports it on every
command, and this module imports nothing heavy. Platform and architecture names are
:mod:`hwb.host`'s.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from hwb import ConfigError, ConfigKey, PythonInfo, PythonSpec, UsageError
from hwb.host import ARCHITECTURES, PLATFORMS, normalize_arch, normalize_platform

EXCLUDE_FIELDS = ("python", "platform", "arch")


MATRIX_KEYS: dict[str, ConfigKey] = {
    "matrix.python": ConfigKey(
        "list",
        [],
        "Interpreters to build for (3.11, cp312, a path). Empty: every CPython 3.8+ found that "
        "satisfies requires-python.",
    ),
    "matrix.platforms": ConfigKey(
        "list",
        [],
        "Platforms to build for: linux, macos, windows. Empty: this machine's platform and every "
        "platform with a [tool.hwb.matrix.<platform>] table.",
    ),
    "matrix.parallel": ConfigKey("int", 0, "Jobs run at once (0: the number of CPUs)."),
    "matrix.fail-fast": ConfigKey("bool", False, "Stop every job after the first failure."),
    "matrix.copy-source": ConfigKey(
        "bool",
        True,
        "Superseded: every build now works in a private copy of the source (in-place = true "
        "builds in the tree, one job at a time). Kept so that existing settings stay valid.",
    ),
    "matrix.exclude": ConfigKey(
        "tables",
        [],
        "Combinations to leave out: [[tool.hwb.matrix.exclude]] tables of python, platform, arch.",
    ),
    "matrix.github.runners": ConfigKey(
        "table",
        {},
        'Runner labels for --emit github, by PLATFORM-ARCH (linux-aarch64 = "ubuntu-24.04-arm"), '
        "over the defaults in docs/ci.md.",
    ),
    "matrix.gitlab.runners": ConfigKey(
        "table",
        {},
        "Runner tags for --emit gitlab, by PLATFORM-ARCH, over the defaults in docs/ci.md.",
    ),
    "matrix.gitlab.before-script": ConfigKey(
        "list",
        None,
        "Commands the --emit gitlab child pipeline runs before each build (installing hwb); "
        "default: pipx install headless-wheel-builder in the Linux image, python3 -m pip "
        "install headless-wheel-builder elsewhere.",
    ),
    "matrix.gitlab.images": ConfigKey(
        "table",
        {},
        "Images of the --emit gitlab build jobs, by PLATFORM-ARCH, over the defaults in "
        "docs/ci.md (the pypa manylinux images for Linux).",
    ),
    "matrix.linux.architectures": ConfigKey(
        "list", [], "Linux architectures (default: this machine's): x86_64, aarch64, ..."
    ),
    "matrix.linux.manylinux": ConfigKey(
        "str",
        None,
        "manylinux policy for Linux jobs built in a container (2_28, 2014, ...): set through "
        "the key each container isolation declares for it.",
    ),
    "matrix.linux.musllinux": ConfigKey("str", None, "musllinux policy for Linux jobs (1_2)."),
    "matrix.macos.architectures": ConfigKey(
        "list", [], "macOS architectures (default: x86_64 and arm64)."
    ),
    "matrix.macos.universal2": ConfigKey(
        "bool", False, "Build one universal2 wheel instead of one per macOS architecture."
    ),
    "matrix.macos.deployment-target": ConfigKey(
        "str", None, "Oldest macOS the wheels support (MACOSX_DEPLOYMENT_TARGET), e.g. 11.0."
    ),
    "matrix.windows.architectures": ConfigKey(
        "list", [], "Windows architectures (default: x86_64)."
    ),
}


# --------------------------------------------------------------------------- names


def split_list(values: Sequence[str]) -> list[str]:
    """``("3.11,3.12", "3.13")`` -> ``["3.11", "3.12", "3.13"]``, duplicates dropped."""
    out: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


# --------------------------------------------------------------------------- excludes


@dataclasses.dataclass(frozen=True)
class Exclude:
    """One ``[[tool.hwb.matrix.exclude]]`` table: a job matching every given field is left out.

    Each field is a string or a list of strings (any of which may match)."""

    python: tuple[PythonSpec, ...] = ()
    platform: tuple[str, ...] = ()
    arch: tuple[str, ...] = ()

    def matches(
        self, python: str, interpreter: PythonInfo | None, platform_name: str, arch: str
    ) -> bool:
        if self.platform and platform_name not in self.platform:
            return False
        if self.arch and not any(_same_arch(platform_name, a, arch) for a in self.arch):
            return False
        if self.python and not any(_python_matches(s, python, interpreter) for s in self.python):
            return False
        return True


def _same_arch(platform_name: str, wanted: str, arch: str) -> bool:
    try:
        return normalize_arch(platform_name, wanted) == arch
    except UsageError:
        return wanted == arch


def _python_matches(spec: PythonSpec, label: str, interpreter: PythonInfo | None) -> bool:
    if interpreter is not None:
        return spec.matches(interpreter) or spec.raw == label
    if spec.raw == label:
        return True
    try:
        asked = PythonSpec.parse(label)
    except UsageError:
        return False
    return (
        bool(spec.version)
        and asked.version[: len(spec.version)] == spec.version
        and asked.free_threaded == spec.free_threaded
    )


def parse_excludes(tables: Sequence[Mapping[str, Any]], source: str) -> list[Exclude]:
    """Check ``matrix.exclude`` entries; ``source`` names where they came from for errors."""
    excludes: list[Exclude] = []
    for number, table in enumerate(tables, 1):
        where = f"matrix.exclude entry {number} in {source}"
        unknown = sorted(set(table) - set(EXCLUDE_FIELDS))
        if unknown:
            raise ConfigError(
                f"{where} has unknown key {unknown[0]!r}",
                hint="an exclude may name python, platform and arch",
            )
        if not table:
            raise ConfigError(
                f"{where} is empty", hint="name at least one of python, platform, arch"
            )
        fields: dict[str, list[str]] = {}
        for name in EXCLUDE_FIELDS:
            value = table.get(name)
            if value is None:
                fields[name] = []
            elif isinstance(value, str):
                fields[name] = [value]
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                fields[name] = list(value)
            else:
                raise ConfigError(
                    f"{where}: {name} must be a string or a list of strings, not {value!r}",
                    hint='quote versions: python = "3.10" (an unquoted 3.10 is the number 3.1)',
                )
        try:
            pythons = tuple(PythonSpec.parse(v) for v in fields["python"])
            platforms = tuple(normalize_platform(v) for v in fields["platform"])
        except UsageError as exc:
            raise ConfigError(f"{where}: {exc.message}", hint=exc.hint) from None
        # An architecture is checked against the platforms named, or against all of them.
        for arch in fields["arch"]:
            names = platforms or PLATFORMS
            if not any(_known_arch(p, arch) for p in names):
                raise ConfigError(
                    f"{where}: unknown architecture {arch!r}",
                    hint="choose from: "
                    + ", ".join(sorted({a for p in names for a in ARCHITECTURES[p]})),
                )
        excludes.append(Exclude(pythons, platforms, tuple(a.lower() for a in fields["arch"])))
    return excludes


def _known_arch(platform_name: str, arch: str) -> bool:
    try:
        normalize_arch(platform_name, arch)
    except UsageError:
        return False
    return True
