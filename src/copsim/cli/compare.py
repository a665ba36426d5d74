"""``copsim compare``: scenarios side by side against the no-programme counterfactual."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from copsim.cli.run import non_negative_int

OUTPUTS = ("table.md", "table.csv", "replicates.csv", "timeseries.parquet", "timeseries_bands.png",
           "cost_vs_outcome.png", "report.html", "compare.json")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``compare`` parser."""
    compare = sub.add_parser(
        "compare", help="compare scenarios with each other and with no programme")
    compare.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                         help="scenario files or names in scenarios/ (same population)")
    compare.add_argument("--reps", type=int, default=10,
                         help="replicates per scenario (default 10)")
    compare.add_argument("--years", type=float,
                         help="horizon for all (default: each scenario's own)")
    compare.add_argument("--shock", help="shock overlay: a name in scenarios/shocks/ or a file")
    compare.add_argument("--seed", type=non_negative_int, default=1,
                         help="root seed of the replicate seeds (default 1)")
    compare.add_argument("--workers", type=int, help="local processes (default: all cores)")
    compare.add_argument("--out", type=Path,
                         help="output directory (default: runs/compare-<names>)")
    compare.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    compare.set_defaults(action=action)


def action(args: argparse.Namespace) -> int:
    """Check everything, run every job, write the outputs atomically, print the table."""
    from tqdm import tqdm

    from copsim.studies.compare import CompareError, job_count, prepare, run_comparison
    from copsim.studies.jobs import default_workers
    from copsim.outputs.files import check_writable
    from copsim.scenario.io import load_scenario
    from copsim.scenario.shocks import load_shocks
    from copsim.studies.report import comparison_provenance, write_comparison

    if args.workers is not None and args.workers < 1:
        raise CompareError(f"--workers: {args.workers}: must be at least 1")
    shock = None if args.shock is None else load_shocks(args.shock)
    comparison = prepare([load_scenario(s) for s in args.scenarios], args.reps, args.seed,
                         args.years, shock)
    names = list(comparison.arms)
    suffix = "" if shock is None else f"-{shock[0].stem}"
    out = args.out or Path("runs") / f"compare-{'-'.join(names)}{suffix}"
    check_writable(out)
    workers = args.workers or default_workers()
    started = time.perf_counter()
    with tqdm(total=job_count(comparison), unit="run", disable=args.quiet, desc="compare") as bar:
        pairs = run_comparison(comparison, workers, progress=lambda result: bar.update(1))
    seconds = time.perf_counter() - started
    meta = comparison_provenance(comparison, shock, workers, seconds)
    write_comparison(out, comparison, pairs, meta)
    if not args.quiet:
        print((out / "table.md").read_text(encoding="utf-8"), end="")
        print(f"\n{len(names)} scenarios and the counterfactual, {len(comparison.seeds)} "
              f"replicates each: {meta['runs']} runs on {workers} processes in {seconds:.0f} s.")
        print(f"Outputs in {out}/: {', '.join(OUTPUTS)}")
    sys.stdout.flush()
    return 0

