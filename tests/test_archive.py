"""Extracting sdists safely: every member is checked before anything is written, and one bad
member refuses the whole archive."""

from __future__ import annotations

import io
import stat
import subprocess
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from hwb_core.errors import EXIT_USAGE, UnsafeArchive, UsageError
from hwb_plugins.source.archive import extract_sdist, is_sdist
from tests.conftest import json_out, require, wheel_members
from tests.plugins.backends import TINY_BACKEND

Run = Callable[..., subprocess.CompletedProcess[str]]


def file_member(name: str, data: bytes = b"", mode: int = 0o644) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    return info, data


def link_member(name: str, target: str, *, hard: bool = False) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
    info.linkname = target
    return info, b""


def special_member(name: str, kind: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    return info, b""


def make_tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


def make_zip(path: Path, members: list[tuple[str, bytes, int]]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, mode in members:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            zf.writestr(info, data)
    return path


GOOD = [
    file_member("demo-1.0/pyproject.toml", b"[project]\nname = 'demo'\n"),
    file_member("demo-1.0/demo/__init__.py", b"X = 1\n"),
    file_member("demo-1.0/run.sh", b"#!/bin/sh\n", mode=0o755),
]


def all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# --------------------------------------------------------------------------- good archives


def test_a_good_sdist_is_extracted_and_its_project_root_returned(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    root = extract_sdist(make_tar(tmp_path / "demo-1.0.tar.gz", GOOD), dest)
    assert root == dest / "demo-1.0"
    assert (root / "demo" / "__init__.py").read_text() == "X = 1\n"
    assert stat.S_IMODE((root / "run.sh").stat().st_mode) & 0o111


def test_an_archive_without_a_single_top_directory_is_its_own_root(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    archive = make_tar(
        tmp_path / "flat.tar.gz", [file_member("pyproject.toml"), file_member("a.py")]
    )
    assert extract_sdist(archive, dest) == dest


def test_links_that_stay_inside_are_kept(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    archive = make_tar(
        tmp_path / "demo-1.0.tar.gz",
        [
            *GOOD,
            link_member("demo-1.0/docs/README", "../demo/__init__.py"),
            link_member("demo-1.0/copy.py", "demo-1.0/demo/__init__.py", hard=True),
        ],
    )
    root = extract_sdist(archive, dest)
    assert (root / "docs" / "README").is_symlink()
    assert (root / "docs" / "README").read_text() == "X = 1\n"
    assert (root / "copy.py").read_text() == "X = 1\n"


def test_a_good_zip_sdist_is_extracted_with_its_modes(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    archive = make_zip(
        tmp_path / "demo-1.0.zip",
        [("demo-1.0/pyproject.toml", b"", 0o644), ("demo-1.0/run.sh", b"", 0o755)],
    )
    root = extract_sdist(archive, dest)
    assert root == dest / "demo-1.0"
    assert stat.S_IMODE((root / "run.sh").stat().st_mode) == 0o755


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("demo-1.0.tar.gz", True),
        ("demo-1.0.TGZ", True),
        ("demo-1.0.zip", True),
        ("demo-1.0.tar.xz", True),
        ("demo-1.0-py3-none-any.whl", False),
        ("README.md", False),
    ],
)
def test_is_sdist_goes_by_the_file_name(tmp_path: Path, name: str, expected: bool) -> None:
    (tmp_path / name).write_bytes(b"")
    assert is_sdist(tmp_path / name) is expected


def test_a_directory_is_not_an_sdist(tmp_path: Path) -> None:
    (tmp_path / "demo-1.0.tar.gz").mkdir()
    assert not is_sdist(tmp_path / "demo-1.0.tar.gz")


# --------------------------------------------------------------------------- hostile archives

HOSTILE_TAR = {
    "parent-traversal": [file_member("demo-1.0/../../escaped.py", b"evil")],
    "top-level-dotdot": [file_member("../escaped.py", b"evil")],
    "absolute-path": [file_member("/tmp/hwb-test-planted.py", b"evil")],
    "symlink-out": [link_member("demo-1.0/outside", "../../outside")],
    "absolute-symlink": [link_member("demo-1.0/etc", "/etc")],
    "symlink-climbing-out-of-a-subdir": [link_member("demo-1.0/a/b/up", "../../../../x")],
    "hardlink-out": [link_member("demo-1.0/passwd", "../etc/passwd", hard=True)],
    "absolute-hardlink": [link_member("demo-1.0/passwd", "/etc/passwd", hard=True)],
    "fifo": [special_member("demo-1.0/pipe", tarfile.FIFOTYPE)],
    "char-device": [special_member("demo-1.0/null", tarfile.CHRTYPE)],
}


@pytest.mark.parametrize("case", list(HOSTILE_TAR))
def test_a_hostile_tar_member_refuses_the_whole_archive(tmp_path: Path, case: str) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    # The hostile member comes last: a careless extractor would already have written the rest.
    archive = make_tar(tmp_path / "demo-1.0.tar.gz", [*GOOD, *HOSTILE_TAR[case]])
    with pytest.raises(UnsafeArchive) as info:
        extract_sdist(archive, dest)
    assert info.value.exit_code == EXIT_USAGE
    assert "demo-1.0.tar.gz contains" in info.value.message
    assert all_files(dest) == []
    assert all_files(tmp_path) == ["demo-1.0.tar.gz", "dest"]
    assert not Path("/tmp/hwb-test-planted.py").exists()


def test_a_chain_of_links_that_leads_out_is_refused_as_unsafe(tmp_path: Path) -> None:
    # Each link looks harmless alone ("demo-1.0/.." is the extraction directory); through the
    # first, the second climbs one level higher than a textual check can see.
    require(hasattr(tarfile, "data_filter"), "a Python with PEP 706's tarfile data filter")
    dest = tmp_path / "dest"
    dest.mkdir()
    archive = make_tar(
        tmp_path / "demo-1.0.tar.gz",
        [
            *GOOD,
            link_member("demo-1.0/up", ".."),
            link_member("demo-1.0/upper", "up/.."),
            file_member("demo-1.0/upper/escaped.txt", b"evil"),
        ],
    )
    with pytest.raises(UnsafeArchive, match="outside the destination"):
        extract_sdist(archive, dest)
    assert [p for p in all_files(tmp_path) if not p.startswith("dest")] == ["demo-1.0.tar.gz"]


HOSTILE_ZIP = {
    "parent-traversal": ("demo-1.0/../../escaped.py", 0o644),
    "absolute-path": ("/tmp/hwb-test-planted.py", 0o644),
    "windows-drive": ("C:/Windows/evil.py", 0o644),
    "backslash-traversal": ("demo-1.0\\..\\..\\escaped.py", 0o644),
    "symlink": ("demo-1.0/link", 0o120777),
}


@pytest.mark.parametrize("case", list(HOSTILE_ZIP))
def test_a_hostile_zip_member_refuses_the_whole_archive(tmp_path: Path, case: str) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    name, mode = HOSTILE_ZIP[case]
    archive = make_zip(
        tmp_path / "demo-1.0.zip",
        [("demo-1.0/pyproject.toml", b"", 0o644), (name, b"../../etc", mode)],
    )
    with pytest.raises(UnsafeArchive):
        extract_sdist(archive, dest)
    assert all_files(tmp_path) == ["demo-1.0.zip", "dest"]


def test_a_corrupt_archive_is_a_usage_error_not_an_unsafe_one(tmp_path: Path) -> None:
    archive = tmp_path / "demo-1.0.tar.gz"
    archive.write_bytes(b"\x1f\x8bnot really gzip at all")
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(UsageError, match="cannot read") as info:
        extract_sdist(archive, dest)
    assert not isinstance(info.value, UnsafeArchive)


# --------------------------------------------------------------------------- through the CLI


def test_a_good_sdist_builds_and_the_wheel_lands_beside_it(
    run_hwb: Run, tmp_path: Path, hwb_env: dict[str, str]
) -> None:
    pyproject = (
        b'[build-system]\nrequires = []\nbuild-backend = "tiny_backend"\nbackend-path = ["_backend"]\n\n'
        b'[project]\nname = "demo"\nversion = "1.0"\n'
    )
    archive = make_tar(
        tmp_path / "demo-1.0.tar.gz",
        [
            file_member("demo-1.0/pyproject.toml", pyproject),
            file_member("demo-1.0/demo/__init__.py", b"X = 1\n"),
            file_member("demo-1.0/_backend/tiny_backend.py", TINY_BACKEND.read_bytes()),
        ],
    )
    wheel = json_out(run_hwb("build", str(archive), "--isolation", "venv", "--json"))["wheels"][0]
    assert Path(wheel["path"]) == tmp_path / "demo-1.0-py3-none-any.whl"
    assert wheel_members(Path(wheel["path"]))["demo/__init__.py"] == b"X = 1\n"
    assert list(Path(hwb_env["TMPDIR"]).glob("hwb-*")) == []  # the extraction directory is gone


# --------------------------------------------------------------------------- limits (issue 11)


def test_too_many_members_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    from hwb_plugins.source.archive import Limits

    archive = make_tar(tmp_path / "many-1.0.tar.gz",
                       [file_member(f"many-1.0/f{i}.txt", b"x") for i in range(50)])
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(UnsafeArchive) as caught:
        extract_sdist(archive, dest, Limits(files=20))
    assert caught.value.message == "many-1.0.tar.gz holds more members than the limit of 20"
    assert "sdist.max-files" in (caught.value.hint or "")
    assert all_files(dest) == []


@pytest.mark.parametrize("kind", ["tar", "zip"])
def test_an_archive_that_unpacks_past_the_size_limit_is_refused(tmp_path: Path, kind: str) -> None:
    from hwb_plugins.source.archive import Limits

    big = b"\0" * (3 * 1024 * 1024)
    if kind == "tar":
        archive = make_tar(tmp_path / "big-1.0.tar.gz", [file_member("big-1.0/blob.bin", big)])
    else:
        archive = make_zip(tmp_path / "big-1.0.zip", [("big-1.0/blob.bin", big, 0o644)])
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(UnsafeArchive, match="unpacks to more than the limit of 1 MB"):
        extract_sdist(archive, dest, Limits(megabytes=1))
    assert all_files(dest) == []


def test_the_limits_come_from_the_environment_and_end_in_a_usage_error(
    run_hwb: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    archive = make_tar(tmp_path / "many-1.0.tar.gz",
                       [file_member(f"many-1.0/f{i}.txt", b"x") for i in range(30)])
    result = run_hwb("build", str(archive), env={"HWB_SDIST_MAX_FILES": "10"})
    assert result.returncode == EXIT_USAGE
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: many-1.0.tar.gz holds more members than the limit of 10; ")
