"""Scratch arrays the kernels write within a week: per firm, and per meeting.

Their values carry nothing from one week to the next that a rule reads (each week
rewrites what it uses), so they are not state (:mod:`copsim.engine.state`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from copsim.dtypes import CODE, FLOAT, INT
from copsim.engine.tables import Column, Table


class FirmScratch(Table):
    """Per-firm scratch: business flags, value got from this week's meetings, raised topics,
    the trust-weighted ties a firm has at the start of the week (for well-being) and its
    relative performance (for its contacts' referrals)."""

    COLUMNS = {"flags": Column(np.uint8), "value": Column(FLOAT), "raised": Column(CODE, -1),
               "ties": Column(FLOAT), "performance": Column(FLOAT)}

    def fit(self, capacity: int) -> None:
        """As long as the firm table (fresh arrays when it grew)."""
        if self.capacity < capacity:
            for name, col in self.COLUMNS.items():
                setattr(self, name, np.full(capacity, col.fill, dtype=col.dtype))


class Roster(NamedTuple):
    """The members of the groups ``groups`` (``rows[ptr[k]:ptr[k + 1]]`` for group
    ``groups[k]``) and, in the same layout, whether each attends."""

    groups: np.ndarray
    ptr: np.ndarray
    rows: np.ndarray
    attend: np.ndarray


class MeetingScratch(Table):
    """Per-week scratch arrays of the meeting kernels (grown, never shrunk): each
    meeting's group, host, visit and attendee range; attendees; lessons."""

    EXTRA = ("meet_rows", "les_learner", "les_topic", "les_level", "les_weight")
    COLUMNS = {"meet_group": Column(INT), "meet_host": Column(INT), "meet_visit": Column(np.bool_),
               "meet_ptr": Column(INT)}

    def __init__(self) -> None:
        super().__init__(64)
        self.meet_rows = np.zeros(256, dtype=INT)
        self.les_learner = np.zeros(1024, dtype=INT)
        self.les_topic = np.zeros(1024, dtype=INT)
        self.les_level = np.zeros(1024, dtype=FLOAT)
        self.les_weight = np.zeros(1024, dtype=FLOAT)

    def ensure_meetings(self, meetings: int, attendees: int, lessons: int) -> None:
        """Room for this week's meetings, attendee lists and lessons."""
        self.grow_to(meetings + 1)
        if attendees > len(self.meet_rows):
            self.meet_rows = np.zeros(2 * attendees, dtype=INT)
        if lessons > len(self.les_learner):
            size = 2 * lessons
            self.les_learner = np.zeros(size, dtype=INT)
            self.les_topic = np.zeros(size, dtype=INT)
            self.les_level = np.zeros(size, dtype=FLOAT)
            self.les_weight = np.zeros(size, dtype=FLOAT)

    @property
    def lessons(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The lesson columns (learner, topic, level, weight) as the kernels take them."""
        return self.les_learner, self.les_topic, self.les_level, self.les_weight
