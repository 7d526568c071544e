"""``[tool.hwb.env]``: what the build backend gets of hwb's environment, and what is set for it.

By default the core withholds from the backend the variables that look like credentials (see
``hwb_core.backend_env``); that holds with this plugin blocked too. This plugin changes the
rule on the ``backend_env_rule`` hook: ``pass`` (names or patterns let through all the same),
``block`` (more names or patterns withheld) and ``set`` (variables set for the backend, on every
platform); ``[tool.hwb.env.linux]``, ``[tool.hwb.env.macos]`` and ``[tool.hwb.env.windows]``
hold a ``set`` for builds of that system's wheels only, over the general one.
"""

from __future__ import annotations

from hwb import BackendEnvironment, Config, ConfigError, ConfigKey, hookimpl

PASS_KEY, BLOCK_KEY, SET_KEY = "env.pass", "env.block", "env.set"
KEYS: dict[str, ConfigKey] = {
    PASS_KEY: ConfigKey(
        "list",
        [],
        "Variables (names or shell patterns) the build backend gets even though they look like "
        "credentials.",
    ),
    BLOCK_KEY: ConfigKey(
        "list", [], "More variables (names or shell patterns) withheld from the build backend."
    ),
    SET_KEY: ConfigKey(
        "table", {}, "Variables set for the build backend's processes, on every platform."
    ),
}
#: ``[tool.hwb.env.linux]``, ``.macos``, ``.windows``: ``set`` for builds of that system's
#: wheels only (a container build is a Linux one), over the general ``set``.
OS_SET_KEYS = {os_name: f"env.{os_name}.set" for os_name in ("linux", "macos", "windows")}
KEYS.update(
    {
        key: ConfigKey(
            "table",
            {},
            f"Variables set for the build backend's processes when it builds {label} wheels "
            "(over env.set).",
        )
        for key, label in zip(OS_SET_KEYS.values(), ("Linux", "macOS", "Windows"), strict=True)
    }
)


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    return dict(KEYS)


@hookimpl
def backend_env_rule(config: Config, os_name: str | None) -> BackendEnvironment:
    return from_config(config, os_name)


def from_config(config: Config, os_name: str | None = None) -> BackendEnvironment:
    """The rule of ``config`` for a build of ``os_name``'s wheels (its ``env.OS.set`` over
    ``env.set``)."""
    values = {name: config.get(name) if name in config.schema else None for name in KEYS}
    table: dict[str, str] = {}
    set_keys = [SET_KEY] + ([OS_SET_KEYS[os_name]] if os_name in OS_SET_KEYS else [])
    for key in set_keys:
        for name, value in (values[key] or {}).items():
            if not isinstance(value, str):
                raise ConfigError(
                    f"{key} ({config.source(key)}): {name} = {value!r} is not a string",
                    hint='quote every value: set = { NAME = "value" }',
                )
            table[name] = value
    return BackendEnvironment(tuple(values[PASS_KEY] or ()), tuple(values[BLOCK_KEY] or ()), table)
