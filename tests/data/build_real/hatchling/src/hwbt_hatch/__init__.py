"""hwbt-hatch: a sample package."""

GREETING = "hello from hatchling"
