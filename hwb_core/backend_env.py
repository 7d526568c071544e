"""What the build backend's processes see of hwb's environment.

A backend is code from the project being built (an sdist from anywhere, a ``setup.py``). On the
host it used to get every variable hwb has, so a CI job's ``GITHUB_TOKEN`` or cloud keys were one
``os.environ`` away. By default a backend process now runs without the variables that look like
credentials: a name matching one of :data:`CREDENTIAL_PATTERNS` (case-insensitive shell patterns)
or a value holding a password in a URL (``https://user:secret@host/``). Installers are not
affected by ``set``, and keep the index settings they need (:data:`INSTALLER_PATTERNS`: a
private index keeps working) but not the other credentials; containers get no host variables
at all.

``[tool.hwb.env]`` changes it: ``pass`` (names or patterns let through all the same), ``block``
(more names or patterns withheld) and ``set`` (variables set for the backend, on every platform);
``[tool.hwb.env.linux]``, ``[tool.hwb.env.macos]`` and ``[tool.hwb.env.windows]`` hold a ``set``
for builds of that system's wheels only.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from hwb_core.interfaces import ConfigKey

if TYPE_CHECKING:
    from hwb_core.config import Config

#: Names that look like credentials (matched case-insensitively).
CREDENTIAL_PATTERNS: tuple[str, ...] = (
    "*TOKEN*",
    "*SECRET*",
    "*PASSWORD*",
    "*PASSWD*",
    "*PASSPHRASE*",
    "*CREDENTIAL*",
    "*PRIVATE_KEY*",
    "*ACCESS_KEY*",
    "*API_KEY*",
    "*APIKEY*",
    "*_AUTH",
    "*_AUTH_*",
    "*SESSION_KEY*",
    "*SIGNING_KEY*",
    "SSH_AUTH_SOCK",
    "*_KEY_ID",
)
_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@")

PASS_KEY, BLOCK_KEY, SET_KEY = "env.pass", "env.block", "env.set"
KEYS: dict[str, ConfigKey] = {
    PASS_KEY: ConfigKey(
        "list",
        [],
        "Variables (names or shell patterns) the build backend gets even though they look like "
        "credentials.",
    ),
    BLOCK_KEY: ConfigKey(
        "list", [], "More variables (names or shell patterns) withheld from the build backend."
    ),
    SET_KEY: ConfigKey(
        "table", {}, "Variables set for the build backend's processes, on every platform."
    ),
}
#: ``[tool.hwb.env.linux]``, ``.macos``, ``.windows``: ``set`` for builds of that system's
#: wheels only (a container build is a Linux one), over the general ``set``.
OS_SET_KEYS = {os_name: f"env.{os_name}.set" for os_name in ("linux", "macos", "windows")}
KEYS.update(
    {
        key: ConfigKey(
            "table",
            {},
            f"Variables set for the build backend's processes when it builds {label} wheels "
            "(over env.set).",
        )
        for key, label in zip(OS_SET_KEYS.values(), ("Linux", "macOS", "Windows"), strict=True)
    }
)


#: What an installer needs to reach your indexes: kept for the installers hwb runs for a build
#: on the host even when they look like credentials.
INSTALLER_PATTERNS: tuple[str, ...] = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_CERT",
    "PIP_CLIENT_CERT",
    "PIP_KEYRING_PROVIDER",
    "UV_INDEX",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_EXTRA_INDEX_URL",
    "UV_FIND_LINKS",
    "UV_KEYRING_PROVIDER",
    "UV_INDEX_*_USERNAME",
    "UV_INDEX_*_PASSWORD",
)


def installer_environment(
    environ: Mapping[str, str], rule: BackendEnvironment | None = None
) -> dict[str, str]:
    """``environ`` for an installer or resolver hwb runs on the host for a build (the
    containers' wheelhouse download, ``hwb lock``, a build environment's installs): what the
    backend's ``rule`` withholds is withheld, except the index settings of
    :data:`INSTALLER_PATTERNS`."""
    rule = rule or BackendEnvironment()
    return {
        k: v
        for k, v in environ.items()
        if not rule.withholds(k, v)
        or any(fnmatch.fnmatchcase(k.upper(), p) for p in INSTALLER_PATTERNS)
    }


@dataclasses.dataclass(frozen=True)
class BackendEnvironment:
    """The rule for one build; the default withholds what looks like a credential."""

    passed: Sequence[str] = ()
    blocked: Sequence[str] = ()
    set: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Config, os_name: str | None = None) -> BackendEnvironment:
        """The rule of ``config`` for a build of ``os_name``'s wheels (its ``env.OS.set`` over
        ``env.set``)."""
        values = {name: config.get(name) if name in config.schema else None for name in KEYS}
        table: dict[str, str] = {}
        set_keys = [SET_KEY] + ([OS_SET_KEYS[os_name]] if os_name in OS_SET_KEYS else [])
        for key in set_keys:
            for name, value in (values[key] or {}).items():
                if not isinstance(value, str):
                    from hwb_core.errors import ConfigError

                    raise ConfigError(
                        f"{key} ({config.source(key)}): {name} = {value!r} is not a string",
                        hint='quote every value: set = { NAME = "value" }',
                    )
                table[name] = value
        return cls(tuple(values[PASS_KEY] or ()), tuple(values[BLOCK_KEY] or ()), table)

    def withholds(self, name: str, value: str) -> bool:
        """True when the backend must not see variable ``name``."""
        upper = name.upper()
        if any(fnmatch.fnmatchcase(upper, p.upper()) for p in self.passed):
            return False
        if any(fnmatch.fnmatchcase(upper, p.upper()) for p in self.blocked):
            return True
        if any(fnmatch.fnmatchcase(upper, p) for p in CREDENTIAL_PATTERNS):
            return True
        return bool(_URL_PASSWORD.search(value))

    def withheld(self, environ: Mapping[str, str]) -> list[str]:
        """The names of ``environ`` the backend does not get (never their values)."""
        return sorted(name for name, value in environ.items() if self.withholds(name, value))

    def apply(self, environ: Mapping[str, str]) -> dict[str, str]:
        """``environ`` less what is withheld, with ``set`` over it."""
        kept = {k: v for k, v in environ.items() if not self.withholds(k, v)}
        kept.update(self.set)
        return kept
