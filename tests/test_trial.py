"""copsim trial: estimators, randomisation, common random numbers, workers, bad input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from copsim.cli import main
from copsim.engine.model import CopModel
from copsim.scenario.io import load_scenario, validate_scenario
from copsim.studies.estimators import ancova, difference_in_means, wald
from copsim.studies.randomisation import assign
from copsim.studies.trial_design import CONTROL, OUTCOMES, load_trial
from copsim.studies.trial_job import COUNTERFACTUAL, read_firm_tables, run_replicate, run_trial

TINY = """
name = "tiny"
base = "microentre"
population = 400
seed = 3
replicates = 3
start_week = 2
horizons = [8, 20]
outcomes = ["revenue", "profit", "survival", "employment", "partners", "knowledge"]
sizes = [60, 120, 100000]

[fixed]
"funding.phases.0.recruitment_hours_per_week" = 0.0

[randomisation]
unit = "group"
strata = "region"
group_size = 5

[[arms]]
name = "groups"
share = 0.5
meetings = 2
cadence_weeks = 4
"""


def write_trial(tmp_path: Path, text: str = TINY, name: str = "tiny.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# -- estimators on a synthetic outcome with a known effect --------------------------------

def synthetic(rng: np.random.Generator, clusters: int = 40, size: int = 10, effect: float = 0.5,
              take_up: float = 1.0) -> tuple[np.ndarray, ...]:
    """Cluster-randomised data: a cluster effect, a baseline, and an effect on those who take up."""
    unit = np.repeat(np.arange(clusters), size)
    treated = np.zeros(clusters)
    treated[rng.permutation(clusters)[: clusters // 2]] = 1.0
    z = treated[unit]
    took = z * (rng.random(len(unit)) < take_up)
    u = rng.normal(0, 0.5, clusters)[unit]
    baseline = 2.0 + u + rng.normal(0, 1, len(unit))
    y = 1.0 + 0.8 * baseline + effect * took + 0.5 * u + rng.normal(0, 1, len(unit))
    return y, z, took, baseline, unit


@pytest.mark.parametrize("estimator", ["difference in means", "ANCOVA", "Wald"])
def test_estimators_are_unbiased_and_cover_at_the_nominal_rate(estimator: str) -> None:
    rng = np.random.default_rng(11)
    replications, effect = 400, 0.5
    estimates, covered = [], []
    for _ in range(replications):
        y, z, took, baseline, unit = synthetic(rng, effect=effect, take_up=0.6 if estimator == "Wald" else 1.0)
        est = {"difference in means": lambda: difference_in_means(y, z, unit),
               "ANCOVA": lambda: ancova(y, z, baseline, unit),
               "Wald": lambda: wald(y, z, took, unit)}[estimator]()
        estimates.append(est.effect)
        covered.append(est.lo <= effect <= est.hi)
    estimates = np.array(estimates)
    mc_error = estimates.std(ddof=1) / math.sqrt(replications)
    assert abs(estimates.mean() - effect) < 3 * mc_error
    coverage = float(np.mean(covered))
    assert abs(coverage - 0.95) < 3 * math.sqrt(0.95 * 0.05 / replications)


def test_ancova_is_more_precise_than_the_difference_in_means_with_a_predictive_baseline() -> None:
    y, z, _, baseline, unit = synthetic(np.random.default_rng(5))
    assert ancova(y, z, baseline, unit).se < difference_in_means(y, z, unit).se


def test_estimators_refuse_fewer_than_two_clusters_per_arm() -> None:
    y = np.arange(6.0)
    assert math.isnan(difference_in_means(y, np.array([1, 1, 1, 0, 0, 0.0]), np.array([0, 0, 0, 1, 1, 1])).effect)


# -- randomisation -------------------------------------------------------------------------

def population(n: int = 600, regions: int = 3, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"row": np.arange(n), "alive": rng.random(n) < 0.95,
                         "region": rng.integers(0, regions, n), "sector": rng.integers(0, 8, n),
                         "firm_type": rng.integers(0, 5, n), "employees": rng.integers(0, 5, n)})


def test_clustered_randomisation_puts_whole_groups_in_one_arm(tmp_path: Path) -> None:
    trial = load_trial(write_trial(tmp_path)).trial
    pop = population()
    result = assign(pop, trial, ["a", "b", "c"], [str(i) for i in range(8)], np.random.default_rng(1))
    firms = result.firms
    assert set(firms["row"]) == set(pop.loc[pop["alive"], "row"])
    assert (firms.groupby("unit")["arm"].nunique() == 1).all()
    assert (firms.groupby("unit")["region"].nunique() == 1).all()
    assert firms.groupby("unit").size().between(4, 5).all()
    units = firms.set_index("row")["unit"]
    for group in result.groups:
        assert units[list(group.members)].nunique() == 1
        assert len(units[units == units[group.members[0]]]) == len(group.members)
    per_region = firms.groupby(["region", "unit"])["arm"].first().eq("groups").groupby("region")
    assert (abs(per_region.sum() - per_region.size() * 0.5) <= 1).all()


def test_individual_randomisation_is_balanced_within_strata(tmp_path: Path) -> None:
    text = TINY.replace('unit = "group"', 'unit = "firm"').replace('strata = "region"', 'strata = "sector"')
    trial = load_trial(write_trial(tmp_path, text)).trial
    result = assign(population(), trial, ["a", "b", "c"], [str(i) for i in range(8)], np.random.default_rng(2))
    treated = result.firms["arm"].eq("groups").groupby(result.firms["sector"])
    assert (abs(treated.sum() - treated.size() * 0.5) <= 1).all()
    assert all(len(g.members) <= 5 for g in result.groups)
    grouped = sorted(r for g in result.groups for r in g.members)
    assert grouped == sorted(result.firms.loc[result.firms["arm"] == "groups", "row"])


def test_a_scenario_group_takes_exactly_its_listed_members() -> None:
    s = load_scenario("microentre")
    data = s.model_dump()
    data["groups"] = [{**data["groups"][0], "start_week": 1, "initial_members": 3, "members": [5, 17, 40]}]
    model = CopModel(validate_scenario(data), seed=4, agent_views=False)
    model.run(weeks=2)
    assert model.members_of(0) == [5, 17, 40]


# -- the simulated trial ---------------------------------------------------------------------

def test_arms_share_random_numbers_with_the_counterfactual(tmp_path: Path) -> None:
    plan = load_trial(write_trial(tmp_path))
    s = plan.scenario()  # nothing through business contacts, which reach every firm on purpose
    s = s.model_copy(update={"contacts": s.contacts.model_copy(
        update={"referral_effect": 0.0, "partner_rate_per_year": 0.0})})
    frame = run_replicate(plan.trial, s, seed=99)
    base = frame[frame["weeks"] == 0]
    for outcome in OUTCOMES:
        assert np.array_equal(base[outcome], base[f"{outcome}{COUNTERFACTUAL}"], equal_nan=True)
    later = frame[frame["weeks"] > 0]
    untouched = later[(later["arm"] == CONTROL) & ~later["member"] & ~later["exposed"]]
    assert len(untouched) > 100
    for outcome in OUTCOMES:
        assert np.array_equal(untouched[outcome], untouched[f"{outcome}{COUNTERFACTUAL}"], equal_nan=True)
    treated = later[later["arm"] == "groups"]
    assert (treated["attended"] > 0).mean() > 0.5
    assert not np.array_equal(treated["knowledge"], treated[f"knowledge{COUNTERFACTUAL}"], equal_nan=True)


def test_same_file_and_seed_give_identical_results_on_one_and_two_workers(tmp_path: Path) -> None:
    plan = load_trial(write_trial(tmp_path))
    one = run_trial(plan, tmp_path / "one", workers=1)
    two = run_trial(plan, tmp_path / "two", workers=2)
    assert one.ok == two.ok == 3
    pd.testing.assert_frame_equal(read_firm_tables(tmp_path / "one"), read_firm_tables(tmp_path / "two"))
    again = run_trial(plan, tmp_path / "one", workers=1)
    assert (again.before, again.ran) == (3, 0)


def test_cli_writes_a_self_contained_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["trial", str(write_trial(tmp_path)), "--reps", "2", "--workers", "1", "--quiet",
                 "--out", str(out)])
    assert code == 0
    page = (out / "analysis" / "report.html").read_text()
    assert "data:image/png;base64" in page and "http" not in page.replace("http-equiv", "")
    power = pd.read_csv(out / "analysis" / "power.csv")
    assert power.loc[power["size"] == 100000, "power"].isna().all()
    assert power.loc[power["size"] == 60, "replicates"].gt(0).all()
    estimates = pd.read_csv(out / "analysis" / "estimates.csv")
    assert set(estimates["estimator"]) == {"difference in means", "ANCOVA", "TOT (Wald)"}
    assert "| groups | knowledge | 8 |" in capsys.readouterr().out


@pytest.mark.parametrize(("change", "key"), [
    (("cadence_weeks = 4\n", "cadence_weeks = 4\n[[arms]]\nname = \"other\"\nshare = 0.6\nmeetings = 1\n"),
     "arms: the arms overlap"),
    (("share = 0.5", "share = 1.0"), "arms.0.share:"),
    (("share = 0.5", "share = 0.0"), "arms.0.share:"),
    (("horizons = [8, 20]", "horizons = [6, 20]"), "horizons.0: week 6 after the start is before the intervention ends"),
    (('"knowledge"]', '"happiness"]'), "outcomes.5: unknown outcome 'happiness'"),
])
def test_bad_trial_files_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              change: tuple[str, str], key: str) -> None:
    path = write_trial(tmp_path, TINY.replace(*change, 1), "bad.toml")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["trial", str(path), "--out", str(out), "--quiet"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"copsim: error: {path}: {key}")
    assert not out.exists()
