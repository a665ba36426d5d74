"""Experiment files: the shipped ones load; every bad input is one line, exit 2, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from test_cli import snapshot
from test_sweep import TINY_GRID, write_experiment

from copsim.cli import main
from copsim.studies.experiments import (
    REDUCTIONS,
    SUMMARY_KEYS,
    SUMMARY_TABLES,
    Outcome,
    load_experiment,
    outcome_values,
    run_seed,
)

EXPERIMENTS = REPO / "experiments"


# --- the shipped experiments ------------------------------------------------------------------


def test_facilitation_vs_funding_is_a_grid_with_and_without_a_shock() -> None:
    plan = load_experiment(EXPERIMENTS / "facilitation_vs_funding.toml")
    assert plan.factor_names == ["facilitator_skill", "funded_hours", "shock"]
    assert (len(plan.points), plan.n_runs) == (3 * 4 * 2, 72)
    assert {r["shock"] for r in plan.records} == {"none", "pandemic"}
    pandemic = plan.scenario(1)
    assert pandemic.environment.shocks and not plan.scenario(0).environment.shocks
    assert pandemic.facilitators["pbas"].skill == pandemic.facilitators["researcher"].skill == 0.3


def test_sobol_core_has_n_times_d_plus_2_points_of_behavioural_parameters() -> None:
    plan = load_experiment(EXPERIMENTS / "sobol_core.toml")
    d, n = len(plan.factor_names), plan.experiment.samples
    assert d >= 8 and len(plan.points) == n * (d + 2)
    assert {k.split(".")[0] for k in plan.factor_names} >= {"learning", "trust", "attendance", "membership"}


def test_morris_screening_covers_every_numeric_parameter_not_excluded() -> None:
    plan = load_experiment(EXPERIMENTS / "morris_screening.toml")
    names = plan.factor_names
    assert len(names) > 100 and len(plan.points) == plan.experiment.samples * (len(names) + 1)
    assert "learning.rate" in names and "activities.visits.effect" in names
    assert not [n for n in names if n.startswith(("run.", "regions."))]
    assert "founding.max_new_groups" in plan.skipped  # default 0: nothing to spread
    for factor in plan.experiment.factors:  # every range is within the schema
        point = min(plan.points, key=lambda p, c=factor.column: p[c])
        assert point[factor.column] >= 0


def test_the_shipped_summary_outcomes_exist_in_a_run() -> None:
    from copsim.engine.runner import simulate

    plan = load_experiment(EXPERIMENTS / "facilitation_vs_funding.toml")
    small = plan.scenario(0).model_copy(update={"regions": plan.scenario(0).regions[:1],
                                                "groups": plan.scenario(0).groups[:1]})
    result = simulate(small.model_validate(small.model_dump() | {"run": {"years": 0.3}}), seed=1)
    assert set(SUMMARY_KEYS) <= set(result.summary)
    for table, entries in SUMMARY_TABLES.items():
        assert isinstance(result.summary[table], dict)
        assert entries is None or set(entries) == set(result.summary[table])
    outcomes = [Outcome(name=f"o_{r}", source="timeseries", column="members", reduce=r) for r in REDUCTIONS]
    outcomes.append(Outcome(name="visits", column="activities.visits"))
    values = outcome_values(outcomes, result.summary, result.timeseries)
    assert values["o_last"] == result.timeseries["members"].iloc[-1]
    assert values["visits"] == result.summary["activities"]["visits"]


def test_run_seeds_depend_on_root_sample_and_replicate() -> None:
    seeds = {(s, r): run_seed(9, s, r) for s in range(20) for r in range(5)}
    assert len(set(seeds.values())) == len(seeds)
    assert run_seed(9, 3, 1) == run_seed(9, 3, 1) != run_seed(10, 3, 1)
    assert run_seed(9, 3, 1, common=True) == run_seed(9, 7, 1, common=True) != run_seed(9, 7, 2, common=True)


def test_fixed_settings_population_and_years_apply_to_every_point(tmp_path: Path) -> None:
    text = TINY_GRID.replace("years = 0.5\n", "years = 0.25\npopulation = 300\n")
    text += '\n[fixed]\nmembership.max_size = 20\n"trust.meeting_gain" = 0.2\n'
    scenario = load_experiment(write_experiment(tmp_path, text)).scenario(3)
    assert (scenario.run.years, scenario.population) == (0.25, 300)
    assert (scenario.membership.max_size, scenario.trust.meeting_gain) == (20, 0.2)
    assert scenario.learning.rate == 0.2 and scenario.environment.shocks[0].name == "crisis"


# --- bad input: exit 2, one line, nothing written ---------------------------------------------


def grid_with(factor: str) -> str:
    """The tiny grid with its first factor replaced."""
    first = '[[factors]]\nkey = "learning.rate"\nvalues = [0.05, 0.2]\n'
    assert first in TINY_GRID
    return TINY_GRID.replace(first, factor)


SOBOL = """\
name = "tiny-sobol"
base = "{base}"
years = 0.5
design = "sobol"
samples = 4
seed = 5

[[factors]]
key = "learning.rate"
low = 0.05
high = 0.2

[[factors]]
key = "trust.meeting_gain"
low = 0.05
high = 0.2

[[outcomes]]
name = "participants_total"
"""

BAD_EXPERIMENTS = {
    "unknown-factor-key": (grid_with('[[factors]]\nkey = "learning.speed"\nvalues = [1, 2]\n'),
                           "factors.0.key: learning.speed: unknown scenario key"),
    "unknown-index": (grid_with('[[factors]]\nkey = "groups.5.cadence_weeks"\nvalues = [1, 2]\n'),
                      "factors.0.key: groups.5.cadence_weeks: no entry '5' in groups"),
    "range-above-schema": (SOBOL.replace("high = 0.2\n", "high = 1.5\n", 1),
                           "factors.0.high: 1.5 is above the maximum 1 of learning.rate"),
    "grid-level-below-schema": (grid_with('[[factors]]\nkey = "groups.0.cadence_weeks"\nvalues = [0, 4]\n'),
                                "factors.0.values.0: 0 is below the minimum 1 of groups.0.cadence_weeks"),
    "range-on-text": (SOBOL.replace('key = "learning.rate"', 'key = "groups.0.mode"'),
                      "factors.0.low: groups.0.mode is not a number"),
    "sobol-not-power-of-2": (SOBOL.replace("samples = 4", "samples = 6"),
                             "design: SALib rejects this sobol design"),
    "morris-odd-levels": (SOBOL.replace('"sobol"', '"morris"').replace("samples = 4", "samples = 4\nlevels = 3"),
                          "design: SALib rejects this morris design"),
    "grid-without-values": (SOBOL.replace('"sobol"', '"grid"'), "factors.0.values: a grid needs values"),
    "sampled-without-samples": (SOBOL.replace("samples = 4\n", ""), "samples: a sobol design needs"),
    "unknown-design": (TINY_GRID.replace('"grid"', '"factorial"'), "design: Input should be"),
    "unknown-outcome": (TINY_GRID.replace('name = "survival_rate"', 'name = "happiness"'),
                        "outcomes.2.column: 'happiness' is not a numeric summary value"),
    "unknown-reduction": (TINY_GRID.replace('reduce = "mean"', 'reduce = "median"'),
                          "outcomes.1.reduce: unknown reduction"),
    "point-fails-scenario-rule": (
        grid_with('[[factors]]\nkey = "funding.phases.1.start_week"\nvalues = [156, 100]\n'),
        "funding.phases.1: phase 'maintenance' overlaps phase 'pilot' (sample 2: "),
    "unknown-top-level-key": ("colour = 'red'\n" + TINY_GRID, "colour: Extra inputs are not permitted"),
    "fixed-unknown-key": (TINY_GRID + '\n[fixed]\n"learning.speed" = 1\n', "fixed.learning.speed: unknown"),
    "missing-base": (TINY_GRID.replace('base = "{base}"\n', ""), "base: required"),
    "malformed": ("name = 'x\n", "(syntax)"),
}


@pytest.mark.parametrize("case", list(BAD_EXPERIMENTS), ids=list(BAD_EXPERIMENTS))
def test_bad_experiments_exit_2_with_one_line_and_write_nothing(
        case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, expected = BAD_EXPERIMENTS[case]
    path = write_experiment(tmp_path, text)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", str(path), "--out", str(out), "--quiet"])
    captured = capsys.readouterr()
    assert exit_info.value.code == 2
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"copsim: error: {path}: "), captured.err
    assert expected in lines[0], lines[0]
    assert not out.exists()


def test_a_directory_holding_another_experiment_is_left_untouched(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = write_experiment(tmp_path)
    out = tmp_path / "out"
    assert main(["sweep", str(first), "--out", str(out), "--workers", "2", "--limit", "3", "--quiet"]) == 0
    before = snapshot(out)
    other = write_experiment(tmp_path, TINY_GRID.replace("seed = 5", "seed = 6"), "other.toml")
    for command in (["sweep", str(other)], ["sweep", str(first), "--retry-failed"]):
        if command[1] == str(first):  # same experiment, but another copsim version wrote it
            (out / "manifest.json").write_text((out / "manifest.json").read_text().replace(
                '"copsim_version": "', '"copsim_version": "old-', 1))
            before = snapshot(out)
        with pytest.raises(SystemExit) as exit_info:
            main([*command, "--out", str(out), "--quiet"])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and err.startswith(f"copsim: error: {out}: (output): holds ")
        assert snapshot(out) == before
    assert "results of copsim old-" in err


def test_a_directory_with_other_files_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_experiment(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit):
        main(["sweep", str(path), "--out", str(out), "--quiet"])
    assert "holds notes.txt but no sweep manifest" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]  # not even a .lock


def test_bad_experiment_from_the_shell(tmp_path: Path) -> None:
    path = write_experiment(tmp_path, BAD_EXPERIMENTS["unknown-factor-key"][0])
    proc = subprocess.run([sys.executable, "-m", "copsim.cli", "sweep", str(path)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "unknown scenario key" in proc.stderr
    assert not (tmp_path / "sweeps").exists()


def test_workers_and_scheduler_exclude_each_other(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", "x.toml", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_an_unreachable_scheduler_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import copsim.cli.sweep

    monkeypatch.setattr(copsim.cli.sweep, "CONNECT_TIMEOUT", "1s")
    path = write_experiment(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", str(path), "--out", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:9",
              "--quiet"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--scheduler: tcp://127.0.0.1:9: cannot connect" in err
    assert not (tmp_path / "out").exists()
