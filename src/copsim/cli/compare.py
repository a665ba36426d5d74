"""``copsim compare``: scenarios side by side against the no-programme counterfactual."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copsim.cli.run import non_negative_int

if TYPE_CHECKING:
    from copsim.studies.compare import Comparison, Pair
    from copsim.scenario.schema import Shock

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

    from copsim import __version__
    from copsim.studies.compare import CompareError, job_count, prepare, run_comparison
    from copsim.studies.jobs import default_workers
    from copsim.outputs.files import check_writable
    from copsim.scenario.io import load_scenario
    from copsim.scenario.shocks import load_shocks

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
    meta = provenance(comparison, shock, workers, seconds, __version__)
    write(out, comparison, pairs, meta)
    if not args.quiet:
        print((out / "table.md").read_text(encoding="utf-8"), end="")
        print(f"\n{len(names)} scenarios and the counterfactual, {len(comparison.seeds)} "
              f"replicates each: {meta['runs']} runs on {workers} processes in {seconds:.0f} s.")
        print(f"Outputs in {out}/: {', '.join(OUTPUTS)}")
    sys.stdout.flush()
    return 0


def provenance(comparison: Comparison, shock: tuple[Path, list[Shock]] | None, workers: int,
               seconds: float, version: str) -> dict[str, Any]:
    """compare.json: what identifies the comparison (results do not depend on workers)."""
    from copsim.studies.compare import counterfactual, job_count
    from copsim.scenario.io import scenario_hash

    return {
        "copsim_version": version,
        "root_seed": comparison.root_seed,
        "replicates": len(comparison.seeds),
        "seeds": list(comparison.seeds),
        "shock": None if shock is None else str(shock[0]),
        "scenarios": {name: {"hash": scenario_hash(s),
                             "counterfactual_hash": scenario_hash(counterfactual(s)),
                             "scenario": s.model_dump(mode="json")}
                      for name, s in comparison.arms.items()},
        "runs": job_count(comparison),
        "workers": workers,
        "seconds": round(seconds, 1),
    }


def write(out: Path, comparison: Comparison, pairs: list[Pair], meta: dict[str, Any]) -> None:
    """Every output file, into a temporary directory that replaces ``out`` when complete."""
    from copsim.studies.compare import outcome_table, replicates_frame, shock_week, timeseries_frame
    from copsim.studies.report import write_outputs
    from copsim.outputs.files import atomic_directory, write_json

    replicates = replicates_frame(pairs)
    table = outcome_table(replicates, comparison.has_shock)
    timeseries = timeseries_frame(pairs)
    first_shock = shock_week(next(iter(comparison.arms.values())))
    with atomic_directory(out) as tmp:
        table.to_csv(tmp / "table.csv", index=False)
        replicates.to_csv(tmp / "replicates.csv", index=False)
        timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
        write_outputs(tmp, table, timeseries, comparison.arms, meta, first_shock)
        write_json(tmp / "compare.json", meta)
