"""The EMA Workbench adapter (copsim.ema): names, values and outcomes reach copsim and come
back as ``copsim.simulate`` gives them, on the sequential and the multiprocessing evaluator.

Tiny sizes (400 firms, a quarter or half a year) and a handful of experiments.
"""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from ema_workbench import (
    MultiprocessingEvaluator, Policy, RealParameter, Scenario, SequentialEvaluator,
    perform_experiments,
)

import copsim
from copsim import ema
from copsim.errors import ScenarioError

SIZE = {"population": 400, "years": 0.5}
PEER = "membership.peer_value"
HOURS = "funding.phases.0.facilitation_hours_per_week"


def test_docstring_examples_run() -> None:
    failed, attempted = doctest.testmod(ema, optionflags=doctest.ELLIPSIS)
    assert attempted >= 4
    assert failed == 0


def _model(**kwargs: object) -> object:
    return ema.ema_model("microentre", **SIZE, uncertainties={PEER: (0.05, 0.5)},
                         levers={HOURS: (5.0, 30.0)}, **kwargs)


SCENARIOS = [Scenario(f"s{i}", **{PEER: v}) for i, v in enumerate((0.05, 0.3, 0.5))]
POLICIES = [Policy(f"p{i}", **{HOURS: h}) for i, h in enumerate((5.0, 30.0))]


def test_sequential_and_multiprocessing_evaluators_agree_with_simulate() -> None:
    model = _model(outcomes=["participants_total", "knowledge_gain_members",
                             {"name": "members_last", "source": "timeseries",
                              "column": "members", "reduce": "last"}],
                   replications=2, seed=5)
    sequential = perform_experiments(model, SCENARIOS, POLICIES, evaluator=SequentialEvaluator(model))
    with MultiprocessingEvaluator(model, n_processes=2) as evaluator:
        parallel = evaluator.perform_experiments(SCENARIOS, POLICIES)
    experiments, outcomes = sequential
    assert len(experiments) == 6
    assert list(experiments[PEER]) == list(parallel[0][PEER])
    for name in outcomes:
        np.testing.assert_array_equal(outcomes[name], parallel[1][name])
    seeds = [r["seed"] for r in model.replications]
    assert len(set(seeds)) == 2
    for i, row in experiments.iterrows():
        runs = [copsim.simulate("microentre", seed=s, **SIZE,
                                overrides={PEER: row[PEER], HOURS: row[HOURS]}) for s in seeds]
        expected = np.mean([r.summary["participants_total"] for r in runs])
        assert outcomes["participants_total"][i] == expected
        assert outcomes["members_last"][i] == np.mean([r.timeseries["members"].iloc[-1]
                                                       for r in runs])
    # Peer value matters: the outcomes are not constant over the uncertainty.
    assert len(set(outcomes["knowledge_gain_members"])) > 1


def test_comparison_metrics_run_the_counterfactual_with_the_same_seed() -> None:
    model = ema.ema_model("microentre", **SIZE, uncertainties={PEER: (0.05, 0.5)}, seed=2,
                          outcomes=["survival_effect_pp", "participants_total"])
    experiments, outcomes = perform_experiments(model, SCENARIOS[:1], evaluator=SequentialEvaluator(model))
    seed = model.replications[0]["seed"]
    overrides = {PEER: float(experiments[PEER].iloc[0])}
    programme = copsim.simulate("microentre", seed=seed, **SIZE, overrides=overrides)
    without = copsim.simulate("microentre", seed=seed, **SIZE,
                              overrides={**overrides, "groups": [], "funding.phases": []})
    took_part = programme.firms["ever_member"].to_numpy(dtype=bool)
    effect = 100 * (programme.firms["alive"].to_numpy()[took_part].mean()
                    - without.firms["alive"].to_numpy()[took_part].mean())
    assert outcomes["participants_total"][0] == took_part.sum() > 0
    assert outcomes["survival_effect_pp"][0] == pytest.approx(effect, abs=1e-9)


def test_parameters_given_as_ema_objects_may_set_several_keys() -> None:
    skill = RealParameter("facilitator_skill", 0.3, 0.9,
                          variable_name=["facilitators.pbas.skill", "facilitators.researcher.skill"])
    model = ema.ema_model("microentre", **SIZE, levers=[skill], outcomes=["participants_total"])
    assert [p.name for p in model.levers] == ["facilitator_skill"]
    bad = RealParameter("too_skilled", 0.3, 1.5, variable_name=["facilitators.pbas.skill"])
    with pytest.raises(ScenarioError, match=r"levers: facilitators\.pbas\.skill: 1\.5 is above "
                                            r"the maximum 1 of facilitators\.pbas\.skill"):
        ema.ema_model("microentre", **SIZE, levers=[bad])


def test_categorical_and_integer_parameters_follow_the_schema() -> None:
    model = ema.ema_model("microentre", **SIZE,
                          uncertainties={"groups.0.cadence_weeks": (2, 6),
                                         "groups.0.mode": ["physical", "online"]},
                          outcomes=["participants_total"])
    kinds = {p.name: type(p).__name__ for p in model.uncertainties}
    assert kinds == {"groups.0.cadence_weeks": "IntegerParameter",
                     "groups.0.mode": "CategoricalParameter"}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"uncertainties": {"membership.peer_valu": (0.1, 0.2)}},
     "microentre (EMA model): uncertainties: membership.peer_valu: unknown scenario key"),
    ({"uncertainties": {PEER: (0.1, 1.2)}},
     f"microentre (EMA model): uncertainties: {PEER}: 1.2 is above the maximum 1 of {PEER}"),
    ({"levers": {"groups.0.mode": (0, 1)}},
     "microentre (EMA model): levers: groups.0.mode: is not a number, so it cannot have a range"),
    ({"levers": {"groups.0.mode": ["physical", "by pigeon"]}},
     "microentre (EMA model): levers: groups.0.mode: Input should be"),
    ({"outcomes": ["participants_totl"]},
     "microentre (EMA model): outcomes.0.column: 'participants_totl' is not a numeric summary"),
    ({"outcomes": ["participants_total", "participants_total"]},
     "microentre (EMA model): outcomes.1: 'participants_total' is named twice"),
    ({"replications": 0}, "microentre (EMA model): replications: 0: must be at least 1"),
    ({"overrides": {"learning.rte": 1}}, "microentre.toml: learning.rte: Extra inputs"),
])
def test_bad_input_is_one_line_naming_the_key(kwargs: dict, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        ema.ema_model("microentre", **SIZE, **kwargs)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_robustness_example_summarises_and_answers_from_its_numbers() -> None:
    import importlib.util

    from conftest import REPO

    spec = importlib.util.spec_from_file_location("robust_funding",
                                                  REPO / "experiments" / "robust_funding.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    levels = list(example.LEVELS)
    rows = [{"policy": level, example.PEER: peer, "survival_effect_pp": effect,
             "additional_surviving_firms": effect * 2, "participants_total": 100.0 * (i + 1),
             "cost_total_eur": 1e6 * (i + 1)}
            for i, level in enumerate(levels)
            for peer, effect in zip((0.1, 0.4), (-0.5 if level == "none" else 1.0 + i, 2.0),
                                    strict=True)]
    table = example.summary(pd.DataFrame(rows))
    assert list(table.index) == levels
    assert table.loc["none", "positive_at"] == "1 of 2"
    assert table.loc["none", "effect_worst_pp"] == -0.5
    text = example.answer(table)
    assert "for 4 of 5 funding levels" in text
    assert "The cheapest of them is 'quarter' (2.00 M EUR" in text
    assert "not a larger effect per participant" not in text  # the effect grows with funding here
