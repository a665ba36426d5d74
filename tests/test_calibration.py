"""copsim calibrate: targets are checked, ABC-SMC recovers a known parameter, runs repeat."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from copsim.cli import main
from copsim.errors import OutputError
from copsim.outputs.plotting import posterior_plots
from copsim.scenario.priors import Prior
from copsim.studies.calibration import RESULTS_DIR, TargetModel, calibrate
from copsim.studies.targets import load_targets

TRUE_EXIT_RATE = 0.045
SMALL = 'scenario = "microentre"\npopulation = 1000\nyears = 1.0\n'


def targets_text(observed: float, parameters: str = '["firms.exit_rate_per_year"]',
                 statistic: str = "annual_exit_rate", sd: str = "0.005") -> str:
    return (f"{SMALL}parameters = {parameters}\n\n[[targets]]\nname = \"{statistic}\"\n"
            f"observed = {observed}\nsd = {sd}\nsource = \"simulated with a known exit rate\"\n"
            "constrains = \"firms.exit_rate_per_year\"\n")


def simulated_observation(tmp_path: Path) -> float:
    """The exit rate the model produces at TRUE_EXIT_RATE: the target to recover."""
    path = tmp_path / "probe.toml"
    path.write_text(targets_text(0.0))
    model = TargetModel(load_targets(path), root_seed=99)
    return model.statistics({"firms.exit_rate_per_year": TRUE_EXIT_RATE}, seed=99)["annual_exit_rate"]


@pytest.fixture(scope="module")
def recovered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny calibration against a target simulated with a known parameter, run twice."""
    tmp = tmp_path_factory.mktemp("calibration")
    targets = tmp / "targets.toml"
    targets.write_text(targets_text(simulated_observation(tmp)))
    outs = []
    for name in ("first", "second"):
        out = tmp / name
        calibrate(load_targets(targets), out, population_size=10, generations=3, workers=1,
                  seed=5, ppc_draws=4)
        outs.append(out)
    return outs[0], outs[1]


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: list[float]) -> np.ndarray:
    order = np.argsort(values)
    cdf = np.cumsum(weights[order]) / weights.sum()
    return np.interp(qs, cdf, values[order])


def test_calibration_recovers_a_known_exit_rate(recovered: tuple[Path, Path]) -> None:
    posterior = pd.read_parquet(recovered[0] / RESULTS_DIR / "posterior.parquet")
    values = posterior["firms.exit_rate_per_year"].to_numpy()
    weights = posterior["weight"].to_numpy()
    low, high = weighted_quantiles(values, weights, [0.02, 0.98])
    assert low <= TRUE_EXIT_RATE <= high
    # the prior is uniform(0.04, 0.10): mean 0.07, sd 0.017; the posterior moved to the truth
    mean = float(np.average(values, weights=weights))
    sd = math.sqrt(float(np.average((values - mean) ** 2, weights=weights)))
    assert abs(mean - TRUE_EXIT_RATE) < 0.5 * abs(0.07 - TRUE_EXIT_RATE)
    assert sd < 0.6 * 0.06 / math.sqrt(12)


def test_diagnostics_and_predictive_check_are_written(recovered: tuple[Path, Path]) -> None:
    results = recovered[0] / RESULTS_DIR
    diag = pd.read_csv(results / "diagnostics.csv")
    assert list(diag["generation"]) == [0, 1, 2]
    assert (np.diff(diag["epsilon"]) < 0).all()  # the tolerance schedule shrinks
    assert ((diag["acceptance_rate"] > 0) & (diag["acceptance_rate"] <= 1)).all()
    assert (diag["ess"] > 0).all() and (diag["ess"] <= 10 + 1e-9).all()
    check = pd.read_csv(results / "predictive_check.csv")
    assert list(check["target"]) == ["annual_exit_rate"]
    assert check["simulated_5"].iloc[0] <= check["simulated_median"].iloc[0] <= check["simulated_95"].iloc[0]
    for name in ("posterior_marginals.png", "predictive_check.png"):
        assert (results / name).stat().st_size > 1000


def test_pairwise_plot_with_two_parameters(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    posterior = pd.DataFrame({"a": rng.uniform(0, 1, 30), "b": rng.uniform(1, 2, 30)})
    posterior["weight"] = 1 / 30
    posterior_plots(posterior, {"a": Prior("uniform", 0, 1), "b": Prior("loguniform", 1, 2)}, tmp_path)
    assert (tmp_path / "posterior_pairs.png").stat().st_size > 1000
    assert (tmp_path / "posterior_marginals.png").stat().st_size > 1000


def test_same_seed_gives_the_same_posterior(recovered: tuple[Path, Path]) -> None:
    first, second = (pd.read_parquet(out / RESULTS_DIR / "posterior.parquet") for out in recovered)
    pd.testing.assert_frame_equal(first, second)


def test_a_finished_calibration_continues_with_more_generations(recovered: tuple[Path, Path],
                                                               tmp_path: Path) -> None:
    """Resuming reads the stored generations (a kill loses at most the running one)."""
    out = recovered[1]
    targets = out.parent / "targets.toml"
    report = calibrate(load_targets(targets), out, population_size=10, generations=4, workers=1,
                       seed=5, ppc_draws=2)
    assert report.resumed_from == 3 and report.generations == 4
    assert len(pd.read_csv(out / RESULTS_DIR / "diagnostics.csv")) == 4


BAD_TARGETS = {
    "unknown statistic": (targets_text(0.07, statistic="happiness"), "targets.0.column",
                          "is not a numeric summary value"),
    "negative uncertainty": (targets_text(0.07, sd="-0.01"), "targets.0.sd", "greater than 0"),
    "parameter with no prior": (targets_text(0.07, parameters='["learning.peak_gap"]'), "parameters.0",
                                "learning.peak_gap has no prior"),
    "unknown parameter": (targets_text(0.07, parameters='["learning.speed"]'), "parameters.0",
                          "unknown scenario key"),
}


@pytest.mark.parametrize("case", list(BAD_TARGETS), ids=list(BAD_TARGETS))
def test_bad_targets_exit_2_with_one_line(case: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    text, key, reason = BAD_TARGETS[case]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["calibrate", str(path), "--out", str(out)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"copsim: error: {path}: {key}") and reason in err, err
    assert not out.exists()


def test_shipped_targets_are_valid() -> None:
    calibration = load_targets(Path(__file__).parents[1] / "calibration" / "targets.toml")
    assert len(calibration.parameters) >= 5
    for target in calibration.targets:
        assert target.sd > 0 and math.isfinite(target.observed) and target.source and target.constrains


def test_screening_experiment_records_every_target_of_the_shipped_file() -> None:
    from copsim.studies.experiments import load_experiment

    root = Path(__file__).parents[1]
    plan = load_experiment(root / "experiments" / "calibration_screening.toml")
    calibration = load_targets(root / "calibration" / "targets.toml")
    assert plan.outcome_names == [t.name for t in calibration.targets if t.trial is None]
    assert set(calibration.parameters) <= set(plan.factor_names)
    assert plan.n_runs == plan.experiment.samples * (len(plan.factor_names) + 1)


def test_calibrate_refuses_a_directory_it_did_not_write(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    targets = tmp_path / "targets.toml"
    targets.write_text(targets_text(0.07))
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "data.csv").write_text("precious\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["calibrate", str(targets), "--out", str(out), "--workers", "1"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds data.csv" in err, err
    assert sorted(p.name for p in out.iterdir()) == ["data.csv"]


def test_the_resume_digest_ignores_text_but_not_what_changes_the_result(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A resumed history must have been made with the same base, priors and targets; the
    citations, explanations and comments of a targets file do not change a result."""
    def digest(text: str) -> str:
        path = tmp_path / "t.toml"
        path.write_text(text)
        return load_targets(path).digest

    base = digest(targets_text(0.07))
    reworded = targets_text(0.07).replace("simulated with a known exit rate", "another citation")
    reworded = reworded.replace('constrains = "firms.exit_rate_per_year"', 'constrains = "why"')
    assert digest("# a comment\n" + reworded) == base
    assert digest(targets_text(0.08)) != base  # observed value
    assert digest(targets_text(0.07, sd="0.006")) != base
    assert digest(targets_text(0.07).replace("population = 1000", "population = 1200")) != base
    wider = Prior("uniform", 0.01, 0.2)
    monkeypatch.setattr("copsim.studies.targets.prior_of", lambda *args: wider)
    assert digest(targets_text(0.07)) != base  # the prior (from the schema) changed


def test_a_history_continues_after_rewording_and_is_refused_after_a_new_observation(
        recovered: tuple[Path, Path], tmp_path: Path) -> None:
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(recovered[0], out)
    text = (recovered[0].parent / "targets.toml").read_text()
    reworded = tmp_path / "reworded.toml"
    reworded.write_text(text.replace("simulated with a known exit rate", "a new citation"))
    report = calibrate(load_targets(reworded), out, population_size=10, generations=3, workers=1,
                       seed=5, ppc_draws=2)
    assert report.resumed_from == 3
    moved = tmp_path / "moved.toml"
    moved.write_text(text.replace("observed = ", "observed = 1"))
    with pytest.raises(OutputError, match="targets_digest"):
        calibrate(load_targets(moved), out, population_size=10, generations=3, workers=1, seed=5)


def trial_targets(parameter: str, *targets: tuple[str, str, str, int]) -> str:
    """A small targets file calibrating ``parameter`` against trial targets, each
    ``(name, trial file, arm, weeks)``: the arm's relative effect on profit."""
    return SMALL + f'parameters = ["{parameter}"]\n' + "".join(
        f'\n[[targets]]\nname = "{name}"\n'
        f'trial = {{ file = "{file}", arm = "{arm}", outcome = "profit", weeks = {weeks} }}\n'
        f'observed = 0.1\nsd = 0.1\nsource = "a bound"\nconstrains = "{parameter}"\n'
        for name, file, arm, weeks in targets)


def training_target(arm: str, weeks: int) -> str:
    return trial_targets("learning.rate", ("training_profit_effect", "peer_groups_rct", arm, weeks))


def test_a_trial_target_measures_the_trial_with_the_calibrated_values(tmp_path: Path) -> None:
    path = tmp_path / "trial.toml"
    path.write_text(training_target("monthly_groups", 48))
    model = TargetModel(load_targets(path), root_seed=1)
    slow, fast = (model.statistics({"learning.rate": rate}, seed=4)["training_profit_effect"]
                  for rate in (0.02, 0.3))
    assert math.isfinite(slow) and fast > slow  # learning more per meeting raises the effect


@pytest.mark.parametrize("arm,weeks,reason", [
    ("mentoring", 48, "targets.0.trial.arm: 'mentoring' is not an arm of peer_groups_rct"),
    ("monthly_groups", 20, "targets.0.trial.weeks: 20 is before the trial's arms end"),
])
def test_a_bad_trial_target_exits_2_with_one_line(arm: str, weeks: int, reason: str,
                                                  tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(training_target(arm, weeks))
    with pytest.raises(SystemExit) as exit_info:
        main(["calibrate", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and reason in err, err


MENTORING_TARGETS = trial_targets(
    "mentoring.advice_cost_saving", ("mentoring_end", "mentoring_rct", "mentoring", 12),
    ("classroom_end", "mentoring_rct", "training", 12), ("mentoring_1y", "mentoring_rct", "mentoring", 52))


def test_targets_on_one_trial_and_horizon_share_its_simulation(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two arms read at week 12 come from one simulated trial; week 52 is another."""
    import copsim.studies.calibration as calibration

    path = tmp_path / "mentoring.toml"
    path.write_text(MENTORING_TARGETS)
    runs: list[int] = []
    real = calibration.trial_firms

    def counted(plan, values, seed, replicates, engine):  # noqa: ANN001, ANN202
        runs.append(int(plan.trial.horizons[0]))
        return real(plan, values, seed, replicates, engine)

    monkeypatch.setattr(calibration, "trial_firms", counted)
    stats = TargetModel(load_targets(path), root_seed=1).statistics(
        {"mentoring.advice_cost_saving": 0.08}, seed=3)
    assert sorted(runs) == [12, 52]
    assert set(stats) == {"mentoring_end", "classroom_end", "mentoring_1y"}
    assert stats["mentoring_end"] != stats["classroom_end"]  # two arms of one trial


def test_a_loguniform_parameter_is_sampled_uniform_in_its_logarithm(tmp_path: Path) -> None:
    """pyabc sees log(learning.rate) uniform over log(0.02)..log(0.3); the posterior and the
    simulations get the rate itself."""
    from copsim.studies.calibration import abc_name, from_abc, pyabc_prior

    path = tmp_path / "log.toml"
    path.write_text(training_target("monthly_groups", 48))
    calibration = load_targets(path)
    prior = calibration.priors["learning.rate"]
    assert prior.shape == "loguniform"
    np.random.seed(3)
    draws = [pyabc_prior(calibration).rvs() for _ in range(2000)]
    rates = np.array([from_abc(prior, d[abc_name("learning.rate", prior)]) for d in draws])
    assert prior.low <= rates.min() and rates.max() <= prior.high
    # half the mass below the geometric mean, as for a loguniform (a uniform would put ~20 %)
    share = float(np.mean(rates < math.sqrt(prior.low * prior.high)))
    assert 0.45 < share < 0.55, share


def test_one_generation_at_a_small_quantile_is_rejection_abc_with_equal_weights(
        tmp_path: Path) -> None:
    """--generations 1 --quantile q: prior draws within the q-quantile of a prior sample's
    distances, each of equal weight (the effective sample size is the population's), and
    closer to the target than the prior."""
    targets = tmp_path / "targets.toml"
    targets.write_text(targets_text(simulated_observation(tmp_path)))
    out = tmp_path / "rejection"
    calibrate(load_targets(targets), out, population_size=8, generations=1, workers=1, seed=2,
              ppc_draws=2, quantile=0.25)
    posterior = pd.read_parquet(out / RESULTS_DIR / "posterior.parquet")
    assert np.allclose(posterior["weight"], 1 / 8)
    diag = pd.read_csv(out / RESULTS_DIR / "diagnostics.csv")
    assert diag["ess"].iloc[0] == pytest.approx(8) and diag["acceptance_rate"].iloc[0] < 0.6
    mean = float(posterior["firms.exit_rate_per_year"].mean())
    assert abs(mean - TRUE_EXIT_RATE) < abs(0.07 - TRUE_EXIT_RATE)  # the prior's mean is 0.07
    with pytest.raises(OutputError, match="quantile"):  # another schedule is another calibration
        calibrate(load_targets(targets), out, population_size=8, generations=2, workers=1,
                  seed=2, ppc_draws=2, quantile=0.5)


@pytest.mark.parametrize("value", ["0", "1.5", "half"])
def test_a_bad_quantile_exits_2_with_one_line(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["calibrate", "targets", "--quantile", value])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and "--quantile" in err, err
