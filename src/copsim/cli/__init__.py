"""The ``copsim`` command: one subcommand per module of this package.

Each command module has ``register(subparsers)``: it adds its parser and sets
``action`` to a function taking the parsed arguments and returning an exit code.

Every subcommand is parse -> load -> engine -> write. User errors (bad files,
bad values, unwritable outputs) print one line and exit with code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from copsim.cli import analyze, compare, dashboard, run, sweep, trial, validate, workshop
from copsim.errors import CopsimError, error_line

EXIT_USAGE = 2
COMMANDS = (run, validate, compare, sweep, analyze, trial, dashboard, workshop)


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (``--help`` still shows usage)."""

    def error(self, message: str) -> NoReturn:
        fail(message)


def fail(message: str) -> NoReturn:
    """Print one line to stderr and exit with the usage code."""
    print(error_line(message), file=sys.stderr)
    sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = OneLineParser(
        prog="copsim", description="Communities of practice among micro-entrepreneurs.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``copsim`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.action(args)
    except CopsimError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        print("copsim: interrupted; no outputs were written", file=sys.stderr)
        return 130

