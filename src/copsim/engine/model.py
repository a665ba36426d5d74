"""CopModel: the Mesa model of micro-entrepreneur communities of practice.

The model owns the state tables (:mod:`copsim.engine.state`), the random streams, the
event log, the ledger and the levers; ``step()`` runs one week through the
phases of :mod:`copsim.engine.schedule`. Entrepreneurs, groups and facilitators are
Mesa agents that view rows of the tables (:mod:`copsim.engine.agents`).
"""

from __future__ import annotations

import secrets
from functools import partial
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from copsim.engine import schedule
from copsim.engine.agents import Entrepreneur, Facilitator, Group
from copsim.scenario.schema import GroupSpec, Scenario, Shock
from copsim.engine.decisions import Decisions
from copsim.dtypes import CODE, FLOAT, INT, EventKind, GroupMode, enum_names
from copsim.engine.events import EventLog
from copsim.engine.funding import Ledger
from copsim.engine.kernels import Engine, get_kernels, new_tie_index
from copsim.engine.levers import Levers
from copsim.engine.metrics import TIMESERIES, clustering, run_summary, weekly_row
from copsim.engine.params import business_params, meeting_params, trust_params
from copsim.engine.population import add_firms, initial_regions
from copsim.engine.rng import Streams
from copsim.scenario.io import load_scenario
from copsim.engine.state import FirmTable, GroupTable, TieTable, VentureTable
from copsim.engine.tables import Column, Table

MODES = enum_names(GroupMode)


class MeetingScratch(Table):
    """Per-week scratch arrays of the meeting kernels (grown, never shrunk)."""

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


class CopModel(mesa.Model):
    """Micro-entrepreneurs, their groups, facilitators and funding, week by week.

    Args:
        scenario: a Scenario, a scenario file or name; the default is MicroENTRE.
        seed: integer seed (recorded for provenance); None draws one.
        engine: "numba" (compiled kernels) or "python" (the same kernels as plain Python).
        agent_views: create a Mesa agent per firm (set False for the largest runs).
        track_rows: firms whose survival and revenue are reported every week
            (``tracked_alive``, ``tracked_revenue_eur``), e.g. a programme's members in
            its counterfactual run.
        track_members_at: track the firms that are members at the start of this week.
    """

    def __init__(self, scenario: Scenario | str | Path | None = None, *, seed: int | None = None,
                 engine: Engine = "numba", agent_views: bool = True,
                 track_rows: np.ndarray | None = None, track_members_at: int | None = None) -> None:
        seed = secrets.randbelow(2**31) if seed is None else int(seed)
        super().__init__(seed=seed)
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario) if scenario is not None else load_scenario()
        self.scenario = scenario
        self.seed = seed
        self.engine = engine
        self.kernels = get_kernels(engine)
        self.streams = Streams(seed)
        self.business_params = business_params(scenario)
        self.meeting_params = meeting_params(scenario)
        self.trust_params = trust_params(scenario)
        self.levers = Levers()
        self.shocks: list[Shock] = list(scenario.environment.shocks)
        self.horizon = scenario.run.weeks
        self.week = 0
        self.events = EventLog()
        self.ledger = Ledger()
        self.agent_views = agent_views
        self.tracked_rows = None if track_rows is None else np.asarray(track_rows, dtype=INT)
        self.track_members_at = track_members_at

        self.firms = FirmTable(scenario.population + scenario.population // 4 + 16)
        self.groups = GroupTable(len(scenario.groups) + scenario.founding.max_new_groups + 1)
        self.ties = TieTable(new_tie_index(engine))
        self.ventures = VentureTable(256)
        self.scratch = MeetingScratch()
        self.flags = np.zeros(self.firms.capacity, dtype=np.uint8)
        self.value = np.zeros(self.firms.capacity, dtype=FLOAT)
        self.raised = np.full(self.firms.capacity, -1, dtype=CODE)  # topics raised (7.13)
        self.decisions = Decisions()  # people's choices in workshop mode; empty: the model's
        self.members: list[set[int]] = []
        self.initial_members: list[int] = []
        self.lever_log: list[tuple[int, str, object]] = []
        self.group_names: list[str] = []
        self.venue_payer: list[str] = []
        self.region_rows: list[list[int]] = [[] for _ in scenario.regions]
        self.firm_agents: dict[int, Entrepreneur] = {}
        self.group_agents: list[Group] = []
        self.facilitators = [Facilitator(self, key) for key in scenario.facilitators]
        self.facilitator_hours: dict[str, tuple[float, float]] = {}

        rows = add_firms(self.firms, scenario, initial_regions(scenario), -1,
                         self.streams.generator("init.firms"))
        self.cohort_size = len(rows)
        self.on_firms_added(rows, -1)
        for spec in scenario.groups:
            self.add_group(spec)
        self.network_group = self._add_network_group()

        self.demand = schedule.demand(self, 0)
        self.cost_week = 0.0
        self.week_costs: list[tuple[str, str, float]] = []
        self.attendance = 0
        self.exited_this_week = np.zeros(0, dtype=INT)
        self.met_this_week = np.zeros(0, dtype=INT)
        self.clustering = clustering(self)
        self.timeseries: list[dict[str, float]] = []
        self.snapshots: list[pd.DataFrame] = []
        self.snapshot_rows = self._snapshot_sample()
        self.latest = weekly_row(self, -1, 0, 0, 0, 0)
        self.datacollector = mesa.DataCollector(
            model_reporters={name: partial(_latest, name=name) for name in TIMESERIES})
        self.datacollector.collect(self)

    # -- the week ----------------------------------------------------------------------

    def step(self) -> None:
        """Simulate one week (see :mod:`copsim.engine.schedule` for the order)."""
        week = self.week
        if week == self.track_members_at:
            self.tracked_rows = np.flatnonzero(self.firms.group[: self.firms.n] >= 0)
        joins, leaves = self.events.count(EventKind.JOIN), self.events.count(EventKind.LEAVE)
        formed = self.events.count(EventKind.VENTURE_FORMED)
        meetings = self.events.count(EventKind.MEETING)
        schedule.environment_and_business(self, week)
        self.remove_exited_views()
        schedule.support(self, week)
        schedule.meetings(self, week)
        schedule.between_meetings(self, week)
        schedule.joint_ventures(self, week)
        schedule.membership(self, week)
        schedule.accounting(self, week)
        self.events.take()
        self.latest = weekly_row(
            self, week, self.events.count(EventKind.JOIN) - joins,
            self.events.count(EventKind.LEAVE) - leaves,
            self.events.count(EventKind.VENTURE_FORMED) - formed,
            self.events.count(EventKind.MEETING) - meetings)
        self.timeseries.append(self.latest)
        if week % self.scenario.run.snapshot_every_weeks == 0 or week == self.horizon - 1:
            self.snapshots.append(self.snapshot(week))
        self.datacollector.collect(self)
        self.week += 1
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
        self.grow_scratch(self.firms.n)
        for row, region in zip(rows.tolist(), self.firms.region[rows].tolist(), strict=True):
            self.region_rows[region].append(row)
        if self.agent_views:
            self.firm_agents.update((row, Entrepreneur(self, row)) for row in rows.tolist())
        if week >= 0:
            self.events.add_many(week, EventKind.ENTRY, rows)

    def grow_scratch(self, n: int) -> None:
        """Keep the per-firm scratch arrays as long as the firm table."""
        if len(self.flags) < self.firms.capacity:
            self.flags = np.zeros(self.firms.capacity, dtype=np.uint8)
            self.value = np.zeros(self.firms.capacity, dtype=FLOAT)
            self.raised = np.full(self.firms.capacity, -1, dtype=CODE)

    def candidate(self, region: int, rng: np.random.Generator, tries: int = 20) -> int:
        """A random living non-member firm of the region (-1 if none found)."""
        rows = self.region_rows[region]
        f = self.firms
        for _ in range(tries):
            row = rows[int(rng.integers(0, len(rows)))]
            if f.alive[row] and f.group[row] < 0:
                return row
        return -1

    def remove_exited_views(self) -> None:
        """Drop the Mesa views of firms that exited this week."""
        for row in self.exited_this_week.tolist():
            agent = self.firm_agents.pop(row, None)
            if agent is not None:
                agent.remove()

    # -- groups and membership ---------------------------------------------------------

    def add_group(self, spec: GroupSpec) -> int:
        """Create a group from its spec; it starts in its start week."""
        g = self.groups
        gid = int(g.add_rows(1)[0])
        g.region[gid] = [r.name for r in self.scenario.regions].index(spec.region)
        g.mode[gid] = MODES.index(spec.mode)
        g.cadence[gid] = spec.cadence_weeks
        g.start_week[gid] = spec.start_week
        g.end_week[gid] = -1 if spec.end_week is None else spec.end_week
        g.next_meeting[gid] = spec.start_week
        g.channel[gid] = spec.channel
        g.expert_knowledge[gid] = spec.expert_knowledge if spec.expert_talks else 0.0
        g.venue_eur_per_week[gid] = spec.venue_eur_per_week
        self.members.append(set())
        self.group_names.append(spec.name)
        self.venue_payer.append(spec.venue_payer)
        self.group_agents.append(Group(self, gid, spec.name))
        self.initial_members.append(spec.initial_members)
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
        g.mode[gid] = MODES.index("physical")
        self.members.append(set())
        self.group_names.append("network")
        self.venue_payer.append("network")
        self.initial_members.append(0)
        return gid

    def alive_groups(self) -> np.ndarray:
        """Indices of groups that have started and not dissolved."""
        return np.flatnonzero(self.groups.alive[: self.groups.n])

    def start_group(self, gid: int, week: int, candidates: list[int] | None = None) -> None:
        """Open a group and recruit its first members (firms with problems first)."""
        g, f = self.groups, self.firms
        g.started[gid] = True
        g.alive[gid] = True
        g.next_meeting[gid] = week
        self.events.add(week, EventKind.GROUP_FOUNDED, group=gid)
        wanted = self.initial_members[gid]
        if candidates is None:
            pool = np.array(self.region_rows[int(g.region[gid])], dtype=INT)
            candidates = pool[f.alive[pool] & (f.group[pool] < 0)].tolist()
        if not candidates or wanted == 0:
            return
        rng = self.streams.generator(f"groups.start.{gid}", week)
        weights = np.where(f.problem_topic[candidates] >= 0, 2.0, 1.0)
        chosen = rng.choice(len(candidates), size=min(wanted, len(candidates)), replace=False,
                            p=weights / weights.sum())
        for i in sorted(chosen.tolist()):
            self.join(candidates[i], gid, week)

    def found_groups(self, week: int) -> None:
        """Found groups in regions without one where enough firms have a problem."""
        fs, f, g = self.scenario.founding, self.firms, self.groups
        founded = int(g.started[: g.n].sum()) - sum(1 for s in self.scenario.groups if s.start_week <= week)
        n = f.n
        interested = f.alive[:n] & (f.group[:n] < 0) & (f.problem_topic[:n] >= 0)
        counts = np.bincount(f.region[:n][interested], minlength=len(self.scenario.regions))
        covered = set(g.region[self.alive_groups()].tolist())
        for region in np.argsort(-counts, kind="stable"):
            if founded >= fs.max_new_groups or counts[region] < fs.min_interested:
                break
            if region in covered:
                continue
            name = f"{self.scenario.regions[region].name} (founded week {week})"
            spec = GroupSpec(name=name, region=self.scenario.regions[region].name, mode=fs.mode,
                             cadence_weeks=fs.cadence_weeks, start_week=week,
                             initial_members=fs.founding_members)
            gid = self.add_group(spec)
            pool = [int(r) for r in self.region_rows[region] if interested[r]]
            self.start_group(gid, week, pool)
            founded += 1

    def dissolve_group(self, gid: int, week: int) -> None:
        """Close a group; its members leave."""
        for row in sorted(self.members[gid]):
            self.leave(row, week, schedule.LEAVE_DISSOLVED)
        self.groups.alive[gid] = False
        self.events.add(week, EventKind.GROUP_DISSOLVED, group=gid)

    def join(self, row: int, gid: int, week: int) -> None:
        """A firm joins a group and inherits part of its documented memory."""
        f = self.firms
        f.group[row] = gid
        f.join_week[row] = week
        f.felt_value[row] = self.scenario.membership.initial_felt_value
        f.ever_member[row] = True
        inherit = self.scenario.activities["documentation"].effect
        gap = np.maximum(self.groups.memory[gid] - f.knowledge[row], 0.0)
        f.knowledge[row] += inherit * gap
        self.members[gid].add(row)
        self.events.add(week, EventKind.JOIN, group=gid, firm=row)

    def leave(self, row: int, week: int, reason: int) -> None:
        """A firm leaves its group (value of the LEAVE event: 0 choice, 1 exit, 2 dissolved)."""
        gid = int(self.firms.group[row])
        self.members[gid].discard(row)
        self.firms.group[row] = -1
        self.events.add(week, EventKind.LEAVE, group=gid, firm=row, value=reason)

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

    def snapshot(self, week: int) -> pd.DataFrame:
        """Living firms' state this week (all firms, or members plus a fixed sample)."""
        f = self.firms
        n = f.n
        if self.snapshot_rows is None:
            rows = np.flatnonzero(f.alive[:n])
        else:
            members = np.flatnonzero(f.alive[:n] & (f.group[:n] >= 0))
            sample = self.snapshot_rows[f.alive[self.snapshot_rows]]
            rows = np.union1d(members, sample)
        return pd.DataFrame({
            "week": np.full(len(rows), week, dtype=INT), "row": rows,
            "region": f.region[rows], "sector": f.sector[rows],
            "firm_type": f.firm_type[rows].astype(CODE), "employees": f.employees[rows],
            "knowledge": f.knowledge[rows].mean(axis=1), "problem_topic": f.problem_topic[rows],
            "confidence": f.confidence[rows], "wellbeing": f.wellbeing[rows], "cash": f.cash[rows],
            "revenue": f.revenue[rows], "group": f.group[rows], "felt_value": f.felt_value[rows],
            "meetings_attended": f.meetings_attended[rows], "venture_uplift": f.venture_uplift[rows],
        })

    def timeseries_frame(self) -> pd.DataFrame:
        """The weekly table so far."""
        return pd.DataFrame(self.timeseries, columns=list(TIMESERIES))

    def agents_frame(self) -> pd.DataFrame:
        """All agent snapshots so far."""
        return pd.concat(self.snapshots, ignore_index=True) if self.snapshots else self.snapshot(self.week)

    def summary(self) -> dict[str, Any]:
        """Per-run outcomes so far (see :func:`copsim.engine.metrics.run_summary`)."""
        return run_summary(self, self.timeseries_frame())

    def release(self) -> None:
        """Drop Mesa's class-level reference to this model so it can be freed."""
        mesa.Agent._ids.pop(self, None)


def _latest(model: CopModel, name: str) -> float:
    """Model reporter for Mesa's DataCollector: this week's value of a weekly output."""
    return model.latest[name]

