"""Shock overlays: demand shocks kept in their own files and added to any scenario.

A shock file (``scenarios/shocks/<name>.toml`` or any path) holds one or more
``[[shocks]]`` tables with the fields of :class:`copsim.scenario.schema.Shock`. Applying it
appends its shocks to ``environment.shocks`` and validates the result like a
scenario file, so a sector or region the scenario lacks is a one-line error
naming the shock file. Keeping shocks apart lets the same crisis be laid over
every programme and over its counterfactual.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from copsim.scenario.schema import Scenario, Shock
from copsim.errors import ScenarioError
from copsim import resources
from copsim.scenario.io import first_error_line, read_toml, validate_scenario

SHOCK_DIR = resources.folder(resources.SHOCKS)


class ShockFile(BaseModel):
    """The content of a shock file: a list of shocks and nothing else."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    shocks: list[Shock]


def known_shocks() -> list[str]:
    """Names of the shock overlays shipped in ``scenarios/shocks/``."""
    return resources.shipped_names(resources.SHOCKS)


def resolve_shock_path(name_or_path: str | Path) -> Path:
    """A path as given, or the name of a shipped overlay; unknown names are errors."""
    path = resources.resolve(name_or_path, resources.SHOCKS)
    if path.is_file():
        return path
    raise ScenarioError(f"--shock: {name_or_path}: unknown shock (known: "
                        f"{', '.join(known_shocks())}; or the path of a shock file)")


def load_shocks(name_or_path: str | Path) -> tuple[Path, list[Shock]]:
    """Read and validate a shock file; return its path and its shocks."""
    path = resolve_shock_path(name_or_path)
    try:
        parsed = ShockFile.model_validate(read_toml(path, "shock"))
    except ValidationError as exc:
        raise ScenarioError(first_error_line(exc, str(path))) from None
    if not parsed.shocks:
        raise ScenarioError(f"{path}: shocks: a shock file needs at least one [[shocks]] table")
    return path, parsed.shocks


def apply_shocks(scenario: Scenario, shocks: list[Shock], source: Path | str) -> Scenario:
    """The scenario with the shocks appended, checked against its sectors, regions and horizon."""
    horizon = scenario.run.weeks
    for i, shock in enumerate(shocks):
        if shock.start_week >= horizon:
            raise ScenarioError(
                f"{source}: shocks.{i}.start_week: shock {shock.name!r} starts in week "
                f"{shock.start_week}, after the {horizon}-week horizon of {scenario.name} "
                "(use --years)")
    data = scenario.model_dump()
    data["environment"]["shocks"] = data["environment"]["shocks"] + [s.model_dump() for s in shocks]
    return validate_scenario(data, source=str(source))


def with_shock(scenario: Scenario, name_or_path: str | Path | None) -> Scenario:
    """The scenario with a shock overlay applied (unchanged when none is given)."""
    if name_or_path is None:
        return scenario
    path, shocks = load_shocks(name_or_path)
    return apply_shocks(scenario, shocks, path)
