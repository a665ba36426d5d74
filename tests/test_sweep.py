"""Sweeps: identical results on any workers, resume, limits, failing runs, dying workers, kills.

Every sweep here runs a tiny experiment (400 firms, half a year, a 2 x 2 grid, two
replicates: 8 runs of a few hundredths of a second). Job invocations are counted
with marker files, since jobs run in worker processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from conftest import write_small_scenario

from copsim.studies.analysis import load_sweep
from copsim.studies.experiments import Plan, Task, load_experiment, run_seed
from copsim.studies.sweep import CopsimJob, RunOutput, run_sweep

TINY_GRID = """\
name = "tiny"
base = "{base}"
years = 0.5
design = "grid"
replicates = 2
seed = 5

[[factors]]
key = "learning.rate"
values = [0.05, 0.2]

[[factors]]
name = "shock"
key = "environment.shocks"
labels = ["none", "crisis"]
values = [[], [{{name = "crisis", start_week = 4, duration_weeks = 8, recovery_weeks = 4, depth = 0.4}}]]

[[outcomes]]
name = "participants_total"

[[outcomes]]
name = "members_mean"
source = "timeseries"
column = "members"
reduce = "mean"

[[outcomes]]
name = "survival_rate"
"""


def write_experiment(directory: Path, text: str = TINY_GRID, name: str = "tiny.toml") -> Path:
    """An experiment file next to the small scenario (``{base}``: its path)."""
    base = write_small_scenario(directory)
    path = directory / name
    path.write_text(text.format(base=base.as_posix()), encoding="utf-8")
    return path


@pytest.fixture
def plan(tmp_path: Path) -> Plan:
    return load_experiment(write_experiment(tmp_path))


def results(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "results.parquet")


# --- jobs that count, fail and die (module level: they are pickled to workers) --------------


@dataclass(frozen=True)
class CountingJob:
    """Runs copsim, leaving one marker file per invocation in ``marks``."""

    job: CopsimJob
    marks: Path

    def __call__(self, task: Task) -> RunOutput:
        (self.marks / f"{task.run_id}.{uuid.uuid4().hex}").touch()
        return self.job(task)


def invocations(marks: Path) -> list[str]:
    """Run ids of every job invocation so far."""
    return sorted(p.name.split(".")[0] for p in marks.iterdir())


@dataclass(frozen=True)
class RaisingJob:
    """Raises for sample 1; runs copsim otherwise."""

    job: CopsimJob

    def __call__(self, task: Task) -> RunOutput:
        if task.sample == 1:
            raise ValueError(f"boom in\nsample {task.sample}")
        return self.job(task)


@dataclass(frozen=True)
class DyingJob:
    """Kills its worker process at the first attempt of ``victim`` (or at every one)."""

    job: CopsimJob
    marks: Path
    victim: str
    always: bool = False

    def __call__(self, task: Task) -> RunOutput:
        marker = self.marks / task.run_id
        if task.run_id == self.victim and (self.always or not marker.exists()):
            marker.touch()
            os._exit(1)
        return self.job(task)


def copsim_job(plan: Plan) -> CopsimJob:
    return CopsimJob(tuple(plan.experiment.outcomes))


# --- identical results ------------------------------------------------------------------------


def test_results_are_identical_on_one_worker_two_workers_and_dask(plan: Plan, tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    from copsim.cli.sweep import ClusterWindow

    one = run_sweep(plan, tmp_path / "one", workers=1)
    two = run_sweep(plan, tmp_path / "two", workers=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        dask = run_sweep(plan, tmp_path / "dask", executor=client.get_executor(pure=False),
                         in_flight=ClusterWindow(client, minimum=2))
    assert one.ok == two.ok == dask.ok == plan.n_runs == 8
    frames = [results(tmp_path / name) for name in ("one", "two", "dask")]
    pd.testing.assert_frame_equal(frames[0], frames[1], check_exact=True)
    pd.testing.assert_frame_equal(frames[0], frames[2], check_exact=True)
    frame = frames[0]
    assert list(frame["run_id"]) == sorted(frame["run_id"]) and frame["run_id"].is_unique
    assert set(frame["status"]) == {"ok"}
    assert list(frame.columns[:6]) == ["run_id", "sample", "replicate", "seed", "learning.rate", "shock"]
    assert list(frame["shock"][:4]) == ["none", "none", "crisis", "crisis"]
    assert frame["participants_total"].nunique() > 1
    timings = pd.read_parquet(tmp_path / "one" / "timings.parquet")
    assert list(timings.columns) == ["run_id", "wall_s", "attempts"] and (timings["wall_s"] > 0).all()


def test_seeds_come_from_root_sample_and_replicate_only(plan: Plan, tmp_path: Path) -> None:
    run_sweep(plan, tmp_path / "out", workers=2)
    frame = results(tmp_path / "out")
    expected = [run_seed(5, s, r) for s, r in zip(frame["sample"], frame["replicate"], strict=True)]
    assert list(frame["seed"]) == expected
    assert frame["seed"].is_unique


def test_a_sweep_writes_manifest_parts_and_series(tmp_path: Path) -> None:
    path = write_experiment(tmp_path, TINY_GRID.replace("seed = 5\n", "seed = 5\nsave_timeseries = true\n"))
    plan = load_experiment(path)
    out = tmp_path / "out"
    run_sweep(plan, out, workers=2)
    assert len(list((out / "runs").glob("part-*.parquet"))) == 8
    series = pd.read_parquet(out / "series")
    assert series.groupby("run_id").size().to_dict() == {r: 26 for r in results(out)["run_id"]}
    manifest = (out / "manifest.json").read_text()
    assert '"experiment_hash"' in manifest and '"design_points"' in manifest
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]


# --- resume and limit -------------------------------------------------------------------------


def test_resume_runs_each_run_exactly_once(plan: Plan, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    job = CountingJob(copsim_job(plan), marks)
    first = run_sweep(plan, tmp_path / "out", job=job, workers=2, limit=3)
    assert (first.ran, first.remaining) == (3, 5)
    assert invocations(marks) == ["00000-000", "00000-001", "00001-000"]
    assert len(results(tmp_path / "out")) == 3
    second = run_sweep(plan, tmp_path / "out", job=job, workers=2)
    assert (second.before, second.ran, second.remaining) == (3, 5, 0)
    third = run_sweep(plan, tmp_path / "out", job=job, workers=2)
    assert third.ran == 0
    assert invocations(marks) == sorted(t.run_id for t in plan.tasks())
    clean = run_sweep(plan, tmp_path / "clean", workers=2)
    assert clean.ok == 8
    pd.testing.assert_frame_equal(results(tmp_path / "out"), results(tmp_path / "clean"))


def test_limit_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from copsim.cli import main

    path = write_experiment(tmp_path)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--limit", "2", "--workers", "2", "--quiet"]) == 0
    assert len(results(out)) == 2
    assert main(["sweep", str(path), "--out", str(out), "--workers", "2"]) == 0
    printed = capsys.readouterr().out
    assert "2 finished before; 6 to run on 2 local processes" in printed
    assert "The experiment has 8 finished, 0 failed, 0 remaining." in printed
    assert len(results(out)) == 8


# --- faults -----------------------------------------------------------------------------------


def test_a_raising_run_is_recorded_and_the_sweep_goes_on(plan: Plan, tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = run_sweep(plan, out, job=RaisingJob(copsim_job(plan)), workers=2)
    assert (report.ok, report.failed) == (6, 2)
    frame = results(out).set_index("run_id")
    failed = frame[frame["status"] == "error"]
    assert list(failed.index) == ["00001-000", "00001-001"]
    assert set(failed["error"]) == {"ValueError: boom in sample 1"}
    assert failed["participants_total"].isna().all()
    assert (frame[frame["status"] == "ok"]["error"] == "").all()
    again = run_sweep(plan, out, job=copsim_job(plan), workers=2)
    assert (again.ran, again.failed) == (0, 2)  # errors are not repeated by a resume
    retried = run_sweep(plan, out, job=copsim_job(plan), workers=2, retry_failed=True)
    assert (retried.ran, retried.ok, retried.failed) == (2, 8, 0)


def test_a_run_whose_worker_dies_is_retried(plan: Plan, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    report = run_sweep(plan, tmp_path / "out", job=DyingJob(copsim_job(plan), marks, "00002-001"),
                       workers=2)
    assert (report.ok, report.failed) == (8, 0)
    timings = pd.read_parquet(tmp_path / "out" / "timings.parquet").set_index("run_id")
    assert timings.loc["00002-001", "attempts"] == 2
    clean = run_sweep(plan, tmp_path / "clean", workers=2)
    assert clean.ok == 8
    pd.testing.assert_frame_equal(results(tmp_path / "out"), results(tmp_path / "clean"))


def test_a_run_that_always_kills_its_worker_fails_after_the_retries(plan: Plan, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    job = DyingJob(copsim_job(plan), marks, "00001-000", always=True)
    report = run_sweep(plan, tmp_path / "out", job=job, workers=1, retries=1)
    assert (report.ok, report.failed) == (7, 1)
    row = results(tmp_path / "out").set_index("run_id").loc["00001-000"]
    assert row["status"] == "error" and row["error"].startswith("worker lost 2 times: BrokenProcessPool")


def test_killing_the_sweep_and_restarting_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    path = write_experiment(tmp_path, TINY_GRID.replace("replicates = 2", "replicates = 10")
                            .replace("years = 0.5", "years = 1.0"))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "copsim.cli", "sweep", str(path), "--out", str(out),
               "--workers", "2", "--quiet"]
    proc = subprocess.Popen(command, cwd=tmp_path, start_new_session=True)
    runs = out / "runs"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(runs.glob("part-*"))) < 6:
        assert proc.poll() is None, "the sweep ended before it could be killed"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    committed = len(list(runs.glob("part-*.parquet")))
    assert 6 <= committed < 40
    assert not (out / "results.parquet").exists()
    assert len(load_sweep(out)[1]) == committed  # the analysis reads the committed runs
    again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    frame = results(out)
    assert len(frame) == 40 and frame["run_id"].is_unique and set(frame["status"]) == {"ok"}
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]
    clean = run_sweep(load_experiment(path), tmp_path / "clean", workers=2)
    assert clean.ok == 40
    pd.testing.assert_frame_equal(frame, results(tmp_path / "clean"))
