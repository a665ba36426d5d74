"""The memory a run needs, estimated before it starts, against what the machine has.

A run holds one row per firm that will ever live (the firm table is sized for the
run's expected entrants at the start: :func:`copsim.engine.population.expected_rows`),
with its contact slots, scratch columns and a week's temporaries; the event log, which
follows every entry and exit up to ``run.events_max_firms`` firms (members and a sample
above), grows with firms and years; snapshots are bounded (members and a sample above
``run.snapshot_max_firms``). The coefficients are measured
(``benchmarks/memory_per_firm.py``: peak resident memory of a process running the
MicroENTRE scenario scaled to 20,000 - 2,000,000 firms over 1 - 10 years, minus the same
process after its imports) and rounded up, so the estimate errs on the side of too much.
"""

from __future__ import annotations

import psutil

from copsim.engine.population import expected_rows
from copsim.scenario.schema import Scenario
from copsim.errors import ScenarioError

PROCESS_BYTES = 300 * 2**20  # interpreter, NumPy, numba, pandas and the kernels (measured 215-225 MB)
RUN_BYTES = 150 * 2**20  # what a run holds whatever its size (measured about 90 MB)
# measured 560-610 a row (1.07 to 1.73 rows a firm over 1 to 10 years) with the end state
# of every firm built at the end, about 100 a row, which comparisons, trials and sweeps
# build and `copsim run` does not
PER_ROW_BYTES = 520
FIRM_TABLE_ROW_BYTES = 100
PER_LOGGED_FIRM_YEAR_BYTES = 30  # measured 5-13 more per firm and year while every entry and exit is logged


def run_bytes(scenario: Scenario, *, firms: bool = True) -> int:
    """Estimated peak memory of one process simulating ``scenario`` (``firms``: building
    the end state of every firm, as every client but ``copsim run`` does)."""
    per_row = PER_ROW_BYTES + (FIRM_TABLE_ROW_BYTES if firms else 0)
    logged = min(scenario.population, scenario.run.events_max_firms) * scenario.run.years
    return int(PROCESS_BYTES + RUN_BYTES + expected_rows(scenario) * per_row
               + logged * PER_LOGGED_FIRM_YEAR_BYTES)


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
