"""A small pure project built with flit-core."""

__version__ = "2.0.1"

from hwbt_flit.shapes import square
