"""Start-up: the ``hwb`` group's entry points remembered between runs (``hwb_core.entry_points``)
and what a warm build leaves unimported.

Plugin distributions are really installed into (and uninstalled from) a directory on
``PYTHONPATH`` with uv, or written there as a ``*.dist-info`` by hand, between real runs of the
CLI. Each test has a cache directory of its own; a run that reads the installed distributions
again replaces the cache file (atomically: a new file), a run that uses it leaves it alone.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from hwb.requirements import name_of, normalize
from tests.conftest import REPO, json_out, write_project

Run = Callable[..., subprocess.CompletedProcess[str]]

PLUGIN_DISTS = REPO / "tests" / "plugins"
UV = Path(sys.executable).with_name("uv")
#: Python's ``-X importtime``: every module a run imports is named on stderr.
IMPORT_TIMES = {"PYTHONPROFILEIMPORTTIME": "1"}


def uv(*args: str) -> None:
    command = [str(UV) if UV.exists() else "uv", "pip", *args]
    subprocess.run([*command, "--python", sys.executable, "--quiet"], check=True)


def imported(result: subprocess.CompletedProcess[str]) -> set[str]:
    """The modules a run started with ``PYTHONPROFILEIMPORTTIME=1`` imported."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


class Plugins:
    """``hwb plugins --json`` with ``site`` on ``PYTHONPATH`` and a cache of its own."""

    def __init__(self, run_hwb: Run, tmp_path: Path) -> None:
        self.run_hwb = run_hwb
        self.site = tmp_path / "site"
        self.site.mkdir()
        self.cache = tmp_path / "cache"
        self.cwd = tmp_path

    def env(self, **extra: str) -> dict[str, str]:
        return {"PYTHONPATH": str(self.site), "HWB_CACHE_DIR": str(self.cache), **extra}

    def run(
        self, **extra: str
    ) -> tuple[dict[str, dict[str, Any]], subprocess.CompletedProcess[str]]:
        result = self.run_hwb("plugins", "--json", env=self.env(**extra), cwd=self.cwd)
        assert result.returncode == 0, result.stderr
        return {p["name"]: p for p in json_out(result)["plugins"]}, result

    def listed_again(self) -> tuple[dict[str, dict[str, Any]], bool]:
        """The plugins, and whether this run read the installed distributions again (and so
        replaced the cache file: a run that uses it leaves it alone)."""
        before = self.cache_state()
        plugins, _ = self.run()
        return plugins, self.cache_state() != before

    def cache_state(self) -> list[tuple[str, int, int]]:
        folder = self.cache / "plugins"
        if not folder.is_dir():
            return []
        return [(p.name, p.stat().st_ino, p.stat().st_mtime_ns) for p in self.cache_files()]

    def cache_files(self) -> list[Path]:
        """The remembered listings of the ``hwb`` group (the distribution of hwb's own command
        is remembered too, in a file of its group, ``console_scripts``, and the ``hwb.early``
        group's in one of its own)."""

        def of_hwb(path: Path) -> bool:
            try:
                entries = json.loads(path.read_text())["entry_points"]
            except (ValueError, KeyError):
                return True  # a damaged file: the test looks at it
            values = {value for _, value, *_ in entries}
            if values == {"hwb_plugins.prestart.ahead:begin"}:
                return False  # the hwb.early group's
            return any(value.startswith(("hwb_plugins", "hwb_probe")) for value in values)

        return sorted(path for path in (self.cache / "plugins").iterdir() if of_hwb(path))


@pytest.fixture
def plugins(run_hwb: Run, tmp_path: Path) -> Plugins:
    return Plugins(run_hwb, tmp_path)


def write_dist(site: Path, entry_points: str) -> Path:
    """A distribution as an installer leaves it: ``*.dist-info`` with METADATA and
    ``entry_points.txt``, and the modules it names."""
    write_project(
        site,
        {
            "hwb_probe-0.1.dist-info/METADATA": """
            Metadata-Version: 2.1
            Name: hwb-probe
            Version: 0.1
            """,
            "hwb_probe-0.1.dist-info/entry_points.txt": entry_points,
            "hwb_probe_a.py": "VALUE = 'a'\n",
            "hwb_probe_second.py": "VALUE = 'second'\n",
        },
    )
    return site / "hwb_probe-0.1.dist-info" / "entry_points.txt"


# --------------------------------------------------------------------------- invalidation


@pytest.mark.real
def test_a_plugin_installed_after_a_run_is_found_and_one_uninstalled_is_gone(
    plugins: Plugins,
) -> None:
    before, listed = plugins.listed_again()
    assert listed  # nothing remembered yet
    assert "demo" not in before and "broken" not in before
    assert len(plugins.cache_files()) == 1

    _, listed = plugins.listed_again()
    assert not listed  # nothing changed: the remembered listing

    dists = [PLUGIN_DISTS / "hwb-demo-isolation", PLUGIN_DISTS / "hwb-broken-plugin"]
    uv("install", "--no-deps", "--target", str(plugins.site), *map(str, dists))
    after, listed = plugins.listed_again()
    assert listed
    assert after["demo"]["status"] == "loaded"
    assert after["demo"]["module"] == "hwb_demo_isolation"
    assert after["demo"]["distribution"] == "hwb-demo-isolation"
    assert after["broken"]["status"] == "failed"
    assert "RuntimeError" in after["broken"]["error"]

    # The same from the remembered listing: loaded, failed and blocked alike.
    again, listed = plugins.listed_again()
    assert not listed
    assert again == after
    blocked, _ = plugins.run(HWB_DISABLE_PLUGINS="demo")
    assert blocked["demo"]["status"] == "blocked"

    uv("uninstall", "--target", str(plugins.site), "hwb-demo-isolation")
    gone, listed = plugins.listed_again()
    assert listed
    assert "demo" not in gone
    assert gone["broken"]["status"] == "failed"


def test_an_entry_point_rewritten_in_place_is_read_again(plugins: Plugins) -> None:
    entry_points = write_dist(plugins.site, "[hwb]\nprobe = hwb_probe_a\n")
    first, _ = plugins.run()
    assert first["probe"]["module"] == "hwb_probe_a"

    entry_points.write_text("[hwb]\nprobe = hwb_probe_second\n")  # the same file, rewritten
    second, listed = plugins.listed_again()
    assert listed
    assert second["probe"]["module"] == "hwb_probe_second"
    assert second["probe"]["status"] == "loaded"


def test_a_name_two_distributions_give_is_reported_from_the_remembered_listing(
    plugins: Plugins,
) -> None:
    write_dist(plugins.site, "[hwb]\nprobe = hwb_probe_a\n")
    write_project(
        plugins.site,
        {
            "hwb_other-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: hwb-other\nVersion: 1.0\n",
            "hwb_other-1.0.dist-info/entry_points.txt": "[hwb]\nprobe = hwb_probe_second\n",
        },
    )

    def probes() -> list[tuple[str, str, str | None]]:
        result = plugins.run_hwb("plugins", "--json", env=plugins.env(), cwd=plugins.cwd)
        assert result.returncode == 0, result.stderr
        records = json_out(result)["plugins"]
        return sorted(
            (p["module"], p["status"], p["error"]) for p in records if p["name"] == "probe"
        )

    first = probes()
    before = plugins.cache_state()
    second = probes()
    assert plugins.cache_state() == before  # from the remembered listing
    assert first == second
    # Which of the two is first depends on the order the directory lists them in.
    assert sorted(status for _, status, _ in first) == ["failed", "loaded"]
    assert any("is already taken by" in (error or "") for _, _, error in first)


# --------------------------------------------------------------------------- the cache file


def test_a_damaged_cache_file_is_replaced(plugins: Plugins) -> None:
    write_dist(plugins.site, "[hwb]\nprobe = hwb_probe_a\n")
    plugins.run()
    [path] = plugins.cache_files()
    path.write_text('{"fingerprint": [1, ')
    found, listed = plugins.listed_again()
    assert listed
    assert found["probe"]["status"] == "loaded"
    assert ["probe", "hwb_probe_a"] in [e[:2] for e in json.loads(path.read_text())["entry_points"]]


def test_an_unwritable_cache_directory_only_means_listing_each_time(
    plugins: Plugins, tmp_path: Path
) -> None:
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("not a directory\n")
    write_dist(plugins.site, "[hwb]\nprobe = hwb_probe_a\n")
    for _ in range(2):
        found, result = plugins.run(HWB_CACHE_DIR=str(in_the_way / "cache"))
        assert found["probe"]["status"] == "loaded"
        assert result.stderr == ""


def test_concurrent_runs_leave_one_whole_cache_file(
    hwb_env: dict[str, str], plugins: Plugins
) -> None:
    write_dist(plugins.site, "[hwb]\nprobe = hwb_probe_a\n")
    command = [sys.executable, "-m", "hwb_core", "plugins", "--json"]
    env = {**hwb_env, **plugins.env()}
    runs = [
        subprocess.Popen(command, env=env, cwd=plugins.cwd, stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs)
    listings = [{p["name"] for p in json.loads(out)["plugins"]} for out in outputs]
    assert all(listing == listings[0] and "probe" in listing for listing in listings)
    [path] = plugins.cache_files()  # whole, and no temporary file left behind
    assert ["probe", "hwb_probe_a"] in [e[:2] for e in json.loads(path.read_text())["entry_points"]]


def test_the_remembered_listing_is_what_importlib_metadata_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from importlib.metadata import entry_points as installed

    from hwb_core import entry_points

    monkeypatch.setenv("HWB_CACHE_DIR", str(tmp_path))
    expected = list(dict.fromkeys((ep.name, ep.value) for ep in installed(group="hwb")))
    assert ("venv", "hwb_plugins.venv") in expected
    assert entry_points.listing("hwb") == expected  # read, and written
    [path] = (tmp_path / "plugins").iterdir()
    written = path.stat().st_mtime_ns, path.stat().st_ino
    assert entry_points.listing("hwb") == expected  # remembered
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == written


class _DistributionFinder:
    """An import hook that can provide distributions, as some installers' hooks do."""

    def find_spec(self, *args: object) -> None:
        return None

    def find_distributions(self, *args: object) -> list[object]:
        return []


def test_nothing_is_remembered_when_an_import_hook_provides_distributions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hwb_core import entry_points

    monkeypatch.setenv("HWB_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(sys, "meta_path", [_DistributionFinder(), *sys.meta_path])
    assert ("venv", "hwb_plugins.venv") in entry_points.listing("hwb")
    assert not (tmp_path / "plugins").exists()


# --------------------------------------------------------------------------- a warm build


@pytest.mark.real
def test_a_warm_cached_build_imports_no_entry_point_scanner_nor_requirement_parser(
    run_hwb: Run, tmp_path: Path
) -> None:
    project = write_project(
        tmp_path / "proj",
        {
            "pyproject.toml": """
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [project]
            name = "warm"
            version = "1.0"
            """,
            "src/warm/__init__.py": "",
        },
    )
    env = {"HWB_CACHE_DIR": str(tmp_path / "cache")}
    args = ("build", str(project), "-o", str(tmp_path / "out"), "--isolation", "venv")
    first = run_hwb(*args, "--cache-envs", env=env)
    assert first.returncode == 0, first.stderr
    warm = run_hwb(*args, "--cache-envs", "-q", env={**env, **IMPORT_TIMES})
    assert warm.returncode == 0, warm.stderr
    modules = imported(warm)
    # The check sees what the plugins import (importlib.import_module itself is not logged).
    assert "hwb_plugins.venv.cache" in modules
    assert not modules & {"stevedore", "importlib.metadata", "packaging.requirements"}


# --------------------------------------------------------------------------- requirements


def _packaging_spelling(text: str) -> str:
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return text.strip()
    rest = str(requirement)[len(requirement.name) :]
    return canonicalize_name(requirement.name) + "".join(rest.split())


def test_the_spelling_of_a_bare_name_is_packaging_s() -> None:
    """``normalize`` spells a name alone without packaging's parser: the same as with it."""
    rng = random.Random(12)
    alphabet = "aZ09._- \t\n"
    texts = ["hatchling", " Hatchling ", "Foo_Bar.baz", "a", "-a", "a-", "a..b", "\ta\t", "a\n"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))) for _ in range(20000)]
    for text in texts:
        assert normalize(text) == _packaging_spelling(text), text


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("scikit-build-core>=0.9", "scikit-build-core"),
        ("Cython ; python_version < '4'", "cython"),
        ("pybind11[global]", "pybind11"),
        ("setuptools_rust", "setuptools-rust"),
        (">=1.0", ""),
    ],
)
def test_the_name_of_a_requirement(text: str, name: str) -> None:
    assert name_of(text) == name
    if name:
        assert name == canonicalize_name(Requirement(text).name)


@pytest.mark.parametrize("xdg", [None, "", "   ", "/tmp/somewhere-else"])
def test_the_cache_directory_is_platformdirs_one(
    monkeypatch: pytest.MonkeyPatch, xdg: str | None
) -> None:
    """On Linux hwb finds its cache directory without importing platformdirs, by the same rule."""
    import platformdirs

    from hwb_core.paths import cache_dir

    monkeypatch.delenv("HWB_CACHE_DIR", raising=False)
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    assert cache_dir() == Path(platformdirs.user_cache_dir("hwb", appauthor=False))
