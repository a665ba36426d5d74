"""The network's reach beyond one group: a coordinator's introductions across groups
(docs/odd.md 7.15) and readers of the published good practice (7.16).

Both kernels only choose (who meets whom, who learns what at which level); the trust,
learning and ventures that follow go through the same kernels as meetings
(``strengthen_ties``, ``exchange_knowledge``), so a reader or an introduced member never
knows more than what was documented or what its partner knows.
"""

from __future__ import annotations

from copsim.engine.kernels._jit import jit_for

jit = jit_for(__name__)

PAIR = 4294967296  # tie key = lo * PAIR + hi: a copy of state.PAIR for numba's cache (tests/test_constants.py)


@jit(inline="always")
def _need(knowledge, problem_topic, i):
    """The topic firm ``i`` needs: its problem's, else the one it knows least."""
    if problem_topic[i] >= 0:
        return problem_topic[i]
    topic = 0
    for t in range(1, knowledge.shape[1]):
        if knowledge[i, t] < knowledge[i, topic]:
            topic = t
    return topic


@jit
def match_introductions(seekers, candidates, rows, row_group, knowledge, problem_topic, assets,
                        tie_index, tie_trust, tie_threshold, partner, topic, level, complementary):
    """For each introduction ``q`` the coordinator pairs member ``rows[seekers[q]]`` with the
    most complementary of the members ``rows[candidates[q, :]]`` of other groups.

    Complementarity: what the candidate knows above the seeker on the seeker's need
    (``_need``), plus 1 when each holds an asset the other lacks. Candidates in the
    seeker's group, already tied to it (trust at or above ``tie_threshold``) or with
    nothing to offer (score 0) are passed over; ties in score go to the first drawn.
    Writes ``partner[q]`` (-1: no introduction), the need ``topic[q]``, the partner's
    ``level[q]`` on it and ``complementary[q]``; returns how many were matched.
    """
    made = 0
    for q in range(seekers.shape[0]):
        i = rows[seekers[q]]
        need = _need(knowledge, problem_topic, i)
        best = 0.0
        partner[q] = -1
        for c in range(candidates.shape[1]):
            j = rows[candidates[q, c]]
            if row_group[candidates[q, c]] == row_group[seekers[q]]:
                continue
            key = (i * PAIR + j) if i < j else (j * PAIR + i)
            if key in tie_index and tie_trust[tie_index[key]] >= tie_threshold:
                continue
            gain = knowledge[j, need] - knowledge[i, need]
            score = gain if gain > 0.0 else 0.0
            both = (assets[i] & ~assets[j]) != 0 and (assets[j] & ~assets[i]) != 0
            if both:
                score += 1.0
            if score > best:
                best = score
                partner[q] = j
                topic[q] = need
                level[q] = knowledge[j, need]
                complementary[q] = both
        if partner[q] >= 0:
            made += 1
    return made


@jit
def good_practice_lessons(readers, knowledge, problem_topic, published, weight, les):
    """One lesson per reader from the published good practice ``published`` (the best
    documented level of each topic): on its problem's topic if something better is
    documented there, else on the topic where the documentation is furthest above it.
    Readers who already know everything documented get none. Returns the lessons written."""
    les_learner, les_topic, les_level, les_weight = les
    n_les = 0
    for r in range(readers.shape[0]):
        i = readers[r]
        topic = problem_topic[i]
        if topic < 0 or published[topic] <= knowledge[i, topic]:
            topic = -1
            gap = 0.0
            for t in range(knowledge.shape[1]):
                if published[t] - knowledge[i, t] > gap:
                    gap = published[t] - knowledge[i, t]
                    topic = t
        if topic < 0:
            continue
        les_learner[n_les] = i
        les_topic[n_les] = topic
        les_level[n_les] = published[topic]
        les_weight[n_les] = weight
        n_les += 1
    return n_les
