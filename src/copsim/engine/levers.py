"""Levers: what a dashboard or facilitator may change in the middle of a run.

Each change goes through :meth:`copsim.engine.model.CopModel.set_lever`, which logs it
as an event so a run with lever changes can be read back and replayed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from copsim.dtypes import MODE_NAMES, ModeName

# Allowed range of each numeric lever: the one declaration (the dashboard and the
# workshop take theirs from here).
BOUNDS = {"hours_scale": (0.0, 10.0), "skill": (0.0, 1.0), "recruitment_scale": (0.0, 10.0)}


@dataclass
class Levers:
    """Mid-run adjustments on top of the scenario (defaults change nothing)."""

    hours_scale: float = 1.0  # multiplies funded facilitation and recruitment hours (and their cost)
    skill: float | None = None  # replaces every facilitator's skill
    recruitment_scale: float = 1.0  # multiplies recruits per funded hour
    mode: ModeName | None = None  # every group meets this way
    cadence_weeks: int | None = None  # every group meets this often

    def validate(self, name: str, value: object) -> object:
        """Check one lever value; raise ValueError with the reason if it is impossible."""
        if name not in {f.name for f in fields(self)}:
            raise ValueError(f"unknown lever '{name}'")
        if value is None and name in {"skill", "mode", "cadence_weeks"}:
            return None
        if name in BOUNDS:
            low, high = BOUNDS[name]
            value = float(value)  # type: ignore[arg-type]
            if not low <= value <= high:
                raise ValueError(f"{name} must be between {low:g} and {high:g}")
        elif name == "cadence_weeks":
            value = int(value)  # type: ignore[call-overload]
            if value < 1:
                raise ValueError("cadence_weeks must be at least 1")
        elif name == "mode" and value not in MODE_NAMES:
            raise ValueError(f"unknown mode '{value}'")
        return value
