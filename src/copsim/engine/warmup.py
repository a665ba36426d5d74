"""Compile every numba kernel into the on-disk cache (``python -m copsim.engine.warmup``).

Run once by ``make setup`` so that the first real run does not pay the
compilation (about ten seconds on a 2-core machine); numba's cache then serves
every later process. A tiny model exercises every kernel with the argument
types real runs use.
"""

from __future__ import annotations

import time

from copsim.engine.model import CopModel
from copsim.scenario.io import load_scenario, scale_population, with_years


def compile_kernels() -> float:
    """Run a tiny model through meetings and ventures; return the seconds it took."""
    start = time.perf_counter()
    base = with_years(scale_population(load_scenario(), 200), 0.3)
    data = base.model_dump()
    data["groups"] = [{**data["groups"][0], "start_week": 0, "initial_members": 10}]
    model = CopModel(base.model_validate(data), seed=0)
    model.run()
    model.release()
    return time.perf_counter() - start


if __name__ == "__main__":
    print(f"copsim: kernels compiled and cached in {compile_kernels():.1f} s")
