"""The model's state: one table of firms, groups, ties, ventures and venture members, and the roster
index of membership.

Every column is documented in docs/odd.md (state variables). The Mesa agents
in :mod:`copsim.engine.agents` are views on rows of these tables.
"""

from __future__ import annotations

import math

import numpy as np

from copsim.dtypes import CODE, FLAG, FLOAT, INT, N_TOPICS, SMALL, WEEK
from copsim.engine.tables import Column, Table


class FirmTable(Table):
    """One row per entrepreneur (micro-firm), member or not, alive or exited."""

    COLUMNS = {
        "region": Column(SMALL),
        "sector": Column(SMALL),
        "firm_type": Column(CODE),
        "employees": Column(CODE),
        "knowledge": Column(FLOAT, 0.0, (N_TOPICS,)),
        "knowledge_start": Column(FLOAT, 0.0, (N_TOPICS,)),
        "problem_topic": Column(CODE, -1),
        "problem_severity": Column(FLOAT),
        "assets": Column(SMALL),
        "assets_revealed": Column(FLAG, False),
        "confidence": Column(FLOAT),
        "confidence_base": Column(FLOAT),
        "wellbeing": Column(FLOAT),
        "cash": Column(FLOAT),
        "revenue_base": Column(FLOAT),
        "revenue": Column(FLOAT),
        "cost": Column(FLOAT),
        "alive": Column(FLAG, False),
        "born_week": Column(WEEK),
        "exit_week": Column(WEEK, -1),
        "group": Column(WEEK, -1),
        "join_week": Column(WEEK, -1),
        "felt_value": Column(FLOAT),
        "meetings_attended": Column(WEEK),
        "last_hosted": Column(WEEK, -1),
        "ever_member": Column(FLAG, False),
        "hire_readiness": Column(FLOAT),
        "innovation_boost": Column(FLOAT),
        "venture_uplift": Column(FLOAT),
        "support": Column(FLOAT),
        "referral": Column(FLOAT),
        "experience_start": Column(FLOAT),
        "mentor": Column(INT, -1),
        "mentor_sessions": Column(WEEK),
        "mentor_next": Column(WEEK, -1),
        "advice": Column(FLOAT),
    }


class GroupTable(Table):
    """One row per core group, alive or dissolved."""

    COLUMNS = {
        "region": Column(SMALL),
        "mode": Column(CODE),
        "cadence": Column(WEEK, 4),
        "start_week": Column(WEEK),
        "end_week": Column(WEEK, -1),
        "next_meeting": Column(WEEK),
        "memory": Column(FLOAT, 0.0, (N_TOPICS,)),
        "alive": Column(FLAG, False),
        "started": Column(FLAG, False),
        "is_network": Column(FLAG, False),
        "small_meetings": Column(WEEK),
        "channel": Column(FLAG, False),
        "expert_knowledge": Column(FLOAT),
        "venue_eur_per_week": Column(FLOAT),
        "facilitation": Column(FLOAT),
        "outside_knowledge": Column(FLOAT),
        "recruitment_hours": Column(FLOAT),
    }


class TieTable(Table):
    """Trust ties as an edge list (``src < dst``) plus a key -> edge index map.

    Memory grows with the number of pairs that ever met, not with N². An edge
    whose trust decays to zero stays in the table (dormant) so its index and key
    are stable; only ties with trust >= the tie threshold count as ties. Kernels get
    the index as an argument of its own: numba types a typed Dict inside a tuple in
    Python on every call (hundreds of microseconds), alone in C.
    """

    COLUMNS = {
        "src": Column(INT),
        "dst": Column(INT),
        "trust": Column(FLOAT),
        "last_week": Column(WEEK),
        "ventures": Column(WEEK),
        "met": Column(FLAG, False),
    }

    def __init__(self, index: dict, capacity: int = 1024) -> None:
        super().__init__(capacity)
        self.index = index  # numba typed Dict (numba engine) or dict (python engine)

    def edge(self, i: int, j: int) -> int:
        """The tie index of the pair (-1 if they never met)."""
        key = min(i, j) * PAIR + max(i, j)
        return int(self.index[key]) if key in self.index else -1


class VentureTable(Table):
    """Joint ventures of two or more firms; their members are rows
    ``first .. first + size - 1`` of the :class:`VentureMemberTable`, the lead first."""

    COLUMNS = {
        "kind": Column(CODE),
        "start_week": Column(WEEK),
        "end_week": Column(WEEK, -1),
        "uplift": Column(FLOAT),
        "status": Column(CODE),  # a VentureStatus
        "first": Column(INT),
        "size": Column(WEEK),
    }


class VentureMemberTable(Table):
    """One row per firm in a venture, in venture order (a firm at most once per venture).

    ``edge`` is the tie between the member and the venture's lead that the venture runs
    on (-1 for the lead itself); ``left_week`` the week a partner left a venture that
    went on (its firm exited), -1 otherwise.
    """

    COLUMNS = {
        "venture": Column(INT),
        "firm": Column(INT),
        "edge": Column(INT, -1),
        "left_week": Column(WEEK, -1),
    }


SPARE_SLOTS = 4  # contact room per firm beyond the mean degree (degrees vary from firm to firm)


class ContactTable:
    """The business contacts of every firm row: ``slots[row]`` holds rows, -1 empty."""

    def __init__(self, capacity: int, mean_degree: float) -> None:
        room = 0 if mean_degree <= 0 else math.ceil(mean_degree) + SPARE_SLOTS
        self.slots = np.full((capacity, room), -1, dtype=np.int32)

    def fit(self, capacity: int) -> None:
        """As many rows as the firm table (existing contacts kept)."""
        if len(self.slots) < capacity:
            grown = np.full((capacity, self.slots.shape[1]), -1, dtype=np.int32)
            grown[: len(self.slots)] = self.slots
            self.slots = grown

    def of(self, row: int) -> np.ndarray:
        """The rows of a firm's business contacts (living or not)."""
        mine = self.slots[row]
        return mine[mine >= 0].astype(INT)

    def nbytes(self) -> int:
        """Bytes held."""
        return int(self.slots.nbytes)


PAIR = 4294967296  # tie key = lo * PAIR + hi (kernels keep a copy: tests/test_constants.py)


class RegionRows:
    """The rows of every firm that ever lived in each region, in row order: one growing
    int64 array per region (8 bytes a firm; a list of Python ints took about 36)."""

    def __init__(self, regions: int) -> None:
        self._rows = [np.zeros(16, dtype=np.int64) for _ in range(regions)]
        self._n = [0] * regions

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, region: int) -> np.ndarray:
        """The region's rows (a view; valid until firms are next added)."""
        return self._rows[region][: self._n[region]]

    def add(self, rows: np.ndarray, regions: np.ndarray) -> None:
        """Index new firms ``rows`` (ascending) of the given regions."""
        for region in np.unique(regions).tolist():
            new = rows[regions == region]
            n, have = self._n[region], self._rows[region]
            if n + len(new) > len(have):
                grown = np.zeros(max(2 * len(have), n + len(new)), dtype=np.int64)
                grown[:n] = have[:n]
                self._rows[region] = have = grown
            have[n: n + len(new)] = new
            self._n[region] = n + len(new)


class Rosters:
    """The members of every group, indexed by group (an index of ``firms.group``)."""

    def __init__(self) -> None:
        self._members: list[set[int]] = []

    def add_group(self) -> None:
        """Room for one more group, with no members."""
        self._members.append(set())

    def members(self, gid: int) -> list[int]:
        """Rows of the group's members, in row order."""
        return sorted(self._members[gid])

    def size(self, gid: int) -> int:
        """Number of members of the group."""
        return len(self._members[gid])

    def lists(self, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """CSR of the members of ``groups`` in row order: (ptr, rows)."""
        lists = [self.members(g) for g in groups]
        ptr = np.zeros(len(groups) + 1, dtype=np.int64)
        ptr[1:] = np.cumsum([len(x) for x in lists])
        rows = np.fromiter((r for x in lists for r in x), dtype=np.int64, count=int(ptr[-1]))
        return ptr, rows

    def add(self, row: int, gid: int) -> None:
        """Index a new member (called by :func:`copsim.engine.membership.join` only)."""
        self._members[gid].add(row)

    def remove(self, row: int, gid: int) -> None:
        """Unindex a member (called by :func:`copsim.engine.membership.leave` only)."""
        self._members[gid].discard(row)
