"""Layered configuration: defaults < ``[tool.hwb]`` < ``HWB_*`` environment < command line.

Keys are dotted paths under ``[tool.hwb]`` (``isolation.venv.use-uv``). Plugins declare the keys
they read through the ``config_schema`` hook; anything else in ``[tool.hwb]`` is an error that
names the key and the closest declared one.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from hwb_core.errors import ConfigError
from hwb_core.interfaces import ConfigKey

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_name(key: str, spec: ConfigKey) -> str:
    if spec.env:
        return spec.env
    return "HWB_" + re.sub(r"[^A-Za-z0-9]+", "_", key).upper()


class Config:
    """Resolved settings. ``config.get("isolation.venv.use-uv")``; ``config.source(key)``
    says where a value came from (``"default"``, a file, ``HWB_X``, ``"command line"``)."""

    def __init__(
        self, schema: Mapping[str, ConfigKey], values: Mapping[str, Any], sources: Mapping[str, str]
    ) -> None:
        self.schema = dict(schema)
        self._values = dict(values)
        self._sources = dict(sources)

    def get(self, key: str) -> Any:
        if key in self._values:
            return self._values[key]
        if key in self.schema:
            return self.schema[key].default
        raise KeyError(f"configuration key {key!r} is not declared by any plugin")

    def source(self, key: str) -> str:
        return self._sources.get(key, "default")

    def table(self, prefix: str) -> dict[str, Any]:
        """All keys under ``prefix`` (without it): ``config.table("isolation.venv")``."""
        start = prefix + "."
        return {k[len(start) :]: self.get(k) for k in self.schema if k.startswith(start)}

    def with_overrides(self, overrides: Mapping[str, Any], source: str = "command line") -> Config:
        values, sources = dict(self._values), dict(self._sources)
        for key, value in overrides.items():
            if value is None:
                continue
            values[key] = coerce(key, self.schema[key], value, source)
            sources[key] = source
        return Config(self.schema, values, sources)

    def describe(self) -> dict[str, dict[str, Any]]:
        return {k: {"value": self.get(k), "source": self.source(k)} for k in sorted(self.schema)}


def _unquoted_hint(name: str, kind: str, value: str) -> str | None:
    """The TOML the user meant for a quoted boolean or number, when it is clear what that is
    (``"yes"`` is ``true``; ``"fast"`` is no number at all)."""
    text = value.strip().lower()
    if kind == "bool":
        if text and (text in _TRUE or text in _FALSE):
            return f"write true or false without quotes: {name} = {'true' if text in _TRUE else 'false'}"
        return None
    try:
        float(text) if kind == "float" else int(text)
    except ValueError:
        return None
    return f"write the number without quotes: {name} = {text}"


def coerce(key: str, spec: ConfigKey, value: Any, source: str, *, toml: bool = False) -> Any:
    """Check ``value`` against ``spec``. Strings from the environment and the command line are
    converted (``"1"`` for a boolean); a TOML file has types of its own, so there a quoted
    ``"true"`` for a boolean is an error."""

    def bad(expected: str) -> ConfigError:
        hint = spec.help or None
        if toml and isinstance(value, str):
            name = key.rsplit(".", 1)[-1]
            if spec.type == "list":
                hint = f'write a TOML list: {name} = ["{value}"]'
            elif spec.type in ("bool", "int", "float"):
                hint = _unquoted_hint(name, spec.type, value) or hint
        return ConfigError(f"{key} in {source} must be {expected}, not {value!r}", hint=hint)

    from_text = isinstance(value, str) and spec.type not in ("str", "path") and not toml
    kind = spec.type
    if kind in ("str", "path"):
        if not isinstance(value, str):
            raise bad("a string")
        if spec.choices and value not in spec.choices:
            raise ConfigError(
                f"{key} in {source} is {value!r}",
                hint="choose one of: " + ", ".join(spec.choices),
            )
        return value
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if from_text and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise bad("true or false")
    if kind in ("int", "float"):
        number: float | None = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = value if kind == "float" or isinstance(value, int) else None
        elif from_text and kind == "int" and re.fullmatch(r"-?\d+", value.strip()):
            number = int(value)
        elif from_text and kind == "float":
            with contextlib.suppress(ValueError):
                number = float(value)
        if number is None:
            raise bad("an integer" if kind == "int" else "a number")
        if not math.isfinite(number):
            raise bad("a finite number")
        if spec.minimum is not None and number < spec.minimum:
            raise bad(f"{spec.minimum:g} or more")
        return float(number) if kind == "float" else number
    if kind == "command":
        if isinstance(value, str):
            return value
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
            return list(value)
        raise bad("a string (run by the shell) or a list of strings (the arguments)")
    if kind == "list":
        if from_text:
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return list(value)
        raise bad("a list of strings")
    if kind in ("table", "tables"):
        return _coerce_tables(kind, value, from_text=from_text, toml=toml, bad=bad)
    raise ConfigError(f"{key}: unknown type {kind!r} in its declaration")


def _coerce_tables(
    kind: str, value: Any, *, from_text: bool, toml: bool, bad: Callable[[str], ConfigError]
) -> Any:
    """:func:`coerce` for a ``"table"`` or a ``"tables"`` key."""
    if kind == "table":
        if (
            not toml
            and isinstance(value, (list, tuple))
            and all(isinstance(v, str) and "=" in v for v in value)
        ):
            # A repeated command-line option (--docker-host x86_64=A --docker-host x86_64=B):
            # KEY=VALUE each, a key given twice holds the list of its values.
            pairs: dict[str, Any] = {}
            for item in value:
                name, sep, val = item.partition("=")
                if not sep or not name.strip():
                    raise bad("KEY=VALUE")
                add_repeated(pairs, name.strip(), val.strip())
            return pairs
        if from_text:
            return _pairs(value, bad, "KEY=VALUE pairs separated by commas")
        if isinstance(value, Mapping):
            return {str(k): v if isinstance(v, (str, list)) else str(v) for k, v in value.items()}
        raise bad("a table")
    # A list of tables ([[tool.hwb.x]]); from the environment: "k=v,k=v;k=v".
    if from_text:
        expected = "tables written KEY=VALUE,KEY=VALUE;KEY=VALUE"
        groups = filter(None, (g.strip() for g in value.split(";")))
        return [_pairs(group, bad, expected) for group in groups]
    if isinstance(value, (list, tuple)) and all(isinstance(v, Mapping) for v in value):
        return [{str(k): v for k, v in item.items()} for item in value]
    raise bad("a list of tables ([[...]] in TOML)")


def _pairs(text: str, bad: Callable[[str], ConfigError], expected: str) -> dict[str, Any]:
    """``KEY=VALUE`` pairs separated by commas, from the environment."""
    table: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, val = part.partition("=")
        if not sep:
            raise bad(expected)
        table[name.strip()] = val.strip()
    return table


def add_repeated(mapping: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` to ``value``; a key set twice holds the list of its values."""
    if key in mapping:
        known = mapping[key]
        mapping[key] = [*known, value] if isinstance(known, list) else [known, value]
    else:
        mapping[key] = value


def _flatten(
    data: Mapping[str, Any], schema: Mapping[str, ConfigKey], prefix: str = ""
) -> Iterable[tuple[str, Any]]:
    for name, value in data.items():
        key = f"{prefix}{name}"
        spec = schema.get(key)
        if spec is not None:
            yield key, value
        elif isinstance(value, Mapping):
            yield from _flatten(value, schema, key + ".")
        else:
            yield key, value


def load_config(
    schema: Mapping[str, ConfigKey],
    *,
    tool_hwb: Mapping[str, Any] | None = None,
    pyproject_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    ignored_names: Iterable[str] = (),
) -> Config:
    """Resolve configuration. ``ignored_names`` are blocked or failed plugins: keys in tables
    named after them are ignored rather than reported as unknown."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    ignored = set(ignored_names)
    file_label = f"[tool.hwb] of {pyproject_path}" if pyproject_path else "[tool.hwb]"
    for key, value in _flatten(tool_hwb or {}, schema):
        spec = schema.get(key)
        if spec is None:
            if ignored.intersection(key.split(".")[:-1]):
                continue
            import difflib  # for this error only: not on every start

            close = difflib.get_close_matches(key, list(schema), n=1, cutoff=0.6)
            raise ConfigError(
                f"unknown key {key!r} in {file_label}",
                hint=f"did you mean {close[0]!r}?"
                if close
                else "see docs/configuration.md for the keys",
            )
        values[key] = coerce(key, spec, value, file_label, toml=True)
        sources[key] = str(pyproject_path) if pyproject_path else "pyproject.toml"
    for key, spec in schema.items():
        name = env_name(key, spec)
        if environ and name in environ:
            values[key] = coerce(key, spec, environ[name], name)
            sources[key] = name
    config = Config(schema, values, sources)
    if overrides:
        config = config.with_overrides(overrides)
    return config
