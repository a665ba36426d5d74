"""Calibration targets: what the model must reproduce, and which parameters may move.

A targets file (``calibration/targets.toml``) names a base scenario, the parameters to
calibrate (each must have a prior, see :mod:`copsim.scenario.priors`) and the targets:
each an :class:`~copsim.studies.experiments.Outcome` of a run (a summary number or a
reduction of a weekly column, so the statistics are the ones sweeps record) with an
observed value, its uncertainty (one standard deviation), its source and a sentence on
which parameters it constrains. Everything is checked before anything runs; problems
are one line ``<file>: <key>: <reason>``.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typing import Literal

from pydantic import Field, ValidationError, model_validator

from copsim import resources
from copsim.errors import ScenarioError
from copsim.scenario.io import (
    first_error_line,
    load_scenario,
    scale_population,
    with_years,
)
from copsim.scenario.odd_tables import source_of
from copsim.scenario.priors import Prior, prior_of
from copsim.scenario.schema import Scenario, Strict
from copsim.studies.experiments import Outcome, scenario_field
from copsim.studies.posterior import with_values
from copsim.studies.trial_design import OUTCOMES, TrialPlan, load_trial


class TrialStatistic(Strict):
    """A statistic of a shipped trial (trials/): an arm's effect on an outcome at a horizon."""

    file: str = Field(min_length=1, description="trial name in trials/ or a trial file")
    arm: str = Field(min_length=1, description="the arm compared with the control group")
    outcome: str = Field(min_length=1, description="an outcome the trial measures (trials/README.md)")
    weeks: int = Field(ge=1, description="weeks after the start, at or after the arm's end")
    measure: Literal["relative_effect", "effect"] = Field(
        "relative_effect", description="difference in means of arm and control "
        "(relative_effect: divided by the control mean), what the trial's evaluator sees")
    replicates: int = Field(1, ge=1, description="trials simulated per simulation (their mean)")


class Target(Outcome):
    """One observed statistic of a run of the base scenario, or of a trial (``trial``)."""

    observed: float = Field(description="the observed value")
    sd: float = Field(gt=0, description="its uncertainty, one standard deviation (scales the distance)")
    source: str = Field(min_length=1, description="where the observed value comes from")
    constrains: str = Field(min_length=1, description="which parameters it constrains, and why")
    trial: TrialStatistic | None = Field(None, description="the statistic is of this trial, not of a run")

    @model_validator(mode="after")
    def _known(self) -> Target:
        """A run statistic must be one a run records; a trial statistic is checked on load."""
        return self if self.trial is not None else Outcome._known(self)


class TargetsFile(Strict):
    """A targets file, as read."""

    scenario: str = Field("microentre", min_length=1, description="base scenario (name or path)")
    population: int | None = Field(None, ge=1, description="scale the regions to this many firms")
    years: float | None = Field(None, gt=0, le=100, description="horizon (default: the scenario's)")
    parameters: list[str] = Field(min_length=1, description="dotted keys of the calibrated parameters")
    targets: list[Target] = Field(min_length=1, description="observed statistics")


@dataclass(frozen=True)
class Calibration:
    """A checked targets file: base scenario data, parameters with priors, targets."""

    source: str
    base: dict[str, Any]  # the base scenario (scaled), as plain data
    priors: dict[str, Prior]  # dotted key -> prior, in file order
    targets: list[Target]
    digest: str  # what decides the result (result_digest): a resumed run must match
    trials: dict[str, TrialPlan] = field(default_factory=dict)  # trial target name -> its trial

    @property
    def parameters(self) -> list[str]:
        """The calibrated keys, in file order."""
        return list(self.priors)

    def scenario(self, values: dict[str, float]) -> Scenario:
        """The base scenario with the calibrated parameters set to ``values``."""
        return with_values(self.base, values, self.source)


def load_targets(path: str | Path) -> Calibration:
    """Read and check a targets file; ScenarioError (one line) on any problem."""
    path = Path(path)
    source = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{source}: (file): cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: (file): not valid TOML: {exc}") from None
    try:
        spec = TargetsFile.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(first_error_line(exc, source)) from None
    _unique_names(spec, source)
    scenario = load_scenario(spec.scenario)
    if spec.population is not None:
        scenario = scale_population(scenario, spec.population)
    if spec.years is not None:
        scenario = with_years(scenario, spec.years)
    base = scenario.model_dump(mode="json")
    priors = {key: _prior(key, i, base, source) for i, key in enumerate(spec.parameters)}
    trials = {t.name: _trial(t.trial, i, priors, source)
              for i, t in enumerate(spec.targets) if t.trial is not None}
    digest = result_digest(base, priors, spec.targets, trials)
    return Calibration(source, base, priors, spec.targets, digest, trials)


def _trial(stat: TrialStatistic, index: int, priors: dict[str, Prior], source: str) -> TrialPlan:
    """The trial of a trial target, cut to its one horizon; one line if it cannot serve."""
    where = f"{source}: targets.{index}.trial"
    try:
        plan = load_trial(resources.resolve(stat.file, resources.TRIALS))
    except ScenarioError as exc:
        raise ScenarioError(f"{where}.file: {exc}") from None
    if stat.arm not in [a.name for a in plan.trial.arms]:
        raise ScenarioError(f"{where}.arm: {stat.arm!r} is not an arm of {plan.name} "
                            f"(arms: {', '.join(a.name for a in plan.trial.arms)})")
    if stat.outcome not in OUTCOMES:
        raise ScenarioError(f"{where}.outcome: {stat.outcome!r} is not a trial outcome "
                            f"(known: {', '.join(OUTCOMES)})")
    longest = max(a.weeks for a in plan.trial.arms)
    if stat.weeks < longest:
        raise ScenarioError(f"{where}.weeks: {stat.weeks} is before the trial's arms end "
                            f"(week {longest})")
    for key in priors:
        try:
            scenario_field(key, plan.base)
        except ValueError as exc:
            raise ScenarioError(f"{where}.file: {key}: not in the trial's scenario ({exc})") from None
    trial = plan.trial.model_copy(update={"horizons": [stat.weeks], "outcomes": [stat.outcome]})
    return TrialPlan(trial, plan.source, plan.base)


TEXT_ONLY = {"source", "constrains"}  # a target's citation and explanation
SCENARIO_TEXT = ("title", "description")


def result_digest(base: dict[str, Any], priors: dict[str, Prior], targets: list[Target],
                  trials: dict[str, TrialPlan]) -> str:
    """What decides a calibration's result, and nothing else: the base scenario as simulated
    (not its title or description), the calibrated keys with their priors, each target's
    statistic, observed value and uncertainty (not its source or explanation, nor comments),
    and the trials of trial targets as resolved.
    A history can be continued exactly when this is unchanged."""
    content = {
        "base": {k: v for k, v in base.items() if k not in SCENARIO_TEXT},
        "priors": [[key, p.shape, p.low, p.high] for key, p in priors.items()],
        "targets": [t.model_dump(mode="json", exclude=TEXT_ONLY) for t in targets],
        "trials": {name: plan.manifest()["experiment_hash"] for name, plan in trials.items()},
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _unique_names(spec: TargetsFile, source: str) -> None:
    names = [t.name for t in spec.targets]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ScenarioError(f"{source}: targets.{i}.name: {name!r} appears twice")
    for i, key in enumerate(spec.parameters):
        if key in spec.parameters[:i]:
            raise ScenarioError(f"{source}: parameters.{i}: {key!r} appears twice")


def _prior(key: str, index: int, base: dict[str, Any], source: str) -> Prior:
    """The prior of a calibrated key, or a one-line error saying why there is none."""
    where = f"{source}: parameters.{index}"
    try:
        kind, info = scenario_field(key, base)
    except ValueError as exc:
        raise ScenarioError(f"{where}: {key}: {exc}") from None
    if kind not in (int, float) or info is None:
        raise ScenarioError(f"{where}: {key} is not a number, so it cannot be calibrated")
    value: Any = base
    for part in key.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    prior = prior_of(info, value, source_of(info))
    if prior is None:
        raise ScenarioError(f"{where}: {key} has no prior (its source is {source_of(info)!r} and it "
                            "declares none; add prior=(shape, low, high) to its param in the schema)")
    return prior
