"""Write the key reference of ``docs/configuration.md`` from the plugins' ``config_schema`` hooks.

    python docs/gen_reference.py           # rewrite the generated part of docs/configuration.md
    python docs/gen_reference.py --check   # exit 1 if docs/configuration.md is out of date

The reference covers hwb's own plugins: the core and every entry point that this checkout's
``pyproject.toml`` declares in the ``hwb`` group. They are loaded the way ``hwb`` loads them
(``PluginManager.load_core`` and ``load_entry_points``); third-party plugins installed in the
same environment are blocked, and a built-in that the environment does not know yet (an editable
install older than the pyproject.toml) is imported from the checkout, so the page depends on the
source alone. Run it with the interpreter of an environment where hwb is installed.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "docs" / "configuration.md"
SCRIPT = "docs/gen_reference.py"

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _generated import write_or_check  # noqa: E402

TYPE_NAMES = {
    "str": "string",
    "path": "path",
    "bool": "boolean",
    "int": "integer",
    "float": "number",
    "list": "list of strings",
    "table": "table",
    "tables": "list of tables",
}


@dataclasses.dataclass
class KeyDoc:
    key: str
    plugin: str
    type: str
    default: Any
    help: str
    choices: list[str] | None
    env: str
    options: list[str]

    @property
    def table(self) -> str:
        return "tool.hwb" + ("." + self.key.rpartition(".")[0] if "." in self.key else "")

    @property
    def name(self) -> str:
        return self.key.rpartition(".")[2]


def declared_plugins() -> dict[str, str]:
    """``{entry-point name: module}`` of the ``hwb`` group in this checkout's pyproject.toml."""
    import tomllib

    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    group: dict[str, str] = data["project"]["entry-points"]["hwb"]
    return dict(group)


def load_builtin_plugins() -> Any:
    """A ``PluginManager`` holding the core and the built-in plugins, nothing else."""
    from hwb_core.plugins import ENTRY_POINT_GROUP, PluginManager

    declared = declared_plugins()
    installed = {ep.name: ep.value for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    foreign = {name for name, value in installed.items() if declared.get(name) != value}
    pm = PluginManager(blocked=foreign)
    pm.load_core()
    pm.load_entry_points()
    missing = [module for name, module in declared.items() if name not in installed]
    if missing:
        print(
            "note: importing from the checkout (not installed yet): " + ", ".join(missing),
            file=sys.stderr,
        )
        pm.load_project_plugins(REPO, missing)
    failed = [r for r in pm.records.values() if r.status == "failed"]
    if failed:
        raise SystemExit(
            "cannot document the configuration, plugins failed to load:\n"
            + "\n".join(f"  {r.name} ({r.target}): {r.error}" for r in failed)
        )
    return pm


def collect(pm: Any) -> list[KeyDoc]:
    from hwb_core.config import env_name

    schema = pm.schema()  # merged and checked: a key declared twice is an error
    by_module = {module: name for name, module in declared_plugins().items()}
    owner = {}
    for impl in pm.hook.config_schema.get_hookimpls():
        for key in impl.function() or {}:
            owner[key] = by_module.get(impl.plugin_name, impl.plugin_name)
    commands: dict[str, dict[str, list[str]]] = {}  # key -> flags -> commands
    for command in ("build", "matrix"):
        for option in pm.cli_options(command):
            flags = commands.setdefault(option.key, {}).setdefault("/".join(option.flags), [])
            flags.append(command)
    options = {
        key: [f"`{flags}` ({', '.join(used)})" for flags, used in by_flags.items()]
        for key, by_flags in commands.items()
    }
    docs = [
        KeyDoc(
            key=key,
            plugin=owner.get(key, "?"),
            type=spec.type,
            default=spec.default,
            help=spec.help,
            choices=list(spec.choices) if spec.choices else None,
            env=env_name(key, spec),
            options=options.get(key, []),
        )
        for key, spec in schema.items()
    ]
    # Stable whatever order the entry points were found in: the core first, then plugins by
    # name, each plugin's keys in the order it declares them.
    plugin_order = {name: i for i, name in enumerate(sorted({d.plugin for d in docs} - {"core"}))}
    docs.sort(key=lambda d: -1 if d.plugin == "core" else plugin_order[d.plugin])
    return docs


def _escape(text: str) -> str:
    """Help text is plain text: keep Markdown from reading ``<platform>`` as HTML, ``*`` as
    emphasis or ``|`` as a cell border."""
    for char, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("*", "\\*"), ("|", "\\|")):
        text = text.replace(char, escaped)
    return text


def show_default(value: Any) -> str:
    if value is None:
        return "*(unset)*"
    return "`" + json.dumps(value) + "`"


def render(docs: list[KeyDoc] | None = None) -> str:
    docs = collect(load_builtin_plugins()) if docs is None else docs
    tables: dict[str, list[KeyDoc]] = {}
    for doc in docs:
        tables.setdefault(doc.table, []).append(doc)
    out: list[str] = []
    for table in sorted(tables, key=lambda t: (t != "tool.hwb", t)):
        keys = tables[table]
        plugins = ", ".join(f"`{p}`" for p in dict.fromkeys(d.plugin for d in keys))
        out += [
            f"### `[{table}]`",
            "",
            f"Declared by: {plugins}.",
            "",
            "| key | type | default | environment variable | what it does |",
            "| --- | --- | --- | --- | --- |",
        ]
        for doc in keys:
            text = doc.help
            if doc.choices:
                text += " One of: " + ", ".join(f"`{c}`" for c in doc.choices) + "."
            if doc.options:
                text += " Command line: " + ", ".join(doc.options) + "."
            text = _escape(text).strip()
            row = [
                f"`{doc.name}`",
                TYPE_NAMES.get(doc.type, doc.type),
                show_default(doc.default),
                f"`{doc.env}`",
                text,
            ]
            out.append("| " + " | ".join(row) + " |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    return write_or_check(PAGE, SCRIPT, render(), argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
