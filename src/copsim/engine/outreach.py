"""The network beyond one group: a coordinator's introductions across groups and the
published good practice that any firm can read (docs/odd.md 7.15, 7.16).

Both run between meetings (schedule step 4), before trust decays. Choices are made by the
``outreach`` kernels; the trust, learning and ventures that follow go through the same
kernels and rules as meetings. Switching the ``brokering`` or ``documentation`` channel
off keeps every draw, cost and hour (so arms of ``copsim decompose`` stay paired) but the
introduced pairs or the readers get nothing from it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from copsim.dtypes import INT, EventKind, VentureKind
from copsim.engine import owner_time
from copsim.engine.funding import covering_phases, phase_hourly_rate
from copsim.engine.params import weekly_rate
from copsim.engine.shape import ModelShape
from copsim.engine.ventures import form_venture
from copsim.engine.week import WeekResult


class Pairs(NamedTuple):
    """Introduced pairs laid out as two-person meetings, for ``strengthen_ties``."""

    meet_ptr: np.ndarray
    meet_rows: np.ndarray
    meet_host: np.ndarray
    meet_visit: np.ndarray


def introductions(model: ModelShape, result: WeekResult) -> None:
    """The coordinator of a calendar phase with ``introductions_per_year`` introduces members
    of different groups (a Poisson number a week): trust, a lesson on the seeker's need and,
    with complementary assets, perhaps a shared-asset venture. Paid per introduction."""
    s, week = model.scenario, result.week
    phases = [p for p in covering_phases(s, week, -1)
              if p.basis == "calendar" and p.introductions_per_year > 0]
    alive = model.alive_groups()
    if not phases or len(alive) < 2:
        return
    phase = phases[0]
    ptr, rows = model.rosters.lists(alive)
    if len(rows) < 2:
        return
    rng = model.streams.weekly("brokering", week)
    n = int(rng.poisson(phase.introductions_per_year / 52))
    b = s.brokering
    seekers = rng.integers(0, len(rows), n)
    candidates = rng.integers(0, len(rows), (n, b.candidates))
    u = rng.random(n)
    row_group = np.repeat(np.arange(len(alive)), np.diff(ptr))
    f, t = model.firms, model.ties
    partner, topic = np.zeros(n, dtype=INT), np.zeros(n, dtype=INT)
    level, complementary = np.zeros(n), np.zeros(n, dtype=np.bool_)
    made = model.kernels.match_introductions(
        seekers, candidates, rows, row_group, f.knowledge, f.problem_topic, f.assets, t.index,
        t.trust, s.trust.tie_threshold, partner, topic, level, complementary)
    if made == 0:
        return
    ok = partner >= 0
    a, bb = rows[seekers[ok]], partner[ok]
    result.costs.append((phase.payer, "brokering",
                         made * phase.hours_per_introduction * phase_hourly_rate(s, phase)))
    owner_time.charge(model, np.concatenate([a, bb]), s.owner_time.introduction_hours,
                      "introductions")
    for i, j, k, x in zip(a.tolist(), bb.tolist(), topic[ok].tolist(), level[ok].tolist(),
                          strict=True):
        model.events.add(week, EventKind.INTRODUCTION, group=int(f.group[i]), firm=i, other=j,
                         topic=k, value=x)
    if s.channels.brokering:
        venture = complementary[ok] & (u[ok] < b.venture_probability)
        _introduce(model, week, a, bb, topic[ok], level[ok], venture)


def _introduce(model: ModelShape, week: int, a: np.ndarray, b: np.ndarray, topic: np.ndarray,
               level: np.ndarray, venture: np.ndarray) -> None:
    """What introduced pairs get: trust as from a meeting of two, a lesson for the seeker
    (at its partner's level, weighted by their trust), and the ventures decided."""
    s, f, t, k = model.scenario, model.firms, model.ties, model.kernels
    n = len(a)
    pairs = Pairs(np.arange(0, 2 * n + 1, 2, dtype=INT), np.ravel(np.column_stack([a, b])),
                  np.full(n, -1, dtype=INT), np.zeros(n, dtype=np.bool_))
    t.grow_to(t.n + n)
    t.n = k.strengthen_ties(week, n, pairs, np.full(n, s.brokering.trust_gain), 0.0,
                            t.columns(), t.index, t.n)
    edges = np.array([t.edge(i, j) for i, j in zip(a.tolist(), b.tolist(), strict=True)],
                     dtype=INT)
    weight = s.learning.rate * s.brokering.learning_weight * t.trust[edges]
    mp = model.params.meeting
    k.exchange_knowledge(n, a, topic, level, weight, mp.peak_gap, mp.value_per_knowledge,
                         f.knowledge, model.firm_scratch.value)
    _ventures(model, week, a[venture], b[venture], edges[venture])


def _ventures(model: ModelShape, week: int, a: np.ndarray, b: np.ndarray,
              edges: np.ndarray) -> None:
    """Shared-asset ventures of introduced pairs (not on a tie that already carries one)."""
    for i, j, e in zip(a.tolist(), b.tolist(), edges.tolist(), strict=True):
        if model.ties.ventures[e] == 0:
            form_venture(model, week, i, [j], [e], VentureKind.SHARED_ASSET,
                         model.params.meeting.venture_uplift, group=int(model.firms.group[i]))


def published(model: ModelShape) -> np.ndarray:
    """The good practice on the network's website: the best documented level of each topic
    over every group that ever documented (its memory stays published after it closes)."""
    g = model.groups
    return g.memory[: g.n].max(axis=0) if g.n else np.zeros(g.memory.shape[1])


def good_practice(model: ModelShape, week: int) -> None:
    """While a calendar phase publishes it, firms, members or not, read the good practice
    (each with a chance of the phase's ``good_practice_reach_per_year`` a year) and learn
    from it on what they need, never above what is documented."""
    s, f = model.scenario, model.firms
    reach = max((p.good_practice_reach_per_year for p in covering_phases(s, week, -1)
                 if p.basis == "calendar"), default=0.0)
    docs = published(model)
    if reach <= 0 or not docs.any():
        return
    gp = s.good_practice
    rng = model.streams.weekly("good_practice", week)
    drawn = rng.integers(0, f.n, rng.binomial(f.n, weekly_rate(reach)))
    readers = np.unique(drawn)
    readers = readers[f.alive[readers]]
    owner_time.charge(model, readers, model.scenario.owner_time.reading_hours, "reading")
    if not model.scenario.channels.documentation or not len(readers):
        return
    sc, mp = model.scratch, model.params.meeting
    sc.ensure_meetings(0, 0, len(readers))
    n = model.kernels.good_practice_lessons(readers, f.knowledge, f.problem_topic, docs,
                                            model.scenario.learning.rate * gp.learning_weight,
                                            sc.lessons)
    model.kernels.exchange_knowledge(n, *sc.lessons, mp.peak_gap, mp.value_per_knowledge,
                                     f.knowledge, model.firm_scratch.value)
