"""``copsim compare``: scenarios side by side against the no-programme counterfactual."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from copsim.cli.run import non_negative_int
from copsim.cli.sweep import positive_int


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
    add_posterior(compare)
    compare.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    compare.set_defaults(action=action)


def add_posterior(parser: argparse.ArgumentParser) -> None:
    """Options choosing where the replicates' parameters come from (compare, decompose, trial)."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--posterior", type=Path, metavar="FILE",
                        help="draw each replicate's parameters from this posterior sample "
                             "(posterior.parquet of copsim calibrate; default: the shipped one, "
                             "where it applies)")
    source.add_argument("--no-posterior", action="store_true",
                        help="keep the scenarios' parameters: intervals of random noise only")
    parser.add_argument("--seeds-per-draw", type=positive_int, default=2,
                        help="seeds run at each posterior draw, to split the spread into "
                             "parameters and noise (default 2)")


def posterior_choice(args: argparse.Namespace) -> str | Path | None:
    """What ``choose_posterior`` is given: a file, the shipped default, or None."""
    from copsim.studies.posterior import DEFAULT

    return None if args.no_posterior else (args.posterior or DEFAULT)


def action(args: argparse.Namespace) -> int:
    """Check everything, run every job, write the outputs atomically, print the table."""
    from copsim.api import compare
    from copsim.studies.report import COMPARE_OUTPUT
    from copsim.scenario.io import load_scenario

    scenarios = [load_scenario(s) for s in args.scenarios]
    suffix = "" if args.shock is None else f"-{Path(args.shock).stem}"
    out = args.out or Path("runs") / f"compare-{'-'.join(s.name for s in scenarios)}{suffix}"
    result = compare(scenarios, reps=args.reps, years=args.years, shock=args.shock,
                     seed=args.seed, workers=args.workers, out=out, progress=not args.quiet,
                     posterior=posterior_choice(args), seeds_per_draw=args.seeds_per_draw)
    if not args.quiet:
        meta = result.provenance
        print(meta["parameters"])
        print(result.markdown, end="")
        print(f"\n{len(result.arms)} scenarios and the counterfactual, {meta['replicates']} "
              f"replicates each: {meta['runs']} runs on {meta['workers']} processes in "
              f"{meta['seconds']:.0f} s.")
        print(f"Outputs in {out}/: {', '.join(COMPARE_OUTPUT.files)}")
    sys.stdout.flush()
    return 0
