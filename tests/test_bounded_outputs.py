"""Above ``run.events_max_firms`` firms the entry and exit events follow members and the
snapshot sample only: events.parquet stays bounded while the counts stay complete."""

from __future__ import annotations

import numpy as np

from copsim.engine.runner import simulate
from copsim.scenario.io import load_scenario, scale_population, validate_scenario, with_years


def scenario(max_firms: int):
    base = with_years(scale_population(load_scenario(), 1500), 1.0).model_dump()
    base["run"]["snapshot_max_firms"] = 200
    base["run"]["events_max_firms"] = max_firms
    return validate_scenario(base, "bounded outputs")


def test_large_runs_log_entries_and_exits_of_followed_firms_only() -> None:
    full = simulate(scenario(100_000), seed=3)
    bounded = simulate(scenario(200), seed=3)
    events, kept = full.events, bounded.events
    assert (events["kind"] == "entry").sum() > 0 and (kept["kind"] == "entry").sum() == 0
    exits = kept[kept["kind"] == "exit"]
    assert 0 < len(exits) < (events["kind"] == "exit").sum()
    followed = set(bounded.agents["row"]) | set(kept.loc[kept["kind"] == "join", "firm"])
    assert set(exits["firm"]) <= followed
    assert bounded.summary["events"] == full.summary["events"]  # every firm counted
    others = events[~events["kind"].isin(["entry", "exit"])].reset_index(drop=True)
    np.testing.assert_array_equal(others["firm"], kept[~kept["kind"].isin(["entry", "exit"])]["firm"])
    assert bounded.timeseries.equals(full.timeseries)
