"""The same inputs, the same bytes: two builds of one sdist made seconds apart (different
clocks for every file the backend writes) give identical wheels, pure and with a C extension;
``--check-reproducible`` says so, and names the member of a project that writes its build
time; a source directory in git takes its last commit's time; hwb's own rewrites are
normalised. Real builds with setuptools from PyPI."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from hwb import wheelfile
from tests.conftest import REPO, assert_clean_error, json_out, write_project

Run = Callable[..., subprocess.CompletedProcess[str]]

PURE = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=70"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "hwbsame"
        version = "1.0"
    """,
    "src/hwbsame/__init__.py": "X = 1\n",
}

STAMPED = {
    **PURE,
    "setup.py": """
        import time
        from pathlib import Path
        from setuptools import setup

        Path("src/hwbsame/_built.py").write_text(f"AT = {time.time()!r}\\n")
        setup()
    """,
}


def sdist(run_hwb: Run, root: Path, out: Path) -> Path:
    """An sdist of ``root`` made with uv (its members' times: those of the files)."""
    from uv import find_uv_bin

    subprocess.run(
        [find_uv_bin(), "build", "--sdist", "--quiet", str(root), "-o", str(out)], check=True
    )
    (found,) = out.glob("*.tar.gz")
    return found


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_twice(run_hwb: Run, source: Path, tmp: Path) -> tuple[Path, Path]:
    wheels = []
    for n in (1, 2):
        if n == 2:
            time.sleep(2.5)  # zip times have 2 s resolution: a clock-bound build would differ
        result = run_hwb(
            "build", str(source), "-o", str(tmp / f"out{n}"), "--isolation", "venv", "--json"
        )
        wheels.append(Path(json_out(result)["wheels"][0]["path"]))
    return wheels[0], wheels[1]


@pytest.mark.real
def test_two_builds_of_a_pure_sdist_are_identical(run_hwb: Run, tmp_path: Path) -> None:
    package = sdist(run_hwb, write_project(tmp_path / "p", PURE), tmp_path / "sd")
    first, second = build_twice(run_hwb, package, tmp_path)
    assert digest(first) == digest(second)
    with zipfile.ZipFile(first) as zf:
        # The backend's zip times are the sdist's newest member time, not the clock.
        with __import__("tarfile").open(package) as tar:
            newest = max(m.mtime for m in tar.getmembers())
        *day, seconds = wheelfile.zip_time(newest)
        assert {info.date_time for info in zf.infolist()} == {(*day, seconds // 2 * 2)}


@pytest.mark.real
def test_two_builds_of_a_c_extension_sdist_are_identical(run_hwb: Run, tmp_path: Path) -> None:
    project = shutil.copytree(
        REPO / "examples" / "hello-ext",
        tmp_path / "hello-ext",
        ignore=shutil.ignore_patterns("dist", "build", "*.egg-info"),
    )
    package = sdist(run_hwb, project, tmp_path / "sd")
    first, second = build_twice(run_hwb, package, tmp_path)
    assert first.name.endswith("linux_x86_64.whl") or "manylinux" in first.name
    assert digest(first) == digest(second)


@pytest.mark.real
def test_check_reproducible_says_the_builds_agree(run_hwb: Run, tmp_path: Path) -> None:
    project = shutil.copytree(
        REPO / "examples" / "hello-ext",
        tmp_path / "hello-ext",
        ignore=shutil.ignore_patterns("dist", "build", "*.egg-info"),
    )
    package = sdist(run_hwb, project, tmp_path / "sd")
    out = tmp_path / "out"
    result = run_hwb(
        "build",
        str(package),
        "-o",
        str(out),
        "--isolation",
        "venv",
        "--check-reproducible",
        "--cache-envs",
        "--json",
    )
    record = json_out(result)["wheels"][0]
    check = record["reproducible"]
    assert check["identical"] is True and check["differences"] == [], check
    assert check["sha256"][0] == check["sha256"][1] == digest(Path(record["path"]))
    assert "reproducible: a second build gave the same bytes" in result.stderr
    assert [p.name for p in out.iterdir() if p.suffix == ".whl"] == [record["filename"]]


@pytest.mark.real
def test_check_reproducible_names_the_member_holding_the_build_time(
    run_hwb: Run, tmp_path: Path
) -> None:
    package = sdist(run_hwb, write_project(tmp_path / "p", STAMPED), tmp_path / "sd")
    result = run_hwb(
        "build",
        str(package),
        "-o",
        str(tmp_path / "out"),
        "--isolation",
        "venv",
        "--check-reproducible",
        "--json",
    )
    line = assert_clean_error(result, 1)
    assert "not reproducible: a second build differs in hwbsame/_built.py (content)" in line, line
    check = __import__("json").loads(result.stdout)["wheels"][0]["reproducible"]
    assert check["identical"] is False
    assert {"member": "hwbsame/_built.py", "what": "content"} in check["differences"], check


@pytest.mark.real
def test_a_git_checkout_builds_with_its_last_commit_time(run_hwb: Run, tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", PURE)
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    env = {"GIT_COMMITTER_DATE": "2021-03-04T05:06:08Z", "GIT_AUTHOR_DATE": "2021-03-04T05:06:08Z"}
    subprocess.run(
        [*git, "commit", "-qm", "one"], check=True, env={**__import__("os").environ, **env}
    )
    result = run_hwb(
        "build", str(root), "-o", str(tmp_path / "out"), "--isolation", "venv", "--json"
    )
    record = json_out(result)["wheels"][0]
    assert record["source_date_epoch"] == 1614834368
    with zipfile.ZipFile(record["path"]) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2021, 3, 4, 5, 6, 8)}


def test_hwb_s_own_rewrite_is_normalised(tmp_path: Path) -> None:
    wheel = tmp_path / "w-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        info = zipfile.ZipInfo("w/run.sh", date_time=(2024, 5, 6, 7, 8, 10))
        info.external_attr = 0o100775 << 16
        zf.writestr(info, "echo\n")
        zf.writestr(zipfile.ZipInfo("w-1.0.dist-info/METADATA", (2023, 1, 1, 0, 0, 0)), "Name: w\n")
        zf.writestr("w-1.0.dist-info/RECORD", "")
    outs = []
    for n in (1, 2):
        with wheelfile.using(1_600_000_000):
            outs.append(
                wheelfile.rewrite(wheel, tmp_path / f"o{n}", add={"w/b.txt": b"b", "w/a.txt": b"a"})
            )
        time.sleep(2.1 if n == 1 else 0)
    assert outs[0].read_bytes() == outs[1].read_bytes()
    with zipfile.ZipFile(outs[0]) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == [
        "w/run.sh",
        "w-1.0.dist-info/METADATA",
        "w/a.txt",
        "w/b.txt",
        "w-1.0.dist-info/RECORD",
    ]
    assert {i.date_time for i in infos} == {wheelfile.zip_time(1_600_000_000)}
    modes = {i.filename: (i.external_attr >> 16) & 0o7777 for i in infos}
    assert modes["w/run.sh"] == 0o755 and modes["w/a.txt"] == 0o644
