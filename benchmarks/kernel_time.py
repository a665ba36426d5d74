"""How much of a small run is compiled kernel work, against issue 15's small-run targets.

The per-week fixed cost of a run (Python between the kernels, allocation, dispatch) is
what fusing kernels or compiling a whole week could take away; the work inside the
compiled kernels is not, short of kernels that do less per firm. This script times
both, in one process (``python benchmarks/kernel_time.py``), for the three small runs
the targets name:

- 1,000 firms for one year, groups matched to the Mesa reference (as ``bench.py``):
  target a fiftieth of the reference's time, measured here (best of 3);
- 10,000 firms (the default scenario scaled) for one year: target 5x the bandwidth floor
  (``bench.py``'s: copying the state once a week);
- the default scenario's 5-year simulation: target 0.15 s.

Each copsim run is the best of ``REPEATS`` (by the run's time, 1 kernel thread, warm),
timed with the wall clock on a quiet machine, every kernel call through the model's
kernel registry timed on the way (the kernels run on this thread). Of a call's time,
what calling costs before the kernel works (numba typing and unboxing the arguments) is
measured by passing the same arguments to a compiled function that does nothing; the
rest is the kernels' work, the part a whole compiled week would still do. The weekly
uniforms are drawn by NumPy outside the kernels and count as outside them. Prints a
table and writes ``benchmarks/kernel_time.json``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import numba

from copsim.engine.model import CopModel
from copsim.outputs.files import write_text_atomic
from copsim.scenario.io import load_scenario, scale_population, with_years
from copsim.scenario.schema import Scenario

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench import (  # noqa: E402  (a script beside this one)
    bandwidth_floor, matched_scenario, reference_groups, state_bytes,
)
from mesa_reference import run_reference  # noqa: E402

REPEATS = 5
MESA_REPEATS = 3
DEFAULT_TARGET_S = 0.15
FLOOR_MULTIPLE = 5
MESA_MULTIPLE = 50


@cache
def no_work(arity: int) -> Any:
    """A compiled function of ``arity`` arguments that does nothing: calling it costs what
    calling a kernel costs before the kernel does anything (numba typing and unboxing the
    arguments), which one compiled week would not pay."""
    names = ", ".join(f"a{k}" for k in range(arity))
    scope: dict[str, Any] = {}
    exec(f"def no_work({names}):\n    return 0", scope)  # noqa: S102  (a fixed template)
    return numba.njit(cache=False)(scope["no_work"])


class KernelClock:
    """A model's kernel registry that times every call: seconds and calls per kernel, and
    the time of the same arguments passed to :func:`no_work` after each call (``dispatch``,
    which the run's time leaves out)."""

    def __init__(self, kernels: Any) -> None:
        self._kernels = kernels
        self.seconds: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.dispatch = 0.0

    def __getattr__(self, name: str) -> Any:
        kernel = getattr(self._kernels, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return kernel(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start
                self.calls[name] += 1
                arguments = (*args, *kwargs.values())
                start = time.perf_counter()
                no_work(len(arguments))(*arguments)
                self.dispatch += time.perf_counter() - start

        return timed


def clocked_run(scenario: Scenario) -> tuple[float, KernelClock, CopModel]:
    """One run of ``scenario`` (seed 1, 1 kernel thread): its seconds and its kernel clock."""
    model = CopModel(scenario, seed=1, agent_views=False)
    clock = KernelClock(model.kernels)
    model.kernels = clock
    start = time.perf_counter()
    model.run()
    return time.perf_counter() - start - clock.dispatch, clock, model


def best_run(scenario: Scenario) -> tuple[float, KernelClock, CopModel]:
    """The fastest of ``REPEATS`` runs (the machine's noise only ever adds time)."""
    clocked_run(scenario)  # warm this process's dispatchers
    return min((clocked_run(scenario) for _ in range(REPEATS)), key=lambda run: run[0])


def mesa_seconds(scenario: Scenario, n: int) -> float:
    """The Mesa reference's best time of ``MESA_REPEATS`` over the same weeks."""
    best = float("inf")
    for _ in range(MESA_REPEATS):
        start = time.perf_counter()
        run_reference(scenario, n, reference_groups(n), scenario.run.weeks)
        best = min(best, time.perf_counter() - start)
    return best


def row(case: str, target: str, target_s: float, scenario: Scenario) -> dict[str, Any]:
    """Run ``scenario``; its time, its kernels' time and what is left for the target."""
    run_s, clock, _ = best_run(scenario)
    kernels_s = sum(clock.seconds.values())
    top = sorted(clock.seconds.items(), key=lambda kv: -kv[1])[:5]
    out = {
        "case": case, "firms": scenario.population, "weeks": scenario.run.weeks,
        "target": target, "target_s": round(target_s, 4), "run_s": round(run_s, 4),
        "kernels_s": round(kernels_s, 4), "kernel_calls": sum(clock.calls.values()),
        "dispatch_s": round(clock.dispatch, 4), "work_s": round(kernels_s - clock.dispatch, 4),
        "rest_s": round(run_s - kernels_s, 4),
        "work_over_target": round((kernels_s - clock.dispatch) / target_s, 2),
        "top_kernels": {name: {"s": round(s, 4), "calls": clock.calls[name]} for name, s in top},
    }
    print(f"  {case}: run {run_s:.4f} s, inside kernels {kernels_s:.4f} s "
          f"({out['kernel_calls']} calls, {clock.dispatch:.4f} s of them calling), target "
          f"{target_s:.4f} s: the kernels' work alone is {out['work_over_target']}x the target",
          flush=True)
    return out


def markdown(rows: list[dict[str, Any]]) -> str:
    """The table of the README's performance section."""
    lines = ["| run | target | target s | run s | outside kernels s | kernel calls | calling "
             "them s | kernels' work s | work / target |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['target']} | {r['target_s']:.4f} | {r['run_s']:.4f} | "
                     f"{r['rest_s']:.4f} | {r['kernel_calls']:,} | {r['dispatch_s']:.4f} | "
                     f"{r['work_s']:.4f} | {r['work_over_target']}x |")
    return "\n".join(lines) + "\n"


def main() -> None:
    one_k = with_years(matched_scenario(1_000), 1.0)
    print("Mesa reference at 1,000 firms ...", flush=True)
    mesa_1k = mesa_seconds(one_k, 1_000)
    ten_k = with_years(scale_population(load_scenario(), 10_000), 1.0)
    _, _, model = clocked_run(ten_k)
    floor_10k = bandwidth_floor(state_bytes(model)) * ten_k.run.weeks
    model.release()
    rows = [
        row("1,000 firms, 1 year (matched groups)",
            f"1/{MESA_MULTIPLE} of Mesa ({mesa_1k:.3f} s)", mesa_1k / MESA_MULTIPLE, one_k),
        row("10,000 firms, 1 year", f"{FLOOR_MULTIPLE}x the floor ({floor_10k:.4f} s)",
            FLOOR_MULTIPLE * floor_10k, ten_k),
        row("default scenario, 5 years", f"{DEFAULT_TARGET_S} s", DEFAULT_TARGET_S,
            load_scenario()),
    ]
    write_text_atomic(HERE / "kernel_time.json", json.dumps({"rows": rows, "repeats": REPEATS,
                                                            "load": os.getloadavg()[0]}, indent=2) + "\n")
    print(markdown(rows))


if __name__ == "__main__":
    main()
