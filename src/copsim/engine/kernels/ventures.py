"""Joint ventures (DESIGN step 4): uplift while active, ending or failing, trust feedback."""

from __future__ import annotations

from copsim.engine.kernels._jit import jit_for

jit = jit_for(__name__)

# Copies of state.PAIR and VentureStatus (copsim.dtypes) for numba's cache (tests/test_constants.py).
PAIR = 4294967296
ACTIVE, ENDED, FAILED = 0, 1, 2


@jit
def update_ventures(week, n_ventures, p, ventures, firms, ties, tie_index, u):
    """Advance every active venture one week; rebuild each firm's ``venture_uplift``.

    A venture fails with hazard ``failure_rate * (1 - trust)`` (trust falls by
    ``venture_loss``), ends well with hazard ``end_rate`` (trust grows by
    ``venture_gain``), and ends when a partner exits. Active ventures mark
    their tie as contacted this week. ``venture_uplift`` must be zero on entry.
    ``ventures``, ``firms``, ``ties``: the tables' columns; ``tie_index``: tie key ->
    edge. Draws: ``u[v]`` for venture ``v``.
    """
    a, b, uplift, status, end_week = (ventures.a, ventures.b, ventures.uplift, ventures.status,
                                      ventures.end_week)
    alive, venture_uplift = firms.alive, firms.venture_uplift
    trust, last_week, tie_ventures = ties.trust, ties.last_week, ties.ventures
    for v in range(n_ventures):
        if status[v] != ACTIVE:
            continue
        i = a[v]
        j = b[v]
        e = tie_index[i * PAIR + j]  # a venture always sits on an existing tie
        if not (alive[i] and alive[j]):
            status[v] = ENDED
        elif u[v] < p.failure_rate * (1.0 - trust[e]):
            status[v] = FAILED
            trust[e] *= 1.0 - p.venture_loss
        elif u[v] > 1.0 - p.end_rate:
            status[v] = ENDED
            trust[e] += p.venture_gain * (1.0 - trust[e])
        if status[v] != ACTIVE:
            end_week[v] = week
            tie_ventures[e] -= 1
            continue
        last_week[e] = week
        venture_uplift[i] += uplift[v]
        venture_uplift[j] += uplift[v]
