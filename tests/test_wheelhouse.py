"""The host's wheelhouse for offline containers lasts between builds (issue 12): a requirement set
is downloaded once per container target, later builds ask no index, ``--refresh-envs`` and the
age limit download afresh, concurrent builds share it safely, ``hwb cache`` (the
``cache_areas`` hook) lists and clears it; installs in the container go through hwb's uv."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import json_out, write_project
from tests.docker.support import BUILD_IMAGE, client_with_images

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker-wheelhouse")]

DOWNLOADING = "on the host for the container"


def pure_project(root: Path, name: str = "hwb-wheelhouse-demo") -> Path:
    return write_project(root, {
        "pyproject.toml": f"""
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{name}"
            version = "1.0"
            """,
        f"{name.replace('-', '_')}.py": "VALUE = 1\n",
    })


@pytest.fixture
def own_cache(hwb_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """A cache directory of this test's own: its wheelhouse starts empty."""
    return {"HWB_CACHE_DIR": str(tmp_path / "cache")}


def build(run_hwb: Any, project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = run_hwb("build", str(project), "--isolation", "docker", "--image", BUILD_IMAGE,
                     "--python", "3.12", "--json", "-vv", *args, env=env)
    assert result.returncode == 0, result.stderr
    return result


def test_a_requirement_set_is_downloaded_once(run_hwb: Any, tmp_path: Path, own_cache: dict[str, str]) -> None:
    client_with_images()
    project = pure_project(tmp_path / "p")
    first = build(run_hwb, project, own_cache)
    assert DOWNLOADING in first.stderr
    second = build(run_hwb, project, own_cache)
    assert DOWNLOADING not in second.stderr, second.stderr
    assert "in the host's wheelhouse" in second.stderr
    # The environment was prepared once, by hwb's uv (mounted read-only), in a container of its own.
    assert first.stderr.count("preparing a build environment for setuptools>=68 (once)") == 1
    assert "preparing a build environment" not in second.stderr
    assert "(prepared environment " in second.stderr
    direct = build(run_hwb, project, own_cache, "--no-cache-envs")
    assert "$ (container) /hwb/bin/uv pip install --python /hwb/scratch/env/bin/python" in direct.stderr
    assert "prepared environment" not in direct.stderr
    assert json_out(second)["wheels"][0]["filename"] == "hwb_wheelhouse_demo-1.0-py3-none-any.whl"

    refreshed = build(run_hwb, project, own_cache, "--refresh-envs")
    assert DOWNLOADING in refreshed.stderr

    listing = json_out(run_hwb("cache", "list", "--json", env=own_cache))
    (target,) = listing["wheelhouse"]
    assert target["key"].startswith("cp312-3.12.")
    assert ["setuptools>=68"] in target["requirement_sets"]
    assert any(name.startswith("setuptools-") for name in target["wheels"])
    assert listing["total_size"] >= target["size"] > 0

    (layer,) = listing["container-envs"]
    assert layer["requirements"] == ["setuptools>=68"] and layer["image"] == BUILD_IMAGE

    cleared = json_out(run_hwb("cache", "clear", "--json", env=own_cache))
    assert sorted(entry["area"] for entry in cleared["removed"]) == ["container-envs", "wheelhouse"]
    after = json_out(run_hwb("cache", "list", "--json", env=own_cache))
    assert after["wheelhouse"] == [] and after["container-envs"] == []


def test_a_set_older_than_the_age_limit_is_downloaded_again(
    run_hwb: Any, tmp_path: Path, own_cache: dict[str, str]
) -> None:
    client_with_images()
    project = pure_project(tmp_path / "p")
    build(run_hwb, project, own_cache)
    records = list((tmp_path / "cache" / "wheelhouse").glob("*/sets/*.json"))
    assert records
    for record in records:  # ten days old
        document = json.loads(record.read_text())
        document["created"] = time.time() - 10 * 86400
        record.write_text(json.dumps(document))
    again = build(run_hwb, project, own_cache)
    assert DOWNLOADING in again.stderr
    fresh = build(run_hwb, project, {**own_cache, "HWB_ISOLATION_DOCKER_CACHE_MAX_AGE": "0"})
    assert DOWNLOADING not in fresh.stderr


def test_concurrent_builds_share_an_empty_wheelhouse(
    hwb_env: dict[str, str], tmp_path: Path, own_cache: dict[str, str]
) -> None:
    client_with_images()
    procs = []
    for n in range(3):
        project = pure_project(tmp_path / f"p{n}", f"hwb-wheelhouse-race{n}")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "hwb_core", "build", str(project), "--isolation", "docker",
             "--image", BUILD_IMAGE, "--python", "3.12", "--json"],
            env={**hwb_env, **own_cache}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))
    results = [(proc.wait(timeout=600), *proc.communicate()) for proc in procs]
    for code, _out, err in results:
        assert code == 0, err
    downloads = sum(DOWNLOADING in err for _code, _out, err in results)
    assert 1 <= downloads <= 3
    wheelhouse = tmp_path / "cache" / "wheelhouse"
    assert not list(wheelhouse.glob("*/.download-*")) and not list(wheelhouse.glob("*/sets/*.part"))


def test_without_uv_the_images_pip_installs(run_hwb: Any, tmp_path: Path, own_cache: dict[str, str]) -> None:
    client_with_images()
    project = pure_project(tmp_path / "p")
    result = build(run_hwb, project, {**own_cache, "HWB_ISOLATION_DOCKER_USE_UV": "false"})
    assert "/hwb/bin/uv" not in result.stderr and "prepared environment" not in result.stderr
    assert " -m pip --python /hwb/scratch/env/bin/python install" in result.stderr


def test_cache_areas_are_one_per_name() -> None:
    """docker and podman each answer ``cache_areas`` with the one wheelhouse: it is listed once."""
    from hwb_core.plugins import PluginManager
    from hwb_plugins.cache_command import areas

    pm = PluginManager()
    pm.load_core()
    pm.load_entry_points()
    names = [area.name for area in areas(pm)]
    assert names.count("wheelhouse") == 1 and names.count("container-envs") == 1 and "envs" in names


def test_a_new_image_drops_the_prepared_environments_of_its_predecessor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same image name, interpreter and requirements but an earlier image id: removed when the
    new image's environment is made; anything else stays."""
    from hwb_plugins.container import layers
    from tests.conftest import NullReporter

    monkeypatch.setenv("HWB_CACHE_DIR", str(tmp_path / "cache"))
    root = layers.envs_root()
    base = {"image": "img:latest", "python": "/opt/python/cp312-cp312/bin/python", "requirements": ["setuptools"]}
    kept = {"other-reqs": {**base, "image_id": "sha256:old", "requirements": ["hatchling"]},
            "other-image": {**base, "image": "other:1", "image_id": "sha256:old"},
            "new": {**base, "image_id": "sha256:new", "key": "new"}}
    for name, record in {**kept, "old": {**base, "image_id": "sha256:old"}}.items():
        (root / name).mkdir(parents=True)
        (root / name / layers.RECORD).write_text(json.dumps(record))
    made = layers.Layers.__new__(layers.Layers)
    made.root, made.reporter = root, NullReporter()
    made._drop_superseded(kept["new"])
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == sorted(kept)


def test_without_any_pip_on_the_host_hwb_makes_a_private_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hwb's environment may have no pip (uv made it), and a container build may ask for a
    Python the host lacks: the wheelhouse then downloads with a pip hwb's uv installs once."""
    import importlib.util

    from hwb_core.interfaces import PythonInfo
    from hwb_plugins.container import wheelhouse

    monkeypatch.setenv("HWB_CACHE_DIR", str(tmp_path / "cache"))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pip" else real(name, *a))
    monkeypatch.setattr(sys, "_base_executable", "", raising=False)
    stand_in = PythonInfo("", "3.10", "cpython", "cp310", "asked")
    pip = wheelhouse.host_pip(stand_in, "hint")
    assert pip[0].startswith(str(tmp_path / "cache" / "tools"))
    assert subprocess.run([*pip, "--version"], capture_output=True).returncode == 0
    assert wheelhouse.host_pip(stand_in, "hint") == pip  # made once
