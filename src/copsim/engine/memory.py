"""The memory a run needs, estimated before it starts, against what the machine has.

A run holds one row per firm that ever lived (the firm table grows by doubling),
the event log and the agent snapshots, which grow with firms and weeks. The
coefficients are measured (``benchmarks/memory_per_firm.py``: peak resident memory
of a process running the MicroENTRE scenario scaled to 20,000 - 2,000,000 firms over
1 - 10 years, minus the same process after its imports) and rounded up, so the
estimate errs on the side of too much (``copsim run``, which leaves out the end state of
every firm, needs about 100 bytes a firm less).
"""

from __future__ import annotations

import psutil

from copsim.scenario.schema import Scenario
from copsim.errors import ScenarioError

PROCESS_BYTES = 300 * 2**20  # interpreter, NumPy, numba, pandas and the kernels (measured 215 MB)
RUN_BYTES = 150 * 2**20  # what a run holds whatever its size (measured 77 MB at one year)
# measured 500 over one year before business contacts; their arrays add about 70 (10 int32
# slots and a float per row at 1.25 rows a firm, the weekly draws and tie flags)
PER_FIRM_BYTES = 640
PER_FIRM_YEAR_BYTES = 110  # measured 100 more per firm and year (events, snapshots, entries)


def run_bytes(scenario: Scenario) -> int:
    """Estimated peak memory of one process simulating ``scenario``."""
    per_firm = PER_FIRM_BYTES + PER_FIRM_YEAR_BYTES * scenario.run.years
    return int(PROCESS_BYTES + RUN_BYTES + scenario.population * per_firm)


def available_bytes() -> int:
    """Memory the machine can give without swapping (Linux: MemAvailable)."""
    return int(psutil.virtual_memory().available)


def describe_bytes(n: float) -> str:
    """``1.5 GB``, ``300 MB``."""
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def check_fits(need: int, source: str, key: str, what: str) -> None:
    """ScenarioError ``source: key: what needs about X of memory, Y available`` if too much."""
    have = available_bytes()
    if need > have:
        raise ScenarioError(f"{source}: {key}: {what} needs about {describe_bytes(need)} of "
                            f"memory, and {describe_bytes(have)} are available on this machine")
