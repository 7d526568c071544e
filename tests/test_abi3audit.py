"""The abi3audit plugin: a wheel tagged ``abi3`` that leaves the stable ABI is refused, naming
the symbols (issue 16). Real C extensions, built by setuptools with ``py_limited_api``, and the
real abi3audit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import assert_clean_error, pyenv_python, write_project

pytestmark = pytest.mark.real

SETUP = """
from setuptools import Extension, setup

setup(
    ext_modules=[Extension("{name}", ["{name}.c"], py_limited_api={limited},
                           define_macros={macros})],
    options={{"bdist_wheel": {{"py_limited_api": {tag}}}}},
)
"""

MODULE = """
#include <Python.h>
{declarations}
static PyObject *call(PyObject *self, PyObject *arg) {{ {body} }}
static PyMethodDef methods[] = {{{{"call", call, METH_O, NULL}}, {{NULL, NULL, 0, NULL}}}};
static struct PyModuleDef module = {{PyModuleDef_HEAD_INIT, "{name}", NULL, -1, methods}};
PyMODINIT_FUNC PyInit_{name}(void) {{ return PyModule_Create(&module); }}
"""

#: Not in the stable ABI at all: declared by hand under Py_LIMITED_API, which hides it.
OUTSIDE = (
    "#ifdef Py_LIMITED_API\nPyObject *_PyLong_Copy(PyObject *);\n#endif",
    "return _PyLong_Copy((void *)arg);",
)
#: In the stable ABI since 3.10, called from a wheel tagged cp39-abi3.
NEWER = (
    "const char *PyUnicode_AsUTF8AndSize(PyObject *, Py_ssize_t *);",
    "Py_ssize_t n = 0; if (!PyUnicode_AsUTF8AndSize(arg, &n)) return NULL; "
    "return PyLong_FromSsize_t(n);",
)
#: Stable since 3.2.
CLEAN = ("", "return PyNumber_Multiply(arg, arg);")


def extension(root: Path, name: str, code: tuple[str, str], abi3: bool = True) -> Path:
    declarations, body = code
    return write_project(
        root / name,
        {
            "pyproject.toml": f"""
                [build-system]
                requires = ["setuptools>=68"]
                build-backend = "setuptools.build_meta"

                [project]
                name = "{name}"
                version = "1.0"
                """,
            "setup.py": SETUP.format(
                name=name,
                limited=abi3,
                macros='[("Py_LIMITED_API", "0x03090000")]' if abi3 else "[]",
                tag='"cp39"' if abi3 else "None",
            ),
            f"{name}.c": MODULE.format(name=name, declarations=declarations, body=body),
        },
    )


def build(
    run_hwb: Any, project: Path, out: Path, *args: str, pre: tuple[str, ...] = (), **kw: Any
) -> Any:
    """``hwb PRE build PROJECT -o OUT --isolation venv --python 3.12 ARGS``."""
    return run_hwb(
        *pre,
        "build",
        str(project),
        "-o",
        str(out),
        "--isolation",
        "venv",
        "--python",
        str(pyenv_python("3.12")),
        *args,
        **kw,
    )


def published(result: Any) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    wheels = json.loads(result.stdout)["wheels"]
    assert len(wheels) == 1
    return dict(wheels[0])


def test_an_abi3_wheel_calling_outside_the_stable_abi_is_refused_naming_the_function(
    run_hwb: Any, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = build(run_hwb, extension(tmp_path, "outside", OUTSIDE), out)
    line = assert_clean_error(result, 1)
    assert "tagged abi3" in line and "_PyLong_Copy" in line and "outside the stable ABI" in line
    assert not list(out.glob("*.whl")) and not list(out.glob("*.json"))


def test_a_stable_function_newer_than_the_tag_is_refused_with_its_version(
    run_hwb: Any, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    line = assert_clean_error(build(run_hwb, extension(tmp_path, "newer", NEWER), out), 1)
    assert "PyUnicode_AsUTF8AndSize (since 3.10)" in line and "stable ABI of 3.9" in line
    assert not list(out.glob("*.whl"))


def test_a_clean_abi3_wheel_passes_and_says_it_was_audited(run_hwb: Any, tmp_path: Path) -> None:
    wheel = published(build(run_hwb, extension(tmp_path, "clean", CLEAN), tmp_path / "o", "--json"))
    assert "-cp39-abi3-manylinux" in wheel["filename"]
    assert wheel["checked_by"] == ["abi3audit"]


def test_warn_publishes_the_wheel_with_a_warning(run_hwb: Any, tmp_path: Path) -> None:
    project = extension(tmp_path, "warned", OUTSIDE)
    with (project / "pyproject.toml").open("a") as f:
        f.write('\n[tool.hwb.repair]\nabi3-audit = "warn"\n')
    result = build(run_hwb, project, tmp_path / "out", "--json")
    wheel = published(result)
    assert "-cp39-abi3-" in wheel["filename"]
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert any("_PyLong_Copy" in line for line in warnings), result.stderr


@pytest.mark.parametrize("how", ["off", "blocked"])
def test_the_audit_can_be_turned_off_or_the_plugin_blocked(
    run_hwb: Any, tmp_path: Path, how: str
) -> None:
    project = extension(tmp_path, "unaudited", OUTSIDE)
    if how == "off":
        result = build(
            run_hwb, project, tmp_path / "out", "--json", env={"HWB_REPAIR_ABI3_AUDIT": "off"}
        )
    else:
        result = build(run_hwb, project, tmp_path / "out", "--json", pre=("-p", "no:abi3audit"))
    wheel = published(result)
    assert "-cp39-abi3-" in wheel["filename"] and "abi3audit" not in wheel["checked_by"]


def test_a_wheel_not_tagged_abi3_is_not_audited(run_hwb: Any, tmp_path: Path) -> None:
    project = extension(tmp_path, "specific", OUTSIDE, abi3=False)
    wheel = published(build(run_hwb, project, tmp_path / "out", "--json"))
    assert "-cp312-cp312-" in wheel["filename"] and wheel["checked_by"] == []


def test_hwb_repair_audits_a_wheel_built_elsewhere(run_hwb: Any, tmp_path: Path) -> None:
    built = published(
        build(
            run_hwb,
            extension(tmp_path, "later", OUTSIDE),
            tmp_path / "raw",
            "--no-repair",
            "--json",
        )
    )
    out = tmp_path / "wheelhouse"
    result = run_hwb("repair", built["path"], "-o", str(out), cwd=tmp_path)
    line = assert_clean_error(result, 1)
    assert "_PyLong_Copy" in line
    assert not list(out.glob("*.whl"))


@pytest.mark.docker
def test_in_a_container_the_audit_runs_in_the_build_environment(
    run_hwb: Any, tmp_path: Path
) -> None:
    from tests.docker.support import BUILD_IMAGE, client_with_images

    client_with_images()
    out = tmp_path / "out"
    result = run_hwb(
        "build",
        str(extension(tmp_path, "boxed", OUTSIDE)),
        "-o",
        str(out),
        "--isolation",
        "docker",
        "--image",
        BUILD_IMAGE,
        "--python",
        "3.12",
    )
    line = assert_clean_error(result, 1)
    assert "_PyLong_Copy" in line
    assert "with abi3audit in the build environment (docker" in result.stderr
    assert not list(out.glob("*.whl"))
