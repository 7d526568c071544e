"""How ``hwb matrix`` turns options and ``[tool.hwb.matrix]`` into jobs (no builds run here)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from hwb.host import normalize_arch, normalize_platform
from hwb_core import defaults
from hwb_core.config import Config, load_config
from hwb_core.errors import ConfigError, UsageError
from hwb_core.interfaces import Capabilities, IsolationInfo, PythonInfo
from hwb_plugins.matrix.jobs import FAILED, SKIPPED, WAITING, Job
from hwb_plugins.matrix.plan import auto_pythons, expand, select_arches, select_platforms
from hwb_plugins.matrix.procs import descendants
from hwb_plugins.matrix.routing import Machine, classify
from hwb_plugins.matrix.settings import MATRIX_KEYS, parse_excludes, split_list


def info(
    version: str, abi: str | None = None, impl: str = "cpython", path: str | None = None
) -> PythonInfo:
    major, minor = version.split(".")[:2]
    return PythonInfo(
        path=path or f"/opt/python/{version}/bin/python",
        version=version,
        implementation=impl,
        abi_tag=abi or f"cp{major}{minor}",
        source="test",
    )


def config(
    tool_hwb: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    schema = {**defaults.config_schema(), **MATRIX_KEYS}
    return load_config(schema, tool_hwb=tool_hwb or {}, environ=environ or {})


def container(name: str, rank: int = 10) -> IsolationInfo:
    """A strategy declaring what the container isolations declare, under any name."""
    return IsolationInfo(
        name,
        "stand-in",
        capabilities=Capabilities(
            container=True,
            linux=("manylinux", "musllinux"),
            architectures=("x86_64", "aarch64"),
            emulation=True,
            target_key=f"isolation.{name}.platform",
            family_keys={"manylinux": f"isolation.{name}.manylinux"},
            rank=rank,
        ),
    )


NATIVE = IsolationInfo("venv", "stand-in", capabilities=Capabilities(native=True))
TARGET_KEY = "isolation.engine.platform"


def machine(
    platform: str = "linux",
    arch: str = "x86_64",
    emulate: bool = True,
    problems: Mapping[str, str] | None = None,
    strategies: tuple[IsolationInfo, ...] = (container("engine"), NATIVE),
) -> Machine:
    return Machine(
        platform, arch, lambda _arch: emulate, lambda name: (problems or {}).get(name), strategies
    )


LINUX = ["linux"]
ARCHES = {"linux": ["x86_64"], "macos": ["x86_64", "arm64"], "windows": ["x86_64"]}


# --------------------------------------------------------------------------- expansion


def test_expand_is_the_product_of_pythons_platforms_and_arches_in_that_order() -> None:
    pythons = [("3.11", info("3.11.7")), ("3.12", info("3.12.1"))]
    jobs, excluded = expand(pythons, ["linux", "macos"], ARCHES)
    assert excluded == 0
    assert [j.id for j in jobs] == [
        "cp311-manylinux_x86_64",
        "cp311-macosx_x86_64",
        "cp311-macosx_arm64",
        "cp312-manylinux_x86_64",
        "cp312-macosx_x86_64",
        "cp312-macosx_arm64",
    ]
    assert all(j.status == WAITING for j in jobs)


def test_an_exclude_removes_every_job_matching_all_its_fields() -> None:
    excludes = parse_excludes(
        [{"python": "3.11", "platform": "macos"}, {"arch": ["arm64"], "python": ["3.12", "3.13"]}],
        "test",
    )
    pythons = [(v, info(f"{v}.0")) for v in ("3.11", "3.12", "3.13")]
    jobs, excluded = expand(pythons, ["linux", "macos"], ARCHES, excludes)
    ids = [j.id for j in jobs]
    assert excluded == 4
    assert "cp311-macosx_x86_64" not in ids and "cp311-macosx_arm64" not in ids
    assert "cp312-macosx_arm64" not in ids and "cp313-macosx_arm64" not in ids
    assert "cp312-macosx_x86_64" in ids and "cp311-manylinux_x86_64" in ids


def test_an_exclude_matches_architecture_aliases_and_patch_versions() -> None:
    excludes = parse_excludes(
        [{"arch": "arm64", "platform": "linux"}, {"python": "3.10.13"}], "test"
    )
    pythons = [("3.10", info("3.10.13")), ("3.12", info("3.12.1"))]
    jobs, excluded = expand(pythons, ["linux"], {"linux": ["x86_64", "aarch64"]}, excludes)
    assert [j.id for j in jobs] == ["cp312-manylinux_x86_64"]
    assert excluded == 3


def test_an_exclude_matches_a_python_that_was_not_found_by_its_name() -> None:
    (exclude,) = parse_excludes([{"python": "3.99"}], "test")
    assert exclude.matches("3.99", None, "linux", "x86_64")
    assert not exclude.matches("3.9", None, "linux", "x86_64")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"pyhton": "3.10"}, "unknown key 'pyhton'"),
        ({}, "is empty"),
        ({"python": 3.1}, "must be a string or a list of strings"),
        ({"platform": "beos"}, "unknown platform 'beos'"),
        ({"arch": "sparc"}, "unknown architecture 'sparc'"),
        ({"platform": "windows", "arch": "ppc64le"}, "unknown architecture 'ppc64le'"),
    ],
)
def test_a_bad_exclude_is_a_configuration_error_naming_the_entry(
    table: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_excludes([{"python": "3.12"}, table], "pyproject.toml")
    assert "matrix.exclude entry 2 in pyproject.toml" in caught.value.message
    assert message in caught.value.message


def test_names_have_aliases_and_unknown_ones_are_usage_errors() -> None:
    assert normalize_platform("Darwin") == "macos"
    assert normalize_platform("win32") == "windows"
    assert normalize_arch("linux", "arm64") == "aarch64"
    assert normalize_arch("macos", "aarch64") == "arm64"
    assert normalize_arch("windows", "AMD64") == "x86_64"
    with pytest.raises(UsageError, match="unknown platform 'solaris'"):
        normalize_platform("solaris")
    with pytest.raises(UsageError, match="unknown macos architecture 'ppc64le'"):
        normalize_arch("macos", "ppc64le")
    assert split_list(("3.11,3.12", " 3.13 ", "3.11")) == ["3.11", "3.12", "3.13"]


# --------------------------------------------------------------------------- interpreters


def test_auto_pythons_keeps_the_newest_patch_of_each_cpython_3_8_plus() -> None:
    found = [
        info("3.11.2", path="/usr/bin/python3.11"),
        info("3.11.7"),
        info("3.7.16"),
        info("2.7.18"),
        info("3.10.13", abi="pypy310_pp73", impl="pypy"),
        info("3.13.0"),
        info("3.13.0", abi="cp313t", path="/t"),
    ]
    chosen, refused = auto_pythons(found, None)
    assert [(i.version, i.abi_tag) for i in chosen] == [
        ("3.11.7", "cp311"),
        ("3.13.0", "cp313"),
        ("3.13.0", "cp313t"),
    ]
    assert refused == []


def test_auto_pythons_follows_requires_python_and_says_what_it_left_out() -> None:
    found = [info("3.9.18"), info("3.10.13"), info("3.12.1"), info("3.13.0")]
    chosen, refused = auto_pythons(found, ">=3.10,<3.13")
    assert [i.version for i in chosen] == ["3.10.13", "3.12.1"]
    assert [i.version for i in refused] == ["3.9.18", "3.13.0"]


# --------------------------------------------------------------------------- what runs here


def job(
    python: str = "3.12",
    platform: str = "linux",
    arch: str = "x86_64",
    version: str | None = "3.12.1",
) -> Job:
    return Job(
        python=python, platform=platform, arch=arch, interpreter=info(version) if version else None
    )


def test_a_job_for_another_operating_system_is_skipped_with_the_reason() -> None:
    j = job(platform="macos", arch="arm64")
    classify(j, machine())
    assert j.status == SKIPPED
    assert j.error == "macOS wheels are built on macOS; this machine runs Linux"


def test_a_job_whose_interpreter_was_not_found_fails_with_the_finders_message() -> None:
    j = job(python="3.99", version=None)
    classify(j, machine(), not_found={"3.99": "no Python matching '3.99' was found"})
    assert (j.status, j.error) == (FAILED, "no Python matching '3.99' was found")


def test_a_listed_python_outside_requires_python_is_skipped() -> None:
    j = job()
    classify(j, machine(), requires_python=">=3.13")
    assert j.status == SKIPPED
    assert "requires-python '>=3.13' excludes Python 3.12.1" in (j.error or "")


def test_a_native_job_runs_as_asked() -> None:
    j = job()
    classify(j, machine(), asked_isolation="venv")
    assert (j.status, j.isolation, j.overrides) == (WAITING, None, {})


def test_another_architecture_goes_to_the_strategy_that_emulates_it_with_its_platform() -> None:
    j = job(arch="aarch64")
    classify(j, machine())
    assert j.status == WAITING
    assert j.isolation == "engine"
    assert j.overrides == {TARGET_KEY: "linux/arm64"}


def test_another_architecture_goes_to_the_next_emulator_when_the_first_cannot_run() -> None:
    j = job(arch="aarch64")
    host = machine(
        problems={"first": "its engine is not running"},
        strategies=(container("first"), container("second", rank=20), NATIVE),
    )
    classify(j, host)
    assert (j.status, j.isolation) == (WAITING, "second")
    assert j.overrides == {"isolation.second.platform": "linux/arm64"}


@pytest.mark.parametrize(
    ("kwargs", "host", "reason"),
    [
        ({"asked_isolation": "venv"}, machine(), "needs one that emulates it: --isolation engine"),
        ({}, machine(strategies=(NATIVE,)), "no installed plugin declares one"),
        (
            {},
            machine(problems={"engine": "the engine is not running"}),
            "needs engine, which cannot run here: the engine is not running",
        ),
        ({}, machine(emulate=False), "no qemu handler for aarch64"),
    ],
)
def test_another_architecture_that_cannot_run_here_is_skipped_with_the_reason(
    kwargs: dict[str, Any], host: Machine, reason: str
) -> None:
    j = job(arch="aarch64")
    classify(j, host, **kwargs)
    assert j.status == SKIPPED
    assert reason in (j.error or "")


def test_i686_runs_on_x86_64_without_emulation() -> None:
    j = job(arch="i686")
    classify(j, machine(), asked_isolation="venv")
    assert j.status == WAITING


# --------------------------------------------------------------------------- platforms and arches


def test_platforms_default_to_this_machine_plus_those_with_a_table() -> None:
    assert select_platforms([], config(), "linux") == ["linux"]
    cfg = config({"matrix": {"windows": {"architectures": ["x86_64"]}}})
    assert select_platforms([], cfg, "linux") == ["linux", "windows"]
    assert select_platforms(["macos", "linux", "darwin"], cfg, "linux") == ["macos", "linux"]
    assert select_platforms([], config({"matrix": {"platforms": ["windows"]}}), "linux") == [
        "windows"
    ]


def test_arches_come_from_the_option_the_table_or_a_default() -> None:
    host = machine(arch="x86_64")
    assert select_arches("linux", [], config(), host) == ["x86_64"]
    assert select_arches("linux", ["arm64", "x86_64"], config(), host) == ["aarch64", "x86_64"]
    cfg = config({"matrix": {"linux": {"architectures": ["x86_64", "aarch64"]}}})
    assert select_arches("linux", [], cfg, host) == ["x86_64", "aarch64"]
    assert select_arches("macos", [], config(), host) == ["x86_64", "arm64"]
    assert select_arches(
        "macos", [], config({"matrix": {"macos": {"universal2": True}}}), host
    ) == ["universal2"]
    assert select_arches("windows", [], config(), host) == ["x86_64"]


def test_a_bad_architecture_in_the_table_names_the_key() -> None:
    cfg = config({"matrix": {"linux": {"architectures": ["sparc"]}}})
    with pytest.raises(ConfigError, match=r"matrix\.linux\.architectures"):
        select_arches("linux", [], cfg, machine())


# --------------------------------------------------------------------------- the configuration


def test_the_guides_matrix_table_validates() -> None:
    cfg = config(
        {
            "matrix": {
                "python": ["3.10", "3.11", "3.12", "3.13"],
                "linux": {"architectures": ["x86_64", "aarch64"], "manylinux": "2_28"},
                "macos": {
                    "architectures": ["x86_64", "arm64"],
                    "universal2": True,
                    "deployment-target": "11.0",
                },
                "windows": {"architectures": ["x86_64"]},
                "exclude": [{"python": "3.10", "platform": "windows", "arch": "arm64"}],
            }
        }
    )
    assert cfg.get("matrix.python") == ["3.10", "3.11", "3.12", "3.13"]
    assert cfg.get("matrix.macos.deployment-target") == "11.0"
    assert cfg.get("matrix.exclude") == [{"python": "3.10", "platform": "windows", "arch": "arm64"}]


def test_a_misspelt_matrix_key_is_reported_with_the_closest_one() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'matrix\.linux\.architecture'") as caught:
        config({"matrix": {"linux": {"architecture": ["x86_64"]}}})
    assert caught.value.hint == "did you mean 'matrix.linux.architectures'?"


def test_tables_keys_take_a_list_of_tables_or_text_from_the_environment() -> None:
    cfg = config(environ={"HWB_MATRIX_EXCLUDE": "python=3.10,platform=windows; arch=aarch64"})
    assert cfg.get("matrix.exclude") == [
        {"python": "3.10", "platform": "windows"},
        {"arch": "aarch64"},
    ]
    assert cfg.source("matrix.exclude") == "HWB_MATRIX_EXCLUDE"
    with pytest.raises(ConfigError, match=r"must be a list of tables"):
        config({"matrix": {"exclude": {"python": "3.10"}}})
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        config(environ={"HWB_MATRIX_EXCLUDE": "python"})


# --------------------------------------------------------------------------- helpers


def test_the_private_copy_leaves_out_environments_caches_build_output_and_the_outdir(
    tmp_path: Path,
) -> None:
    from hwb.snapshot import copy_tree

    root = tmp_path / "proj"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "__init__.py").write_text("")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / "env").mkdir()
    (root / "env" / "pyvenv.cfg").write_text("")
    (root / "src" / "pkg" / "__pycache__").mkdir()
    (root / "dist").mkdir()
    (root / "link").symlink_to("src")
    (root / "build" / "lib").mkdir(parents=True)
    (root / "src" / "pkg.egg-info").mkdir()
    (root / "src" / "pkg" / "build").mkdir()  # a package named build is no build output
    (root / ".git" / "objects" / "ab").mkdir(parents=True)
    (root / ".git" / "objects" / "ab" / "cdef").write_bytes(b"object")
    copy, files = copy_tree(root, tmp_path / "copy" / "proj", skip=[root / "dist"])
    assert files == 3
    assert (copy / "src" / "pkg" / "build").is_dir()
    # git's objects never change once written: hard-linked, not copied
    assert (copy / ".git" / "objects" / "ab" / "cdef").stat().st_ino == (
        root / ".git" / "objects" / "ab" / "cdef"
    ).stat().st_ino
    assert (copy / "src" / "pkg" / "__init__.py").stat().st_ino != (
        root / "src" / "pkg" / "__init__.py"
    ).stat().st_ino
    assert (copy / "src" / "pkg" / "__init__.py").is_file()
    assert (copy / ".git" / "HEAD").is_file()  # version plugins (setuptools-scm) read it
    assert (copy / "link").is_symlink()
    for gone in ("env", "dist", "src/pkg/__pycache__", "build", "src/pkg.egg-info"):
        assert not (copy / gone).exists(), gone


def test_descendants_lists_children_and_grandchildren() -> None:
    code = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']); time.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(descendants()) < 2:
            time.sleep(0.05)
        found = descendants()
        assert child.pid in found
        assert (
            len([pid for pid in found if pid != child.pid and os.path.exists(f"/proc/{pid}")]) >= 1
        )
    finally:
        for pid in descendants():
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        child.wait()


# --------------------------------------------------------------------------- through the pipeline


def test_a_job_for_another_architecture_reaches_a_third_party_emulator_with_its_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A third-party strategy (project-local) that declares it emulates aarch64 gets the job,
    preferred through isolation.preference, with the platform in the key it declares."""
    import io

    from hwb import host
    from hwb_core.pipeline import Session
    from hwb_core.plugins import PluginManager
    from hwb_plugins.matrix.jobs import MatrixOptions
    from hwb_plugins.matrix.runner import run_matrix
    from hwb_plugins.matrix.view import PlainView
    from tests.conftest import NullReporter

    monkeypatch.setattr(host, "can_emulate", lambda arch: True)
    module = f"standin_sandbox_{os.getpid()}"
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "src" / "ext.c").write_text("int x;\n")
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "ext"\nversion = "1"\n[tool.hwb]\nplugins = ["{module}"]\n'
        '[tool.hwb.isolation]\npreference = ["sandbox"]\n'
    )
    (root / f"{module}.py").write_text(
        "from hwb_core import hookimpl\n"
        "from hwb_core.errors import BuildError\n"
        "from hwb_core.interfaces import Capabilities, ConfigKey, IsolationInfo\n"
        "@hookimpl\n"
        "def config_schema():\n"
        "    return {'isolation.sandbox.arch': ConfigKey('str', None)}\n"
        "@hookimpl\n"
        "def register_isolation():\n"
        "    return IsolationInfo('sandbox', 'stand-in', capabilities=Capabilities(\n"
        "        container=True, linux=('manylinux',), architectures=('x86_64', 'aarch64'),\n"
        "        emulation=True, target_key='isolation.sandbox.arch'))\n"
        "@hookimpl\n"
        "def create_env(isolation, request):\n"
        "    if isolation == 'sandbox':\n"
        "        raise BuildError('sandbox asked for ' + request.config.get('isolation.sandbox.arch'))\n"
    )
    pm = PluginManager()
    pm.load_core()
    pm.load_entry_points()
    stream = io.StringIO()
    result = run_matrix(
        MatrixOptions(
            source=root,
            pythons=[sys.executable],
            arches=["aarch64"],
            parallel=2,
            outdir=tmp_path / "out",
            verbosity=-1,
        ),
        Session(pm, NullReporter()),
        PlainView(stream, -1),
    )
    (job,) = result.jobs
    assert (job.arch, job.status) == ("aarch64", FAILED)
    assert job.error == "sandbox asked for linux/arm64"
    assert job.to_json("auto")["isolation"] == "sandbox"
    assert "sandbox asked for linux/arm64" in Path(str(job.log)).read_text()
