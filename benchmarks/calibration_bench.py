"""Calibration benchmark: simulations per hour on two local workers, and what limits them.

(a) Throughput: ABC-SMC of the shipped targets (calibration/targets.toml: the default
    scenario at 3,000 firms over five years) with pyabc's multicore sampler on 2 local
    worker processes; simulations per hour = pyabc's simulation count / the wall time pyabc
    records for its populations. Read from a calibration's history (``--history DIR``,
    default the shipped ``calibration/microentre``), or ``--run`` runs a fresh small one
    (POPULATION particles, GENERATIONS generations).
(b) Profile of one simulation in one process (cProfile, cumulative seconds): building
    the scenario from the parameter set (validation), building the model (population,
    network: the per-run start-up), running the weeks, collecting the summary; pyabc's
    own share is the populations' wall time not spent in simulations.

Writes ``benchmarks/calibration_results.json`` and prints a markdown summary. The
machine is shared with other work, so the numbers are what it gave at that moment.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import sys
import tempfile
import time
from pathlib import Path

import copsim
from copsim.studies.calibration import TargetModel, calibrate
from copsim.studies.targets import load_targets
from copsim.outputs.files import write_text_atomic

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ROOT / "calibration" / "targets.toml"
POPULATION, GENERATIONS, WORKERS = 20, 2, 2
PHASES = {  # profile entries (function names in cProfile) -> phase
    "scenario": "validate the scenario with the parameter set",
    "__init__": "build the model (population, network, groups)",
    "run": "simulate the weeks",
    "summary": "collect the summary",
}


def history_throughput(out: Path) -> dict:
    """Simulations, and simulations per hour of population wall time, of a calibration in ``out``."""
    import pyabc

    history = pyabc.History(f"sqlite:///{out / 'abc.db'}")
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    wall = float(pops["wall_time"].sum())
    sims = int(pops["samples"].sum())
    return {"history": str(out.resolve().relative_to(ROOT)) if out.resolve().is_relative_to(ROOT) else str(out), "generations": len(pops), "simulations": sims,
            "population_wall_seconds": round(wall, 1), "simulations_per_hour": round(sims / wall * 3600)}


def fresh_throughput() -> dict:
    """A small calibration run now, on WORKERS local processes."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench"
        calibrate(load_targets(TARGETS), out, population_size=POPULATION, generations=GENERATIONS,
                  workers=WORKERS, seed=3, ppc_draws=2)
        return history_throughput(out) | {"population_size": POPULATION}


def profile() -> dict:
    calibration = load_targets(TARGETS)
    model = TargetModel(calibration, root_seed=1)
    values = {k: p.low + 0.5 * (p.high - p.low) for k, p in calibration.priors.items()}
    model.statistics(values, seed=1)  # compile / load the numba cache first
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(model.statistics, values, 2)
    elapsed = time.perf_counter() - start
    stats = pstats.Stats(profiler)
    phases = {}
    for (path, _, name), row in stats.stats.items():  # type: ignore[attr-defined]
        wanted = ((name == "scenario" and path.endswith("targets.py"))
                  or (name in ("__init__", "run", "summary") and path.endswith("engine/model.py")))
        if wanted:
            phases[PHASES[name]] = round(phases.get(PHASES[name], 0.0) + row[3], 3)
    return {"one_simulation_seconds": round(elapsed, 3), "phases_seconds": phases}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=Path, default=ROOT / "calibration" / "microentre")
    parser.add_argument("--run", action="store_true", help="run a fresh small calibration instead")
    args = parser.parse_args()
    rate = fresh_throughput() if args.run else history_throughput(args.history)
    result = {"copsim_version": copsim.__version__, "python": platform.python_version(),
              "load_average": os.getloadavg(), "workers": WORKERS, "throughput": rate,
              "profile": profile()}
    path = ROOT / "benchmarks" / "calibration_results.json"
    write_text_atomic(path, json.dumps(result, indent=2) + "\n")
    t, p = result["throughput"], result["profile"]
    print(f"{t['simulations']} simulations in {t['population_wall_seconds']} s of populations on "
          f"{WORKERS} workers: {t['simulations_per_hour']:,} simulations per hour "
          f"(load average {result['load_average'][0]:.1f})")
    print(f"one simulation: {p['one_simulation_seconds']} s; " +
          ", ".join(f"{k}: {v} s" for k, v in p["phases_seconds"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
