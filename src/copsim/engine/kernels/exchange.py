"""Knowledge exchange: the absorptive-capacity learning rule (DESIGN, learning rule)."""

from __future__ import annotations

import math

import numpy as np

from copsim.engine.kernels._jit import jit_for

jit = jit_for(__name__)


@jit
def absorptive_capacity(gap, peak_gap):
    """Share of a gap a learner can take in: 0 at no gap, 1 at ``peak_gap``, falling beyond.

    ``(g / peak) * exp(1 - g / peak)``: too small a gap teaches nothing new, too
    large a gap is not understood (Cohen & Levinthal 1990; Nooteboom 2007).
    """
    if gap <= 0.0:
        return 0.0
    x = gap / peak_gap
    return x * math.exp(1.0 - x)


@jit
def exchange_knowledge(n_lessons, learner, topic, level, weight, peak_gap, value_per_knowledge,
                       knowledge, value):
    """Apply lessons ``0..n_lessons-1`` to ``knowledge`` and credit ``value``
    (``value_per_knowledge`` per unit gained).

    Each lesson's gain is ``weight * absorptive_capacity(level - k)``, computed
    from the knowledge before any lesson is applied (knowledge is redeveloped
    together, not copied in sequence). Gains are then added in lesson order, and
    a lesson never takes the learner past its source's level: ``k <- max(k,
    min(k + gain, level))``. So however many lessons one topic gets, a learner
    never knows more than the best of its sources (peers, facilitator, experts).
    The value credited is the knowledge actually gained.
    """
    gains = np.empty(n_lessons)
    for q in range(n_lessons):
        gap = level[q] - knowledge[learner[q], topic[q]]
        gains[q] = weight[q] * absorptive_capacity(gap, peak_gap)
    for q in range(n_lessons):
        i = learner[q]
        t = topic[q]
        before = knowledge[i, t]
        k = before + gains[q]
        if k > level[q]:
            k = level[q]
        if k > 1.0:
            k = 1.0
        if k > before:
            knowledge[i, t] = k
            value[i] += value_per_knowledge * (k - before)
