"""Analysis of sweeps: known Sobol indices of the Ishigami function; files of every design."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_cli import snapshot
from test_experiments import SOBOL
from test_sweep import TINY_GRID, write_experiment

from copsim.studies.analysis import analyze
from copsim.cli import main
from copsim.studies.experiments import Experiment, Task, load_experiment, make_plan
from copsim.studies.sweep import RunOutput, run_sweep

# Ishigami (a = 7, b = 0.1) on [-pi, pi]^3: analytic indices (Saltelli et al. 2008; SALib's tests).
ISHIGAMI_S1 = [0.3139, 0.4424, 0.0]
ISHIGAMI_ST = [0.5576, 0.4424, 0.2437]


def ishigami(task: Task) -> RunOutput:
    """The job of the Ishigami sweep: SALib's test function at the task's point."""
    from SALib.test_functions import Ishigami

    x = np.array([[task.values[name] for name in ("x1", "x2", "x3")]])
    return RunOutput({"y": float(Ishigami.evaluate(x)[0])})


def test_the_sweep_machinery_recovers_the_ishigami_indices(tmp_path: Path) -> None:
    experiment = Experiment(
        name="ishigami", design="sobol", samples=1024, seed=3,
        factors=[{"key": k, "low": -math.pi, "high": math.pi} for k in ("x1", "x2", "x3")],
        outcomes=[{"name": "y", "source": "job"}])
    plan = make_plan(experiment)
    assert plan.n_runs == 1024 * 5
    with ThreadPoolExecutor(2) as executor:
        report = run_sweep(plan, tmp_path / "ishigami", job=ishigami, executor=executor)
    assert report.ok == plan.n_runs
    analysis = analyze(tmp_path / "ishigami")
    table = analysis.tables["y"].set_index("factor")
    np.testing.assert_allclose(table["S1"], ISHIGAMI_S1, atol=0.04)
    np.testing.assert_allclose(table["ST"], ISHIGAMI_ST, atol=0.04)
    assert (table["ST_conf"] < 0.1).all()
    written = pd.read_csv(tmp_path / "ishigami" / "analysis" / "sobol_y.csv")
    assert list(written.columns) == ["factor", "S1", "S1_conf", "ST", "ST_conf"]
    assert {"sobol_y.png", "summary.txt"} <= set(analysis.files)


def test_morris_measures_the_ishigami_function(tmp_path: Path) -> None:
    experiment = Experiment(
        name="ishigami-morris", design="morris", samples=50, seed=3,
        factors=[{"key": k, "low": -math.pi, "high": math.pi} for k in ("x1", "x2", "x3")],
        outcomes=[{"name": "y", "source": "job"}])
    with ThreadPoolExecutor(2) as executor:
        run_sweep(make_plan(experiment), tmp_path / "m", job=ishigami, executor=executor)
    table = analyze(tmp_path / "m").tables["y"].set_index("factor")
    # x2 acts alone (7 sin^2 x2): on 4 levels every step of 2/3 of the range changes
    # sin^2 by 0.75, so every elementary effect is 7 x 0.75 / (2/3) = 7.875 in size.
    assert table["mu_star"]["x2"] == pytest.approx(7.875)
    assert table["mu_star_conf"]["x2"] == pytest.approx(0, abs=1e-9)
    assert table["sigma"].idxmax() == "x3"  # x3 acts only with x1: the most spread effects


# --- copsim sweeps of every design: the files and the printed summary ------------------------

DESIGNS = {
    "sobol": (SOBOL, 4 * 4),
    "morris": (SOBOL.replace('"sobol"', '"morris"').replace("samples = 4", "samples = 3"), 3 * 3),
    "lhs": (SOBOL.replace('"sobol"', '"lhs"').replace("samples = 4", "samples = 6"), 6),
    "grid": (TINY_GRID, 8),
}


@pytest.mark.parametrize("design", list(DESIGNS))
def test_analyze_writes_tables_and_figures(design: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    text, runs = DESIGNS[design]
    path = write_experiment(tmp_path, text)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "2", "--quiet"]) == 0
    assert len(pd.read_parquet(out / "results.parquet")) == runs
    assert main(["analyze", str(out)]) == 0
    printed = capsys.readouterr().out
    outcomes = load_experiment(path).outcome_names
    files = {p.name for p in (out / "analysis").iterdir()}
    analysed = {o for o in outcomes if f"{design}_{o}.csv" in files}
    assert analysed and {f"{design}_{o}.png" for o in analysed} <= files
    assert "summary.txt" in files
    assert printed.startswith("Experiment tiny")
    assert f"{design} design" in printed and "Written to" in printed
    assert (out / "analysis" / "summary.txt").read_text().strip() in printed
    if design == "grid":  # heatmap over the first two factors; the csv keeps every combination
        grid = pd.read_csv(out / "analysis" / "grid_participants_total.csv")
        assert list(grid.columns) == ["learning.rate", "shock", "mean", "std", "count"]
        assert len(grid) == 4 and (grid["count"] == 2).all()
    assert not [p for p in out.iterdir() if ".partial-" in p.name]


def test_grid_facets_over_a_third_factor(tmp_path: Path) -> None:
    third = '[[factors]]\nkey = "trust.meeting_gain"\nvalues = [0.1, 0.2]\n\n[[outcomes]]'
    text = TINY_GRID.replace("replicates = 2", "replicates = 1").replace("[[outcomes]]", third, 1)
    plan = load_experiment(write_experiment(tmp_path, text))
    run_sweep(plan, tmp_path / "out", workers=2)
    summary = analyze(tmp_path / "out").summary
    assert "(trust.meeting_gain = 0.1)" in summary and "(trust.meeting_gain = 0.2)" in summary


def test_incomplete_sampled_sweeps_and_other_directories_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_experiment(tmp_path, SOBOL)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--limit", "5", "--workers", "2", "--quiet"]) == 0
    before = snapshot(out)
    for directory, reason in ((out, "5 of 16 runs finished; a sobol analysis needs every sample"),
                              (tmp_path, "manifest.json: not a sweep directory")):
        with pytest.raises(SystemExit) as exit_info:
            main(["analyze", str(directory)])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and reason in err
    assert snapshot(out) == before


def test_failed_runs_leave_an_outcome_unanalysed(tmp_path: Path) -> None:
    from test_sweep import RaisingJob, copsim_job

    plan = load_experiment(write_experiment(tmp_path, SOBOL))
    run_sweep(plan, tmp_path / "out", job=RaisingJob(copsim_job(plan)), workers=2)
    analysis = analyze(tmp_path / "out")
    assert analysis.skipped == {"participants_total": "1 sample(s) without a value (failed runs)"}
    assert "participants_total: not analysed" in analysis.summary
