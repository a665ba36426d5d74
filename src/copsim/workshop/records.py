"""What a workshop room records: its participants, the venture proposals and each round.

Plain data held by :class:`copsim.workshop.room.Room` and read by
:mod:`copsim.workshop.debrief` for the debrief and the session record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Participant:
    """A person in the room and the entrepreneur (firm row) they play."""

    name: str
    row: int
    joined_at: float
    last_seen: float
    removed: bool = False
    nonces: set[str] = field(default_factory=set)
    submissions: int = 0  # in the open round


@dataclass
class Proposal:
    """A joint venture one player proposed to another in a round."""

    id: int
    round: int
    frm: int
    to: int
    status: str = "pending"  # pending, accepted, declined, no answer, formed, or why not


@dataclass
class Round:
    """One round: when it opened and closed, the decisions sent and what came of them."""

    id: int
    first_week: int
    weeks: int
    opened_at: float
    deadline: float
    opened_wall: float
    closed_by: str = ""
    decisions: dict[int, dict[str, Any]] = field(default_factory=dict)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    closed_wall: float = 0.0
