"""What people decided for the coming meetings (workshop mode).

The hooks that apply these choices are in :mod:`copsim.engine.decisions`; this
record of them is kept apart so that the model's shape can name it without an
import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Decisions:
    """What people decided for the coming meetings (rows are firm rows).

    ``outcomes`` is filled by the hooks: one dict per conversation or agreed venture
    that was due, saying what came of it (read back by the workshop).
    """

    attend: dict[int, bool] = field(default_factory=dict)
    topic: dict[int, int] = field(default_factory=dict)
    partner: dict[int, int] = field(default_factory=dict)
    ventures: list[tuple[int, int]] = field(default_factory=list)
    players: set[int] = field(default_factory=set)
    outcomes: list[dict[str, Any]] = field(default_factory=list)

    def for_meetings(self) -> bool:
        """Whether any decision concerns a meeting (players alone do not)."""
        return bool(self.attend or self.topic or self.partner or self.ventures)

    def clear_round(self) -> None:
        """Forget the meeting decisions (players stay players)."""
        self.attend.clear()
        self.topic.clear()
        self.partner.clear()
        self.ventures.clear()
