"""``copsim decompose``: exact (or sampled) Shapley attribution over channels switched off with common
random numbers, its outputs, and the channel switches themselves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from copsim.cli import main
from copsim.engine.params import trust_params
from copsim.scenario.io import load_scenario
from copsim.scenario.schema import Scenario
from copsim.studies.compare import CompareError, counterfactual_jobs, job_count
from copsim.studies.decompose import (
    CHANNELS, NONE, OUTCOMES, TOTAL, parse_channels, prefixes, prepare_decomposition,
    sampled_orders, sampled_shapley, shapley, subsets,
)
from conftest import write_small_scenario
from test_mechanisms import venture_week


def test_shapley_is_exact_on_a_game_with_an_interaction() -> None:
    channels = ("a", "b", "c")
    alone = {"a": 3.0, "b": -1.0, "c": 0.5}

    def v(s: frozenset[str]) -> float:  # additive, plus 2 when a and b act together
        return sum(alone[c] for c in s) + (2.0 if {"a", "b"} <= s else 0.0)

    phi = shapley({s: v(s) for s in subsets(channels)}, channels)
    assert phi == pytest.approx({"a": 4.0, "b": 0.0, "c": 0.5})
    assert sum(phi.values()) == pytest.approx(v(frozenset(channels)) - v(frozenset()))


def test_sampled_shapley_adds_up_and_is_exact_over_every_order() -> None:
    channels = tuple("abcdefgh")
    rng = np.random.default_rng(3)
    weights = dict(zip(channels, rng.normal(size=8), strict=True))

    def v(s: frozenset[str]) -> float:  # additive plus interactions of pairs and a triple
        return (sum(weights[c] for c in s) + 2.0 * ({"a", "b"} <= s) - 1.5 * ({"c", "d", "e"} <= s)
                + 0.7 * ({"g", "h"} <= s))

    game = {s: v(s) for s in subsets(channels)}
    exact = shapley(game, channels)
    orders = sampled_orders(channels, 16, seed=1)
    assert all(orders[i][::-1] == orders[i + 1] for i in range(0, 16, 2))  # antithetic pairs
    estimate = sampled_shapley(game, orders)
    assert sum(estimate.values()) == pytest.approx(v(frozenset(channels)) - v(frozenset()))
    assert estimate["f"] == pytest.approx(exact["f"])  # no interaction: any order gives it
    assert estimate != pytest.approx(exact)  # the interactions are split by the sample
    from itertools import permutations
    small = ("a", "b", "c")
    every = tuple(permutations(small))
    small_game = {s: v(s) for s in subsets(small)}
    assert sampled_shapley(small_game, every) == pytest.approx(shapley(small_game, small))


def test_beyond_six_channels_only_prefixes_of_sampled_orders_are_run() -> None:
    orders = sampled_orders(tuple("abcdefg"), 4, seed=2)
    arms = prefixes(orders)
    assert frozenset() in arms and frozenset("abcdefg") in arms
    assert len(arms) <= 4 * 6 + 2 < 2 ** 7
    assert all(frozenset(o[:j]) in arms for o in orders for j in range(8))
    with pytest.raises(CompareError, match="--orders: 3: must be an even number"):
        sampled_orders(tuple("abc"), 3, seed=1)
    s = load_scenario("microentre")
    d = prepare_decomposition(s, ("knowledge", "ventures", "hiring"), reps=1, root_seed=1,
                              orders=2)
    assert d.orders is not None and len(d.arms) == 6  # an order of three and its reverse
    assert "sampled orders" in d.method()


def test_every_subset_is_an_arm_sharing_one_counterfactual() -> None:
    s = load_scenario("microentre")
    d = prepare_decomposition(s, ("knowledge", "ventures", "hiring"), reps=2, root_seed=1)
    assert len(d.arms) == 8 and len(d.comparison.arms) == 8
    assert len(counterfactual_jobs(d.comparison, {})[0]) == 2
    assert job_count(d.comparison) == 8 * 2 + 2
    none = d.comparison.arms[d.arms[frozenset()]]
    assert not none.channels.knowledge and not none.channels.ventures and none.channels.wellbeing
    assert d.comparison.arms[s.name].channels == s.channels


def test_channels_are_checked() -> None:
    six = tuple(c for c in CHANNELS if c not in ("brokering", "documentation", "mentoring"))
    assert parse_channels(None, Scenario()) == six
    assert parse_channels(None, load_scenario("national_coordinator")) == (
        *six, "brokering", "documentation")
    with pytest.raises(CompareError, match="--channels: magic: unknown channel"):
        parse_channels("knowledge,magic", Scenario())


def test_a_switched_off_venture_channel_neither_lifts_nor_costs() -> None:
    s = Scenario()
    off = trust_params(s.model_copy(update={"channels": s.channels.model_copy(
        update={"ventures": False})}))
    status, cash = venture_week(off, 0.5, 1000.0, 1.0, 0.5)
    assert status == 0 and cash == 1000.0


@pytest.fixture(scope="module")
def decomposed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("decompose")
    small = write_small_scenario(cwd)
    code = main(["decompose", str(small), "--reps", "2", "--years", "1.5", "--channels",
                 "knowledge,problem_solving", "--workers", "1", "--out", str(cwd / "out"),
                 "--quiet"])
    assert code == 0
    return cwd / "out"


def test_decompose_writes_its_table_figure_and_report_section(decomposed: Path) -> None:
    for name in ("decomposition.md", "decomposition.csv", "attribution_replicates.csv",
                 "channel_arms.csv", "waterfall.png", "report.html", "table.md"):
        assert (decomposed / name).stat().st_size > 0, name
    report = (decomposed / "report.html").read_text(encoding="utf-8")
    assert "Where the effects come from" in report and "problem solving" in report
    assert report.count("data:image/png;base64") == 3
    md = (decomposed / "decomposition.md").read_text(encoding="utf-8")
    assert "knowledge to revenue" in md and "exact Shapley" in md


def test_channel_values_add_up_and_match_the_arms(decomposed: Path) -> None:
    parts = pd.read_csv(decomposed / "attribution_replicates.csv")
    arms = pd.read_csv(decomposed / "channel_arms.csv", keep_default_na=False)
    for (rep, key), g in parts.groupby(["replicate", "outcome"]):
        value = g.set_index("component")["value"]
        assert value[[NONE, "knowledge", "problem_solving"]].sum() == pytest.approx(value[TOTAL])
        v = arms[(arms.replicate == rep) & (arms.outcome == key)].set_index("channels_on")["value"]
        a, b = "knowledge", "problem_solving"
        expected = 0.5 * ((v[a] - v[""]) + (v[f"{a}+{b}"] - v[b]))
        assert value[a] == pytest.approx(expected)
    assert set(parts["outcome"]) == {o.key for o in OUTCOMES}
    assert len(arms) == 2 * 4 * len(OUTCOMES)


def test_switching_channels_off_changes_the_effect(decomposed: Path) -> None:
    arms = pd.read_csv(decomposed / "channel_arms.csv", keep_default_na=False)
    revenue = arms[arms.outcome == "revenue"].pivot(index="replicate", columns="channels_on",
                                                     values="value")
    assert not np.allclose(revenue[""], revenue["knowledge+problem_solving"])


def test_bad_channel_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    small = write_small_scenario(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["decompose", str(small), "--channels", "luck", "--out", str(tmp_path / "o")])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("copsim: error: --channels: luck")
    assert not (tmp_path / "o").exists()
