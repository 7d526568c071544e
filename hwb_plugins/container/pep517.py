"""PEP 517 hook calls carried into the container.

pyproject-hooks runs each hook as ``python _in_process.py HOOK DIR``, with the call's input in
``DIR/input.json`` and its answer in ``DIR/output.json``, all host paths. :func:`run_hook` makes
that call in the container: the script and the input are copied into the scratch mount with
their paths translated, the hook runs there in the source copy, and the output is copied back
to the directory pyproject-hooks reads. The core's PEP 517 driver is thus shared with every
other isolation.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hwb_plugins.container.buildenv import ContainerBuildEnv


def run_hook(
    env: ContainerBuildEnv,
    cmd: Sequence[str],
    cwd: Path | None,
    extra_environ: Mapping[str, str] | None,
) -> None:
    """Run one pyproject-hooks call (``[python, _in_process.py, hook, tmpdir]``, host paths)."""
    python, script, hook_name, host_dir = str(cmd[0]), Path(cmd[1]), str(cmd[2]), Path(cmd[3])
    hooks = env.scratch / "hooks"
    call_dir = hooks / f"{env.next_hook_call():02d}-{hook_name}"
    call_dir.mkdir(parents=True)
    script_copy = hooks / "_in_process.py"
    shutil.copyfile(script, script_copy)
    data = json.loads((host_dir / "input.json").read_text(encoding="utf-8"))
    kwargs = data.get("kwargs") or {}
    for key in ("wheel_directory", "metadata_directory", "sdist_directory"):
        if kwargs.get(key):
            kwargs[key] = env.env_path(Path(kwargs[key]))
    (call_dir / "input.json").write_text(json.dumps(data), encoding="utf-8")
    env.exec(
        [python, env.env_path(script_copy), hook_name, env.env_path(call_dir)],
        cwd=env.container_cwd(cwd),
        extra_env=translate_environ(env, extra_environ or {}),
        what=f"the backend's {hook_name}",
    )
    output = call_dir / "output.json"
    if output.is_file():
        shutil.copyfile(output, host_dir / "output.json")


def translate_environ(env: ContainerBuildEnv, environ: Mapping[str, str]) -> dict[str, str]:
    """pyproject-hooks' variables with the host paths they carry made container paths."""
    result = dict(environ)
    if "_PYPROJECT_HOOKS_BACKEND_PATH_JSON" in result:  # pyproject-hooks 1.x
        paths = json.loads(result["_PYPROJECT_HOOKS_BACKEND_PATH_JSON"])
        result["_PYPROJECT_HOOKS_BACKEND_PATH_JSON"] = json.dumps(
            [env.env_path(Path(p)) for p in paths]
        )
    if "PEP517_BACKEND_PATH" in result:  # pyproject-hooks 1.0 / pep517
        paths = result["PEP517_BACKEND_PATH"].split(os.pathsep)
        result["PEP517_BACKEND_PATH"] = ":".join(env.env_path(Path(p)) for p in paths if p)
    return result
