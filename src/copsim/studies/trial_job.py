"""One replicate of a trial: randomise, run the trial and its counterfactual, measure.

The replicate's seed makes a fresh world. The world without any programme runs to
the baseline; the firms in business then are the population the trial samples and
randomises (streams ``trial.assignment``). The trial run is the same world (same
seed: common random numbers, so every arm and the control group face the same
demand, draws and entrants) with each arm's groups, whose members are the assigned
firms (``groups[].members``). Both runs are measured at the baseline and at every
horizon on the trial's firms: what a real trial observes (the trial run) and what it
cannot (the same firms without the programme: the counterfactual run).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from copsim.engine import ventures
from copsim.engine.kernels import Engine
from copsim.engine.model import CopModel
from copsim.engine.rng import Streams
from copsim.scenario.io import validate_scenario
from copsim.scenario.schema import Scenario
from copsim.studies.experiments import Task
from copsim.studies.posterior import Draws, with_values
from copsim.studies.randomisation import Assignment, TreatedGroup, assign
from copsim.studies.sweep import RunOutput, SweepReport, run_sweep
from copsim.studies.trial_design import CONTROL, OUTCOMES, Trial, TrialPlan

COUNTERFACTUAL = "_cf"  # suffix of an outcome's column in the counterfactual run


@dataclass(frozen=True)
class TrialJob:
    """The job of a trial's replicates (picklable: sent to local workers or Dask)."""

    trial: Trial
    base: dict[str, Any]
    engine: Engine = "numba"
    draws: Draws | None = None  # posterior draws: replicate r runs draws.values(r)

    def __call__(self, task: Task) -> RunOutput:
        """Run one replicate; its per-firm table goes where a sweep keeps a run's table."""
        if self.draws is None:
            base, drawn = Scenario.model_validate(self.base), {}
        else:
            draw = self.draws.draw_of(task.replicate)
            base = with_values(self.base, self.draws.values(task.replicate),
                               f"trial {self.trial.name} (posterior draw {draw})")
            drawn = {"draw": draw}
        firms = run_replicate(self.trial, base, task.seed, self.engine)
        groups = int(firms.loc[firms["arm"] != CONTROL, "group"].nunique())
        return RunOutput({"trial_firms": float(firms["row"].nunique()), "groups": float(groups)},
                         firms.assign(replicate=task.replicate, **drawn))


def run_replicate(trial: Trial, base: Scenario, seed: int, engine: Engine = "numba") -> pd.DataFrame:
    """The trial's firms at the baseline and every horizon, in both runs (long format)."""
    world = CopModel(base, seed=seed, engine=engine, agent_views=False)
    try:
        world.run(weeks=trial.start_week)
        regions = [r.name for r in base.regions]
        sectors = [s.name for s in base.environment.sectors]
        assignment = assign(population(world), trial, regions, sectors,
                            Streams(seed).generator("trial.assignment"))
        programme = CopModel(with_arms(base, trial, assignment.groups), seed=seed, engine=engine,
                             agent_views=False)
        try:
            programme.run(weeks=trial.start_week)
            moments = [measure_moment(programme, world, assignment, 0)]
            for horizon in trial.horizons:
                for model in (programme, world):
                    model.run(weeks=trial.start_week + horizon - model.week)
                moments.append(measure_moment(programme, world, assignment, horizon))
        finally:
            programme.release()
    finally:
        world.release()
    return pd.concat(moments, ignore_index=True)


def population(model: CopModel) -> pd.DataFrame:
    """Every firm the model has created, with what eligibility looks at."""
    f = model.firms
    n = f.n
    return pd.DataFrame({"row": np.arange(n), "alive": f.alive[:n], "region": f.region[:n],
                         "sector": f.sector[:n], "firm_type": f.firm_type[:n], "employees": f.employees[:n]})


def with_arms(base: Scenario, trial: Trial, groups: list[TreatedGroup]) -> Scenario:
    """The base scenario with the arms' groups, each given its assigned members."""
    arms = {a.name: a for a in trial.arms}
    counts: dict[str, int] = {}
    specs = []
    for group in groups:
        arm = arms[group.arm]
        counts[arm.name] = counts.get(arm.name, 0) + 1
        specs.append({"name": f"{arm.name} {counts[arm.name]}", "region": base.regions[group.region].name,
                      "mode": arm.mode, "cadence_weeks": arm.cadence_weeks, "start_week": trial.start_week,
                      "end_week": trial.start_week + arm.weeks, "initial_members": len(group.members),
                      "members": list(group.members), "channel": arm.channel,
                      "expert_talks": arm.expert_talks, "group_meetings": arm.meetings > 0,
                      "mentoring": arm.mentoring, "mentoring_sessions": arm.mentoring_sessions,
                      "mentoring_cadence_weeks": arm.mentoring_cadence_weeks})
    return validate_scenario({**base.model_dump(), "groups": specs}, source=f"trial {trial.name}")


def firm_measures(model: CopModel, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Every outcome of :data:`OUTCOMES` for the firms ``rows`` (NaN for exited firms)."""
    f = model.firms
    alive = f.alive[rows]
    def observed(values: np.ndarray) -> np.ndarray:
        return np.where(alive, values.astype(float), np.nan)
    measures = {
        "revenue": observed(f.revenue[rows]),
        "profit": observed(f.revenue[rows] - f.cost[rows]),
        "survival": alive.astype(float),
        "employment": observed(1 + f.employees[rows]),
        "partners": observed(partner_counts(model)[rows]),
        "knowledge": observed(f.knowledge[rows].mean(axis=1)),
    }
    assert set(measures) == set(OUTCOMES)
    return measures


def partner_counts(model: CopModel) -> np.ndarray:
    """Distinct business partners of every firm: ties at the tie threshold, and every
    co-member of an active venture (a partner counts once however many ventures)."""
    t = model.ties
    tied = t.trust[: t.n] >= model.scenario.trust.tie_threshold
    pairs = np.concatenate([np.column_stack([t.src[: t.n][tied], t.dst[: t.n][tied]]),
                            ventures.partner_pairs(model, active_only=True)])
    pairs = np.unique(pairs, axis=0) if len(pairs) else pairs.reshape(0, 2)
    return np.bincount(pairs.ravel(), minlength=model.firms.n)


def contacts_of(model: CopModel, rows: np.ndarray) -> np.ndarray:
    """Whether each firm has met (has a tie, however weak) any of the firms ``rows``."""
    t = model.ties
    marked = np.zeros(model.firms.n, dtype=bool)
    marked[rows] = True
    src, dst = t.src[: t.n], t.dst[: t.n]
    contact = np.zeros(model.firms.n, dtype=bool)
    contact[src[marked[dst]]] = True
    contact[dst[marked[src]]] = True
    return contact


def measure_moment(programme: CopModel, world: CopModel, assignment: Assignment, weeks: int) -> pd.DataFrame:
    """The trial's firms ``weeks`` after the start in both runs (one row per firm)."""
    firms = assignment.firms
    rows = firms["row"].to_numpy()
    treated_rows = rows[(firms["arm"] != CONTROL).to_numpy()]
    f = programme.firms
    frame = firms[["row", "arm", "unit", "stratum", "region"]].assign(
        weeks=weeks, group=assigned_group(assignment, rows),
        attended=f.meetings_attended[rows], sessions=f.mentor_sessions[rows], member=f.ever_member[rows],
        exposed=contacts_of(programme, treated_rows)[rows])
    trial_values = firm_measures(programme, rows)
    without = firm_measures(world, rows)
    return frame.assign(**trial_values, **{f"{k}{COUNTERFACTUAL}": v for k, v in without.items()})


def assigned_group(assignment: Assignment, rows: np.ndarray) -> np.ndarray:
    """The index of the group each firm was assigned to (-1: the control group)."""
    group = pd.Series(-1, index=rows, dtype=np.int64)
    for index, treated in enumerate(assignment.groups):
        group[list(treated.members)] = index
    return group.to_numpy()


def run_trial(plan: TrialPlan, out: Path, *, engine: Engine = "numba", **sweep: Any) -> SweepReport:
    """Run every unfinished replicate into ``out`` (resumable; keywords go to run_sweep)."""
    return run_sweep(plan, out, job=TrialJob(plan.trial, plan.base, engine, plan.draws), **sweep)


def read_firm_tables(out: Path) -> pd.DataFrame:
    """Every finished replicate's table of firms, in replicate order."""
    parts = sorted((Path(out) / "series").glob("part-*.parquet"))
    if not parts:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
