"""The documentation tells the truth: generated references are current, links lead somewhere,
every hook is documented and tested, and the plugins shown in docs/ work as shown.

The example isolation plugin (docs/examples/hwb-example-isolation) and the example container
engine (docs/examples/hwb-example-engine) are installed from their directories into a fresh venv
beside hwb, the way docs/writing-plugins.md tells a reader to, and used for real builds. The smaller examples are loaded in-process and their hooks called.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from hwb_core import hookspecs
from hwb_core.config import load_config
from hwb_core.errors import ConfigError, PolicyViolation
from hwb_core.interfaces import BuildResult, PythonInfo, RepairRequest, RepairResult
from hwb_core.plugins import PluginManager
from tests.conftest import (
    REPO,
    NullReporter,
    assert_clean_error,
    json_out,
    pyenv_python,
    require,
    wheel_members,
    write_project,
)
from tests.plugins.backends import tiny_project

DOCS = REPO / "docs"
EXAMPLES = DOCS / "examples"
EXAMPLE_DIST = EXAMPLES / "hwb-example-isolation"
ENGINE_DIST = EXAMPLES / "hwb-example-engine"


@functools.cache
def load_script(name: str) -> ModuleType:
    """A script from docs/, imported by path (once)."""
    module_name = f"hwb_docs_{name}"
    spec = importlib.util.spec_from_file_location(module_name, DOCS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- generated parts


def test_hook_reference_matches_the_hookspecs() -> None:
    gen = load_script("gen_hooks")
    generated = load_script("_generated")
    page = (DOCS / "hooks.md").read_text(encoding="utf-8")
    assert generated.generated_part(page, gen.SCRIPT) == gen.render(), (
        "docs/hooks.md is out of date with hwb_core/hookspecs.py: run `python docs/gen_hooks.py`"
    )


def test_configuration_reference_matches_the_declared_keys() -> None:
    gen = load_script("gen_reference")
    generated = load_script("_generated")
    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert generated.generated_part(page, gen.SCRIPT) == gen.render(), (
        "the key reference in docs/configuration.md is out of date with the plugins' "
        "config_schema hooks: run `python docs/gen_reference.py`"
    )


def test_pages_show_the_current_text_of_the_example_files() -> None:
    gen = load_script("gen_includes")
    pages = gen.pages()
    assert DOCS / "writing-plugins.md" in pages
    for page in pages:
        for path, shown in gen.includes(page):
            assert path.is_file(), f"{page.name} includes {path}, which does not exist"
            assert shown == path.read_text(encoding="utf-8"), (
                f"{page.name} shows an old copy of {path.relative_to(REPO)}: "
                "run `python docs/gen_includes.py`"
            )


# --------------------------------------------------------------------------- links

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.M)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")


def doc_pages() -> list[Path]:
    pages = [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted(DOCS.rglob("*.md"))]
    return [p for p in pages if p.is_file()]


def relative_links(page: Path) -> list[str]:
    text = INLINE_CODE.sub("", FENCE.sub("", page.read_text(encoding="utf-8")))
    targets = [m.group(1) for m in LINK.finditer(text)] + REFERENCE.findall(text)
    return [
        t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t, re.I) and not t.startswith("#")
    ]


@pytest.mark.parametrize("page", doc_pages(), ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_lead_to_existing_files(page: Path) -> None:
    broken = []
    for target in relative_links(page):
        path = target.split("#", 1)[0]  # anchors are not checked
        if not (page.parent / path).exists():
            broken.append(target)
    assert not broken, f"{page.relative_to(REPO)} links to missing files: {broken}"


def test_the_link_checker_sees_links_and_skips_code(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "[a](docs/x.md#y) `[b](nope.md)` [c](https://example.org) [top](#top)\n"
        "```\n[e](in-code.md)\n```\n[f]: ref.md\n",
        encoding="utf-8",
    )
    assert relative_links(page) == ["docs/x.md#y", "ref.md"]


# --------------------------------------------------------------------------- hooks


def hookspec_names() -> list[str]:
    return [hook.name for hook in load_script("gen_hooks").read_hookspecs()]


def test_the_hook_reference_generator_sees_every_hookspec() -> None:
    registered = {name for name, value in vars(hookspecs).items() if hasattr(value, "hwb_spec")}
    assert set(hookspec_names()) == registered


def test_the_hook_reference_has_a_section_per_plugin_that_declares_hooks() -> None:
    """Hooks a built-in plugin declares itself (``add_hookspecs``) are documented under it."""
    page = (DOCS / "hooks.md").read_text(encoding="utf-8")
    owned = {(h.owner, h.name) for h in load_script("gen_hooks").plugin_hookspecs()}
    assert {("cache-command", "cache_areas"), ("repair-command", "fuse_wheels")} <= owned
    for owner, name in owned:
        section = page.index(f"## Hooks of the `{owner}` plugin")
        assert page.index(f"### `{name}`") > section


@pytest.mark.parametrize("hook", hookspec_names())
def test_every_hookspec_has_a_section_in_the_hook_reference(hook: str) -> None:
    page = (DOCS / "hooks.md").read_text(encoding="utf-8")
    assert f"### `{hook}`" in page, f"docs/hooks.md has no section for {hook}"


def files_of_tests() -> list[Path]:
    return [p for p in sorted((REPO / "tests").rglob("test_*.py")) if p.name != "test_docs.py"]


@pytest.mark.parametrize("hook", hookspec_names())
def test_every_hookspec_is_named_in_a_test(hook: str) -> None:
    pattern = re.compile(rf"\b{re.escape(hook)}\b")
    naming = [p for p in files_of_tests() if pattern.search(p.read_text(encoding="utf-8"))]
    assert naming, (
        f"no test file under tests/ (test_docs.py aside) names the hook {hook!r}: "
        "add a test that exercises it"
    )


# --------------------------------------------------------------------------- small examples


@pytest.fixture
def example_plugins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Callable[..., Any]]:
    """``load(directory, *modules)``: a plugin manager with the core and these modules only."""
    monkeypatch.setenv("HWB_CACHE_DIR", str(tmp_path / "cache"))
    loaded: list[str] = []

    def load(directory: Path, *modules: str) -> PluginManager:
        pm = PluginManager()
        pm.load_core()
        pm.load_project_plugins(directory, list(modules))
        for module in modules:
            record = pm.records[module]
            assert record.status == "loaded", record.error
        loaded.extend(modules)
        return pm

    yield load
    for module in loaded:
        sys.modules.pop(module, None)


def test_the_finder_example_finds_an_interpreter_in_its_directory(
    example_plugins: Callable[..., PluginManager], tmp_path: Path
) -> None:
    from hwb import pythons

    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    bindir = tmp_path / "opt-python" / f"cp{sys.version_info[0]}{sys.version_info[1]}" / "bin"
    bindir.mkdir(parents=True)
    (bindir / "python").symlink_to(os.path.realpath(sys.executable))
    pm = example_plugins(EXAMPLES, "opt_python_finder")
    config = load_config(
        pm.schema(), environ={"HWB_FINDERS_OPT_PYTHON_ROOT": str(tmp_path / "opt-python")}
    )
    found = pythons.find(pm, config, version)
    assert found.source == "opt-python"
    assert found.short_version == version
    assert [p.source for p in pythons.list_all(pm, config)] == ["opt-python"]


def test_the_finder_example_answers_none_for_a_version_it_lacks(
    example_plugins: Callable[..., PluginManager], tmp_path: Path
) -> None:
    from hwb_core.interfaces import PythonSpec

    pm = example_plugins(EXAMPLES, "opt_python_finder")
    config = load_config(pm.schema(), environ={"HWB_FINDERS_OPT_PYTHON_ROOT": str(tmp_path)})
    assert pm.hook.find_python(spec=PythonSpec.parse("3.99"), config=config) is None


FAKE_REPAIRER = """
from hwb_core import hookimpl
from hwb_core.interfaces import RepairResult

BUNDLED = []


@hookimpl
def repair_wheel(wheel, request):
    return RepairResult(path=wheel, repaired=True, repairer="fake", bundled=list(BUNDLED))
"""


def repair_with_policy(
    load: Callable[..., PluginManager], tmp_path: Path, bundled: list[str], environ: dict[str, str]
) -> RepairResult:
    (tmp_path / "fake_repairer.py").write_text(FAKE_REPAIRER, encoding="utf-8")
    pm = load(tmp_path, "fake_repairer")
    pm.load_project_plugins(EXAMPLES, ["deny_list_policy"])
    assert pm.records["deny_list_policy"].status == "loaded", pm.records["deny_list_policy"].error
    sys.modules["fake_repairer"].BUNDLED[:] = bundled
    wheel = tmp_path / "demo-1.0-cp312-cp312-linux_x86_64.whl"
    wheel.write_bytes(b"")
    request = RepairRequest(
        config=load_config(pm.schema(), environ=environ),
        reporter=NullReporter(),
        output_dir=tmp_path,
    )
    result: RepairResult = pm.hook.repair_wheel(wheel=wheel, env=None, request=request)
    return result


@pytest.fixture
def forget_policy() -> Iterator[None]:
    yield
    sys.modules.pop("deny_list_policy", None)


@pytest.mark.usefixtures("forget_policy")
def test_the_policy_example_refuses_a_denied_library(
    example_plugins: Callable[..., PluginManager], tmp_path: Path
) -> None:
    with pytest.raises(PolicyViolation, match=r"bundles libssl\.so\.3, which deny_list_policy"):
        repair_with_policy(example_plugins, tmp_path, ["libssl.so.3", "libz.so.1"], {})


@pytest.mark.usefixtures("forget_policy")
def test_the_policy_example_passes_other_libraries_through(
    example_plugins: Callable[..., PluginManager], tmp_path: Path
) -> None:
    result = repair_with_policy(example_plugins, tmp_path, ["libyaml-0.so.2.0.9"], {})
    assert (result.repairer, result.bundled) == ("fake", ["libyaml-0.so.2.0.9"])
    assert result.checked_by == ["deny_list_policy"]


@pytest.mark.usefixtures("forget_policy")
def test_the_policy_example_lets_a_wheel_no_repairer_took_pass(
    example_plugins: Callable[..., PluginManager], tmp_path: Path
) -> None:
    pm = example_plugins(EXAMPLES, "deny_list_policy")
    request = RepairRequest(
        config=load_config(pm.schema()), reporter=NullReporter(), output_dir=tmp_path
    )
    wheel = tmp_path / "demo-1.0-cp312-cp312-linux_x86_64.whl"  # no repairer loaded takes it
    assert pm.hook.repair_wheel(wheel=wheel, env=None, request=request) is None


@pytest.mark.usefixtures("forget_policy")
def test_the_policy_example_reads_its_deny_list_from_the_configuration(
    example_plugins: Callable[..., PluginManager], tmp_path: Path
) -> None:
    environ = {"HWB_DENY_LIST_POLICY_LIBRARIES": "libyaml*"}
    with pytest.raises(PolicyViolation, match="libyaml"):
        repair_with_policy(example_plugins, tmp_path, ["libyaml-0.so.2.0.9"], environ)


# --------------------------------------------------------------------------- documented keys

#: The plugins of docs/examples, as ``(directory, module)``: loaded as project-local plugins.
EXAMPLE_MODULES = [
    (EXAMPLES, "opt_python_finder"),
    (EXAMPLES, "deny_list_policy"),
    (EXAMPLES, "wheel_checksums"),
    (EXAMPLES, "size_budget"),
    (EXAMPLES / "hwb-example-policy", "hwb_example_policy"),
    (EXAMPLE_DIST, "hwb_example_isolation"),
]
TOML_BLOCK = re.compile(r"^```toml\n(.*?)^```", re.S | re.M)
TABLE = re.compile(r"\[\[?tool\.hwb\.([A-Za-z0-9_.-]+)\]\]?")


@pytest.fixture
def documented_schema(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Every key hwb's own plugins and the plugins of docs/examples declare."""
    monkeypatch.setenv("HWB_CACHE_DIR", str(tmp_path / "cache"))
    pm = PluginManager()
    pm.load_core()
    pm.load_entry_points()
    for directory, module in EXAMPLE_MODULES:
        pm.load_project_plugins(directory, [module])
        assert pm.records[module].status == "loaded", pm.records[module].error
    # The example engine registers a plugin object through its entry point: its keys are its
    # ContainerPlugin's.
    monkeypatch.syspath_prepend(str(ENGINE_DIST))
    engine = importlib.import_module("hwb_example_engine")
    try:
        yield {**pm.schema(), **engine.PLUGIN.config_schema()}
    finally:
        for _directory, module in [*EXAMPLE_MODULES, (ENGINE_DIST, "hwb_example_engine")]:
            sys.modules.pop(module, None)


@pytest.mark.parametrize("page", doc_pages(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_toml_example_in_the_docs_is_valid_configuration(
    page: Path, documented_schema: dict[str, Any]
) -> None:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    for block in TOML_BLOCK.findall(page.read_text(encoding="utf-8")):
        tool_hwb = tomllib.loads(block).get("tool", {}).get("hwb")
        if tool_hwb is not None:  # raises ConfigError naming an undeclared or mistyped key
            load_config(documented_schema, tool_hwb=tool_hwb, pyproject_path=page)


@pytest.mark.parametrize("page", doc_pages(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_table_the_docs_name_holds_declared_keys(
    page: Path, documented_schema: dict[str, Any]
) -> None:
    """``[tool.hwb.X]`` anywhere in a page (prose too) names a table some plugin declares keys
    in, or a key of type table: no page may send a reader to a table hwb would refuse."""
    undeclared = sorted(
        {
            table
            for table in TABLE.findall(page.read_text(encoding="utf-8"))
            if "NAME" not in table  # a placeholder: [tool.hwb.isolation.NAME]
            and not any(key == table or key.startswith(table + ".") for key in documented_schema)
        }
    )
    assert not undeclared, f"{page.relative_to(REPO)} names undeclared tables: {undeclared}"


def test_the_plugins_sample_in_cli_md_is_what_hwb_plugins_prints(run_hwb: Run) -> None:
    """Each plugin row and isolation line docs/cli.md shows, as hwb prints it today (other
    installed plugins may add rows; the version column follows hwb's)."""
    from hwb_core import __version__

    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    section = page.split("## `hwb plugins`", 1)[1]
    sample = re.search(r"^```\n(name +status.*?)^```", section, re.S | re.M)
    assert sample is not None, "docs/cli.md shows no `hwb plugins` table"
    result = run_hwb("plugins")
    assert result.returncode == 0, result.stderr

    def rows(text: str) -> dict[str, list[str]]:
        table = {}
        for line in text.splitlines():
            cells = re.split(r"\s{2,}", line.strip())
            if cells and cells[0] and not line.startswith("isolations,"):
                table[cells[0]] = [c.replace("0.1.0", __version__) for c in cells[1:]]
        return table

    shown, printed = rows(sample.group(1)), rows(result.stdout)
    differing = {name: (cells, printed.get(name)) for name, cells in shown.items()}
    assert {k: v for k, v in differing.items() if v[0] != v[1]} == {}


POLICY_EXAMPLES = {
    # module: the plugin's name when installed as documented
    "deny_list_policy": "deny_list_policy",  # a project-local plugin: its module name
    "hwb_example_policy": "example-policy",  # its entry point in the hwb group
}


@pytest.mark.parametrize("module", list(POLICY_EXAMPLES))
def test_a_policy_example_keeps_its_settings_in_a_table_named_after_the_plugin(
    module: str, documented_schema: dict[str, Any]
) -> None:
    """repair.md and writing-plugins.md say where a policy's settings live: ``[tool.hwb.NAME]``,
    NAME being the plugin's name, so that hwb ignores them when the plugin is blocked."""
    name = POLICY_EXAMPLES[module]
    keys = [key for key in documented_schema if key.split(".")[0] == name]
    assert keys, f"{module} declares no key in [tool.hwb.{name}]"
    others = {k: v for k, v in documented_schema.items() if k not in keys}
    table = {
        key.split(".", 1)[1]: documented_schema[key].default
        for key in keys
        if documented_schema[key].default is not None
    }
    with pytest.raises(ConfigError, match="unknown key"):
        load_config(others, tool_hwb={name: table})
    load_config(others, tool_hwb={name: table}, ignored_names=[name])  # blocked: ignored


def test_the_observer_example_writes_a_checksum_beside_the_wheel(
    example_plugins: Callable[..., PluginManager], tmp_path: Path
) -> None:
    pm = example_plugins(EXAMPLES, "wheel_checksums")
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(b"not really a zip")
    python = PythonInfo(sys.executable, "3.12.1", "cpython", "cp312", "current")
    result = BuildResult(
        path=wheel,
        python=python,
        isolation="venv",
        isolation_reason="asked for",
        repair=RepairResult(path=wheel, repaired=False),
        duration_s=1.0,
    )
    pm.hook.wheel_built(result=result, reporter=NullReporter())
    digest = hashlib.sha256(b"not really a zip").hexdigest()
    assert (tmp_path / (wheel.name + ".sha256")).read_text() == f"{digest}  {wheel.name}\n"


# --------------------------------------------------------------------------- the example plugin, installed

Run = Callable[..., subprocess.CompletedProcess[str]]


def find_uv() -> str:
    try:
        from uv import find_uv_bin
    except ImportError:
        find_uv_bin = None
    if find_uv_bin is not None:
        return str(find_uv_bin())
    beside = Path(sys.executable).with_name("uv")
    require(beside.exists(), "uv (a dependency of hwb) is not installed beside this Python")
    return str(beside)


@pytest.fixture(scope="module")
def example_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding hwb (this checkout, not editable) and the example distributions,
    each installed from its directory as a user would."""
    uv = find_uv()
    venv = tmp_path_factory.mktemp("docs-example") / "venv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    subprocess.run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            # uv may reuse an old build of a local project: install them as they are now.
            "--refresh-package",
            "headless-wheel-builder",
            "--refresh-package",
            "hwb-example-isolation",
            "--refresh-package",
            "hwb-example-engine",
            str(REPO),
            str(EXAMPLE_DIST),
            str(ENGINE_DIST),
            # The example drives this pip into its environments (``pip --python``).
            "pip",
        ],
        check=True,
    )
    return venv


@pytest.fixture
def example_hwb(example_venv: Path, hwb_env: dict[str, str]) -> Run:
    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(example_venv / "bin" / "hwb"), *args],
            env={**hwb_env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )

    return run


def hatch_project(root: Path, extra: str = "") -> Path:
    return write_project(
        root,
        {
            "pyproject.toml": f"""
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [project]
            name = "documented"
            version = "0.3"
            {extra}
            """,
            "documented/__init__.py": "ANSWER = 42\n",
        },
    )


@pytest.mark.real
@pytest.mark.xdist_group("docs-example")
def test_the_example_plugin_is_listed_once_installed(example_hwb: Run) -> None:
    result = json_out(example_hwb("plugins", "--json"))
    record = {p["name"]: p for p in result["plugins"]}["recorded"]
    assert record["status"] == "loaded", record["error"]
    assert (record["distribution"], record["version"]) == ("hwb-example-isolation", "0.1.0")
    assert set(record["hooks"]) == {
        "register_isolation",
        "config_schema",
        "cli_options",
        "create_env",
    }
    assert "recorded" in result["isolations"]


@pytest.mark.real
@pytest.mark.xdist_group("docs-example")
def test_a_build_with_the_example_isolation_runs_in_its_environment(
    example_hwb: Run, tmp_path: Path
) -> None:
    project = hatch_project(tmp_path / "documented")
    record_file = tmp_path / "record.json"
    result = example_hwb(
        "build",
        str(project),
        "--isolation",
        "recorded",
        "--record-file",
        str(record_file),
        "--json",
    )
    wheel = json_out(result)["wheels"][0]
    assert wheel["isolation"] == "recorded"
    assert "documented/__init__.py" in wheel_members(Path(wheel["path"]))

    record = json.loads(record_file.read_text())
    assert record["outcome"] == "ok"
    assert record["requested"] == [["hatchling"]]
    # hwb's own pip installed into it: the environment holds what the build needed, no pip.
    assert "hatchling" in record["installed"] and "pip" not in record["installed"]
    assert record["env_removed"] is True
    assert not Path(record["env_dir"]).exists()


@pytest.mark.real
@pytest.mark.xdist_group("docs-example")
def test_the_example_isolation_honours_the_build_constraints(
    example_hwb: Run, tmp_path: Path
) -> None:
    """``--build-constraint``: the example installs within the pins, and a pin its
    requirement cannot meet is pip's failure, said in the example's words."""
    project = hatch_project(tmp_path / "documented")
    pins = tmp_path / "pins.txt"
    pins.write_text("hatchling==1.21.1\n")
    record_file = tmp_path / "record.json"
    args = ["build", str(project), "--isolation", "recorded", "--record-file", str(record_file)]
    result = example_hwb(*args, "--build-constraint", str(pins), "--json")
    json_out(result)
    assert json.loads(record_file.read_text())["installed"]["hatchling"] == "1.21.1"

    pins.write_text("hatchling==0.0.1\n")
    failed = example_hwb(*args, "--build-constraint", str(pins))
    assert "recorded: pip could not install hatchling" in assert_clean_error(failed)


@pytest.mark.real
@pytest.mark.xdist_group("docs-example")
def test_the_example_isolation_is_chosen_and_configured_from_pyproject(
    example_hwb: Run, tmp_path: Path
) -> None:
    record_file = tmp_path / "from-pyproject.json"
    project = tiny_project(
        tmp_path / "proj",
        pyproject_extra=f"""
        [tool.hwb.isolation]
        strategy = "recorded"

        [tool.hwb.isolation.recorded]
        file = "{record_file}"
        """,
    )
    wheel = json_out(example_hwb("build", str(project), "--json"))["wheels"][0]
    assert wheel["isolation"] == "recorded"
    record = json.loads(record_file.read_text())
    assert (record["outcome"], record["requested"], record["project"]) == ("ok", [], "tiny")


@pytest.mark.real
@pytest.mark.xdist_group("docs-example")
def test_a_failed_install_in_the_example_isolation_is_recorded_and_cleaned_up(
    example_hwb: Run, tmp_path: Path
) -> None:
    project = write_project(
        tmp_path / "broken",
        {
            "pyproject.toml": """
            [build-system]
            requires = ["hwb-docs-no-such-distribution-0c1d"]
            build-backend = "hatchling.build"

            [project]
            name = "broken"
            version = "1.0"
            """,
        },
    )
    record_file = tmp_path / "record.json"
    # hwb's pip does not run on 3.8: the environment gets a pip of its own from ensurepip.
    result = example_hwb(
        "build",
        str(project),
        "--isolation",
        "recorded",
        "--python",
        str(pyenv_python("3.8")),
        "-o",
        str(tmp_path / "out"),
        env={"HWB_ISOLATION_RECORDED_FILE": str(record_file)},
    )
    assert result.returncode == 1, result.stderr
    assert "recorded: pip could not install hwb-docs-no-such-distribution-0c1d" in result.stderr
    assert not list((tmp_path / "out").glob("*.whl"))
    record = json.loads(record_file.read_text())
    assert record["outcome"] == "failed"
    assert "pip" in record["installed"]
    assert record["env_removed"] is True


@pytest.mark.real
@pytest.mark.xdist_group("docs-example")
def test_blocking_the_example_plugin_removes_its_isolation(
    example_hwb: Run, tmp_path: Path
) -> None:
    project = tiny_project(tmp_path / "proj")
    result = example_hwb("-p", "no:recorded", "build", str(project), "--isolation", "recorded")
    assert result.returncode == 2
    assert "error: unknown isolation 'recorded'" in result.stderr


# --------------------------------------------------------------------------- the example container engine

#: The engine of this machine the example engine is pointed at, as a Colima user points it at
#: Colima's socket.
DOCKER_SOCKET = "unix:///var/run/docker.sock"


def test_the_example_engine_is_under_120_lines() -> None:
    """A container isolation for another engine is the engine-specific part only (issue 22)."""
    source = ENGINE_DIST / "hwb_example_engine" / "__init__.py"
    lines = len(source.read_text(encoding="utf-8").splitlines())
    assert lines < 120, f"{source.relative_to(REPO)} has {lines} lines"
    imports = re.findall(r"^(?:from|import) (hwb\w*)", source.read_text(encoding="utf-8"), re.M)
    assert set(imports) == {"hwb"}, imports  # the toolkit only: hwb, hwb.container


@pytest.mark.real
@pytest.mark.docker
@pytest.mark.xdist_group("docs-example")
def test_the_example_engine_builds_in_a_hardened_container_and_leaves_none(
    example_hwb: Run, tmp_path: Path
) -> None:
    from tests.docker.support import (
        BUILD_IMAGE,
        client_with_images,
        hwb_containers,
        left_containers,
    )

    client = client_with_images()
    project = write_project(
        tmp_path / "engine-example",
        {
            "pyproject.toml": """
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"
            [project]
            name = "engine-example"
            version = "1.0"
            """,
            "setup.py": """
            from setuptools import Extension, setup
            setup(ext_modules=[Extension("engine_example", ["engine_example.c"])])
            """,
            "engine_example.c": """
            #include <Python.h>
            static struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "engine_example", NULL, -1};
            PyMODINIT_FUNC PyInit_engine_example(void) { return PyModule_Create(&m); }
            """,
        },
    )
    args = ["build", str(project), "--isolation", "dockerapi", "--image", BUILD_IMAGE]
    absent = "unix:///run/hwb-docs-no-such-engine.sock"
    line = assert_clean_error(example_hwb(*args, env={"HWB_DOCKERAPI_HOST": absent}))
    assert f"no Docker API engine socket at {absent}" in line, line

    # One build, kept cheap: repair, the import check and prepared environments are the docker
    # isolation's tests' part.
    cheap = ["--no-repair", "--no-test", "--no-cache-envs"]
    options = ["--python", "3.12", *cheap, "--json", "-o", str(tmp_path / "out")]
    result = example_hwb(*args, *options, env={"HWB_DOCKERAPI_HOST": DOCKER_SOCKET})
    wheel = json_out(result)["wheels"][0]
    assert wheel["isolation"] == "dockerapi"
    assert wheel["path"].endswith("-cp312-cp312-linux_x86_64.whl"), wheel
    assert "engine_example.cpython-312-x86_64-linux-gnu.so" in wheel_members(Path(wheel["path"]))
    assert left_containers(hwb_containers, client, "engine-example") == []
