"""The trust network: strengthening by shared meetings, decay without contact."""

from __future__ import annotations

from numba import types
from numba.typed import Dict

from copsim.engine.kernels._jit import jit_for

jit = jit_for(__name__)

PAIR = 4294967296  # tie key = lo * PAIR + hi: a copy of state.PAIR for numba's cache (tests/test_constants.py)


@jit
def empty_index():
    """A new numba tie index (pair key -> edge row); see kernels.new_tie_index."""
    return Dict.empty(types.int64, types.int64)


@jit
def strengthen_ties(week, n_meetings, meetings, meet_gain, visit_gain, ties, tie_index, n_ties):
    """Every pair who met this week gains ``gain * (1 - trust)``; hosts of visits more.

    ``meetings``: the meeting scratch columns (attendees of meeting ``q`` in
    ``meet_rows[meet_ptr[q]:meet_ptr[q + 1]]``); ``ties``: the tie table's columns and
    ``tie_index`` its key -> edge map.
    Marks every such tie as made in meetings (``met``: a contact the programme added).
    Creates edges for pairs meeting for the first time (appended from
    ``n_ties``; the caller guarantees room) and returns the new edge count.
    """
    meet_ptr, meet_rows = meetings.meet_ptr, meetings.meet_rows
    meet_host, meet_visit = meetings.meet_host, meetings.meet_visit
    src, dst, trust, last_week, met = ties.src, ties.dst, ties.trust, ties.last_week, ties.met
    for q in range(n_meetings):
        gain = meet_gain[q]
        for a in range(meet_ptr[q], meet_ptr[q + 1]):
            for b in range(a + 1, meet_ptr[q + 1]):
                i = meet_rows[a]
                j = meet_rows[b]
                lo = i if i < j else j
                hi = j if i < j else i
                key = lo * PAIR + hi
                if key in tie_index:
                    e = tie_index[key]
                else:
                    e = n_ties
                    tie_index[key] = e
                    src[e] = lo
                    dst[e] = hi
                    trust[e] = 0.0
                    n_ties += 1
                g = gain
                if meet_visit[q] and (i == meet_host[q] or j == meet_host[q]):
                    g += visit_gain
                trust[e] += (g if g < 1.0 else 1.0) * (1.0 - trust[e])
                last_week[e] = week
                met[e] = True
    return n_ties


@jit
def decay_ties(week, n_ties, decay, dormant, trust, last_week, ventures):
    """Ties without contact this week lose a share ``decay`` of their trust; below
    ``dormant`` it is set to zero (the edge stays, dormant).

    Partners in an active joint venture (``ventures[e] > 0``) work together, which
    counts as contact, so their tie does not decay.
    """
    for e in range(n_ties):
        if last_week[e] < week and ventures[e] == 0 and trust[e] > 0.0:
            t = trust[e] * (1.0 - decay)
            trust[e] = t if t >= dormant else 0.0


@jit
def tie_strength(n_firms, n_ties, src, dst, trust, met, alive, threshold, out):
    """``out[i]``: the sum of trust over firm ``i``'s ties made in meetings (``met``; trust
    at least ``threshold``) to living firms, for rows ``0..n_firms-1`` (the peers a firm
    can lean on; a tie of a partnership through business contacts is not one)."""
    for i in range(n_firms):
        out[i] = 0.0
    for e in range(n_ties):
        t = trust[e]
        if t < threshold or not met[e]:
            continue
        i = src[e]
        j = dst[e]
        if alive[j]:
            out[i] += t
        if alive[i]:
            out[j] += t
