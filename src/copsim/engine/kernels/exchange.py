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

    Each lesson moves the learner's knowledge of the topic by
    ``weight * absorptive_capacity(level - k)``, never past the
    teacher's level. All gains are computed from the knowledge before any is
    applied (knowledge is redeveloped together, not copied in sequence), then
    added in lesson order and clipped to [0, 1].
    """
    gains = np.empty(n_lessons)
    for q in range(n_lessons):
        gap = level[q] - knowledge[learner[q], topic[q]]
        gain = weight[q] * absorptive_capacity(gap, peak_gap)
        gains[q] = gain if gain < gap else max(gap, 0.0)
    for q in range(n_lessons):
        i = learner[q]
        t = topic[q]
        k = knowledge[i, t] + gains[q]
        knowledge[i, t] = k if k < 1.0 else 1.0
        value[i] += value_per_knowledge * gains[q]
