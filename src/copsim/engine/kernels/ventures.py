"""Joint ventures (DESIGN step 4): uplift while active, ending or failing, trust feedback."""

from __future__ import annotations

from copsim.engine.kernels._jit import jit_for

jit = jit_for(__name__)

# Copies of state.PAIR, VentureStatus and VentureKind.CUSTOMER, PARTNERSHIP (copsim.dtypes)
# for numba's cache (tests/test_constants.py).
PAIR = 4294967296
ACTIVE, ENDED, FAILED = 0, 1, 2
CUSTOMER, PARTNERSHIP = 2, 3


@jit
def update_ventures(week, n_ventures, p, demand, ventures, firms, ties, tie_index, u):
    """Advance every active venture one week; rebuild each firm's ``venture_uplift``.

    A venture fails with hazard ``failure_rate * (1 - trust)``, raised for each
    partner in distress (negative cash) and by the demand its partners lost (trust
    falls by ``venture_loss``); it ends well with hazard ``end_rate`` (trust grows
    by ``venture_gain``), and ends when a partner exits. An active venture marks
    its tie as contacted this week and, if its channel is on (customer links:
    ``customers_channel``; partnerships through contacts: always, their channel acts on
    how they form; others: ``ventures_channel``), adds its uplift to both
    partners and costs each ``venture_cost`` from cash. ``venture_uplift`` must be
    zero on entry. ``ventures``, ``firms``, ``ties``: the tables' columns;
    ``tie_index``: tie key -> edge; ``demand``: by sector and region. Draws: ``u[v]``
    for venture ``v``.
    """
    a, b, kind, uplift = ventures.a, ventures.b, ventures.kind, ventures.uplift
    status, end_week = ventures.status, ventures.end_week
    alive, cash, venture_uplift = firms.alive, firms.cash, firms.venture_uplift
    sector, region = firms.sector, firms.region
    trust, last_week, tie_ventures = ties.trust, ties.last_week, ties.ventures
    for v in range(n_ventures):
        if status[v] != ACTIVE:
            continue
        i = a[v]
        j = b[v]
        e = tie_index[i * PAIR + j]  # a venture always sits on an existing tie
        hazard = p.failure_rate * (1.0 - trust[e])
        if alive[i] and alive[j]:
            distressed = (1.0 if cash[i] < 0.0 else 0.0) + (1.0 if cash[j] < 0.0 else 0.0)
            d = min(demand[sector[i], region[i]], demand[sector[j], region[j]])
            lost = 1.0 - d if d < 1.0 else 0.0
            hazard *= (1.0 + p.distress_failure * distressed) * (1.0 + p.demand_failure * lost)
        if not (alive[i] and alive[j]):
            status[v] = ENDED
        elif u[v] < hazard:
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
        if kind[v] == PARTNERSHIP or (p.customers_channel if kind[v] == CUSTOMER
                                      else p.ventures_channel):
            venture_uplift[i] += uplift[v]
            venture_uplift[j] += uplift[v]
            cash[i] -= p.venture_cost
            cash[j] -= p.venture_cost
