"""Run by hwb against the installed wheel, never the source tree."""

import socket
import sys
from pathlib import Path

import hwbtested

PROJECT = Path(__file__).resolve().parents[1]


def test_the_extension_works():
    assert hwbtested.answer() == 42


def test_the_module_comes_from_the_installed_wheel():
    where = Path(hwbtested.__file__).resolve()
    assert PROJECT not in where.parents, where
    assert "site-packages" in where.parts, where


def test_where_it_runs():
    # hwb's own tests write what they expect here before building: "container" or "host".
    expected = (PROJECT / "tests" / "expected.txt").read_text().strip()
    # hwb's build containers keep their environments under /hwb/scratch.
    assert sys.prefix.startswith("/hwb/") == (expected == "container"), sys.prefix
    if expected == "container":
        try:
            socket.create_connection(("pypi.org", 443), timeout=3).close()
        except OSError:
            pass
        else:
            raise AssertionError("the test container reached the network")
