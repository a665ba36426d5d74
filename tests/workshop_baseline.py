"""Fingerprints of two runs without workshop decisions, stored so that the engine's
workshop hooks provably change nothing when nobody decides (test_workshop_engine.py).

``tests/data/workshop_engine_baseline.json`` holds, for each case, a digest of every
weekly output, every event column and the end state of the firm, tie and venture
tables: the default scenario, seed 5, 60 weeks, numba; and a small two-group scenario
with the plain-Python engine. They were first made with the tree before the hooks were
added. A change of results is made on purpose only, and refreshed with::

    .venv/bin/python tests/workshop_baseline.py --refresh

The commit that refreshes them says why the numbers moved.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from baselines import Digests, check_or_refresh
from copsim import CopModel
from copsim.scenario.io import load_scenario
from copsim.scenario.library import SCENARIO_DIR

STORE = Path(__file__).parent / "data" / "workshop_engine_baseline.json"
SMALL = """\
extends = "{base}"
name = "engine_small"
[run]
years = 0.6
[[regions]]
name = "Oulu"
firms = 300
sparsity = 0.4
[[regions]]
name = "Raahe"
firms = 200
sparsity = 0.6
[[groups]]
name = "Oulu"
region = "Oulu"
start_week = 0
[[groups]]
name = "Raahe"
region = "Raahe"
start_week = 2
cadence_weeks = 3
"""


def digest(values: Any) -> str:
    a = np.ascontiguousarray(np.asarray(values))
    return hashlib.sha256(str(a.dtype).encode() + str(a.shape).encode() + a.tobytes()).hexdigest()[:20]


def fingerprint(model: CopModel) -> Digests:
    """Digests of every weekly output, event column and state column of a run."""
    out = {}
    ts = model.timeseries_frame()
    for c in ts.columns:
        out[f"timeseries.{c}"] = digest(ts[c].to_numpy())
    ev = model.events.to_frame()
    for c in ev.columns:
        col = ev[c]
        out[f"events.{c}"] = digest(col.cat.codes.to_numpy() if hasattr(col, "cat") else col.to_numpy())
    for name, table in (("firms", model.firms), ("ties", model.ties), ("ventures", model.ventures)):
        for c in table.COLUMNS:
            out[f"{name}.{c}"] = digest(getattr(table, c)[: table.n])
    return out


def default_run() -> CopModel:
    """The default scenario, seed 5, 60 weeks, numba engine."""
    model = CopModel(seed=5)
    model.run(60)
    return model


def small_python_run() -> CopModel:
    """Two groups in two regions (500 firms, 0.6 years), seed 11, plain-Python engine."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "small.toml"
        path.write_text(SMALL.replace("{base}", (SCENARIO_DIR / "microentre.toml").as_posix()),
                        encoding="utf-8")
        scenario = load_scenario(path)
    model = CopModel(scenario, seed=11, engine="python")
    model.run()
    return model


CASES: dict[str, Callable[[], CopModel]] = {
    "default_seed5_60w": default_run,
    "small_python_seed11": small_python_run,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refresh", action="store_true", help="rewrite the stored fingerprints")
    args = parser.parse_args(argv)
    cases = [(key, lambda run=run: fingerprint(run())) for key, run in CASES.items()]
    return check_or_refresh(STORE, cases, args.refresh)


if __name__ == "__main__":
    sys.exit(main())
