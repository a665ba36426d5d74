"""``copsim analyze``: sensitivity indices, screening or grid means of a sweep."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``analyze`` parser."""
    analyze = sub.add_parser("analyze", help="analyse a sweep directory into DIR/analysis/")
    analyze.add_argument("directory", type=Path, help="output directory of copsim sweep")
    analyze.add_argument("--quiet", action="store_true", help="print nothing")
    analyze.set_defaults(action=action)


def action(args: argparse.Namespace) -> int:
    """Analyse, write DIR/analysis/, print the summary."""
    from copsim.studies.analysis import analyze

    analysis = analyze(args.directory)
    if not args.quiet:
        print(analysis.summary)
        print(f"\nWritten to {args.directory}/analysis/: {', '.join(analysis.files)}")
    return 0
