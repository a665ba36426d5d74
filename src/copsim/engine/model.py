"""CopModel: the Mesa model of micro-entrepreneur communities of practice.

The model owns the state tables (:mod:`copsim.engine.state`), the random streams, the
event log, the ledger and the levers; ``step()`` runs one week of
:mod:`copsim.engine.schedule` and records its outputs. Entrepreneurs, groups and
facilitators are Mesa agents that view rows of the tables (:mod:`copsim.engine.agents`).
"""

from __future__ import annotations

import numbers
import secrets
from functools import partial
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from copsim.dtypes import CODE, INT, MODE_NAMES, EventKind
from copsim.engine import contacts, mentoring, schedule
from copsim.engine.agents import Entrepreneur, Facilitator, Group
from copsim.engine.choices import Decisions
from copsim.engine.events import EventLog
from copsim.engine.funding import Ledger, TimeAccount
from copsim.engine.kernels import Engine, get_kernels, new_tie_index
from copsim.engine.levers import Levers
from copsim.engine.metrics import TIMESERIES, run_summary, weekly_row
from copsim.engine.params import build_params
from copsim.engine.population import add_firms, expected_rows, initial_regions
from copsim.engine.rng import Streams
from copsim.engine.scratch import FirmScratch, MeetingScratch
from copsim.engine.state import (
    ContactTable, FirmTable, GroupTable, RegionRows, Rosters, TieTable, VentureMemberTable,
    VentureTable,
)
from copsim.engine.week import WeekResult
from copsim.scenario.io import load_scenario
from copsim.scenario.schema import GroupSpec, Scenario, Shock


class CopModel(mesa.Model):
    """Micro-entrepreneurs, their groups, facilitators and funding, week by week.

    Args:
        scenario: a Scenario, a scenario file or name; the default is MicroENTRE.
        seed: integer seed (recorded for provenance); None draws one.
        rng: Mesa 3's alternative to ``seed`` (give one, not both): an integer is the
            seed; a NumPy Generator or SeedSequence gives one.
        engine: "numba" (compiled kernels) or "python" (the same kernels as plain Python).
        agent_views: create a Mesa agent per firm (set False for the largest runs).
        track_rows: firms whose survival and revenue are reported every week
            (``tracked_alive``, ``tracked_revenue_eur``), e.g. a programme's members in
            its counterfactual run.
        track_members_at: track the firms that are members at the start of this week.
        threads: threads for the kernels over every firm (1: this thread only); any number
            gives the same results (:mod:`copsim.engine.rows`).
    """

    def __init__(self, scenario: Scenario | str | Path | None = None, *, seed: int | None = None,
                 rng: int | np.random.Generator | np.random.SeedSequence | None = None,
                 engine: Engine = "numba", agent_views: bool = True,
                 track_rows: np.ndarray | None = None, track_members_at: int | None = None,
                 threads: int = 1) -> None:
        seed = model_seed(seed, rng)
        super().__init__(seed=seed)
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario) if scenario is not None else load_scenario()
        self.scenario = scenario
        self.seed = seed
        self.engine = engine
        self.threads = max(1, int(threads)) if engine == "numba" else 1  # plain Python holds the GIL
        self.kernels = get_kernels(engine)
        self.streams = Streams(seed, engine)
        self.params = build_params(scenario)
        self.levers = Levers()
        self.shocks: list[Shock] = list(scenario.environment.shocks)
        self.horizon = scenario.run.weeks
        self.week = 0
        self.events = EventLog()
        self.ledger = Ledger()
        self.time_account = TimeAccount()  # participants' time, apart from the funders' ledger
        self.agent_views = agent_views
        self.tracked_rows = None if track_rows is None else np.asarray(track_rows, dtype=INT)
        self.track_members_at = track_members_at

        self.firms = FirmTable(expected_rows(scenario))
        self.groups = GroupTable(len(scenario.groups) + scenario.founding.max_new_groups + 1)
        self.ties = TieTable(new_tie_index(engine))
        self.ventures = VentureTable(256)
        self.venture_members = VentureMemberTable(512)
        self.scratch = MeetingScratch()
        self.firm_scratch = FirmScratch(self.firms.capacity)
        self.contacts = ContactTable(self.firms.capacity, scenario.contacts.mean_degree)
        self.decisions = Decisions()  # people's choices in workshop mode; empty: the model's
        self.rosters = Rosters()
        self.initial_members: list[int] = []
        self.group_specs: list[GroupSpec | None] = []  # None: the network group
        self.lever_log: list[tuple[int, str, object]] = []
        self.group_names: list[str] = []
        self.venue_payer: list[str] = []
        self.region_rows = RegionRows(len(scenario.regions))
        self.firm_agents: dict[int, Entrepreneur] = {}
        self.group_agents: list[Group] = []
        self.facilitators = [Facilitator(self, key) for key in scenario.facilitators]

        rows = add_firms(self.firms, scenario, initial_regions(scenario), -1,
                         self.streams.generator("init.firms"))
        self.cohort_size = len(rows)
        mentoring.draw_experience(self, rows)
        self.on_firms_added(rows, -1)
        contacts.link_initial(self, rows)
        for spec in scenario.groups:
            self.add_group(spec)
        self.network_group = self._add_network_group()

        self.timeseries: list[dict[str, float]] = []
        self.snapshots: list[dict[str, np.ndarray]] = []  # columns; one frame at the end
        self.snapshot_rows = self._snapshot_sample()
        self.week_result = WeekResult(-1, schedule.demand(self, 0))  # before the first week
        self.latest = weekly_row(self, self.week_result, None)
        # Collected after each week only: row k (batch_run's "Step" k) is week k, and
        # batch_run's last row is the last week (it reads rows 0 .. steps - 1).
        self.datacollector = WeeklyCollector(
            model_reporters={name: partial(_latest, name=name) for name in TIMESERIES})

    # -- the week ----------------------------------------------------------------------

    def step(self) -> None:
        """Simulate one week (see :mod:`copsim.engine.schedule`), then record its outputs."""
        week = self.week
        if week == self.track_members_at:
            self.tracked_rows = np.flatnonzero(self.firms.group[: self.firms.n] >= 0)
        self.week_result = schedule.run_week(self, week)
        self.latest = weekly_row(self, self.week_result, self.latest)
        self.timeseries.append(self.latest)
        if week % self.scenario.run.snapshot_every_weeks == 0 or week == self.horizon - 1:
            self.snapshots.append(self.snapshot(week))
        self.datacollector.collect(self)
        self.week += 1
        self.running = self.week < self.horizon

    def extend_to(self, horizon: int) -> None:
        """Let a live session run on to week ``horizon`` (never shortens the run)."""
        self.horizon = max(self.horizon, int(horizon))
        self.running = self.week < self.horizon

    def run(self, weeks: int | None = None, progress: Any = None) -> None:
        """Step to the horizon (or ``weeks`` more weeks); ``progress(week)`` after each."""
        end = self.horizon if weeks is None else self.week + weeks
        while self.week < end:
            self.step()
            if progress is not None:
                progress(self.week)

    # -- firms -------------------------------------------------------------------------

    def on_firms_added(self, rows: np.ndarray, week: int) -> None:
        """Index new firms by region, give them Mesa views, log entries."""
        self.firm_scratch.fit(self.firms.capacity)
        self.contacts.fit(self.firms.capacity)
        self.region_rows.add(rows, self.firms.region[rows])
        if self.agent_views:
            self.firm_agents.update((row, Entrepreneur(self, row)) for row in rows.tolist())
        if week >= 0:
            self.events.add_many(week, EventKind.ENTRY, rows, keep=self.followed(rows))

    def remove_views(self, rows: np.ndarray) -> None:
        """Drop the Mesa views of firms that exited."""
        for row in rows.tolist():
            agent = self.firm_agents.pop(row, None)
            if agent is not None:
                agent.remove()

    # -- groups and membership ---------------------------------------------------------

    def add_group(self, spec: GroupSpec) -> int:
        """Create a group from its spec; it starts in its start week."""
        g = self.groups
        gid = int(g.add_rows(1)[0])
        g.region[gid] = [r.name for r in self.scenario.regions].index(spec.region)
        g.mode[gid] = MODE_NAMES.index(spec.mode)
        g.cadence[gid] = spec.cadence_weeks
        g.start_week[gid] = spec.start_week
        g.end_week[gid] = -1 if spec.end_week is None else spec.end_week
        g.next_meeting[gid] = spec.start_week
        g.channel[gid] = spec.channel
        g.expert_knowledge[gid] = spec.expert_knowledge if spec.expert_talks else 0.0
        g.venue_eur_per_week[gid] = spec.venue_eur_per_week
        self.rosters.add_group()
        self.group_names.append(spec.name)
        self.venue_payer.append(spec.venue_payer)
        self.group_agents.append(Group(self, gid, spec.name))
        self.initial_members.append(spec.initial_members)
        self.group_specs.append(spec)
        return gid

    def _add_network_group(self) -> int:
        """A group row for cross-group meetings, if any phase funds them (-1 if none).

        It is never 'alive' (it has no members of its own and is not a regular group);
        its delegates are chosen at each network meeting.
        """
        if not any(p.cross_group_meetings_per_year > 0 for p in self.scenario.funding.phases):
            return -1
        g = self.groups
        gid = int(g.add_rows(1)[0])
        g.is_network[gid] = True
        g.next_meeting[gid] = 0
        g.mode[gid] = MODE_NAMES.index("physical")
        self.rosters.add_group()
        self.group_names.append("network")
        self.venue_payer.append("network")
        self.initial_members.append(0)
        self.group_specs.append(None)
        return gid

    def alive_groups(self) -> np.ndarray:
        """Indices of groups that have started and not dissolved."""
        return np.flatnonzero(self.groups.alive[: self.groups.n])

    def members_of(self, gid: int) -> list[int]:
        """Rows of the group's members, in row order."""
        return self.rosters.members(gid)

    # -- levers ------------------------------------------------------------------------

    def set_lever(self, name: str, value: object) -> None:
        """Change a lever mid-run (validated; logged as a LEVER event)."""
        checked = self.levers.validate(name, value)
        setattr(self.levers, name, checked)
        numeric = float(checked) if isinstance(checked, int | float) else -1.0
        self.events.add(self.week, EventKind.LEVER, value=numeric)
        self.lever_log.append((self.week, name, checked))

    def trigger_shock(self, depth: float = 0.3, duration_weeks: int = 26,
                      recovery_weeks: int = 26, name: str = "triggered") -> None:
        """Start a demand shock this week (all sectors and regions)."""
        shock = Shock(name=name, start_week=self.week, duration_weeks=duration_weeks,
                      recovery_weeks=recovery_weeks, depth=depth)
        self.shocks.append(shock)
        self.events.add(self.week, EventKind.SHOCK, value=depth)

    # -- outputs -----------------------------------------------------------------------

    def _snapshot_sample(self) -> np.ndarray | None:
        """Rows always in snapshots when the population is too large for all (None: all)."""
        limit = self.scenario.run.snapshot_max_firms
        if self.firms.n <= limit:
            return None
        rng = self.streams.generator("snapshot.sample")
        return np.sort(rng.choice(self.firms.n, size=limit, replace=False))

    def followed(self, rows: np.ndarray) -> np.ndarray | None:
        """Which of ``rows`` the entry and exit events follow (None: all of them). Above
        ``run.events_max_firms`` firms: members and the snapshot sample only, so that the
        log stays bounded at any scale (its counts stay complete)."""
        if self.cohort_size <= self.scenario.run.events_max_firms:
            return None
        followed = self.firms.group[rows] >= 0
        return followed if self.snapshot_rows is None else followed | np.isin(rows, self.snapshot_rows)

    def snapshot(self, week: int) -> dict[str, np.ndarray]:
        """Living firms' state this week (all firms, or members plus a fixed sample), as
        columns: :meth:`agents_frame` makes one table of them all (a table per snapshot
        took a hundredth of a small run)."""
        f = self.firms
        n = f.n
        if self.snapshot_rows is None:
            rows = np.flatnonzero(f.alive[:n])
        else:
            members = np.flatnonzero(f.alive[:n] & (f.group[:n] >= 0))
            sample = self.snapshot_rows[f.alive[self.snapshot_rows]]
            rows = np.union1d(members, sample)
        return {
            "week": np.full(len(rows), week, dtype=INT), "row": rows,
            "region": f.region[rows], "sector": f.sector[rows],
            "firm_type": f.firm_type[rows].astype(CODE), "employees": f.employees[rows],
            "knowledge": f.knowledge[rows].mean(axis=1), "problem_topic": f.problem_topic[rows],
            "confidence": f.confidence[rows], "wellbeing": f.wellbeing[rows], "cash": f.cash[rows],
            "revenue": f.revenue[rows], "group": f.group[rows], "felt_value": f.felt_value[rows],
            "meetings_attended": f.meetings_attended[rows], "venture_uplift": f.venture_uplift[rows],
        }

    def timeseries_frame(self) -> pd.DataFrame:
        """The weekly table so far."""
        return pd.DataFrame(self.timeseries, columns=list(TIMESERIES))

    def agents_frame(self) -> pd.DataFrame:
        """All agent snapshots so far."""
        taken = self.snapshots or [self.snapshot(self.week)]
        return pd.DataFrame({name: np.concatenate([snap[name] for snap in taken]) for name in taken[0]})

    def summary(self) -> dict[str, Any]:
        """Per-run outcomes so far (see :func:`copsim.engine.metrics.run_summary`)."""
        return run_summary(self, self.timeseries_frame())

    def release(self) -> None:
        """Drop Mesa's class-level reference to this model so it can be freed."""
        mesa.Agent._ids.pop(self, None)


def model_seed(seed: int | None, rng: Any) -> int:
    """The integer seed of a run from Mesa's ``seed`` or ``rng`` argument (not both)."""
    if seed is not None and rng is not None:
        raise ValueError("you have to pass either rng or seed, not both")
    if rng is None:
        return secrets.randbelow(2**31) if seed is None else int(seed)
    if isinstance(rng, numbers.Integral):
        return int(rng)
    return int(np.random.default_rng(rng).integers(2**31))


class WeeklyCollector(mesa.DataCollector):
    """Mesa's DataCollector of the weekly outputs, filled straight from the week's row.

    The same ``model_vars`` as Mesa's ``collect`` with the ``_latest`` reporters (what
    ``batch_run`` and Mesa's tools read), without a call and a ``deepcopy`` per value:
    the values are numbers. Mesa's own ``collect`` took a tenth of a small run's week.
    """

    def collect(self, model: CopModel) -> None:
        """Append this week's value of every weekly output."""
        for name, values in self.model_vars.items():
            values.append(model.latest[name])


def _latest(model: CopModel, name: str) -> float:
    """Model reporter for Mesa's DataCollector: this week's value of a weekly output."""
    return model.latest[name]

