"""Joint ventures (DESIGN step 4): uplift and shared cost while active, members leaving,
ending or failing, trust feedback."""

from __future__ import annotations

from copsim.engine.kernels._jit import jit_for

jit = jit_for(__name__)

# Copies of VentureStatus and VentureKind.CUSTOMER, PARTNERSHIP (copsim.dtypes) for numba's
# cache (tests/test_constants.py).
ACTIVE, ENDED, FAILED = 0, 1, 2
CUSTOMER, PARTNERSHIP = 2, 3


@jit
def update_ventures(week, n_ventures, p, demand, ventures, members, firms, ties, u):
    """Advance every active venture one week; rebuild each firm's ``venture_uplift``.

    A venture's members are rows ``first[v] .. first[v] + size[v] - 1`` of ``members``,
    its lead first; each partner is in on its tie with the lead (``members.edge``). A
    partner that exited leaves (``left_week``); the venture ends when its lead exits or
    fewer than two members are left. Otherwise it fails with hazard ``failure_rate *
    (1 - mean trust of the lead's ties to the partners)``, raised for each member in
    distress (negative cash) and by the demand its members lost (every tie's trust falls
    by ``venture_loss``); it ends well with hazard ``end_rate`` (trust grows by
    ``venture_gain``). An active venture marks its ties as contacted this week and, if
    its channel is on (customer links: ``customers_channel``; partnerships through
    contacts: always, their channel acts on how they form; others:
    ``ventures_channel``), adds its uplift to every member and charges its weekly cost,
    ``shared_cost`` split equally plus ``member_cost`` each, to their cash.
    ``venture_uplift`` starts from zero for every member of an active venture (only active
    ventures add to it, so every other firm holds zero already: no pass over all firms).
    ``ventures``, ``members``, ``firms``,
    ``ties``: the tables' columns; ``demand``: by sector and region. Draws: ``u[v]``
    for venture ``v``. Returns the euros the members paid this week.
    """
    kind, uplift = ventures.kind, ventures.uplift
    status, end_week = ventures.status, ventures.end_week
    first, size = ventures.first, ventures.size
    member, edge, left_week = members.firm, members.edge, members.left_week
    alive, cash, venture_uplift = firms.alive, firms.cash, firms.venture_uplift
    sector, region = firms.sector, firms.region
    trust, last_week, tie_ventures = ties.trust, ties.last_week, ties.ventures
    paid = 0.0
    for v in range(n_ventures):
        if status[v] == ACTIVE:
            for r in range(first[v], first[v] + size[v]):
                venture_uplift[member[r]] = 0.0
    for v in range(n_ventures):
        if status[v] != ACTIVE:
            continue
        lead = member[first[v]]
        last = first[v] + size[v]
        n_in = 1
        trust_sum = 0.0
        distressed = 1.0 if cash[lead] < 0.0 else 0.0
        d = demand[sector[lead], region[lead]]
        for r in range(first[v] + 1, last):
            if left_week[r] >= 0:
                continue
            j = member[r]
            if not alive[j]:
                left_week[r] = week
                tie_ventures[edge[r]] -= 1
                continue
            n_in += 1
            trust_sum += trust[edge[r]]
            if cash[j] < 0.0:
                distressed += 1.0
            d = min(d, demand[sector[j], region[j]])
        if not alive[lead] or n_in < 2:
            status[v] = ENDED
        else:
            lost = 1.0 - d if d < 1.0 else 0.0
            hazard = (p.failure_rate * (1.0 - trust_sum / (n_in - 1))
                      * (1.0 + p.distress_failure * distressed) * (1.0 + p.demand_failure * lost))
            if u[v] < hazard:
                status[v] = FAILED
            elif u[v] > 1.0 - p.end_rate:
                status[v] = ENDED
        if status[v] != ACTIVE:
            end_week[v] = week
        on = kind[v] == PARTNERSHIP or (p.customers_channel if kind[v] == CUSTOMER
                                        else p.ventures_channel)
        share = p.shared_cost / n_in + p.member_cost
        for r in range(first[v], last):
            if left_week[r] >= 0:
                continue
            if r > first[v]:
                e = edge[r]
                if status[v] == ACTIVE:
                    last_week[e] = week
                else:
                    tie_ventures[e] -= 1
                    if status[v] == FAILED:
                        trust[e] *= 1.0 - p.venture_loss
                    elif alive[lead] and n_in >= 2:
                        trust[e] += p.venture_gain * (1.0 - trust[e])
            if status[v] == ACTIVE and on:
                i = member[r]
                venture_uplift[i] += uplift[v]
                cash[i] -= share
                paid += share
    return paid
