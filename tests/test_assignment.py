"""Random assignment for evaluations and exact programme ends (issue 13, item 2)."""

from __future__ import annotations

import numpy as np
import pytest

from copsim.engine.membership import start_group
from copsim.engine.model import CopModel
from copsim.scenario.io import load_scenario, validate_scenario
from copsim.scenario.schema import Scenario


def one_group(population: int = 600, years: float = 1.2, **group: object) -> Scenario:
    """The default scenario's first region only, one group, no funding, no founding, no
    leaving, full attendance."""
    data = load_scenario().model_dump()
    data["regions"] = [{**data["regions"][0], "firms": population}]
    data["run"]["years"] = years
    data["funding"]["phases"] = []
    data["membership"]["critical_mass"] = 0
    data["membership"]["leave_threshold"] = 0.0  # nobody leaves by choice: a group's end is its end week
    data["attendance"]["base"] = 10.0  # and everyone attends, so every due date is a meeting
    data["groups"] = [{"name": "g", "region": data["regions"][0]["name"], **group}]
    return validate_scenario(data)


def meetings(model: CopModel) -> np.ndarray:
    events = model.events.to_frame()
    return np.sort(events.loc[events["kind"] == "meeting", "week"].to_numpy())


def test_end_week_48_with_a_4_week_cadence_gives_12_meetings_and_members_through_week_47() -> None:
    model = CopModel(one_group(start_week=0, end_week=48, cadence_weeks=4, initial_members=12), seed=1,
                     agent_views=False)
    model.run()
    assert meetings(model).tolist() == list(range(0, 48, 4))
    members = model.timeseries_frame().set_index("week")["members"]
    assert members[47] > 0  # before the fix the group was dissolved one week early, in week 47
    assert members[48] == 0
    events = model.events.to_frame()
    assert events.loc[events["kind"] == "group_dissolved", "week"].tolist() == [48]


def test_a_programme_ending_on_a_meeting_week_does_not_meet_that_week() -> None:
    model = CopModel(one_group(start_week=3, end_week=15, cadence_weeks=3, initial_members=8), seed=2,
                     agent_views=False)
    model.run()
    assert meetings(model).tolist() == [3, 6, 9, 12]


def test_uniform_selection_gives_firms_with_a_problem_no_extra_weight() -> None:
    excess = {}
    for selection in ("problem_first", "uniform"):
        scenario = one_group(start_week=50, initial_members=40, selection=selection)
        chosen, population = [], []
        for seed in range(12):
            model = CopModel(scenario, seed=seed, agent_views=False)
            model.run(weeks=6)
            f = model.firms
            problem = f.problem_topic[: f.n] >= 0
            pool = np.flatnonzero(f.alive[: f.n] & (f.born_week[: f.n] < model.week))
            start_group(model, 0, model.week)
            chosen.append(problem[model.members_of(0)].mean())
            population.append(problem[pool].mean())
            model.release()
        excess[selection] = np.mean(chosen) - np.mean(population)
    assert excess["problem_first"] > 0.05
    assert abs(excess["uniform"]) < 0.04


def test_first_members_come_from_the_listed_sectors_and_never_from_the_start_weeks_entrants() -> None:
    scenario = one_group(start_week=5, initial_members=30, selection="uniform", sectors=["food", "crafts"])
    for seed in range(8):
        model = CopModel(scenario, seed=seed, agent_views=False)
        model.run(weeks=6)
        rows = np.array(model.members_of(0))
        sectors = [s.name for s in scenario.environment.sectors]
        assert set(model.firms.sector[rows].tolist()) <= {sectors.index("food"), sectors.index("crafts")}
        assert (model.firms.born_week[rows] < 5).all()
        model.release()


def test_unknown_group_sector_is_a_keyed_error() -> None:
    from copsim.errors import ScenarioError
    with pytest.raises(ScenarioError, match="groups.0.sectors: unknown name 'mining'"):
        one_group(sectors=["mining"])
