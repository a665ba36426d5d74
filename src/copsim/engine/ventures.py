"""Joint ventures outside the kernels: forming one from Python, and reading who is in which.

A venture is one row of the :class:`~copsim.engine.state.VentureTable`; its members
(two firms, or the host and up to ``ventures.max_coordination_partners`` peers of a
coordination venture) are rows of the :class:`~copsim.engine.state.VentureMemberTable`,
the lead first. Every reader of "who is in a venture with whom" goes through the
functions here, so a firm counts once per venture and a partner once per firm.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from copsim.dtypes import EventKind, VentureKind, VentureStatus

if TYPE_CHECKING:
    from copsim.engine.shape import ModelShape


def form_venture(model: ModelShape, week: int, lead: int, partners: Sequence[int],
                 edges: Sequence[int], kind: VentureKind, uplift: float, *, group: int = -1,
                 activity: int = -1) -> int:
    """Record a venture of ``lead`` and ``partners`` (each in on its tie ``edges[k]`` with
    the lead) and log it as the meeting kernel does; return its row.

    The caller checks the rule that lets them form it (trust, no venture on the tie ...).
    """
    if not partners or len(partners) != len(edges) or lead in partners or len(set(partners)) < len(partners):
        raise ValueError("a venture needs a lead and distinct partners, each with its tie")
    v, m, t = model.ventures, model.venture_members, model.ties
    vid = int(v.add_rows(1)[0])
    rows = m.add_rows(1 + len(partners))
    m.venture[rows] = vid
    m.firm[rows] = [lead, *partners]
    m.edge[rows] = [-1, *edges]
    m.left_week[rows] = -1
    t.ventures[np.asarray(edges, dtype=np.int64)] += 1
    v.kind[vid], v.start_week[vid], v.uplift[vid] = kind, week, uplift
    v.first[vid], v.size[vid] = rows[0], len(rows)
    model.events.add(week, EventKind.VENTURE_FORMED, group=group, firm=lead,
                     other=partners[0] if len(partners) == 1 else -1, activity=activity,
                     value=float(kind))
    for partner in partners:
        model.events.add(week, EventKind.VENTURE_JOINED, group=group, firm=partner, other=lead,
                         activity=activity, value=float(kind))
    return vid


def firms_of(model: ModelShape, vid: int) -> np.ndarray:
    """Every firm that was ever in the venture, its lead (the firm that formed it: the
    coordination host, the firm that reused an asset or found a customer) first."""
    first = int(model.ventures.first[vid])
    return model.venture_members.firm[first: first + int(model.ventures.size[vid])].copy()


def memberships(model: ModelShape, *, active_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(venture, firm) of every member row, or only of members still in an active venture."""
    m, v = model.venture_members, model.ventures
    venture, firm = m.venture[: m.n], m.firm[: m.n]
    if active_only:
        keep = (v.status[venture] == VentureStatus.ACTIVE) & (m.left_week[: m.n] < 0)
        venture, firm = venture[keep], firm[keep]
    return venture, firm


def partner_pairs(model: ModelShape, *, active_only: bool = False) -> np.ndarray:
    """Distinct pairs ``(lo, hi)`` of firms that share a venture (every two members of
    it are partners), each pair once however many ventures they share."""
    venture, firm = memberships(model, active_only=active_only)
    if len(firm) == 0:
        return np.empty((0, 2), dtype=np.int64)
    order = np.argsort(venture, kind="stable")
    venture, firm = venture[order], firm[order]
    starts = np.flatnonzero(np.r_[True, venture[1:] != venture[:-1]])
    ends = np.r_[starts[1:], len(venture)]
    pairs = [(a, b) for s, e in zip(starts, ends, strict=True)
             for k, a in enumerate(firm[s:e]) for b in firm[s + k + 1: e]]
    if not pairs:
        return np.empty((0, 2), dtype=np.int64)
    return np.unique(np.sort(np.array(pairs, dtype=np.int64), axis=1), axis=0)


def log_endings(model: ModelShape, week: int, before: np.ndarray) -> None:
    """``venture_ended``/``venture_failed`` events for ventures whose status changed from
    ``before``, in venture order: the lead, its partner if it had one only, the kind."""
    v, m = model.ventures, model.venture_members
    vids = np.flatnonzero(before != v.status[: v.n])
    if len(vids) == 0:
        return
    lead = m.firm[v.first[vids]]
    pair = v.size[vids] == 2
    other = np.where(pair, m.firm[np.where(pair, v.first[vids] + 1, 0)], -1)
    kind = np.where(v.status[vids] == VentureStatus.FAILED, EventKind.VENTURE_FAILED,
                    EventKind.VENTURE_ENDED)
    model.events.add_rows(week, kind, lead, group=model.firms.group[lead], other=other,
                          value=v.kind[vids].astype(float))
