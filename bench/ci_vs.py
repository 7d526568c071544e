"""CI time of two commits side by side: does a change make the whole CI run slower?

Usage::

    python bench/ci_vs.py BEFORE_REF AFTER_REF [--rounds 2] [--work DIR] [--after-first]

Each commit is cloned fresh from this repository into a directory of its own, with ``../shared``
beside it as CI has it, and its ``.ci/run`` (set-up, then the test command README.md gives) runs
there, the two alternating round by round so that a machine growing slower or faster over the
hour weighs on both sides alike. The clones are kept between invocations (``--work``), so a
later round reuses their tox environments as CI reuses its caches. Printed: each run's wall
time and the tests' own time as pytest reports it, the median of each side, and the median of
the per-round ratios after / before, the figure to quote.

Run it on an otherwise idle machine, and in the foreground of a shell with job control: a run
started where SIGINT is ignored would pass that on to every hwb the tests interrupt (here it is
reset to the default in each run).
"""

from __future__ import annotations

import argparse
import re
import signal
import statistics
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SUMMARY = re.compile(r"(\d+) passed.* in ([\d.]+)s")


def clone(ref: str, root: Path) -> Path:
    """A fresh clone of ``ref`` at ``root/main``, with ``root/shared`` pointing at ours."""
    main = root / "main"
    if not main.exists():
        root.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "clone", "-q", str(REPO), str(main)], check=True)
    sha = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--verify", ref + "^{commit}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    subprocess.run(["git", "-C", str(main), "fetch", "-q", str(REPO), sha], check=True)
    subprocess.run(["git", "-C", str(main), "checkout", "-q", "--detach", "FETCH_HEAD"], check=True)
    subprocess.run(["git", "-C", str(main), "clean", "-qfdx", "-e", ".tox"], check=True)
    if not (root / "shared").exists():
        (root / "shared").symlink_to(SHARED)
    return main


def run_ci(main: Path, log: Path) -> tuple[float, float, int]:
    """Wall seconds of ``.ci/run``, the tests' seconds and how many passed; raises on failure."""
    start = time.monotonic()
    with log.open("w") as out:
        code = subprocess.run(
            [str(main / ".ci" / "run")],
            cwd=main,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        ).returncode
    wall = time.monotonic() - start
    found = SUMMARY.findall(log.read_text(errors="replace"))
    if code != 0 or not found:
        raise SystemExit(f"{main}: .ci/run failed (exit {code}); see {log}")
    passed, seconds = found[-1]
    return wall, float(seconds), int(passed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/hwb-ci-vs"))
    parser.add_argument("--after-first", action="store_true", help="round 1 runs AFTER first")
    args = parser.parse_args()
    sides = {
        name: clone(ref, args.work / name)
        for name, ref in (("before", args.before), ("after", args.after))
    }
    walls: dict[str, list[float]] = {"before": [], "after": []}
    print(f"{'round':<6} {'side':<7} {'tests':>6} {'tests s':>8} {'wall s':>7}", flush=True)
    for n in range(1, args.rounds + 1):
        order = ["before", "after"] if (n + args.after_first) % 2 else ["after", "before"]
        for name in order:
            wall, seconds, passed = run_ci(sides[name], args.work / f"{name}-{n}.log")
            walls[name].append(wall)
            print(f"{n:<6} {name:<7} {passed:>6} {seconds:>8.0f} {wall:>7.0f}", flush=True)
    ratios = [a / b for a, b in zip(walls["after"], walls["before"], strict=True)]
    print(
        f"median wall: before {statistics.median(walls['before']):.0f} s, "
        f"after {statistics.median(walls['after']):.0f} s; "
        f"after/before {statistics.median(ratios):.2f}x over {len(ratios)} rounds"
    )


if __name__ == "__main__":
    main()
