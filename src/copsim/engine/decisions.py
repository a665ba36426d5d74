"""Human decisions for the coming meetings: the engine's hooks for workshop mode.

The model plays every firm by the rules of docs/odd.md section 7. In workshop mode
some firms are played by people; their choices reach the model only through the
:class:`Decisions` set on ``CopModel.decisions`` and read by :func:`copsim.engine.schedule.hold`
(regular group meetings only) and :func:`copsim.engine.membership.leave_at_meeting_dates`, at these points
(docs/odd.md 7.13):

1. **Attendance**: after the attendance kernel has drawn for every member (so the
   draws of everyone else are unchanged), a decided firm attends or stays away.
2. **Raised topic**: passed to the meeting kernel as ``raised``; a host's raised
   topic is the meeting's theme, and in requests for information it is what the firm
   asks about.
3. **Conversation partner**: when a firm and the partner it chose attend the same
   meeting, they talk one to one (:func:`conversations`): whoever knows less about the
   topic gets a lesson from the other, and their trust gains once more as for a meeting.
4. **Joint-venture agreements** (a proposal and its acceptance): formed at a meeting
   both attend, under the formation rule of "coordination and strategy" (a tie with
   trust at least ``ventures.min_trust`` and no active venture, complementary assets);
   the agreement replaces the random draw, which stands for whether two firms agree
   (:func:`agreed_ventures`).
5. **Players**: firms played by a person leave their group only by exit or dissolution.

An empty :class:`Decisions` (the default) changes nothing: results are bit-identical
to the model without these hooks (tests/test_workshop_engine.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from copsim.dtypes import Activity, VentureKind
from copsim.engine.choices import Decisions
from copsim.engine.ventures import form_venture

if TYPE_CHECKING:
    from copsim.engine.shape import ModelShape

def force_attendance(decisions: Decisions, rows: np.ndarray, attend: np.ndarray) -> None:
    """Hook 1: overwrite the drawn attendance of decided members (same layout as ``rows``)."""
    for a, row in enumerate(rows.tolist()):
        choice = decisions.attend.get(row)
        if choice is not None:
            attend[a] = choice


def mark_raised(decisions: Decisions, raised: np.ndarray, value: int | None = None) -> None:
    """Hook 2: write the raised topics into the kernel's ``raised`` array (or reset them)."""
    for row, topic in decisions.topic.items():
        raised[row] = topic if value is None else value


def meeting_of(model: ModelShape, n_meet: int) -> dict[int, int]:
    """Meeting index of every attendee of this week's ``n_meet`` meetings."""
    sc = model.scratch
    where = {}
    for q in range(n_meet):
        for row in sc.meet_rows[sc.meet_ptr[q]: sc.meet_ptr[q + 1]].tolist():
            where[row] = q
    return where


def learning_factor(model: ModelShape, gid: int) -> float:
    """The meeting's learning factor λ (docs/odd.md 7.4), as the meeting kernel computes it."""
    p, g = model.params.meeting, model.groups
    return (p.learning_rate * p.learning_by_mode[g.mode[gid]]
            * (1.0 + p.facilitation_gain * g.facilitation[gid]))


def conversation_topic(model: ModelShape, decisions: Decisions, i: int, j: int) -> int:
    """What ``i`` talks about with ``j``: its raised topic, else its problem, else the
    topic on which ``j`` knows most more than ``i``."""
    if decisions.topic.get(i, -1) >= 0:
        return decisions.topic[i]
    f = model.firms
    if f.problem_topic[i] >= 0:
        return int(f.problem_topic[i])
    return int(np.argmax(f.knowledge[j] - f.knowledge[i]))


def conversations(model: ModelShape, decisions: Decisions, week: int, n_meet: int,
                  n_les: int) -> tuple[int, list[tuple[int, int, float]]]:
    """Hook 3, learning: lessons of the one-to-one talks, appended after the meetings'.

    Returns the new lesson count and the pairs that talked with their meeting's trust
    gain γ (applied by :func:`conversation_trust` after the meetings' trust update).
    The caller guarantees room for two lessons per conversation.
    """
    f, sc, p = model.firms, model.scratch, model.params.meeting
    where = meeting_of(model, n_meet)
    talked = []
    for i, j in sorted(decisions.partner.items()):
        q = where.get(i, -1)
        outcome = {"kind": "conversation", "week": week, "firm": i, "other": j}
        if i == j or q < 0 or where.get(j, -2) != q:
            decisions.outcomes.append({**outcome, "result": "not both at the meeting"})
            continue
        gid = int(sc.meet_group[q])
        topic = conversation_topic(model, decisions, i, j)
        e = model.ties.edge(i, j)
        trust = max(float(model.ties.trust[e]) if e >= 0 else 0.0, p.stranger_trust)
        rivals = f.sector[i] == f.sector[j] and f.region[i] == f.region[j]
        weight = learning_factor(model, gid) * trust * (p.competitor_sharing if rivals else 1.0)
        for learner, teacher in ((i, j), (j, i)):
            if f.knowledge[teacher, topic] > f.knowledge[learner, topic]:
                sc.les_learner[n_les] = learner
                sc.les_topic[n_les] = topic
                sc.les_level[n_les] = f.knowledge[teacher, topic]
                sc.les_weight[n_les] = weight
                n_les += 1
        model.firm_scratch.value[i] += p.value_help  # as for a request for information
        gain = model.params.trust.meeting_gain * p.trust_by_mode[model.groups.mode[gid]]
        talked.append((i, j, float(gain)))
        decisions.outcomes.append({**outcome, "result": "talked", "topic": topic})
    return n_les, talked


def conversation_trust(model: ModelShape, week: int, talked: list[tuple[int, int, float]]) -> None:
    """Hook 3, trust: each pair that talked gains trust once more as for a meeting (7.7)."""
    t = model.ties
    for i, j, gain in talked:
        e = model.ties.edge(i, j)  # the pair met this week, so the tie exists
        t.trust[e] += min(gain, 1.0) * (1.0 - t.trust[e])
        t.last_week[e] = week


def venture_obstacle(model: ModelShape, a: int, b: int, e: int) -> str | None:
    """Why the rule of "coordination and strategy" does not let a and b start a venture."""
    f, t = model.firms, model.ties
    if e < 0 or t.trust[e] < model.params.meeting.venture_min_trust:
        return "not enough trust yet"
    if t.ventures[e] > 0:
        return "already in a venture together"
    if (f.assets[a] & ~f.assets[b]) == 0 or (f.assets[b] & ~f.assets[a]) == 0:
        return "assets do not complement each other"
    return None


def agreed_ventures(model: ModelShape, decisions: Decisions, week: int, n_meet: int) -> None:
    """Hook 4: agreed joint ventures of firms that met, under the coordination rule.

    A two-firm joint campaign led by the proposer, with uplift ``ventures.uplift``,
    logged as the kernel logs ventures (activity coordination); both partners are
    credited as in the kernel.
    """
    sc = model.scratch
    where = meeting_of(model, n_meet)
    for a, b in decisions.ventures:
        q = where.get(a, -1)
        outcome = {"kind": "venture", "week": week, "firm": a, "other": b}
        if a == b or q < 0 or where.get(b, -2) != q:
            decisions.outcomes.append({**outcome, "result": "not both at the meeting"})
            continue
        e = model.ties.edge(a, b)
        obstacle = venture_obstacle(model, a, b, e)
        if obstacle is not None:
            decisions.outcomes.append({**outcome, "result": obstacle})
            continue
        form_venture(model, week, a, [b], [e], VentureKind.JOINT_CAMPAIGN,
                     model.params.meeting.venture_uplift, group=int(sc.meet_group[q]),
                     activity=Activity.COORDINATION)
        model.firm_scratch.value[a] += model.params.meeting.value_venture  # as in the meeting kernel
        model.firm_scratch.value[b] += model.params.meeting.value_venture
        decisions.outcomes.append({**outcome, "result": "formed"})
