"""The engine API every client uses: run a scenario, get its outputs, write them.

The CLI, comparisons, sweeps and the dashboard all call :func:`simulate` (and
:func:`write_run` for files); none of them steps the model on its own terms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from copsim.resources import git_commit
from copsim.version import __version__
from copsim.scenario.schema import Scenario
from copsim.engine.kernels import Engine
from copsim.engine.metrics import firm_outcomes
from copsim.engine.model import CopModel
from copsim.outputs.files import OutputKind, atomic_directory, write_json
from copsim.scenario.io import scenario_hash

RUN_OUTPUT = OutputKind("run", "run.json", ("timeseries.parquet", "events.parquet", "agents.parquet",
                                            "summary.json", "run.json", "timeseries.png"))


@dataclass
class RunResult:
    """Everything one run produced."""

    timeseries: pd.DataFrame
    events: pd.DataFrame
    agents: pd.DataFrame
    summary: dict[str, Any]
    firms: pd.DataFrame | None  # end state of every firm (metrics.firm_outcomes); None if not asked
    tracked_rows: np.ndarray | None
    provenance: dict[str, Any] = field(default_factory=dict)


def provenance(scenario: Scenario, seed: int, engine: Engine) -> dict[str, Any]:
    """What identifies a run: resolved scenario, seed, version and engine."""
    return {
        "copsim_version": __version__,
        "git_commit": git_commit(),  # None when not run from a checkout
        "seed": seed,
        "engine": engine,
        "scenario_hash": scenario_hash(scenario),
        "scenario": scenario.model_dump(mode="json"),
    }


def simulate(scenario: Scenario, *, seed: int, engine: Engine = "numba",
             progress: Callable[[int], None] | None = None, agent_views: bool = False,
             track_rows: np.ndarray | None = None, track_members_at: int | None = None,
             threads: int = 1, firms: bool = True) -> RunResult:
    """Run a scenario to its horizon and collect its outputs (tracking: see CopModel).

    Mesa agent views are off by default: outputs come from the arrays, and creating
    and removing a view costs microseconds per entering or exiting firm. ``firms=False``
    leaves out the end state of every firm, which no output file holds (``copsim run``):
    built while the model still holds its state, it was the run's peak memory (about 100
    bytes a firm more).
    """
    model = CopModel(scenario, seed=seed, engine=engine, agent_views=agent_views,
                     track_rows=track_rows, track_members_at=track_members_at, threads=threads)
    try:
        model.run(progress=progress)
        return RunResult(
            timeseries=model.timeseries_frame(),
            events=model.events.to_frame(),
            agents=model.agents_frame(),
            summary=model.summary(),
            firms=firm_outcomes(model) if firms else None,
            tracked_rows=model.tracked_rows,
            provenance=provenance(scenario, seed, engine),
        )
    finally:
        model.release()


def write_run(result: RunResult, out: Path) -> None:
    """Write every output file of a run into ``out``, atomically."""
    from copsim.outputs.plotting import plot_timeseries  # matplotlib: ~0.8 s that batch workers never need

    with atomic_directory(out, RUN_OUTPUT) as tmp:
        result.timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
        result.events.to_parquet(tmp / "events.parquet", index=False)
        result.agents.to_parquet(tmp / "agents.parquet", index=False)
        write_json(tmp / "summary.json", result.summary)
        write_json(tmp / "run.json", result.provenance)
        plot_timeseries(result.timeseries, tmp / "timeseries.png",
                        f"copsim: {result.summary['scenario']} (seed {result.summary['seed']})")


def describe(summary: dict[str, Any]) -> str:
    """A short readable summary of a run for the terminal."""
    years = summary["weeks"] / 52
    def eur(x: float | None) -> str:
        return "n/a" if x is None else f"{x:,.0f} EUR"
    acts = summary["activities"]
    lines = [
        f"Scenario {summary['scenario']}, seed {summary['seed']}, {years:g} years ({summary['weeks']} weeks), "
        f"{summary['population_start']:,} firms at the start.",
        f"Reach: {summary['participants_total']} firms took part; {summary['members_end']} members in "
        f"{summary['groups_active_end']} active groups at the end ({summary['meetings_held']} meetings held).",
        f"Joint ventures formed: {summary['joint_ventures_formed']} ({summary['joint_ventures_failed']} failed), "
        f"{summary['joint_venture_memberships']} firm memberships; partnerships through business contacts, "
        f"all firms: {summary['partnerships_formed']:,}; members of ventures and partnerships paid "
        f"{eur(summary['joint_venture_cost_eur'])} for them and gained "
        f"{eur(summary['joint_venture_revenue_eur'])} of revenue from them.",
        f"Survival of the initial firms: {summary['survival_rate']:.1%}; of participants: "
        f"{summary['participant_survival_rate']:.1%} (annual exit rate {summary['annual_exit_rate']:.1%}).",
        f"Knowledge gain of participants: {summary['knowledge_gain_members']:+.3f} (0-1 scale).",
        f"Cost: {eur(summary['cost_total_eur'])} in all, {eur(summary['cost_per_participant_eur'])} per participant, "
        f"{eur(summary['cost_per_joint_venture_eur'])} per joint venture.",
        f"Participants' time: {summary['participants_time_hours']:,.0f} hours, worth "
        f"{eur(summary['participants_time_cost_eur'])} at each firm's own hourly rate (not in the cost "
        f"above); with it {eur(summary['cost_with_time_eur'])}, "
        f"{eur(summary['cost_with_time_per_participant_eur'])} per participant.",
        "Wenger's activities: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in acts.items()) + ".",
    ]
    return "\n".join(lines)
