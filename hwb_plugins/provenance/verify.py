"""``hwb verify WHEEL|DIR...``: check wheels against their provenance records.

A wheel passes when its record (``WHEEL.provenance.json`` beside it, or ``--record``) is an
in-toto statement with a SLSA provenance predicate whose subject names the wheel's file and its
sha256; with ``--source``, the record's source must have that sdist's sha256 too; with ``--key``
the record must be a DSSE envelope signed by that key (checked before the statement is). Exit
codes: 0 every wheel verified; 1 a wheel does not match its record (changed after it was built,
another wheel's record, a signature that does not verify, an unsigned record with ``--key`` or
``--require-signed``); 2 an error of use: a missing, unreadable or malformed record (one that
lacks a field hwb needs, or has one of the wrong type), a missing wheel, a bad key file.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hwb import BuildError, CommandLine, UsageError
from hwb_plugins.provenance import SUFFIX

if TYPE_CHECKING:  # the parser and the signatures load when a record is read: not at start-up
    from hwb_plugins.provenance.parse import Record


class VerificationFailed(BuildError):
    """A wheel does not match its record."""


@dataclass
class Verified:
    wheel: Path
    record: Path
    sha256: str
    problems: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    usage_error: bool = False
    """The record (or the wheel) could not be checked at all: missing, unreadable, malformed."""

    def to_json(self) -> dict[str, Any]:
        return {
            "wheel": str(self.wheel),
            "record": str(self.record),
            "sha256": self.sha256,
            "verified": not self.problems,
            "problems": self.problems,
            "usage_error": self.usage_error,
            **self.summary,
        }


def checked(wheel: Path, record: Path, *args: Any) -> Verified:
    """:func:`verify`, with an error of use kept as the wheel's problem (so that every wheel
    of a directory is reported)."""
    try:
        return verify(wheel, record, *args)
    except UsageError as exc:
        return Verified(wheel, record, "", [exc.one_line()], usage_error=True)


def load_record(path: Path) -> Record:
    """The record in ``path``, signed or not, checked field by field (:mod:`.parse`)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"no provenance record {path}",
            hint="give it with --record FILE; hwb build writes WHEEL"
            + SUFFIX
            + " beside the wheel",
        ) from None
    except (OSError, ValueError, RecursionError) as exc:
        raise UsageError(f"provenance record {path} cannot be read ({exc})") from None
    from hwb_plugins.provenance.parse import read

    return read(path, document)


def verify(
    wheel: Path,
    record_path: Path,
    source: Path | None = None,
    key: Any = None,
    require_signed: bool = False,
) -> Verified:
    """Check ``wheel`` against its record: with ``key``, the record's signature first (an
    unsigned record fails), then the statement's subject (and ``source``'s sha256)."""
    if not wheel.is_file():
        raise UsageError(f"wheel {wheel} does not exist")
    record = load_record(record_path)
    from hwb_plugins.provenance.record import sha256_of

    actual = sha256_of(wheel)
    found = Verified(wheel, record_path, actual)
    found.summary["signed"] = record.envelope is not None
    found.summary["signature_checked"] = False
    if record.envelope is None:
        if key is not None or require_signed:
            found.problems.append(f"{record_path.name} is not signed (a bare statement)")
            return found
    elif key is not None and not _signed_by(record.envelope, record.body, key):
        found.problems.append(f"{record_path.name} is not signed by the key given (--key)")
        return found
    found.summary["signature_checked"] = record.envelope is not None and key is not None
    document = record.statement()
    (subject,) = document["subject"]
    if subject["name"] != wheel.name:
        found.problems.append(f"the record is of {subject['name']}, not {wheel.name}")
    elif subject["digest"]["sha256"] != actual:
        found.problems.append(
            f"{wheel.name} has sha256 {actual}, but its record says "
            f"{subject['digest']['sha256']}: it was changed after it was built"
        )
    build = document["predicate"]["buildDefinition"]
    deps = build.get("resolvedDependencies") or []
    origin: dict[str, Any] = next((d for d in deps if d.get("name") == "source"), {})
    if source is not None:
        wanted = (origin.get("digest") or {}).get("sha256")
        have = sha256_of(source)
        if wanted is None:
            found.problems.append(f"the record's source has no sha256 to check {source.name} by")
        elif wanted != have:
            found.problems.append(
                f"{source.name} has sha256 {have}, but the record's source has {wanted}"
            )
    found.summary["source"] = origin.get("uri")
    found.summary["build_requirements"] = [
        f"{d.get('name')}=={(d.get('annotations') or {}).get('version')}"
        for d in deps
        if str(d.get("uri", "")).startswith("pkg:pypi/")
    ]
    return found


def wheels_of(paths: tuple[Path, ...]) -> list[Path]:
    """The wheels named, a directory standing for every ``*.whl`` in it."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(path.glob("*.whl"))
            if not inside:
                raise UsageError(f"no wheels (*.whl) in the directory {path}")
            found.extend(inside)
        else:
            found.append(path)
    return found


def register(cli: CommandLine) -> None:
    click = cli.click

    @cli.group.command("verify")
    @click.argument(
        "wheels", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="WHEEL|DIR..."
    )
    @click.option(
        "--record",
        type=click.Path(path_type=Path),
        metavar="FILE",
        help=f"The provenance record (default: WHEEL{SUFFIX} beside each wheel; one wheel only).",
    )
    @click.option(
        "--source",
        type=click.Path(path_type=Path),
        metavar="SDIST",
        help="Also check that the record's source is this sdist (its sha256).",
    )
    @click.option(
        "--key",
        type=click.Path(path_type=Path),
        metavar="PUB.pem",
        help="Check the record's signature (DSSE) with this public key (Ed25519 or ECDSA "
        "P-256, PEM) before its statement; an unsigned record fails.",
    )
    @click.option(
        "--require-signed",
        is_flag=True,
        help="Fail a wheel whose record is not signed (a bare statement).",
    )
    @cli.shared_options(
        "verbose",
        "quiet",
        "json",
        verbose={"help": "-vvv adds the traceback of an error."},
        json={"help": 'Print {"wheels": [...]} on stdout.'},
    )
    @click.pass_context
    def verify_command(
        ctx: Any,
        wheels: tuple[Path, ...],
        record: Path | None,
        source: Path | None,
        key: Path | None,
        require_signed: bool,
        verbose: int,
        quiet: bool,
        as_json: bool,
    ) -> int:
        """Check WHEEL... (a DIR: every wheel in it) against their provenance records: with
        --key the record's signature, then the file name and sha256 the record's subject gives
        (a wheel changed after it was built fails), and with --source the sdist it was built
        from. Exit codes: 0 verified, 1 a wheel does not match its record, 2 a missing or
        malformed record or another error of use."""
        cli.set_output(verbosity=-1 if quiet else verbose, json=as_json)
        found = wheels_of(wheels)
        if record is not None and len(found) > 1:
            raise UsageError("--record names the record of one wheel", hint="verify one at a time")
        if source is not None and not source.is_file():
            raise UsageError(f"sdist {source} (--source) does not exist")
        from hwb_plugins.provenance.signing import public_key

        trusted = public_key(key) if key is not None else None
        results = [
            checked(
                wheel,
                record or wheel.with_name(wheel.name + SUFFIX),
                source,
                trusted,
                require_signed,
            )
            for wheel in found
        ]
        if as_json:
            print(json.dumps({"wheels": [r.to_json() for r in results]}, indent=2))
        elif not quiet:
            for result in results:
                if not result.problems:
                    signed = ""
                    if result.summary.get("signed"):
                        signed = ", signature " + (
                            "checked" if result.summary.get("signature_checked") else "not checked"
                        )
                    print(
                        f"verified {result.wheel.name}: sha256 {result.sha256} as recorded "
                        f"in {result.record.name}{signed} (source "
                        f"{result.summary.get('source')})",
                        file=sys.stderr,
                    )
        failed = [p for r in results for p in r.problems]
        if not failed:
            return 0
        more = f" (and {len(failed) - 1} more problems)" if len(failed) > 1 else ""
        unusable = [p for r in results if r.usage_error for p in r.problems]
        if unusable:  # the worst first: a record that cannot be checked is exit code 2
            raise UsageError(unusable[0] + more)
        raise VerificationFailed(failed[0] + more, hint="rebuild it, or find who changed it")


def _signed_by(envelope: Any, body: Any, key: Any) -> bool:
    from hwb_plugins.provenance.signing import signed_by

    return bool(signed_by(envelope, body, key))
