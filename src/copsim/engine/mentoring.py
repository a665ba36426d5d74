"""Mentoring pairs: an experienced entrepreneur with a newer one (docs/odd.md 7.18).

A group with ``mentoring`` pairs each member who has not had all its sessions with a
mentor: another member (``peers``, eKollega's peer mentoring) or a firm of the region
outside every group (``local``, the experienced local entrepreneurs of Brooks, Donovan &
Johnson 2018, in the mentee's sector). A mentor has more entrepreneurial experience and
more knowledge than the mentee (by set margins) and room for another mentee; among those, the most knowledgeable
(lowest row on a tie) takes the least experienced mentee first. Pairing draws nothing.

A pair meets every ``mentoring_cadence_weeks`` from the week it forms and ends after
``mentoring_sessions`` sessions, when either firm exits, when the mentee leaves the
group (or the group ends), or, for peers, when the mentor does. What a session does is
the kernel :func:`copsim.engine.kernels.mentoring.hold_sessions`; a session also builds
trust between the two like a meeting of the group's mode. Both firms' hours go into the
participants' time account (:mod:`copsim.engine.owner_time`), mentors' and mentees' as
items of their own: nobody pays the mentors, so their time is not in the funders' ledger.
"""

from __future__ import annotations

import numpy as np

from copsim.dtypes import INT, EventKind
from copsim.engine import owner_time
from copsim.engine.kernels.mentoring import N_SESSION_UNIFORMS
from copsim.engine.scratch import MeetingScratch
from copsim.engine.shape import ModelShape
from copsim.engine.week import WeekResult
from copsim.scenario.schema import WEEKS_PER_YEAR, GroupSpec


def has_mentoring(model: ModelShape) -> bool:
    """Whether any of the scenario's groups mentors (founded groups never do)."""
    return any(spec.mentoring != "none" for spec in model.scenario.groups)


def draw_experience(model: ModelShape, rows: np.ndarray) -> None:
    """Entrepreneurial experience of the initial firms' owners: exponential, own stream."""
    mean = model.scenario.firms.experience_mean_years
    rng = model.streams.generator("init.experience")
    model.firms.experience_start[rows] = rng.exponential(mean, len(rows)) if mean > 0 else 0.0


def experience(model: ModelShape, rows: np.ndarray, week: int) -> np.ndarray:
    """Years of experience of the owners of ``rows`` in ``week`` (a year a year in business)."""
    f = model.firms
    return f.experience_start[rows] + (week - np.maximum(f.born_week[rows], 0)) / WEEKS_PER_YEAR


def mentoring_spec(model: ModelShape, row: int) -> GroupSpec | None:
    """The spec of the firm's group if that group mentors, else None."""
    gid = int(model.firms.group[row])
    spec = model.group_specs[gid] if gid >= 0 else None
    return spec if spec is not None and spec.mentoring != "none" else None


def weekly(model: ModelShape, result: WeekResult) -> None:
    """Step 3b: end pairs that are over, pair unpaired members, hold the due sessions."""
    if not has_mentoring(model):
        return
    week = result.week
    end_pairs(model)
    for gid in model.alive_groups():
        spec = model.group_specs[gid]
        if spec is not None and spec.mentoring != "none":
            form_pairs(model, int(gid), spec, week)
    hold_due_sessions(model, result)


def end_pairs(model: ModelShape) -> None:
    """Pairs end when either firm exits, the mentee is out of a mentoring group, a peer
    mentor left the mentee's group, or every session was held."""
    f = model.firms
    for row in np.flatnonzero(f.mentor[: f.n] >= 0).tolist():
        mentor = int(f.mentor[row])
        spec = mentoring_spec(model, row)
        if (spec is None or not f.alive[row] or not f.alive[mentor]
                or f.mentor_sessions[row] >= spec.mentoring_sessions
                or (spec.mentoring == "peers" and f.group[mentor] != f.group[row])):
            f.mentor[row] = -1


def candidates(model: ModelShape, gid: int, spec: GroupSpec) -> np.ndarray:
    """Rows that may mentor the group's members: its members (peers), or the region's
    living firms outside every group that are not mentees themselves (local)."""
    f = model.firms
    if spec.mentoring == "peers":
        return np.array(model.rosters.members(gid), dtype=INT)
    pool = np.array(model.region_rows[int(model.groups.region[gid])], dtype=INT)
    return pool[f.alive[pool] & (f.group[pool] < 0) & (f.mentor[pool] < 0)]


def form_pairs(model: ModelShape, gid: int, spec: GroupSpec, week: int) -> None:
    """Give every unpaired member with sessions to come a mentor, if one qualifies."""
    f, m = model.firms, model.scenario.mentoring
    members = np.array(model.rosters.members(gid), dtype=INT)
    waiting = members[(f.mentor[members] < 0) & (f.mentor_sessions[members] < spec.mentoring_sessions)]
    if not len(waiting):
        return
    pool = candidates(model, gid, spec)
    if not len(pool):
        return
    pool_experience = experience(model, pool, week)
    pool_knowledge = f.knowledge[pool].mean(axis=1)
    paired = f.mentor[: f.n]
    load = np.bincount(paired[paired >= 0], minlength=f.n)[pool]
    waiting_experience = experience(model, waiting, week)
    pool_sector = f.sector[pool]
    same_sector = spec.mentoring == "local" and m.local_same_sector
    for k in np.lexsort((waiting, waiting_experience)).tolist():
        row = int(waiting[k])
        fits = ((pool_experience >= waiting_experience[k] + m.min_experience_gap_years)
                & (pool_knowledge > f.knowledge[row].mean() + m.min_knowledge_gap)
                & (load < m.mentees_per_mentor) & (pool != row))
        if same_sector:
            fits &= pool_sector == f.sector[row]
        if not fits.any():
            continue
        choice = int(np.argmax(np.where(fits, pool_knowledge, -np.inf)))
        f.mentor[row] = pool[choice]
        f.mentor_next[row] = week
        load[choice] += 1


def hold_due_sessions(model: ModelShape, result: WeekResult) -> None:
    """Sessions of the pairs due this week: their effects, the mentee's lessons, both
    firms' time; then each pair's next date (a missed session is not made up)."""
    f, week = model.firms, result.week
    n = f.n
    mentees = np.flatnonzero((f.mentor[:n] >= 0) & (f.mentor_next[:n] <= week))
    if not len(mentees):
        return
    mentors = f.mentor[mentees].astype(INT)
    u = model.streams.weekly("mentoring.sessions", week).random((len(mentees), N_SESSION_UNIFORMS))
    held = np.zeros(len(mentees), dtype=np.bool_)
    solved = np.zeros(len(mentees), dtype=np.bool_)
    sc = model.scratch
    sc.ensure_meetings(0, 0, len(mentees))
    k = model.kernels
    n_les = k.hold_sessions(mentees, mentors, u, model.params.mentoring, f.columns(), held, solved,
                            *sc.lessons)
    k.exchange_knowledge(n_les, *sc.lessons, model.params.meeting.peak_gap, 0.0, f.knowledge,
                         model.firm_scratch.value)  # credits no meeting value (0 per unit)
    pair_ties(model, week, mentees[held], mentors[held])
    hours = model.scenario.mentoring.session_hours
    owner_time.charge(model, mentors[held], hours, "mentoring (mentors)")
    owner_time.charge(model, mentees[held], hours, "mentoring (mentees)")
    for row, mentor, was_held, was_solved in zip(mentees.tolist(), mentors.tolist(), held.tolist(),
                                                 solved.tolist(), strict=True):
        spec = mentoring_spec(model, row)
        assert spec is not None  # end_pairs left only pairs of mentoring groups
        f.mentor_next[row] = week + spec.mentoring_cadence_weeks
        if not was_held:
            continue
        f.mentor_sessions[row] += 1
        if f.mentor_sessions[row] >= spec.mentoring_sessions:
            f.mentor[row] = -1
        if was_solved:
            model.events.add(week, EventKind.PROBLEM_SOLVED, group=int(f.group[row]), firm=row,
                             other=mentor)


def pair_ties(model: ModelShape, week: int, mentees: np.ndarray, mentors: np.ndarray) -> None:
    """Each pair that met gains trust as two people at a meeting of their group's mode do
    (7.7; online sessions build less): the trust kernel sees every session as a meeting of two."""
    n = len(mentees)
    if not n:
        return
    sessions = MeetingScratch()
    sessions.ensure_meetings(n, 2 * n, 0)
    sessions.meet_ptr[: n + 1] = np.arange(0, 2 * n + 1, 2)
    sessions.meet_rows[: 2 * n] = np.column_stack([mentees, mentors]).ravel()
    t = model.ties
    t.grow_to(t.n + n)
    modes = model.groups.mode[model.firms.group[mentees]]
    gain = model.params.trust.meeting_gain * model.params.meeting.trust_by_mode[modes]
    t.n = model.kernels.strengthen_ties(week, n, sessions.columns(), gain, 0.0, t.columns(), t.index, t.n)
