"""Finder ``path``: ``--python /path/to/python`` (a spec naming a file), and the interpreter
running hwb when ``--python`` is not given (``PythonSpec.running()``), each asked what it is.

It lists nothing (``hwb pythons`` shows what the other finders see) and answers first, so that
a path never reaches the finders that look for versions."""

from __future__ import annotations

import os

from hwb import PythonInfo, PythonNotFound, PythonSpec, hookimpl


@hookimpl(tryfirst=True)
def find_python(spec: PythonSpec) -> PythonInfo | None:
    if spec.path is None:
        return None
    from hwb.pythons import current, interrogate  # only when asked: every run imports plugins

    if not spec.raw:  # no --python: the interpreter running hwb
        return current()
    path = os.path.abspath(os.path.expanduser(spec.path))
    if not os.path.exists(path):
        raise PythonNotFound(
            f"--python {spec.raw}: {path} does not exist",
            hint="give an existing interpreter path or a version such as 3.12",
        )
    info = interrogate(path, "path")
    if info is None:
        raise PythonNotFound(f"--python {spec.raw}: {path} is not a working Python interpreter")
    return info
