"""The scenario files shipped in ``scenarios/``: where they are and which one is the default.

Free of pydantic and numpy, so that the command line can name the default scenario
in its help without loading the schema.
"""

from __future__ import annotations

from pathlib import Path

SCENARIO_DIR = Path(__file__).resolve().parents[3] / "scenarios"
DEFAULT_SCENARIO = "microentre"


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    """A path as given, or the name of a scenario shipped in ``scenarios/``."""
    path = Path(name_or_path)
    if path.suffix == "" and not path.exists():
        path = SCENARIO_DIR / f"{path}.toml"
    return path
