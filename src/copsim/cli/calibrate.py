"""``copsim calibrate``: ABC-SMC of the parameters in a targets file (pyabc); resumable."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from copsim.cli.run import non_negative_int, positive_int

EXIT_INTERRUPTED = 130


def quantile(text: str) -> float:
    """A tolerance quantile: a number in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not in (0, 1]")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``calibrate`` parser."""
    cal = sub.add_parser("calibrate", help="fit assumptions to observed targets (ABC-SMC); resumable")
    cal.add_argument("targets", type=Path, help="targets file, or a shipped name such as targets (calibration/targets.toml)")
    cal.add_argument("--population-size", type=positive_int, default=100,
                     help="particles per generation (default 100)")
    cal.add_argument("--generations", type=positive_int, default=5,
                     help="generations in all, counting those of a resumed run (default 5)")
    where = cal.add_mutually_exclusive_group()
    where.add_argument("--workers", type=positive_int, default=2,
                       help="local processes (pyabc's multicore sampler; 1: single core; default 2)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="a running Dask scheduler, e.g. tcp://host:8786 (pyabc's Dask sampler)")
    cal.add_argument("--quantile", type=quantile, default=0.5,
                     help="each generation's tolerance: this quantile of the previous one's distances "
                          "(the first: of a sample from the prior); default 0.5, pyabc's median. "
                          "With --generations 1 and a small quantile: rejection ABC, equal weights")
    cal.add_argument("--seed", type=non_negative_int, default=1, help="root seed (default 1)")
    cal.add_argument("--ppc-draws", type=positive_int, default=20,
                     help="posterior draws simulated for the predictive check (default 20)")
    cal.add_argument("--out", type=Path, help="results directory (default: calibration/<targets>)")
    cal.set_defaults(action=action)


def action(args: argparse.Namespace) -> int:
    """Check the targets, run or continue the calibration, say where the results are."""
    from copsim.studies.calibration import RESULTS_DIR, calibrate
    from copsim import resources
    from copsim.studies.targets import load_targets

    calibration = load_targets(resources.resolve(args.targets, resources.CALIBRATION))
    out = args.out or Path("calibration") / args.targets.stem
    print(f"Calibrating {len(calibration.parameters)} parameters against "
          f"{len(calibration.targets)} targets: {args.population_size} particles, "
          f"{args.generations} generations, tolerance quantile {args.quantile:g}, "
          f"{args.scheduler or f'{args.workers} local process(es)'}.", flush=True)
    try:
        report = calibrate(calibration, out, population_size=args.population_size,
                           generations=args.generations, workers=args.workers,
                           scheduler=args.scheduler, seed=args.seed, ppc_draws=args.ppc_draws,
                           quantile=args.quantile)
    except KeyboardInterrupt:
        print(f"copsim: interrupted; finished generations are kept in {out}/abc.db: run the same "
              "command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    resumed = f" (continued after {report.resumed_from})" if report.resumed_from else ""
    print(f"{report.generations} generations{resumed}, {report.simulations:,} simulations. "
          f"Results in {out / RESULTS_DIR}/: posterior.parquet, diagnostics.csv, "
          "predictive_check.csv, posterior_marginals.png, posterior_pairs.png, predictive_check.png")
    return 0
