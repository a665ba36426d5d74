"""Weekly business update of every living firm (DESIGN step 1)."""

from __future__ import annotations

import math

from copsim.engine.kernels._jit import jit_for

jit = jit_for(__name__)

# Columns of the per-firm uniform block ``u`` (common random numbers, by row).
U_NOISE, U_EXIT, U_PROBLEM, U_TOPIC, U_SOLVE, U_HIRE, U_INNOVATE, U_SUCCESS = range(8)
N_BUSINESS_UNIFORMS = 8

# Bits of ``flags[row]``: what happened to the firm this week (events are built from them).
F_EXIT, F_SOLVED, F_HIRE, F_LAYOFF, F_INNOVATION, F_INNOVATION_OK, F_HIRE_FAILED = (
    1, 2, 4, 8, 16, 32, 64)


@jit
def update_business(week, n, p, demand, u, firms, ties, flags):
    """Revenue, cost, cash, exits, problems, hiring and innovation for rows ``0..n-1``.

    Mutates the columns of ``firms`` (``FirmTable.columns()``) in place and sets
    ``flags[row]`` to the ``F_*`` bits of what happened this week; ``ties[row]`` is the
    firm's trust-weighted ties to living peers (kernel ``tie_strength``). Draws: reads
    ``u[row, :]`` only, so a firm's draws depend neither on other firms nor on the
    programme (CRN). With the knowledge channel off (``p.knowledge_channel``) the
    business uses the firm's starting knowledge, as it would without the programme.

    Returns the revenue that ventures add this week, EUR: over the firms still alive at
    the end of the week, each one's revenue less the same revenue without its venture
    uplift (what ``jv_revenue_eur`` reports; docs/odd.md 7.8).
    """
    region, sector, firm_type, employees = firms.region, firms.sector, firms.firm_type, firms.employees
    knowledge, knowledge_start = firms.knowledge, firms.knowledge_start
    problem_topic, problem_severity = firms.problem_topic, firms.problem_severity
    confidence, confidence_base, wellbeing = firms.confidence, firms.confidence_base, firms.wellbeing
    cash, revenue_base, revenue, cost = firms.cash, firms.revenue_base, firms.revenue, firms.cost
    alive, exit_week, support = firms.alive, firms.exit_week, firms.support
    hire_readiness, innovation_boost = firms.hire_readiness, firms.innovation_boost
    venture_uplift, referral, advice = firms.venture_uplift, firms.referral, firms.advice
    n_topics = knowledge.shape[1]
    added = 0.0
    for i in range(n):
        flags[i] = 0
        if not alive[i]:
            continue
        k_mean = 0.0
        for t in range(n_topics):
            k = knowledge[i, t]
            k0 = knowledge_start[i, t]
            if k > k0:
                k = k - p.knowledge_decay * (k - k0)
                knowledge[i, t] = k
            k_mean += k if p.knowledge_channel else k0
        k_mean /= n_topics
        flag = 0

        # Revenue and cost.
        vol = p.volatility_by_sector[sector[i]]
        noise = 1.0 + vol * math.sqrt(3.0) * (2.0 * u[i, U_NOISE] - 1.0)
        capacity = revenue_base[i] * (1.0 + employees[i] * p.revenue_per_employee)
        rev = capacity * demand[sector[i], region[i]] * noise
        rev *= 1.0 + p.knowledge_effect * (k_mean - p.knowledge_reference)
        lift = 1.0
        if venture_uplift[i] > 0.0:  # diminishing returns up to the firm's ceiling
            lift = 1.0 + p.max_uplift * (1.0 - math.exp(-venture_uplift[i] / p.max_uplift))
            rev *= lift
        rev *= 1.0 + referral[i]  # customers following the contacts' markets (phase 5)
        if problem_topic[i] >= 0:
            rev *= 1.0 - p.problem_penalty * problem_severity[i]
        if rev < 0.0:
            rev = 0.0
        weekly_cost = revenue_base[i] * p.cost_share + employees[i] * p.wage
        if advice[i] > 0.0:  # a mentor's current advice (suppliers, prices) saves cost, and goes stale
            weekly_cost *= 1.0 - p.advice_saving * advice[i]
            advice[i] *= 1.0 - p.advice_decay
        revenue[i] = rev
        cost[i] = weekly_cost
        cash[i] += rev - weekly_cost

        # Exit: baseline hazard, raised by distress, lowered by well-being (resilience).
        hazard = p.exit_hazard * (1.0 - p.resilience_effect * (2.0 * wellbeing[i] - 1.0))
        if cash[i] < 0.0:
            hazard *= p.distress_multiplier
        if u[i, U_EXIT] < hazard:
            alive[i] = False
            exit_week[i] = week
            flags[i] = F_EXIT
            continue
        if lift > 1.0:
            added += rev - rev / lift

        # Problems: arrive (more often while demand is down), or get solved alone with the
        # firm's own knowledge.
        d = demand[sector[i], region[i]]
        problem_rate = p.problem_rate
        if d < 1.0:
            problem_rate *= 1.0 + p.shock_problem_effect * (1.0 - d)
        if problem_topic[i] < 0:
            if u[i, U_PROBLEM] < problem_rate:
                scaled = u[i, U_TOPIC] * n_topics
                topic = int(scaled)
                problem_topic[i] = topic
                problem_severity[i] = p.problem_severity_min + (1.0 - p.problem_severity_min) * (scaled - topic)
        elif u[i, U_SOLVE] < p.self_solve_rate * (
                knowledge[i, problem_topic[i]] if p.knowledge_channel
                else knowledge_start[i, problem_topic[i]]):
            flag |= F_SOLVED
            problem_topic[i] = -1
            problem_severity[i] = 0.0

        # Well-being and confidence drift towards their targets; support received at
        # meetings and ties to peers (not membership itself) lift well-being; support fades.
        buffer = cash[i] / (p.wellbeing_buffer_weeks * weekly_cost + 1.0)
        if buffer > 1.0:
            buffer = 1.0
        if buffer < 0.0:
            buffer = 0.0
        target = p.wellbeing_base + p.wellbeing_cash * buffer
        if p.wellbeing_channel:
            target += p.support_effect * support[i]
            target += p.ties_effect * min(1.0, ties[i] / p.ties_for_full_effect)
        support[i] *= 1.0 - p.support_decay
        if problem_topic[i] >= 0:
            target -= p.wellbeing_problem * problem_severity[i]
        wellbeing[i] += p.wellbeing_drift * (target - wellbeing[i])
        confidence[i] += p.confidence_drift * (confidence_base[i] - confidence[i])

        # Hiring (first hire or expansion) and lay-offs. A hire costs ``hire_cost``; given
        # the hire, ``u / min(p_hire, 1)`` is a fresh uniform that decides whether it works out.
        hire_readiness[i] *= 1.0 - p.readiness_decay
        if cash[i] < 0.0 and employees[i] > 0 and u[i, U_HIRE] > 1.0 - p.layoff_rate:
            employees[i] -= 1
            flag |= F_LAYOFF
        elif (employees[i] < 9 and confidence[i] >= p.hire_confidence
              and cash[i] > p.hire_cash_weeks * weekly_cost):
            p_hire = (p.hire_rate * p.growth_by_type[firm_type[i]]
                      * (1.0 + p.readiness_effect * hire_readiness[i])
                      * (k_mean / p.knowledge_reference))
            if u[i, U_HIRE] < p_hire:
                cash[i] -= p.hire_cost
                hire_readiness[i] = 0.0
                if u[i, U_HIRE] / min(p_hire, 1.0) < p.hire_failure:
                    flag |= F_HIRE_FAILED
                else:
                    employees[i] += 1
                    flag |= F_HIRE

        # Innovation: tried with confidence, succeeding with knowledge and peer discussion.
        if u[i, U_INNOVATE] < p.innovation_rate * confidence[i]:
            chance = (p.innovation_success + innovation_boost[i]
                      + p.innovation_knowledge_effect * (k_mean - p.knowledge_reference))
            flag |= F_INNOVATION
            if u[i, U_SUCCESS] < chance:
                revenue_base[i] *= 1.0 + p.innovation_gain
                flag |= F_INNOVATION_OK
        innovation_boost[i] *= p.innovation_boost_retention
        flags[i] = flag
    return added
