"""Prior distributions of scenario parameters, for calibration.

A parameter's prior is declared next to its unit, default and source
(``param(..., prior=("loguniform", 0.01, 0.1))``). Every numeric parameter whose
source is an assumption and that declares none gets the *default prior*: uniform
over its value x 0.5 to x 1.5, inside the bounds the schema allows -- the range the
one-at-a-time sensitivity runs and the Morris screening use. Parameters whose value
is 0 (no scale) or that are backed by a source have no prior unless they declare one,
so calibrating them is an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import annotated_types
from pydantic.fields import FieldInfo

Shape = Literal["uniform", "loguniform"]
SHAPES: tuple[str, ...] = ("uniform", "loguniform")
DEFAULT_SPREAD = 0.5


@dataclass(frozen=True)
class Prior:
    """A bounded prior: uniform, or uniform in the logarithm (for rates spanning decades)."""

    shape: Shape
    low: float
    high: float
    declared: bool = True  # False: the default x0.5-1.5 prior of an assumption

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"unknown prior shape {self.shape!r} (known: {', '.join(SHAPES)})")
        if not self.low < self.high:
            raise ValueError(f"prior range {self.low:g} .. {self.high:g} is empty")
        if self.shape == "loguniform" and self.low <= 0:
            raise ValueError("a loguniform prior needs a positive lower end")

    def text(self) -> str:
        """How docs/odd.md shows it: ``loguniform(0.01, 0.1)``; default priors end in '*'."""
        return f"{self.shape}({self.low:.4g}, {self.high:.4g}){'' if self.declared else '*'}"

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the prior's support."""
        return self.low <= value <= self.high


def bounds(info: FieldInfo) -> tuple[float, float]:
    """The closed range a field's constraints allow (open ends become the nearest float)."""
    low, high = -math.inf, math.inf
    for c in info.metadata:
        if isinstance(c, annotated_types.Ge):
            low = max(low, float(c.ge))
        elif isinstance(c, annotated_types.Gt):
            low = max(low, math.nextafter(float(c.gt), math.inf))
        elif isinstance(c, annotated_types.Le):
            high = min(high, float(c.le))
        elif isinstance(c, annotated_types.Lt):
            high = min(high, math.nextafter(float(c.lt), -math.inf))
    return low, high


def declared_prior(info: FieldInfo) -> Prior | None:
    """The prior written in the field's metadata, if any."""
    extra = info.json_schema_extra
    spec = extra.get("prior") if isinstance(extra, dict) else None
    if spec is None:
        return None
    shape, low, high = spec
    return Prior(shape, float(low), float(high))


def prior_of(info: FieldInfo | None, value: Any, source: str) -> Prior | None:
    """The prior of a parameter whose value (in the scenario at hand) is ``value``.

    Declared priors win; assumptions get the default prior around ``value``; anything
    else (a sourced parameter, a value of 0 or none, a non-number) has no prior.
    """
    if info is None:
        return None
    declared = declared_prior(info)
    if declared is not None:
        return declared
    if not source.startswith("assumption") or isinstance(value, bool):
        return None
    if not isinstance(value, int | float) or value == 0:
        return None
    low, high = bounds(info)
    lo = max(low, value * (1 - DEFAULT_SPREAD))
    hi = min(high, value * (1 + DEFAULT_SPREAD))
    lo, hi = min(lo, hi), max(lo, hi)
    return Prior("uniform", lo, hi, declared=False) if lo < hi else None
