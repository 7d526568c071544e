"""``[tool.hwb.isolation.venv.windows]``: settings the venv isolation applies on Windows only.

A project shared between systems keeps its Windows-only needs here (a variable that turns off
a component whose build fails with the Windows toolchain, the interpreter of a fixed Windows
install); on other systems the table is read, checked, and left alone::

    [tool.hwb.isolation.venv.windows]
    env = { "XFORMERS_DISABLED" = "1" }      # deprecated: [tool.hwb.env.windows] set = {...}
    python-path = "C:/Python312/python.exe"
"""

from __future__ import annotations

from pathlib import Path

from hwb import Config, ConfigError, ConfigKey, Reporter, host

PREFIX = "isolation.venv.windows."
ENV_KEY = PREFIX + "env"
PYTHON_PATH_KEY = PREFIX + "python-path"
GENERAL_PYTHON_PATH_KEY = "isolation.venv.python-path"

CONFIG_KEYS: dict[str, ConfigKey] = {
    ENV_KEY: ConfigKey(
        "table",
        {},
        "Deprecated (use env.windows.set): Windows only, variables set for every command of the "
        "venv build (backend and installers), over the host's own.",
    ),
    PYTHON_PATH_KEY: ConfigKey(
        "path",
        None,
        "Windows only: interpreter to build with, overriding --python and "
        "isolation.venv.python-path.",
    ),
}


def applies() -> bool:
    """The table is applied on a Windows host only."""
    return host.host_os() == "windows"


def python_path_key(config: Config) -> str:
    """The key whose interpreter the build uses: the Windows table's on Windows when it is set,
    else ``isolation.venv.python-path``."""
    if applies() and config.get(PYTHON_PATH_KEY):
        return PYTHON_PATH_KEY
    return GENERAL_PYTHON_PATH_KEY


DEPRECATED_ENV = (
    f"{ENV_KEY} is deprecated: move its variables to [tool.hwb.env.windows] set = {{...}}, which "
    "every isolation applies to Windows builds (this table still works, for venv builds on "
    "Windows, over the host's variables for installers too)"
)


def environment(config: Config, reporter: Reporter | None = None) -> dict[str, str]:
    """The table's ``env`` on Windows (``{}`` elsewhere), every value a string. A table that
    is set at all gets a deprecation warning, on every system (the project is shared)."""
    table = config.get(ENV_KEY) or {}
    if table and reporter is not None:
        reporter.warn(DEPRECATED_ENV)
    if not applies():
        return {}
    variables: dict[str, str] = {}
    for name, value in table.items():
        if not isinstance(value, str) or not name or "=" in name:
            raise ConfigError(
                f"{ENV_KEY} ({config.source(ENV_KEY)}): {name!r} = {value!r} is not a variable",
                hint='write it as env = { "NAME" = "value" }, values quoted',
            )
        variables[name] = value
    return variables


def env_python(env_dir: Path) -> Path:
    """A virtual environment's interpreter: ``Scripts\\python.exe`` on Windows, ``bin/python``
    elsewhere (the layout ``venv`` and ``uv venv`` make on each)."""
    if host.host_os() == "windows":
        return env_dir / "Scripts" / "python.exe"
    return env_dir / "bin" / "python"
