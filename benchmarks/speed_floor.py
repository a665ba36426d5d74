"""Speed floor of the core engine: the default scenario, five years, numba engine.

Measures wall time of the whole command ``copsim run --quiet`` (start-up,
imports, numba cache load, simulation, writing every output) after the one-off
compilation that ``make setup`` does (``python -m copsim.engine.warmup``, timed too), the
same command with an empty numba cache (compiling on the way), and the
simulation alone in-process. Prints a table and writes
``benchmarks/speed_floor.json``. Target: the command under 10 s.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import copsim
from copsim.engine.runner import simulate
from copsim.scenario.io import load_scenario
from copsim.outputs.files import write_text_atomic

ROOT = Path(__file__).resolve().parents[1]
KERNEL_CACHE = Path(copsim.__file__).parent / "engine" / "kernels" / "__pycache__"


def clear_numba_cache() -> None:
    """Remove numba's cached machine code so the next process compiles."""
    for pattern in ("*.nbi", "*.nbc"):
        for path in KERNEL_CACHE.glob(pattern):
            path.unlink()


def time_command(out: Path) -> float:
    """Wall seconds of one ``copsim run`` of the default scenario."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "copsim.cli", "run", "--quiet", "--out", str(out)],
                   check=True, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    scenario = load_scenario()
    with tempfile.TemporaryDirectory() as tmp:
        clear_numba_cache()
        cold = time_command(Path(tmp) / "cold")
        clear_numba_cache()
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "copsim.engine.warmup"], check=True, cwd=ROOT)
        compile_once = time.perf_counter() - start
        warm = min(time_command(Path(tmp) / f"warm{i}") for i in range(3))
    simulate(scenario, seed=1)  # warm-up in this process
    start = time.perf_counter()
    simulate(scenario, seed=1)
    in_process = time.perf_counter() - start
    agent_weeks = scenario.population * scenario.run.weeks
    results = {
        "scenario": scenario.name, "firms": scenario.population, "weeks": scenario.run.weeks,
        "setup_compile_s": round(compile_once, 2),
        "command_s": round(warm, 2), "command_without_setup_compile_s": round(cold, 2),
        "simulation_only_s": round(in_process, 2),
        "agent_weeks_per_s": round(agent_weeks / in_process),
        "target_s": 10.0, "meets_target": warm < 10.0,
        "machine": f"{platform.processor() or platform.machine()}, Python {platform.python_version()}",
        "copsim_version": copsim.__version__,
    }
    write_text_atomic(ROOT / "benchmarks" / "speed_floor.json", json.dumps(results, indent=2) + "\n")
    print("| measure | seconds |\n|---|---|")
    for key in ("command_s", "simulation_only_s", "setup_compile_s",
                "command_without_setup_compile_s"):
        print(f"| {key} | {results[key]} |")
    print(f"agent-weeks per second (simulation only): {results['agent_weeks_per_s']:,}")
    print("meets the 10 s floor" if results["meets_target"] else "MISSES the 10 s floor")


if __name__ == "__main__":
    main()
