"""The finder, selection and backend hooks, implemented by project-local plugins
(``[tool.hwb] plugins``) and driven through the real CLI and real builds.

Each test writes a plugin the way docs/writing-plugins.md tells a user to, and checks that
the pipeline really called it and used its answer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, json_out, pyenv_python, write_project

pytestmark = pytest.mark.real

EXAMPLES = REPO / "docs" / "examples"


def pure_project(root: Path, extra: str = "", files: dict[str, str] | None = None) -> Path:
    return write_project(
        root,
        {
            "pyproject.toml": f"""
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [project]
            name = "hooked"
            version = "1.0"

            [tool.hatch.build.targets.wheel]
            packages = ["hooked"]
            {extra}
            """,
            "hooked/__init__.py": "VALUE = 1\n",
            **(files or {}),
        },
    )


# --------------------------------------------------------------------------- find_python (and list_pythons)


def opt_python_project(tmp_path: Path, short: str) -> tuple[Path, Path]:
    """A project that loads the docs' ``opt_python_finder`` example as a project plugin, and an
    /opt/python-like directory holding pyenv's ``short`` under a manylinux-style tag."""
    root = tmp_path / "opt"
    tag = "cp" + short.replace(".", "")
    (root / tag / "bin").mkdir(parents=True)
    python = root / tag / "bin" / "python"
    python.symlink_to(pyenv_python(short))
    project = pure_project(
        tmp_path / "proj",
        extra=f"""
        [tool.hwb]
        plugins = ["opt_python_finder"]

        [tool.hwb.finders.opt-python]
        root = "{root}"
        """,
    )
    shutil.copy(EXAMPLES / "opt_python_finder.py", project / "opt_python_finder.py")
    return project, python


def test_find_python_of_a_project_plugin_supplies_the_build_interpreter(
    run_hwb: Any, tmp_path: Path
) -> None:
    project, python = opt_python_project(tmp_path, "3.12")
    result = run_hwb(
        "build", str(project), "--isolation", "venv", "--python", "3.12", "--json",
        # No uv-managed interpreters: the plugin's answer is not shadowed by a tryfirst finder.
        env={"UV_PYTHON_INSTALL_DIR": str(tmp_path / "no-uv")},
    )
    (wheel,) = json_out(result)["wheels"]
    assert wheel["python_source"] == "opt-python", wheel
    # Reported under its real path: the same interpreter found twice is one interpreter.
    assert Path(wheel["python_path"]).resolve() == python.resolve()
    assert wheel["python"].startswith("3.12.")
    assert Path(wheel["path"]).is_file()


# --------------------------------------------------------------------------- select_isolation

SELECTOR = '''
from hwb_core import hookimpl
from hwb_core.interfaces import IsolationChoice


@hookimpl(tryfirst=True)
def select_isolation(project, python, config):
    if project.name == "hooked":
        return IsolationChoice("venv", "the project's selector plugin chose it")
    return None
'''


def test_select_isolation_of_a_plugin_decides_for_auto(run_hwb: Any, tmp_path: Path) -> None:
    project = pure_project(
        tmp_path / "proj",
        extra='[tool.hwb]\nplugins = ["selector"]\n',
        files={"selector.py": SELECTOR},
    )
    result = run_hwb("build", str(project), "--json")
    (wheel,) = json_out(result)["wheels"]
    assert wheel["isolation"] == "venv"
    assert "the project's selector plugin chose it" in result.stderr


def test_select_isolation_is_not_asked_when_an_isolation_is_named(
    run_hwb: Any, tmp_path: Path
) -> None:
    project = pure_project(
        tmp_path / "proj",
        extra='[tool.hwb]\nplugins = ["selector"]\n',
        files={"selector.py": SELECTOR},
    )
    result = run_hwb("build", str(project), "--isolation", "venv", "--json")
    json_out(result)
    assert "selector plugin chose it" not in result.stderr


# --------------------------------------------------------------------------- run_backend

OBSERVER = '''
import json
from pathlib import Path

from hwb_core import hookimpl

STAMP = Path(__file__).with_name("backend-calls.json")


@hookimpl(wrapper=True)
def run_backend(env, project, config_settings, wheel_dir, reporter):
    wheel = yield
    calls = json.loads(STAMP.read_text()) if STAMP.exists() else []
    calls.append({
        "python": env.python_executable,
        "settings": dict(config_settings),
        "wheel": Path(wheel).name if wheel else None,
    })
    STAMP.write_text(json.dumps(calls))
    return wheel
'''

REPLACEMENT = '''
import zipfile
from pathlib import Path

from hwb_core import hookimpl


@hookimpl(tryfirst=True)
def run_backend(env, project, config_settings, wheel_dir, reporter):
    """Builds the wheel itself, without the project's backend (as a remote builder would)."""
    name = "hooked-1.0-py3-none-any.whl"
    dist = "hooked-1.0.dist-info"
    with zipfile.ZipFile(Path(wheel_dir) / name, "w") as zf:
        zf.writestr("hooked/__init__.py", "VALUE = 2\\n")
        zf.writestr(f"{dist}/METADATA", "Metadata-Version: 2.1\\nName: hooked\\nVersion: 1.0\\n")
        zf.writestr(f"{dist}/WHEEL", "Wheel-Version: 1.0\\nGenerator: replacement\\n"
                    "Root-Is-Purelib: true\\nTag: py3-none-any\\n")
        zf.writestr(f"{dist}/RECORD", "")
    return Path(wheel_dir) / name
'''


def test_a_run_backend_wrapper_sees_the_environment_settings_and_wheel(
    run_hwb: Any, tmp_path: Path
) -> None:
    project = pure_project(
        tmp_path / "proj",
        extra='[tool.hwb]\nplugins = ["observer"]\n',
        files={"observer.py": OBSERVER},
    )
    result = run_hwb("build", str(project), "--isolation", "venv", "-C", "flag=on", "--json")
    (wheel,) = json_out(result)["wheels"]
    calls = json.loads((project / "backend-calls.json").read_text())
    assert calls == [
        {"python": calls[0]["python"], "settings": {"flag": "on"}, "wheel": wheel["filename"]}
    ]
    # The environment's interpreter, not hwb's and not the base interpreter.
    assert "hwb-" in calls[0]["python"] or "/tmp" in calls[0]["python"], calls[0]["python"]
    assert Path(wheel["path"]).is_file()


def test_the_first_run_backend_answer_wins_and_the_core_backend_does_not_run(
    run_hwb: Any, tmp_path: Path
) -> None:
    import zipfile

    project = pure_project(
        tmp_path / "proj",
        extra='[tool.hwb]\nplugins = ["replacement"]\n',
        files={"replacement.py": REPLACEMENT},
    )
    result = run_hwb("build", str(project), "--isolation", "venv", "--json")
    (wheel,) = json_out(result)["wheels"]
    with zipfile.ZipFile(wheel["path"]) as zf:
        assert zf.read("hooked/__init__.py") == b"VALUE = 2\n"
        assert b"Generator: replacement" in zf.read("hooked-1.0.dist-info/WHEEL")
    assert "building wheel with hatchling" not in result.stderr


# --------------------------------------------------------------------------- how pluggy passes arguments
# docs/hooks.md, "How hooks are called": what hwb (and a plugin) may rely on.


def hwb_pluggy() -> Any:
    """A bare pluggy manager with hwb's hookspecs, as hwb makes its own."""
    import pluggy

    from hwb_core import hookspecs

    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    return pm


def pluggy_passes_defaults() -> bool:
    """pluggy 1.7 fills an implementation's defaulted parameters from the call; 1.5 and 1.6 do
    not."""
    from importlib.metadata import version

    from packaging.version import Version

    return Version(version("pluggy")) >= Version("1.7")


def test_an_implementation_takes_any_subset_of_the_arguments_by_name() -> None:
    from hwb_core import hookimpl

    class Observer:
        @hookimpl
        def wheel_built(self, reporter, result):
            return ("both", result, reporter)

    class ResultOnly:
        @hookimpl
        def wheel_built(self, result):
            return ("result", result)

    pm = hwb_pluggy()
    pm.register(Observer())
    pm.register(ResultOnly())
    assert pm.hook.wheel_built(result="R", reporter="P") == [("result", "R"), ("both", "R", "P")]


def test_a_defaulted_argument_is_filled_in_only_by_pluggy_1_7_and_later() -> None:
    from hwb_core import hookimpl

    class Defaulted:
        @hookimpl
        def wheel_built(self, result, reporter="default"):
            return reporter

    pm = hwb_pluggy()
    pm.register(Defaulted())
    expected = "P" if pluggy_passes_defaults() else "default"
    assert pm.hook.wheel_built(result="R", reporter="P") == [expected]


def test_an_argument_the_spec_lacks_is_refused_unless_it_has_a_default() -> None:
    import pluggy

    from hwb_core import hookimpl

    class Extra:
        @hookimpl
        def wheel_built(self, result, extra):
            return extra

    class ExtraWithDefault:
        @hookimpl
        def wheel_built(self, result, extra="kept"):
            return extra

    pm = hwb_pluggy()
    with pytest.raises(pluggy.PluginValidationError, match="extra"):
        pm.register(Extra())
    pm.register(ExtraWithDefault())
    assert pm.hook.wheel_built(result="R", reporter="P") == ["kept"]


def test_a_keyword_only_argument_is_never_passed() -> None:
    from hwb_core import hookimpl

    class KeywordOnly:
        @hookimpl
        def wheel_built(self, *, result):
            return result

    pm = hwb_pluggy()
    pm.register(KeywordOnly())  # accepted: pluggy does not look at keyword-only parameters
    with pytest.raises(TypeError, match="keyword-only argument: 'result'"):
        pm.hook.wheel_built(result="R", reporter="P")


def test_hwb_s_own_implementations_work_with_every_pluggy_it_accepts() -> None:
    """The core's and the built-in plugins' implementations take plain positional-or-keyword
    parameters without defaults: pluggy 1.5, 1.6 and 1.7 pass them all the same."""
    import inspect

    from hwb_core.plugins import PluginManager

    pm = PluginManager()
    pm.load_core()
    pm.load_entry_points()
    faults = []
    for plugin in pm._pm.get_plugins():
        for caller in pm._pm.get_hookcallers(plugin) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                parameters = inspect.signature(impl.function).parameters.values()
                odd = [
                    p.name
                    for p in parameters
                    if p.default is not p.empty
                    or p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                ]
                if odd:
                    faults.append(f"{impl.plugin_name}.{caller.name}: {odd}")
    assert not faults, faults
