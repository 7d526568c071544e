"""The build's own hooks (``build``, ``prepare_source``, ``private_source``,
``fresh_environments``, ``build_log``, ``backend_environment``) and the built-in plugins on them
(``source``, ``reproducible``, ``buildlog``): each answered by a test plugin, and each built-in
blocked (``-p no:NAME``), which must give a working build or one clear line, never a traceback."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from hwb_core.errors import EXIT_USAGE, UsageError
from hwb_core.pipeline import BuildRequest, Session, build, prepared_source
from hwb_core.plugins import PluginManager
from tests.conftest import NullReporter, assert_clean_error, json_out, wheel_members
from tests.plugins.backends import tiny_project

Run = Callable[..., subprocess.CompletedProcess[str]]

pytestmark = pytest.mark.real

#: A plugin answering every hook of the build, noting each call in the file $HOOKS_RECORD.
RECORDER = """
import contextlib
import json
import os
import shutil
from pathlib import Path

from hwb_core import hookimpl


def note(**fields):
    with open(os.environ["HOOKS_RECORD"], "a") as stream:
        stream.write(json.dumps(fields) + "\\n")


@hookimpl(wrapper=True)
def build(request, session):
    result = yield
    note(hook="build", wheel=result.path.name, rebuild=request.rebuild)
    return result


@contextlib.contextmanager
def _extracted(source):
    root = source.with_name("recorded-root")
    shutil.copytree(source, root)
    try:
        yield root
    finally:
        shutil.rmtree(root)


@hookimpl(tryfirst=True)
def prepare_source(source, config, reporter):
    note(hook="prepare_source", source=str(source))
    return _extracted(source)


@contextlib.contextmanager
def _copied(project, work_dir):
    copy = work_dir / "recorded-copy"
    shutil.copytree(project.root, copy)
    (copy / "tiny" / "copied.txt").write_text("by the recorder")
    yield copy


@hookimpl(tryfirst=True)
def private_source(project, source, config, outdir, work_dir, reporter):
    note(hook="private_source", outdir=str(outdir))
    return _copied(project, work_dir)


@hookimpl
def fresh_environments(config):
    return True


@hookimpl(wrapper=True)
def create_env(isolation, request):
    note(hook="create_env", fresh=request.fresh)
    return (yield)


@hookimpl
def backend_environment(env, source, config, target, work_dir, environ, reporter):
    return {"SOURCE_DATE_EPOCH": "1234567890"}


@contextlib.contextmanager
def _log(path, reporter):
    path.write_text("the recorder's log\\n")
    yield path, reporter


@hookimpl(tryfirst=True)
def build_log(request, project, python, isolation, reporter):
    return _log(Path(os.environ["HOOKS_RECORD"]).with_name("recorded.log"), reporter)
"""


def recorder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *blocked: str) -> Session:
    """A session whose plugins are the installed ones (less ``blocked``) and the recorder."""
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "hwb_test_recorder.py").write_text(RECORDER)
    monkeypatch.setenv("HOOKS_RECORD", str(tmp_path / "record.jsonl"))
    monkeypatch.setenv("HWB_CACHE_DIR", str(tmp_path / "cache"))
    pm = PluginManager(blocked=blocked)
    pm.load_core()
    pm.load_entry_points()
    pm.load_project_plugins(tmp_path / "plugins", ["hwb_test_recorder"])
    return Session(pm, NullReporter())


def calls(tmp_path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (tmp_path / "record.jsonl").read_text().splitlines()]


def test_a_plugin_answers_every_hook_of_a_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recorder prepares the source, copies it, asks for fresh environments, sets the
    build's SOURCE_DATE_EPOCH, keeps the log and wraps the build."""
    session = recorder(tmp_path, monkeypatch, "reproducible")
    project = tiny_project(tmp_path / "proj")
    request = BuildRequest(source=project, outdir=tmp_path / "out", isolation="venv", keep_log=True)
    result = build(request, session)
    assert [c["hook"] for c in calls(tmp_path)] == [
        "prepare_source",
        "private_source",
        "create_env",
        "build",
    ]
    assert calls(tmp_path)[2]["fresh"] is True
    assert calls(tmp_path)[3] == {"hook": "build", "wheel": result.path.name, "rebuild": False}
    assert wheel_members(result.path)["tiny/copied.txt"] == b"by the recorder"
    assert not (project / "tiny" / "copied.txt").exists()
    assert not (tmp_path / "recorded-root").exists()  # the prepared source is gone again
    assert result.source_date_epoch == 1234567890
    assert result.log == tmp_path / "recorded.log"


def test_without_the_source_plugin_a_directory_is_its_own_root_and_an_sdist_is_refused(
    tmp_path: Path,
) -> None:
    pm = PluginManager(blocked={"source"})
    pm.load_core()
    pm.load_entry_points()
    session = Session(pm, NullReporter())
    project = tiny_project(tmp_path / "proj")
    with prepared_source(project, session) as root:
        assert root == project.resolve()
    sdist = tmp_path / "tiny-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        tar.addfile(tarfile.TarInfo("tiny-1.0/"), io.BytesIO())
    with pytest.raises(UsageError) as caught:
        with prepared_source(sdist, session):
            pass
    assert caught.value.message == f"no plugin prepares {sdist} (not a directory) for a build"
    assert caught.value.hint == "blocked plugins: source"


def test_blocking_the_source_plugin_stops_a_build_in_one_line(run_hwb: Run, tmp_path: Path) -> None:
    """The core never builds in the user's tree on its own: no plugin to make the private copy
    is a usage error."""
    project = tiny_project(tmp_path / "proj")
    result = run_hwb("-p", "no:source", "build", str(project), "--isolation", "venv")
    line = assert_clean_error(result, EXIT_USAGE)
    assert line.startswith(f"error: no plugin gave the build of {project} a tree to work in; ")
    assert "blocked plugins: source" in line
    assert not list(project.rglob("*.whl"))


def test_blocking_the_reproducible_plugin_builds_without_an_epoch(
    run_hwb: Run, tmp_path: Path
) -> None:
    project = tiny_project(tmp_path / "proj")
    env = {"HWB_SOURCE_DATE_EPOCH": "1600000000"}
    args = ("build", str(project), "--isolation", "venv", "--json")
    assert json_out(run_hwb(*args, env=env))["wheels"][0]["source_date_epoch"] == 1600000000
    wheel = json_out(run_hwb("-p", "no:reproducible", *args, env=env))["wheels"][0]
    assert wheel["source_date_epoch"] is None
    assert wheel["reproducible"] is None
    refused = run_hwb("-p", "no:reproducible", *args, "--check-reproducible")
    assert "--check-reproducible" in assert_clean_error(refused, 2)


def test_blocking_the_buildlog_plugin_keeps_no_log(
    run_hwb: Run, tmp_path: Path, hwb_env: dict[str, str]
) -> None:
    project = tiny_project(tmp_path / "proj")
    args = ("build", str(project), "--isolation", "venv", "--json")
    logged = json_out(run_hwb(*args))["wheels"][0]["log"]
    assert logged and Path(logged).read_text().startswith(f"hwb build {project}: ")
    assert json_out(run_hwb("-p", "no:buildlog", *args))["wheels"][0]["log"] is None
