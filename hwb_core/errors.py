"""Errors that reach the user.

Every failure hwb expects is an :class:`HwbError`: a one-line message naming the problem, an
optional hint saying how to fix it, and the exit code the CLI returns. Anything else reaching the
CLI is a bug and is reported as an internal error.
"""

from __future__ import annotations

# Exit codes, documented in docs/cli.md.
EXIT_OK = 0
EXIT_BUILD_FAILED = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 124
EXIT_INTERRUPTED = 130


class HwbError(Exception):
    """A failure with a message for people. ``hint`` says how to fix it."""

    exit_code = EXIT_BUILD_FAILED

    def __init__(self, message: str, *, hint: str | None = None, details: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        #: Extra lines shown below the message (for example the tail of a backend's output).
        self.details = details
        #: The build's whole log, when it has one (set by the pipeline).
        self.log: str | None = None

    def one_line(self) -> str:
        text = self.message.rstrip(".")
        if self.hint:
            text += f"; {self.hint}"
        return text


class UsageError(HwbError):
    """Bad input: a missing source, an unknown option value, an unknown plugin name."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """Invalid configuration: bad TOML, an unknown key, a value of the wrong type."""


class PythonNotFound(UsageError):
    """No interpreter matches the requested ``--python``."""


class IsolationUnavailable(HwbError):
    """The requested isolation strategy cannot run on this machine."""

    exit_code = EXIT_USAGE


class BuildError(HwbError):
    """The build itself failed (backend error, missing requirement, install failure)."""


class BackendError(BuildError):
    """The PEP 517 backend raised or could not be imported."""


class RepairError(BuildError):
    """A wheel could not be repaired; the unrepaired wheel is not published."""


class PolicyViolation(RepairError):
    """An organization's policy refused a wheel. Unlike a repair tool's failure it is never
    turned into a warning by ``[tool.hwb.repair] mode = "warn"``."""


class WheelTestFailed(BuildError):
    """A check of the built wheel (its tests, the import check, an organization's check on the
    ``try_wheel`` hook) failed; nothing is published."""


class UnsafeArchive(UsageError):
    """An sdist tried to write outside its extraction directory."""


class BuildTimeout(BuildError):
    """The build ran past its time limit (``--timeout``); what ran was stopped."""

    exit_code = EXIT_TIMEOUT
