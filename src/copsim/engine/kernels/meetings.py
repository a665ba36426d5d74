"""Meetings (DESIGN step 2): who attends, and what happens when a group meets.

``attend_meetings`` decides attendance; ``hold_meetings`` picks the host and
theme, runs Wenger's eleven activities as explicit events, forms joint
ventures, and writes *lessons* (learner, topic, teacher's level, weight) that
:func:`copsim.engine.kernels.exchange.exchange_knowledge` applies afterwards, so all
learning in a week is computed from the knowledge before it.
"""

from __future__ import annotations

import math

from copsim.engine.kernels._jit import jit_for

jit = jit_for(__name__)

# Copies of state.PAIR and of EventKind, Activity and VentureKind values (copsim.dtypes),
# kept in this file because numba's cache sees changes to this file only;
# tests/test_constants.py holds each equal to its definition.
PAIR = 4294967296  # tie key = lo * PAIR + hi
EV_MEETING, EV_CANCELLED, EV_ACTIVITY, EV_VENTURE, EV_SOLVED, EV_JOINED = 0, 1, 2, 3, 12, 17
(A_PROBLEM, A_REQUEST, A_EXPERIENCE, A_REUSE, A_COORDINATION, A_ARGUMENT, A_CONFIDENCE,
 A_DEVELOPMENTS, A_DOCUMENTATION, A_VISITS, A_MAPPING) = range(11)
N_ACTIVITIES = 11
V_SHARED_ASSET, V_JOINT_CAMPAIGN, V_CUSTOMER = 0, 1, 2

MAX_COORDINATION_PARTNERS = 29  # upper bound of ventures.max_coordination_partners
# Room per meeting: at most one venture each from reusing assets, coordination and
# mapping; their members (two, the host and its partners, two); their events (one
# venture_formed and one venture_joined per partner) besides 15 others.
MAX_EVENTS_PER_MEETING = 18 + MAX_COORDINATION_PARTNERS
MAX_VENTURES_PER_MEETING = 3
MAX_VENTURE_MEMBERS_PER_MEETING = 5 + MAX_COORDINATION_PARTNERS


@jit(inline="always")
def _trust(tie_index, tie_trust, i, j):
    """Trust between rows i and j, and the edge index (-1 if they never met)."""
    key = (i * PAIR + j) if i < j else (j * PAIR + i)
    if key not in tie_index:
        return 0.0, -1
    e = tie_index[key]
    return tie_trust[e], e


@jit(inline="always")
def _share(competitor_sharing, sector, region, i, j):
    """Weight of what j shares with i: lower between direct competitors (same sector and
    region), who hold back what gives them an edge."""
    if sector[i] == sector[j] and region[i] == region[j]:
        return competitor_sharing
    return 1.0


@jit(inline="always")
def _log(ev, ev_n, week, kind, group, firm, other, activity, topic, value):
    """Append one event to the event columns ``ev``; return the new count."""
    ev_week, ev_kind, ev_group, ev_firm, ev_other, ev_activity, ev_topic, ev_value = ev
    ev_week[ev_n] = week
    ev_kind[ev_n] = kind
    ev_group[ev_n] = group
    ev_firm[ev_n] = firm
    ev_other[ev_n] = other
    ev_activity[ev_n] = activity
    ev_topic[ev_n] = topic
    ev_value[ev_n] = value
    return ev_n + 1


@jit(inline="always")
def _lesson(les, n_les, learner, topic, level, weight):
    """Append one lesson; return the new count."""
    les_learner, les_topic, les_level, les_weight = les
    les_learner[n_les] = learner
    les_topic[n_les] = topic
    les_level[n_les] = level
    les_weight[n_les] = weight
    return n_les + 1


@jit(inline="always")
def _best_teacher(knowledge, rows, start, end, topic, exclude):
    """The attendee (not ``exclude``) who knows most about ``topic``, and that level."""
    best = -1.0
    teacher = -1
    for a in range(start, end):
        j = rows[a]
        if j != exclude and knowledge[j, topic] > best:
            best = knowledge[j, topic]
            teacher = j
    return teacher, best


@jit(inline="always")
def _add_member(mem, mem_n, tie_ventures, venture, firm, edge):
    """Append ``firm`` to the members of venture row ``venture`` (``mem``: the member
    table's columns); a partner is in on tie ``edge`` with the lead, the lead has -1.
    Returns the new member count."""
    mem.venture[mem_n] = venture
    mem.firm[mem_n] = firm
    mem.edge[mem_n] = edge
    mem.left_week[mem_n] = -1
    if edge >= 0:
        tie_ventures[edge] += 1
    return mem_n + 1


@jit(inline="always")
def _record_venture(ven, ven_n, first, size, kind, week, uplift):
    """Record venture row ``ven_n`` whose ``size`` members start at member row ``first``
    (``ven``: the venture table's columns); return the new venture count."""
    ven.kind[ven_n] = kind
    ven.start_week[ven_n] = week
    ven.end_week[ven_n] = -1
    ven.uplift[ven_n] = uplift
    ven.status[ven_n] = 0
    ven.first[ven_n] = first
    ven.size[ven_n] = size
    return ven_n + 1


@jit(inline="always")
def _log_venture(ev, ev_n, week, group, mem, first, size, activity, kind):
    """Log a venture's formation: one ``venture_formed`` (the lead; ``other`` its partner
    if it has one only) and one ``venture_joined`` per partner. Returns the event count."""
    lead = mem.firm[first]
    ev_n = _log(ev, ev_n, week, EV_VENTURE, group, lead, mem.firm[first + 1] if size == 2 else -1,
                activity, -1, kind)
    for r in range(first + 1, first + size):
        ev_n = _log(ev, ev_n, week, EV_JOINED, group, mem.firm[r], lead, activity, -1, kind)
    return ev_n


@jit(inline="always")
def _form_pair(ven, ven_n, mem, mem_n, tie_ventures, lead, partner, edge, kind, week, uplift):
    """A two-firm venture of ``lead`` and ``partner`` on their tie ``edge``; returns the
    new venture and member counts."""
    mem_n = _add_member(mem, mem_n, tie_ventures, ven_n, lead, -1)
    mem_n = _add_member(mem, mem_n, tie_ventures, ven_n, partner, edge)
    return _record_venture(ven, ven_n, mem_n - 2, 2, kind, week, uplift), mem_n


@jit
def attend_meetings(p, roster, groups, firms, ties, tie_index, rng):
    """Logistic attendance choice of every member of every due group.

    ``roster`` (a ``scratch.Roster``): ``rows[ptr[k]:ptr[k + 1]]`` are the members
    of group ``groups[k]``; its ``attend`` (same layout) is written. ``groups``,
    ``firms``, ``ties``: the tables' columns; ``tie_index``: tie key -> edge. Draws: ``rng.random()`` exactly once
    per member, groups in roster order, members in row order.
    """
    due, member_ptr, member_rows, attend = roster.groups, roster.ptr, roster.rows, roster.attend
    g_mode, g_facilitation = groups.mode, groups.facilitation
    region, firm_type, cash, felt_value = firms.region, firms.firm_type, firms.cash, firms.felt_value
    tie_trust = ties.trust
    for k in range(due.shape[0]):
        g = due[k]
        start = member_ptr[k]
        end = member_ptr[k + 1]
        m = end - start
        for a in range(start, end):
            i = member_rows[a]
            ties = 0.0
            for b in range(start, end):
                j = member_rows[b]
                if j != i:
                    ties += _trust(tie_index, tie_trust, i, j)[0]
            if m > 1:
                ties /= m - 1
            workload = p.workload_by_type[firm_type[i]]
            if cash[i] < 0.0:
                workload += p.distress_workload
            x = (p.attend_base + p.attend_felt_value * felt_value[i]
                 + p.attend_facilitation * g_facilitation[g]
                 - p.attend_travel * p.sparsity_by_region[region[i]] * p.travel_by_mode[g_mode[g]]
                 + p.attend_ties * ties - p.attend_workload * workload)
            attend[a] = rng.random() < 1.0 / (1.0 + math.exp(-x))


@jit
def hold_meetings(week, p, roster, groups, firms, firm_scratch, ties, tie_index, rng, meetings,
                  ventures, events):
    """Hold the meeting of every due group that at least two members attend.

    ``roster``: the due groups, their members and who attends (``scratch.Roster``);
    ``groups``, ``firms``, ``ties`` and ``meetings`` (``MeetingScratch``): the tables'
    columns; ``tie_index``: tie key -> edge; ``firm_scratch``: the per-firm ``value``
    and ``raised`` arrays; ``ventures``: (columns, rows in use) of the venture table and
    of the venture member table, ``events``: (columns, rows in use) of the event buffer,
    appended to.

    ``raised[i]`` is the topic firm ``i`` chose to raise (workshop mode, -1 = none:
    the model's own rule): a host's raised topic is the theme, and problem solving
    happens only when the theme is the host's problem; in requests for information a
    raised topic is what the firm asks about. With every ``raised`` at -1 the meeting
    is exactly the model's (docs/odd.md 7.4, 7.5, 7.13).

    Writes meetings (attendees in ``meet_rows[meet_ptr[q]:meet_ptr[q + 1]]``),
    lessons, ventures (from ``ven_n``), their members (from ``mem_n``) and events (from
    ``ev_n``). With
    ``p.problem_channel`` off problems are worked on but never cleared; with
    ``p.hiring_channel`` off confidence, hire readiness and innovation boost are left
    as they are (``copsim decompose``). Mutates problems, confidence, hire readiness,
    innovation boost, revealed assets, group memory, ``last_hosted`` and ``value``
    (what each attendee got from the meeting). Returns ``(meetings, lessons, ven_n,
    mem_n, ev_n)``. Draws per meeting held: ``rng.random(11)`` then the draws of each
    activity in activity order. The caller guarantees room in every output.
    """
    due, member_ptr, member_rows, attend = roster.groups, roster.ptr, roster.rows, roster.attend
    g_mode, g_memory, g_facilitation = groups.mode, groups.memory, groups.facilitation
    g_outside, g_expert = groups.outside_knowledge, groups.expert_knowledge
    knowledge, problem_topic, problem_severity = firms.knowledge, firms.problem_topic, firms.problem_severity
    assets, assets_revealed, last_hosted = firms.assets, firms.assets_revealed, firms.last_hosted
    confidence, employees, sector, region = firms.confidence, firms.employees, firms.sector, firms.region
    rivals = p.competitor_sharing
    hire_readiness, innovation_boost = firms.hire_readiness, firms.innovation_boost
    value, raised = firm_scratch.value, firm_scratch.raised
    tie_trust, tie_ventures = ties.trust, ties.ventures
    ven, ven_n, mem, mem_n = ventures
    ev, ev_n = events
    meet_ptr, meet_rows, meet_group = meetings.meet_ptr, meetings.meet_rows, meetings.meet_group
    meet_host, meet_visit = meetings.meet_host, meetings.meet_visit
    les = (meetings.les_learner, meetings.les_topic, meetings.les_level, meetings.les_weight)
    n_topics = knowledge.shape[1]
    prob = p.activity_probability
    eff = p.activity_effect
    q = 0
    n_rows = 0
    n_les = 0
    meet_ptr[0] = 0
    for k in range(due.shape[0]):
        g = due[k]
        start = member_ptr[k]
        end = member_ptr[k + 1]
        base = n_rows
        for a in range(start, end):
            if attend[a]:
                meet_rows[n_rows] = member_rows[a]
                n_rows += 1
        m = n_rows - base
        if m < 2:
            n_rows = base
            ev_n = _log(ev, ev_n, week, EV_CANCELLED, g, -1, -1, -1, -1, m)
            continue

        # Hosting goes in turn: the attendee who hosted least recently (never first,
        # then by row); the theme is the host's problem, or else what the host knows best.
        host = meet_rows[base]
        for a in range(base + 1, n_rows):
            if last_hosted[meet_rows[a]] < last_hosted[host]:
                host = meet_rows[a]
        last_hosted[host] = week
        theme = raised[host]
        if theme < 0:
            theme = problem_topic[host]
        if theme < 0:
            theme = 0
            for t in range(1, n_topics):
                if knowledge[host, t] > knowledge[host, theme]:
                    theme = t
        f = g_facilitation[g]
        outside = g_outside[g]
        learn = p.learning_rate * p.learning_by_mode[g_mode[g]] * (1.0 + p.facilitation_gain * f)
        meet_group[q] = g
        meet_host[q] = host
        meet_visit[q] = False
        ev_n = _log(ev, ev_n, week, EV_MEETING, g, host, -1, -1, theme, m)
        arrived = value[host]  # every attendee's value before this meeting's activities

        # Open discussion of the theme: each learns from everyone who knows more,
        # weighted by trust (strangers get a floor); expert talks add an outside voice.
        for a in range(base, n_rows):
            i = meet_rows[a]
            for b in range(base, n_rows):
                j = meet_rows[b]
                if j == i or knowledge[j, theme] <= knowledge[i, theme]:
                    continue
                trust = max(_trust(tie_index, tie_trust, i, j)[0], p.stranger_trust)
                trust *= _share(rivals, sector, region, i, j)
                n_les = _lesson(les, n_les, i, theme, knowledge[j, theme], learn * trust / (m - 1))
            if g_expert[g] > knowledge[i, theme]:
                n_les = _lesson(les, n_les, i, theme, g_expert[g], learn * p.expert_trust)

        draws = rng.random(N_ACTIVITIES)

        # Problem-solving: the group works on the host's problem (unless the host raised
        # another topic).
        if (problem_topic[host] >= 0 and theme == problem_topic[host]
                and draws[A_PROBLEM] < prob[A_PROBLEM]):
            topic = problem_topic[host]
            teacher, best = _best_teacher(knowledge, meet_rows, base, n_rows, topic, host)
            if f > 0.0 and outside > best:
                teacher, best = -1, outside
            solved = rng.random() < eff[A_PROBLEM] * (0.5 + best) * (1.0 + f)
            solved = solved and p.problem_channel
            if solved:
                problem_topic[host] = -1
                problem_severity[host] = 0.0
                value[host] += p.value_solved
                ev_n = _log(ev, ev_n, week, EV_SOLVED, g, host, teacher, A_PROBLEM, topic, 1.0)
            if best > knowledge[host, topic]:
                share = 1.0 if teacher < 0 else _share(rivals, sector, region, host, teacher)
                n_les = _lesson(les, n_les, host, topic, best, learn * share)
            ev_n = _log(ev, ev_n, week, EV_ACTIVITY, g, host, teacher, A_PROBLEM, topic,
                        1.0 if solved else 0.0)

        # Requests for information: a member with a problem (or a raised topic) asks
        # whoever knows most.
        if draws[A_REQUEST] < prob[A_REQUEST]:
            offset = rng.integers(0, m)
            for step in range(m):
                i = meet_rows[base + (offset + step) % m]
                topic = raised[i]
                if topic < 0:
                    topic = problem_topic[i]
                if i == host or topic < 0:
                    continue
                teacher, best = _best_teacher(knowledge, meet_rows, base, n_rows, topic, i)
                if best > knowledge[i, topic]:
                    trust = max(_trust(tie_index, tie_trust, i, teacher)[0], p.stranger_trust)
                    trust *= _share(rivals, sector, region, i, teacher)
                    n_les = _lesson(les, n_les, i, topic, best, learn * eff[A_REQUEST] * trust)
                value[i] += p.value_help
                ev_n = _log(ev, ev_n, week, EV_ACTIVITY, g, i, teacher, A_REQUEST, topic, best)
                break

        # Seeking experience: someone asks about their weakest topic.
        if draws[A_EXPERIENCE] < prob[A_EXPERIENCE]:
            i = meet_rows[base + rng.integers(0, m)]
            topic = 0
            for t in range(1, n_topics):
                if knowledge[i, t] < knowledge[i, topic]:
                    topic = t
            teacher, best = _best_teacher(knowledge, meet_rows, base, n_rows, topic, i)
            if best > knowledge[i, topic]:
                trust = max(_trust(tie_index, tie_trust, i, teacher)[0], p.stranger_trust)
                trust *= _share(rivals, sector, region, i, teacher)
                n_les = _lesson(les, n_les, i, topic, best, learn * eff[A_EXPERIENCE] * trust)
            value[i] += p.value_help
            ev_n = _log(ev, ev_n, week, EV_ACTIVITY, g, i, teacher, A_EXPERIENCE, topic, best)

        # Reusing assets: a member uses a trusted peer's asset it lacks (seen on a visit).
        if draws[A_REUSE] < prob[A_REUSE]:
            i = meet_rows[base + rng.integers(0, m)]
            partner = -1
            edge = -1
            best = p.venture_min_trust
            for a in range(base, n_rows):
                j = meet_rows[a]
                if j == i or (assets[j] & ~assets[i]) == 0 or not assets_revealed[j]:
                    continue
                trust, e = _trust(tie_index, tie_trust, i, j)
                if e >= 0 and trust >= best and tie_ventures[e] == 0:
                    partner, edge, best = j, e, trust
            formed = partner >= 0 and rng.random() < eff[A_REUSE] * (1.0 + best)
            if formed:
                ven_n, mem_n = _form_pair(ven, ven_n, mem, mem_n, tie_ventures, i, partner, edge,
                                          V_SHARED_ASSET, week, p.venture_uplift)
                ev_n = _log_venture(ev, ev_n, week, g, mem, mem_n - 2, 2, A_REUSE, V_SHARED_ASSET)
                value[i] += p.value_venture
                value[partner] += p.value_venture
            ev_n = _log(ev, ev_n, week, EV_ACTIVITY, g, i, partner, A_REUSE, -1, 1.0 if formed else 0.0)

        # Coordination and strategy: the host rallies trusted peers with complementary
        # assets into one joint venture (the ten-firm exhibition house of seed 001).
        if m >= 3 and draws[A_COORDINATION] < prob[A_COORDINATION]:
            first = mem_n
            mem_n = _add_member(mem, mem_n, tie_ventures, ven_n, host, -1)
            for a in range(base, n_rows):
                j = meet_rows[a]
                if j == host or mem_n - first > p.max_coordination_partners:
                    continue
                if (assets[host] & ~assets[j]) == 0 or (assets[j] & ~assets[host]) == 0:
                    continue
                trust, e = _trust(tie_index, tie_trust, host, j)
                if e < 0 or trust < p.venture_min_trust or tie_ventures[e] > 0:
                    continue
                if rng.random() < eff[A_COORDINATION]:
                    mem_n = _add_member(mem, mem_n, tie_ventures, ven_n, j, e)
                    value[j] += p.value_venture
            partners = mem_n - first - 1
            if partners > 0:
                ven_n = _record_venture(ven, ven_n, first, partners + 1, V_JOINT_CAMPAIGN, week,
                                        p.venture_uplift)
                ev_n = _log_venture(ev, ev_n, week, g, mem, first, partners + 1, A_COORDINATION,
                                    V_JOINT_CAMPAIGN)
                value[host] += p.value_venture
            else:
                mem_n = first  # nobody joined: no venture
            ev_n = _log(ev, ev_n, week, EV_ACTIVITY, g, host, -1, A_COORDINATION, -1, partners)

        # Building an argument: peers help a confident member decide on growth (a hire).
        if draws[A_ARGUMENT] < prob[A_ARGUMENT]:
            offset = rng.integers(0, m)
            for step in range(m):
                i = meet_rows[base + (offset + step) % m]
                if employees[i] < 9 and confidence[i] >= p.argument_confidence * p.hire_confidence:
                    if p.hiring_channel:
                        hire_readiness[i] = min(1.0, hire_readiness[i] + eff[A_ARGUMENT])
                    value[i] += p.value_help
                    ev_n = _log(ev, ev_n, week, EV_ACTIVITY, g, i, -1, A_ARGUMENT, -1,
                                hire_readiness[i])
                    break

        # Growing confidence: encouragement, stronger with a facilitator, for the firms
        # concerned: the host, and whoever got something from this meeting so far
        # (a solved problem, an answer, a venture, an argument).
        if draws[A_CONFIDENCE] < prob[A_CONFIDENCE]:
            encouraged = 0
            for a in range(base, n_rows):
                i = meet_rows[a]
                if i != host and value[i] <= arrived:
                    continue
                gain = eff[A_CONFIDENCE] * (1.0 + f) * (1.0 - confidence[i])
                if p.hiring_channel:
                    confidence[i] += gain
                value[i] += p.value_confidence * gain
                encouraged += 1
            ev_n = _log(ev, ev_n, week, EV_ACTIVITY, g, host, -1, A_CONFIDENCE, -1, encouraged)

        # Discussing developments: one attendee presents a development; the discussion
        # raises the success chance of that firm's innovation.
        if draws[A_DEVELOPMENTS] < prob[A_DEVELOPMENTS]:
            i = meet_rows[base + rng.integers(0, m)]
            if p.hiring_channel:
                innovation_boost[i] = min(p.innovation_boost_cap, innovation_boost[i] + eff[A_DEVELOPMENTS])
            ev_n = _log(ev, ev_n, week, EV_ACTIVITY, g, i, -1, A_DEVELOPMENTS, theme,
                        innovation_boost[i])

        # Documentation projects: the group memory of the theme, which new members inherit;
        # facilitators document more often.
        if draws[A_DOCUMENTATION] < prob[A_DOCUMENTATION] * (0.5 + f):
            mean = 0.0
            for a in range(base, n_rows):
                mean += knowledge[meet_rows[a], theme]
            mean /= m
            if mean > g_memory[g, theme]:
                g_memory[g, theme] += eff[A_DOCUMENTATION] * (mean - g_memory[g, theme])
            ev_n = _log(ev, ev_n, week, EV_ACTIVITY, g, host, -1, A_DOCUMENTATION, theme,
                        g_memory[g, theme])

        # Visits: meeting at the host's premises shows its assets and builds trust.
        if p.visits_by_mode[g_mode[g]] and draws[A_VISITS] < prob[A_VISITS]:
            assets_revealed[host] = True
            meet_visit[q] = True
            ev_n = _log(ev, ev_n, week, EV_ACTIVITY, g, host, -1, A_VISITS, -1, assets[host])

        # Mapping knowledge: find the group's gap and call in outside knowledge for it;
        # and find a peer in another sector as a customer.
        if draws[A_MAPPING] < prob[A_MAPPING]:
            gap_topic = 0
            gap_level = 2.0
            for t in range(n_topics):
                level = 0.0
                for a in range(base, n_rows):
                    level += knowledge[meet_rows[a], t]
                if level < gap_level * m:
                    gap_level = level / m
                    gap_topic = t
            if outside > 0.0:
                for a in range(base, n_rows):
                    i = meet_rows[a]
                    if outside > knowledge[i, gap_topic]:
                        n_les = _lesson(les, n_les, i, gap_topic, outside,
                                        learn * eff[A_MAPPING] * (p.expert_trust + 0.5 * f))
            offset = rng.integers(0, m)
            i = meet_rows[base + offset]
            customer = -1
            for step in range(1, m):
                j = meet_rows[base + (offset + step) % m]
                if sector[j] == sector[i]:
                    continue
                trust, e = _trust(tie_index, tie_trust, i, j)
                if e >= 0 and trust >= p.venture_min_trust and tie_ventures[e] == 0:
                    if rng.random() < eff[A_MAPPING]:
                        ven_n, mem_n = _form_pair(ven, ven_n, mem, mem_n, tie_ventures, i, j, e,
                                                  V_CUSTOMER, week, p.customer_uplift)
                        ev_n = _log_venture(ev, ev_n, week, g, mem, mem_n - 2, 2, A_MAPPING,
                                            V_CUSTOMER)
                        customer = j
                    break
            ev_n = _log(ev, ev_n, week, EV_ACTIVITY, g, i, customer, A_MAPPING, gap_topic,
                        gap_level)

        q += 1
        meet_ptr[q] = n_rows
    return q, n_les, ven_n, mem_n, ev_n


@jit
def channel_lessons(groups, member_ptr, member_rows, posters, firms, tie_index, tie_trust,
                    rate, stranger_trust, competitor_sharing, les):
    """Lessons from one post on each group's online channel between meetings.

    ``posters[k]`` posts on the topic it knows best; every other member of group
    ``groups[k]`` who knows less gets a lesson at the poster's level with weight
    ``rate * max(trust, stranger_trust)``, times ``competitor_sharing`` between direct
    competitors. ``firms``: the firm table's columns. Returns the number of lessons written.
    """
    knowledge, sector, region = firms.knowledge, firms.sector, firms.region
    n_topics = knowledge.shape[1]
    n_les = 0
    for k in range(groups.shape[0]):
        poster = posters[k]
        topic = 0
        for t in range(1, n_topics):
            if knowledge[poster, t] > knowledge[poster, topic]:
                topic = t
        level = knowledge[poster, topic]
        for a in range(member_ptr[k], member_ptr[k + 1]):
            i = member_rows[a]
            if i != poster and knowledge[i, topic] < level:
                trust = max(_trust(tie_index, tie_trust, i, poster)[0], stranger_trust)
                trust *= _share(competitor_sharing, sector, region, i, poster)
                n_les = _lesson(les, n_les, i, topic, level, rate * trust)
    return n_les
