"""Parameter uncertainty in comparisons: replicates draw from a posterior (compare, decompose).

A small posterior is written by each test (two calibrated parameters, five weighted
particles); small populations over half a year keep every comparison to seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import write_small_scenario
from test_cli import copsim_cli, error_line

import copsim
from copsim.scenario.io import load_scenario
from copsim.studies import posterior as post
from copsim.studies.compare import counterfactual_jobs, prepare, programme_jobs
from copsim.studies.posterior import DEFAULT, choose_posterior, plan_draws, spread

KEYS = ["firms.exit_rate_per_year", "membership.leave_threshold"]


def write_posterior(path: Path, columns: dict[str, list[float]] | None = None) -> Path:
    """Five particles of two real parameters (or the given columns), unequal weights."""
    frame = pd.DataFrame(columns or {KEYS[0]: [0.04, 0.05, 0.07, 0.09, 0.10],
                                     KEYS[1]: [0.2, 0.3, 0.35, 0.45, 0.5]})
    frame["weight"] = [0.1, 0.3, 0.2, 0.3, 0.1]
    frame.to_parquet(path, index=False)
    return path


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """small.toml (400 firms) and a posterior file fitting it, in tmp_path."""
    write_small_scenario(tmp_path)
    write_posterior(tmp_path / "post.parquet")
    return tmp_path


def test_draws_depend_on_the_seed_only_and_reach_every_job(small: Path) -> None:
    posterior = post.load_posterior(small / "post.parquet")
    a, b = plan_draws(posterior, 7, 6, 2), plan_draws(posterior, 7, 6, 2)
    assert a.sets == b.sets and len(a.sets) == 3
    assert plan_draws(posterior, 8, 6, 2).sets != a.sets
    scenario = load_scenario(small / "small.toml")
    c = prepare([scenario], 6, 7, draws=a)
    for job in programme_jobs(c) + counterfactual_jobs(c, {})[0]:
        r = job.key[-1]
        drawn = a.sets[r // 2]
        assert job.scenario.firms.exit_rate_per_year == drawn[KEYS[0]]
        assert job.scenario.membership.leave_threshold == drawn[KEYS[1]]
        assert job.seed == c.seeds[r]


def test_compare_with_a_posterior_is_the_same_on_one_and_two_workers(small: Path) -> None:
    runs = [copsim.compare([small / "small.toml"], reps=4, years=0.5, workers=w, seed=3,
                           posterior=small / "post.parquet") for w in (1, 2)]
    one, two = (r.replicates for r in runs)
    pd.testing.assert_frame_equal(one, two)
    assert list(one.loc[one["scenario"] == "small", "draw"]) == [0, 0, 1, 1]
    assert (one.groupby("replicate")["draw"].nunique() == 1).all()  # programme and counterfactual
    record = runs[0].provenance["posterior"]
    assert record["parameters"] == KEYS and record["draws"] == 2 and record["seeds_per_draw"] == 2
    assert "participants_parameter_share" in runs[0].table.columns
    assert "Where the spread comes from" in runs[0].markdown
    assert runs[0].provenance["parameters"].startswith("Parameters: drawn from the posterior")


def test_no_posterior_gives_noise_only_intervals(small: Path) -> None:
    result = copsim.compare([small / "small.toml"], reps=2, years=0.25, workers=1, posterior=None)
    assert "draw" not in result.replicates.columns
    assert "participants_parameter_share" not in result.table.columns
    assert result.provenance["posterior"] is None
    assert "noise only" in result.provenance["parameters"]


def test_cli_prints_where_the_parameters_come_from_and_the_report_splits_the_spread(small: Path
                                                                                  ) -> None:
    proc = copsim_cli("compare", "small.toml", "--reps", 4, "--years", 0.25, "--workers", 1,
                      "--posterior", "post.parquet", "--out", "out", "--quiet", cwd=small)
    assert proc.returncode == 0, proc.stderr
    page = (small / "out" / "report.html").read_text()
    assert "Where the spread comes from" in page and "drawn from the posterior" in page
    meta = json.loads((small / "out" / "compare.json").read_text())
    assert len(meta["posterior"]["values"]) == 2
    proc = copsim_cli("compare", "small.toml", "--reps", 2, "--years", 0.25, "--workers", 1,
                      "--no-posterior", "--out", "plain", cwd=small)
    assert proc.stdout.startswith("Parameters: as in the scenario files (no posterior)")


@pytest.mark.parametrize("columns,message", [
    ({"membership.nosuch": [0.1] * 5}, "post.parquet: membership.nosuch: not a parameter of "
                                       "scenario small"),
    ({"firms.exit_rate_per_year": [0.05, 0.05, 0.05, 0.05, -1.0]},
     "firms.exit_rate_per_year: Input should be greater than or equal to 0"),
    ({"regions": [1.0] * 5}, "post.parquet: regions: not a number in scenario small"),
])
def test_a_posterior_that_does_not_fit_the_scenario_exits_2_with_one_line(
        small: Path, columns: dict[str, list[float]], message: str) -> None:
    write_posterior(small / "post.parquet", columns)
    proc = copsim_cli("compare", "small.toml", "--reps", 2, "--posterior", "post.parquet",
                      "--out", "out", cwd=small)
    assert message in error_line(proc)
    assert not (small / "out").exists()


def test_a_file_that_is_not_a_posterior_exits_2(small: Path) -> None:
    pd.DataFrame({KEYS[0]: [0.05]}).to_parquet(small / "noweight.parquet")
    (small / "text.parquet").write_text("not parquet")
    for name, reason in (("noweight.parquet", "weight: missing"), ("text.parquet", "(file): not a"),
                         ("none.parquet", "(file): no such posterior file")):
        proc = copsim_cli("decompose", "small.toml", "--posterior", name, cwd=small)
        assert f"{name}: {reason}" in error_line(proc)


def test_the_shipped_default_applies_only_where_the_scenarios_keep_its_values(
        small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fitting = post.load_posterior(small / "post.parquet")
    monkeypatch.setattr(post, "shipped_posterior", lambda: fitting)
    scenario = load_scenario(small / "small.toml")
    chosen, words = choose_posterior(DEFAULT, [scenario])
    assert chosen is fitting and "shipped posterior" in words and "--no-posterior" in words
    own = copsim.api.resolve_scenario(scenario, {"membership.leave_threshold": 0.31})
    chosen, words = choose_posterior(DEFAULT, [scenario, own])
    assert chosen is None and "sets membership.leave_threshold itself" in words
    stale = post.Posterior("shipped", ("membership.gone",), np.ones((1, 1)), np.ones(1))
    monkeypatch.setattr(post, "shipped_posterior", lambda: stale)
    chosen, words = choose_posterior(DEFAULT, [scenario])
    assert chosen is None and "membership.gone: not a parameter" in words


def test_spread_separates_parameter_variance_from_noise() -> None:
    rng = np.random.default_rng(0)
    draws = np.repeat(np.arange(400), 3)
    effect = rng.normal(0.0, 2.0, 400)[draws]  # between draws: variance 4
    noise = rng.normal(0.0, 1.0, len(draws))  # within: variance 1
    s = spread(list(10 + effect + noise), list(draws), 0.95)
    assert s.between == pytest.approx(4.0, rel=0.15) and s.within == pytest.approx(1.0, rel=0.1)
    assert s.parameter_share == pytest.approx(0.8, abs=0.04)
    assert s.lo < 10 - 1.9 * 2 and s.hi > 10 + 1.9 * 2  # holds the parameters' spread
    pure = spread(list(rng.normal(0, 1, 1200)), list(draws), 0.95)
    assert pure.parameter_share < 0.1
    assert pure.hi - pure.lo < 0.5  # then it is the interval of the mean


def test_decompose_with_a_posterior_splits_the_spread(small: Path) -> None:
    proc = copsim_cli("decompose", "small.toml", "--channels", "knowledge", "--reps", 4,
                      "--years", 0.25, "--workers", 1, "--posterior", "post.parquet",
                      "--out", "out", "--quiet", cwd=small)
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(small / "out" / "decomposition.csv")
    assert "parameter_share" in table.columns
    meta = json.loads((small / "out" / "compare.json").read_text())
    assert meta["posterior"]["draws"] == 2
    assert "drawn from the posterior" in (small / "out" / "decomposition.md").read_text()


TRIAL = """\
name = "tiny_rct"
description = "a tiny trial"
base = "microentre"
population = 600
seed = 1
replicates = 4
start_week = 2
horizons = [12]
outcomes = ["profit", "survival"]
sizes = [100]

[fixed]
"funding.phases.0.recruitment_hours_per_week" = 0.0

[randomisation]
unit = "group"
strata = "region"
group_size = 8

[[arms]]
name = "monthly"
share = 0.5
meetings = 3
cadence_weeks = 4
"""


def test_trial_with_a_posterior_splits_the_spread_and_is_another_trial(small: Path) -> None:
    (small / "tiny.toml").write_text(TRIAL)
    proc = copsim_cli("trial", "tiny.toml", "--posterior", "post.parquet", "--workers", 1,
                      "--out", "out", cwd=small)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Parameters: drawn from the posterior post.parquet")
    firms = pd.concat(pd.read_parquet(p) for p in sorted((small / "out" / "series").glob("*.parquet")))
    assert (firms.groupby("replicate")["draw"].first() == [0, 0, 1, 1]).all()
    estimates = pd.read_csv(small / "out" / "analysis" / "estimates.csv")
    assert {"true_lo", "true_hi", "true_parameter_share", "estimate_parameter_share"} <= set(estimates)
    meta = json.loads((small / "out" / "analysis" / "trial.json").read_text())
    assert meta["posterior"]["draws"] == 2
    assert "spread of the estimates from parameters" in proc.stdout
    resumed = copsim_cli("trial", "tiny.toml", "--no-posterior", "--workers", 1, "--out", "out",
                         cwd=small)
    assert resumed.returncode == 2 and "Traceback" not in resumed.stderr  # not the same trial


def test_a_constant_has_no_split() -> None:
    """Rounding errors of a constant outcome (a cost, say) are not called parameters."""
    values = [960833.0000000001, 960833.0, 960833.0000000002, 960833.0]
    assert np.isnan(spread(values, [0, 0, 1, 1], 0.95).parameter_share)
