"""EMA Workbench adapter: a copsim scenario as an ``ema_workbench`` model.

:func:`ema_model` builds a ``ReplicatorModel`` whose uncertainties and levers are
named by dotted scenario keys (``membership.peer_value``) and whose outcomes are
named like a sweep's (``participant_survival_rate``, a weekly column reduced, see
experiments/README.md), or like a comparison's metrics (``survival_effect_pp``,
``cost_per_additional_surviving_firm_eur``: see :data:`copsim.studies.compare.METRICS`).
A comparison metric makes every experiment run the scenario's no-programme
counterfactual as well, with the same seed, so that effects are measured on the
same firms as ``copsim compare`` measures them.

Every experiment runs ``replications`` seeds, the same in every experiment (common
random numbers: differences between experiments are not sampling noise), and each
outcome is the mean over them. Keys, ranges and outcomes are checked when the model
is built: problems are one-line :class:`copsim.ScenarioError` messages naming the key.

>>> from ema_workbench import SequentialEvaluator, perform_experiments
>>> model = ema_model("microentre", population=400, years=0.5,
...                   uncertainties={"membership.peer_value": (0.1, 0.4)},
...                   levers={"funding.phases.0.facilitation_hours_per_week": (5.0, 30.0)},
...                   outcomes=["participants_total", "knowledge_gain_members"])
>>> [u.name for u in model.uncertainties], [o.name for o in model.outcomes]
(['membership.peer_value'], ['participants_total', 'knowledge_gain_members'])
>>> with SequentialEvaluator(model) as evaluator:
...     experiments, outcomes = evaluator.perform_experiments(scenarios=3, policies=2)
>>> len(experiments), sorted(outcomes)
(6, ['knowledge_gain_members', 'participants_total'])
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

with warnings.catch_warnings():  # ema_workbench warns on import when ipyparallel is missing
    warnings.filterwarnings("ignore", message="ipyparallel not installed")
    from ema_workbench import (
        CategoricalParameter,
        IntegerParameter,
        RealParameter,
        ReplicatorModel,
        ScalarOutcome,
    )
    from ema_workbench.em_framework.parameters import Parameter

from copsim.api import ScenarioLike, resolve_scenario
from copsim.engine.kernels import Engine
from copsim.errors import ScenarioError
from copsim.scenario.io import first_error_line, with_overrides
from copsim.scenario.schema import Scenario
from copsim.studies.compare import METRICS, Pair, counterfactual, replicate_outcomes
from copsim.studies.experiments import Outcome, bounds_reason, outcome_values, run_seed, scenario_field
from copsim.studies.jobs import Job, run_job

COMPARISON_OUTCOMES = tuple(m.key for m in METRICS if not m.shock_only)
DEFAULT_OUTCOMES = ("participants_total", "joint_ventures_formed", "knowledge_gain_members",
                    "participant_survival_rate", "cost_per_participant_eur")
Range = tuple[float, float]
Inputs = Mapping[str, Range | Sequence[Any]] | Sequence[Parameter]


def ema_model(scenario: ScenarioLike = "microentre", *, uncertainties: Inputs = (),
              levers: Inputs = (), outcomes: Sequence[str | Mapping[str, Any]] = DEFAULT_OUTCOMES,
              replications: int = 1, seed: int = 1, overrides: Mapping[str, Any] | None = None,
              population: int | None = None, years: float | None = None,
              shock: str | Path | None = None, engine: Engine = "numba",
              name: str | None = None) -> ReplicatorModel:
    """An ema_workbench model of a scenario (resolved like :func:`copsim.simulate`'s).

    ``uncertainties`` and ``levers`` map dotted keys to a range ``(low, high)`` (a
    ``RealParameter``, or an ``IntegerParameter`` for whole-number keys) or to a list of
    values (a ``CategoricalParameter``); or they are ema_workbench parameters whose
    variable names are dotted keys (one parameter may set several keys). ``outcomes``
    are names of summary values or comparison metrics, or mappings with the fields of an
    experiment file's ``[[outcomes]]`` (weekly columns reduced to one number).
    """
    base = resolve_scenario(scenario, overrides or {}, years=years, population=population,
                            shock=shock)
    source = f"{base.name} (EMA model)"
    if replications < 1:
        raise ScenarioError(f"{source}: replications: {replications}: must be at least 1")
    data = base.model_dump()
    model = ReplicatorModel(name or _alphanumeric(base.name), function=CopsimRun(
        base, _outcomes(outcomes, source), engine))
    model.uncertainties = _parameters(uncertainties, data, f"{source}: uncertainties")
    model.levers = _parameters(levers, data, f"{source}: levers")
    model.outcomes = [ScalarOutcome(o.name, function=np.mean) for o in model.function.outcomes]
    model.replications = [{"seed": run_seed(seed, 0, r, common=True)} for r in range(replications)]
    return model


@dataclass(frozen=True)
class CopsimRun:
    """One replication of one experiment: the base scenario with the experiment's values,
    simulated with the replication's seed (picklable, for ema's process pools)."""

    base: Scenario
    outcomes: tuple[Outcome, ...]
    engine: Engine = "numba"

    @property
    def needs_counterfactual(self) -> bool:
        """Whether an outcome is a comparison metric (an effect against no programme)."""
        return any(o.name in COMPARISON_OUTCOMES for o in self.outcomes)

    def __call__(self, seed: int, **values: Any) -> dict[str, float]:
        """The outcomes of one run; ema passes the sampled values by dotted key."""
        values = {key: _plain(v) for key, v in values.items()}
        scenario = with_overrides(self.base, values, f"{self.base.name} (EMA experiment)")
        programme = run_job(Job(("ema",), scenario, seed, self.engine))
        sweep_like = [o for o in self.outcomes if o.name not in COMPARISON_OUTCOMES]
        out = outcome_values(sweep_like, programme.summary, programme.timeseries)
        if self.needs_counterfactual:
            without = run_job(Job(("ema", "without"), counterfactual(scenario), seed, self.engine))
            metrics = replicate_outcomes(Pair(scenario.name, 0, seed, programme, without, None))
            out |= {o.name: metrics[o.name] for o in self.outcomes if o.name in metrics}
        return out


def _outcomes(items: Sequence[str | Mapping[str, Any]], source: str) -> tuple[Outcome, ...]:
    """Sweep outcomes (checked by the experiment schema) and comparison metrics."""
    if isinstance(items, str | Mapping) or not items:
        raise ScenarioError(f"{source}: outcomes: a non-empty list of outcome names or tables")
    checked = []
    for i, item in enumerate(items):
        spec = {"name": item, "source": "job"} if item in COMPARISON_OUTCOMES else (
            {"name": item} if isinstance(item, str) else dict(item))
        try:
            checked.append(Outcome.model_validate(spec))
        except ValidationError as exc:
            raise ScenarioError(first_error_line(exc, f"{source}: outcomes.{i}")
                                .replace(f"outcomes.{i}: ", f"outcomes.{i}.", 1)) from None
    names = [o.name for o in checked]
    for i, n in enumerate(names):
        if n in names[:i]:
            raise ScenarioError(f"{source}: outcomes.{i}: {n!r} is named twice")
    return tuple(checked)


def _parameters(inputs: Inputs, data: Mapping[str, Any], source: str) -> list[Parameter]:
    """ema parameters named by dotted keys, each key checked against the scenario schema."""
    if isinstance(inputs, Mapping):
        params = [_parameter(key, spec, data, source) for key, spec in inputs.items()]
    else:
        params = list(inputs)
    base = Scenario.model_validate(data)
    for param in params:
        for key in param.variable_name:
            _, info = _field(key, data, source)
            if isinstance(param, CategoricalParameter):
                for category in param.categories:
                    with_overrides(base, {key: _plain(category.value)}, source)
                continue
            for end in (param.lower_bound, param.upper_bound):
                reason = bounds_reason(end, info, key)
                if reason:
                    raise ScenarioError(f"{source}: {key}: {reason}")
    return params


def _parameter(key: str, spec: Any, data: Mapping[str, Any], source: str) -> Parameter:
    kind, _ = _field(key, data, source)
    if isinstance(spec, tuple) and len(spec) == 2:
        if kind not in (int, float):
            raise ScenarioError(f"{source}: {key}: is not a number, so it cannot have a range; "
                                "give a list of values")
        low, high = spec
        if not low < high:
            raise ScenarioError(f"{source}: {key}: the range needs low < high, not {spec}")
        if kind is int:
            return IntegerParameter(key, int(low), int(high))
        return RealParameter(key, float(low), float(high))
    if isinstance(spec, list) and spec:
        return CategoricalParameter(key, spec)
    raise ScenarioError(f"{source}: {key}: give a range (low, high) or a list of values, "
                        f"not {spec!r}")


def _field(key: str, data: Mapping[str, Any], source: str) -> tuple[Any, Any]:
    try:
        return scenario_field(key, data)
    except ValueError as exc:
        raise ScenarioError(f"{source}: {key}: {exc}") from None


def _plain(value: Any) -> Any:
    """Sampled values as Python values (the scenario schema is strict about types)."""
    return value.item() if isinstance(value, np.generic) else value


def _alphanumeric(name: str) -> str:
    """ema_workbench wants a model name of letters and digits only."""
    return re.sub(r"[^A-Za-z0-9]", "", name) or "copsim"
