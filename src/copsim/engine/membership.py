"""Membership: joining, leaving, recruitment, founding and dissolving of groups.

The only module that changes who belongs to which group. A firm's group is the
column ``firms.group`` (what kernels read); :class:`~copsim.engine.state.Rosters`
indexes it by group so the weekly rules need not scan every firm (a scan of a
million firms costs about a millisecond, several times a week). Both are written
here only, by :func:`join` and :func:`leave`, and every change is logged as an event.
"""

from __future__ import annotations

import numpy as np

from copsim.dtypes import INT, EventKind
from copsim.engine.contacts import contacts_of
from copsim.engine.funding import founding_allowed
from copsim.engine.shape import ModelShape
from copsim.engine.week import WeekResult
from copsim.scenario.schema import GroupSpec

LEAVE_CHOICE, LEAVE_EXIT, LEAVE_DISSOLVED = 0, 1, 2  # value of LEAVE events


# -- one firm --------------------------------------------------------------------------


def join(model: ModelShape, row: int, gid: int, week: int) -> None:
    """A firm joins a group and inherits part of its documented memory."""
    f, s = model.firms, model.scenario
    f.group[row] = gid
    f.join_week[row] = week
    f.felt_value[row] = s.membership.initial_felt_value
    f.ever_member[row] = True
    gap = np.maximum(model.groups.memory[gid] - f.knowledge[row], 0.0)
    f.knowledge[row] += s.activities["documentation"].effect * gap
    model.rosters.add(row, gid)
    model.events.add(week, EventKind.JOIN, group=gid, firm=row)


def leave(model: ModelShape, row: int, week: int, reason: int) -> None:
    """A firm leaves its group (value of the LEAVE event: 0 choice, 1 exit, 2 dissolved)."""
    gid = int(model.firms.group[row])
    model.rosters.remove(row, gid)
    model.firms.group[row] = -1
    model.events.add(week, EventKind.LEAVE, group=gid, firm=row, value=reason)


def leave_on_exit(model: ModelShape, exited: np.ndarray, week: int) -> None:
    """Members among the firms that exited this week leave their group at once."""
    for row in exited:
        if model.firms.group[row] >= 0:
            leave(model, int(row), week, LEAVE_EXIT)


def candidate(model: ModelShape, region: int, rng: np.random.Generator) -> int:
    """A random living non-member firm of the region (-1 if none found in
    ``membership.recruit_tries`` draws)."""
    rows = model.region_rows[region]
    f = model.firms
    for _ in range(model.scenario.membership.recruit_tries):
        row = int(rows[int(rng.integers(0, len(rows)))])
        if f.alive[row] and f.group[row] < 0:
            return row
    return -1


# -- groups ----------------------------------------------------------------------------


def start_group(model: ModelShape, gid: int, week: int, candidates: list[int] | None = None) -> None:
    """Open a group and recruit its first members: the listed firms, or a draw.

    The draw is among the region's living non-members that were in business before
    this week (entrants of the start week are not yet known to the programme), from
    the spec's sectors; with ``selection = "problem_first"`` a firm with a problem
    has weight ``membership.founding_problem_weight``, with ``"uniform"`` every such
    firm the same.
    """
    g, f = model.groups, model.firms
    g.started[gid] = True
    g.alive[gid] = True
    g.next_meeting[gid] = week
    model.events.add(week, EventKind.GROUP_FOUNDED, group=gid)
    wanted = model.initial_members[gid]
    spec = model.group_specs[gid]
    if spec is not None and spec.members is not None:
        for row in spec.members:
            if row < f.n and f.alive[row] and f.group[row] < 0:
                join(model, row, gid, week)
        return
    if candidates is None:
        pool = np.array(model.region_rows[int(g.region[gid])], dtype=INT)
        eligible = f.alive[pool] & (f.group[pool] < 0) & (f.born_week[pool] < week)
        if spec is not None and spec.sectors:
            names = [x.name for x in model.scenario.environment.sectors]
            eligible &= np.isin(f.sector[pool], [names.index(x) for x in spec.sectors])
        candidates = pool[eligible].tolist()
    if not candidates or wanted == 0:
        return
    rng = model.streams.generator(f"groups.start.{gid}", week)
    uniform = spec is not None and spec.selection == "uniform"
    weight = 1.0 if uniform else model.scenario.membership.founding_problem_weight
    weights = np.where(f.problem_topic[candidates] >= 0, weight, 1.0)
    chosen = rng.choice(len(candidates), size=min(wanted, len(candidates)), replace=False,
                        p=weights / weights.sum())
    for i in sorted(chosen.tolist()):
        join(model, candidates[i], gid, week)


def start_due_groups(model: ModelShape, week: int) -> None:
    """Start the scenario's groups whose start week has come; end those whose end week has."""
    g = model.groups
    for gid in np.flatnonzero(~g.started[: g.n] & ~g.is_network[: g.n] & (g.start_week[: g.n] <= week)):
        start_group(model, int(gid), week)
    alive = model.alive_groups()
    ending = alive[(g.end_week[alive] >= 0) & (g.end_week[alive] <= week)]
    for gid in ending.tolist():  # the programme has ended: no meeting in its end week
        dissolve_group(model, gid, week)


def found_groups(model: ModelShape, week: int) -> None:
    """Found groups in regions without one where enough firms have a problem."""
    s = model.scenario
    fs, f, g = s.founding, model.firms, model.groups
    founded = int(g.started[: g.n].sum()) - sum(1 for x in s.groups if x.start_week <= week)
    n = f.n
    interested = f.alive[:n] & (f.group[:n] < 0) & (f.problem_topic[:n] >= 0)
    counts = np.bincount(f.region[:n][interested], minlength=len(s.regions))
    covered = set(g.region[model.alive_groups()].tolist())
    for region in np.argsort(-counts, kind="stable"):
        if founded >= fs.max_new_groups or counts[region] < fs.min_interested:
            break
        if region in covered:
            continue
        name = f"{s.regions[region].name} (founded week {week})"
        spec = GroupSpec(name=name, region=s.regions[region].name, mode=fs.mode,
                         cadence_weeks=fs.cadence_weeks, start_week=week,
                         initial_members=fs.founding_members)
        gid = model.add_group(spec)
        region_rows = model.region_rows[region]
        pool = region_rows[interested[region_rows]].tolist()
        start_group(model, gid, week, pool)
        founded += 1


def dissolve_group(model: ModelShape, gid: int, week: int) -> None:
    """Close a group; its members leave."""
    for row in model.rosters.members(gid):
        leave(model, row, week, LEAVE_DISSOLVED)
    model.groups.alive[gid] = False
    model.events.add(week, EventKind.GROUP_DISSOLVED, group=gid)


# -- the weekly step -------------------------------------------------------------------


def update_felt_value(model: ModelShape, got: np.ndarray, attendees: np.ndarray,
                      groups: np.ndarray, expected: np.ndarray) -> None:
    """Felt value is a net benefit: attendees weigh in what they ``got`` from the meeting
    (of ``groups``, one per attendee) less its time and travel; members ``expected`` who
    did not come (or whose meeting was cancelled) feel it slip towards 0 (docs/odd.md 7.9)."""
    f, p, mp = model.firms, model.scenario.membership, model.params.meeting
    alpha = p.felt_value_memory
    travel = mp.sparsity_by_region[f.region[attendees]] * mp.travel_by_mode[model.groups.mode[groups]]
    net = np.clip(got - p.time_cost - p.travel_cost * travel, 0.0, 1.0)
    f.felt_value[attendees] = (1 - alpha) * f.felt_value[attendees] + alpha * net
    absent = expected[~np.isin(expected, attendees)]
    f.felt_value[absent] *= 1.0 - alpha * p.absence_weight


def weekly(model: ModelShape, result: WeekResult) -> None:
    """Step 6: at their group's meeting dates dissatisfied members may leave; recruitment;
    founding; dissolution."""
    week = result.week
    leave_at_meeting_dates(model, week, result.due)
    recruit(model, week)
    s = model.scenario
    if week % s.founding.check_every_weeks == 0 and founding_allowed(s, week):
        found_groups(model, week)
    dissolve_small_groups(model, week, result.due)


def leave_at_meeting_dates(model: ModelShape, week: int, due: np.ndarray) -> None:
    """Members of the groups ``due`` to meet this week, past their grace period and feeling
    little value, leave with a chance per meeting date (uniform by member row; people do
    not: 7.13)."""
    f, p = model.firms, model.scenario.membership
    members = np.flatnonzero(np.isin(f.group[: f.n], due)) if len(due) else np.zeros(0, dtype=INT)
    u = model.streams.weekly("membership.leave", week).random(len(members))
    leaving = members[(week - f.join_week[members] >= p.grace_weeks)
                      & (f.felt_value[members] < p.leave_threshold)
                      & (u < p.leave_probability_per_meeting)]
    for row in leaving:
        if int(row) not in model.decisions.players:
            leave(model, int(row), week, LEAVE_CHOICE)


def recruit(model: ModelShape, week: int) -> None:
    """Funded recruiters invite random firms of the group's region; satisfied members
    invite their contacts (business contacts and firms they have a tie with)."""
    g, f, p = model.groups, model.firms, model.scenario.membership
    rng = model.streams.weekly("membership.recruit", week)
    for gid in model.alive_groups():
        expected = g.recruitment_hours[gid] * p.invitations_per_hour * model.levers.recruitment_scale
        invites = int(rng.poisson(expected)) if expected > 0 else 0
        invited = [candidate(model, int(g.region[gid]), rng) for _ in range(invites)]
        members = model.rosters.members(gid)
        size = len(members)
        for row in members:
            if f.felt_value[row] >= p.satisfied_felt_value and rng.random() < p.word_of_mouth_per_week:
                invited.append(contact(model, row, rng))
        for row in invited:
            if size >= p.max_size:
                break
            if row >= 0 and f.group[row] < 0 and rng.random() < min(1.0, p.acceptance * (
                    p.problem_acceptance_factor if f.problem_topic[row] >= 0 else 1.0)):
                join(model, row, int(gid), week)
                size += 1


def contact(model: ModelShape, row: int, rng: np.random.Generator) -> int:
    """A random living non-member among the contacts of ``row`` (its business contacts and
    the firms it has a tie with); -1 if it has none."""
    f = model.firms
    others = contacts_of(model, row)
    others = others[f.alive[others] & (f.group[others] < 0)]
    return int(others[rng.integers(0, len(others))]) if len(others) else -1


def dissolve_small_groups(model: ModelShape, week: int, due: np.ndarray) -> None:
    """Groups below critical mass at several meeting dates in a row (counted at the
    dates ``due`` this week) dissolve (ended groups: start_due_groups)."""
    g, p = model.groups, model.scenario.membership
    due_now = set(due.tolist())
    for gid in model.alive_groups():
        if gid in due_now:
            small = model.rosters.size(gid) < p.critical_mass
            g.small_meetings[gid] = g.small_meetings[gid] + 1 if small else 0
        if g.small_meetings[gid] >= p.small_meetings_to_dissolve:
            dissolve_group(model, int(gid), week)
