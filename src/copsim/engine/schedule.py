"""The weekly schedule, one function per DESIGN.md step, in this order:

1. ``environment_and_business``: demand with shocks; each firm's ties (kernel
   ``tie_strength``); revenue, cost, cash, exits (exited firms leave their group at
   once), problems, well-being, hiring, innovation (kernel ``update_business``); entrants.
2. ``support``: groups starting this week; funding phases set each group's
   facilitation, outside knowledge and recruitment effort.
3. ``meetings``: attendance, then the meetings of groups whose cadence falls due
   (host, theme, Wenger's activities, ventures), knowledge exchange, trust; the
   attendees' hours into the participants' time account.
3b. ``mentoring.weekly``: mentoring pairs form, meet and end
   (:mod:`copsim.engine.mentoring`).
4. ``between_meetings``: a coordinator's introductions across groups and readers of
   the published good practice (:mod:`copsim.engine.outreach`); light exchange on
   group channels; trust decay.
5. ``contacts.weekly`` then ``joint_ventures``: referrals and partnerships through
   business contacts (:mod:`copsim.engine.contacts`); members leaving, uplift, shared
   cost, endings and failures of ventures, trust feedback (:mod:`copsim.engine.ventures`
   logs the endings).
6. ``membership.weekly``: leaving by choice, recruitment, founding and dissolution of
   groups (:mod:`copsim.engine.membership`).
7. ``accounting``: every euro of the week into the ledger.

:func:`run_week` runs them and returns the week's :class:`WeekResult` (what the
week produced that is not state: demand, costs, attendance, counts), which
:mod:`copsim.engine.metrics` turns into the weekly row. Each step gathers arrays,
draws from named streams, calls kernels through ``model.kernels`` with the
parameter bundles of ``model.params`` and applies results; none of them holds
state of its own. Who belongs to which group changes only in
:mod:`copsim.engine.membership`.
"""

from __future__ import annotations

import numpy as np

from copsim.dtypes import MODE_NAMES, EventKind
from copsim.engine import (
    contacts, decisions, membership, mentoring, outreach, owner_time, ventures,
)
from copsim.engine.funding import NO_SUPPORT, Support, covering_phases, fixed_costs, group_support
from copsim.engine.kernels.business import (
    F_EXIT, F_HIRE, F_INNOVATION, F_INNOVATION_OK, F_SOLVED, N_BUSINESS_UNIFORMS,
)
from copsim.engine.kernels.meetings import (
    MAX_EVENTS_PER_MEETING, MAX_VENTURE_MEMBERS_PER_MEETING, MAX_VENTURES_PER_MEETING,
)
from copsim.engine.population import add_firms, entrant_regions
from copsim.engine.rows import row_slice, run_in_chunks
from copsim.engine.scratch import Roster
from copsim.engine.shape import ModelShape
from copsim.engine.week import WeekResult


def run_week(model: ModelShape, week: int) -> WeekResult:
    """Every step of one week, in order; the week's result."""
    counted = (EventKind.JOIN, EventKind.LEAVE, EventKind.VENTURE_FORMED, EventKind.MEETING)
    before = [model.events.count(kind) for kind in counted]
    result = WeekResult(week, demand(model, week))
    environment_and_business(model, result)
    model.remove_views(result.exited)
    support(model, result)
    meetings(model, result)
    mentoring.weekly(model, result)
    between_meetings(model, result)
    contacts.weekly(model, week)
    joint_ventures(model, result)
    membership.weekly(model, result)
    accounting(model, result)
    model.events.take()
    result.joins, result.leaves, result.ventures_formed, result.meetings = (
        model.events.count(kind) - b for kind, b in zip(counted, before, strict=True))
    return result


def demand(model: ModelShape, week: int) -> np.ndarray:
    """Demand multiplier by (sector, region) this week, with every shock applied."""
    s = model.scenario
    d = np.ones((len(s.environment.sectors), len(s.regions)))
    sector_index = {x.name: i for i, x in enumerate(s.environment.sectors)}
    region_index = {r.name: i for i, r in enumerate(s.regions)}
    for shock in model.shocks:
        into = week - shock.start_week
        full = shock.duration_weeks
        if into < 0 or into >= full + shock.recovery_weeks:
            continue
        depth = shock.depth if into < full else shock.depth * (1 - (into - full + 1) / (shock.recovery_weeks + 1))
        sectors = [sector_index[x] for x in shock.sectors] or list(range(d.shape[0]))
        regions = [region_index[x] for x in shock.regions] or list(range(d.shape[1]))
        d[np.ix_(sectors, regions)] *= 1.0 - depth
    return d


def environment_and_business(model: ModelShape, result: WeekResult) -> None:
    """Step 1: the business year of every firm, then this week's entrants."""
    f, week = model.firms, result.week
    n = f.n
    t, ties = model.ties, model.firm_scratch.ties
    model.kernels.tie_strength(n, t.n, t.src, t.dst, t.trust, t.met, f.alive,
                               model.params.trust.tie_threshold, ties)
    columns, flags = f.columns(), model.firm_scratch.flags

    def update_business(start: int, stop: int, u: np.ndarray) -> tuple[np.ndarray, float]:
        """The chunk's business week: its rows with news (listed in its own thread) and the
        revenue its firms' ventures added."""
        added = model.kernels.update_business(week, stop - start, model.params.business,
                                              result.demand, u, row_slice(columns, start, stop),
                                              ties[start:stop], flags[start:stop])
        return start + np.flatnonzero(flags[start:stop]), added

    chunks = run_in_chunks(n, model.streams.weekly("business", week), N_BUSINESS_UNIFORMS,
                           model.threads, update_business, model.streams.jumped)
    touched = np.concatenate([np.zeros(0, dtype=np.int64), *(rows for rows, _ in chunks)])
    result.venture_revenue = sum(float(added) for _, added in chunks)  # in row order
    result.exited = log_business_events(model, week, touched)
    membership.leave_on_exit(model, result.exited, week)
    regions = entrant_regions(model.scenario, model.streams.weekly("entry", week))
    if len(regions):
        rows = add_firms(f, model.scenario, regions, week, model.streams.weekly("entry.firms", week))
        model.on_firms_added(rows, week)
        contacts.link_entrants(model, rows, week)


def log_business_events(model: ModelShape, week: int, touched: np.ndarray) -> np.ndarray:
    """Events from the business flags of the rows ``touched`` (those with a flag, in row
    order): exits of every firm, other news of members. Returns the rows of the firms
    that exited."""
    f, flags, log = model.firms, model.firm_scratch.flags, model.events
    what, group = flags[touched], f.group[touched]
    exits = touched[what & F_EXIT != 0]
    log.add_many(week, EventKind.EXIT, exits, group=f.group[exits], value=f.cash[exits],
                 keep=model.followed(exits))
    member = group >= 0
    solved = touched[(what & F_SOLVED != 0) & member]
    log.add_many(week, EventKind.PROBLEM_SOLVED, solved, group=f.group[solved])
    hired = touched[(what & F_HIRE != 0) & member]
    log.add_many(week, EventKind.HIRE, hired, group=f.group[hired], value=f.employees[hired])
    tried = touched[(what & F_INNOVATION != 0) & member]
    log.add_many(week, EventKind.INNOVATION, tried, group=f.group[tried],
                 value=(flags[tried] & F_INNOVATION_OK != 0).astype(float))
    return exits


def support(model: ModelShape, result: WeekResult) -> None:
    """Step 2: start groups due to start, and set each group's funded support."""
    g, week = model.groups, result.week
    membership.start_due_groups(model, week)
    levers = model.levers
    result.costs.extend(fixed_costs(model.scenario, week))
    supports: dict[tuple[int, ...], Support] = {}  # groups under the same phases get the same
    by_age: dict[int, Support] = {}  # and so do groups of the same age
    for gid in model.alive_groups().tolist():
        age = week - int(g.start_week[gid])
        if age not in by_age:
            phases = covering_phases(model.scenario, week, age)
            key = tuple(map(id, phases))
            if key not in supports:
                supports[key] = (group_support(model.scenario, phases, levers.hours_scale,
                                               levers.skill) if phases else NO_SUPPORT)
            by_age[age] = supports[key]
        sup = by_age[age]
        g.facilitation[gid] = sup.facilitation
        g.outside_knowledge[gid] = sup.outside_knowledge
        g.recruitment_hours[gid] = sup.recruitment_hours
        result.costs.extend(sup.costs)
        for key, hours, recruit in sup.hours:
            before = result.facilitator_hours.get(key, (0.0, 0.0))
            result.facilitator_hours[key] = (before[0] + hours, before[1] + recruit)
        if g.venue_eur_per_week[gid] > 0:
            result.costs.append((model.venue_payer[gid], "venue", float(g.venue_eur_per_week[gid])))
        if levers.mode is not None:
            g.mode[gid] = MODE_NAMES.index(levers.mode)
        if levers.cadence_weeks is not None:
            g.cadence[gid] = levers.cadence_weeks
    if model.network_group >= 0:
        calendar = [p for p in covering_phases(model.scenario, week, -1) if p.basis == "calendar"]
        sup = group_support(model.scenario, calendar, levers.hours_scale, levers.skill)
        g.facilitation[model.network_group] = sup.facilitation
        g.outside_knowledge[model.network_group] = sup.outside_knowledge


def meetings(model: ModelShape, result: WeekResult) -> None:
    """Step 3: the meetings of every group whose cadence falls due this week, then the
    cross-group network meeting if one is due."""
    g, week = model.groups, result.week
    alive = model.alive_groups()
    due = alive[g.next_meeting[alive] <= week]
    due = due[[holds_meetings(model, gid) for gid in due]] if len(due) else due
    result.due = due
    if len(due):
        g.next_meeting[due] = week + g.cadence[due]
        ptr, rows = model.rosters.lists(due)
        result.attendance += hold(model, week, due, ptr, rows, "meetings")
    result.attendance += network_meeting(model, week)


def holds_meetings(model: ModelShape, gid: int) -> bool:
    """Whether the group meets (a mentoring programme only does not; docs/odd.md 7.18)."""
    spec = model.group_specs[gid]
    return spec is None or spec.group_meetings


def network_meeting(model: ModelShape, week: int) -> int:
    """A cross-group meeting of delegates from every living group, when a calendar
    phase funds them: the most satisfied members of each group, hosted in turn.
    Returns the attendance."""
    gid = model.network_group
    phases = [p for p in model.scenario.funding.phases
              if p.basis == "calendar" and p.covers(week) and p.cross_group_meetings_per_year > 0]
    if gid < 0 or not phases or model.groups.next_meeting[gid] > week:
        return 0
    phase = phases[0]
    model.groups.next_meeting[gid] = week + max(1, round(52 / phase.cross_group_meetings_per_year))
    felt = model.firms.felt_value
    delegates = []
    for group in model.alive_groups():
        ranked = sorted(model.rosters.members(group), key=lambda row: (-felt[row], row))
        delegates.extend(ranked[: phase.delegates_per_group])
    if len(delegates) < 2:
        return 0
    rows = np.array(sorted(delegates), dtype=np.int64)
    return hold(model, week, np.array([gid]), np.array([0, len(rows)]), rows, "network")


def hold(model: ModelShape, week: int, due: np.ndarray, ptr: np.ndarray, rows: np.ndarray,
         stream: str) -> int:
    """Attendance, meetings, learning, trust and felt value for the groups ``due``
    with members ``rows[ptr[k]:ptr[k+1]]``; draws from streams named after ``stream``.
    Returns the number of firms that attended."""
    g, f, t = model.groups, model.firms, model.ties
    roster = Roster(due, ptr, rows, np.zeros(len(rows), dtype=np.bool_))
    k = model.kernels
    p = model.params.meeting
    k.attend_meetings(p, roster, g.columns(), f.columns(), t.columns(), t.index,
                      model.streams.weekly(f"{stream}.attendance", week))
    human = model.decisions if stream == "meetings" and model.decisions.for_meetings() else None
    if human is not None:  # workshop mode (docs/odd.md 7.13); never in a plain run
        decisions.force_attendance(human, rows, roster.attend)
        decisions.mark_raised(human, model.firm_scratch.raised)
    sizes = np.diff(ptr)
    n_due = len(due)
    lesson_room = int((sizes * sizes).sum() + 16 * sizes.sum()) + 1
    if human is not None:
        lesson_room += 2 * len(human.partner)
    model.scratch.ensure_meetings(n_due, len(rows), lesson_room)
    model.events.buffer.room_for(MAX_EVENTS_PER_MEETING * n_due)
    model.ventures.grow_to(model.ventures.n + MAX_VENTURES_PER_MEETING * n_due)
    vm = model.venture_members
    vm.grow_to(vm.n + MAX_VENTURE_MEMBERS_PER_MEETING * n_due)
    m, v, ev, sc = model.firms, model.ventures, model.events.buffer, model.scratch
    value, raised = model.firm_scratch.value, model.firm_scratch.raised
    value[rows] = p.peer_value
    n_meet, n_les, v.n, vm.n, ev.n = k.hold_meetings(
        week, p, roster, g.columns(), f.columns(), model.firm_scratch.columns(), t.columns(),
        t.index, model.streams.weekly(f"{stream}.activities", week), sc.columns(),
        (v.columns(), v.n, vm.columns(), vm.n), (ev.columns(), ev.n))
    model.events.take()
    talked: list[tuple[int, int, float]] = []
    if human is not None:
        decisions.mark_raised(human, raised, -1)
        n_les, talked = decisions.conversations(model, human, week, n_meet, n_les)
        decisions.agreed_ventures(model, human, week, n_meet)
    k.exchange_knowledge(n_les, *sc.lessons, p.peak_gap, p.value_per_knowledge, m.knowledge, value)
    attendees = sc.meet_rows[: sc.meet_ptr[n_meet]]
    groups_met = sc.meet_group[:n_meet]
    tp = model.params.trust
    gain = tp.meeting_gain * p.trust_by_mode[g.mode[groups_met]]
    t.grow_to(t.n + int((sizes * sizes).sum()))
    t.n = k.strengthen_ties(week, n_meet, sc.columns(), gain, tp.visit_gain, t.columns(), t.index,
                            t.n)
    decisions.conversation_trust(model, week, talked)
    got = np.minimum(value[attendees], 1.0)
    attendee_groups = np.repeat(groups_met, np.diff(sc.meet_ptr[: n_meet + 1]))
    membership.update_felt_value(model, got, attendees, attendee_groups,
                                 rows if stream == "meetings" else attendees)
    m.support[attendees] += p.support_gain * (got - m.support[attendees])
    m.meetings_attended[attendees] += 1
    owner_time.meeting_time(model, attendees, attendee_groups, stream == "network")
    return len(attendees)


def between_meetings(model: ModelShape, result: WeekResult) -> None:
    """Step 4: introductions and good-practice reading, exchange on group channels (one
    post a week per group), then trust decay.

    Channel learning changes knowledge only; the value members feel comes from meetings.
    """
    week = result.week
    outreach.introductions(model, result)
    outreach.good_practice(model, week)
    g, f, t = model.groups, model.firms, model.ties
    alive = model.alive_groups()
    sizes = np.array([model.rosters.size(gid) for gid in alive], dtype=np.int64)
    groups = alive[g.channel[alive] & (sizes > 1)]
    p = model.params.meeting
    if len(groups):
        ptr, rows = model.rosters.lists(groups)
        rng = model.streams.weekly("channel", week)
        posters = rows[ptr[:-1] + rng.integers(0, np.diff(ptr))]
        sc = model.scratch
        sc.ensure_meetings(0, 0, len(rows))
        les = sc.lessons
        n = model.kernels.channel_lessons(groups, ptr, rows, posters, f.columns(), t.index, t.trust,
                                          p.channel_rate, p.stranger_trust, p.competitor_sharing, les)
        model.kernels.exchange_knowledge(n, *les, p.peak_gap, p.value_per_knowledge, f.knowledge,
                                         model.firm_scratch.value)
    tp = model.params.trust
    model.kernels.decay_ties(week, t.n, tp.decay, tp.dormant, t.trust, t.last_week, t.ventures)


def joint_ventures(model: ModelShape, result: WeekResult) -> None:
    """Step 5: every active venture runs a week (failing more often in a crisis), its
    members paying their shares of its cost; log the ones that end."""
    v, f, t, week = model.ventures, model.firms, model.ties, result.week
    before = v.status[: v.n].copy()
    u = model.streams.uniforms("ventures", week, v.n, model.threads)
    result.venture_cost = model.kernels.update_ventures(
        week, v.n, model.params.trust, result.demand, v.columns(), model.venture_members.columns(),
        f.columns(), t.columns(), u)
    ventures.log_endings(model, week, before)


def accounting(model: ModelShape, result: WeekResult) -> None:
    """Step 7: the week's costs into the ledger."""
    for payer, item, eur in result.costs:
        model.ledger.spend(payer, item, eur)
