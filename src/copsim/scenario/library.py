"""The scenario files shipped with copsim: where they are and which one is the default.

Free of pydantic and numpy, so that the command line can name the default scenario
in its help without loading the schema. The files are found by :mod:`copsim.resources`
(the wheel's copies, or the repository's ``scenarios/`` from a checkout).
"""

from __future__ import annotations

from pathlib import Path

from copsim import resources

SCENARIO_DIR = resources.folder(resources.SCENARIOS)
DEFAULT_SCENARIO = "microentre"


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    """A scenario file as given, or the name of a shipped scenario (``copsim scenarios``)."""
    return resources.resolve(name_or_path, resources.SCENARIOS)


def resolve_base(name: str, directory: Path) -> Path:
    """A base named in a file: beside the file, else a shipped scenario (so copies work)."""
    beside = directory / name
    return beside if beside.is_file() else resources.shipped(name, resources.SCENARIOS) or beside
