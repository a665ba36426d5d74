"""The network beyond one group (issue 13): a coordinator who brokers introductions across
groups, the published good practice any firm can read, and participants' time as a cost."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from copsim.dtypes import N_TOPICS, EventKind
from copsim.engine import outreach, owner_time
from copsim.engine.kernels import get_kernels, new_tie_index
from copsim.engine.model import CopModel
from copsim.engine.state import PAIR
from copsim.errors import CopsimError
from copsim.scenario.io import load_scenario, validate_scenario
from copsim.scenario.schema import Scenario

COST_COLUMNS = ["cost_week_eur", "cost_to_date_eur"]


def coordinated(introductions: float = 48.0, reach: float = 0.2, weeks: int = 52,
                **update: Any) -> Scenario:
    """national_coordinator made small: two regions, two groups, the coordinator from week 0."""
    data = load_scenario("national_coordinator").model_dump()
    data["run"]["years"] = weeks / 52
    data["regions"] = [{"name": "A", "firms": 400, "sparsity": 0.5},
                       {"name": "B", "firms": 400, "sparsity": 0.8}]
    data["groups"] = [{"name": "A", "region": "A"}, {"name": "B", "region": "B"}]
    for phase in data["funding"]["phases"]:
        if phase["name"] == "national_coordination":
            phase.update(start_week=0, introductions_per_year=introductions,
                         good_practice_reach_per_year=reach)
    for key, value in update.items():
        data[key] = {**data[key], **value}
    return validate_scenario(data, source="test")


def run(s: Scenario, engine: str = "numba", seed: int = 3) -> CopModel:
    model = CopModel(s, seed=seed, engine=engine, agent_views=False)
    model.run()
    return model


@pytest.fixture(scope="module")
def runs() -> dict[str, CopModel]:
    return {
        "on": run(coordinated()),
        "none": run(coordinated(introductions=0.0, reach=0.0)),
        "no_intro": run(coordinated(introductions=0.0)),
        "no_reach": run(coordinated(reach=0.0)),
        "broker_off": run(coordinated(channels={"brokering": False})),
        "docs_off": run(coordinated(channels={"documentation": False})),
        "long_meetings": run(coordinated(owner_time={"meeting_hours": 5.0})),
    }


# --- the kernels ----------------------------------------------------------------------------


def kernel_inputs(seed: int, engine: str) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    n, rows_n = 60, 40
    rows = np.sort(rng.choice(n, rows_n, replace=False)).astype(np.int64)
    index = new_tie_index(engine)
    trust = rng.random(30)
    for e in range(30):
        i, j = sorted(rng.choice(rows, 2, replace=False).tolist())
        index[i * PAIR + j] = e
    return {
        "seekers": rng.integers(0, rows_n, 25), "candidates": rng.integers(0, rows_n, (25, 6)),
        "rows": rows, "row_group": rng.integers(0, 4, rows_n),
        "knowledge": rng.random((n, N_TOPICS)),
        "problem_topic": np.where(rng.random(n) < 0.4, rng.integers(0, N_TOPICS, n), -1),
        "assets": rng.integers(0, 16, n).astype(np.uint8), "index": index, "trust": trust,
        "readers": rng.integers(0, n, 30), "published": rng.random(N_TOPICS),
    }


@pytest.mark.parametrize("seed", range(5))
def test_outreach_kernels_equal_their_plain_python_twins(seed: int) -> None:
    out = {}
    for engine in ("numba", "python"):
        x = kernel_inputs(seed, engine)
        k = get_kernels(engine)
        m = len(x["seekers"])
        partner, topic = np.zeros(m, dtype=np.int64), np.zeros(m, dtype=np.int64)
        level, comp = np.zeros(m), np.zeros(m, dtype=np.bool_)
        made = k.match_introductions(x["seekers"], x["candidates"], x["rows"], x["row_group"],
                                     x["knowledge"], x["problem_topic"], x["assets"], x["index"],
                                     x["trust"], 0.2, partner, topic, level, comp)
        les = (np.zeros(30, dtype=np.int64), np.zeros(30, dtype=np.int64), np.zeros(30),
               np.zeros(30))
        n_les = k.good_practice_lessons(x["readers"], x["knowledge"], x["problem_topic"],
                                        x["published"], 0.03, les)
        out[engine] = (made, partner, topic, level, comp, n_les, *les)
        assert made > 0 and n_les > 0
    for a, b in zip(out["numba"], out["python"], strict=True):
        np.testing.assert_array_equal(a, b)


def test_introductions_pair_members_of_different_groups_who_are_not_yet_tied() -> None:
    x = kernel_inputs(0, "python")
    m = len(x["seekers"])
    partner, topic = np.zeros(m, dtype=np.int64), np.zeros(m, dtype=np.int64)
    level, comp = np.zeros(m), np.zeros(m, dtype=np.bool_)
    get_kernels("python").match_introductions(
        x["seekers"], x["candidates"], x["rows"], x["row_group"], x["knowledge"],
        x["problem_topic"], x["assets"], x["index"], x["trust"], 0.2, partner, topic, level, comp)
    group_of = dict(zip(x["rows"].tolist(), x["row_group"].tolist(), strict=True))
    for q in np.flatnonzero(partner >= 0):
        i, j = int(x["rows"][x["seekers"][q]]), int(partner[q])
        assert group_of[i] != group_of[j]
        key = min(i, j) * PAIR + max(i, j)
        assert key not in x["index"] or x["trust"][x["index"][key]] < 0.2
        assert level[q] == x["knowledge"][j, topic[q]]


# --- brokering ------------------------------------------------------------------------------


def last_half_mean(model: CopModel, column: str) -> float:
    ts = model.timeseries_frame()
    return float(ts[column].iloc[len(ts) // 2:].mean())


def test_brokering_grows_bridges_between_groups(runs: dict[str, CopModel]) -> None:
    assert runs["on"].events.count(EventKind.INTRODUCTION) > 20
    assert runs["no_intro"].events.count(EventKind.INTRODUCTION) == 0
    assert last_half_mean(runs["on"], "bridges") > last_half_mean(runs["no_intro"], "bridges") + 5


def test_every_introduction_is_paid_in_the_ledger(runs: dict[str, CopModel]) -> None:
    model = runs["on"]
    made = model.events.count(EventKind.INTRODUCTION)
    brokering = sum(eur for (_, item), eur in model.ledger.entries.items() if item == "brokering")
    assert brokering == pytest.approx(made * 2.0 * 70.0)  # 2 h each at the researcher's 70 EUR/h
    assert model.ledger.total == pytest.approx(runs["broker_off"].ledger.total)


def test_brokering_channel_off_keeps_the_introductions_but_they_change_nothing(
        runs: dict[str, CopModel]) -> None:
    off, without = runs["broker_off"], runs["no_intro"]
    made = runs["on"].events.count(EventKind.INTRODUCTION)
    assert off.events.count(EventKind.INTRODUCTION) == made
    pd.testing.assert_frame_equal(off.timeseries_frame().drop(columns=COST_COLUMNS),
                                  without.timeseries_frame().drop(columns=COST_COLUMNS))
    assert not runs["on"].timeseries_frame().equals(without.timeseries_frame())


# --- published good practice ----------------------------------------------------------------


def test_documentation_channel_off_is_the_run_without_a_website(runs: dict[str, CopModel]) -> None:
    pd.testing.assert_frame_equal(runs["docs_off"].timeseries_frame(),
                                  runs["no_reach"].timeseries_frame())
    assert runs["on"].time_account.hours["reading"] > 0
    assert not runs["on"].timeseries_frame()["knowledge_mean"].equals(
        runs["no_reach"].timeseries_frame()["knowledge_mean"])


def test_readers_learn_what_they_need_but_never_above_what_is_documented() -> None:
    model = CopModel(coordinated(introductions=0.0, reach=1.0), seed=5, agent_views=False)
    model.run(30)
    f, n = model.firms, model.firms.n
    docs = outreach.published(model)
    assert docs.max() > 0
    assert np.array_equal(docs, model.groups.memory[: model.groups.n].max(axis=0))
    before = f.knowledge[:n].copy()
    outreach.good_practice(model, model.week)
    after = f.knowledge[:n]
    learnt = after > before
    assert learnt.any(axis=1)[f.group[:n] < 0].sum() > 100  # firms beyond the groups learn
    assert np.all(after <= np.maximum(before, docs[None, :]) + 1e-12)
    assert not (after > before)[:, docs <= before.min(axis=0)].any()


# --- participants' time ---------------------------------------------------------------------


def test_participants_time_prices_every_meeting_hour_at_the_firms_own_rate(
        runs: dict[str, CopModel]) -> None:
    model = runs["on"]
    hours = model.time_account.hours
    attendances = model.timeseries_frame()["attendance"].sum()
    assert hours["meetings"] / 3.0 + hours["network meetings"] / 8.0 == pytest.approx(attendances)
    assert hours["introductions"] == pytest.approx(
        2 * 1.5 * model.events.count(EventKind.INTRODUCTION))
    rows = np.array([0, 1, 2])
    f = model.firms
    expected = f.revenue[rows] / (45.0 * (1 + 0.55 * f.employees[rows]))
    np.testing.assert_allclose(owner_time.hourly_rate(model, rows), expected)


def test_participants_time_is_a_separate_account(runs: dict[str, CopModel]) -> None:
    base, longer = runs["on"], runs["long_meetings"]
    pd.testing.assert_frame_equal(base.timeseries_frame(), longer.timeseries_frame())
    assert base.ledger.total == longer.ledger.total
    assert longer.time_account.total_eur > base.time_account.total_eur > 0
    s = base.summary()
    assert s["cost_total_eur"] == pytest.approx(base.ledger.total, abs=0.01)
    with_time = s["cost_total_eur"] + s["participants_time_cost_eur"]
    assert s["cost_with_time_eur"] == pytest.approx(with_time, abs=0.02)
    assert all(r["payer"] != "participants" for r in s["ledger"])
    assert runs["none"].time_account.hours["reading"] == 0


def test_both_engines_give_the_same_run_with_brokering_and_good_practice() -> None:
    s = coordinated(weeks=26, introductions=200.0, reach=0.5)
    a, b = run(s, "numba"), run(s, "python")
    assert a.events.count(EventKind.INTRODUCTION) > 10
    pd.testing.assert_frame_equal(a.timeseries_frame(), b.timeseries_frame(), check_exact=True)
    pd.testing.assert_frame_equal(a.events.to_frame(), b.events.to_frame(), check_exact=True)
    assert a.summary()["participants_time"] == b.summary()["participants_time"]


# --- the scenario file ----------------------------------------------------------------------


@pytest.mark.parametrize(("change", "key"), [
    ({"basis": "group_age"}, "introductions_per_year"),
    ({"facilitators": []}, "introductions_per_year"),
])
def test_introductions_need_a_calendar_phase_with_a_coordinator(change: dict, key: str) -> None:
    data = coordinated().model_dump()
    phase = next(p for p in data["funding"]["phases"] if p["name"] == "national_coordination")
    phase.update(change, fixed_eur_per_year=0.0, cross_group_meetings_per_year=0.0,
                 good_practice_reach_per_year=0.0)
    with pytest.raises(CopsimError, match=key):
        validate_scenario(data, source="bad.toml")
