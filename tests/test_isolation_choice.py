"""``--isolation auto``, its fallbacks and ``--no-isolation`` choose by declared capabilities:
strategies here are stand-ins under names the kernel has never heard of."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hwb_core import host, isolation
from hwb_core.errors import IsolationUnavailable, UsageError
from hwb_core.interfaces import Capabilities, IsolationChoice, IsolationInfo
from hwb_core.project import Project
from hwb_plugins.auto import auto_choice
from tests.conftest import write_project


def strategy(name: str, check: str | None = None, **caps: Any) -> IsolationInfo:
    return IsolationInfo(name, "stand-in", check=lambda: check, capabilities=Capabilities(**caps))


def box(name: str, rank: int, check: str | None = None) -> IsolationInfo:
    return strategy(
        name,
        check,
        container=True,
        linux=("manylinux", "musllinux"),
        architectures=("x86_64", "aarch64"),
        emulation=True,
        target_key=f"isolation.{name}.platform",
        rank=rank,
    )


class Plugins:
    """What :mod:`hwb_core.isolation` asks of the plugin manager."""

    def __init__(self, *infos: IsolationInfo) -> None:
        self._infos = {info.name: info for info in infos}

    def isolations(self) -> dict[str, IsolationInfo]:
        return dict(sorted(self._infos.items()))


class Warnings:
    verbosity = 0

    def __init__(self) -> None:
        self.lines: list[str] = []

    def warn(self, message: str) -> None:
        self.lines.append(message)


class Preference:
    def __init__(self, names: list[str]) -> None:
        self.names = names

    def get(self, key: str) -> Any:
        assert key == isolation.PREFERENCE_KEY
        return self.names


@pytest.fixture
def on_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host, "host_os", lambda: "linux")
    monkeypatch.setattr(host, "host_arch", lambda platform_name=None: "x86_64")


def project(tmp_path: Path, extension: bool) -> Project:
    files = {"pyproject.toml": '[project]\nname = "p"\nversion = "1"\n', "src/pkg/__init__.py": ""}
    if extension:
        files["src/pkg/ext.c"] = "int x;\n"
    root = write_project(tmp_path / "p", files)
    return Project.load(root)


STRATEGIES = [
    strategy("hostenv", native=True, rank=50),
    strategy("bare", native=True, isolated=False, rank=90),
    box("engine-a", 10),
    box("engine-b", 20),
]


def test_order_is_rank_then_name_unless_the_user_prefers(on_linux: None) -> None:
    pm: Any = Plugins(*STRATEGIES)
    assert [i.name for i in isolation.ordered(pm)] == ["engine-a", "engine-b", "hostenv", "bare"]
    config: Any = Preference(["hostenv", "engine-b", "not-installed"])
    assert [i.name for i in isolation.ordered(pm, config)] == [
        "hostenv",
        "engine-b",
        "engine-a",
        "bare",
    ]


def test_extension_modules_on_linux_go_to_the_manylinux_builders_then_native(
    on_linux: None, tmp_path: Path
) -> None:
    pm: Any = Plugins(*STRATEGIES)
    choice = auto_choice(isolation.ordered(pm), project(tmp_path, True))
    assert choice.name == "engine-a"
    assert choice.fallbacks == ("engine-b", "hostenv")  # never the unisolated one
    assert "engine-a builds manylinux wheels" in choice.reason


def test_a_pure_project_goes_to_the_native_strategy(on_linux: None, tmp_path: Path) -> None:
    pm: Any = Plugins(*STRATEGIES)
    choice = auto_choice(isolation.ordered(pm), project(tmp_path, False))
    assert (choice.name, choice.fallbacks) == ("hostenv", ())
    assert choice.reason == "no extension modules found"


def test_another_architecture_goes_to_the_emulators_only(on_linux: None, tmp_path: Path) -> None:
    pm: Any = Plugins(*STRATEGIES)
    choice = auto_choice(isolation.ordered(pm), project(tmp_path, False), "aarch64")
    assert (choice.name, choice.fallbacks) == ("engine-a", ("engine-b",))
    with pytest.raises(IsolationUnavailable, match="no installed isolation"):
        auto_choice([STRATEGIES[0]], project(tmp_path, True), "aarch64")


def test_without_a_manylinux_builder_extensions_build_natively_and_say_so(
    on_linux: None, tmp_path: Path
) -> None:
    choice = auto_choice(STRATEGIES[:2], project(tmp_path, True))
    assert choice.name == "hostenv"
    assert "no installed isolation builds manylinux wheels" in choice.reason


def test_elsewhere_extensions_build_natively(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(host, "host_os", lambda: "macos")
    monkeypatch.setattr(host, "host_arch", lambda platform_name=None: "arm64")
    pm: Any = Plugins(*STRATEGIES)
    choice = auto_choice(isolation.ordered(pm), project(tmp_path, True))
    assert (choice.name, choice.fallbacks) == ("hostenv", ())


def test_a_strategy_that_cannot_run_falls_back_in_order_with_the_reasons() -> None:
    pm: Any = Plugins(
        box("engine-a", 10, check="no engine answers"),
        box("engine-b", 20, check="not installed"),
        strategy("hostenv", native=True),
    )
    warnings = Warnings()
    reporter: Any = warnings
    start = IsolationChoice("engine-a", "extension modules", ("engine-b", "hostenv"))
    choice = isolation.first_available(pm, reporter, start)
    assert choice.name == "hostenv"
    assert choice.reason == (
        "extension modules; fallback: engine-a unavailable (no engine answers); "
        "engine-b unavailable (not installed)"
    )
    assert warnings.lines == [
        "auto chose engine-a, but it cannot run here: no engine answers; trying engine-b",
        "auto chose engine-b, but it cannot run here: not installed; trying hostenv",
    ]
    nothing: Any = Plugins(box("engine-a", 10, check="down"))
    with pytest.raises(IsolationUnavailable, match=r"engine-a unavailable \(down\)"):
        isolation.first_available(nothing, reporter, IsolationChoice("engine-a", "x"))


def test_no_isolation_means_the_strategy_that_declares_it() -> None:
    pm: Any = Plugins(*STRATEGIES)
    assert isolation.unisolated(pm) == "bare"
    with pytest.raises(UsageError, match="--no-isolation"):
        isolation.unisolated(Plugins(*STRATEGIES[:1]))  # type: ignore[arg-type]


def test_the_kernel_names_no_plugin() -> None:
    """No built-in plugin's name, or key of its table, as a value in the kernel's code, and no
    import of hwb_plugins (documentation strings aside)."""
    import ast

    names = {
        "venv",
        "docker",
        "podman",
        "none",
        "auditwheel",
        "delocate",
        "delvewheel",
        "uv",
        "matrix",
        "pyenv",
        "system",
        "pylauncher",
    }
    # Words that are not plugins there: directory names skipped when looking for sources.
    allowed = {("project.py", "venv")}
    root = Path(__file__).resolve().parents[1] / "hwb_core"
    found = []
    for path in sorted(root.glob("*.py")):
        tree = ast.parse(path.read_text())
        docs = {
            id(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docs
            ):
                value = node.value
                named = value in names or any(
                    value.startswith(f"{prefix}.{name}.")
                    for name in names
                    for prefix in ("isolation", "matrix")
                )
                if named and (path.name, value) not in allowed:
                    found.append(f"{path.name}:{node.lineno}: {value!r}")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [getattr(node, "module", None) or ""] + [a.name for a in node.names]
                if any(m.startswith("hwb_plugins") for m in modules):
                    found.append(f"{path.name}:{node.lineno}: imports hwb_plugins")
    assert not found, "\n".join(found)


def test_with_the_auto_plugin_blocked_auto_fails_in_one_line_and_a_named_one_builds(
    run_hwb: Any, tmp_path: Path
) -> None:
    """The rule of ``--isolation auto`` is plugin ``auto``'s: blocked, auto says so in one line
    (naming the plugin), and a strategy named with --isolation builds as before."""
    from tests.conftest import assert_clean_error
    from tests.plugins.backends import tiny_project

    project = tiny_project(tmp_path / "proj")
    line = assert_clean_error(run_hwb("-p", "no:auto", "build", str(project)), 2)
    assert "--isolation auto" in line and "'auto'" in line
    out = tmp_path / "out"
    built = run_hwb("-p", "no:auto", "build", str(project), "--isolation", "venv", "-o", str(out))
    assert built.returncode == 0, built.stderr
    assert [p.name for p in out.glob("*.whl")] == ["tiny-1.0-py3-none-any.whl"]
