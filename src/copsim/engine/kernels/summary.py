"""Weekly aggregates computed straight from the arrays (no per-agent reporters)."""

from __future__ import annotations

import numpy as np

from copsim.engine.kernels._jit import jit_for

jit = jit_for(__name__)

# Slots of the array returned by summarise_firms.
(S_ALIVE, S_MEMBERS, S_KNOWLEDGE, S_KNOWLEDGE_SQ, S_KNOWLEDGE_MEMBERS, S_REVENUE, S_EMPLOYMENT,
 S_CONFIDENCE, S_WELLBEING, S_COHORT_ALIVE, S_MEMBER_REVENUE, S_KNOWLEDGE_MAX) = range(12)
N_FIRM_SUMS = 12

(T_TIES, T_STRONG, T_BRIDGES, T_MEMBER_TIES) = range(4)
N_TIE_SUMS = 4


@jit
def summarise_firms(lo, hi, alive, group, born_week, knowledge, revenue, employees, confidence,
                    wellbeing):
    """Sums over living firms of rows ``lo..hi-1`` (sequential, so both engines agree to the
    bit; copsim.engine.metrics adds the sums of chunks of rows in row order).

    Knowledge is each firm's mean over topics; the cohort is firms alive at the
    start (``born_week < 0``); employment counts the owner plus employees.
    """
    # Scalars, not slots of ``out``: numba keeps them in registers (an array slot is
    # stored and loaded again every row); the additions are the same, in the same order.
    n_alive = members = k_sum = k_sq = k_members = revenue_sum = employment = 0.0
    confidence_sum = wellbeing_sum = cohort = member_revenue = k_max = 0.0
    n_topics = knowledge.shape[1]
    for i in range(lo, hi):
        if not alive[i]:
            continue
        k = 0.0
        for t in range(n_topics):
            k += knowledge[i, t]
        k /= n_topics
        n_alive += 1.0
        k_sum += k
        k_sq += k * k
        if k > k_max:
            k_max = k
        revenue_sum += revenue[i]
        employment += 1.0 + employees[i]
        confidence_sum += confidence[i]
        wellbeing_sum += wellbeing[i]
        if born_week[i] < 0:
            cohort += 1.0
        if group[i] >= 0:
            members += 1.0
            k_members += k
            member_revenue += revenue[i]
    out = np.zeros(N_FIRM_SUMS)
    out[S_ALIVE] = n_alive
    out[S_MEMBERS] = members
    out[S_KNOWLEDGE] = k_sum
    out[S_KNOWLEDGE_SQ] = k_sq
    out[S_KNOWLEDGE_MEMBERS] = k_members
    out[S_REVENUE] = revenue_sum
    out[S_EMPLOYMENT] = employment
    out[S_CONFIDENCE] = confidence_sum
    out[S_WELLBEING] = wellbeing_sum
    out[S_COHORT_ALIVE] = cohort
    out[S_MEMBER_REVENUE] = member_revenue
    out[S_KNOWLEDGE_MAX] = k_max
    return out


@jit
def summarise_ties(n_ties, src, dst, trust, group, alive, tie_threshold, strong_threshold):
    """Counts of living ties: all, strong, bridges between groups, among members."""
    out = np.zeros(N_TIE_SUMS)
    for e in range(n_ties):
        i = src[e]
        j = dst[e]
        if trust[e] < tie_threshold or not (alive[i] and alive[j]):
            continue
        out[T_TIES] += 1.0
        if trust[e] >= strong_threshold:
            out[T_STRONG] += 1.0
        if group[i] >= 0 and group[j] >= 0:
            out[T_MEMBER_TIES] += 1.0
            if group[i] != group[j]:
                out[T_BRIDGES] += 1.0
    return out


@jit
def average_clustering(n_ties, src, dst, trust, alive, tie_threshold, degree, ptr, nbr, mark):
    """Mean local clustering coefficient over firms with at least one living tie.

    Same definition as ``networkx.average_clustering`` on the graph of living
    ties. Triangles at a firm are counted by marking its neighbours and walking
    theirs (array look-ups, no hashing). ``degree`` and ``mark`` (zeroed/False, one
    slot per firm), ``ptr`` (firms + 1) and ``nbr`` (2 * n_ties) are scratch arrays.
    """
    n = degree.shape[0]
    for e in range(n_ties):
        if trust[e] >= tie_threshold and alive[src[e]] and alive[dst[e]]:
            degree[src[e]] += 1
            degree[dst[e]] += 1
    ptr[0] = 0
    for i in range(n):
        ptr[i + 1] = ptr[i] + degree[i]
        degree[i] = 0
    for e in range(n_ties):
        if trust[e] >= tie_threshold and alive[src[e]] and alive[dst[e]]:
            i = src[e]
            j = dst[e]
            nbr[ptr[i] + degree[i]] = j
            degree[i] += 1
            nbr[ptr[j] + degree[j]] = i
            degree[j] += 1
    total = 0.0
    nodes = 0
    for i in range(n):
        d = degree[i]
        if d == 0:
            continue
        nodes += 1
        if d < 2:
            continue
        for a in range(ptr[i], ptr[i + 1]):
            mark[nbr[a]] = True
        paths = 0  # each triangle at i is found twice, once from each of its two neighbours
        for a in range(ptr[i], ptr[i + 1]):
            v = nbr[a]
            for b in range(ptr[v], ptr[v + 1]):
                if mark[nbr[b]]:
                    paths += 1
        for a in range(ptr[i], ptr[i + 1]):
            mark[nbr[a]] = False
        total += paths / (d * (d - 1))
    return total / nodes if nodes > 0 else 0.0
