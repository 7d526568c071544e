"""The docker plugin's settings, image names, wheelhouse tags and import discipline: no engine
needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hwb_core.config import load_config
from hwb_core.errors import ConfigError
from hwb_core.interfaces import PythonInfo
from hwb_plugins.container import settings as docker_settings
from hwb_plugins.container.interpreter import interpreter_dir
from hwb_plugins.container.wheelhouse import Target
from hwb_plugins.docker import ENGINE


def load(tmp_path: Path, table: dict[str, object] | None = None, overrides: dict[str, object] | None = None,
         environ: dict[str, str] | None = None) -> docker_settings.ContainerSettings:
    tool_hwb = {"isolation": {"docker": table}} if table else {}
    config = load_config(
        docker_settings.schema("docker"), tool_hwb=tool_hwb, pyproject_path=tmp_path / "pyproject.toml",
        environ=environ or {}, overrides=overrides or {},
    )
    return docker_settings.load(config, tmp_path, ENGINE)


def python(version: str, abi: str, implementation: str = "cpython") -> PythonInfo:
    return PythonInfo(path="/x", version=version, implementation=implementation, abi_tag=abi, source="t")


def test_default_image_is_manylinux_2_28_for_this_machine(tmp_path: Path) -> None:
    settings = load(tmp_path)
    assert settings.default_image() == f"quay.io/pypa/manylinux_2_28_{docker_settings.host_arch()}"


@pytest.mark.parametrize(
    ("table", "image"),
    [
        ({"manylinux": "2014"}, "quay.io/pypa/manylinux2014_x86_64"),
        ({"manylinux": "manylinux_2_34"}, "quay.io/pypa/manylinux_2_34_x86_64"),
        ({"manylinux": "2_35", "platform": "linux/arm64"}, "quay.io/pypa/manylinux_2_35_aarch64"),
        ({"musllinux": "1_2", "platform": "aarch64"}, "quay.io/pypa/musllinux_1_2_aarch64"),
    ],
)
def test_manylinux_and_musllinux_name_the_pypa_image_of_the_target_arch(
    tmp_path: Path, table: dict[str, object], image: str
) -> None:
    table.setdefault("platform", "linux/amd64")
    assert load(tmp_path, table).default_image() == image


def test_an_unknown_manylinux_is_an_error_naming_key_and_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, {"manylinux": "2_99"})
    assert "isolation.docker.manylinux" in info.value.message
    assert "pyproject.toml" in info.value.message
    assert "2_28" in (info.value.hint or "")


def test_manylinux_and_musllinux_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="both set"):
        load(tmp_path, {"manylinux": "2014", "musllinux": "1_2"})


def test_image_and_dockerfile_together_are_refused(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    with pytest.raises(ConfigError, match="both set"):
        load(tmp_path, {"image": "x", "dockerfile": "Dockerfile"})


def test_a_missing_dockerfile_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a file"):
        load(tmp_path, {"dockerfile": "Dockerfile.build"})


@pytest.mark.parametrize("text", ["x", "1q", "1k"])
def test_memory_must_be_a_size_of_at_least_6m(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match=r"isolation\.docker\.memory"):
        load(tmp_path, {"memory": text})


def test_limits_from_the_command_line_override_the_file(tmp_path: Path) -> None:
    settings = load(
        tmp_path, {"memory": "8g", "cpus": 4.0},
        overrides={"isolation.docker.memory": "512m", "isolation.docker.cpus": "1.5"},
    )
    assert (settings.memory, settings.cpus) == (512 * 1024**2, 1.5)


def test_env_passes_listed_host_variables_and_fixed_values_only(tmp_path: Path) -> None:
    settings = load(tmp_path, {"env": ["PASSED", "FIXED=1", "UNSET"]})
    environment = settings.container_environment({"PASSED": "p", "SECRET": "s"})
    assert environment == {"PASSED": "p", "FIXED": "1"}


def test_an_invalid_env_entry_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"isolation\.docker\.env"):
        load(tmp_path, {"env": ["NOT A NAME"]})


def test_settings_can_come_from_hwb_environment_variables(tmp_path: Path) -> None:
    settings = load(tmp_path, environ={"HWB_ISOLATION_DOCKER_GPU_DEVICES": "0,1",
                                       "HWB_ISOLATION_DOCKER_NETWORK": "true"})
    assert settings.gpu_devices == ("0", "1") and settings.wants_gpu and settings.network


@pytest.mark.parametrize(
    ("info", "directory"),
    [
        (python("3.12.1", "cp312"), "cp312-cp312"),
        (python("3.13.0", "cp313t"), "cp313-cp313t"),
        (python("3.7.16", "cp37"), "cp37-cp37m"),
        (python("3.10.14", "pypy310_pp73", "pypy"), "pp310-pypy310_pp73"),
    ],
)
def test_interpreters_map_to_manylinux_directories(info: PythonInfo, directory: str) -> None:
    assert interpreter_dir(info) == directory


def test_glibc_targets_accept_every_older_manylinux_tag() -> None:
    tags = Target("3.12.1", "cpython", "cp312", "x86_64", "glibc", (2, 28)).platform_tags()
    assert tags[0] == "manylinux_2_28_x86_64"
    assert {"manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"} <= set(tags)
    assert tags[-1] == "manylinux1_x86_64"


def test_aarch64_targets_start_at_manylinux2014() -> None:
    tags = Target("3.12.1", "cpython", "cp312", "aarch64", "glibc", (2, 28)).platform_tags()
    assert tags[-2:] == ["manylinux_2_17_aarch64", "manylinux2014_aarch64"]


def test_musl_targets_accept_older_musllinux_tags() -> None:
    tags = Target("3.12.1", "cpython", "cp312", "x86_64", "musl", (1, 2)).platform_tags()
    assert tags == ["musllinux_1_2_x86_64", "musllinux_1_1_x86_64", "musllinux_1_0_x86_64"]


def test_dockerfile_hash_follows_the_dockerfile_and_its_context(tmp_path: Path) -> None:
    from hwb_plugins.container.images import recipe_hash

    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM base\nCOPY data /data\n")
    (tmp_path / "data").write_text("1")
    (tmp_path / ".dockerignore").write_text("ignored\n")
    first = recipe_hash(dockerfile, tmp_path, None)
    (tmp_path / "ignored").write_text("not sent to the engine")
    assert recipe_hash(dockerfile, tmp_path, None) == first
    assert recipe_hash(dockerfile, tmp_path, "linux/arm64") != first
    (tmp_path / "data").write_text("2")
    second = recipe_hash(dockerfile, tmp_path, None)
    assert second != first
    dockerfile.write_text("FROM base\nCOPY data /data\nRUN true\n")
    assert recipe_hash(dockerfile, tmp_path, None) not in (first, second)


@pytest.mark.parametrize("args", [["--version"], ["plugins", "--json"], ["build", "--help"]])
def test_the_docker_sdk_is_not_imported_unless_docker_is_used(args: list[str]) -> None:
    code = (
        "import sys\n"
        "from hwb_core.cli import main\n"
        f"code = main({args!r})\n"
        "sys.stderr.write('DOCKER-IMPORTED=%s\\n' % ('docker' in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "DOCKER-IMPORTED=False" in result.stderr, result.stderr
