"""The ``copsim`` command end to end, in a subprocess (and in-process for atomicity)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from conftest import BAD_CASES, DEFAULT_FILE, BadScenario, write_bad_case, write_small_scenario

import copsim
import copsim.engine.memory
import copsim.outputs.plotting
from copsim.cli import main
from copsim.scenario.schema import Scenario
from copsim.dtypes import Activity, enum_names
from copsim.scenario.io import scenario_hash

OUTPUTS = {"timeseries.parquet", "events.parquet", "agents.parquet", "summary.json", "run.json",
           "timeseries.png"}
SUMMARY_KEYS = {"weeks", "participants_total", "members_end", "groups_active_end",
                "joint_ventures_formed", "survival_rate", "cost_total_eur", "activities"}
ERROR_PREFIX = "copsim: error: "

Proc = subprocess.CompletedProcess[str]
Run = tuple[Proc, Path]
Snapshot = dict[str, bytes | None]


def copsim_cli(*args: object, cwd: Path) -> Proc:
    """Run ``python -m copsim.cli ARGS`` in ``cwd`` and capture its output."""
    return subprocess.run([sys.executable, "-m", "copsim.cli", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def snapshot(root: Path) -> Snapshot:
    """Every path below ``root`` with its content (None for directories)."""
    return {str(p.relative_to(root)): None if p.is_dir() else p.read_bytes()
            for p in sorted(root.rglob("*"))}


def error_line(proc: Proc) -> str:
    """The one stderr line of a failed run (exit code 2, nothing on stdout), without its prefix."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {proc.stderr!r}"
    assert lines[0].startswith(ERROR_PREFIX)
    assert proc.stdout == ""
    return lines[0].removeprefix(ERROR_PREFIX)


def leftovers(directory: Path) -> list[str]:
    """Temporary siblings an atomic write could leave behind."""
    return [p.name for p in directory.iterdir() if ".partial-" in p.name or ".old-" in p.name]


# --- a successful run -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quiet_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The default scenario scaled down by flags, run once with --quiet."""
    cwd = tmp_path_factory.mktemp("quiet")
    out = cwd / "out"
    proc = copsim_cli("run", "--population", 600, "--years", 1, "--out", out, "--quiet", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return proc, out


def test_quiet_run_prints_no_summary(quiet_run: Run) -> None:
    proc, _ = quiet_run
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr


def test_run_writes_every_output(quiet_run: Run) -> None:
    _, out = quiet_run
    assert {p.name for p in out.iterdir()} == OUTPUTS
    assert leftovers(out.parent) == []
    timeseries = pd.read_parquet(out / "timeseries.parquet")
    assert len(timeseries) == 52
    assert not pd.read_parquet(out / "agents.parquet").empty
    assert set(pd.read_parquet(out / "events.parquet").columns) >= {"week", "kind"}
    assert (out / "timeseries.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_summary_has_the_required_keys(quiet_run: Run) -> None:
    _, out = quiet_run
    summary = json.loads((out / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(summary)
    assert summary["weeks"] == 52
    assert 0 <= summary["survival_rate"] <= 1
    assert summary["members_end"] <= summary["participants_total"]
    activities = summary["activities"]
    assert list(activities) == enum_names(Activity) and len(activities) == 11
    assert all(isinstance(n, int) and n >= 0 for n in activities.values())


def test_run_json_records_provenance(quiet_run: Run) -> None:
    _, out = quiet_run
    run = json.loads((out / "run.json").read_text())
    assert run["seed"] == 1
    assert run["engine"] == "numba"
    assert run["copsim_version"] == copsim.__version__
    scenario = Scenario.model_validate(run["scenario"])
    assert scenario.name == "microentre"
    assert scenario.population == 600  # the resolved scenario, after --population
    assert scenario.run.years == 1.0
    assert run["scenario_hash"] == scenario_hash(scenario)


@pytest.fixture(scope="module")
def rerun(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """A non-quiet run of a scenario file into an output directory holding an earlier run."""
    cwd = tmp_path_factory.mktemp("rerun")
    write_small_scenario(cwd)
    out = cwd / "out"
    first = copsim_cli("run", "small.toml", "--seed", 4, "--years", 0.5, "--out", "out", "--quiet",
                       cwd=cwd)
    assert first.returncode == 0, first.stderr
    proc = copsim_cli("run", "small.toml", "--seed", 3, "--out", "out", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return proc, out


def test_run_prints_a_readable_summary(rerun: Run) -> None:
    proc, _ = rerun
    assert "Scenario small, seed 3" in proc.stdout
    assert "Joint ventures formed:" in proc.stdout
    assert "Wenger's activities: problem solving" in proc.stdout
    assert "Outputs in out/" in proc.stdout


def test_rerun_replaces_the_output_directory(rerun: Run) -> None:
    _, out = rerun
    assert {p.name for p in out.iterdir()} == OUTPUTS
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["scenario"], summary["seed"], summary["weeks"]) == ("small", 3, 52)
    assert leftovers(out.parent) == []


def test_default_output_directory_is_created(tmp_path: Path, small_scenario_file: Path) -> None:
    proc = copsim_cli("run", small_scenario_file, "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in (tmp_path / "runs" / "small-seed1").iterdir()} == OUTPUTS


# --- validate ---------------------------------------------------------------------------------


def test_validate_ok(tmp_path: Path, small_scenario_file: Path) -> None:
    proc = copsim_cli("validate", small_scenario_file, DEFAULT_FILE, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    small, default = proc.stdout.splitlines()
    assert small.startswith(f"{small_scenario_file}: ok (small: 400 firms, 1 groups")
    assert default.startswith(f"{DEFAULT_FILE}: ok (microentre: ")
    assert proc.stderr == ""


def test_validate_reports_each_bad_file(tmp_path: Path, small_scenario_file: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[run]\nyears = 0\n")
    proc = copsim_cli("validate", bad, small_scenario_file, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout.startswith(f"{small_scenario_file}: ok")
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(ERROR_PREFIX)
    expected = BadScenario(bad, "run.years", "greater than 0", (bad,))
    expected.assert_reported(lines[0].removeprefix(ERROR_PREFIX))


# --- bad input: exit 2, one line, nothing written ---------------------------------------------


BadRun = tuple[BadScenario, Snapshot, Snapshot, Proc]


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[BadRun]]]:
    """``copsim run BAD --out out`` for every case of ``BAD_CASES``, started together.

    Each case has its own directory; a run is (expectation, snapshot before, snapshot
    after, process). The processes run a few at a time: each takes a second or two
    to import, so one after another they would take most of the time budget.
    """
    def run(bad: BadScenario, directory: Path) -> BadRun:
        before = snapshot(directory)
        proc = copsim_cli("run", bad.path, "--out", directory / "out", "--quiet", cwd=directory)
        return bad, before, snapshot(directory), proc

    with ThreadPoolExecutor(max_workers=(os.cpu_count() or 1) + 1) as pool:
        futures = {}
        for case_id, case in BAD_CASES.items():
            directory = tmp_path_factory.mktemp(case_id)
            bad = write_bad_case(case, directory, write_small_scenario(directory))
            futures[case_id] = pool.submit(run, bad, directory)
        yield futures


@pytest.mark.parametrize("case_id", list(BAD_CASES))
def test_bad_scenario_exits_2_with_one_line_and_writes_nothing(bad_runs: dict[str, Future[BadRun]],
                                                               case_id: str) -> None:
    bad, before, after, proc = bad_runs[case_id].result()
    bad.assert_reported(error_line(proc))
    assert after == before


@pytest.mark.parametrize(
    ("flag", "value", "reason"),
    [
        ("--population", "-5", "must be at least 1"),
        ("--population", "0", "must be at least 1"),
        ("--years", "0", "greater than 0"),
        ("--years", "-1", "greater than 0"),
        ("--set", "run.cadence=2", "Extra inputs are not permitted"),
        ("--seed", "-1", "negative"),
        ("--years", "abc", "invalid float value"),
    ],
)
def test_bad_flag_exits_2_with_one_line(tmp_path: Path, small_scenario_file: Path,
                                        flag: str, value: str, reason: str) -> None:
    before = snapshot(tmp_path)
    proc = copsim_cli("run", small_scenario_file, flag, value, "--out", tmp_path / "out", "--quiet",
                      cwd=tmp_path)
    line = error_line(proc)
    assert flag in line or str(small_scenario_file) in line
    assert reason in line
    assert snapshot(tmp_path) == before


def _parent_is_a_file(tmp_path: Path) -> Path:
    (tmp_path / "afile").write_text("not a directory")
    return tmp_path / "afile" / "out"


def _out_is_a_file(tmp_path: Path) -> Path:
    (tmp_path / "afile").write_text("not a directory")
    return tmp_path / "afile"


def _parent_read_only(tmp_path: Path) -> Path:
    parent = tmp_path / "readonly"
    parent.mkdir(mode=0o500)
    if os.access(parent, os.W_OK):
        pytest.skip("running as root: permissions do not stop writes")
    return parent / "out"


@pytest.mark.parametrize("make_out", [_parent_is_a_file, _out_is_a_file, _parent_read_only],
                         ids=["parent-is-a-file", "out-is-a-file", "parent-read-only"])
def test_unwritable_output_exits_2_and_writes_nothing(tmp_path: Path, small_scenario_file: Path,
                                                      make_out: Callable[[Path], Path]) -> None:
    out = make_out(tmp_path)
    before = snapshot(tmp_path)
    proc = copsim_cli("run", small_scenario_file, "--out", out, "--quiet", cwd=tmp_path)
    assert error_line(proc).startswith(f"{out}: (output): ")
    assert snapshot(tmp_path) == before


# --- atomicity ---------------------------------------------------------------------------------


@pytest.mark.parametrize("previous", [False, True], ids=["fresh", "over-previous"])
@pytest.mark.parametrize("failure", [RuntimeError("disk full"), KeyboardInterrupt()],
                         ids=["error", "interrupt"])
def test_failed_write_leaves_no_complete_looking_directory(
    tmp_path: Path, small_scenario_file: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], failure: BaseException, previous: bool,
) -> None:
    out = tmp_path / "out"
    if previous:
        out.mkdir()
        (out / "run.json").write_text(f'{{"copsim_version": "{copsim.__version__}"}}')
        (out / "summary.json").write_text('{"previous": true}')
    before = snapshot(out)
    calls: list[Path] = []

    def fail(frame: pd.DataFrame, path: Path, title: str) -> None:
        calls.append(path)
        raise failure

    monkeypatch.setattr(copsim.outputs.plotting, "plot_timeseries", fail)
    argv = ["run", str(small_scenario_file), "--out", str(out), "--quiet"]
    if isinstance(failure, KeyboardInterrupt):
        assert main(argv) == 130
        assert "interrupted" in capsys.readouterr().err
    else:
        with pytest.raises(RuntimeError):
            main(argv)
    assert calls, "the failure was not raised while writing"
    if previous:
        assert snapshot(out) == before  # the earlier run is untouched
    else:
        assert not out.exists()
    assert leftovers(tmp_path) == []


# --- sizes and what the run says about them ---------------------------------------------------


def test_population_below_the_regions_says_how_many_firms_it_simulates(tmp_path: Path) -> None:
    proc = copsim_cli("run", "--population", 1, "--years", 0.05, "--out", "out", "--quiet",
                      cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [
        "copsim: note: --population 1: simulating 13 firms, at least one in each of the "
        "scenario's 13 regions"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(),
                         parse_constant=lambda name: pytest.fail(f"{name} in summary.json"))
    assert summary["population_start"] == 13
    assert summary["participant_survival_rate"] is None  # nobody took part: undefined, not NaN


def test_a_run_that_would_not_fit_in_memory_is_refused_before_it_starts(tmp_path: Path) -> None:
    proc = copsim_cli("run", "--population", 100_000_000, "--out", "out", cwd=tmp_path)
    line = error_line(proc)
    assert line.startswith(f"{DEFAULT_FILE}: --population: a run of 100,000,000 firms over 5 years "
                           "needs about ")
    assert "of memory, and " in line and line.endswith(" are available on this machine")
    assert not (tmp_path / "out").exists()



def test_the_memory_estimate_errs_high_on_every_measured_run() -> None:
    """benchmarks/memory_results.json: peak resident memory of real runs (the firm table
    built at the end) from 20,000 firms to 2,000,000, 1 to 10 years, with and without the
    full event log; the estimate covers each, and is lower for ``copsim run``, which builds
    no firm table."""
    from copsim.engine.memory import run_bytes
    from copsim.scenario.io import load_scenario, scale_population, with_years

    measured = json.loads((DEFAULT_FILE.parents[1] / "benchmarks" / "memory_results.json")
                          .read_text())
    assert {r["years"] for r in measured} == {1, 5, 10}
    assert any(r["firms"] > Scenario().run.events_max_firms for r in measured)
    for r in measured:
        scenario = with_years(scale_population(load_scenario(), r["firms"]), r["years"])
        assert run_bytes(scenario) >= r["process_bytes"] + r["run_bytes"], r
        assert run_bytes(scenario, firms=False) < run_bytes(scenario)

def test_validate_prints_the_memory_estimate(tmp_path: Path, small_scenario_file: Path) -> None:
    proc = copsim_cli("validate", small_scenario_file, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"; a run needs about \d+ MB of memory\)$", proc.stdout.strip())


@pytest.mark.parametrize("command", ["compare", "sweep"])
def test_parallel_runs_that_would_not_fit_in_memory_are_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        command: str) -> None:
    """One run per worker at once: with 512 MB free, two default-sized runs do not fit."""
    monkeypatch.setattr(copsim.engine.memory, "available_bytes", lambda: 2**29)
    what = {"compare": ["microentre", "self_organised", "--reps", "2"],
            "sweep": [str(DEFAULT_FILE.parents[1] / "experiments" / "facilitation_vs_funding.toml")]}
    with pytest.raises(SystemExit) as info:
        main([command, *what[command], "--workers", "2", "--out", str(tmp_path / "out"), "--quiet"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert re.search(r": 2 runs at once of 11,200 firms over \d+ years needs about [\d.]+ MB of "
                     r"memory, and 512 MB are available on this machine$", err.strip()), err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("flag", "value", "message"),
                         [("--round-seconds", "inf", "--round-seconds: inf: must be at most 3600"),
                          ("--round-seconds", "nan", "--round-seconds: nan: must be at least 5"),
                          ("--rounds", "1000000", "--rounds: 1000000: must be at most 100")])
def test_workshop_timing_flags_are_bounded(capsys: pytest.CaptureFixture[str], flag: str,
                                           value: str, message: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(["workshop", flag, value])
    assert info.value.code == 2
    assert capsys.readouterr().err == f"copsim: error: {message}\n"
