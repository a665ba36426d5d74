"""Mentoring sessions: what an experienced entrepreneur passes on to a newer one (docs/odd.md 7.18).

A session works on one topic: the mentee's problem if it has one, else the topic on
which the mentor knows most more than the mentee. The mentor may clear the problem
(more likely the more the mentor knows of it), lifts the mentee's confidence towards
the mentor's own, renews the mentee's *advice* (specific, current know-how such as
suppliers and prices) towards the mentor's know-how, and writes a lesson that
:func:`copsim.engine.kernels.exchange.exchange_knowledge` applies afterwards, never
past the mentor's level. Nothing here is imposed to fade: advice goes stale in the
business update and confidence drifts back to its baseline once sessions stop.
"""

from __future__ import annotations

from copsim.engine.kernels._jit import jit_for

jit = jit_for(__name__)

U_HELD, U_SOLVE = 0, 1  # columns of the per-pair uniforms
N_SESSION_UNIFORMS = 2


@jit
def session_topic(knowledge, mentee, mentor):
    """The topic of the mentor's largest lead over the mentee (-1: the mentor leads on none)."""
    best = -1
    lead = 0.0
    for t in range(knowledge.shape[1]):
        gap = knowledge[mentor, t] - knowledge[mentee, t]
        if gap > lead:
            lead = gap
            best = t
    return best


@jit
def hold_sessions(mentees, mentors, u, p, firms, held, solved, les_learner, les_topic, les_level,
                  les_weight):
    """Hold the due sessions of pairs ``(mentees[k], mentors[k])``, in that order.

    ``held[k]`` and ``solved[k]`` are set for each pair (a session takes place when
    ``u[k, U_HELD] < p.session_probability``). With the mentoring channel off a session
    takes place but passes nothing on. Returns the number of lessons written.
    """
    knowledge, confidence, advice = firms.knowledge, firms.confidence, firms.advice
    problem_topic, problem_severity = firms.problem_topic, firms.problem_severity
    n_topics = knowledge.shape[1]
    n_les = 0
    for k in range(len(mentees)):
        held[k] = u[k, U_HELD] < p.session_probability
        solved[k] = False
        if not held[k] or not p.mentoring_channel:
            continue
        i = mentees[k]
        j = mentors[k]
        topic = problem_topic[i]
        if topic >= 0:
            if u[k, U_SOLVE] < p.solve_probability * knowledge[j, topic]:
                solved[k] = True
                problem_topic[i] = -1
                problem_severity[i] = 0.0
        else:
            topic = session_topic(knowledge, i, j)
        if confidence[j] > confidence[i]:
            confidence[i] += p.confidence_gain * (confidence[j] - confidence[i])
        know_how = 0.0
        for t in range(n_topics):
            know_how += knowledge[j, t]
        know_how /= n_topics
        if know_how > advice[i]:
            advice[i] += p.advice_gain * (know_how - advice[i])
        if topic >= 0 and knowledge[j, topic] > knowledge[i, topic]:
            les_learner[n_les] = i
            les_topic[n_les] = topic
            les_level[n_les] = knowledge[j, topic]
            les_weight[n_les] = p.learning_rate
            n_les += 1
    return n_les
