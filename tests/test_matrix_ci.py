"""The matrix across CI machines: ``--list``, ``--only``, ``--shard``, ``--emit github|gitlab``,
``--report`` and ``hwb collect``; the workflow files of docs/ci.md parsed as the CI systems
would, and every Linux command they would run, run here, giving the wheels one ``hwb matrix``
run gives. Real builds (a C extension, pyenv's interpreters, venv isolation)."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, assert_clean_error, pyenv_python, write_project

Run = Callable[..., subprocess.CompletedProcess[str]]

FOUR = ("3.10", "3.11", "3.12", "3.13")
CI_DIR = REPO / "docs" / "examples" / "ci"


def c_extension(root: Path, pythons: tuple[str, ...] = FOUR, platforms: str = '"linux"') -> Path:
    for version in pythons:
        pyenv_python(version)  # fails (in CI) or skips when pyenv lacks it
    listed = ", ".join(f'"{p}"' for p in pythons)
    return write_project(root, {
        "pyproject.toml": f"""
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "cimatrix"
            version = "1.0"

            [tool.hwb.matrix]
            python = [{listed}]
            platforms = [{platforms}]
        """,
        "setup.py": """
            from setuptools import Extension, setup
            setup(ext_modules=[Extension("cimatrix", ["cimatrix.c"])])
        """,
        "cimatrix.c": """
            #include <Python.h>
            static struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "cimatrix", NULL, -1, NULL};
            PyMODINIT_FUNC PyInit_cimatrix(void) { return PyModule_Create(&m); }
        """,
    })


def listed(run_hwb: Run, project: Path, *args: str) -> list[dict]:
    result = run_hwb("matrix", str(project), "--list", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["jobs"]


def members(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        return sorted(zf.namelist())


# --------------------------------------------------------------------------- list, shard, only


@pytest.mark.real
def test_list_shards_and_only(run_hwb: Run, tmp_path: Path) -> None:
    project = c_extension(tmp_path / "p")
    jobs = listed(run_hwb, project)
    ids = [job["id"] for job in jobs]
    assert ids == [f"cp3{v[2:]}-manylinux_x86_64" for v in FOUR], ids
    assert all(job["here"] and job["command"].startswith("hwb matrix ") for job in jobs), jobs
    assert not (project / "dist").exists()  # --list writes nothing
    # auto is said as what it picks for each job: extension modules on Linux, the manylinux
    # container (the engine runs in CI); a strategy asked for by name is that one.
    assert {job["isolation"] for job in jobs} == {"docker"}, jobs
    assert {j["isolation"] for j in listed(run_hwb, project, "--isolation", "venv")} == {"venv"}

    first = [j["id"] for j in listed(run_hwb, project, "--shard", "1/2")]
    second = [j["id"] for j in listed(run_hwb, project, "--shard", "2/2")]
    assert sorted(first + second) == sorted(ids) and not set(first) & set(second)
    assert len(first) == len(second) == 2
    three = [listed(run_hwb, project, "--shard", f"{k}/3") for k in (1, 2, 3)]
    assert sorted(j["id"] for part in three for j in part) == sorted(ids)

    # --only one identifier builds exactly that wheel.
    out = tmp_path / "out"
    result = run_hwb("matrix", str(project), "--only", ids[2], "-o", str(out), "--json",
                     "--isolation", "venv")
    report = json.loads(result.stdout)["jobs"]
    assert result.returncode == 0, result.stderr
    assert [j["id"] for j in report] == [ids[2]] and report[0]["status"] == "ok", report
    wheels = sorted(p.name for p in out.glob("*.whl"))
    assert len(wheels) == 1 and "-cp312-cp312-" in wheels[0], wheels


def test_bad_slices_are_one_line_usage_errors(run_hwb: Run, tmp_path: Path) -> None:
    project = c_extension(tmp_path / "p", ("3.12",))
    for shard in ("0/2", "3/2", "half", "1/0"):
        line = assert_clean_error(run_hwb("matrix", str(project), "--shard", shard), 2)
        assert "is not K/N" in line, line
    line = assert_clean_error(run_hwb("matrix", str(project), "--only", "cp27-win32"), 2)
    assert "not in this matrix: cp27-win32" in line and "cp312-manylinux_x86_64" in line, line


def test_a_shard_past_the_jobs_says_so_and_succeeds(run_hwb: Run, tmp_path: Path) -> None:
    """Five shards over two jobs: shards 3 to 5 are empty, which a CI matrix of fixed size
    meets whenever the plan shrinks. It said "no job of the matrix could run on this machine
    (0 skipped); the reasons are listed above" with none listed, and exited 1."""
    project = c_extension(tmp_path / "p", ("3.11", "3.12"))
    out = tmp_path / "out"
    result = run_hwb("matrix", str(project), "--shard", "5/5", "--isolation", "venv",
                     "-o", str(out), "--json")
    assert result.returncode == 0, result.stderr
    assert "shard 5/5 has no jobs: the matrix's 2 jobs over 5 shards leave none for it" in (
        result.stderr
    ), result.stderr
    assert "error" not in result.stderr and "reasons are listed above" not in result.stderr
    assert json.loads(result.stdout) == {"jobs": []}
    assert not list(out.glob("*.whl"))


# --------------------------------------------------------------------------- emit


def test_emit_github_gives_a_native_runner_for_every_job(run_hwb: Run, tmp_path: Path) -> None:
    project = c_extension(tmp_path / "p", ("3.12", "3.13"), '"linux", "macos", "windows"')
    with (project / "pyproject.toml").open("a") as f:
        f.write('\n[tool.hwb.matrix.linux]\narchitectures = ["x86_64", "aarch64"]\n'
                '[tool.hwb.matrix.windows]\narchitectures = ["x86_64", "arm64"]\n')
    result = run_hwb("matrix", str(project), "--emit", "github")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1  # one line, for $GITHUB_OUTPUT
    include = json.loads(result.stdout)["include"]
    runners = {e["id"]: e["runner"] for e in include}
    assert len(include) == len(runners) == 2 * (2 + 2 + 2), sorted(runners)
    assert runners["cp312-manylinux_x86_64"] == "ubuntu-latest"
    assert runners["cp313-manylinux_aarch64"] == "ubuntu-24.04-arm"
    assert runners["cp312-macosx_x86_64"] == "macos-15-intel"
    assert runners["cp312-macosx_arm64"] == "macos-latest"
    assert runners["cp313-win_amd64"] == "windows-latest"
    assert runners["cp313-win_arm64"] == "windows-11-arm"
    for entry in include:
        assert entry["artifact"] == f"wheels-{entry['id']}"
        argv = shlex.split(entry["command"])
        assert argv[:2] == ["hwb", "matrix"] and argv[argv.index("--only") + 1] == entry["id"]
    # actionlint (the real one) knows GitHub's runner labels: it accepts the documented workflow
    # with this matrix pasted in, and refuses one with a retired label.
    assert actionlint(tmp_path, json.dumps({"include": include})) == ""
    stale = [{**e, "runner": "macos-13"} if e["platform"] == "macos" else e for e in include]
    assert 'label "macos-13" is unknown' in actionlint(tmp_path, json.dumps({"include": stale}))

    # A runner label from the configuration replaces the default.
    with (project / "pyproject.toml").open("a") as f:
        f.write('[tool.hwb.matrix.github.runners]\nlinux-aarch64 = "my-arm-box"\n')
    include = json.loads(run_hwb("matrix", str(project), "--emit", "github").stdout)["include"]
    assert {e["runner"] for e in include if e["arch"] == "aarch64"} == {"my-arm-box"}


def test_emit_gitlab_is_a_child_pipeline(run_hwb: Run, tmp_path: Path) -> None:
    project = c_extension(tmp_path / "p", ("3.12",), '"linux", "macos"')
    result = run_hwb("matrix", str(project), "--emit", "gitlab")
    pipeline = yaml.safe_load(result.stdout)
    entries = pipeline["build-wheel"]["parallel"]["matrix"]
    assert {e["HWB_JOB"] for e in entries} == {
        "cp312-manylinux_x86_64", "cp312-macosx_x86_64", "cp312-macosx_arm64"}
    assert pipeline["build-wheel"]["tags"] == ["$HWB_RUNNER"]
    assert pipeline["collect-wheels"]["script"] == ["hwb collect hwb-reports/*.json --plan plan.json"]
    # Linux jobs in the manylinux image (every interpreter, pipx), macOS ones in GitLab's image.
    assert pipeline["build-wheel"]["image"] == "$HWB_IMAGE"
    images = {e["HWB_JOB"]: e["HWB_IMAGE"] for e in entries}
    assert images == {"cp312-manylinux_x86_64": "quay.io/pypa/manylinux_2_28_x86_64",
                      "cp312-macosx_x86_64": "macos-14-xcode-15", "cp312-macosx_arm64": "macos-14-xcode-15"}
    assert pipeline["collect-wheels"]["image"] == "quay.io/pypa/manylinux_2_28_x86_64"
    before = pipeline["build-wheel"]["before_script"][0]
    assert "pipx install headless-wheel-builder" in before and "python3 -m venv" in before
    assert subprocess.run(["bash", "-n", "-c", before]).returncode == 0  # bash parses it
    check_gitlab_pipeline(tmp_path, result.stdout)
    # The images are overridable, one key at a time.
    with (project / "pyproject.toml").open("a") as f:
        f.write('[tool.hwb.matrix.gitlab.images]\nlinux-x86_64 = "registry.example/manylinux:1"\n')
    pipeline = yaml.safe_load(run_hwb("matrix", str(project), "--emit", "gitlab").stdout)
    images = {e["HWB_JOB"]: e["HWB_IMAGE"] for e in pipeline["build-wheel"]["parallel"]["matrix"]}
    assert images["cp312-manylinux_x86_64"] == "registry.example/manylinux:1"
    assert images["cp312-macosx_arm64"] == "macos-14-xcode-15"


def actionlint(tmp_path: Path, matrix: str) -> str:
    """What actionlint says of docs' example workflow, with ``matrix`` as the build job's
    matrix (JSON is YAML); "" when it finds nothing."""
    text = (CI_DIR / "github-wheels.yml").read_text()
    placeholder = "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert placeholder in text
    path = tmp_path / "wheels.yml"
    path.write_text(text.replace(placeholder, matrix))
    tool = str(Path(sys.executable).with_name("actionlint"))
    checked = subprocess.run([tool, "-no-color", "-shellcheck=", "-pyflakes=", str(path)],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode in (0, 1), checked.stderr
    return checked.stdout + checked.stderr


def check_gitlab_pipeline(tmp_path: Path, text: str) -> None:
    """GitLab's own schema (bundled with check-jsonschema, offline) accepts the pipeline, and
    every job name GitLab makes of a parallel:matrix entry is under 255 characters."""
    path = tmp_path / "pipeline.yml"
    path.write_text(text)
    checked = subprocess.run([str(Path(sys.executable).with_name("check-jsonschema")),
                              "--builtin-schema", "vendor.gitlab-ci", str(path)],
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for name, job in yaml.safe_load(text).items():
        for entry in (job.get("parallel", {}).get("matrix", []) if isinstance(job, dict) else []):
            assert len(entry) <= 6 and len(f"{name}: [{', '.join(entry.values())}]") < 255, entry


# --------------------------------------------------------------------------- what reaches the jobs


def test_every_build_option_reaches_every_job_command(run_hwb: Run, tmp_path: Path) -> None:
    """Each option that changes a build is in each listed and emitted command, a file named
    relative to the directory hwb runs in (the repository root, in CI); a file that does not
    exist is a usage error before anything is emitted."""
    project = c_extension(tmp_path / "repo" / "pkg", ("3.12",), '"linux", "macos", "windows"')
    (tmp_path / "repo" / "pins.txt").write_text("setuptools==80.9.0\n")
    with (project / "pyproject.toml").open("a") as f:
        f.write('[tool.hwb.matrix.windows]\narchitectures = ["x86_64", "arm64"]\n')
    options = ["--build-constraint", str(tmp_path / "repo" / "pins.txt"), "-C", "k=a b",
               "-C", "k=c", "--no-test", "--timeout", "600", "--test-command", "pytest {project}",
               "--no-provenance", "--isolation", "venv", "--no-repair", "--test-requires", "pytest"]
    wanted = ["--isolation", "venv", "-C", "k=a b", "-C", "k=c", "--no-repair", "--no-test",
              "--build-constraint", "pins.txt", "--timeout", "600", "--test-command",
              "pytest {project}", "--test-requires", "pytest", "--no-provenance"]
    cwd = tmp_path / "repo"
    result = run_hwb("matrix", "pkg", "--list", "--json", *options, cwd=cwd)
    assert result.returncode == 0, result.stderr
    commands = [job["command"] for job in json.loads(result.stdout)["jobs"]]
    result = run_hwb("matrix", "pkg", "--emit", "github", *options, cwd=cwd)
    assert result.returncode == 0, result.stderr
    commands += [e["command"] for e in json.loads(result.stdout)["include"]]
    assert len(commands) == 2 * 5, commands
    for text in commands:
        argv = shlex.split(text)
        assert argv[2] == "pkg" and sorted(argv[argv.index("--arch") + 2:]) == sorted(wanted), argv

    gitlab = run_hwb("matrix", "pkg", "--emit", "gitlab", *options, cwd=cwd)
    line = assert_clean_error(gitlab, 2)  # no hosted Windows arm64 runner on GitLab
    assert "gitlab has no hosted runner for windows-arm64" in line, line
    with (project / "pyproject.toml").open("a") as f:
        f.write('[tool.hwb.matrix.gitlab.runners]\nwindows-arm64 = "my-windows-arm"\n')
    gitlab = run_hwb("matrix", "pkg", "--emit", "gitlab", *options, cwd=cwd)
    assert gitlab.returncode == 0, gitlab.stderr
    pipeline = yaml.safe_load(gitlab.stdout)
    bash, powershell = pipeline["build-wheel"]["script"][0], pipeline["build-wheel-windows"]["script"][0]
    assert shlex.split(bash)[-len(wanted):] == wanted, bash
    assert '--only "$env:HWB_JOB"' in powershell and "--build-constraint pins.txt" in powershell
    assert "'pytest {project}'" in powershell and "-C 'k=a b'" in powershell, powershell
    check_gitlab_pipeline(tmp_path, gitlab.stdout)

    # The same check serves --list and --emit (the commands are made once, for both).
    line = assert_clean_error(
        run_hwb("matrix", "pkg", "--emit", "github", "--build-constraint", "absent.txt", cwd=cwd), 2)
    assert line.startswith("error: --build-constraint absent.txt: no such file"), line


def test_requires_python_and_excludes_leave_jobs_out(run_hwb: Run, tmp_path: Path) -> None:
    project = c_extension(tmp_path / "p", ("3.12",), '"linux", "macos"')
    text = (project / "pyproject.toml").read_text()
    text = text.replace('python = ["3.12"]', 'python = ["3.9", "3.12", "3.13"]')
    text = text.replace('version = "1.0"', 'version = "1.0"\nrequires-python = ">=3.10,<3.13"')
    text += '[[tool.hwb.matrix.exclude]]\nplatform = "macos"\narch = "x86_64"\n'
    (project / "pyproject.toml").write_text(text)
    result = run_hwb("matrix", str(project), "--list", "--json")
    assert result.returncode == 0, result.stderr
    ids = [job["id"] for job in json.loads(result.stdout)["jobs"]]
    assert ids == ["cp312-manylinux_x86_64", "cp312-macosx_arm64"], ids
    assert ("requires-python '>=3.10,<3.13' leaves out 4 jobs of the plan: cp39-manylinux_x86_64, "
            "cp39-macosx_arm64, cp313-manylinux_x86_64, cp313-macosx_arm64") in result.stderr
    assert "[[tool.hwb.matrix.exclude]] leaves out 3 jobs" in result.stderr, result.stderr
    include = json.loads(run_hwb("matrix", str(project), "--emit", "github").stdout)["include"]
    assert [e["id"] for e in include] == ids


def test_job_limits_of_github_and_gitlab(run_hwb: Run, tmp_path: Path) -> None:
    """A 385-job plan (no interpreter needed: jobs are planned, not built): GitHub's 256 is
    refused naming --shard; GitLab's 200 per parallel:matrix gives several build jobs, which
    GitLab's schema accepts."""
    pythons = [f"3.{minor}" for minor in range(8, 40)] + ["pp3.9", "pp3.10", "pp3.11"]
    project = c_extension(tmp_path / "p", (), '"linux", "macos", "windows"')
    with (project / "pyproject.toml").open("a") as f:
        f.write('[tool.hwb.matrix.linux]\n'
                'architectures = ["x86_64", "aarch64", "i686", "ppc64le", "s390x", "armv7l"]\n'
                '[tool.hwb.matrix.macos]\narchitectures = ["x86_64", "arm64", "universal2"]\n'
                '[tool.hwb.matrix.windows]\narchitectures = ["x86_64", "x86"]\n'
                '[tool.hwb.matrix.gitlab.runners]\nlinux-ppc64le = "own-ppc64le"\n'
                'linux-s390x = "own-s390x"\nlinux-armv7l = "own-armv7l"\n')
    args = ("matrix", str(project), "--python", ",".join(pythons))
    line = assert_clean_error(run_hwb(*args, "--emit", "github"), 2)
    assert "the matrix has 385 jobs; a GitHub Actions matrix holds at most 256" in line, line
    assert "emit it in 2 or more slices" in line and "--shard 1/N" in line, line
    result = run_hwb(*args, "--emit", "gitlab")
    assert result.returncode == 0, result.stderr
    pipeline = yaml.safe_load(result.stdout)
    sizes = {name: len(job["parallel"]["matrix"]) for name, job in pipeline.items()
             if isinstance(job, dict) and "parallel" in job}
    assert sizes == {"build-wheel": 200, "build-wheel-2": 115, "build-wheel-windows": 70}, sizes
    assert pipeline["collect-wheels"]["needs"][:3] == list(sizes)
    runners = {e["HWB_RUNNER"] for e in pipeline["build-wheel-2"]["parallel"]["matrix"]}
    assert runners <= {"saas-linux-small-amd64", "saas-linux-small-arm64", "saas-macos-medium-m1",
                       "own-ppc64le", "own-s390x", "own-armv7l"}
    check_gitlab_pipeline(tmp_path, result.stdout)


def test_an_architecture_without_a_runner_is_emulated_on_github_and_refused_on_gitlab(
        run_hwb: Run, tmp_path: Path) -> None:
    """GitHub: ppc64le goes to the x86_64 runner, flagged ``emulated`` so that the documented
    workflow registers qemu first (actionlint accepts it); i686 runs there natively. GitLab: its
    hosted runners give no Docker engine to emulate in, so the plan is refused until a runner of
    one's own is named, and then each job runs in the manylinux image of its architecture."""
    project = c_extension(tmp_path / "p", ("3.12",))
    with (project / "pyproject.toml").open("a") as f:
        f.write('\n[tool.hwb.matrix.linux]\narchitectures = ["x86_64", "i686", "ppc64le"]\n')
    include = json.loads(run_hwb("matrix", str(project), "--emit", "github").stdout)["include"]
    flags = {e["arch"]: (e["runner"], e["emulated"]) for e in include}
    assert flags == {"x86_64": ("ubuntu-latest", False), "i686": ("ubuntu-latest", False),
                     "ppc64le": ("ubuntu-latest", True)}, flags
    assert actionlint(tmp_path, json.dumps({"include": include})) == ""
    workflow = yaml.safe_load((CI_DIR / "github-wheels.yml").read_text())
    qemu = [s for s in workflow["jobs"]["build"]["steps"]
            if str(s.get("uses", "")).startswith("docker/setup-qemu-action")]
    assert [s["if"] for s in qemu] == ["matrix.emulated"]

    line = assert_clean_error(run_hwb("matrix", str(project), "--emit", "gitlab"), 2)
    assert "cp312-manylinux_ppc64le: gitlab has no hosted runner for linux-ppc64le" in line, line
    assert 'set linux-ppc64le = "TAG"' in line and "[tool.hwb.matrix.gitlab.runners]" in line
    with (project / "pyproject.toml").open("a") as f:
        f.write('[tool.hwb.matrix.gitlab.runners]\nlinux-ppc64le = "own-ppc64le"\n')
    result = run_hwb("matrix", str(project), "--emit", "gitlab")
    assert result.returncode == 0, result.stderr
    entries = yaml.safe_load(result.stdout)["build-wheel"]["parallel"]["matrix"]
    placed = {e["HWB_ARCH"]: (e["HWB_RUNNER"], e["HWB_IMAGE"]) for e in entries}
    assert placed == {
        "x86_64": ("saas-linux-small-amd64", "quay.io/pypa/manylinux_2_28_x86_64"),
        "i686": ("saas-linux-small-amd64", "quay.io/pypa/manylinux_2_28_i686"),
        "ppc64le": ("own-ppc64le", "quay.io/pypa/manylinux_2_28_ppc64le"),
    }, placed
    check_gitlab_pipeline(tmp_path, result.stdout)


# --------------------------------------------------------------------------- the documented workflows


def test_the_documented_workflows_parse_and_wire_plan_build_and_collect(tmp_path: Path) -> None:
    github = yaml.safe_load((CI_DIR / "github-wheels.yml").read_text())
    jobs = github["jobs"]
    assert set(jobs) == {"plan", "build", "collect"}
    plan_steps = " ".join(str(s.get("run", "")) for s in jobs["plan"]["steps"])
    assert "hwb matrix --emit github" in plan_steps and "hwb matrix --list --json" in plan_steps
    assert jobs["build"]["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert jobs["build"]["runs-on"] == "${{ matrix.runner }}"
    assert any(s.get("run") == "${{ matrix.command }}" for s in jobs["build"]["steps"])
    collect = " ".join(str(s.get("run", "")) for s in jobs["collect"]["steps"])
    assert "hwb collect" in collect and "--plan" in collect
    assert jobs["collect"]["needs"] == ["plan", "build"] and jobs["collect"]["if"] == "always()"

    assert actionlint(tmp_path, "${{ fromJSON(needs.plan.outputs.matrix) }}") == ""
    schema = subprocess.run([str(Path(sys.executable).with_name("check-jsonschema")), "--builtin-schema",
                             "vendor.github-workflows", str(CI_DIR / "github-wheels.yml")],
                            capture_output=True, text=True, timeout=120)
    assert schema.returncode == 0, schema.stdout + schema.stderr
    check_gitlab_pipeline(tmp_path, (CI_DIR / "gitlab-ci.yml").read_text())
    upload = next(s["with"]["path"] for s in jobs["build"]["steps"] if "upload-artifact" in s.get("uses", ""))
    assert "wheelhouse/*.provenance.json" in upload, upload  # the records reach the collect job

    gitlab = yaml.safe_load((CI_DIR / "gitlab-ci.yml").read_text())
    assert "hwb matrix --emit gitlab > wheels-pipeline.yml" in gitlab["plan"]["script"]
    assert gitlab["wheels"]["trigger"]["include"][0] == {"artifact": "wheels-pipeline.yml", "job": "plan"}


@pytest.mark.real
def test_every_emitted_linux_command_gives_the_wheels_of_one_matrix_run(
    run_hwb: Run, hwb_env: dict[str, str], tmp_path: Path
) -> None:
    """What the GitHub workflow does, here: plan, run each Linux entry's command in its own
    checkout, collect the reports against the plan; then one ``hwb matrix`` of the same
    project. The same wheels come out."""
    project = c_extension(tmp_path / "p", ("3.11", "3.12"), '"linux", "macos"')
    plan = listed(run_hwb, project)
    (tmp_path / "plan.json").write_text(json.dumps({"jobs": plan}))
    include = json.loads(run_hwb("matrix", str(project), "--emit", "github").stdout)["include"]
    linux = [e for e in include if e["platform"] == "linux"]
    assert len(linux) == 2

    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    for entry in linux:
        checkout = tmp_path / "runners" / entry["id"]
        checkout.mkdir(parents=True)
        subprocess.run(["cp", "-r", f"{project}/.", str(checkout)], check=True)
        argv = shlex.split(entry["command"])
        assert argv[2] == "." or Path(argv[2]).resolve() == project.resolve(), argv
        argv[2] = "."
        # As on GitHub: the job's log folded, its row in the run's job summary (cilog plugin).
        summary = tmp_path / f"summary-{entry['id']}.md"
        github = {**hwb_env, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
        result = subprocess.run([sys.executable, "-m", "hwb_core", *argv[1:], "--isolation", "venv"],
                                cwd=checkout, env=github, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        assert f"::group::job {entry['id']}: built (" in result.stderr, result.stderr
        assert result.stderr.count("::endgroup::") == 1 and "::error" not in result.stderr
        row = summary.read_text(encoding="utf-8").splitlines()[4]
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        (job,) = json.loads((checkout / "hwb-reports" / f"{entry['id']}.json").read_text())["jobs"]
        assert cells[:3] == [f"`{entry['id']}`", "✅ ok", Path(job["wheel"]).name], row
        assert cells[3].endswith("KiB") and cells[4].endswith(" s") and cells[5] == "passed", row
        assert cells[6].startswith("auditwheel (manylinux"), row
        subprocess.run(["cp", "-r", str(checkout), str(artifacts / entry["artifact"])], check=True)

    reports = sorted(str(p) for p in artifacts.glob("wheels-*/hwb-reports/*.json"))
    assert len(reports) == 2, reports
    # The macOS jobs of the plan never ran here: the collection fails and names them ...
    missing = run_hwb("collect", *reports, "--plan", str(tmp_path / "plan.json"))
    line = assert_clean_error(missing, 1)
    assert "4 planned but not reported (cp311-macosx_x86_64, cp311-macosx_arm64" in line, line
    # ... and with a plan of the Linux jobs it passes.
    (tmp_path / "linux.json").write_text(json.dumps({"include": linux}))
    summary = tmp_path / "collect-summary.md"
    collected = run_hwb("collect", *reports, "--plan", str(tmp_path / "linux.json"), "--json",
                        env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    assert collected.returncode == 0, collected.stderr
    table = summary.read_text(encoding="utf-8")
    assert table.startswith("### hwb collect: 2 jobs\n") and table.count("| ✅ ok |") == 2, table
    assert {j["status"] for j in json.loads(collected.stdout)["jobs"]} == {"ok"}

    pieces = {p.name: members(p) for p in artifacts.glob("wheels-*/wheelhouse/*.whl")}
    whole = tmp_path / "whole"
    result = run_hwb("matrix", str(project), "--platform", "linux", "-o", str(whole), "--isolation", "venv")
    assert result.returncode == 0, result.stderr
    assert pieces == {p.name: members(p) for p in whole.glob("*.whl")}, sorted(pieces)


def test_collect_refuses_what_is_not_a_report(run_hwb: Run, tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    line = assert_clean_error(run_hwb("collect", str(tmp_path / "bad.json")), 2)
    assert "is not JSON" in line, line
    (tmp_path / "other.json").write_text('{"wheels": []}')
    line = assert_clean_error(run_hwb("collect", str(tmp_path / "other.json")), 2)
    assert f"{tmp_path / 'other.json'}: a report holds no list of jobs" in line, line
    (tmp_path / "ok.json").write_text('{"jobs": [{"id": "py3-none-any", "status": "ok"}]}')
    line = assert_clean_error(run_hwb("collect", str(tmp_path / "ok.json"), "--plan", str(tmp_path / "other.json")), 2)
    assert f"{tmp_path / 'other.json'}: the plan holds no list of jobs" in line, line
    assert "cannot read" in assert_clean_error(run_hwb("collect", str(tmp_path / "absent.json")), 2)
    failed = {"jobs": [{"id": "cp312-manylinux_x86_64", "status": "failed", "error": "boom", "log": "x.log"},
                       {"id": "cp313-manylinux_x86_64", "status": "ok", "wheel": "/w/a.whl"}]}
    (tmp_path / "failed.json").write_text(json.dumps(failed))
    summary = tmp_path / "summary.md"  # inside GitHub Actions, but --no-ci-log: no job summary
    github = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    line = assert_clean_error(run_hwb("collect", str(tmp_path / "failed.json"), "--no-ci-log", env=github), 1)
    assert "1 failed (cp312-manylinux_x86_64)" in line, line
    assert not summary.exists()
    # The same job run again and ok: the best record counts.
    retried = {"jobs": [{"id": "cp312-manylinux_x86_64", "status": "ok", "wheel": "/w/b.whl"}]}
    (tmp_path / "retried.json").write_text(json.dumps(retried))
    result = run_hwb("collect", str(tmp_path / "failed.json"), str(tmp_path / "retried.json"))
    assert result.returncode == 0, result.stderr
