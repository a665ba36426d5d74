"""``copsim validate``: check scenario files, one line per file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from copsim.errors import CopsimError, error_line

EXIT_INVALID = 2


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``validate`` parser."""
    validate = sub.add_parser("validate", help="check scenario files")
    validate.add_argument("files", nargs="+", type=Path)
    validate.set_defaults(action=action)


def action(args: argparse.Namespace) -> int:
    """Load every file; report each problem on one line; exit 2 if any failed."""
    from copsim.engine.memory import describe_bytes, run_bytes
    from copsim.scenario.io import load_scenario

    failed = 0
    for path in args.files:
        try:
            scenario = load_scenario(path)
        except CopsimError as exc:
            print(error_line(str(exc)), file=sys.stderr)
            failed += 1
        else:
            print(f"{path}: ok ({scenario.name}: {scenario.population:,} firms, "
                  f"{len(scenario.groups)} groups, {scenario.run.years:g} years; a run needs "
                  f"about {describe_bytes(run_bytes(scenario))} of memory)")
    return EXIT_INVALID if failed else 0
