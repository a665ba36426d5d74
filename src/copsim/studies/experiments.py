"""Experiment files: what to vary, how to sample it, and what to record.

An experiment (``experiments/*.toml``, format in ``experiments/README.md``) names a
base scenario, fixed settings, factors (dotted scenario keys with grid levels or
ranges), a design (``grid``, ``lhs``, ``sobol``, ``morris``; the samplers are
SALib's), replicates, a root seed and the outcomes: named reductions of a run's
summary or weekly table (EMA workbench's separation of factors and outcomes; the
model never knows it is swept).

:func:`load_experiment` reads and checks a file and returns a :class:`Plan`: every
factor key exists in the scenario schema, every range lies within the field's
constraints, SALib accepts the design, and every sampled point validates as a
scenario -- all before anything runs. Problems are one-line :class:`ScenarioError`
messages ``<file>: <key>: <reason>``. Each run's seed is a function of (root seed,
sample, replicate) only (:func:`run_seed`).
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import itertools
import json
import math
import types
import typing
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import annotated_types
import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo

from copsim import resources
from copsim.version import __version__
from copsim.scenario.schema import KeyedValueError, Scenario, Strict
from copsim.dtypes import Activity, EventKind, enum_names
from copsim.errors import ScenarioError
from copsim.engine.metrics import SUMMARY_NUMBERS, TIMESERIES
from copsim.scenario.io import (
    first_error_line,
    load_scenario,
    read_toml,
    scale_population,
    scenario_hash,
    set_dotted,
    validate_scenario,
    with_years,
)
from copsim.scenario.library import resolve_base as resolve_scenario_base

Design = Literal["grid", "lhs", "sobol", "morris"]

# Columns every run row has; factor and outcome names may not take them.
RUN_COLUMNS = ("run_id", "sample", "replicate", "seed")
STATUS_COLUMNS = ("status", "error", "copsim_version")


def _last(s: pd.Series) -> float:
    return float(s.iloc[-1])


def _change(s: pd.Series) -> float:
    return float(s.iloc[-1] - s.iloc[0])


def _mean_last_52(s: pd.Series) -> float:
    return float(s.iloc[-52:].mean())


def _week_of_max(s: pd.Series) -> float:
    return float(np.argmax(s.to_numpy()))


# Reductions of a weekly column to one number (NaN weeks are skipped by mean/min/max/sum).
REDUCTIONS: dict[str, Callable[[pd.Series], float]] = {
    "last": _last,                      # value in the last week
    "first": lambda s: float(s.iloc[0]),
    "mean": lambda s: float(s.mean()),
    "min": lambda s: float(s.min()),
    "max": lambda s: float(s.max()),
    "sum": lambda s: float(s.sum()),
    "change": _change,                  # last minus first week
    "mean_last_52": _mean_last_52,      # mean over the last year
    "week_of_max": _week_of_max,        # first week the maximum is reached
}

# Numeric scalars of metrics.run_summary, and its tables of counts ("activities.visits").
SUMMARY_KEYS = SUMMARY_NUMBERS
SUMMARY_TABLES: dict[str, tuple[str, ...] | None] = {
    "activities": tuple(enum_names(Activity)),
    "events": tuple(enum_names(EventKind)),
    "cost_by_payer_eur": None,  # any payer label; a payer that paid nothing gives 0
}


# --- schema -----------------------------------------------------------------------------------


class Factor(Strict):
    """One factor: scenario key(s) set to one value, with grid levels or a range."""

    key: str | list[str] = Field(description="dotted scenario key, or several keys set together")
    name: str | None = Field(None, min_length=1, description="column name (default: the key)")
    values: list[Any] | None = Field(None, min_length=1, description="grid levels (any TOML value)")
    labels: list[str] | None = Field(None, description="a name per level (needed for tables and arrays)")
    low: float | None = Field(None, description="lower end of the range (lhs, sobol, morris)")
    high: float | None = Field(None, description="upper end of the range")

    @model_validator(mode="after")
    def _levels_or_range(self) -> Factor:
        if isinstance(self.key, list) and (not self.key or self.name is None):
            raise KeyedValueError("name", "needed when key lists several keys")
        ranged = self.low is not None or self.high is not None
        if self.values is not None and ranged:
            raise KeyedValueError("values", "give either values (grid) or low/high, not both")
        if self.values is None and not ranged:
            raise KeyedValueError("values", "needs values (grid) or low and high (lhs, sobol, morris)")
        if ranged and (self.low is None or self.high is None):
            raise KeyedValueError("low" if self.low is None else "high", "low and high go together")
        if ranged and self.high <= self.low:
            raise KeyedValueError("high", f"must be above low ({self.low:g})")
        if self.labels is not None:
            if self.values is None or len(self.labels) != len(self.values):
                raise KeyedValueError("labels", "needs one label per value")
            if len(set(self.labels)) != len(self.labels):
                raise KeyedValueError("labels", "labels must differ")
        elif self.values is not None and not all(_scalar(v) for v in self.values):
            raise KeyedValueError("labels", "needed when levels are tables or arrays")
        return self

    @property
    def keys(self) -> list[str]:
        """The dotted scenario keys this factor sets."""
        return [self.key] if isinstance(self.key, str) else list(self.key)

    @property
    def column(self) -> str:
        """The factor's column in the results."""
        return self.name or self.keys[0]

    def level_labels(self) -> list[Any]:
        """What the results record for each grid level: its label or its value."""
        return list(self.labels) if self.labels is not None else list(self.values or [])


class Outcome(Strict):
    """A named number per run: a summary value, or a reduction of a weekly column."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="column name")
    source: Literal["summary", "timeseries", "job"] = Field(
        "summary", description="where the value comes from ('job': returned by a job of one's own)")
    column: str | None = Field(None, description="summary key or weekly column (default: the name)")
    reduce: str | None = Field(None, description="for timeseries: one of REDUCTIONS")

    @model_validator(mode="after")
    def _known(self) -> Outcome:
        column = self.key
        if self.source == "job":
            return self
        if self.source == "timeseries":
            if self.reduce is None:
                raise KeyedValueError("reduce", f"needed for a weekly column (one of {', '.join(REDUCTIONS)})")
            if self.reduce not in REDUCTIONS:
                raise KeyedValueError("reduce", f"unknown reduction (known: {', '.join(REDUCTIONS)})")
            if column not in TIMESERIES or column == "week":
                raise KeyedValueError("column", f"{column!r} is not a weekly column (see metrics.TIMESERIES)")
            return self
        if self.reduce is not None:
            raise KeyedValueError("reduce", "only for source = 'timeseries'")
        table, _, entry = column.partition(".")
        if entry and table in SUMMARY_TABLES:
            known = SUMMARY_TABLES[table]
            if known is not None and entry not in known:
                raise KeyedValueError("column", f"unknown entry {entry!r} of {table} (known: {', '.join(known)})")
        elif column not in SUMMARY_KEYS:
            raise KeyedValueError("column", f"{column!r} is not a numeric summary value (known: "
                                  f"{', '.join(SUMMARY_KEYS)}, or activities.*, events.*, cost_by_payer_eur.*)")
        return self

    @property
    def key(self) -> str:
        """The summary key or weekly column read."""
        return self.column or self.name


class AllNumeric(Strict):
    """Make a factor of every numeric parameter of the base (Morris screening)."""

    spread: float = Field(0.5, gt=0, lt=1, description="range: default x (1 -/+ spread), within the field's bounds")
    exclude: list[str] = Field(default_factory=list, description="glob patterns of dotted keys to hold fixed")


class Experiment(Strict):
    """An experiment file, as read."""

    name: str = Field(min_length=1, description="experiment name")
    description: str = Field("", description="what it asks")
    base: str | None = Field(None, description="base scenario: a path relative to the file, or a shipped scenario's name")
    population: int | None = Field(None, ge=1, description="scale the base to this many firms")
    years: float | None = Field(None, gt=0, le=100, description="horizon of every run")
    fixed: dict[str, Any] = Field(default_factory=dict, description="dotted keys set in every run")
    design: Design = Field(description="grid, lhs, sobol or morris")
    samples: int | None = Field(None, ge=1, description="N of SALib's sampler (not used by grids)")
    levels: int = Field(4, ge=2, description="Morris: number of levels of the grid")
    second_order: bool = Field(False, description="Sobol: also second-order indices (N x (2D+2) runs)")
    replicates: int = Field(1, ge=1, description="runs per sample, each with its own seed")
    seed: int = Field(0, ge=0, description="root seed of the design and of every run")
    common_seeds: bool = Field(False, description="replicate r of every sample gets the same seed")
    factors: list[Factor] = Field(default_factory=list, description="what varies")
    all_numeric: AllNumeric | None = Field(None, description="add every numeric parameter as a factor")
    outcomes: list[Outcome] = Field(min_length=1, description="what is recorded per run")
    save_timeseries: bool = Field(False, description="keep every run's weekly table in series/")

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        if not self.factors and self.all_numeric is None:
            raise KeyedValueError("factors", "at least one factor is needed")
        for i, factor in enumerate(self.factors):
            if self.design == "grid" and factor.values is None:
                raise KeyedValueError(f"factors.{i}.values", "a grid needs values for every factor")
            if self.design != "grid" and factor.values is not None:
                raise KeyedValueError(f"factors.{i}.values", f"a {self.design} design needs low and high")
        if self.design == "grid" and self.all_numeric is not None:
            raise KeyedValueError("all_numeric", "needs a sampled design (lhs, sobol, morris)")
        if self.design != "grid" and self.samples is None:
            raise KeyedValueError("samples", f"a {self.design} design needs a number of samples")
        taken = set(RUN_COLUMNS + STATUS_COLUMNS)
        for section, names in (("factors", [f.column for f in self.factors]),
                               ("outcomes", [o.name for o in self.outcomes])):
            for i, name in enumerate(names):
                if name in taken:
                    raise KeyedValueError(f"{section}.{i}.name", f"{name!r} is already a column")
                taken.add(name)
        return self


# --- plans: the resolved experiment ----------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """One run: its identity, seed and factor values (and its scenario once bound)."""

    run_id: str
    sample: int
    replicate: int
    seed: int
    values: dict[str, Any]
    scenario: Scenario | None = None


@dataclass(frozen=True)
class Plan:
    """An experiment ready to run: its samples, runs and the manifest that identifies them.

    ``points[i]`` maps each factor to the value set in sample ``i``; ``records[i]`` to
    what the results record (the level's label for tables and arrays). ``matrix`` is
    SALib's sample, which the analysis needs (None for grids). ``base`` is the
    resolved base scenario; without one (tests of the machinery with another
    function), tasks carry only their values.
    """

    experiment: Experiment
    source: str
    points: list[dict[str, Any]]
    records: list[dict[str, Any]]
    matrix: np.ndarray | None = None
    base: dict[str, Any] | None = None
    skipped: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self.experiment.name

    @property
    def factor_names(self) -> list[str]:
        """Factor columns, in the experiment's order."""
        return [f.column for f in self.experiment.factors]

    @property
    def outcome_names(self) -> list[str]:
        """Outcome columns, in the experiment's order."""
        return [o.name for o in self.experiment.outcomes]

    @property
    def n_runs(self) -> int:
        """Samples times replicates."""
        return len(self.points) * self.experiment.replicates

    def tasks(self) -> Iterator[Task]:
        """Every run in run-id order (sample, then replicate), without scenarios."""
        exp = self.experiment
        for sample, values in enumerate(self.points):
            for replicate in range(exp.replicates):
                yield Task(run_id(sample, replicate), sample, replicate,
                           run_seed(exp.seed, sample, replicate, exp.common_seeds), values)

    def scenario(self, sample: int) -> Scenario:
        """The validated scenario of a sample (ScenarioError naming the point if invalid)."""
        assert self.base is not None, "a plan without a base scenario has no scenarios"
        data = copy.deepcopy(self.base)
        for factor in self.experiment.factors:
            for key in factor.keys:
                set_dotted(data, key.split("."), copy.deepcopy(self.points[sample][factor.column]), "")
        try:
            return validate_scenario(data, source=_POINT)
        except ScenarioError as exc:
            point = ", ".join(f"{k}={v}" for k, v in self.records[sample].items())
            reason = str(exc).removeprefix(f"{_POINT}: ")
            raise ScenarioError(f"{self.source}: {reason} (sample {sample}: {point})") from None

    def bind(self, task: Task) -> Task:
        """The task with its scenario, ready to send to a worker."""
        return task if self.base is None else replace(task, scenario=self.scenario(task.sample))

    def manifest(self) -> dict[str, Any]:
        """Everything that identifies the experiment as resolved (manifest.json)."""
        exp = self.experiment
        content = {
            "experiment": exp.model_dump(mode="json"),
            "base_scenario": None if self.base is None else self.base.get("name"),
            "base_scenario_hash": self._base_hash(),
            "copsim_version": __version__,
            "factors": [_factor_record(f) for f in exp.factors],
            "outcomes": self.outcome_names,
            "samples": len(self.points),
            "replicates": exp.replicates,
            "runs": self.n_runs,
            "problem": salib_problem(exp.factors) if exp.design != "grid" else None,
            "matrix": None if self.matrix is None else self.matrix.tolist(),
            "design_points": [{"sample": i, **r} for i, r in enumerate(self.records)],
            "held_fixed": self.skipped,
        }
        identity = {k: v for k, v in content.items() if k != "held_fixed"}
        identity["experiment"] = {k: v for k, v in content["experiment"].items() if k != "description"}
        canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
        return {"experiment_hash": hashlib.sha256(canonical.encode()).hexdigest()[:16],
                "source": self.source, **content,
                "base": _jsonable(self.base)}

    def _base_hash(self) -> str | None:
        return None if self.base is None else scenario_hash(Scenario.model_validate(self.base))


_POINT = "<point>"


def run_id(sample: int, replicate: int) -> str:
    """The identity of a run in file names and results: ``00012-003``."""
    return f"{sample:05d}-{replicate:03d}"


def run_seed(root: int, sample: int, replicate: int, common: bool = False) -> int:
    """A run's seed from (root seed, sample, replicate) -- never from a worker or an order.

    With ``common``, replicate ``r`` of every sample shares one seed (common random
    numbers across samples).
    """
    entropy = [root, replicate] if common else [root, sample, replicate]
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint32)[0])


def _factor_record(factor: Factor) -> dict[str, Any]:
    record: dict[str, Any] = {"name": factor.column, "keys": factor.keys}
    if factor.values is not None:
        record.update(levels=_jsonable(factor.values), labels=factor.level_labels())
    else:
        record.update(low=factor.low, high=factor.high)
    return record


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _scalar(value: Any) -> bool:
    return isinstance(value, bool | int | float | str)


# --- loading ----------------------------------------------------------------------------------


def load_experiment(path: str | Path) -> Plan:
    """Read, check and sample an experiment file; every sampled point is validated."""
    path = resources.resolve(path, resources.EXPERIMENTS)
    source = str(path)
    return plan_experiment(read_toml(path, "experiment"), path)


def plan_experiment(data: Mapping[str, Any], path: Path) -> Plan:
    """Check and sample an experiment given as data (``path`` names it in errors; a relative
    base scenario is looked up beside it)."""
    source = str(path)
    experiment = parse_experiment(data, source)
    if experiment.base is None:
        raise ScenarioError(f"{path}: base: required (a scenario name or a path relative to the file)")
    for i, outcome in enumerate(experiment.outcomes):
        if outcome.source == "job":
            raise ScenarioError(f"{path}: outcomes.{i}.source: 'job' is for sweeps run with a job of "
                                "their own (Python); copsim runs give 'summary' or 'timeseries'")
    base = resolve_base(experiment, path)
    factors, skipped = list(experiment.factors), []
    if experiment.all_numeric is not None:
        extra, skipped = numeric_factors(base, experiment.all_numeric, {k for f in factors for k in f.keys})
        factors += extra
    factors = [check_factor(f, i, base, source) for i, f in enumerate(factors)]
    plan = replace(make_plan(experiment.model_copy(update={"factors": factors}), source, base),
                   skipped=skipped)
    for sample in range(len(plan.points)):
        plan.scenario(sample)
    return plan


def parse_experiment(data: Mapping[str, Any], source: str) -> Experiment:
    """Validate a plain dict into an Experiment, reporting the first problem as one line."""
    try:
        return Experiment.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(first_error_line(exc, source)) from None


def resolve_base(experiment: Experiment, path: Path) -> dict[str, Any]:
    """The base scenario with the fixed settings, population and horizon, as plain data."""
    name = experiment.base or ""
    scenario = load_scenario(resolve_scenario_base(name, path.parent))
    data = scenario.model_dump()
    for key, value in _flatten(experiment.fixed):
        try:
            scenario_field(key, data)
        except ValueError as exc:
            raise ScenarioError(f"{path}: fixed.{key}: {exc}") from None
        set_dotted(data, key.split("."), value, f"{path}: fixed")
    scenario = validate_scenario(data, source=f"{path}: fixed")
    if experiment.population is not None:
        scenario = scale_population(scenario, experiment.population)
    if experiment.years is not None:
        scenario = with_years(scenario, experiment.years)
    return scenario.model_dump()


def _flatten(table: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``{"run": {"years": 2}, "learning.rate": 0.2}`` -> ``run.years``, ``learning.rate``."""
    for key, value in table.items():
        if isinstance(value, Mapping) and value:
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def make_plan(experiment: Experiment, source: str = "<experiment>",
              base: dict[str, Any] | None = None) -> Plan:
    """Sample the design: the points of every sample (checked against SALib)."""
    factors = experiment.factors
    if experiment.design == "grid":
        combos = list(itertools.product(*[range(len(f.values or [])) for f in factors]))
        points = [{f.column: (f.values or [])[j] for f, j in zip(factors, combo, strict=True)}
                  for combo in combos]
        records = [{f.column: f.level_labels()[j] for f, j in zip(factors, combo, strict=True)}
                   for combo in combos]
        return Plan(experiment, source, points, records, None, base)
    matrix = sample_matrix(experiment, source)
    integer = [base is not None and _is_int_field(f.keys[0], base) for f in factors]
    points = [{f.column: int(round(x)) if is_int else float(x)
               for f, x, is_int in zip(factors, row, integer, strict=True)} for row in matrix]
    return Plan(experiment, source, points, [dict(p) for p in points], matrix, base)


def salib_problem(factors: list[Factor]) -> dict[str, Any]:
    """SALib's problem dict for ranged factors."""
    return {"num_vars": len(factors), "names": [f.column for f in factors],
            "bounds": [[f.low, f.high] for f in factors]}


def sample_matrix(experiment: Experiment, source: str) -> np.ndarray:
    """SALib's sample for the design; SALib's errors and warnings are rejections.

    Warnings count: a Sobol' sample whose N is not a power of 2 loses its balance
    properties, and Morris with an odd number of levels is biased.
    """
    from SALib.sample import latin, morris, sobol

    problem = salib_problem(experiment.factors)
    n, seed = experiment.samples or 0, experiment.seed
    samplers: dict[str, Callable[[], np.ndarray]] = {
        "lhs": lambda: latin.sample(problem, n, seed=seed),
        "sobol": lambda: sobol.sample(problem, n, calc_second_order=experiment.second_order, seed=seed),
        "morris": lambda: morris.sample(problem, n, num_levels=experiment.levels, seed=seed),
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            matrix = samplers[experiment.design]()
    except Exception as exc:  # noqa: BLE001 - whatever SALib raises or warns is a rejection
        reason = " ".join(str(exc).split()) or exc.__class__.__name__
        raise ScenarioError(f"{source}: design: SALib rejects this {experiment.design} design "
                            f"(samples = {n}, {len(problem['names'])} factors): {reason}") from None
    return np.asarray(matrix, dtype=float)


# --- scenario keys and their constraints ------------------------------------------------------


def scenario_field(key: str, data: Mapping[str, Any]) -> tuple[Any, FieldInfo | None]:
    """The type and field of a dotted scenario key present in ``data``; ValueError if none.

    Tables are walked through the schema, arrays by index (``groups.0.cadence_weeks``)
    and keyed tables by key (``facilitators.pbas.skill``); the entry must exist in the
    base scenario.
    """
    kind: Any = Scenario
    info: FieldInfo | None = None
    node: Any = data
    parts = key.split(".")
    for depth, part in enumerate(parts):
        where = ".".join(parts[:depth]) or "the scenario"
        kind = _optional_inner(kind)
        origin = typing.get_origin(kind)
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            if part not in kind.model_fields:
                raise ValueError(f"unknown scenario key ({where} has no {part!r}; it has "
                                 f"{', '.join(kind.model_fields)})")
            info = kind.model_fields[part]
            kind = info.annotation
            node = node.get(part) if isinstance(node, Mapping) else None
        elif origin is list:
            if not part.isdigit() or node is None or int(part) >= len(node):
                raise ValueError(f"no entry {part!r} in {where} (it has {len(node or [])})")
            kind, info, node = typing.get_args(kind)[0], None, node[int(part)]
        elif origin is dict:
            if node is None or part not in node:
                raise ValueError(f"no entry {part!r} in {where} (it has {', '.join(node or {})})")
            kind, info, node = typing.get_args(kind)[1], None, node[part]
        else:
            raise ValueError(f"{where} is a value, not a table")
    return _optional_inner(kind), info


def _optional_inner(kind: Any) -> Any:
    if typing.get_origin(kind) in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return kind


def _numeric(kind: Any) -> bool:
    return kind in (int, float)


def _is_int_field(key: str, base: Mapping[str, Any]) -> bool:
    return scenario_field(key, base)[0] is int


def bounds_reason(value: float, info: FieldInfo | None, key: str) -> str | None:
    """Why a value lies outside what the field allows (None if it does not)."""
    for c in [] if info is None else info.metadata:
        if isinstance(c, annotated_types.Ge) and not value >= c.ge:
            return f"{value:g} is below the minimum {c.ge:g} of {key}"
        if isinstance(c, annotated_types.Gt) and not value > c.gt:
            return f"{value:g} is not above {c.gt:g}, which {key} must exceed"
        if isinstance(c, annotated_types.Le) and not value <= c.le:
            return f"{value:g} is above the maximum {c.le:g} of {key}"
        if isinstance(c, annotated_types.Lt) and not value < c.lt:
            return f"{value:g} is not below {c.lt:g}, which {key} must stay under"
    return None


def check_factor(factor: Factor, index: int, base: Mapping[str, Any], source: str) -> Factor:
    """Check a factor's keys and values against the schema; grid levels get the field's type."""
    where = f"{source}: factors.{index}"
    values = factor.values
    for key in factor.keys:
        try:
            kind, info = scenario_field(key, base)
        except ValueError as exc:
            raise ScenarioError(f"{where}.key: {key}: {exc}") from None
        if factor.values is None:
            if not _numeric(kind):
                raise ScenarioError(f"{where}.low: {key} is not a number, so it cannot have a range")
            for end in ("low", "high"):
                reason = bounds_reason(getattr(factor, end), info, key)
                if reason:
                    raise ScenarioError(f"{where}.{end}: {reason}")
            continue
        if not _numeric(kind):
            continue
        for j, value in enumerate(factor.values):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ScenarioError(f"{where}.values.{j}: {key} needs a number, not {value!r}")
            if kind is int and value != int(value):
                raise ScenarioError(f"{where}.values.{j}: {key} needs a whole number, not {value!r}")
            reason = bounds_reason(value, info, key)
            if reason:
                raise ScenarioError(f"{where}.values.{j}: {reason}")
        values = [kind(v) for v in factor.values]
    return factor if values is factor.values else factor.model_copy(update={"values": values})


def numeric_factors(base: Mapping[str, Any], screen: AllNumeric,
                    taken: set[str]) -> tuple[list[Factor], list[str]]:
    """A factor for every numeric parameter of the base not excluded nor already a factor.

    The range is the base value times (1 -/+ spread), within the field's bounds
    (whole numbers inside them for int fields);
    parameters at 0 (no scale to spread) or whose range is empty are held fixed and
    listed in the second list.
    """
    factors, skipped = [], []
    for key in _numeric_keys(Scenario, base):
        if key in taken or any(fnmatch.fnmatchcase(key, p) for p in screen.exclude):
            continue
        kind, info = scenario_field(key, base)
        value = _lookup(base, key)
        low, high = sorted((value * (1 - screen.spread), value * (1 + screen.spread)))
        low, high = _clip(low, info, kind, lower=True), _clip(high, info, kind, lower=False)
        if value == 0 or high - low <= 1e-9 * max(1.0, abs(value)):
            skipped.append(key)
            continue
        factors.append(Factor(key=key, low=low, high=high))
    return factors, skipped


def _clip(value: float, info: FieldInfo | None, kind: Any, lower: bool) -> float:
    """``value`` moved inside the field's bounds (whole numbers for int fields)."""
    step = 1 if kind is int else 0
    for c in [] if info is None else info.metadata:
        if lower and isinstance(c, annotated_types.Ge):
            value = max(value, c.ge)
        if lower and isinstance(c, annotated_types.Gt):
            value = max(value, c.gt + step if step else math.nextafter(c.gt, math.inf))
        if not lower and isinstance(c, annotated_types.Le):
            value = min(value, c.le)
        if not lower and isinstance(c, annotated_types.Lt):
            value = min(value, c.lt - step if step else math.nextafter(c.lt, -math.inf))
    return value


def _lookup(data: Any, key: str) -> Any:
    for part in key.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def _numeric_keys(model: type[BaseModel], data: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """Dotted keys of every int or float value present in ``data`` (not bools, not None)."""
    for name, info in model.model_fields.items():
        kind = _optional_inner(info.annotation)
        value = data.get(name)
        key = f"{prefix}{name}"
        if value is None:
            continue
        if _numeric(kind):
            yield key
            continue
        entries: list[tuple[str, Any]] = []
        if typing.get_origin(kind) is list:
            kind, entries = typing.get_args(kind)[0], [(str(i), v) for i, v in enumerate(value)]
        elif typing.get_origin(kind) is dict:
            kind, entries = typing.get_args(kind)[1], list(value.items())
        elif isinstance(kind, type) and issubclass(kind, BaseModel):
            entries = [("", value)]
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            for sub, entry in entries:
                yield from _numeric_keys(kind, entry, f"{key}.{sub}." if sub else f"{key}.")


# --- outcomes ---------------------------------------------------------------------------------


def outcome_values(outcomes: list[Outcome], summary: Mapping[str, Any],
                   timeseries: pd.DataFrame) -> dict[str, float]:
    """Every outcome of one run (None and missing summary values are NaN)."""
    values = {}
    for outcome in outcomes:
        if outcome.source == "timeseries":
            values[outcome.name] = REDUCTIONS[outcome.reduce or "last"](timeseries[outcome.key])
            continue
        table, _, entry = outcome.key.partition(".")
        value = summary.get(table) if not entry else summary.get(table, {}).get(entry, 0)
        values[outcome.name] = math.nan if value is None else float(value)
    return values
