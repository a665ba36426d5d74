"""Many runs: results depend on the job only, not on workers or completion order."""

from __future__ import annotations

import pandas as pd

from copsim.studies import jobs
from copsim.studies.jobs import Job, run_jobs
from test_model import small


def test_one_worker_and_two_workers_give_identical_results() -> None:
    s = small(years=0.5, population=800)
    jobs = [Job(key=(seed,), scenario=s, seed=seed) for seed in (1, 2, 3)]
    serial = {r.job.key: r for r in run_jobs(jobs, workers=1)}
    parallel = {r.job.key: r for r in run_jobs(jobs, workers=2)}
    assert serial.keys() == parallel.keys()
    for key in serial:
        pd.testing.assert_frame_equal(serial[key].timeseries, parallel[key].timeseries,
                                      check_exact=True)
        assert serial[key].summary == parallel[key].summary
    assert serial[(1,)].summary["survival_rate"] != serial[(2,)].summary["survival_rate"]


def test_more_jobs_than_workers_can_run_before_recycling(monkeypatch) -> None:
    """Queuing every job at once made Python 3.11's pool stop replacing recycled workers
    and hang for ever (CPython gh-115634; it hung `copsim decompose`, 195 jobs)."""
    monkeypatch.setattr(jobs, "JOBS_PER_WORKER", 2)
    s = small(years=0.1, population=200)
    many = [Job(key=(seed,), scenario=s, seed=seed) for seed in range(12)]
    done = sorted(r.job.key for r in run_jobs(many, workers=2))
    assert done == [(seed,) for seed in range(12)]
