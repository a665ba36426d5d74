"""Digests of whole runs, stored so that a refactoring provably changes no result.

``tests/data/run_digests.json`` holds, for each case (scenario x seed x engine), a
SHA-256 of every output a run produces: time series, event log, agent snapshots and
summary. ``test_run_digests.py`` recomputes them. A change of results is made on
purpose only, and refreshed with::

    .venv/bin/python tests/run_digests.py --refresh [--engine numba|python]

The commit that refreshes them says why the numbers moved.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from baselines import check_or_refresh

STORE = Path(__file__).parent / "data" / "run_digests.json"
SCENARIOS = ("microentre", "ekollega", "national_coordinator")
SEEDS = (1, 2)
ENGINES = ("numba", "python")
PYTHON_YEARS = 1.0  # the plain-Python engine runs one year of each scenario (keeps it quick)


def case_key(scenario: str, seed: int, engine: str) -> str:
    return f"{scenario}/seed{seed}/{engine}"


def frame_digest(frame: pd.DataFrame) -> str:
    """Hash of a frame's columns, dtypes and every value, independent of the index."""
    h = hashlib.sha256()
    h.update(json.dumps([[c, str(t)] for c, t in frame.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


def summary_digest(summary: dict[str, Any]) -> str:
    text = json.dumps(summary, sort_keys=True, default=lambda v: v.item())
    return hashlib.sha256(text.encode()).hexdigest()


def run_case(scenario: str, seed: int, engine: str) -> dict[str, str]:
    """Run one case and digest each of its outputs."""
    from copsim import load_scenario
    from copsim.engine.runner import simulate
    from copsim.scenario.io import with_years

    spec = load_scenario(scenario)
    if engine == "python":
        spec = with_years(spec, min(PYTHON_YEARS, spec.run.years))
    result = simulate(spec, seed=seed, engine=engine)
    return {
        "timeseries": frame_digest(result.timeseries),
        "events": frame_digest(result.events),
        "agents": frame_digest(result.agents),
        "firms": frame_digest(result.firms),
        "summary": summary_digest(result.summary),
    }


def all_cases(engines: tuple[str, ...] = ENGINES) -> list[tuple[str, int, str]]:
    return [(s, seed, e) for e in engines for s in SCENARIOS for seed in SEEDS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refresh", action="store_true", help="rewrite the stored digests")
    parser.add_argument("--engine", choices=ENGINES, action="append",
                        help="only these engines (default: both)")
    args = parser.parse_args(argv)
    cases = [(case_key(*case), partial(run_case, *case))
             for case in all_cases(tuple(args.engine or ENGINES))]
    return check_or_refresh(STORE, cases, args.refresh)


if __name__ == "__main__":
    sys.exit(main())
