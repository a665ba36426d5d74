"""``copsim sweep``: run an experiment's runs, resumably, on local processes or Dask."""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copsim.cli.run import non_negative_int, positive_int
from copsim.errors import CopsimError

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from copsim.studies.experiments import Plan
    from copsim.studies.sweep import SweepReport

EXIT_FAILED_RUNS = 1
EXIT_INTERRUPTED = 130
CONNECT_TIMEOUT = "20s"  # to reach a Dask scheduler


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` parser."""
    sweep = sub.add_parser("sweep", help="run an experiment (grid, lhs, sobol, morris); resumable")
    sweep.add_argument("experiment", type=Path, help="experiment file (experiments/*.toml)")
    sweep.add_argument("--out", type=Path, help="results directory (default: sweeps/<experiment>)")
    add_where(sweep)
    sweep.add_argument("--limit", type=positive_int, metavar="K",
                       help="run at most K unfinished runs now (the first in run order)")
    sweep.add_argument("--retries", type=non_negative_int, default=2,
                       help="new attempts for a run whose worker died (default 2)")
    sweep.add_argument("--retry-failed", action="store_true",
                       help="run again the runs that raised an error in an earlier sweep")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    sweep.set_defaults(action=action)


def action(args: argparse.Namespace) -> int:
    """Check the experiment and the directory, run what is unfinished, report."""
    from copsim.studies.experiments import load_experiment
    from copsim.studies.jobs import default_workers
    from copsim.studies.sweep import run_sweep

    plan = load_experiment(args.experiment)
    out = args.out or Path("sweeps") / args.experiment.stem
    if not args.scheduler:
        check_local_memory(plan, args.workers or default_workers(), str(args.experiment))
    with ExitStack() as stack:
        executor, where, in_flight = where_to_run(args, stack)

        def announce(report: SweepReport, n: int) -> None:
            if not args.quiet:
                print(f"{_plan_line(plan, out)}; {report.before} finished before; {n} to run on "
                      f"{where}.", flush=True)

        try:
            report = run_sweep(plan, out, workers=args.workers, executor=executor, limit=args.limit,
                               retries=args.retries, retry_failed=args.retry_failed,
                               progress=not args.quiet, announce=announce, in_flight=in_flight)
        except KeyboardInterrupt:
            print(f"copsim: interrupted; every finished run is kept in {out}/runs/: run the same "
                  "command again to resume", file=sys.stderr)
            return EXIT_INTERRUPTED
    if not args.quiet:
        print("\n".join(_report_lines(report, out)))
    return EXIT_FAILED_RUNS if report.failed else 0


def check_local_memory(plan: Plan, workers: int, source: str) -> None:
    """Refuse a sweep whose largest runs, one per local process, would not fit in memory."""
    from copsim.engine.memory import check_fits, run_bytes

    largest = max((plan.scenario(i) for i in range(len(plan.points))), key=run_bytes)
    at_once = min(workers, plan.n_runs)
    check_fits(at_once * run_bytes(largest), source, "base",
               f"{at_once} runs at once of {largest.population:,} firms over "
               f"{largest.run.years:g} years")


def _plan_line(plan: Plan, out: Path) -> str:
    exp = plan.experiment
    return (f"Experiment {exp.name}: {exp.design} design, {_count(len(plan.points), 'sample')} x "
            f"{_count(exp.replicates, 'replicate')} = {_count(plan.n_runs, 'run')} into {out}/")


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'s' * (n != 1)}"


def _report_lines(report: SweepReport, out: Path) -> list[str]:
    lines = [f"Ran {_count(report.ran, 'run')} in {report.seconds:.0f} s. The experiment has "
             f"{report.ok:,} finished, {report.failed:,} failed, {report.remaining:,} remaining."]
    if report.errors:
        run_id, message = report.errors[0]
        lines.append(f"{_count(len(report.errors), 'run')} failed now; the first, {run_id}: {message} "
                     "(all errors in the 'error' column; --retry-failed runs them again)")
    if report.remaining:
        lines.append("Run the same command again to continue.")
    lines.append(f"Results: {out}/results.parquet (one row per run); analyse with: copsim analyze {out}")
    return lines


def add_where(parser: argparse.ArgumentParser) -> None:
    """``--workers N`` or ``--scheduler ADDRESS``: local processes or a Dask cluster."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=positive_int, help="local processes (default: all cores)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="send the runs to a running Dask scheduler, e.g. tcp://host:8786")


def where_to_run(args: argparse.Namespace, stack: ExitStack) -> tuple[Executor | None, str,
                                                                     Callable[[], int] | None]:
    """The executor (None: local processes), a description, and the runs to keep in flight."""
    if args.scheduler:
        return stack.enter_context(dask_executor(args.scheduler))
    from copsim.studies.jobs import default_workers

    return None, f"{args.workers or default_workers()} local processes", None


@contextmanager
def dask_executor(address: str) -> Iterator[tuple[Executor, str, Callable[[], int]]]:
    """A Dask client's executor, a description, and how many runs to keep in flight."""
    from distributed import Client

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise CopsimError(f"--scheduler: {address}: cannot connect "
                          f"({' '.join(str(exc).split()) or exc.__class__.__name__})") from None
    try:
        workers = len(client.scheduler_info().get("workers", {}))
        yield (client.get_executor(pure=False), f"the Dask cluster at {address} ({workers} workers now)",
               ClusterWindow(client))
    finally:
        client.close()


class ClusterWindow:
    """Runs to keep on a Dask cluster: twice its threads, at least 8; rechecked every 5 s.

    Enough to keep every worker busy as the cluster grows (a SLURM cluster's jobs
    start while the sweep runs), without queueing every run's scenario at once.
    """

    def __init__(self, client: Any, minimum: int = 8, every_s: float = 5.0) -> None:
        self.client, self.minimum, self.every_s = client, minimum, every_s
        self.checked, self.value = -math.inf, minimum

    def __call__(self) -> int:
        """The current window."""
        if time.monotonic() - self.checked > self.every_s:
            self.checked = time.monotonic()
            self.value = max(self.minimum, 2 * sum(self.client.nthreads().values()))
        return self.value
