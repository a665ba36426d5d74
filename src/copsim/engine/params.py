"""Kernel-ready parameter bundles derived from a validated Scenario.

NamedTuples of numbers and small arrays: the only bridge from pydantic objects
to numba kernels (which take them as arguments, never as globals).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from copsim.scenario.schema import WEEKS_PER_YEAR, Scenario
from copsim.dtypes import Activity, GroupMode, enum_names


class BusinessParams(NamedTuple):
    exit_hazard: float
    distress_multiplier: float
    resilience_effect: float
    problem_rate: float
    problem_penalty: float
    self_solve_rate: float
    knowledge_effect: float
    knowledge_reference: float
    hire_rate: float
    hire_confidence: float
    innovation_rate: float
    innovation_success: float
    innovation_gain: float
    confidence_drift: float
    wellbeing_drift: float
    wage: float
    revenue_per_employee: float
    cost_share: float
    knowledge_decay: float
    growth_by_type: np.ndarray
    volatility_by_sector: np.ndarray
    wellbeing_base: float
    wellbeing_cash: float
    wellbeing_buffer_weeks: float
    wellbeing_problem: float
    layoff_rate: float
    hire_cash_weeks: float
    innovation_knowledge_effect: float
    innovation_boost_retention: float
    problem_severity_min: float
    shock_problem_effect: float
    max_uplift: float
    readiness_effect: float
    readiness_decay: float
    hire_cost: float
    hire_failure: float
    support_effect: float
    support_decay: float
    ties_effect: float
    ties_for_full_effect: float
    knowledge_channel: bool
    wellbeing_channel: bool
    advice_saving: float
    advice_decay: float


class MeetingParams(NamedTuple):
    attend_base: float
    attend_felt_value: float
    attend_facilitation: float
    attend_travel: float
    attend_ties: float
    attend_workload: float
    workload_by_type: np.ndarray
    distress_workload: float
    travel_by_mode: np.ndarray
    trust_by_mode: np.ndarray
    learning_by_mode: np.ndarray
    visits_by_mode: np.ndarray
    sparsity_by_region: np.ndarray
    learning_rate: float
    stranger_trust: float
    facilitation_gain: float
    activity_probability: np.ndarray
    activity_effect: np.ndarray
    venture_min_trust: float
    venture_uplift: float
    customer_uplift: float
    hire_confidence: float
    peak_gap: float
    channel_rate: float
    peer_value: float
    felt_value_memory: float
    support_gain: float
    expert_trust: float
    innovation_boost_cap: float
    argument_confidence: float
    max_coordination_partners: int
    value_solved: float
    value_help: float
    value_venture: float
    value_confidence: float
    value_per_knowledge: float
    problem_channel: bool
    hiring_channel: bool
    competitor_sharing: float


class TrustParams(NamedTuple):
    meeting_gain: float
    visit_gain: float
    decay: float
    venture_gain: float
    venture_loss: float
    end_rate: float
    failure_rate: float
    tie_threshold: float
    strong_threshold: float
    dormant: float
    shared_cost: float
    member_cost: float
    distress_failure: float
    demand_failure: float
    ventures_channel: bool
    customers_channel: bool


class ContactParams(NamedTuple):
    strength: float
    tie_threshold: float
    partner_rate: float
    referral_effect: float
    revenue_per_employee: float
    uplift: float
    partners_channel: bool
    referrals_channel: bool


class MentoringParams(NamedTuple):
    session_probability: float
    learning_rate: float
    solve_probability: float
    confidence_gain: float
    advice_gain: float
    mentoring_channel: bool


class Params(NamedTuple):
    """Every bundle, built once per model: the one route from a scenario to the kernels."""

    business: BusinessParams
    meeting: MeetingParams
    trust: TrustParams
    contacts: ContactParams
    mentoring: MentoringParams


def weekly_rate(per_year: float) -> float:
    """The weekly probability equivalent to an annual probability."""
    return 1.0 - (1.0 - per_year) ** (1.0 / WEEKS_PER_YEAR)


def business_params(s: Scenario) -> BusinessParams:
    """Parameters of the business update kernel."""
    f = s.firms
    return BusinessParams(
        exit_hazard=weekly_rate(f.exit_rate_per_year),
        distress_multiplier=f.distress_exit_multiplier,
        resilience_effect=f.resilience_exit_effect,
        problem_rate=f.problem_rate_per_week,
        problem_penalty=f.problem_revenue_penalty,
        self_solve_rate=f.self_solve_rate,
        knowledge_effect=f.knowledge_revenue_effect,
        knowledge_reference=f.knowledge_mean,
        hire_rate=f.hire_rate_per_week,
        hire_confidence=f.hire_confidence,
        innovation_rate=f.innovation_rate_per_week,
        innovation_success=f.innovation_success,
        innovation_gain=f.innovation_gain,
        confidence_drift=f.confidence_drift,
        wellbeing_drift=f.wellbeing_drift,
        wage=f.wage_eur_per_week,
        revenue_per_employee=f.revenue_per_employee,
        cost_share=f.cost_share,
        knowledge_decay=s.learning.decay_per_week,
        growth_by_type=np.array(f.growth_by_type),
        volatility_by_sector=np.array([x.demand_volatility for x in s.environment.sectors]),
        wellbeing_base=f.wellbeing_base,
        wellbeing_cash=f.wellbeing_cash,
        wellbeing_buffer_weeks=f.wellbeing_buffer_weeks,
        wellbeing_problem=f.wellbeing_problem,
        layoff_rate=f.layoff_rate_per_week,
        hire_cash_weeks=f.hire_cash_weeks,
        innovation_knowledge_effect=f.innovation_knowledge_effect,
        innovation_boost_retention=f.innovation_boost_retention,
        problem_severity_min=f.problem_severity_min,
        shock_problem_effect=f.shock_problem_effect,
        max_uplift=s.ventures.max_uplift,
        readiness_effect=s.hiring.readiness_effect,
        readiness_decay=s.hiring.readiness_decay_per_week,
        hire_cost=s.hiring.cost_eur,
        hire_failure=s.hiring.failure_probability,
        support_effect=s.wellbeing.support_effect,
        support_decay=s.wellbeing.support_decay_per_week,
        ties_effect=s.wellbeing.ties_effect,
        ties_for_full_effect=s.wellbeing.ties_for_full_effect,
        knowledge_channel=s.channels.knowledge,
        wellbeing_channel=s.channels.wellbeing,
        advice_saving=s.mentoring.advice_cost_saving,
        advice_decay=s.mentoring.advice_decay_per_week,
    )


def meeting_params(s: Scenario) -> MeetingParams:
    """Parameters of the attendance, meeting and exchange kernels."""
    modes = [getattr(s.modes, name) for name in enum_names(GroupMode)]
    acts = [s.activities[name] for name in enum_names(Activity)]
    a = s.attendance
    return MeetingParams(
        attend_base=a.base,
        attend_felt_value=a.felt_value,
        attend_facilitation=a.facilitation,
        attend_travel=a.travel,
        attend_ties=a.ties,
        attend_workload=a.workload,
        workload_by_type=np.array(s.firms.workload_by_type),
        distress_workload=a.distress_workload,
        travel_by_mode=np.array([m.travel_factor for m in modes]),
        trust_by_mode=np.array([m.trust_factor for m in modes]),
        learning_by_mode=np.array([m.learning_factor for m in modes]),
        visits_by_mode=np.array([m.visits for m in modes], dtype=np.bool_),
        sparsity_by_region=np.array([r.sparsity for r in s.regions]),
        learning_rate=s.learning.rate,
        stranger_trust=s.learning.stranger_trust,
        facilitation_gain=s.learning.facilitation_gain,
        activity_probability=np.array([x.probability for x in acts]),
        activity_effect=np.array([x.effect for x in acts]),
        venture_min_trust=s.ventures.min_trust,
        venture_uplift=s.ventures.uplift,
        customer_uplift=s.ventures.customer_uplift,
        hire_confidence=s.firms.hire_confidence,
        peak_gap=s.learning.peak_gap,
        channel_rate=s.learning.rate * s.learning.online_channel_rate,
        peer_value=s.membership.peer_value,
        felt_value_memory=s.membership.felt_value_memory,
        support_gain=s.wellbeing.support_gain,
        expert_trust=s.learning.expert_trust,
        innovation_boost_cap=s.firms.innovation_boost_cap,
        argument_confidence=s.firms.argument_confidence,
        max_coordination_partners=s.ventures.max_coordination_partners,
        value_solved=s.membership.value_solved,
        value_help=s.membership.value_help,
        value_venture=s.membership.value_venture,
        value_confidence=s.membership.value_confidence,
        value_per_knowledge=s.membership.value_per_knowledge,
        problem_channel=s.channels.problem_solving,
        hiring_channel=s.channels.hiring,
        competitor_sharing=s.contacts.competitor_sharing if s.channels.competition else 1.0,
    )


def trust_params(s: Scenario) -> TrustParams:
    """Parameters of the tie and venture kernels."""
    return TrustParams(
        meeting_gain=s.trust.meeting_gain,
        visit_gain=s.activities["visits"].effect,
        decay=s.trust.decay_per_week,
        venture_gain=s.trust.venture_gain,
        venture_loss=s.trust.venture_loss,
        end_rate=1.0 / s.ventures.mean_duration_weeks,
        failure_rate=s.ventures.failure_rate_per_week,
        tie_threshold=s.trust.tie_threshold,
        strong_threshold=s.trust.strong_threshold,
        dormant=s.trust.dormant,
        shared_cost=s.ventures.shared_cost_eur_per_week,
        member_cost=s.ventures.member_cost_eur_per_week,
        distress_failure=s.ventures.distress_failure_effect,
        demand_failure=s.ventures.demand_failure_effect,
        ventures_channel=s.channels.ventures,
        customers_channel=s.channels.customers,
    )


def contact_params(s: Scenario) -> ContactParams:
    """Parameters of the weekly contacts kernel (docs/odd.md 7.19)."""
    c = s.contacts
    return ContactParams(
        strength=c.strength,
        tie_threshold=s.trust.tie_threshold,
        partner_rate=c.partner_rate_per_year / WEEKS_PER_YEAR,
        referral_effect=c.referral_effect,
        revenue_per_employee=s.firms.revenue_per_employee,
        uplift=s.ventures.uplift,
        partners_channel=s.channels.partners,
        referrals_channel=s.channels.referrals,
    )


def mentoring_params(s: Scenario) -> MentoringParams:
    """Parameters of the mentoring session kernel."""
    m = s.mentoring
    return MentoringParams(
        session_probability=m.session_probability,
        learning_rate=m.learning_rate,
        solve_probability=m.solve_probability,
        confidence_gain=m.confidence_gain,
        advice_gain=m.advice_gain,
        mentoring_channel=s.channels.mentoring,
    )


def build_params(s: Scenario) -> Params:
    """The bundles of a scenario."""
    return Params(business_params(s), meeting_params(s), trust_params(s), contact_params(s),
                  mentoring_params(s))


