"""Business contacts outside the groups (docs/odd.md 5, 7.19): who knows whom, and what
flows through it every week.

A firm's contacts are its customers, suppliers and sector neighbours in its region,
kept in a fixed number of slots per firm (``slots[row]``: rows of contacts, -1 empty;
int32, no per-firm objects). A slot holding a firm that has exited is free again, so
firms replace lost contacts with newcomers. Ties made in meetings (trust at least the
tie threshold) are contacts too: the programme adds them.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from copsim.engine.kernels._jit import jit_for

jit = jit_for(__name__)

# Copies of state.PAIR, EventKind.PARTNERSHIP and VentureKind.PARTNERSHIP (copsim.dtypes)
# for numba's cache (tests/test_constants.py).
PAIR = 4294967296
EV_PARTNERSHIP = 19
V_PARTNERSHIP = 3


@jit(inline="always")
def _has(slots, i, j):
    """Whether ``j`` is in the slots of ``i``."""
    for s in range(slots.shape[1]):
        if slots[i, s] == j:
            return True
    return False


@jit(inline="always")
def _free_slot(slots, alive, i):
    """A slot of ``i`` that is empty or holds a firm that exited; -1 if none."""
    for s in range(slots.shape[1]):
        j = slots[i, s]
        if j < 0 or not alive[j]:
            return s
    return -1


@jit
def link_firms(rows, links, pool, same_share, region, sector, alive, slots, rng, tries):
    """Firm ``rows[k]`` starts up to ``links[k]`` contacts with living firms of its region
    drawn from ``pool`` (rows of the region's firms): each one of its own sector with
    probability ``same_share``, else of another sector. A contact needs a free slot at both
    ends and is not made twice; each contact gets up to ``tries`` candidate draws (a firm
    without room left stops). Returns the number of contacts made. Draws: per contact
    ``rng.random()``, then ``rng.integers(0, len(pool))`` per candidate.
    """
    made = 0
    size = pool.shape[0]
    if size == 0:
        return made
    for k in range(rows.shape[0]):
        i = rows[k]
        for _ in range(links[k]):
            a = _free_slot(slots, alive, i)
            if a < 0:
                break
            same = rng.random() < same_share
            for _try in range(tries):
                j = pool[rng.integers(0, size)]
                if (j == i or region[j] != region[i] or (sector[j] == sector[i]) != same
                        or not alive[j] or _has(slots, i, j)):
                    continue
                b = _free_slot(slots, alive, j)
                if b >= 0:
                    slots[i, a] = j
                    slots[j, b] = i
                    made += 1
                    break
    return made


@jit(inline="always")
def _form_partnership(ven, ven_n, mem, mem_n, lead, partner, edge, week, uplift):
    """Record venture row ``ven_n``, a partnership of ``lead`` and ``partner`` on their tie
    ``edge``, and its two member rows from ``mem_n``, the lead first: the layout of the
    meeting kernel's two-firm ventures (its helpers live in its file: numba's cache sees
    only this one). The caller counts the venture on the tie. Returns the new counts."""
    for r in range(2):
        mem.venture[mem_n + r] = ven_n
        mem.left_week[mem_n + r] = -1
    mem.firm[mem_n] = lead
    mem.edge[mem_n] = -1
    mem.firm[mem_n + 1] = partner
    mem.edge[mem_n + 1] = edge
    ven.kind[ven_n] = V_PARTNERSHIP
    ven.start_week[ven_n] = week
    ven.end_week[ven_n] = -1
    ven.uplift[ven_n] = uplift
    ven.status[ven_n] = 0
    ven.first[ven_n] = mem_n
    ven.size[ven_n] = 2
    return ven_n + 1, mem_n + 2


@jit
def relative_performance(n, p, revenue, revenue_base, employees, performance):
    """``performance[j]`` for rows ``j < n``: the firm's revenue this week relative to its
    normal revenue, minus 1 (0 where the normal revenue is not positive), what its contacts
    read through referrals. Written into the caller's scratch array: a new one every week
    cost a page fault per 4 KiB at millions of firms (numba's allocations get no huge pages)."""
    for j in range(n):
        normal = revenue_base[j] * (1.0 + employees[j] * p.revenue_per_employee)
        performance[j] = revenue[j] / normal - 1.0 if normal > 0.0 else 0.0


@jit
def scan_contacts(lo, hi, p, slots, alive, performance, met_firm, met_other, tie_index,
                  tie_trust, tie_met, tie_ventures, tied, referral, total, u, starts, collect):
    """For rows ``lo..hi-1``: ``referral[i]``, ``p.referral_effect`` times the mean relative
    performance of the firm's living contacts weighted by strength; ``total[i]``, the
    strength of its contacts without a venture with it (0 for firms that exited); and
    ``starts[i]``, whether its uniform ``u[i]`` starts a partnership (below
    ``1 - exp(-p.partner_rate * total[i])``), so that the partnerships' pass in row order
    only visits those rows.

    A firm's contacts are its slots in use, then its ties made in meetings (``met_other``
    of its entries in the sorted ``met_firm``) that are not in a slot. The slots in use are
    a prefix of the firm's slots (:func:`link_firms` fills the first free one and no slot is
    ever emptied), so the loop over them stops at the first empty one. A business contact
    has strength ``p.strength``; a tie made in meetings counts with its trust where its
    channel is on. Rows are independent: any split into ranges gives the same numbers.
    With ``collect``, returns the last row's contacts free for a venture, in contact order,
    with their tie (-1: none) and strength: ``(count, firms, edges, strengths)`` (count 0
    without: the pass over every row needs none of them).

    What one contact adds is an inner function, which numba inlines with the arrays of this
    one: a separate numba helper taking the arrays costs a reference count per array per
    call, which made this loop 12 to 15 times slower, even inlined.
    """
    n_slots = slots.shape[1]
    n_met = met_firm.shape[0]
    cand_firm = np.empty(n_slots + n_met, dtype=np.int64)
    cand_edge = np.empty(n_slots + n_met, dtype=np.int64)
    cand_part = np.empty(n_slots + n_met, dtype=np.float64)

    def contact(i, j, tied_i, base, free_w, refer_w, refer_x, n_cand):
        """Contact ``j`` of firm ``i`` (``base``: its strength as a business contact) added
        to the firm's weights and, with ``collect``, to its candidates."""
        e = -1
        if tied_i and tied[j]:
            key = (i * PAIR + j) if i < j else (j * PAIR + i)
            if key in tie_index:
                e = tie_index[key]
        part = base
        refer = base
        if e >= 0 and tie_met[e] and tie_trust[e] >= p.tie_threshold:
            if p.partners_channel and tie_trust[e] > part:
                part = tie_trust[e]
            if p.referrals_channel and tie_trust[e] > refer:
                refer = tie_trust[e]
        if refer > 0.0:
            refer_w += refer
            refer_x += refer * performance[j]
        if e < 0 or tie_ventures[e] == 0:  # no venture on the pair yet
            free_w += part
            if collect and part > 0.0:
                cand_firm[n_cand] = j
                cand_edge[n_cand] = e
                cand_part[n_cand] = part
                n_cand += 1
        return free_w, refer_w, refer_x, n_cand

    n_cand = 0
    c = np.searchsorted(met_firm, lo)
    for i in range(lo, hi):
        while c < n_met and met_firm[c] < i:
            c += 1
        end = c
        while end < n_met and met_firm[end] == i:
            end += 1
        referral[i] = 0.0
        total[i] = 0.0
        starts[i] = False
        n_cand = 0
        if not alive[i]:
            continue
        tied_i = tied[i]
        free_w = 0.0
        refer_w = 0.0
        refer_x = 0.0
        for s in range(n_slots):
            j = int(slots[i, s])
            if j < 0:
                break
            if alive[j]:
                free_w, refer_w, refer_x, n_cand = contact(i, j, tied_i, p.strength, free_w,
                                                           refer_w, refer_x, n_cand)
        for m in range(c, end):
            j = int(met_other[m])
            if alive[j] and not _has(slots, i, j):
                free_w, refer_w, refer_x, n_cand = contact(i, j, tied_i, 0.0, free_w, refer_w,
                                                           refer_x, n_cand)
        if refer_w > 0.0:
            referral[i] = p.referral_effect * refer_x / refer_w
        total[i] = free_w
        # 1 - exp(-x) <= x: most rows are decided without exp (the margin covers rounding)
        starts[i] = (free_w > 0.0 and u[i] < p.partner_rate * free_w + 1e-12
                     and u[i] < 1.0 - math.exp(-p.partner_rate * free_w))
    return n_cand, cand_firm, cand_edge, cand_part


@jit
def form_partnerships(week, n, p, slots, firms, performance, met_firm, met_other, ties,
                      tie_index, n_ties, tied, u, total, starts, starting, ventures, events):
    """New partners through contacts, after :func:`scan_contacts` filled ``total``,
    ``starts`` (and the firms' ``referral``) for rows ``0..n-1`` from the week's starting
    state (the week's order: copsim.engine.contacts.contact_week); ``starting``: the rows
    where ``starts`` holds, ascending.

    In row order, each living firm starts a partnership venture with probability
    ``1 - exp(-p.partner_rate * total[i])``, with one of its free contacts chosen by
    strength with the same uniform ``u[i]`` (rescaled). A pair without a tie gets one at
    trust ``p.strength`` (not made in meetings). A partnership changes only its own pair,
    so the later partner's row is scanned again at its turn: the numbers are those of
    scanning every row at its turn. Only the rows in ``starting`` and those partners are
    visited, in row order (the turn of any other row changes nothing): the serial pass
    costs what the week's partnerships cost, not a step per firm. ``tied[row]``: the firm
    has a tie (kept up to date here). Appends ventures (the firm their lead), their members
    and events; the caller guarantees room. Returns ``(n_ties, ven_n, mem_n, ev_n)``.
    """
    alive, referral, group = firms.alive, firms.referral, firms.group
    tie_src, tie_dst, tie_trust = ties.src, ties.dst, ties.trust
    tie_met, tie_ventures, tie_last = ties.met, ties.ventures, ties.last_week
    ven, ven_n, mem, mem_n = ventures
    ev_week, ev_kind, ev_group, ev_firm, ev_other, ev_activity, ev_topic, ev_value = events[0]
    ev_n = events[1]
    later = [np.int64(n)]  # a heap of partners whose turn is still to come; n: none
    k_start = 0
    while True:
        i = starting[k_start] if k_start < starting.shape[0] else n
        if later[0] < i:
            i = later[0]
        if i >= n:
            break
        if k_start < starting.shape[0] and starting[k_start] == i:
            k_start += 1
        touched = False  # partner of a partnership formed earlier this week
        while later[0] == i:
            heapq.heappop(later)
            touched = True
        if touched and alive[i]:
            scan_contacts(i, i + 1, p, slots, alive, performance, met_firm, met_other, tie_index,
                          tie_trust, tie_met, tie_ventures, tied, referral, total, u, starts,
                          False)
        if not starts[i]:
            continue
        n_cand, cand_firm, cand_edge, cand_part = scan_contacts(
            i, i + 1, p, slots, alive, performance, met_firm, met_other, tie_index, tie_trust,
            tie_met, tie_ventures, tied, referral, total, u, starts, True)
        chance = 1.0 - math.exp(-p.partner_rate * total[i])
        target = u[i] / chance * total[i]  # uniform on [0, total) given a partnership
        for k in range(n_cand):
            j, e = cand_firm[k], cand_edge[k]
            target -= cand_part[k]
            if target >= 0.0:
                continue
            lo = i if i < j else j
            hi = j if i < j else i
            if e < 0:
                e = n_ties
                tie_index[lo * PAIR + hi] = e
                tie_src[e] = lo
                tie_dst[e] = hi
                tie_trust[e] = 0.0
                tie_met[e] = False
                tied[lo] = True
                tied[hi] = True
                n_ties += 1
            if tie_trust[e] < p.strength:
                tie_trust[e] = p.strength
            tie_last[e] = week
            tie_ventures[e] += 1
            if j > i:  # a partner whose turn has passed is not scanned again
                heapq.heappush(later, j)
            ven_n, mem_n = _form_partnership(ven, ven_n, mem, mem_n, i, j, e, week, p.uplift)
            ev_week[ev_n] = week
            ev_kind[ev_n] = EV_PARTNERSHIP
            ev_group[ev_n] = group[i]
            ev_firm[ev_n] = i
            ev_other[ev_n] = j
            ev_activity[ev_n] = -1
            ev_topic[ev_n] = -1
            ev_value[ev_n] = V_PARTNERSHIP
            ev_n += 1
            break
    return n_ties, ven_n, mem_n, ev_n
