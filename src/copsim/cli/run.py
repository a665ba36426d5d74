"""``copsim run``: simulate one scenario, write its outputs, print a summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from copsim.engine.kernels import ENGINES
from copsim.engine.rows import all_cores
from copsim.scenario.library import DEFAULT_SCENARIO, resolve_scenario_path


def non_negative_int(text: str) -> int:
    """An argparse type for seeds and counts."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def positive_int(text: str) -> int:
    """An argparse type for counts of at least 1."""
    if not non_negative_int(text):
        raise argparse.ArgumentTypeError("0 is not at least 1")
    return int(text)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``run`` parser."""
    run = sub.add_parser("run", help="run one scenario and write its outputs")
    run.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO,
                     help="scenario file or name in scenarios/ (default: microentre)")
    run.add_argument("--seed", type=non_negative_int, default=1, help="random seed (default 1)")
    run.add_argument("--years", type=float, help="override the horizon in years")
    run.add_argument("--population", type=int, help="scale the regions to this many firms")
    run.add_argument("--engine", choices=ENGINES, default="numba", help="kernel engine")
    run.add_argument("--threads", type=positive_int, default=all_cores(),
                     help="kernel threads, same results on any number (default: all cores, "
                          f"{all_cores()} here)")
    run.add_argument("--out", type=Path, help="output directory (default: runs/<scenario>-seed<N>)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a scenario value, e.g. --set learning.rate=0.2")
    run.add_argument("--shock", help="shock overlay: a name in scenarios/shocks/ or a file")
    run.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    run.set_defaults(action=action)


def action(args: argparse.Namespace) -> int:
    """Simulate, write the outputs, print a summary."""
    from copsim.api import resolve_scenario, simulate
    from copsim.engine.memory import check_fits, run_bytes
    from copsim.engine.runner import RUN_OUTPUT, describe

    scenario = resolve_scenario(args.scenario, args.set, years=args.years,
                                population=args.population, shock=args.shock)
    if args.population is not None and scenario.population != args.population:
        print(f"copsim: note: --population {args.population}: simulating "
              f"{scenario.population:,} firms, at least one in each of the scenario's "
              f"{len(scenario.regions)} regions", file=sys.stderr)
    check_fits(run_bytes(scenario, firms=False), str(resolve_scenario_path(args.scenario)),
               "regions" if args.population is None else "--population",
               f"a run of {scenario.population:,} firms over {scenario.run.years:g} years")
    out = args.out or Path("runs") / f"{scenario.name}-seed{args.seed}"
    result = simulate(scenario, seed=args.seed, engine=args.engine, out=out, threads=args.threads,
                      progress=not args.quiet, firms=False)  # no file holds the firm table
    if not args.quiet:
        print(describe(result.summary))
        print(f"Outputs in {out}/: {', '.join(RUN_OUTPUT.files)}")
    return 0
