"""``copsim compare``: the outcome table, common random numbers, shocks, bad input, the report.

Small populations (two regions, 2 000 firms, one year) keep every comparison to a few
seconds; the CLI runs in a subprocess as a user would run it.
"""

from __future__ import annotations

import json
import math
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DEFAULT_FILE
from scipy import stats
from test_cli import Proc, copsim_cli, error_line, snapshot

from copsim.studies.compare import (
    METRICS, NO_PROGRAMME, interval, metrics_for, per, prepare, recovery_weeks,
    replicate_outcomes, run_comparison,
)
from copsim.scenario.io import load_scenario
from copsim.scenario.schema import Scenario

SPILLOVERS = ("spillover_surviving_firms", "spillover_revenue_eur_per_year", "spillover_employment")
OUTPUTS = {"table.md", "table.csv", "replicates.csv", "timeseries.parquet", "timeseries_bands.png",
           "cost_vs_outcome.png", "report.html", "compare.json"}
SMALL = f"""\
extends = "{DEFAULT_FILE.as_posix()}"
name = "small"
run = {{ years = 1.0 }}
regions = [{{ name = "Oulu", firms = 1200, sparsity = 0.4 }},
           {{ name = "Kajaani", firms = 800, sparsity = 0.6 }}]
groups = [{{ name = "Oulu", region = "Oulu" }},
          {{ name = "Kajaani", region = "Kajaani", start_week = 6 }}]
"""
SELF = 'extends = "small.toml"\nname = "self"\n[funding]\nphases = []\n'
OTHER = 'extends = "small.toml"\nname = "other"\nregions = [{ name = "Oulu", firms = 900 }, ' \
        '{ name = "Kajaani", firms = 800 }]\n'
SHOCK = """\
# A mild, short test shock early in the year, so that members recover within it.
[[shocks]]
name = "test"
start_week = 20
duration_weeks = 3
recovery_weeks = 3
depth = 0.3
"""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Scenario files: a small MicroENTRE, its self-organised twin, another population."""
    cwd = tmp_path_factory.mktemp("compare")
    for name, text in {"small.toml": SMALL, "self.toml": SELF, "other.toml": OTHER,
                       "shock.toml": SHOCK}.items():
        (cwd / name).write_text(text, encoding="utf-8")
    return cwd


@pytest.fixture(scope="module")
def runs(workdir: Path) -> dict[str, Proc]:
    """The comparisons the tests read, started together (each is a few seconds). They keep
    the scenarios' values (--no-posterior): these tests read the noise-only table, whose
    interval is the replicates' t interval; drawing from a posterior is test_posterior's."""
    commands = {
        "w1": ("compare", "small.toml", "self.toml", "--reps", 3, "--workers", 1, "--out", "w1",
               "--no-posterior"),
        "w2": ("compare", "small.toml", "self.toml", "--reps", 3, "--workers", 2, "--out", "w2",
               "--no-posterior"),
        # root seed 2: with seed 1 (since start-week entrants are no longer drawn as first
        # members), one replicate's members without the programme stay below 95 % of their
        # pre-shock revenue to the end of the year, so their recovery time is undefined
        "shock": ("compare", "small.toml", "--reps", 2, "--workers", 1, "--shock", "shock.toml",
                  "--seed", 2, "--out", "shock", "--quiet", "--no-posterior"),
        "run": ("run", "small.toml", "--shock", "shock.toml", "--out", "run", "--quiet"),
    }
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        futures = {k: pool.submit(copsim_cli, *args, cwd=workdir)
                   for k, args in commands.items()}
        procs = {k: f.result() for k, f in futures.items()}
    for proc in procs.values():
        assert proc.returncode == 0, proc.stderr
    return procs


def table(workdir: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(workdir / name / "table.csv").set_index("scenario")


def replicates(workdir: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(workdir / name / "replicates.csv")


# --- the table ------------------------------------------------------------------------------


def test_outputs_are_written_and_the_table_printed(runs: dict[str, Proc], workdir: Path) -> None:
    assert {p.name for p in (workdir / "w2").iterdir()} == OUTPUTS
    out = runs["w2"].stdout
    parameters, table = out.split("\n", 1)
    assert parameters.startswith("Parameters: ")  # where the replicates' parameters came from
    assert table.startswith("| | small | self | no programme |")
    assert "| Participants reached (firms) |" in out and "Outputs in w2/" in out
    assert (workdir / "w2" / "table.md").read_text() in out


def test_table_has_every_metric_with_mean_and_95_interval(runs: dict[str, Proc],
                                                          workdir: Path) -> None:
    t = table(workdir, "w2")
    assert list(t.index) == ["small", "self", NO_PROGRAMME]
    for m in metrics_for(shock=False):
        for suffix in ("mean", "lo", "hi", "defined"):
            assert f"{m.key}_{suffix}" in t.columns
    assert not any(c.startswith("recovery") for c in t.columns)
    assert "not reported: no shock" in (workdir / "w2" / "table.md").read_text()
    reps = replicates(workdir, "w2")
    small = reps[reps["scenario"] == "small"]["participants"]
    half = stats.t.ppf(0.975, 2) * small.std(ddof=1) / math.sqrt(3)
    assert t.loc["small", "participants_mean"] == pytest.approx(small.mean())
    assert t.loc["small", "participants_lo"] == pytest.approx(small.mean() - half)
    assert t.loc["small", "participants_hi"] == pytest.approx(small.mean() + half)


def test_one_worker_and_two_give_identical_tables(runs: dict[str, Proc], workdir: Path) -> None:
    for name in ("table.csv", "replicates.csv", "table.md"):
        assert (workdir / "w1" / name).read_bytes() == (workdir / "w2" / name).read_bytes()


def test_no_programme_row_costs_nothing_and_has_no_effect(runs: dict[str, Proc],
                                                          workdir: Path) -> None:
    row = table(workdir, "w2").loc[NO_PROGRAMME]
    for key in ("participants", "cost_total_eur", "additional_surviving_firms", "joint_ventures",
                "additional_revenue_eur_per_year", "additional_employment", "groups_active_end",
                "spillover_surviving_firms", "spillover_revenue_eur_per_year",
                "spillover_employment"):
        assert row[f"{key}_mean"] == 0, key
    assert row["cost_per_participant_eur_defined"] == 0  # nothing per nobody: n/a, not 0


def test_costs_per_outcome_are_cost_over_outcome_per_replicate(runs: dict[str, Proc],
                                                               workdir: Path) -> None:
    reps = replicates(workdir, "w2")
    small = reps[reps["scenario"] == "small"]
    ratios = {"cost_per_participant_eur": "participants",
              "cost_per_joint_venture_eur": "joint_ventures",
              "cost_per_additional_surviving_firm_eur": "additional_surviving_firms"}
    for ratio, outcome in ratios.items():
        expected = [per(c, n) for c, n in zip(small["cost_total_eur"], small[outcome], strict=True)]
        np.testing.assert_allclose(small[ratio], expected)
    mean = table(workdir, "w2").loc["small", "cost_per_participant_eur_mean"]
    assert mean == pytest.approx(small["cost_per_participant_eur"].mean())  # not a ratio of means


def test_participants_time_is_reported_next_to_the_funders_cost(runs: dict[str, Proc],
                                                                  workdir: Path) -> None:
    reps = replicates(workdir, "w2")
    for label in ("small", "self"):
        r = reps[reps["scenario"] == label]
        assert (r["participants_time_cost_eur"] > 0).all()  # meetings take time, funded or not
        np.testing.assert_allclose(r["cost_with_time_eur"],
                                   r["cost_total_eur"] + r["participants_time_cost_eur"])
        np.testing.assert_allclose(r["cost_with_time_per_participant_eur"],
                                   r["cost_with_time_eur"] / r["participants"])
    assert table(workdir, "w2").loc[NO_PROGRAMME, "participants_time_cost_eur_mean"] == 0
    text = (workdir / "w2" / "table.md").read_text()
    for label in ("| Funders' cost (EUR) |", "| Participants' time at their own hourly rates (EUR) |",
                  "| Total cost with participants' time (EUR) |",
                  "| With participants' time: cost per additional surviving firm (EUR) |"):
        assert label in text
    assert "gave time worth" in (workdir / "w2" / "report.html").read_text()


def test_self_organised_costs_nothing_but_reaches_firms(runs: dict[str, Proc],
                                                        workdir: Path) -> None:
    row = table(workdir, "w2").loc["self"]
    assert row["cost_total_eur_mean"] == 0 and row["participants_mean"] > 0


# --- common random numbers ------------------------------------------------------------------


def closed(s: Scenario) -> Scenario:
    """The scenario with nothing flowing through business contacts (no referrals, no
    partnerships), which otherwise carry the programme to non-participants on purpose."""
    quiet = s.contacts.model_copy(update={"referral_effect": 0.0, "partner_rate_per_year": 0.0})
    return s.model_copy(update={"contacts": quiet})


def test_replicates_share_seeds_and_non_participants_live_the_same_life(workdir: Path) -> None:
    scenarios = [closed(load_scenario(workdir / name)) for name in ("small.toml", "self.toml")]
    comparison = prepare(scenarios, reps=2, root_seed=5, years=0.5)
    pairs = run_comparison(comparison, workers=1)
    seeds = {(p.label, p.replicate): p.seed for p in pairs}
    assert seeds[("small", 0)] == seeds[("self", 0)] == seeds[(NO_PROGRAMME, 0)]
    assert seeds[("small", 0)] != seeds[("small", 1)]
    for p in pairs:
        assert p.programme.job.seed == p.without.job.seed == p.seed
        prog, without = p.programme.firms, p.without.firms
        outside = ~prog["ever_member"].to_numpy()
        assert outside.sum() > 1000
        for column in ("alive", "revenue_eur", "employment", "knowledge", "born_week"):
            np.testing.assert_array_equal(prog[column].to_numpy()[outside],
                                          without[column].to_numpy()[outside])
        spill = replicate_outcomes(p)
        assert [spill[k] for k in SPILLOVERS] == [0.0, 0.0, 0.0]
        if p.label != NO_PROGRAMME:
            assert prog["ever_member"].sum() > 0



def test_spillovers_are_what_other_firms_gain_through_their_contacts(runs: dict[str, Proc],
                                                                    workdir: Path) -> None:
    """With referrals and partnerships through business contacts (the default), the
    programme reaches firms that never joined: their revenue differs from the same firms'
    without it. (Closed to contacts, they live the same life: the test above.)"""
    reps = replicates(workdir, "w2")
    small = reps[reps["scenario"] == "small"]
    assert (small["spillover_revenue_eur_per_year"] != 0).all()
    assert (reps[reps["scenario"] == NO_PROGRAMME][list(SPILLOVERS)] == 0).all().all()
    report = (workdir / "w2" / "report.html").read_text()
    assert report.count("Among the other firms (spill-overs") == 2  # small and self

# --- shocks ---------------------------------------------------------------------------------


def test_a_shock_makes_recovery_time_defined(runs: dict[str, Proc], workdir: Path) -> None:
    t = table(workdir, "shock")
    for key in ("recovery_weeks", "recovery_without_weeks", "recovery_difference_weeks"):
        assert t.loc["small", f"{key}_defined"] == 2, key
        assert math.isfinite(t.loc["small", f"{key}_mean"])
    assert t.loc["small", "recovery_weeks_mean"] >= 0
    assert "Recovery after the shock" in (workdir / "shock" / "table.md").read_text()
    ts = pd.read_parquet(workdir / "shock" / "timeseries.parquet")
    small = ts[ts["scenario"] == "small"]
    assert small[small["week"] < 16]["tracked_revenue_eur"].isna().all()  # cohort from week 16
    assert small[small["week"] >= 16]["tracked_revenue_eur_without"].notna().all()


def test_run_takes_a_shock_overlay(runs: dict[str, Proc], workdir: Path) -> None:
    scenario = json.loads((workdir / "run" / "run.json").read_text())["scenario"]
    assert [s["name"] for s in scenario["environment"]["shocks"]] == ["test"]
    demand = pd.read_parquet(workdir / "run" / "timeseries.parquet")["demand_index"]
    assert demand[20] == pytest.approx(0.7) and demand[19] == 1.0


def test_recovery_weeks_rule() -> None:
    revenue = np.array([100.0] * 10 + [60.0] * 3 + [94.0, 95.0, 99.0])
    alive = np.ones(16)
    assert recovery_weeks(revenue, alive, 10) == 4.0
    assert math.isnan(recovery_weeks(np.array([100.0] * 10 + [60.0] * 6), alive, 10))
    assert math.isnan(recovery_weeks(np.array([0.0] * 10 + [60.0] * 6), alive, 10))  # no cohort


def test_recovery_is_not_confused_with_attrition() -> None:
    alive = np.array([10.0] * 10 + [5.0] * 6)  # half the cohort closes at the shock
    revenue = np.array([1000.0] * 10 + [300.0, 400.0, 500.0, 500.0, 500.0, 500.0])
    assert recovery_weeks(revenue, alive, 10) == 2.0  # survivors are back at 100 per firm


# --- summaries ------------------------------------------------------------------------------


def test_interval_is_the_t_interval_of_the_mean() -> None:
    iv = interval([1.0, 2.0, 3.0])
    half = stats.t.ppf(0.975, 2) * 1.0 / math.sqrt(3)
    assert (iv.mean, iv.lo, iv.hi, iv.defined, iv.n) == pytest.approx((2, 2 - half, 2 + half, 3, 3))
    one = interval([4.0])
    assert one.mean == 4 and math.isnan(one.lo)


def test_undefined_ratios_are_reported_not_dropped() -> None:
    assert per(100.0, 0) == math.inf and math.isnan(per(0.0, 0)) and per(100.0, -2) == math.inf
    iv = interval([10.0, math.inf, 30.0])
    assert iv.mean == math.inf and iv.defined == 2 and math.isnan(iv.lo)


def test_every_metric_has_a_label_and_unit() -> None:
    assert len({m.key for m in METRICS}) == len(METRICS) == 29
    assert all(m.label and m.unit for m in METRICS)


# --- the report -----------------------------------------------------------------------------


def test_report_is_self_contained_with_table_and_a_paragraph_per_scenario(
        runs: dict[str, Proc], workdir: Path) -> None:
    text = (workdir / "w2" / "report.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert text.count('src="data:image/png;base64,') == 2
    assert "<table>" in text and "Cost per additional surviving firm (EUR)" in text
    for name in ("small", "self"):
        assert len(re.findall(rf"<p>{name}: .*? it reached ", text)) == 1
    assert "<p>No programme: " in text
    meta = json.loads((workdir / "w2" / "compare.json").read_text())
    assert meta["replicates"] == 3 and len(meta["seeds"]) == 3 and meta["root_seed"] == 1
    assert set(meta["scenarios"]) == {"small", "self"}


# --- bad input: exit 2, one line, nothing written -------------------------------------------


BAD = {
    "unknown-scenario": (("nosuch", "--reps", 2), "no such scenario file"),
    "unknown-shock": (("small.toml", "--shock", "meteor"), "unknown shock (known: pandemic"),
    "reps-zero": (("small.toml", "--reps", 0), "--reps: 0: must be at least 1"),
    "different-populations": (("small.toml", "other.toml"),
                               "small and other: regions.0.firms: differs"),
    "shock-after-horizon": (("small.toml", "--shock", "pandemic"), "after the 52-week horizon"),
    "same-scenario-twice": (("small.toml", "small.toml"), "two compared scenarios"),
}


@pytest.fixture(scope="module")
def bad_runs(workdir: Path) -> dict[str, tuple[Proc, dict[str, bytes | None],
                                                dict[str, bytes | None]]]:
    """Every bad command, each in its own copy of the scenario files, run together."""
    def run(case: str, args: tuple[object, ...]) -> tuple[Proc, dict[str, bytes | None],
                                                          dict[str, bytes | None]]:
        cwd = workdir / f"bad-{case}"
        cwd.mkdir()
        for name in ("small.toml", "other.toml"):
            (cwd / name).write_text((workdir / name).read_text())
        before = snapshot(cwd)
        proc = copsim_cli("compare", *args, "--out", "out", "--workers", 1, cwd=cwd)
        return proc, before, snapshot(cwd)

    with ThreadPoolExecutor(max_workers=(os.cpu_count() or 1) + 1) as pool:
        futures = {case: pool.submit(run, case, args) for case, (args, _) in BAD.items()}
        return {case: f.result() for case, f in futures.items()}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_exits_2_with_one_line_and_writes_nothing(bad_runs: dict, case: str,
                                                            workdir: Path) -> None:
    proc, before, after = bad_runs[case]
    assert BAD[case][1] in error_line(proc)
    assert after == before
    assert not (workdir / f"bad-{case}" / "out").exists()
