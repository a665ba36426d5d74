"""The Python API: run a scenario, compare scenarios, sweep an experiment.

Each function does what its command does (``copsim run``, ``copsim compare``,
``copsim sweep``), through the same code, and returns what the command writes
(optionally writing it too, with ``out=``). Overrides are a mapping of dotted
scenario keys to values, checked like ``--set``: a bad key or value raises
:class:`copsim.ScenarioError` with the one line the command would print.

>>> import copsim
>>> result = copsim.simulate("microentre", seed=1, population=500, years=0.5)
>>> result.summary["weeks"], len(result.timeseries)
(26, 26)
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from copsim.engine.kernels import Engine
from copsim.engine.runner import RunResult
from copsim.scenario.io import Overrides, load_scenario, scale_population, with_overrides, with_years
from copsim.scenario.schema import Scenario
from copsim.scenario.shocks import with_shock
from copsim.studies.compare import CompareResult
from copsim.studies.sweep import SweepReport

Result = RunResult
"""What :func:`simulate` returns: ``summary`` (dict, as summary.json), ``timeseries``
(one row per week), ``events``, ``agents`` (snapshots), ``firms`` (end state of every
firm; None with ``simulate(firms=False)``) and ``provenance`` (as run.json)."""

ScenarioLike = str | Path | Scenario


def resolve_scenario(scenario: ScenarioLike, overrides: Overrides = (), *,
                     years: float | None = None, population: int | None = None,
                     shock: str | Path | None = None) -> Scenario:
    """A scenario as ``copsim run`` resolves it: file or name, overrides, horizon,
    population, shock overlay (in that order).

    >>> resolve_scenario("microentre", {"learning.rate": 0.2}, population=800).population
    800
    >>> resolve_scenario("microentre", {"learning.rte": 0.2})
    Traceback (most recent call last):
    ...
    copsim.errors.ScenarioError: .../microentre.toml: learning.rte: Extra inputs are not permitted
    """
    if isinstance(scenario, Scenario):
        resolved = with_overrides(scenario, overrides, scenario.name) if overrides else scenario
    else:
        resolved = load_scenario(scenario, overrides)
    if years is not None:
        resolved = with_years(resolved, years)
    if population is not None:
        resolved = scale_population(resolved, population)
    return with_shock(resolved, shock)


def simulate(scenario: ScenarioLike = "microentre", *, seed: int = 1,
             overrides: Overrides | None = None, population: int | None = None,
             years: float | None = None, shock: str | Path | None = None,
             engine: Engine = "numba", out: str | Path | None = None,
             progress: bool = False, threads: int = 1, firms: bool = True) -> Result:
    """Run one scenario to its horizon, like ``copsim run``; with ``out``, write its files too.

    ``scenario`` is a name in ``scenarios/``, a file or a :class:`copsim.Scenario`.
    The same scenario, seed and version give the same numbers on either ``engine`` and
    any number of kernel ``threads``. ``firms=False`` leaves ``result.firms`` (no file
    holds it) as None, which lowers the peak memory of a very large run by about 100
    bytes a firm.

    >>> import copsim
    >>> a = copsim.simulate("microentre", seed=3, population=500, years=0.5)
    >>> b = copsim.simulate("microentre", seed=3, population=500, years=0.5, engine="python")
    >>> a.timeseries.equals(b.timeseries), a.summary["weeks"], a.summary["population_start"]
    (True, 26, 500)
    >>> faster = copsim.simulate("microentre", seed=3, population=500, years=0.5,
    ...                          overrides={"learning.rate": 0.4})
    >>> faster.summary["knowledge_gain_members"] > a.summary["knowledge_gain_members"]
    True
    >>> copsim.simulate(overrides={"learning.rate": -1})
    Traceback (most recent call last):
    ...
    copsim.errors.ScenarioError: .../microentre.toml: learning.rate: Input should be greater than or equal to 0
    """
    from copsim.engine.runner import simulate as run_scenario
    from copsim.engine.runner import RUN_OUTPUT, write_run
    from copsim.outputs.files import prepare_output

    resolved = resolve_scenario(scenario, overrides or {}, years=years, population=population,
                                shock=shock)
    if out is not None:
        prepare_output(Path(out), RUN_OUTPUT)
    with _bar(progress, resolved.run.weeks, "week", resolved.name) as bar:
        result = run_scenario(resolved, seed=seed, engine=engine, threads=threads, firms=firms,
                              progress=None if bar is None else lambda week: bar.update(1))
    if out is not None:
        write_run(result, Path(out))
    return result


def compare(scenarios: Sequence[ScenarioLike], *, reps: int = 10, years: float | None = None,
            shock: str | Path | None = None, seed: int = 1, workers: int | None = None,
            population: int | None = None, out: str | Path | None = None,
            progress: bool = False, posterior: str | Path | None = "shipped",
            seeds_per_draw: int = 2) -> CompareResult:
    """Compare scenarios with each other and with no programme, like ``copsim compare``.

    Returns the outcome ``table`` (table.csv), the ``replicates`` (replicates.csv), the
    weekly ``timeseries`` (timeseries.parquet), the ``markdown`` table (table.md) and the
    ``provenance`` (compare.json); with ``out``, every file of the command is written
    there, report.html included. ``population`` scales every scenario (a quick look).

    ``posterior`` is where the replicates' parameters come from: ``"shipped"`` (the
    default) draws them from the shipped posterior when every scenario keeps the
    calibrated parameters at the calibrated scenario's values, a file draws them from
    that posterior (``copsim calibrate`` writes one), None keeps the scenarios' own
    values (noise-only intervals). Each draw is run with ``seeds_per_draw`` seeds, so the
    table can say how much of the spread is parameters and how much noise;
    ``provenance["parameters"]`` says which was used.

    >>> import copsim
    >>> c = copsim.compare(["microentre", "self_organised"], reps=2, years=0.5,
    ...                    population=600, workers=1)
    >>> list(c.table["scenario"])
    ['microentre', 'self_organised', 'no programme']
    >>> float(c.table.set_index("scenario").loc["no programme", "cost_total_eur_mean"])
    0.0
    >>> print(c.markdown.splitlines()[0])
    | | microentre | self_organised | no programme |
    """
    from copsim.engine.memory import check_fits, run_bytes
    from copsim.outputs.files import prepare_output
    from copsim.scenario.shocks import load_shocks
    from copsim.studies.compare import CompareError, job_count, prepare, results, run_comparison
    from copsim.studies.jobs import default_workers
    from copsim.studies.posterior import choose_posterior, plan_draws
    from copsim.studies.report import COMPARE_OUTPUT, comparison_provenance, write_comparison

    if workers is not None and workers < 1:
        raise CompareError(f"--workers: {workers}: must be at least 1")
    loaded = shock if shock is None else load_shocks(shock)
    resolved = [resolve_scenario(s, population=population) for s in scenarios]
    chosen, parameters = choose_posterior(posterior, resolved)
    draws = None if chosen is None else plan_draws(chosen, seed, reps, seeds_per_draw)
    comparison = prepare(resolved, reps, seed, years, loaded, draws)
    if out is not None:
        prepare_output(Path(out), COMPARE_OUTPUT)
    workers = workers or default_workers()
    largest = max(comparison.arms.values(), key=run_bytes)
    at_once = min(workers, job_count(comparison))
    check_fits(at_once * run_bytes(largest), largest.name, "regions",
               f"{at_once} runs at once of {largest.population:,} firms over "
               f"{largest.run.years:g} years")
    started = time.perf_counter()
    with _bar(progress, job_count(comparison), "run", "compare") as bar:
        pairs = run_comparison(comparison, workers,
                               progress=None if bar is None else lambda result: bar.update(1))
    meta = comparison_provenance(comparison, loaded, workers, time.perf_counter() - started)
    meta["parameters"] = parameters
    outcome = results(comparison, pairs, meta)
    if out is not None:
        write_comparison(Path(out), outcome)
    return outcome


@dataclass
class SweepResult:
    """What :func:`sweep` returns: every finished run's row (results.parquet) and the report."""

    results: pd.DataFrame
    report: SweepReport


def sweep(experiment: str | Path | Mapping[str, Any], *, out: str | Path | None = None,
          workers: int | None = None, limit: int | None = None, retry_failed: bool = False,
          progress: bool = False) -> SweepResult:
    """Run an experiment's unfinished runs into ``out``, like ``copsim sweep``; resumable.

    ``experiment`` is a file (format: experiments/README.md) or the same content as a
    mapping; ``out`` defaults to ``sweeps/<experiment name>``. The rows are those of
    results.parquet: run id, sample, replicate, seed, factor values, outcomes, status.

    >>> import copsim, tempfile
    >>> grid = {"name": "rates", "base": "microentre", "population": 500, "years": 0.5,
    ...         "design": "grid", "replicates": 1, "seed": 7,
    ...         "factors": [{"key": "learning.rate", "values": [0.05, 0.4]}],
    ...         "outcomes": [{"name": "knowledge_gain_members"}]}
    >>> done = copsim.sweep(grid, out=tempfile.mkdtemp(), workers=1)
    >>> done.results[["run_id", "learning.rate", "status"]]
          run_id  learning.rate status
    0  00000-000           0.05     ok
    1  00001-000           0.40     ok
    >>> done.report.ok, done.report.failed
    (2, 0)
    """
    from copsim.studies.experiments import load_experiment, plan_experiment
    from copsim.studies.sweep import run_sweep

    if isinstance(experiment, Mapping):
        plan = plan_experiment(experiment, Path("<experiment>"))
    else:
        plan = load_experiment(experiment)
    target = Path(out) if out is not None else Path("sweeps") / plan.experiment.name
    report = run_sweep(plan, target, workers=workers, limit=limit, retry_failed=retry_failed,
                       progress=progress)
    results = target / "results.parquet"
    return SweepResult(pd.read_parquet(results) if results.exists() else pd.DataFrame(), report)


def _bar(show: bool, total: int, unit: str, desc: str) -> Any:
    """A tqdm progress bar when asked for, else a context that gives None."""
    if not show:
        return nullcontext(None)
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, desc=desc)
