"""The result of one simulated week: what it produced besides the new state.

:func:`copsim.engine.schedule.run_week` returns it; :mod:`copsim.engine.metrics`
turns it (with the state) into the week's row of outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Cost = tuple[str, str, float]  # (payer, item, EUR)


@dataclass
class WeekResult:
    """What one week produced besides the new state: the input of the weekly row."""

    week: int
    demand: np.ndarray  # demand multiplier by (sector, region)
    costs: list[Cost] = field(default_factory=list)
    facilitator_hours: dict[str, tuple[float, float]] = field(default_factory=dict)  # key: (facilitation, recruitment)
    exited: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    due: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # groups due to meet
    attendance: int = 0  # firms at a meeting (a firm at two meetings counts twice)
    joins: int = 0
    leaves: int = 0
    ventures_formed: int = 0
    meetings: int = 0
    venture_cost: float = 0.0  # what members paid for their active ventures, EUR (not programme spending)
    venture_revenue: float = 0.0  # revenue ventures added to living firms this week, EUR

    @property
    def cost(self) -> float:
        """Programme spending this week, EUR."""
        spent = 0.0
        for _, _, eur in self.costs:
            spent += eur
        return spent
