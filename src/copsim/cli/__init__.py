"""The ``copsim`` command: one subcommand per module of this package.

Each command module has ``register(subparsers)``: it adds its parser and sets
``action`` to a function taking the parsed arguments and returning an exit code.

Every subcommand is parse -> load -> engine -> write. User errors (bad files,
bad values, unwritable outputs) print one line and exit with code 2. An
interrupt (Ctrl-C, or SIGTERM) prints one line and exits with code 130 at any
moment, start-up included: the subcommands, and with them NumPy, numba and
pandas, are imported only inside :func:`main`, where the interrupt is handled.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType, ModuleType
from typing import NoReturn

from copsim import resources
from copsim.errors import CopsimError, error_line
from copsim.version import __version__

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
INTERRUPTED = "copsim: interrupted; no outputs were written"


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (``--help`` still shows usage)."""

    def error(self, message: str) -> NoReturn:
        fail(message)


def version_line() -> str:
    """``copsim <version>`` (the package metadata's), with the git commit from a checkout."""
    commit = resources.git_commit()
    return f"copsim {__version__}" + (f" (git {commit})" if commit else "")


class VersionAction(argparse.Action):
    """``--version``: print the version line and exit (git is asked only then)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        print(version_line())
        parser.exit()


def fail(message: str) -> NoReturn:
    """Print one line to stderr and exit with the usage code."""
    print(error_line(message), file=sys.stderr)
    sys.exit(EXIT_USAGE)


def commands() -> tuple[ModuleType, ...]:
    """One module of this package per subcommand, in the order of ``copsim --help``.

    Imported when called, not at start-up, so Ctrl-C while importing is handled.
    """
    from copsim.cli import (
        analyze, calibrate, compare, dashboard, decompose, run, scenarios, sweep, trial,
        validate, workshop,
    )

    return (run, validate, compare, decompose, sweep, analyze, trial, calibrate, scenarios,
            dashboard,
            workshop)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = OneLineParser(
        prog="copsim", description="Communities of practice among micro-entrepreneurs.")
    parser.add_argument("--version", action=VersionAction)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for command in commands():
        command.register(sub)
    return parser


# Code an exception must not interrupt: an import (the exception can break a compiled module's
# initialisation, an ImportError instead of the interrupt, or make Python end by SIGINT whatever
# the exit code) and llvmlite's ctypes callbacks (ctypes prints the exception and drops it).
UNINTERRUPTIBLE = ("<frozen importlib._bootstrap", f"{os.sep}llvmlite{os.sep}")
RECHECK_SECONDS = 0.02


def uninterruptible(frame: FrameType | None) -> bool:
    """Whether ``frame`` runs inside code an exception must not interrupt."""
    while frame is not None:
        if any(marker in frame.f_code.co_filename for marker in UNINTERRUPTIBLE):
            return True
        frame = frame.f_back
    return False


class Interrupts:
    """SIGINT and SIGTERM in copsim: a KeyboardInterrupt, raised once no import or llvmlite
    callback is under way (checked again every 20 ms by SIGALRM); a second signal does not wait.
    In a process forked from copsim that kept the handler (pyabc's sampler workers, whose
    parent terminates them when it stops): end quietly, without a traceback."""

    def __init__(self) -> None:
        self.owner = os.getpid()
        self.pending = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if os.getpid() != self.owner:
            os._exit(128 + signum)
        if signum == signal.SIGALRM and not self.pending:
            return
        if uninterruptible(frame) and not (self.pending and signum != signal.SIGALRM):
            self.pending = True
            signal.setitimer(signal.ITIMER_REAL, RECHECK_SECONDS)
            return
        self.pending = False
        raise KeyboardInterrupt


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt like Ctrl-C, so that a stop request cleans up the same
    way (temporary directories removed, worker processes and servers stopped); neither
    interrupts an import half-way."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals
        return
    handler = Interrupts()
    signums = (signal.SIGINT, signal.SIGTERM, signal.SIGALRM)
    previous = {signum: signal.signal(signum, handler) for signum in signums}
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        for signum, before in previous.items():
            signal.signal(signum, before)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``copsim`` console script."""
    try:
        with terminate_as_interrupt():
            args = build_parser().parse_args(argv)
            return args.action(args)
    except CopsimError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return EXIT_INTERRUPTED
