"""What the build backend's processes see of hwb's environment.

A backend is code from the project being built (an sdist from anywhere, a ``setup.py``). On the
host it used to get every variable hwb has, so a CI job's ``GITHUB_TOKEN`` or cloud keys were one
``os.environ`` away. By default a backend process now runs without the variables that look like
credentials: a name matching one of :data:`CREDENTIAL_PATTERNS` (case-insensitive shell patterns)
or a value holding a password in a URL (``https://user:secret@host/``). Containers get no
host variables at all.

The default always applies. Plugins change it on the ``backend_env_rule`` hook: names or
patterns let through all the same, more withheld, variables set for the backend (the built-in
plugin ``env`` reads them from ``[tool.hwb.env]``). Installers hwb runs for a build keep the
index settings they need (``hwb.installer``).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pluggy import HookRelay

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


@dataclasses.dataclass(frozen=True)
class BackendEnvironment:
    """The rule for one build; the default withholds what looks like a credential."""

    passed: Sequence[str] = ()
    blocked: Sequence[str] = ()
    set: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_plugins(
        cls, hook: HookRelay, config: Config, os_name: str | None = None
    ) -> BackendEnvironment:
        """The rule of a build of ``os_name``'s wheels: the default, with what the plugins (the
        ``backend_env_rule`` hook: ``[tool.hwb.env]``) pass, block and set."""
        passed: list[str] = []
        blocked: list[str] = []
        table: dict[str, str] = {}
        for found in hook.backend_env_rule(config=config, os_name=os_name):
            passed.extend(found.passed)
            blocked.extend(found.blocked)
            table.update(found.set)
        return cls(tuple(passed), tuple(blocked), table)

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
