"""Peak memory of one run against its size: the coefficients of ``copsim.engine.memory``.

Each case runs in a fresh process: the MicroENTRE scenario scaled to a number of
firms and years, simulated once; the peak resident memory (``ru_maxrss``) after the
run minus the same process after its imports is what the run needed. Results go to
``benchmarks/memory_results.json``; ``python benchmarks/memory_per_firm.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from copsim.outputs.files import write_text_atomic

CASES = [(20_000, 1), (100_000, 1), (400_000, 1), (1_000_000, 1), (2_000_000, 1),
         (200_000, 5), (1_000_000, 5), (2_000_000, 5), (500_000, 10), (1_500_000, 10)]
RESULTS = Path(__file__).with_name("memory_results.json")
CHILD = """
import json, resource, sys
from copsim.engine.memory import run_bytes
from copsim.engine.runner import simulate
from copsim.scenario.io import load_scenario, scale_population, with_years
firms, years = int(sys.argv[1]), float(sys.argv[2])
scenario = with_years(scale_population(load_scenario("microentre"), firms), years)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
simulate(scenario, seed=1)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"firms": firms, "years": years, "process_bytes": before,
                  "run_bytes": after - before, "estimate_bytes": run_bytes(scenario)}))
"""


def main() -> None:
    rows = []
    for firms, years in CASES:
        out = subprocess.run([sys.executable, "-c", CHILD, str(firms), str(years)],
                             capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(out))
        row = rows[-1]
        print(f"{firms:>9,} firms {years:>2} years: process {row['process_bytes'] / 2**20:.0f} MB, "
              f"run {row['run_bytes'] / 2**20:.0f} MB ({row['run_bytes'] / firms:.0f} B/firm), "
              f"estimate {row['estimate_bytes'] / 2**20:.0f} MB in all", flush=True)
    write_text_atomic(RESULTS, json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
