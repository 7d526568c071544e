"""An organization's repair policy, installed for real: ``docs/examples/hwb-example-policy`` is
pip-installed into a fresh venv beside hwb (this checkout, not editable), and that venv's ``hwb``
builds and repairs real C extensions with the real auditwheel. The policy wraps the
``repair_wheel`` hook: it adds host-provided GPU libraries to the exclusions before the repairer
runs, and after it refuses denied libraries and adds a notice of what was bundled."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, assert_clean_error, require
from tests.test_repair_support import project, record_is_valid

pytestmark = [pytest.mark.real, pytest.mark.xdist_group("example-policy")]

POLICY_DIST = REPO / "docs" / "examples" / "hwb-example-policy"
NOTICE = "THIRD-PARTY-NOTICES.txt"


def uv_binary() -> str:
    try:
        from uv import find_uv_bin
    except ImportError:  # pragma: no cover - uv is a dependency of hwb
        beside = Path(sys.executable).with_name("uv")
        require(beside.exists(), "uv (a dependency of hwb) is not installed beside this Python")
        return str(beside)
    return str(find_uv_bin())


@pytest.fixture(scope="module")
def policy_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    uv = uv_binary()
    venv = tmp_path_factory.mktemp("policy") / "venv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
         "--refresh-package", "headless-wheel-builder", "--refresh-package", "hwb-example-policy",
         str(REPO), str(POLICY_DIST)],
        check=True,
    )
    return venv


@pytest.fixture
def hwb(policy_venv: Path, hwb_env: dict[str, str]) -> Any:
    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(policy_venv / "bin" / "hwb"), *args], env={**hwb_env, **(env or {})},
            capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
        )

    return run


@pytest.fixture(scope="module")
def fake_cuda(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``libcuda.so.1`` (and its link-time name) built from tests/data/repair/cudaext/fakecuda."""
    require(shutil.which("gcc"), "gcc is needed to build the stand-in libcuda")
    lib = tmp_path_factory.mktemp("fakecuda")
    source = REPO / "tests" / "data" / "repair" / "cudaext" / "fakecuda" / "cuda.c"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-Wl,-soname,libcuda.so.1", "-o", str(lib / "libcuda.so.1"), str(source)],
        check=True,
    )
    (lib / "libcuda.so").symlink_to("libcuda.so.1")
    return lib


def build(hwb: Any, root: Path, out: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return hwb("build", str(root), "--isolation", "venv", "--python", "3.12", "-o", str(out), "--json", *args, env=env)


def only_wheel(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    (wheel,) = json.loads(result.stdout)["wheels"]
    return wheel


def test_the_installed_policy_is_listed_as_a_loaded_plugin(hwb: Any) -> None:
    result = hwb("plugins", "--json")
    assert result.returncode == 0, result.stderr
    plugins = {p["name"]: p for p in json.loads(result.stdout)["plugins"]}
    policy = plugins["example-policy"]
    assert policy["status"] == "loaded", policy
    assert policy["distribution"] == "hwb-example-policy"
    assert "repair_wheel" in policy["hooks"]


def test_a_wheel_bundling_a_denied_library_is_refused_and_not_published(hwb: Any, tmp_path: Path) -> None:
    root = project("yamlext", tmp_path, '[tool.hwb.example-policy]\ndeny = ["libyaml*"]\n')
    out = tmp_path / "out"
    result = build(hwb, root, out)
    error = assert_clean_error(result, 1)
    assert "bundles libyaml-0.so.2" in error and "Example Corp's policy forbids" in error, error
    assert "link it statically" in error  # the hint, on the same line
    assert not list(out.glob("*.whl")) and not list(out.glob("*.part")), list(out.iterdir()) if out.exists() else None


def test_an_allowed_bundle_gets_the_notice_and_names_the_policy(hwb: Any, tmp_path: Path) -> None:
    root = project("yamlext", tmp_path)
    wheel = only_wheel(build(hwb, root, tmp_path / "out"))
    assert wheel["repaired"] and wheel["repairer"] == "auditwheel"
    assert any(lib.startswith("libyaml-0.so.2") for lib in wheel["bundled"]), wheel
    assert wheel["checked_by"] == ["example-policy"]
    path = Path(wheel["path"])
    assert path.parent == tmp_path / "out" and "manylinux" in path.name
    with zipfile.ZipFile(path) as zf:
        (notice,) = [n for n in zf.namelist() if n.endswith(f".dist-info/licenses/{NOTICE}")]
        text = zf.read(notice).decode()
    assert "libyaml-0.so.2" in text and "auditwheel" in text
    assert record_is_valid(path)


def test_the_policy_keeps_the_host_gpu_library_out_and_bundles_the_rest(
    hwb: Any, tmp_path: Path, fake_cuda: Path
) -> None:
    root = project("cudaext", tmp_path)
    env = {"HWBT_FAKE_CUDA": str(fake_cuda), "LD_LIBRARY_PATH": str(fake_cuda)}
    wheel = only_wheel(build(hwb, root, tmp_path / "out", env=env))
    assert not any(lib.startswith("libcuda") for lib in wheel["bundled"]), wheel["bundled"]
    assert any(lib.startswith("libyaml") for lib in wheel["bundled"]), wheel["bundled"]
    with zipfile.ZipFile(wheel["path"]) as zf:
        assert not [n for n in zf.namelist() if "libcuda" in n]


def test_without_the_policy_the_gpu_library_would_be_bundled(
    hwb: Any, tmp_path: Path, fake_cuda: Path
) -> None:
    """The control for the test above: blocking the policy plugin lets auditwheel bundle it."""
    root = project("cudaext", tmp_path)
    env = {"HWBT_FAKE_CUDA": str(fake_cuda), "LD_LIBRARY_PATH": str(fake_cuda)}
    result = hwb("-p", "no:example-policy", "build", str(root), "--isolation", "venv", "--python", "3.12",
                 "-o", str(tmp_path / "out"), "--json", env=env)
    wheel = only_wheel(result)
    assert any(lib.startswith("libcuda.so.1") for lib in wheel["bundled"]), wheel["bundled"]
    assert wheel["checked_by"] == []


def test_hwb_repair_applies_the_policy_to_a_wheel_built_elsewhere(hwb: Any, tmp_path: Path) -> None:
    root = project("yamlext", tmp_path)
    built = tmp_path / "built"
    made = hwb("build", str(root), "--isolation", "venv", "--python", "3.12", "--no-repair", "-o", str(built))
    assert made.returncode == 0, made.stderr
    (raw,) = built.glob("*linux_x86_64.whl")
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "pyproject.toml").write_text('[tool.hwb.example-policy]\ndeny = ["libyaml*"]\n')
    out = tmp_path / "wheelhouse"
    result = hwb("repair", str(raw), "-o", str(out), "--project", str(tmp_path / "cfg"))
    error = assert_clean_error(result, 1)
    assert "forbids" in error
    assert not out.exists() or not list(out.glob("*.whl"))


def test_a_pure_wheel_passes_the_policy_untouched(hwb: Any, tmp_path: Path) -> None:
    root = project("pure", tmp_path)
    wheel = only_wheel(build(hwb, root, tmp_path / "out"))
    assert wheel["filename"].endswith("-py3-none-any.whl")
    assert not wheel["repaired"] and wheel["checked_by"] == ["example-policy"]
    assert os.path.basename(wheel["path"]) == wheel["filename"]
