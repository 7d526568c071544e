"""Configuration layering and coercion, and the command-line values parsed before it
(``--python`` specs, ``-C`` settings). Pure functions: no subprocess."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hwb_core.cli import parse_config_settings
from hwb_core.config import Config, env_name, load_config
from hwb_core.errors import EXIT_USAGE, ConfigError, UsageError
from hwb_core.interfaces import ConfigKey, PythonInfo, PythonSpec
from hwb_core.plugins import PluginManager

PYPROJECT = Path("/projects/demo/pyproject.toml")

SCHEMA = {
    "python": ConfigKey("str", None, env="HWB_PYTHON"),
    "jobs": ConfigKey("int", 1),
    "ratio": ConfigKey("float", 0.5),
    "isolation.strategy": ConfigKey("str", "auto", env="HWB_ISOLATION"),
    "isolation.venv.use-uv": ConfigKey("bool", True),
    "isolation.venv.extra": ConfigKey("list", []),
    "isolation.docker.env": ConfigKey("table", {}),
    "isolation.docker.mounts": ConfigKey("tables", []),
    "repair.mode": ConfigKey("str", "auto", choices=("auto", "skip", "require")),
}


def load(
    tool_hwb: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Config:
    return load_config(
        SCHEMA,
        tool_hwb=tool_hwb or {},
        pyproject_path=PYPROJECT,
        environ=environ or {},
        overrides=overrides,
        **kwargs,
    )


# --------------------------------------------------------------------------- layering


def test_a_key_set_nowhere_has_its_default() -> None:
    config = load()
    assert config.get("isolation.venv.use-uv") is True
    assert config.source("isolation.venv.use-uv") == "default"


def test_pyproject_overrides_the_default() -> None:
    config = load({"isolation": {"venv": {"use-uv": False}}})
    assert config.get("isolation.venv.use-uv") is False
    assert config.source("isolation.venv.use-uv") == str(PYPROJECT)


def test_the_environment_overrides_pyproject() -> None:
    config = load({"isolation": {"strategy": "venv"}}, environ={"HWB_ISOLATION": "none"})
    assert config.get("isolation.strategy") == "none"
    assert config.source("isolation.strategy") == "HWB_ISOLATION"


def test_the_command_line_overrides_the_environment() -> None:
    config = load(
        {"isolation": {"strategy": "venv"}},
        environ={"HWB_ISOLATION": "none"},
        overrides={"isolation.strategy": "docker"},
    )
    assert config.get("isolation.strategy") == "docker"
    assert config.source("isolation.strategy") == "command line"


def test_an_override_of_none_leaves_the_lower_layer_in_place() -> None:
    config = load(environ={"HWB_ISOLATION": "none"}, overrides={"isolation.strategy": None})
    assert config.get("isolation.strategy") == "none"


def test_layers_are_resolved_per_key() -> None:
    config = load(
        {"python": "3.11", "jobs": 3},
        environ={"HWB_JOBS": "4"},
        overrides={"python": "3.12"},
    )
    assert (config.get("python"), config.source("python")) == ("3.12", "command line")
    assert (config.get("jobs"), config.source("jobs")) == (4, "HWB_JOBS")
    assert (config.get("ratio"), config.source("ratio")) == (0.5, "default")


def test_command_line_values_are_checked_like_any_other() -> None:
    with pytest.raises(ConfigError, match=r"jobs in command line must be an integer, not 'many'"):
        load(overrides={"jobs": "many"})


def test_table_collects_the_keys_below_a_prefix() -> None:
    config = load({"isolation": {"venv": {"extra": ["a"]}}})
    assert config.table("isolation.venv") == {"use-uv": True, "extra": ["a"]}


def test_an_undeclared_key_cannot_be_read() -> None:
    with pytest.raises(KeyError, match="not declared by any plugin"):
        load().get("isolation.nothing")


def test_describe_reports_every_value_and_its_source() -> None:
    described = load({"jobs": 2}).describe()
    assert described["jobs"] == {"value": 2, "source": str(PYPROJECT)}
    assert described["ratio"] == {"value": 0.5, "source": "default"}
    assert list(described) == sorted(SCHEMA)


# --------------------------------------------------------------------------- environment variables


def test_environment_names_are_derived_from_the_key_unless_declared() -> None:
    assert (
        env_name("isolation.venv.use-uv", SCHEMA["isolation.venv.use-uv"])
        == "HWB_ISOLATION_VENV_USE_UV"
    )
    assert env_name("isolation.strategy", SCHEMA["isolation.strategy"]) == "HWB_ISOLATION"


@pytest.mark.parametrize("text", ["1", "true", "True", "YES", "on", " on "])
def test_true_words_from_the_environment(text: str) -> None:
    assert load(environ={"HWB_ISOLATION_VENV_USE_UV": text}).get("isolation.venv.use-uv") is True


@pytest.mark.parametrize("text", ["0", "false", "No", "OFF", ""])
def test_false_words_from_the_environment(text: str) -> None:
    assert load(environ={"HWB_ISOLATION_VENV_USE_UV": text}).get("isolation.venv.use-uv") is False


def test_a_word_that_is_not_a_boolean_names_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        load(environ={"HWB_ISOLATION_VENV_USE_UV": "perhaps"})
    assert (
        info.value.message
        == "isolation.venv.use-uv in HWB_ISOLATION_VENV_USE_UV must be true or false, not 'perhaps'"
    )
    assert info.value.exit_code == EXIT_USAGE


def test_a_list_from_the_environment_is_split_on_commas() -> None:
    config = load(environ={"HWB_ISOLATION_VENV_EXTRA": " cython, numpy>=2 ,,wheel"})
    assert config.get("isolation.venv.extra") == ["cython", "numpy>=2", "wheel"]


def test_an_empty_list_from_the_environment_is_empty() -> None:
    assert load(environ={"HWB_ISOLATION_VENV_EXTRA": ""}).get("isolation.venv.extra") == []


def test_a_table_from_the_environment_is_key_value_pairs() -> None:
    config = load(environ={"HWB_ISOLATION_DOCKER_ENV": "CFLAGS=-O2, LANG = C.UTF-8,EMPTY="})
    assert config.get("isolation.docker.env") == {"CFLAGS": "-O2", "LANG": "C.UTF-8", "EMPTY": ""}


def test_a_table_entry_without_equals_is_an_error() -> None:
    with pytest.raises(ConfigError, match="HWB_ISOLATION_DOCKER_ENV must be KEY=VALUE pairs"):
        load(environ={"HWB_ISOLATION_DOCKER_ENV": "CFLAGS=-O2,oops"})


def test_tables_from_the_environment_are_separated_by_semicolons() -> None:
    config = load(environ={"HWB_ISOLATION_DOCKER_MOUNTS": "src=/a,dst=/b; src=/c"})
    assert config.get("isolation.docker.mounts") == [{"src": "/a", "dst": "/b"}, {"src": "/c"}]


def test_numbers_from_the_environment() -> None:
    config = load(environ={"HWB_JOBS": "8", "HWB_RATIO": "0.25"})
    assert (config.get("jobs"), config.get("ratio")) == (8, 0.25)
    with pytest.raises(ConfigError, match="jobs in HWB_JOBS must be an integer"):
        load(environ={"HWB_JOBS": "8.5"})


def test_unrelated_environment_variables_are_ignored() -> None:
    assert load(environ={"HWB_NOT_A_KEY": "x", "PATH": "/bin"}).get("jobs") == 1


# --------------------------------------------------------------------------- pyproject values


def test_an_unknown_key_names_the_closest_declared_key_and_the_file() -> None:
    with pytest.raises(ConfigError) as info:
        load({"isolation": {"venv": {"use_uv": True}}})
    assert info.value.message == f"unknown key 'isolation.venv.use_uv' in [tool.hwb] of {PYPROJECT}"
    assert info.value.hint == "did you mean 'isolation.venv.use-uv'?"


def test_an_unknown_key_with_nothing_close_points_at_the_docs() -> None:
    with pytest.raises(ConfigError) as info:
        load({"telemetry": True})
    assert "unknown key 'telemetry'" in info.value.message
    assert info.value.hint is not None and "docs/configuration.md" in info.value.hint


def test_the_real_schema_suggests_the_hyphenated_spelling() -> None:
    pm = PluginManager()
    pm.load_core()
    pm.load_entry_points()
    with pytest.raises(ConfigError) as info:
        load_config(pm.schema(), tool_hwb={"isolation": {"venv": {"cache_envs": True}}})
    assert info.value.hint == "did you mean 'isolation.venv.cache-envs'?"


@pytest.mark.parametrize(
    ("tool_hwb", "message"),
    [
        ({"isolation": {"venv": {"use-uv": 1}}}, "must be true or false, not 1"),
        ({"python": 3.12}, "must be a string, not 3.12"),
        ({"jobs": True}, "must be an integer, not True"),
        ({"isolation": {"venv": {"extra": ["a", 2]}}}, "must be a list of strings"),
        ({"isolation": {"docker": {"env": ["A=1"]}}}, "must be a table"),
        ({"isolation": {"docker": {"mounts": {"src": "/a"}}}}, "must be a list of tables"),
    ],
    ids=[
        "int-for-bool",
        "float-for-str",
        "bool-for-int",
        "mixed-list",
        "list-for-table",
        "table-for-tables",
    ],
)
def test_a_value_of_the_wrong_type_is_an_error(tool_hwb: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=f"in \\[tool.hwb\\] of {PYPROJECT} {message}"):
        load(tool_hwb)


def test_a_value_outside_its_choices_lists_them() -> None:
    with pytest.raises(ConfigError) as info:
        load({"repair": {"mode": "maybe"}})
    assert "repair.mode" in info.value.message and "'maybe'" in info.value.message
    assert info.value.hint == "choose one of: auto, skip, require"


def test_a_table_valued_key_is_taken_whole() -> None:
    config = load({"isolation": {"docker": {"env": {"CFLAGS": "-O2", "JOBS": 4}}}})
    assert config.get("isolation.docker.env") == {"CFLAGS": "-O2", "JOBS": "4"}


def test_keys_of_a_blocked_or_failed_plugin_are_ignored() -> None:
    config = load({"isolation": {"docker": {"memory": "8g"}}}, ignored_names=["docker"])
    assert config.get("isolation.strategy") == "auto"
    with pytest.raises(ConfigError, match=r"isolation\.docker\.memory"):
        load({"isolation": {"docker": {"memory": "8g"}}})


# --------------------------------------------------------------------------- --python


@pytest.mark.parametrize(
    ("text", "implementation", "version"),
    [
        ("3", None, (3,)),
        ("3.12", None, (3, 12)),
        (" 3.12 ", None, (3, 12)),
        ("3.12.1", None, (3, 12, 1)),
        ("python3.11", None, (3, 11)),
        ("cp312", "cpython", (3, 12)),
        ("CP38", "cpython", (3, 8)),
        ("cpython3.13", "cpython", (3, 13)),
        ("pypy3.10", "pypy", (3, 10)),
        ("pp310", "pypy", (3, 10)),
    ],
)
def test_python_spec_versions_and_tags(
    text: str, implementation: str | None, version: tuple[int, ...]
) -> None:
    spec = PythonSpec.parse(text)
    assert (spec.implementation, spec.version, spec.path) == (implementation, version, None)


@pytest.mark.parametrize(
    "text",
    ["/usr/bin/python3", "./venv/bin/python", "~/py/bin/python", "C:\\Python312\\python.exe"],
)
def test_python_spec_paths(text: str) -> None:
    spec = PythonSpec.parse(text)
    assert spec.path == text and spec.version == ()


@pytest.mark.parametrize("text", ["", "   ", "latest", "3.x", "cp", "py3", "3.12-dev", "jython2.7"])
def test_python_spec_rejects_what_is_no_version_tag_or_path(text: str) -> None:
    with pytest.raises(UsageError) as info:
        PythonSpec.parse(text)
    assert info.value.exit_code == EXIT_USAGE
    assert info.value.hint


def info(version: str, implementation: str = "cpython") -> PythonInfo:
    return PythonInfo(
        path=f"/opt/{version}/bin/python",
        version=version,
        implementation=implementation,
        abi_tag="cp" + "".join(version.split(".")[:2]),
        source="test",
    )


def test_python_spec_matches_by_prefix_and_implementation() -> None:
    assert PythonSpec.parse("3.12").matches(info("3.12.1"))
    assert not PythonSpec.parse("3.12").matches(info("3.11.7"))
    assert not PythonSpec.parse("3.1").matches(info("3.12.1"))
    assert PythonSpec.parse("3.12.1").matches(info("3.12.1"))
    assert not PythonSpec.parse("3.12.2").matches(info("3.12.1"))
    assert not PythonSpec.parse("cp310").matches(info("3.10.14", "pypy"))
    assert PythonSpec.parse("pypy3.10").matches(info("3.10.14", "pypy"))
    assert not PythonSpec.parse("/usr/bin/python3").matches(info("3.12.1"))


# --------------------------------------------------------------------------- -C KEY=VALUE


def test_config_settings_pairs() -> None:
    assert parse_config_settings(["a=1", "--build-option=--quiet"]) == {
        "a": "1",
        "--build-option": "--quiet",
    }


def test_config_setting_values_keep_later_equals_signs() -> None:
    assert parse_config_settings(["setup-args=-Dfoo=bar"]) == {"setup-args": "-Dfoo=bar"}


def test_a_config_setting_without_value_is_empty() -> None:
    assert parse_config_settings(["editable-verbose"]) == {"editable-verbose": ""}


def test_a_repeated_config_setting_becomes_a_list() -> None:
    settings = parse_config_settings(["opt=a", "other=x", "opt=b", "opt=c"])
    assert settings == {"opt": ["a", "b", "c"], "other": "x"}


def test_no_config_settings_is_an_empty_mapping() -> None:
    assert parse_config_settings(()) == {}


@pytest.mark.parametrize("item", ["=value", "="])
def test_a_config_setting_without_a_key_is_a_usage_error(item: str) -> None:
    with pytest.raises(UsageError, match="expected KEY=VALUE") as info:
        parse_config_settings([item])
    assert info.value.exit_code == EXIT_USAGE


# --------------------------------------------------------------------------- TOML has types


@pytest.mark.parametrize(
    ("tool_hwb", "key", "hint"),
    [
        ({"isolation": {"venv": {"use-uv": "false"}}}, "isolation.venv.use-uv", "use-uv = false"),
        ({"jobs": "4"}, "jobs", "jobs = 4"),
        ({"ratio": "0.5"}, "ratio", "ratio = 0.5"),
        ({"isolation": {"venv": {"extra": "a,b"}}}, "isolation.venv.extra", 'extra = ["a,b"]'),
    ],
)
def test_a_quoted_value_in_pyproject_is_not_taken_for_another_type(
    tool_hwb: dict[str, Any], key: str, hint: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tool_hwb)
    assert caught.value.message.startswith(f"{key} in [tool.hwb] of {PYPROJECT} must be")
    assert hint in (caught.value.hint or "")


def test_the_same_text_from_the_environment_is_converted() -> None:
    config = load(environ={"HWB_ISOLATION_VENV_USE_UV": "false", "HWB_JOBS": "4"})
    assert config.get("isolation.venv.use-uv") is False and config.get("jobs") == 4
