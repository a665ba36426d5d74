"""Running an experiment: every run of a plan, on local processes or a Dask cluster.

A run's result depends only on its task (scenario, seed), so one worker, many
workers and a Dask cluster give identical results. The output directory::

    manifest.json                  the experiment as resolved (its hash, design, version)
    runs/part-<run_id>.parquet     one row per finished run: the commit of that run
    series/part-<run_id>.parquet   its weekly table (save_timeseries = true)
    results.parquet                every row, sorted by run id (written at the end)
    timings.parquet                wall seconds and attempts per run (they vary; kept apart)
    .lock                          held while a sweep writes (a second sweep is refused)

A part file is written to a temporary name and renamed, so it exists only
complete; resuming skips every run that has one, so a sweep killed at any moment
and started again loses nothing and duplicates nothing. A run that raises is a
row with ``status = "error"`` and its message, and the sweep goes on (rerunning
does not repeat it unless ``retry_failed``). A run whose worker died (a broken
process pool, a Dask ``KilledWorker``) is tried again, up to ``retries`` times;
every run in flight when a local worker dies counts an attempt, since a process
pool does not say which worker died.

The job is pluggable (``job=``: a picklable function of a :class:`Task` returning
:class:`RunOutput`); :class:`CopsimJob` runs copsim through :mod:`copsim.studies.jobs`.
The plan is too: anything with the attributes of :class:`RunPlan` (an experiment's
:class:`~copsim.studies.experiments.Plan`, a trial's plan).
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import queue
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from copsim.version import __version__
from copsim.errors import OutputError
from copsim.studies.experiments import Outcome, Plan, Task, outcome_values
from copsim.studies.jobs import Job, LocalPool, default_workers, run_job
from copsim.engine.kernels import Engine
from copsim.outputs.files import check_writable, refuse_special, temporary_file, write_text_atomic

TIMING_COLUMNS = ("wall_s", "attempts")
DEFAULT_RETRIES = 2


class RunPlan(Protocol):
    """What a sweep needs of a plan: its runs, their identity and the manifest."""

    name: str
    n_runs: int
    outcome_names: list[str]
    records: list[dict[str, Any]]

    def tasks(self) -> Iterator[Task]: ...
    def bind(self, task: Task) -> Task: ...
    def manifest(self) -> dict[str, Any]: ...


@dataclass
class RunOutput:
    """What a job returns: its outcomes, and optionally a table (a weekly table, or a trial's firms)."""

    outcomes: dict[str, float]
    timeseries: pd.DataFrame | None = None


JobFn = Callable[[Task], RunOutput]


@dataclass(frozen=True)
class CopsimJob:
    """The job of a copsim experiment: simulate the task's scenario, reduce the outcomes."""

    outcomes: tuple[Outcome, ...]
    save_timeseries: bool = False
    engine: Engine = "numba"

    def __call__(self, task: Task) -> RunOutput:
        """Run one simulation (the model is released by the runner)."""
        assert task.scenario is not None, "copsim runs need a bound task (Plan.bind)"
        result = run_job(Job(key=(task.run_id,), scenario=task.scenario, seed=task.seed,
                             engine=self.engine))
        values = outcome_values(list(self.outcomes), result.summary, result.timeseries)
        return RunOutput(values, result.timeseries if self.save_timeseries else None)


@dataclass
class Finished:
    """A run as it comes back from a worker."""

    run_id: str
    status: str
    error: str
    outcomes: dict[str, float]
    timeseries: pd.DataFrame | None
    wall_s: float


def execute(job: JobFn, task: Task) -> Finished:
    """Run one task in a worker; an exception becomes an error row, not a lost run."""
    start = time.perf_counter()
    try:
        output = job(task)
    except Exception as exc:  # noqa: BLE001 - any failure of the model is recorded
        return Finished(task.run_id, "error", _one_line(exc), {}, None, time.perf_counter() - start)
    return Finished(task.run_id, "ok", "", dict(output.outcomes), output.timeseries,
                    time.perf_counter() - start)


def _one_line(exc: BaseException) -> str:
    return f"{exc.__class__.__name__}: {' '.join(str(exc).split())}".rstrip(": ")


# --- the output directory ---------------------------------------------------------------------


class SweepDirectory:
    """The files of one experiment's results; refuses to mix experiments."""

    def __init__(self, out: Path, plan: RunPlan) -> None:
        self.out = Path(out)
        self.plan = plan
        self.runs = self.out / "runs"
        self.series = self.out / "series"

    @contextmanager
    def opened(self) -> Iterator[SweepDirectory]:
        """Lock the directory, check or write the manifest, clear temporary files.

        A directory that is not a sweep's is refused before anything (the lock
        file included) is created in it; the manifest is checked again under the lock.
        """
        refuse_special(self.out)
        check_writable(self.out)
        if self.out.is_dir() and not (self.out / "manifest.json").exists():
            self._refuse_foreign()
        self.out.mkdir(parents=True, exist_ok=True)
        with open(self.out / ".lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise OutputError(f"{self.out}: (output): another copsim sweep is writing here") from None
            self._check_manifest()
            self.runs.mkdir(exist_ok=True)
            for folder in (self.out, self.runs, self.series):
                for tmp in folder.glob(".*.tmp-*"):
                    tmp.unlink()
            yield self

    def _check_manifest(self) -> None:
        manifest = self.plan.manifest()
        path = self.out / "manifest.json"
        if not path.exists():
            self._refuse_foreign()
            write_text_atomic(path, json.dumps(manifest, indent=1, default=str) + "\n")
            return
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError):
            raise OutputError(f"{path}: (output): unreadable manifest; choose another directory") from None
        if old.get("copsim_version") != __version__:
            raise OutputError(f"{self.out}: (output): holds results of copsim {old.get('copsim_version')}, "
                              f"this is {__version__}; use another --out")
        if old.get("experiment_hash") != manifest["experiment_hash"]:
            raise OutputError(f"{self.out}: (output): holds a different experiment "
                              f"({old.get('experiment', {}).get('name')!r}, hash {old.get('experiment_hash')}, "
                              f"not {manifest['experiment_hash']}); use another --out")

    def _refuse_foreign(self) -> None:
        """A directory without a manifest is a sweep's only if empty (or a killed one's lock)."""
        stray = sorted(p.name for p in self.out.iterdir() if p.name != ".lock")
        if stray:
            raise OutputError(f"{self.out}: (output): holds {stray[0]} but no sweep manifest; "
                              "choose a new or empty directory")

    def finished(self) -> dict[str, str]:
        """Status (``ok`` or ``error``) of every committed run, by run id."""
        statuses = {}
        for path in self.runs.glob("part-*.parquet"):
            statuses[path.stem.removeprefix("part-")] = pq.read_table(path, columns=["status"])["status"][0].as_py()
        return statuses

    def commit(self, row: dict[str, Any], timeseries: pd.DataFrame | None) -> None:
        """Write a run's weekly table, then its row (the row's file marks it finished)."""
        name = f"part-{row['run_id']}.parquet"
        if timeseries is not None:
            self.series.mkdir(exist_ok=True)
            frame = timeseries.assign(run_id=row["run_id"])
            _write_atomic(pa.Table.from_pandas(frame, preserve_index=False), self.series / name)
        _write_atomic(pa.Table.from_pylist([row]), self.runs / name)

    def consolidate(self) -> None:
        """Every committed row, sorted by run id, into results.parquet and timings.parquet."""
        frame = read_parts(self.out)
        if frame.empty:
            return
        results = frame.drop(columns=list(TIMING_COLUMNS))
        _write_atomic(pa.Table.from_pandas(results, preserve_index=False), self.out / "results.parquet")
        timings = frame[["run_id", *TIMING_COLUMNS]]
        _write_atomic(pa.Table.from_pandas(timings, preserve_index=False), self.out / "timings.parquet")


def read_parts(out: Path) -> pd.DataFrame:
    """Every committed run of a sweep directory, sorted by run id (with the timing columns).

    The part files are the truth: results.parquet is written from them at the end of
    a sweep, so after a killed sweep it may be missing or behind.
    """
    parts = sorted((Path(out) / "runs").glob("part-*.parquet"))
    if not parts:
        return pd.DataFrame()
    table = pa.concat_tables([pq.read_table(p) for p in parts], promote_options="permissive")
    return table.to_pandas().sort_values("run_id", kind="stable").reset_index(drop=True)


def _write_atomic(table: pa.Table, path: Path) -> None:
    tmp = temporary_file(path)
    pq.write_table(table, tmp)
    os.replace(tmp, path)


# --- running ----------------------------------------------------------------------------------


@dataclass
class SweepReport:
    """What a sweep did."""

    out: Path
    total: int
    before: int
    ran: int = 0
    ok: int = 0
    failed: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (run_id, message) of failed runs
    seconds: float = 0.0

    @property
    def remaining(self) -> int:
        """Runs of the experiment not finished yet."""
        return self.total - self.ok - self.failed


def run_sweep(plan: RunPlan, out: Path, *, job: JobFn | None = None, workers: int | None = None,
              executor: Executor | None = None, limit: int | None = None,
              retries: int = DEFAULT_RETRIES, retry_failed: bool = False, progress: bool = False,
              announce: Callable[[SweepReport, int], None] | None = None,
              in_flight: Callable[[], int] | None = None) -> SweepReport:
    """Run every unfinished run of ``plan`` into ``out`` and consolidate the results.

    Local processes by default (``workers``, all cores if None); ``executor`` sends the
    runs to any ``concurrent.futures.Executor`` instead, e.g. a Dask client's. ``limit``
    runs at most that many runs now (the first unfinished ones in run-id order).
    ``announce(report, n)`` is called once the directory is checked, before ``n`` runs start.
    ``in_flight()`` says how many runs an executor may hold at once (default: all;
    a local pool holds one per worker).
    """
    if job is None:
        assert isinstance(plan, Plan), "only an experiment's plan has a default job"
        job = CopsimJob(tuple(plan.experiment.outcomes), plan.experiment.save_timeseries)
    start = time.perf_counter()
    directory = SweepDirectory(out, plan)
    with directory.opened():
        done = directory.finished()
        todo = [t for t in plan.tasks()
                if t.run_id not in done or (retry_failed and done[t.run_id] != "ok")]
        before = {k: v for k, v in done.items() if not (retry_failed and v != "ok")}
        if limit is not None:
            todo = todo[:limit]
        report = SweepReport(Path(out), plan.n_runs, len(before),
                             ok=sum(v == "ok" for v in before.values()),
                             failed=sum(v != "ok" for v in before.values()))
        if announce is not None:
            announce(report, len(todo))
        with (_progress_bar(plan, report, len(todo), progress) as tick,
              closing(_run_tasks(plan, todo, job, workers, executor, retries, in_flight)) as rows):
            for row, timeseries in rows:
                directory.commit(row, timeseries)
                report.ran += 1
                if row["status"] == "ok":
                    report.ok += 1
                else:
                    report.failed += 1
                    report.errors.append((row["run_id"], row["error"]))
                tick()
        directory.consolidate()
    report.seconds = time.perf_counter() - start
    return report


@contextmanager
def _progress_bar(plan: RunPlan, report: SweepReport, n: int, show: bool) -> Iterator[Callable[[], None]]:
    from tqdm import tqdm

    with tqdm(total=report.before + n, initial=report.before, unit="run", disable=not show,
              desc=plan.name, dynamic_ncols=True) as bar:
        def tick() -> None:
            bar.set_postfix(finished=report.ok, failed=report.failed, remaining=report.remaining,
                            refresh=False)
            bar.update(1)
        yield tick


def _run_tasks(plan: RunPlan, todo: list[Task], job: JobFn, workers: int | None, executor: Executor | None,
               retries: int, in_flight: Callable[[], int] | None,
               ) -> Iterator[tuple[dict[str, Any], pd.DataFrame | None]]:
    """Yield (row, weekly table) per run as runs finish; retry runs whose worker died.

    With a local pool, as many runs are in flight as there are workers (so a dead
    worker costs an attempt only to runs that were really running), and the next
    run is submitted before a finished one is written; an external executor gets
    ``in_flight()`` runs at a time (default: every run at once) and schedules them.
    """
    pool: LocalPool | Executor = executor or LocalPool(workers or default_workers())

    def window() -> int:
        if isinstance(pool, LocalPool):
            return pool.workers
        return len(todo) if in_flight is None else in_flight()
    pending = deque(todo)
    inflight: dict[Future, Task] = {}
    attempts: Counter[str] = Counter()
    completed: queue.SimpleQueue[Future] = queue.SimpleQueue()

    def fill() -> None:
        while pending and len(inflight) < window():
            task = pending.popleft()
            attempts[task.run_id] += 1
            future = pool.submit(execute, job, plan.bind(task))
            inflight[future] = task
            future.add_done_callback(completed.put)

    try:
        while pending or inflight:
            fill()
            future = completed.get()
            task = inflight.pop(future)
            try:
                finished = future.result()
            except Exception as exc:  # noqa: BLE001 - the worker was lost, not the run
                if attempts[task.run_id] <= retries:
                    pending.appendleft(task)
                    continue
                finished = Finished(task.run_id, "error",
                                    f"worker lost {attempts[task.run_id]} times: {_one_line(exc)}",
                                    {}, None, math.nan)
            fill()
            yield _row(plan, task, finished, attempts[task.run_id]), finished.timeseries
    except BaseException:  # interrupted: stop the runs in flight rather than wait for them
        if isinstance(pool, LocalPool):
            pool.stop()
        raise
    finally:
        if isinstance(pool, LocalPool):
            pool.shutdown()
        else:
            for future in inflight:
                future.cancel()


def _row(plan: RunPlan, task: Task, finished: Finished, attempts: int) -> dict[str, Any]:
    """One row of the results: identity, factor values, outcomes, status, timing."""
    status, error = finished.status, finished.error
    missing = [n for n in plan.outcome_names if n not in finished.outcomes]
    if status == "ok" and missing:
        status, error = "error", f"the job returned no value for outcome {missing[0]!r}"
    outcomes = {n: math.nan if status != "ok" else float(finished.outcomes[n])
                for n in plan.outcome_names}
    return {"run_id": task.run_id, "sample": task.sample, "replicate": task.replicate,
            "seed": task.seed, **plan.records[task.sample], **outcomes,
            "status": status, "error": error, "copsim_version": __version__,
            "wall_s": finished.wall_s, "attempts": attempts}

