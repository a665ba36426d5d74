"""Many runs at once: one job per (scenario, seed), on local processes.

Every client that runs more than one simulation (``copsim compare``, sweeps, the
dashboard's comparison page) goes through :func:`run_jobs`. A job's result
depends only on the job (its scenario and seed), never on the worker or the
order of completion, so one worker and many give identical numbers. Workers
are recycled after a number of jobs so that finished models are freed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from copsim.config import Scenario
from copsim.kernels import Engine

JOBS_PER_WORKER = 20  # recycle worker processes (Mesa keeps models alive via Agent._ids)


@dataclass(frozen=True)
class Job:
    """One simulation: a scenario, a seed, and a key that identifies it to the caller."""

    key: tuple[Any, ...]
    scenario: Scenario
    seed: int
    engine: Engine = "numba"
    track_rows: tuple[int, ...] | None = None  # see CopModel(track_rows=...)
    track_members_at: int | None = None


@dataclass
class JobResult:
    """What a job returns: its summary, weekly table and the end state of every firm."""

    job: Job
    summary: dict[str, Any]
    timeseries: pd.DataFrame
    firms: pd.DataFrame
    tracked_rows: np.ndarray | None


def run_job(job: Job) -> JobResult:
    """Run one job in this process (no agent views: clients read arrays and tables)."""
    from copsim.runner import simulate

    rows = None if job.track_rows is None else np.array(job.track_rows, dtype=np.int64)
    result = simulate(job.scenario, seed=job.seed, engine=job.engine, track_rows=rows, track_members_at=job.track_members_at)
    return JobResult(job, result.summary, result.timeseries, result.firms, result.tracked_rows)


def default_workers() -> int:
    """All cores."""
    return os.cpu_count() or 1


def run_jobs(jobs: Iterable[Job], workers: int | None = None,
             progress: Callable[[JobResult], None] | None = None,
             executor: Executor | None = None) -> Iterator[JobResult]:
    """Run jobs, yielding results as they complete (callers order them by key).

    ``workers=1`` runs in this process; otherwise a process pool is used, or the
    given ``executor`` (any ``concurrent.futures.Executor``, e.g. a Dask client's).
    """
    jobs = list(jobs)
    workers = default_workers() if workers is None else workers
    if executor is None and (workers <= 1 or len(jobs) <= 1):
        for job in jobs:
            result = run_job(job)
            if progress is not None:
                progress(result)
            yield result
        return
    own = executor is None
    pool = executor or ProcessPoolExecutor(max_workers=workers, max_tasks_per_child=JOBS_PER_WORKER)
    try:
        futures = [pool.submit(run_job, job) for job in jobs]
        for future in as_completed(futures):
            result = future.result()
            if progress is not None:
                progress(result)
            yield result
    finally:
        if own:
            pool.shutdown(cancel_futures=True)
