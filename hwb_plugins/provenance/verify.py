"""``hwb verify WHEEL...``: check wheels against their provenance records.

A wheel passes when its record (``WHEEL.provenance.json`` beside it, or ``--record``) is an
in-toto statement with a SLSA provenance predicate whose subject names the wheel's file and its
sha256; with ``--source``, the record's source must have that sdist's sha256 too. A wheel
changed after it was built fails (exit code 1); a missing or unreadable record is an error of
use (exit code 2).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwb import BuildError, CommandLine, UsageError
from hwb_plugins.provenance import SUFFIX
from hwb_plugins.provenance.record import PREDICATE, STATEMENT, sha256_of


class VerificationFailed(BuildError):
    """A wheel does not match its record."""


@dataclass
class Verified:
    wheel: Path
    record: Path
    sha256: str
    problems: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "wheel": str(self.wheel),
            "record": str(self.record),
            "sha256": self.sha256,
            "verified": not self.problems,
            "problems": self.problems,
            **self.summary,
        }


def load_record(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"no provenance record {path}",
            hint="give it with --record FILE; hwb build writes WHEEL"
            + SUFFIX
            + " beside the wheel",
        ) from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"provenance record {path} cannot be read ({exc})") from None
    if not isinstance(document, dict) or document.get("_type") != STATEMENT:
        raise UsageError(f"{path} is not an in-toto statement ({STATEMENT})")
    if document.get("predicateType") != PREDICATE:
        raise UsageError(
            f"{path} has predicate {document.get('predicateType')!r}, not SLSA provenance ({PREDICATE})"
        )
    return document


def verify(wheel: Path, record: Path, source: Path | None = None) -> Verified:
    if not wheel.is_file():
        raise UsageError(f"wheel {wheel} does not exist")
    document = load_record(record)
    actual = sha256_of(wheel)
    found = Verified(wheel, record, actual)
    subjects = {s.get("name"): (s.get("digest") or {}) for s in document.get("subject") or []}
    if wheel.name not in subjects:
        found.problems.append(
            f"the record is of {', '.join(map(str, subjects)) or 'nothing'}, not {wheel.name}"
        )
    else:
        recorded = subjects[wheel.name].get("sha256")
        if recorded != actual:
            found.problems.append(
                f"{wheel.name} has sha256 {actual}, but its record says {recorded}: it was "
                "changed after it was built"
            )
    build = (document.get("predicate") or {}).get("buildDefinition") or {}
    deps = build.get("resolvedDependencies") or []
    origin: dict[str, Any] = next((d for d in deps if d.get("name") == "source"), {})
    if source is not None:
        wanted = (origin.get("digest") or {}).get("sha256")
        have = sha256_of(source)
        if wanted != have:
            found.problems.append(
                f"{source.name} has sha256 {have}, but the record's source has {wanted}"
            )
    found.summary = {
        "source": origin.get("uri"),
        "build_requirements": [
            f"{d['name']}=={(d.get('annotations') or {}).get('version')}"
            for d in deps
            if str(d.get("uri", "")).startswith("pkg:pypi/")
        ],
    }
    return found


def register(cli: CommandLine) -> None:
    click = cli.click

    @cli.group.command("verify")
    @click.argument(
        "wheels", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="WHEEL..."
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
    @cli.shared_options("quiet", "json", json={"help": 'Print {"wheels": [...]} on stdout.'})
    @click.pass_context
    def verify_command(
        ctx: Any,
        wheels: tuple[Path, ...],
        record: Path | None,
        source: Path | None,
        quiet: bool,
        as_json: bool,
    ) -> int:
        """Check WHEEL... against their provenance records: the file name and sha256 the
        record's subject gives (a wheel changed after it was built fails), and with --source
        the sdist it was built from."""
        cli.set_output(verbosity=-1 if quiet else 0, json=as_json)
        if record is not None and len(wheels) > 1:
            raise UsageError("--record names the record of one wheel", hint="verify one at a time")
        results = [
            verify(wheel, record or wheel.with_name(wheel.name + SUFFIX), source)
            for wheel in wheels
        ]
        if as_json:
            print(json.dumps({"wheels": [r.to_json() for r in results]}, indent=2))
        elif not quiet:
            for result in results:
                if not result.problems:
                    print(
                        f"verified {result.wheel.name}: sha256 {result.sha256} as recorded "
                        f"in {result.record.name} (source {result.summary.get('source')})",
                        file=sys.stderr,
                    )
        failed = [p for r in results for p in r.problems]
        if failed:
            more = f" (and {len(failed) - 1} more problems)" if len(failed) > 1 else ""
            raise VerificationFailed(failed[0] + more, hint="rebuild it, or find who changed it")
        return 0
