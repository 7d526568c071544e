"""Copy example files into the pages that show them.

A page shows a file with a marker comment followed by a fenced code block:

    <!-- include: examples/wheel_checksums.py -->
    ```python
    ...the file's text...
    ```

The path is relative to the page. ``python docs/gen_includes.py`` rewrites every such block
with the file's current text; ``--check`` exits 1 when a page shows an old copy. The examples
are real files because tests install and run them: the page must show what was tested.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
INCLUDE = re.compile(
    r"(<!-- include: (?P<path>\S+) -->\n```(?P<lang>\w*)\n)(?P<body>.*?)(```)", re.S
)


def includes(page: Path) -> list[tuple[Path, str]]:
    """``(file, text shown in the page)`` for every include marker of ``page``."""
    text = page.read_text(encoding="utf-8")
    return [(page.parent / m.group("path"), m.group("body")) for m in INCLUDE.finditer(text)]


def refreshed(page: Path) -> str:
    def fill(match: re.Match[str]) -> str:
        source = (page.parent / match.group("path")).read_text(encoding="utf-8")
        if not source.endswith("\n"):
            source += "\n"
        return match.group(1) + source + match.group(5)

    return INCLUDE.sub(fill, page.read_text(encoding="utf-8"))


def pages() -> list[Path]:
    return sorted(
        p for p in DOCS.rglob("*.md") if "<!-- include: " in p.read_text(encoding="utf-8")
    )


def main(argv: list[str]) -> int:
    stale = []
    for page in pages():
        wanted = refreshed(page)
        if wanted != page.read_text(encoding="utf-8"):
            stale.append(page)
            if "--check" not in argv:
                page.write_text(wanted, encoding="utf-8")
                print(f"refreshed the included files in {page}")
    if "--check" in argv and stale:
        for page in stale:
            print(
                f"{page} shows old copies of files: run `python docs/gen_includes.py`",
                file=sys.stderr,
            )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
