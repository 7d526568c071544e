"""The provenance record of one build: an in-toto statement (``https://in-toto.io/Statement/v1``)
whose subject is the wheel and whose predicate is SLSA provenance
(``https://slsa.dev/provenance/v1``). See docs/reproducibility.md for a sample.

- ``buildDefinition.externalParameters``: what was asked (source, interpreter, isolation,
  config settings, the build constraints file);
- ``buildDefinition.internalParameters``: what hwb decided (``SOURCE_DATE_EPOCH``, why this
  isolation);
- ``buildDefinition.resolvedDependencies``: the source (an sdist's sha256, or a directory and
  its git commit), the interpreter, a container's image (id and registry digests), and every
  distribution in the build environment once the backend had run, with its version;
- ``runDetails``: hwb's version and every plugin loaded, the times, and as byproducts the
  repair (what it bundled) and the test outcome.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from hwb import __version__
from hwb.git import git_revision
from hwb.records import loaded_plugins, test_record

STATEMENT = "https://in-toto.io/Statement/v1"
PREDICATE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "urn:hwb:build-type:wheel:v1"
BUILDER = "urn:hwb:builder"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def statement(result: Any) -> dict[str, Any]:
    """The record of :class:`hwb_core.interfaces.BuildResult` ``result``, whose wheel is still
    at ``result.repair.path`` (about to be published as ``result.path``)."""
    wheel_sha256 = sha256_of(result.repair.path)
    finished = time.time()
    return {
        "_type": STATEMENT,
        "subject": [{"name": result.path.name, "digest": {"sha256": wheel_sha256}}],
        "predicateType": PREDICATE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": external(result),
                "internalParameters": {
                    "sourceDateEpoch": result.source_date_epoch,
                    "isolationReason": result.isolation_reason,
                },
                "resolvedDependencies": dependencies(result),
            },
            "runDetails": {
                "builder": {
                    "id": BUILDER,
                    "version": {"hwb": __version__},
                },
                "metadata": {
                    "startedOn": _stamp(finished - result.duration_s),
                    "finishedOn": _stamp(finished),
                },
                "byproducts": byproducts(result),
            },
        },
    }


def _stamp(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def external(result: Any) -> dict[str, Any]:
    constraints = result.build_constraints
    return {
        "source": str(result.source) if result.source else None,
        "python": result.python.version,
        "isolation": result.isolation,
        "configSettings": dict(result.config_settings),
        "buildConstraint": (
            {"path": str(constraints.path), "sha256": constraints.sha256} if constraints else None
        ),
    }


def dependencies(result: Any) -> list[dict[str, Any]]:
    found = [source(result.source), interpreter(result.python)]
    detail = result.isolation_detail or {}
    if detail.get("image_id"):
        image_id = str(detail["image_id"])
        found.append(
            {
                "name": "image",
                "uri": f"oci:{detail.get('image')}",
                "digest": {image_id.split(":", 1)[0]: image_id.split(":", 1)[-1]},
                "annotations": {"repoDigests": list(detail.get("image_digests") or [])},
            }
        )
    pins: dict[str, Any] = {}
    constraints = result.build_constraints
    if constraints is not None:
        pins = constraints.pins_for(result.python.marker_env)
    for dist in result.made.get("build_requirements", []):
        found.append(requirement(dist, pins))
    return found


def source(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {"name": "source"}
    if path.is_file():
        return {"name": "source", "uri": path.as_uri(), "digest": {"sha256": sha256_of(path)}}
    entry: dict[str, Any] = {"name": "source", "uri": path.as_uri()}
    revision = git_revision(path)
    if revision is not None:
        commit, dirty = revision
        entry["uri"] = f"git+{path.as_uri()}@{commit}"
        entry["digest"] = {"gitCommit": commit}
        entry["annotations"] = {"uncommittedChanges": dirty}
    return entry


def interpreter(python: Any) -> dict[str, Any]:
    return {
        "name": "python",
        "uri": Path(python.path).as_uri() if python.path.startswith("/") else python.path,
        "annotations": {
            "version": python.version,
            "implementation": python.implementation,
            "abi": python.abi_tag,
            "platform": python.platform_tag,
        },
    }


def requirement(dist: dict[str, Any], pins: dict[str, Any]) -> dict[str, Any]:
    """A distribution of the build environment: ``pkg:pypi/NAME@VERSION``; the sha256 of its
    archive when the constraints pinned it with exactly one hash (the installer checked it),
    else the hashes the installer checked it against, and always ``filesSha256``: a digest of
    the files its RECORD lists with hashes in ``site-packages``."""
    from packaging.utils import canonicalize_name

    name, version = str(dist["name"]), str(dist["version"])
    entry: dict[str, Any] = {"name": name, "uri": f"pkg:pypi/{canonicalize_name(name)}@{version}"}
    annotations: dict[str, Any] = {"version": version, "filesSha256": dist.get("files_sha256")}
    pin = pins.get(canonicalize_name(name))
    if pin is not None and pin.hashes and pin.version == version:
        hashes = [h.split(":", 1)[1] for h in pin.hashes]
        if len(hashes) == 1:
            entry["digest"] = {"sha256": hashes[0]}
        annotations["checkedAgainst"] = ["sha256:" + h for h in hashes]
    entry["annotations"] = annotations
    return entry


def byproducts(result: Any) -> list[dict[str, Any]]:
    repair = result.repair
    found: list[dict[str, Any]] = [
        {
            "name": "repair",
            "annotations": {
                "repairer": repair.repairer,
                "repaired": repair.repaired,
                "policy": repair.policy,
                "bundled": list(repair.bundled),
                "note": repair.reason,
                "checkedBy": list(repair.checked_by),
            },
        },
        {"name": "plugins", "annotations": {"loaded": loaded_plugins(result)}},
    ]
    tests = test_record(result)
    found.append({"name": "tests", "annotations": tests or {"ran": False}})
    return found
