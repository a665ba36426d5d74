"""The model's shape as the lower engine modules see it.

The schedule, membership, metrics, decisions and the Mesa agent views work on a
:class:`copsim.engine.model.CopModel`, but import only this Protocol: imports then
flow one way (model -> schedule -> membership -> shape), with no cycle, not even
one for type hints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from copsim.engine.choices import Decisions
    from copsim.engine.events import EventLog
    from copsim.engine.funding import Ledger, TimeAccount
    from copsim.engine.levers import Levers
    from copsim.engine.params import Params
    from copsim.engine.rng import Streams
    from copsim.engine.scratch import FirmScratch, MeetingScratch
    from copsim.engine.state import (
        ContactTable, FirmTable, GroupTable, RegionRows, Rosters, TieTable, VentureMemberTable,
        VentureTable,
    )
    from copsim.engine.week import WeekResult
    from copsim.scenario.schema import GroupSpec, Scenario, Shock


class ModelShape(Protocol):
    """What a model offers to the rules of a week and to the outputs."""

    scenario: Scenario
    params: Params
    kernels: Any  # the kernel registry of one engine (copsim.engine.kernels.get_kernels)
    streams: Streams
    levers: Levers
    shocks: list[Shock]
    week: int
    seed: int
    engine: str
    threads: int  # kernel threads (copsim.engine.rows)
    cohort_size: int
    firms: FirmTable
    groups: GroupTable
    ties: TieTable
    ventures: VentureTable
    venture_members: VentureMemberTable
    rosters: Rosters
    scratch: MeetingScratch
    firm_scratch: FirmScratch
    contacts: ContactTable
    events: EventLog
    ledger: Ledger
    time_account: TimeAccount
    decisions: Decisions
    region_rows: RegionRows
    initial_members: list[int]
    group_specs: list[GroupSpec | None]
    venue_payer: list[str]
    network_group: int
    tracked_rows: np.ndarray | None
    agent_views: bool  # whether firms have Mesa agent views (firm_agents)
    firm_agents: dict[int, Any]  # row -> Entrepreneur
    week_result: WeekResult  # of the latest week simulated

    def alive_groups(self) -> np.ndarray:
        """Indices of groups that have started and not dissolved."""
        ...

    def add_group(self, spec: GroupSpec) -> int:
        """Create a group from its spec; return its index."""
        ...

    def on_firms_added(self, rows: np.ndarray, week: int) -> None:
        """Index new firms, give them views, log their entry."""
        ...

    def followed(self, rows: np.ndarray) -> np.ndarray | None:
        """Which of ``rows`` the outputs follow firm by firm (None: all)."""
        ...

    def remove_views(self, rows: np.ndarray) -> None:
        """Drop the Mesa views of firms that exited."""
        ...
