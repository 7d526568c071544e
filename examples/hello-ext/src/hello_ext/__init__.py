"""hello-ext: greets from C."""

from hello_ext._speedups import greet

__all__ = ["greet"]
