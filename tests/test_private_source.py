"""Every build works in a private copy of the source tree (issue 11): concurrent builds of one
checkout each produce the right wheel, the tree is left byte for byte as it was, a stale build/
never reaches a wheel, and --in-place builds take turns."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_project
from tests.docker.support import tree_digest

pytestmark = pytest.mark.real

SETUP_PY = """
import os, time
from setuptools import setup

# Each build writes the marker of its own environment into the tree it builds from, then
# takes its time: builds sharing one tree would package each other's marker.
marker = os.environ["HWB_TEST_MARKER"]
with open(os.path.join("src", "marked", "_marker.py"), "w") as stream:
    stream.write(f"MARKER = {marker!r}\\n")
time.sleep(1.5)
setup()
"""


def marked_project(root: Path) -> Path:
    return write_project(root, {
        "pyproject.toml": """
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "marked"
            version = "1.0"

            [tool.setuptools.packages.find]
            where = ["src"]
            """,
        "setup.py": SETUP_PY,
        "src/marked/__init__.py": "",
        "src/marked/_marker.py": "MARKER = 'as committed'\n",
    })


def start(hwb_env: dict[str, str], project: Path, outdir: Path, marker: str, *args: str) -> Any:
    return subprocess.Popen(
        [sys.executable, "-m", "hwb_core", "build", str(project), "--isolation", "venv",
         "-o", str(outdir), "--json", *args],
        env={**hwb_env, "HWB_TEST_MARKER": marker}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
    )


def test_four_concurrent_builds_of_one_tree_each_get_their_own_wheel(
    hwb_env: dict[str, str], tmp_path: Path
) -> None:
    project = marked_project(tmp_path / "proj")
    before = tree_digest(project)
    procs = {marker: start(hwb_env, project, tmp_path / f"out-{marker}", marker)
             for marker in ("one", "two", "three", "four")}
    for marker, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr
        wheel = Path(json.loads(stdout)["wheels"][0]["path"])
        with zipfile.ZipFile(wheel) as zf:
            assert zf.read("marked/_marker.py").decode() == f"MARKER = {marker!r}\n", marker
    assert tree_digest(project) == before  # no build/, no egg-info, no rewritten file


def test_a_stale_build_directory_never_reaches_the_wheel(run_hwb: Any, tmp_path: Path) -> None:
    project = marked_project(tmp_path / "proj")
    stale = project / "build" / "lib" / "marked"
    stale.mkdir(parents=True)
    (stale / "stale_extension.py").write_text("raise ImportError('left from an old build')\n")
    result = run_hwb("build", str(project), "--isolation", "venv", "--json",
                     env={"HWB_TEST_MARKER": "fresh"})
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(json.loads(result.stdout)["wheels"][0]["path"]) as zf:
        assert "marked/stale_extension.py" not in zf.namelist()


def test_in_place_builds_in_the_tree_one_at_a_time(hwb_env: dict[str, str], tmp_path: Path) -> None:
    project = marked_project(tmp_path / "proj")
    first = start(hwb_env, project, tmp_path / "out1", "first", "--in-place")
    marker = project / "src" / "marked" / "_marker.py"
    deadline = time.monotonic() + 120
    while "first" not in marker.read_text():  # the first build holds the tree now
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.05)
    second = start(hwb_env, project, tmp_path / "out2", "second", "--in-place")
    results = [p.communicate(timeout=600) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, results
    assert "waiting for another in-place build of" in results[1][1]
    for marker, (stdout, _) in zip(("first", "second"), results, strict=True):
        with zipfile.ZipFile(json.loads(stdout)["wheels"][0]["path"]) as zf:
            assert zf.read("marked/_marker.py").decode() == f"MARKER = {marker!r}\n"
    assert (project / "build").is_dir()  # in place: the tree is the build's


def test_builds_side_by_side_prune_old_logs_without_tripping_over_each_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each build removes logs beyond the newest 50; one that another build removed a moment
    earlier is simply gone (it once failed a build with "cannot write the build log")."""
    import os
    import threading

    from hwb_core.interfaces import PythonInfo
    from hwb_core.project import Project
    from hwb_plugins.buildlog import KEEP_LOGS, open_log

    monkeypatch.setenv("HWB_CACHE_DIR", str(tmp_path / "cache"))
    project = Project.load(marked_project(tmp_path / "p"))
    python = PythonInfo(sys.executable, "3.11.0", "cpython", "cp311", "test")
    logs = tmp_path / "cache" / "logs"
    logs.mkdir(parents=True)
    failures: list[BaseException] = []

    def build_logs() -> None:
        for _ in range(15):
            try:
                _, stream = open_log(project, python)
                stream.close()
            except BaseException as exc:
                failures.append(exc)
            for n in range(5):  # more old logs, for the others to prune
                old = logs / f"build-old-{threading.get_ident()}-{n}-{time.monotonic_ns()}.log"
                old.write_text("")
                os.utime(old, (1, 1))

    threads = [threading.Thread(target=build_logs) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(list(logs.glob("build-*.log"))) <= KEEP_LOGS + 8 * 5
