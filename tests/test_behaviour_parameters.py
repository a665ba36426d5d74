"""The behavioural numbers that were constants in the code are scenario parameters that
reach the rules: changing any one of them changes the run (their defaults are the old
constants, so the whole-run digests did not move)."""

from __future__ import annotations

import json
from functools import cache

import pandas as pd
import pytest

from copsim.engine.runner import simulate
from copsim.errors import ScenarioError
from copsim.scenario.io import set_dotted, validate_scenario
from copsim.scenario.schema import Scenario
from test_model import early_groups, small

CHANGED = {
    "firms.workload_by_type": [0.9, 0.9, 0.9, 0.9, 0.9],
    "firms.growth_by_type": [3.0, 0.3, 1.0, 0.6, 2.0],
    "firms.wellbeing_start": 0.3,
    "firms.wellbeing_base": 0.5,
    "firms.wellbeing_cash": 0.1,
    "firms.wellbeing_buffer_weeks": 2.0,
    "firms.wellbeing_problem": 0.6,
    "firms.layoff_rate_per_week": 0.5,
    "firms.hire_cash_weeks": 0.5,
    "firms.innovation_knowledge_effect": 3.0,
    "firms.innovation_boost_retention": 0.2,
    "firms.innovation_boost_cap": 0.01,
    "firms.argument_confidence": 0.0,
    "firms.employees_min_by_type": [0, 0, 0, 0, 0],
    "firms.employees_max_by_type": [3, 3, 4, 6, 2],
    "firms.confidence_mean": 0.2,
    "firms.confidence_growth": 0.6,
    "firms.confidence_sd": 0.01,
    "firms.revenue_dispersion": 0.9,
    "firms.problem_severity_min": 0.9,
    "learning.expert_trust": 0.0,
    "trust.dormant": 0.3,
    "attendance.distress_workload": 5.0,  # with firms in debt (CONTEXT)
    "ventures.max_coordination_partners": 0,
    "membership.satisfied_felt_value": 0.0,
    "membership.problem_acceptance_factor": 0.0,
    "membership.founding_problem_weight": 50.0,
    "membership.recruit_tries": 1,
    "membership.value_solved": 0.0,
    "membership.value_help": 3.0,
    "membership.value_venture": 3.0,
    "membership.value_confidence": 30.0,
    "membership.value_per_knowledge": 50.0,
    # the rules of issue 12
    "hiring.readiness_effect": 20.0,
    "hiring.readiness_decay_per_week": 0.5,
    "hiring.cost_eur": 20000.0,
    "hiring.failure_probability": 1.0,
    "wellbeing.support_effect": 1.0,
    "wellbeing.support_gain": 1.0,
    "wellbeing.support_decay_per_week": 1.0,
    "wellbeing.ties_effect": 1.0,
    "wellbeing.ties_for_full_effect": 0.01,
    "ventures.shared_cost_eur_per_week": 2000.0,
    "ventures.member_cost_eur_per_week": 2000.0,
    "ventures.max_uplift": 0.001,
    "ventures.distress_failure_effect": 20.0,  # with firms in debt (CONTEXT)
    "membership.invitations_per_hour": 1.0,
    "membership.leave_probability_per_meeting": 1.0,
    "membership.time_cost": 1.0,
    "membership.travel_cost": 1.0,
    "membership.absence_weight": 1.0,
    # the world outside the groups (issue 13)
    "contacts.mean_degree": 2.0,
    "contacts.same_sector_share": 0.9,
    "contacts.strength": 0.9,
    "contacts.partner_rate_per_year": 1.0,
    "contacts.referral_effect": 1.0,
    "contacts.competitor_sharing": 0.0,
}

# Settings under which a parameter matters at all (compared with the same settings).
CONTEXT = {"attendance.distress_workload": {"firms.cost_share": 1.05},
           "ventures.distress_failure_effect": {"firms.cost_share": 1.05}}


@cache
def base() -> Scenario:
    s = small(years=2.0, population=1500, firms__cash_weeks=0.5)
    groups = [{**g, "expert_talks": True} for g in early_groups(s)]
    data = s.model_dump()
    data["groups"] = groups
    data["funding"]["phases"][0]["recruitment_hours_per_week"] = 3.0
    return validate_scenario(data)


def with_values(scenario: Scenario, values: dict[str, object]) -> Scenario:
    """The scenario with dotted keys set, as a sweep or `copsim run --set` sets them."""
    data = scenario.model_dump()
    for key, value in values.items():
        set_dotted(data, key.split("."), value, "test")
    return validate_scenario(data)


@cache
def run(values: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Time series, events and snapshots of the base scenario with ``values`` (JSON) set."""
    result = simulate(with_values(base(), json.loads(values)), seed=3)
    return result.timeseries, result.events, result.agents


def outputs(key: str, changed: bool) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    values = dict(CONTEXT.get(key, {}))
    if changed:
        values[key] = CHANGED[key]
    return run(json.dumps(values, sort_keys=True))


@pytest.mark.parametrize("key", list(CHANGED))
def test_each_parameter_changes_the_run(key: str) -> None:
    changed, default = outputs(key, True), outputs(key, False)
    assert not all(a.equals(b) for a, b in zip(changed, default, strict=True)), key


def test_firm_type_tables_are_checked() -> None:
    with pytest.raises(ScenarioError, match=r"firms\.employees_max_by_type\.2: needs 0 <= "):
        with_values(base(), {"firms.employees_min_by_type": [0, 0, 5, 1, 0]})
    with pytest.raises(ScenarioError, match=r"firms\.growth_by_type: must be non-negative"):
        with_values(base(), {"firms.growth_by_type": [0.0, 0.0, 0.0, 0.0, 0.0]})
    with pytest.raises(ScenarioError, match=r"firms\.workload_by_type: List should have at least 5"):
        with_values(base(), {"firms.workload_by_type": [0.5]})
