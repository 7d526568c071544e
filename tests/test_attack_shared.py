"""Attacks of one ``hwb matrix`` job on another where jobs of one image would share a container
(security issue 25), for real: a real matrix run of a project whose build does the attack. Each
test failed while jobs shared one container as one user, and must pass now.

1. A background process that leaves its session and drops ``HWB_BUILD_ID`` outlives its job
   and writes ``tampered.py`` into the next job's source copy, and so into its wheel.
2. The 3.11 job's build leaves a process that writes a ``.pth`` into the 3.12 job's test
   environment as soon as it appears, so the 3.12 extension, which cannot be imported, passes
   its import check and is published.
3. A build writes into the other jobs' directories (and, where it runs as the owner of the
   image's files, into the site-packages of the container the next job builds in).
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_project
from tests.docker.support import (
    BUILD_IMAGE,
    client_with_images,
    hwb_containers,
    left_containers,
    processes_mentioning,
)

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker-attack-shared")]

Run = Callable[..., subprocess.CompletedProcess[str]]

EXTENSION = """
#include <Python.h>
static struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "%(name)s", NULL, -1, NULL};
PyMODINIT_FUNC PyInit_%(name)s(void) { %(body)s }
"""

# Starts ``code`` (Python, argv[1] the build's own directory) in a new session, without the
# variable a job's processes were found by, detached from the build's output.
DAEMON = """
import os, subprocess, sys
env = {k: v for k, v in os.environ.items() if k != "HWB_BUILD_ID"}
subprocess.Popen(
    [sys.executable, "-c", %(code)r, os.getcwd(), %(marker)r], env=env, start_new_session=True,
    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
)
"""


def project(root: Path, name: str, setup_head: str, files: dict[str, str]) -> Path:
    return write_project(root / name, {
        "pyproject.toml": f"""
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{name}"
            version = "1.0"
        """,
        "setup.py": setup_head + "\n" + files.pop("setup.py"),
        **files,
    })


def matrix(run_hwb: Run, path: Path, out: Path, *args: str) -> dict[str, dict[str, Any]]:
    result = run_hwb("matrix", str(path), "--isolation", "docker", "--image", BUILD_IMAGE,
                     "--python", "3.11,3.12", "-o", str(out), "--json", *args)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout, result.stderr
    return {job["id"].split("-")[0]: job for job in json.loads(result.stdout)["jobs"]}


def nothing_left(client: Any, name: str, hwb_env: dict[str, str], marker: str) -> None:
    assert processes_mentioning(marker) == []
    assert left_containers(hwb_containers, client, name) == []
    assert [p.name for p in Path(hwb_env["TMPDIR"]).iterdir() if p.name.startswith("hwb-")] == []


# --------------------------------------------------------------------------- 1. outliving the job

TAMPER = r"""
import glob, os, sys, time
own = sys.argv[1]
end = time.monotonic() + 120
while time.monotonic() < end:
    for d in glob.glob("/hwb/scratch/job-*/src/tamperme") + glob.glob("/hwb/scratch/src/tamperme"):
        if not d.startswith(own + "/"):
            try:
                with open(d + "/tampered.py", "w") as f:
                    f.write("TAMPERED = True\n")
            except OSError:
                pass
    time.sleep(0.01)
"""


def test_a_process_that_leaves_its_session_does_not_outlive_its_job(
    run_hwb: Run, hwb_env: dict[str, str], tmp_path: Path
) -> None:
    client = client_with_images()
    marker = f"hwb-attack-tamper-{os.getpid()}"
    name = "hwb-attack-tamper"
    path = project(tmp_path, name, DAEMON % {"code": TAMPER, "marker": marker}, {
        "setup.py": "from setuptools import Extension, setup\n"
                    "setup(packages=['tamperme'],\n"
                    "      ext_modules=[Extension('tamperme._ext', ['tamperme/_ext.c'])])\n",
        "tamperme/__init__.py": "",
        "tamperme/_ext.c": EXTENSION % {"name": "_ext", "body": "return PyModule_Create(&m);"},
    })
    jobs = matrix(run_hwb, path, tmp_path / "out", "--parallel", "1")
    for job in jobs.values():
        assert job["status"] == "ok", job
        with zipfile.ZipFile(job["wheel"]) as zf:
            assert "tamperme/tampered.py" not in zf.namelist(), job["wheel"]
    nothing_left(client, name, hwb_env, marker)


# --------------------------------------------------------------------------- 2. a .pth in the test env

# The 3.11 job's build leaves behind a process that watches for Python 3.12 site-packages in
# any directory it can see (the other job's build and test environments, wherever and whenever
# they are made) and plants a .pth there that stands in for the extension the 3.12 build broke.
PLANT = r"""
import os, time
end = time.monotonic() + 120
line = "import sys, types; sys.modules['_broken'] = types.ModuleType('_broken')\n"
while time.monotonic() < end:
    for root in ("/hwb/scratch", "/hwb/work", "/tmp"):
        for d, subdirs, _ in os.walk(root):
            if d.endswith("/lib/python3.12/site-packages"):
                subdirs[:] = []
                try:
                    with open(d + "/aaa-hwb-attack.pth", "w") as f:
                        f.write(line)
                except OSError:
                    pass
    time.sleep(0.01)
"""


def test_a_build_cannot_make_another_jobs_broken_extension_pass_its_import_check(
    run_hwb: Run, hwb_env: dict[str, str], tmp_path: Path
) -> None:
    """The 3.11 job attacks the 3.12 job, whose extension fails to import: a .pth in the
    3.12 test environment would make its import check pass, and the broken wheel published."""
    client = client_with_images()
    marker = f"hwb-attack-pth-{os.getpid()}"
    name = "hwb-attack-pth"
    path = project(tmp_path, name, "import sys\nif sys.version_info[:2] == (3, 11):\n    " + (
        DAEMON % {"code": PLANT, "marker": marker}).strip().replace("\n", "\n    "), {
        "setup.py": "from setuptools import Extension, setup\n"
                    "setup(ext_modules=[Extension('_broken', ['_broken.c'])])\n",
        "_broken.c": EXTENSION % {
            "name": "_broken",
            "body": "\n#if PY_MINOR_VERSION == 12\n"
                    '    PyErr_SetString(PyExc_ImportError, "broken on purpose"); return NULL;\n'
                    "#else\n"
                    "    return PyModule_Create(&m);\n"
                    "#endif\n",
        },
    })
    jobs = matrix(run_hwb, path, tmp_path / "out", "--parallel", "2")
    assert jobs["cp311"]["status"] == "ok", jobs["cp311"]
    assert jobs["cp312"]["status"] == "failed", jobs["cp312"]
    assert "broken on purpose" in Path(jobs["cp312"]["log"]).read_text(), jobs["cp312"]
    assert [w.name.split("-")[2] for w in (tmp_path / "out").glob("*.whl")] == ["cp311"]
    nothing_left(client, name, hwb_env, marker)


# --------------------------------------------------------------------------- 3. reaching other jobs

REACH = r"""
import glob, json, os, time

def writable(directory):
    probe = os.path.join(directory, ".hwb-attack-probe")
    try:
        with open(probe, "w"):
            pass
    except OSError:
        return False
    os.remove(probe)
    return True

own = os.path.dirname(os.getcwd())
deadline = time.monotonic() + 8
while time.monotonic() < deadline:  # wait for the other job, if it is in this container
    if [d for d in glob.glob("/hwb/scratch/job-*") if d != own]:
        break
    time.sleep(0.2)
candidates = [f"/hwb/scratch/job-{n}{sub}" for n in range(1, 9) for sub in ("", "/src", "/env", "/home", "/tmp")]
record = {
    "siblings": [d for d in candidates if not d.startswith(own + "/") and d != own and os.path.isdir(d) and writable(d)],
    "site_packages": [d for d in glob.glob("/opt/python/*/lib/python3.*/site-packages") if writable(d)],
}
with open("reach.json", "w") as f:
    json.dump(record, f)
"""


def test_a_build_cannot_write_to_other_jobs_or_the_interpreters(
    run_hwb: Run, hwb_env: dict[str, str], tmp_path: Path
) -> None:
    client = client_with_images()
    name = "hwb-attack-reach"
    path = project(tmp_path, name, REACH, {
        "setup.py": "from setuptools import Extension, setup\n"
                    "setup(packages=['reach'], package_data={'reach': ['reach.json']},\n"
                    "      ext_modules=[Extension('reach._ext', ['reach/_ext.c'])])\n"
                    "",
        "reach/__init__.py": "",
        "reach/_ext.c": EXTENSION % {"name": "_ext", "body": "return PyModule_Create(&m);"},
    })
    # reach.json is written into the build's copy of the project: move it into the package.
    setup = path / "setup.py"
    setup.write_text(setup.read_text().replace(
        'with open("reach.json", "w")', 'with open("reach/reach.json", "w")'))
    jobs = matrix(run_hwb, path, tmp_path / "out", "--parallel", "2")
    for job in jobs.values():
        assert job["status"] == "ok", job
        with zipfile.ZipFile(job["wheel"]) as zf:
            record = json.loads(zf.read("reach/reach.json"))
        assert record["siblings"] == [], record
        # Each build has a container of its own (its test environment another): what it writes
        # into the image's site-packages, which it can where it runs as the container's owner
        # (hwb run as root), is thrown away with it and reaches no other job.
    nothing_left(client, name, hwb_env, "hwb-attack-reach-none")
