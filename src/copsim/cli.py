"""The ``copsim`` command: validate and run scenarios.

Every subcommand is parse -> load -> engine -> write. User errors (bad files,
bad values, unwritable outputs) print one line and exit with code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from copsim.errors import CopsimError
from copsim.kernels import ENGINES
from copsim.scenario_io import DEFAULT_SCENARIO, load_scenario, scale_population, with_years

EXIT_USAGE = 2


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="copsim", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one scenario and write its outputs")
    run.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO,
                     help="scenario file or name in scenarios/ (default: microentre)")
    run.add_argument("--seed", type=_positive_int, default=1, help="random seed (default 1)")
    run.add_argument("--years", type=float, help="override the horizon in years")
    run.add_argument("--population", type=int, help="scale the regions to this many firms")
    run.add_argument("--engine", choices=ENGINES, default="numba", help="kernel engine")
    run.add_argument("--out", type=Path, help="output directory (default: runs/<scenario>-seed<N>)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a scenario value, e.g. --set learning.rate=0.2")
    run.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    run.set_defaults(action=cmd_run)

    validate = sub.add_parser("validate", help="check scenario files")
    validate.add_argument("files", nargs="+", type=Path)
    validate.set_defaults(action=cmd_validate)
    return parser


def cmd_run(args: argparse.Namespace) -> int:
    """``copsim run``: simulate, write the outputs, print a summary."""
    from tqdm import tqdm

    from copsim.results import check_writable
    from copsim.runner import describe, simulate, write_run

    scenario = load_scenario(args.scenario, args.set)
    if args.years is not None:
        scenario = with_years(scenario, args.years)
    if args.population is not None:
        scenario = scale_population(scenario, args.population)
    out = args.out or Path("runs") / f"{scenario.name}-seed{args.seed}"
    check_writable(out)
    bar = tqdm(total=scenario.run.weeks, unit="week", disable=args.quiet, desc=scenario.name)
    with bar:
        result = simulate(scenario, seed=args.seed, engine=args.engine,
                          progress=lambda week: bar.update(1))
    write_run(result, out)
    if not args.quiet:
        print(describe(result.summary))
        print(f"Outputs in {out}/: timeseries.parquet, events.parquet, agents.parquet, "
              "summary.json, run.json, timeseries.png")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """``copsim validate``: load every file; report each problem on one line."""
    failed = 0
    for path in args.files:
        try:
            scenario = load_scenario(path)
        except CopsimError as exc:
            print(f"copsim: error: {exc}", file=sys.stderr)
            failed += 1
        else:
            print(f"{path}: ok ({scenario.name}: {scenario.population:,} firms, "
                  f"{len(scenario.groups)} groups, {scenario.run.years:g} years)")
    return EXIT_USAGE if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``copsim`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.action(args)
    except CopsimError as exc:
        print(f"copsim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("copsim: interrupted; no outputs were written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
