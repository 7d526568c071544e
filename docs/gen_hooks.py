"""Write the hook reference of ``docs/hooks.md`` from ``hwb_core/hookspecs.py``.

    python docs/gen_hooks.py           # rewrite the generated part of docs/hooks.md
    python docs/gen_hooks.py --check   # exit 1 if docs/hooks.md is out of date

The hookspecs are read from the source file (signatures exactly as written, docstrings, the
``@hookspec(...)`` options and the ``# ---- title`` comments that group them), in the order
they appear there, which is the order a build calls them. Then the hooks built-in plugins
declare of their own (``add_hookspecs``, in ``hwb_plugins/<plugin>/hookspecs.py``), a section
per plugin, under the plugin's entry-point name. Only the text between the two marker comments
in docs/hooks.md is replaced; the rest of the page is written by hand.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOOKSPECS = REPO / "hwb_core" / "hookspecs.py"
PAGE = REPO / "docs" / "hooks.md"
SCRIPT = "docs/gen_hooks.py"

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _generated import write_or_check  # noqa: E402


@dataclasses.dataclass
class HookDoc:
    name: str
    section: str
    decorator: str
    signature: str
    docstring: str
    firstresult: bool
    owner: str = ""
    """The plugin that declares it (its entry-point name), or ``""`` for the core."""


def read_hookspecs(path: Path = HOOKSPECS) -> list[HookDoc]:
    """Every ``@hookspec`` function of ``path``, in source order."""
    source = path.read_text(encoding="utf-8")
    sections = [
        (number, match.group(1).strip())
        for number, line in enumerate(source.splitlines(), start=1)
        if (match := re.match(r"#\s*-{3,}\s*(\S.*)$", line))
    ]
    hooks = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        decorator = next((d for d in node.decorator_list if _is_hookspec(d)), None)
        if decorator is None:
            continue
        section = ""
        for number, title in sections:
            if number < node.lineno:
                section = title
        returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
        firstresult = isinstance(decorator, ast.Call) and any(
            kw.arg == "firstresult" and isinstance(kw.value, ast.Constant) and kw.value.value
            for kw in decorator.keywords
        )
        hooks.append(
            HookDoc(
                name=node.name,
                section=section,
                decorator="@" + ast.unparse(decorator),
                signature=f"def {node.name}({ast.unparse(node.args)}){returns}: ...",
                docstring=ast.get_docstring(node) or "",
                firstresult=firstresult,
            )
        )
    return hooks


def plugin_hookspecs() -> list[HookDoc]:
    """The hooks built-in plugins declare themselves, plugin by plugin in entry-point order,
    each plugin's under a section of its own."""
    hooks = []
    for name, value in _entry_points():
        module = value.split(":")[0]
        path = REPO.joinpath(*module.split(".")) / "hookspecs.py"
        if not path.is_file():
            continue
        for hook in read_hookspecs(path):
            hook.section, hook.owner = f"hooks of the `{name}` plugin", name
            hooks.append(hook)
    return hooks


def _entry_points() -> list[tuple[str, str]]:
    """``(name, value)`` of the ``hwb`` entry points pyproject.toml declares (read by hand:
    ``tomllib`` is not in Python 3.10)."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    section = text.split("[project.entry-points.hwb]", 1)[1].split("\n[", 1)[0]
    found = re.findall(r'^([\w-]+)\s*=\s*"([^"]+)"', section, flags=re.M)
    return [(name, value) for name, value in found]


def _is_hookspec(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return isinstance(target, ast.Name) and target.id == "hookspec"


def to_markdown(text: str, hook_names: set[str]) -> str:
    """reST-flavoured docstring markup to Markdown."""

    def role(match: re.Match[str]) -> str:
        kind, target = match.group(1), match.group(2).lstrip("~")
        if kind == "func" and target in hook_names:
            return f"[`{target}`](#{target})"
        return f"`{target}`"

    text = re.sub(r":(\w+):`([^`]+)`", role, text)
    text = re.sub(r"``docs/([\w./-]+\.md)``", r"[docs/\1](\1)", text)  # pages beside hooks.md
    text = re.sub(r"``([^`]+)``", r"`\1`", text)
    text = re.sub(r"^\.\. versionadded:: (\S+)\s*$", r"*Added in hwb \1.*", text, flags=re.M)
    return text.strip()


def render(hooks: list[HookDoc] | None = None) -> str:
    hooks = read_hookspecs() + plugin_hookspecs() if hooks is None else hooks
    names = {h.name for h in hooks}
    out = [
        "| hook | results | what it is for |",
        "| --- | --- | --- |",
    ]
    for hook in hooks:
        summary = to_markdown(hook.docstring.split("\n\n")[0], names).replace("\n", " ")
        summary = summary.replace("|", "\\|")
        if hook.owner:
            summary = f"(plugin `{hook.owner}`) {summary}"
        combine = "first non-`None` wins" if hook.firstresult else "every implementation"
        out.append(f"| [`{hook.name}`](#{hook.name}) | {combine} | {summary} |")
    section = None
    for hook in hooks:
        if hook.section != section:
            section = hook.section
            out += ["", f"## {section[:1].upper()}{section[1:]}"]
        out += [
            "",
            f"### `{hook.name}`",
            "",
            "```python",
            hook.decorator,
            hook.signature,
            "```",
            "",
            to_markdown(hook.docstring, names),
        ]
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    return write_or_check(PAGE, SCRIPT, render(), argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
