"""auditwheel on the host, as users meet it: ``hwb build --isolation venv`` of real C extensions,
repaired with the real auditwheel and patchelf, and ``hwb repair`` of wheels built elsewhere."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import assert_clean_error, json_out
from tests.test_repair_support import (
    built,
    dynamic_section,
    extension,
    extract,
    hwb_build,
    project,
    record_is_valid,
    require_masking,
    run_without_libyaml,
)

pytestmark = pytest.mark.real


# --------------------------------------------------------------------------- libyaml, bundled


@pytest.fixture(scope="module")
def yaml_build(tmp_path_factory: pytest.TempPathFactory, hwb_cache: Path) -> dict[str, Any]:
    """``hwb build`` of the libyaml extension in a venv (once for the tests below)."""
    import os

    tmp = tmp_path_factory.mktemp("yaml-host")
    root = project("yamlext", tmp)
    (tmp / "tmp").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "hwb_core", "build", str(root), "--isolation", "venv", "--python", "3.12",
         "-o", str(tmp / "out"), "--json"],
        env=dict(os.environ, HWB_CACHE_DIR=str(hwb_cache), TMPDIR=str(tmp / "tmp")),
        capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
    )
    return {**built(result), "tmp": tmp}


@pytest.mark.xdist_group("repair-yaml-host")
def test_a_venv_build_of_a_libyaml_extension_comes_out_manylinux(yaml_build: dict[str, Any]) -> None:
    assert yaml_build["repaired"] is True
    assert yaml_build["repairer"] == "auditwheel"
    assert yaml_build["policy"].startswith("manylinux_2_")
    assert yaml_build["policy"] in yaml_build["filename"]
    assert "-linux_x86_64" not in yaml_build["filename"]


@pytest.mark.xdist_group("repair-yaml-host")
def test_libyaml_is_bundled_in_the_package_libs_directory(yaml_build: dict[str, Any]) -> None:
    assert [lib for lib in yaml_build["bundled"] if lib.startswith("libyaml-0.so.2")] == yaml_build["bundled"]
    with zipfile.ZipFile(yaml_build["path"]) as zf:
        grafted = [n for n in zf.namelist() if n.startswith("hwbt_yamlext.libs/libyaml-0-")]
    assert len(grafted) == 1, grafted


@pytest.mark.xdist_group("repair-yaml-host")
def test_the_extension_finds_the_bundled_libyaml_when_the_system_one_is_hidden(
    yaml_build: dict[str, Any], tmp_path: Path
) -> None:
    require_masking()
    from tests.test_repair_support import python312

    site = extract(Path(yaml_build["path"]), tmp_path / "site")
    so = extension(site, "yamlext")
    assert dynamic_section(so)["NEEDED"][0].startswith("libyaml-0-")
    result = run_without_libyaml(
        f"ldd {so} && {python312()} -c 'import yamlext; print(yamlext.libyaml_version())'", site, tmp_path
    )
    assert result.returncode == 0, result.stderr
    resolved = [line.split("=>")[1].split("(")[0].strip() for line in result.stdout.splitlines() if "libyaml" in line]
    assert len(resolved) == 1, result.stdout
    assert Path(resolved[0]).resolve().parent == site / "hwbt_yamlext.libs"
    assert result.stdout.strip().endswith("(0, 2, 5)")


@pytest.mark.xdist_group("repair-yaml-host")
def test_hiding_the_system_libyaml_really_breaks_an_unrepaired_extension(
    run_hwb: Any, tmp_path: Path
) -> None:
    # The control for the test above: the same mask makes the wheel as built fail to import.
    require_masking()
    from tests.test_repair_support import python312

    wheel = built(hwb_build(run_hwb, project("yamlext", tmp_path), tmp_path / "out", "--no-repair"))
    assert wheel["filename"].endswith("-linux_x86_64.whl") and wheel["repaired"] is False
    site = extract(Path(wheel["path"]), tmp_path / "site")
    result = run_without_libyaml(f"{python312()} -c 'import yamlext'", site, tmp_path)
    assert result.returncode != 0
    assert "libyaml-0.so.2" in result.stderr


@pytest.mark.xdist_group("repair-yaml-host")
def test_the_pyenv_runpath_of_the_build_interpreter_is_gone(yaml_build: dict[str, Any], tmp_path: Path) -> None:
    site = extract(Path(yaml_build["path"]), tmp_path / "site")
    paths = dynamic_section(extension(site, "yamlext"))
    assert paths["RPATH"] + paths["RUNPATH"] == ["$ORIGIN/../hwbt_yamlext.libs"]


# --------------------------------------------------------------------------- exclude, pure, --no-repair


def test_an_excluded_library_stays_outside_the_wheel(run_hwb: Any, tmp_path: Path) -> None:
    root = project("yamlext", tmp_path, '[tool.hwb.repair]\nexclude = ["libyaml-0.so.*"]')
    wheel = built(hwb_build(run_hwb, root, tmp_path / "out"))
    assert wheel["repaired"] is True and wheel["bundled"] == []
    assert "manylinux_2_" in wheel["filename"]
    with zipfile.ZipFile(wheel["path"]) as zf:
        assert not [n for n in zf.namelist() if ".libs/" in n]
    site = extract(Path(wheel["path"]), tmp_path / "site")
    assert dynamic_section(extension(site, "yamlext"))["NEEDED"][0] == "libyaml-0.so.2"


def test_a_pure_wheel_stays_py3_none_any(run_hwb: Any, tmp_path: Path) -> None:
    wheel = built(hwb_build(run_hwb, project("pure", tmp_path), tmp_path / "out"))
    assert wheel["filename"] == "hwbt_purepkg-1.0-py3-none-any.whl"
    assert wheel["repaired"] is False and wheel["repairer"] is None
    assert wheel["repair_note"] == "pure wheel: nothing to repair"


def test_no_repair_publishes_the_wheel_as_built(run_hwb: Any, tmp_path: Path) -> None:
    wheel = built(hwb_build(run_hwb, project("yamlext", tmp_path), tmp_path / "out", "--no-repair"))
    assert wheel["filename"] == "hwbt_yamlext-1.0-cp312-cp312-linux_x86_64.whl"
    assert wheel["repaired"] is False and wheel["repairer"] is None
    assert "skip" in wheel["repair_note"]


def test_a_wheel_without_external_libraries_is_retagged_and_loses_the_pyenv_runpath(
    run_hwb: Any, tmp_path: Path
) -> None:
    root = project("arc4", tmp_path)
    as_built = built(hwb_build(run_hwb, root, tmp_path / "raw", "--no-repair"))
    raw = dynamic_section(extension(extract(Path(as_built["path"]), tmp_path / "raw-site"), "arc4"))
    assert any("/.pyenv/" in p for p in raw["RUNPATH"] + raw["RPATH"]), raw  # the premise
    # HWB_REPAIR_POLICY overrides the project's manylinux_2_28: auditwheel picks what fits.
    wheel = built(hwb_build(run_hwb, root, tmp_path / "out", env={"HWB_REPAIR_POLICY": "auto"}))
    assert wheel["policy"] == "manylinux_2_36_x86_64" and wheel["bundled"] == []
    assert "removed RUNPATH" in wheel["repair_note"]
    fixed = dynamic_section(extension(extract(Path(wheel["path"]), tmp_path / "site"), "arc4"))
    assert fixed["RUNPATH"] + fixed["RPATH"] == []
    assert record_is_valid(Path(wheel["path"]))


# --------------------------------------------------------------------------- a newer glibc symbol


def test_arc4random_asked_for_manylinux_2_28_is_a_clear_error_and_nothing_is_published(
    run_hwb: Any, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = hwb_build(run_hwb, project("arc4", tmp_path), out)
    error = assert_clean_error(result, 1)
    assert "cannot be repaired to manylinux_2_28" in error
    assert "needs manylinux_2_36_x86_64" in error
    assert "older C library" in error  # the hint
    assert list(out.glob("*.whl")) == []
    assert result.stdout == ""


def test_repair_mode_warn_publishes_the_wheel_as_built_and_says_why(run_hwb: Any, tmp_path: Path) -> None:
    result = hwb_build(run_hwb, project("arc4", tmp_path), tmp_path / "out", env={"HWB_REPAIR_MODE": "warn"})
    wheel = built(result)
    assert wheel["filename"].endswith("-linux_x86_64.whl")
    assert wheel["repaired"] is False and wheel["repair_note"].startswith("repair failed:")
    assert "warning:" in result.stderr and "unrepaired (repair.mode = warn)" in result.stderr


# --------------------------------------------------------------------------- hwb repair


def test_hwb_repair_bundles_libyaml_into_a_wheel_from_python_m_build(run_hwb: Any, tmp_path: Path) -> None:
    root = project("yamlext", tmp_path)
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--installer", "uv", "--outdir", str(tmp_path / "dist"), str(root)],
        check=True, capture_output=True, text=True, timeout=600,
    )
    (raw,) = (tmp_path / "dist").glob("*.whl")
    assert raw.name.endswith("-linux_x86_64.whl")
    result = run_hwb("repair", str(raw), "-o", str(tmp_path / "wheelhouse"), "--json")
    (wheel,) = json_out(result)["wheels"]
    assert wheel["input"] == str(raw)
    assert wheel["repaired"] is True and wheel["repairer"] == "auditwheel"
    assert [lib.split(".so")[0] for lib in wheel["bundled"]] == ["libyaml-0"]
    assert Path(wheel["path"]).parent == tmp_path / "wheelhouse"
    assert "manylinux_2_" in wheel["filename"]
    assert raw.is_file()  # the input is left as it was


def test_hwb_repair_writes_to_wheelhouse_by_default_and_copies_a_pure_wheel(
    run_hwb: Any, tmp_path: Path
) -> None:
    pure = built(hwb_build(run_hwb, project("pure", tmp_path), tmp_path / "dist"))
    result = run_hwb("repair", pure["path"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "wheelhouse" / pure["filename"]).read_bytes() == Path(pure["path"]).read_bytes()
    assert "pure wheel" in result.stderr


def test_hwb_repair_takes_exclude_from_the_command_line(run_hwb: Any, tmp_path: Path) -> None:
    raw = built(hwb_build(run_hwb, project("yamlext", tmp_path), tmp_path / "dist", "--no-repair"))
    result = run_hwb("repair", raw["path"], "--exclude", "libyaml*", "-o", str(tmp_path / "wh"), "--json")
    (wheel,) = json_out(result)["wheels"]
    assert wheel["repaired"] is True and wheel["bundled"] == []


def test_hwb_repair_of_a_missing_file_is_a_usage_error(run_hwb: Any, tmp_path: Path) -> None:
    error = assert_clean_error(run_hwb("repair", str(tmp_path / "nope.whl")), 2)
    assert "nope.whl is not a file" in error


def test_hwb_repair_refuses_a_file_that_is_not_a_wheel(run_hwb: Any, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello")
    error = assert_clean_error(run_hwb("repair", str(bogus)), 2)
    assert "not a wheel file name" in error


def test_hwb_repair_reports_each_failure_and_publishes_the_rest(run_hwb: Any, tmp_path: Path) -> None:
    good = built(hwb_build(run_hwb, project("pure", tmp_path), tmp_path / "dist"))
    arc4 = built(hwb_build(run_hwb, project("arc4", tmp_path), tmp_path / "dist", "--no-repair"))
    result = run_hwb("repair", good["path"], arc4["path"], "--policy", "manylinux_2_28",
                     "-o", str(tmp_path / "wh"), "--json")
    error = assert_clean_error(result, 1)
    assert "1 of 2 wheels could not be repaired" in error and arc4["filename"] in error
    assert [w["filename"] for w in json.loads(result.stdout)["wheels"]] == [good["filename"]]
    assert sorted(p.name for p in (tmp_path / "wh").glob("*.whl")) == [good["filename"]]
