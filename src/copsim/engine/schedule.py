"""The weekly schedule, one function per DESIGN.md step, in this order:

1. ``environment_and_business``: demand with shocks; revenue, cost, cash, exits
   (exited firms leave their group at once), problems, hiring, innovation (kernel
   ``update_business``); entrants.
2. ``support``: groups starting this week; funding phases set each group's
   facilitation, outside knowledge and recruitment effort.
3. ``meetings``: attendance, then the meetings of groups whose cadence falls due
   (host, theme, Wenger's activities, ventures), knowledge exchange, trust.
4. ``between_meetings``: light exchange on group channels; trust decay.
5. ``joint_ventures``: uplift, endings and failures, trust feedback.
6. ``membership``: leaving by choice, recruitment, founding and dissolution of groups.
7. ``accounting``: every euro of the week into the ledger.

Each function gathers arrays, draws from named streams, calls kernels through
``model.kernels`` and applies results; none of them holds state of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from copsim.engine import decisions
from copsim.dtypes import GroupMode, EventKind, enum_names
from copsim.engine.funding import (
    NO_SUPPORT, Support, covering_phases, fixed_costs, founding_allowed, group_support,
)
from copsim.engine.kernels.business import (
    F_EXIT, F_HIRE, F_INNOVATION, F_INNOVATION_OK, F_SOLVED, N_BUSINESS_UNIFORMS,
)
from copsim.engine.kernels.meetings import MAX_EVENTS_PER_MEETING, MAX_VENTURES_PER_MEETING
from copsim.engine.population import add_firms, entrant_regions

if TYPE_CHECKING:
    from copsim.engine.model import CopModel

MODES = enum_names(GroupMode)
LEAVE_CHOICE, LEAVE_EXIT, LEAVE_DISSOLVED = 0, 1, 2  # value of LEAVE events


def demand(model: CopModel, week: int) -> np.ndarray:
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


def environment_and_business(model: CopModel, week: int) -> None:
    """Step 1: the business year of every firm, then this week's entrants."""
    f = model.firms
    n = f.n
    model.demand = demand(model, week)
    u = model.streams.generator("business", week).random((n, N_BUSINESS_UNIFORMS))
    model.kernels.update_business(
        week, n, model.business_params, model.demand, u, f.region, f.sector, f.firm_type,
        f.employees, f.knowledge, f.knowledge_start, f.problem_topic, f.problem_severity,
        f.confidence, f.confidence_base, f.wellbeing, f.cash, f.revenue_base, f.revenue, f.cost,
        f.alive, f.exit_week, f.group, f.felt_value, f.hire_readiness, f.innovation_boost,
        f.venture_uplift, model.flags)
    log_business_events(model, week, n)
    regions = entrant_regions(model.scenario, model.streams.generator("entry", week))
    if len(regions):
        rows = add_firms(f, model.scenario, regions, week, model.streams.generator("entry.firms", week))
        model.grow_scratch(f.n)
        model.on_firms_added(rows, week)


def log_business_events(model: CopModel, week: int, n: int) -> None:
    """Events from the business flags: exits of every firm, other news of members."""
    f, flags, log = model.firms, model.flags[:n], model.events
    group = f.group[:n]
    exits = np.flatnonzero(flags & F_EXIT)
    log.add_many(week, EventKind.EXIT, exits, group=group[exits], value=f.cash[exits])
    member = group >= 0
    solved = np.flatnonzero((flags & F_SOLVED != 0) & member)
    log.add_many(week, EventKind.PROBLEM_SOLVED, solved, group=group[solved])
    hired = np.flatnonzero((flags & F_HIRE != 0) & member)
    log.add_many(week, EventKind.HIRE, hired, group=group[hired], value=f.employees[hired])
    tried = np.flatnonzero((flags & F_INNOVATION != 0) & member)
    log.add_many(week, EventKind.INNOVATION, tried, group=group[tried],
                 value=(flags[tried] & F_INNOVATION_OK != 0).astype(float))
    model.exited_this_week = exits
    for row in model.exited_this_week:
        if model.firms.group[row] >= 0:
            model.leave(int(row), week, LEAVE_EXIT)


def support(model: CopModel, week: int) -> None:
    """Step 2: start groups due to start, and set each group's funded support."""
    g = model.groups
    for gid in np.flatnonzero(~g.started[: g.n] & ~g.is_network[: g.n] & (g.start_week[: g.n] <= week)):
        model.start_group(int(gid), week)
    levers = model.levers
    model.week_costs = list(fixed_costs(model.scenario, week))
    model.facilitator_hours = {}
    supports: dict[tuple[int, ...], Support] = {}  # groups under the same phases get the same
    for gid in model.alive_groups():
        phases = covering_phases(model.scenario, week, week - int(g.start_week[gid]))
        key = tuple(map(id, phases))
        if key not in supports:
            supports[key] = (group_support(model.scenario, phases, levers.hours_scale, levers.skill)
                             if phases else NO_SUPPORT)
        sup = supports[key]
        g.facilitation[gid] = sup.facilitation
        g.outside_knowledge[gid] = sup.outside_knowledge
        g.recruitment_hours[gid] = sup.recruitment_hours
        model.week_costs.extend(sup.costs)
        for key, hours, recruit in sup.hours:
            before = model.facilitator_hours.get(key, (0.0, 0.0))
            model.facilitator_hours[key] = (before[0] + hours, before[1] + recruit)
        if g.venue_eur_per_week[gid] > 0:
            model.week_costs.append((model.venue_payer[gid], "venue", float(g.venue_eur_per_week[gid])))
        if levers.mode is not None:
            g.mode[gid] = MODES.index(levers.mode)
        if levers.cadence_weeks is not None:
            g.cadence[gid] = levers.cadence_weeks
    if model.network_group >= 0:
        calendar = [p for p in covering_phases(model.scenario, week, -1) if p.basis == "calendar"]
        sup = group_support(model.scenario, calendar, levers.hours_scale, levers.skill)
        g.facilitation[model.network_group] = sup.facilitation
        g.outside_knowledge[model.network_group] = sup.outside_knowledge


def member_lists(model: CopModel, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR of the members of ``groups`` in row order: (ptr, rows)."""
    lists = [sorted(model.members[g]) for g in groups]
    ptr = np.zeros(len(groups) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(x) for x in lists])
    rows = np.fromiter((r for x in lists for r in x), dtype=np.int64, count=int(ptr[-1]))
    return ptr, rows


def meetings(model: CopModel, week: int) -> None:
    """Step 3: the meetings of every group whose cadence falls due this week, then the
    cross-group network meeting if one is due."""
    g = model.groups
    alive = model.alive_groups()
    due = alive[g.next_meeting[alive] <= week]
    model.met_this_week = np.zeros(0, dtype=np.int64)
    model.attendance = 0
    if len(due):
        g.next_meeting[due] = week + g.cadence[due]
        ptr, rows = member_lists(model, due)
        hold(model, week, due, ptr, rows, "meetings")
    network_meeting(model, week)


def network_meeting(model: CopModel, week: int) -> None:
    """A cross-group meeting of delegates from every living group, when a calendar
    phase funds them: the most satisfied members of each group, hosted in turn."""
    gid = model.network_group
    phases = [p for p in model.scenario.funding.phases
              if p.basis == "calendar" and p.covers(week) and p.cross_group_meetings_per_year > 0]
    if gid < 0 or not phases or model.groups.next_meeting[gid] > week:
        return
    phase = phases[0]
    model.groups.next_meeting[gid] = week + max(1, round(52 / phase.cross_group_meetings_per_year))
    felt = model.firms.felt_value
    delegates = []
    for group in model.alive_groups():
        ranked = sorted(model.members[group], key=lambda row: (-felt[row], row))
        delegates.extend(ranked[: phase.delegates_per_group])
    if len(delegates) < 2:
        return
    rows = np.array(sorted(delegates), dtype=np.int64)
    hold(model, week, np.array([gid]), np.array([0, len(rows)]), rows, "network")


def hold(model: CopModel, week: int, due: np.ndarray, ptr: np.ndarray, rows: np.ndarray,
         stream: str) -> None:
    """Attendance, meetings, learning, trust and felt value for the groups ``due``
    with members ``rows[ptr[k]:ptr[k+1]]``; draws from streams named after ``stream``."""
    g, f, t = model.groups, model.firms, model.ties
    attend = np.zeros(len(rows), dtype=np.bool_)
    k = model.kernels
    k.attend_meetings(model.meeting_params, due, ptr, rows, g.mode, g.facilitation, f.region,
                      f.firm_type, f.cash, f.felt_value, t.index, t.trust,
                      model.streams.generator(f"{stream}.attendance", week), attend)
    human = model.decisions if stream == "meetings" and model.decisions.for_meetings() else None
    if human is not None:  # workshop mode (docs/odd.md 7.13); never in a plain run
        decisions.force_attendance(human, rows, attend)
        decisions.mark_raised(human, model.raised)
    sizes = np.diff(ptr)
    n_due = len(due)
    lesson_room = int((sizes * sizes).sum() + 16 * sizes.sum()) + 1
    if human is not None:
        lesson_room += 2 * len(human.partner)
    model.scratch.ensure_meetings(n_due, len(rows), lesson_room)
    model.events.buffer.room_for(MAX_EVENTS_PER_MEETING * n_due)
    model.ventures.grow_to(model.ventures.n + MAX_VENTURES_PER_MEETING * n_due)
    m, v, ev, sc = model.firms, model.ventures, model.events.buffer, model.scratch
    value = model.value
    value[rows] = model.scenario.membership.peer_value
    n_meet, n_les, v.n, ev.n = k.hold_meetings(
        week, model.meeting_params, due, ptr, rows, attend, g.mode, m.last_hosted, g.memory,
        g.facilitation, g.outside_knowledge, g.expert_knowledge, m.knowledge, m.problem_topic,
        model.raised, m.problem_severity, m.assets, m.assets_revealed, m.confidence, m.employees,
        m.hire_readiness, m.innovation_boost, m.sector, value, t.index, t.trust, t.ventures,
        (v.a, v.b, v.kind, v.start_week, v.uplift), v.n,
        model.streams.generator(f"{stream}.activities", week),
        sc.meet_ptr, sc.meet_rows, sc.meet_group, sc.meet_host, sc.meet_visit,
        (sc.les_learner, sc.les_topic, sc.les_level, sc.les_weight),
        (ev.week, ev.kind, ev.group, ev.firm, ev.other, ev.activity, ev.topic, ev.value), ev.n)
    model.events.take()
    talked: list[tuple[int, int, float]] = []
    if human is not None:
        decisions.mark_raised(human, model.raised, -1)
        n_les, talked = decisions.conversations(model, human, week, n_meet, n_les)
        decisions.agreed_ventures(model, human, week, n_meet)
    k.exchange_knowledge(n_les, sc.les_learner, sc.les_topic, sc.les_level, sc.les_weight,
                         model.scenario.learning.peak_gap, m.knowledge, value)
    attendees = sc.meet_rows[: sc.meet_ptr[n_meet]]
    groups_met = sc.meet_group[:n_meet]
    gain = model.scenario.trust.meeting_gain * model.meeting_params.trust_by_mode[g.mode[groups_met]]
    t.grow_to(t.n + int((sizes * sizes).sum()))
    t.n = k.strengthen_ties(week, n_meet, sc.meet_ptr, sc.meet_rows, gain, sc.meet_host,
                            sc.meet_visit, model.scenario.activities["visits"].effect, t.index,
                            t.src, t.dst, t.trust, t.last_week, t.n)
    decisions.conversation_trust(model, week, talked)
    alpha = model.scenario.membership.felt_value_memory
    m.felt_value[attendees] = (1 - alpha) * m.felt_value[attendees] + alpha * np.minimum(value[attendees], 1.0)
    m.meetings_attended[attendees] += 1
    model.met_this_week = np.concatenate([model.met_this_week, attendees])
    model.attendance += len(attendees)


def between_meetings(model: CopModel, week: int) -> None:
    """Step 4: exchange on group channels (one post a week per group), then trust decay.

    Channel learning changes knowledge only; the value members feel comes from meetings.
    """
    g, f, t = model.groups, model.firms, model.ties
    alive = model.alive_groups()
    sizes = np.array([len(model.members[gid]) for gid in alive], dtype=np.int64)
    groups = alive[g.channel[alive] & (sizes > 1)]
    if len(groups):
        ptr, rows = member_lists(model, groups)
        rng = model.streams.generator("channel", week)
        posters = rows[ptr[:-1] + rng.integers(0, np.diff(ptr))]
        sc = model.scratch
        sc.ensure_meetings(0, 0, len(rows))
        les = (sc.les_learner, sc.les_topic, sc.les_level, sc.les_weight)
        learning = model.scenario.learning
        n = model.kernels.channel_lessons(groups, ptr, rows, posters, f.knowledge, t.index, t.trust,
                                          learning.rate * learning.online_channel_rate,
                                          learning.stranger_trust, les)
        model.kernels.exchange_knowledge(n, *les, learning.peak_gap, f.knowledge, model.value)
    model.kernels.decay_ties(week, t.n, model.scenario.trust.decay_per_week, t.trust, t.last_week,
                             t.ventures)


def joint_ventures(model: CopModel, week: int) -> None:
    """Step 5: every active venture runs a week; log the ones that end."""
    v, f, t = model.ventures, model.firms, model.ties
    f.venture_uplift[: f.n] = 0.0
    before = v.status[: v.n].copy()
    u = model.streams.uniforms("ventures", week, v.n)
    model.kernels.update_ventures(week, v.n, model.trust_params, v.a, v.b, v.uplift, v.status,
                                  v.end_week, f.alive, t.index, t.trust, t.last_week, t.ventures,
                                  f.venture_uplift, u)
    for vid in np.flatnonzero(before != v.status[: v.n]):
        kind = EventKind.VENTURE_FAILED if v.status[vid] == 2 else EventKind.VENTURE_ENDED
        model.events.add(week, kind, group=int(f.group[v.a[vid]]), firm=int(v.a[vid]),
                         other=int(v.b[vid]), value=float(v.kind[vid]))


def membership(model: CopModel, week: int) -> None:
    """Step 6: dissatisfied members leave; recruitment; founding; dissolution."""
    f, s = model.firms, model.scenario
    ms = s.membership
    members = np.flatnonzero(f.group[: f.n] >= 0)
    u = model.streams.generator("membership.leave", week).random(len(members))
    leaving = members[(week - f.join_week[members] >= ms.grace_weeks)
                      & (f.felt_value[members] < ms.leave_threshold) & (u < ms.leave_rate_per_week)]
    for row in leaving:
        if int(row) not in model.decisions.players:  # people leave only by exit (7.13)
            model.leave(int(row), week, LEAVE_CHOICE)
    recruit(model, week)
    if week % s.founding.check_every_weeks == 0 and founding_allowed(s, week):
        model.found_groups(week)
    dissolve_small_groups(model, week)


def recruit(model: CopModel, week: int) -> None:
    """Funded recruiters and satisfied members invite firms of the group's region."""
    g, f, ms = model.groups, model.firms, model.scenario.membership
    rng = model.streams.generator("membership.recruit", week)
    for gid in model.alive_groups():
        members = model.members[gid]
        satisfied = sum(1 for row in members if f.felt_value[row] >= 0.6)
        expected = (g.recruitment_hours[gid] * ms.recruits_per_hour * model.levers.recruitment_scale
                    + satisfied * ms.word_of_mouth_per_week)
        invites = int(rng.poisson(expected)) if expected > 0 else 0
        for _ in range(invites):
            if len(members) >= ms.max_size:
                break
            row = model.candidate(int(g.region[gid]), rng)
            if row >= 0 and rng.random() < min(1.0, ms.acceptance * (1.5 if f.problem_topic[row] >= 0 else 1.0)):
                model.join(row, gid, week)


def dissolve_small_groups(model: CopModel, week: int) -> None:
    """Groups below critical mass for a whole cadence, or past their end week, dissolve."""
    g, ms = model.groups, model.scenario.membership
    for gid in model.alive_groups():
        small = len(model.members[gid]) < ms.critical_mass
        g.weeks_small[gid] = g.weeks_small[gid] + 1 if small else 0
        ended = 0 <= g.end_week[gid] <= week + 1
        if g.weeks_small[gid] >= g.cadence[gid] or ended:
            model.dissolve_group(int(gid), week)


def accounting(model: CopModel, week: int) -> None:
    """Step 7: the week's costs into the ledger."""
    spent = 0.0
    for payer, item, eur in model.week_costs:
        model.ledger.spend(payer, item, eur)
        spent += eur
    model.cost_week = spent
