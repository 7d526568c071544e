"""``hwb matrix --emit gitlab``: the child pipeline.

GitLab names each job of a ``parallel:matrix`` after the values of its variables, and refuses
a pipeline with a job name of 255 characters or more: so the entries hold short values only
(the job's id, runner tag, Python, platform, architecture), and the command is written once, in
the job's script, from those variables and the options every job shares. One
``parallel:matrix`` holds at most 200 entries, so a larger plan becomes several build jobs.
Windows runners run PowerShell: their entries go to build jobs of their own whose script is
PowerShell. The other build jobs run in the image ``HWB_IMAGE`` names, a variable of each entry
(``[tool.hwb.matrix.gitlab.images]`` over the defaults of ``runners.toml``: the pypa manylinux
image of the runner's architecture for Linux, which has every interpreter, and a macOS image of
GitLab's on the macOS runners).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hwb import Config, UsageError
from hwb_plugins.matrix.ci import (
    CI_OUTDIR,
    CI_REPORTS,
    GITLAB_MAX_ENTRIES,
    GITLAB_MAX_NAME,
    runner_table,
)
from hwb_plugins.matrix.runners import DEFAULT_IMAGES

_VARIABLES = ("HWB_JOB", "HWB_RUNNER", "HWB_PYTHON", "HWB_PLATFORM", "HWB_ARCH", "HWB_IMAGE")

#: What a job runs first, unless ``before-script`` says otherwise: pipx where the image has it
#: (the manylinux images, whose pipx puts root's apps on PATH), else a virtual environment of
#: its own (never pip into the system's Python, which PEP 668 may forbid, as Homebrew's does),
#: put on PATH for the script (GitLab runs before_script and script in one shell).
BEFORE = {
    "bash": "if command -v pipx >/dev/null; then pipx install headless-wheel-builder; "
    'else python3 -m venv "$HOME/.hwb" && "$HOME/.hwb/bin/python" -m pip install '
    'headless-wheel-builder && export PATH="$HOME/.hwb/bin:$PATH"; fi',
    "powershell": "python3 -m pip install headless-wheel-builder",
}


def pipeline(
    entries: Sequence[Mapping[str, str]], carried: Sequence[str], source: str, config: Config
) -> dict[str, Any]:
    """``build-wheel`` (``build-wheel-2``, ... past 200 entries; ``build-wheel-windows`` for
    Windows runners) runs every entry, each on the runner tagged for it; then
    ``collect-wheels`` merges their reports against the parent's ``plan.json`` (``hwb
    collect``) and keeps every wheel as one artifact."""
    given = config.get("matrix.gitlab.before-script")
    images = {
        **DEFAULT_IMAGES,
        **{str(k): str(v) for k, v in (config.get("matrix.gitlab.images") or {}).items()},
    }
    pure = all(e["platform"] == "any" for e in entries)
    jobs: dict[str, Any] = {}
    for shell, name in (("bash", "build-wheel"), ("powershell", "build-wheel-windows")):
        group = [e for e in entries if (e["platform"] == "windows") == (shell == "powershell")]
        chunks = [
            group[i : i + GITLAB_MAX_ENTRIES] for i in range(0, len(group), GITLAB_MAX_ENTRIES)
        ]
        for number, chunk in enumerate(chunks, 1):
            job_name = name if number == 1 else f"{name}-{number}"
            matrix = [_variables(e, job_name, _image(images, e)) for e in chunk]
            jobs[job_name] = {
                "stage": "build",
                **({"image": "$HWB_IMAGE"} if shell == "bash" else {}),
                "parallel": {"matrix": matrix},
                "tags": ["$HWB_RUNNER"],
                "before_script": list(given) if given is not None else [BEFORE[shell]],
                "script": [_script(shell, source, carried, pure)],
                "artifacts": {"when": "always", "paths": [f"{CI_OUTDIR}/", f"{CI_REPORTS}/"]},
            }
    linux = runner_table(config, "gitlab")["linux-x86_64"]
    return {
        "stages": ["build", "collect"],
        **jobs,
        "collect-wheels": {
            "stage": "collect",
            "image": images["linux-x86_64"],
            "when": "always",
            "tags": [linux],
            "needs": [*jobs, {"pipeline": "$PARENT_PIPELINE_ID", "job": "plan"}],
            "before_script": list(given) if given is not None else [BEFORE["bash"]],
            "script": [f"hwb collect {CI_REPORTS}/*.json --plan plan.json"],
            "artifacts": {"paths": [f"{CI_OUTDIR}/"]},
        },
    }


def _image(images: Mapping[str, str], entry: Mapping[str, str]) -> str | None:
    """The image of a job that is not Windows': its key's; a Linux architecture that has none
    (a runner of the user's for an architecture pypa makes no image of) the x86_64 one's."""
    if entry["platform"] == "windows":
        return None
    key = f"{entry['platform']}-{entry['arch']}"
    if key in images:
        return images[key]
    return images["linux-x86_64"] if entry["platform"] == "linux" else None


def _variables(entry: Mapping[str, str], job_name: str, image: str | None) -> dict[str, str]:
    values = [entry["id"], entry["runner"], entry["python"], entry["platform"], entry["arch"]]
    if image is not None:
        values.append(image)
    name = f"{job_name}: [{', '.join(values)}]"
    if len(name) >= GITLAB_MAX_NAME:
        raise UsageError(
            f"the GitLab job for {entry['id']} would be named in {len(name)} characters; "
            f"GitLab refuses names of {GITLAB_MAX_NAME} or more",
            hint="name the interpreter by its version (3.12), not a path, and the runner by a "
            "short tag",
        )
    return dict(zip(_VARIABLES, values, strict=False))


def _script(shell: str, source: str, carried: Sequence[str], pure: bool) -> str:
    """One command, for every entry, from its variables: bash, or PowerShell (``$env:X``)."""
    names = ["HWB_PYTHON"] if pure else ["HWB_PYTHON", "HWB_PLATFORM", "HWB_ARCH"]
    flags = ["--python"] if pure else ["--python", "--platform", "--arch"]
    sigil = "$" if shell == "bash" else "$env:"
    quote: Callable[[str], str] = shlex.quote if shell == "bash" else _ps_quote
    words = ["hwb", "matrix", quote(source), "--only", f'"{sigil}HWB_JOB"', "-o", CI_OUTDIR]
    words += ["--report", f'"{CI_REPORTS}/{sigil}HWB_JOB.json"']
    for flag, name in zip(flags, names, strict=True):
        words += [flag, f'"{sigil}{name}"']
    words += [quote(word) for word in carried]
    return " ".join(words)


def _ps_quote(word: str) -> str:
    """A PowerShell argument as written: bare when plain, else single-quoted."""
    if word and all(c.isalnum() or c in "-_./=:,+" for c in word):
        return word
    return "'" + word.replace("'", "''") + "'"
