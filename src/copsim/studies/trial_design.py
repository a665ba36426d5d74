"""Trial files: a randomised field experiment run in silico (``trials/*.toml``).

A trial names a base scenario (the population and the model's parameters), who is
eligible, how firms are randomised (individually or in whole groups, within strata,
into arms with given shares), what each arm's programme is (peer groups of a size,
cadence, number of meetings, mode), when the intervention starts, when outcomes are
measured (weeks after the start), and which outcomes. :func:`load_trial` reads and
checks a file like a scenario: every problem is one line ``<file>: <key>: <reason>``
(:class:`ScenarioError`, exit code 2 in the CLI), before anything runs.

Units of time: the baseline is the state after ``start_week`` weeks (the end of the
week before the first meeting); a horizon ``h`` is the state ``h`` weeks later. Each
arm's groups meet ``meetings`` times every ``cadence_weeks`` weeks from the start; an arm
with mentoring pairs its firms with mentors who meet them ``mentoring_sessions`` times
every ``mentoring_cadence_weeks`` weeks. The groups end when the longer of the two is
over (``groups[].end_week``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from copsim.version import __version__
from copsim.dtypes import FirmType, enum_names
from copsim.errors import ScenarioError
from copsim.scenario.io import first_error_line, read_toml, scenario_hash
from copsim.scenario.schema import WEEKS_PER_YEAR, KeyedValueError, Scenario, Strict
from copsim.studies.experiments import Task, resolve_base, run_id, run_seed
from copsim.studies.posterior import Draws

CONTROL = "control"


@dataclass(frozen=True)
class OutcomeSpec:
    """An outcome a trial can measure for each firm."""

    label: str
    unit: str
    scale: Literal["log", "level", "none"]  # ANCOVA on the log, on the level, or none (no baseline)
    survivors_only: bool  # measured on firms still in business (exits are attrition)


OUTCOMES: dict[str, OutcomeSpec] = {
    "revenue": OutcomeSpec("Revenue", "EUR/week", "log", True),
    "profit": OutcomeSpec("Profit (revenue minus running cost)", "EUR/week", "level", True),
    "survival": OutcomeSpec("Still in business", "share", "none", False),
    "employment": OutcomeSpec("Employment (owner and employees)", "persons", "log", True),
    "partners": OutcomeSpec("Business partners (ties at the tie threshold or joint ventures)", "firms",
                            "level", True),
    "knowledge": OutcomeSpec("Knowledge (mean over topics)", "0-1", "log", True),
}


class Eligibility(Strict):
    """Who may enter the trial: firms in business at the baseline that match every filter."""

    firm_types: list[str] = Field(default_factory=list, description="firm types (empty: all)")
    sectors: list[str] = Field(default_factory=list, description="sectors (empty: all)")
    regions: list[str] = Field(default_factory=list, description="regions (empty: all)")
    min_employees: int = Field(0, ge=0, description="fewest employees")
    max_employees: int | None = Field(None, ge=0, description="most employees (none: no limit)")

    @model_validator(mode="after")
    def _known_types(self) -> Eligibility:
        known = enum_names(FirmType)
        for i, name in enumerate(self.firm_types):
            if name not in known:
                raise KeyedValueError(f"firm_types.{i}", f"unknown firm type {name!r} (known: {', '.join(known)})")
        if self.max_employees is not None and self.max_employees < self.min_employees:
            raise KeyedValueError("max_employees", f"is below min_employees ({self.min_employees})")
        return self


class Randomisation(Strict):
    """How eligible firms are sampled and assigned to arms."""

    unit: Literal["firm", "group"] = Field(
        "firm", description="firm: individual assignment, treated firms then grouped; group: whole groups assigned")
    strata: Literal["none", "region", "sector"] = Field(
        "region", description="assignment is balanced within each stratum")
    sample_size: int | None = Field(None, ge=4, description="firms in the trial (none: every eligible firm)")
    group_size: int = Field(10, ge=2, description="firms per group (the unit of clustered randomisation)")

    @model_validator(mode="after")
    def _groups_within_strata(self) -> Randomisation:
        if self.unit == "group" and self.strata == "sector":
            raise KeyedValueError("strata", "groups mix sectors: clustered randomisation is stratified "
                                  "by region or not at all")
        return self


Mode = Literal["physical", "online", "hybrid", "communal_space"]


class Arm(Strict):
    """A treatment arm: a programme of peer groups, mentoring pairs or both for a share of
    the trial's units."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="arm name")
    description: str = Field("", description="what the arm offers")
    share: float = Field(gt=0, lt=1, description="share of the units assigned to this arm")
    meetings: int = Field(ge=0, description="group meetings offered (0: mentoring only)")
    cadence_weeks: int = Field(4, ge=1, description="weeks between meetings")
    mode: Mode = Field("physical", description="how the groups meet")
    channel: bool = Field(True, description="an online channel between meetings")
    expert_talks: bool = Field(False, description="short expert talks bring outside knowledge")
    mentoring: Literal["none", "peers", "local"] = Field(
        "none", description="mentoring pairs: none, peers (within the arm's groups) or local "
        "(experienced entrepreneurs of the region outside the trial's groups)")
    mentoring_sessions: int = Field(6, ge=1, description="sessions each mentee gets")
    mentoring_cadence_weeks: int = Field(2, ge=1, description="weeks between a pair's sessions")

    @model_validator(mode="after")
    def _offers_something(self) -> Arm:
        if self.meetings == 0 and self.mentoring == "none":
            raise KeyedValueError("meetings", "an arm without meetings needs mentoring (peers or local)")
        return self

    @property
    def weeks(self) -> int:
        """Weeks from the first meeting (or session) to the end of the programme."""
        mentoring = 0 if self.mentoring == "none" else self.mentoring_sessions * self.mentoring_cadence_weeks
        return max(self.meetings * self.cadence_weeks, mentoring)


class Trial(Strict):
    """A trial file, as read."""

    name: str = Field(min_length=1, description="trial name")
    description: str = Field("", description="what the trial asks")
    base: str = Field(min_length=1, description="base scenario: a name in scenarios/ or a path relative to the file")
    population: int | None = Field(None, ge=10, description="scale the base to this many firms")
    fixed: dict[str, Any] = Field(default_factory=dict, description="dotted scenario keys set in every run")
    seed: int = Field(1, ge=0, description="root seed of every replicate")
    replicates: int = Field(100, ge=1, description="trials run, each a fresh randomisation and world")
    start_week: int = Field(4, ge=1, description="week of the first meeting (the baseline is the week before)")
    horizons: list[int] = Field(min_length=1, description="weeks after the start at which outcomes are measured")
    outcomes: list[str] = Field(min_length=1, description=f"outcomes: {', '.join(OUTCOMES)}")
    eligibility: Eligibility = Eligibility()
    randomisation: Randomisation = Randomisation()
    arms: list[Arm] = Field(min_length=1, description="treatment arms (the rest is the control group)")
    sizes: list[int] = Field(default_factory=lambda: [200, 500, 1000, 2000],
                             description="trial sizes (firms) at which power is reported")

    @model_validator(mode="after")
    def _consistent(self) -> Trial:
        names = [a.name for a in self.arms]
        for i, name in enumerate(names):
            if name == CONTROL:
                raise KeyedValueError(f"arms.{i}.name", f"{CONTROL!r} is the name of the untreated group")
            if name in names[:i]:
                raise KeyedValueError(f"arms.{i}.name", f"{name!r} appears twice")
        total = sum(a.share for a in self.arms)
        if total >= 1:
            raise KeyedValueError("arms", f"the arms overlap: their shares add up to {total:g}, and must "
                                  "stay below 1 to leave a control group")
        for i, outcome in enumerate(self.outcomes):
            if outcome not in OUTCOMES:
                raise KeyedValueError(f"outcomes.{i}", f"unknown outcome {outcome!r} (known: {', '.join(OUTCOMES)})")
            if outcome in self.outcomes[:i]:
                raise KeyedValueError(f"outcomes.{i}", f"{outcome!r} appears twice")
        end = self.intervention_weeks
        for i, horizon in enumerate(self.horizons):
            if horizon < end:
                raise KeyedValueError(f"horizons.{i}", f"week {horizon} after the start is before the "
                                      f"intervention ends (week {end}: the longest arm's meetings x cadence)")
            if i and horizon <= self.horizons[i - 1]:
                raise KeyedValueError(f"horizons.{i}", "horizons must increase")
        for i, size in enumerate(self.sizes):
            if size < 4:
                raise KeyedValueError(f"sizes.{i}", f"{size} firms is too few for a trial (at least 4)")
        return self

    @property
    def intervention_weeks(self) -> int:
        """Weeks from the start to the end of the longest arm."""
        return max(a.weeks for a in self.arms)

    @property
    def weeks(self) -> int:
        """Weeks simulated: to the last horizon."""
        return self.start_week + self.horizons[-1]

    @property
    def years(self) -> float:
        """The horizon of every run, for the base scenario."""
        return self.weeks / WEEKS_PER_YEAR

    @property
    def arm_names(self) -> list[str]:
        """The control group, then every arm."""
        return [CONTROL, *(a.name for a in self.arms)]


@dataclass(frozen=True)
class TrialPlan:
    """A trial ready to run: one task per replicate (see :class:`copsim.studies.sweep.RunPlan`)."""

    trial: Trial
    source: str
    base: dict[str, Any]  # the resolved base scenario without groups, as plain data
    draws: Draws | None = None  # posterior draws of the replicates (None: the base's values)

    @property
    def name(self) -> str:
        """The trial's name."""
        return self.trial.name

    @property
    def n_runs(self) -> int:
        """One run (a trial and its counterfactual) per replicate."""
        return self.trial.replicates

    @property
    def outcome_names(self) -> list[str]:
        """The numbers each replicate's row records."""
        return ["trial_firms", "groups"]

    @property
    def records(self) -> list[dict[str, Any]]:
        """One sample, no factors."""
        return [{}]

    def tasks(self) -> Iterator[Task]:
        """Every replicate, its seed a function of the root seed and the replicate only."""
        for replicate in range(self.trial.replicates):
            yield Task(run_id(0, replicate), 0, replicate, run_seed(self.trial.seed, 0, replicate), {})

    def with_replicates(self, replicates: int) -> TrialPlan:
        """The same trial with another number of replicates (--reps)."""
        return TrialPlan(self.trial.model_copy(update={"replicates": replicates}), self.source, self.base)

    def with_draws(self, draws: Draws | None) -> TrialPlan:
        """The same trial, its replicates drawing their parameters (see copsim.studies.posterior)."""
        return replace(self, draws=draws)

    def bind(self, task: Task) -> Task:
        """Tasks need nothing more: the job holds the trial."""
        return task

    def scenario(self) -> Scenario:
        """The base scenario of every run."""
        return Scenario.model_validate(self.base)

    def manifest(self) -> dict[str, Any]:
        """What identifies the trial as resolved (manifest.json)."""
        trial = self.trial.model_dump(mode="json")
        identity = {"trial": {k: v for k, v in trial.items() if k != "description"},
                    "base_scenario_hash": scenario_hash(self.scenario()), "copsim_version": __version__}
        if self.draws is not None:  # a trial drawing from a posterior is another trial
            identity["posterior"] = {"seeds_per_draw": self.draws.seeds_per_draw,
                                     "sets": list(self.draws.sets)}
        canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"))
        return {"experiment_hash": hashlib.sha256(canonical.encode()).hexdigest()[:16],
                "kind": "trial", "source": self.source, "experiment": {"name": self.trial.name},
                "trial": trial, "copsim_version": __version__, "runs": self.n_runs,
                "base_scenario_hash": identity["base_scenario_hash"], "base": self.base}


def load_trial(path: str | Path) -> TrialPlan:
    """Read and check a trial file and its base scenario."""
    path = Path(path)
    try:
        trial = Trial.model_validate(read_toml(path, "trial"))
    except ValidationError as exc:
        raise ScenarioError(first_error_line(exc, str(path))) from None
    base = resolve_base(trial, path)
    base["groups"] = []
    check_against_base(trial, Scenario.model_validate(base), str(path))
    return TrialPlan(trial, str(path), base)


def check_against_base(trial: Trial, base: Scenario, source: str) -> None:
    """Eligibility names exist in the base scenario; arms fit its membership rules."""
    known = {"regions": [r.name for r in base.regions], "sectors": [s.name for s in base.environment.sectors]}
    for key, names in known.items():
        for i, name in enumerate(getattr(trial.eligibility, key)):
            if name not in names:
                raise ScenarioError(f"{source}: eligibility.{key}.{i}: unknown name {name!r} "
                                    f"(known: {', '.join(names)})")
    if trial.randomisation.group_size > base.membership.max_size:
        raise ScenarioError(f"{source}: randomisation.group_size: {trial.randomisation.group_size} is above "
                            f"the base's membership.max_size ({base.membership.max_size})")
