"""What an installer or resolver hwb runs on the host for a build sees of hwb's environment.

The backend's rule (:class:`hwb.BackendEnvironment`) withholds what looks like a credential;
an installer is held to it too, but keeps the index settings it needs
(:data:`INSTALLER_PATTERNS`: a private index keeps working). ``set`` does not apply to it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping

from hwb_core.backend_env import BackendEnvironment

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
