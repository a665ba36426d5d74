"""Start-up of the ``copsim`` command: ``copsim --help``, and ``copsim run`` to its first week.

- ``help_s``: wall time of the installed ``copsim --help`` (the console script in
  the interpreter's ``bin/``), process start to exit. Target under 0.5 s.
- ``first_week_s``: from the start of a ``copsim run --quiet`` process (default
  scenario, numba engine, kernel cache warm) to the end of its first simulated week.
  The child process is the real command (``copsim.cli.main``) with one change: the
  progress callback of :func:`copsim.engine.runner.simulate` records the clock at
  week 1 and ends the process there. Target under 1.5 s.
- ``help_cpu_s``, ``first_week_cpu_s``: the CPU seconds the process used for the same
  (user + system). Wall time is what a person waits, but on a machine busy with other
  work it includes waiting for a core; CPU time hardly does, and is what the wall
  time comes down to on an idle machine.
- ``imports_s``: the part of the first week spent importing (``-X importtime`` of
  the main interpreter), and the packages that took most of it.

Each is the median of ``--runs`` runs (default 7) after one unmeasured run that
warms the kernel cache, the file system cache and Python's bytecode cache (the
children run without ``PYTHONDONTWRITEBYTECODE``, as a user's shell does; with it,
every copsim module is compiled from source in every process). Prints a table and
writes ``benchmarks/startup.json``, with the machine's load average around the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from copsim.outputs.files import write_text_atomic

ROOT = Path(__file__).resolve().parents[1]
STORE = Path(__file__).with_suffix(".json")
COPSIM = Path(sys.executable).parent / "copsim"
TARGETS = {"help_s": 0.5, "first_week_s": 1.5}
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
FIRST_WEEK = """
import sys, time
import copsim.engine.runner as runner
from copsim.cli import main

run = runner.simulate

def until_first_week(*args, progress=None, **kwargs):
    def stamp(week):
        print(f"first-week-at {time.time()!r} {time.process_time()!r}", file=sys.stderr,
              flush=True)
        raise SystemExit(0)
    return run(*args, progress=stamp, **kwargs)

runner.simulate = until_first_week
sys.exit(main(sys.argv[1:]))
"""


def children_cpu() -> float:
    """User + system CPU seconds of this process's finished children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def help_seconds() -> tuple[float, float]:
    """Wall and CPU seconds of one ``copsim --help``."""
    cpu, start = children_cpu(), time.perf_counter()
    subprocess.run([str(COPSIM), "--help"], check=True, capture_output=True, cwd=ROOT, env=ENV)
    return time.perf_counter() - start, children_cpu() - cpu


def first_week(out: Path, *options: str) -> tuple[float, float, str]:
    """Wall and CPU seconds from process start to the end of week 1 of ``copsim run``,
    and its stderr."""
    start = time.time()
    done = subprocess.run([sys.executable, *options, "-c", FIRST_WEEK, "run", "--quiet",
                           "--out", str(out)], check=True, capture_output=True, text=True,
                          cwd=ROOT, env=ENV)
    stamp = next(line for line in done.stderr.splitlines() if line.startswith("first-week-at "))
    wall, cpu = map(float, stamp.split()[1:])
    return wall - start, cpu, done.stderr


def import_seconds(stderr: str, top: int = 6) -> tuple[float, dict[str, float]]:
    """Total import time in a ``-X importtime`` log, and the packages that took most of
    it (each module's own time, summed by top-level package). Only the main interpreter
    counts: a helper process it starts (multiprocessing's resource tracker, for tqdm's
    lock) writes its own log, from its own header on, to the same stderr."""
    by_package: dict[str, float] = {}
    headers = 0
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        own, _, name = line.removeprefix("import time:").split("|")
        headers += not own.strip().isdigit()
        if headers > 1:
            break
        if own.strip().isdigit():
            package = name.strip().split(".")[0]
            by_package[package] = by_package.get(package, 0.0) + int(own) / 1e6
    slowest = sorted(by_package.items(), key=lambda kv: -kv[1])[:top]
    return sum(by_package.values()), {k: round(v, 3) for k, v in slowest}


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="measured runs of each (default 7)")
    runs = parser.parse_args().runs
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        help_seconds(), first_week(out)  # warm the kernel, file system and bytecode caches
        helps = [help_seconds() for _ in range(runs)]
        weeks = [first_week(out)[:2] for _ in range(runs)]
        profiled = [import_seconds(first_week(out, "-X", "importtime")[2]) for _ in range(runs)]
    median_import = statistics.median(seconds for seconds, _ in profiled)
    results = {
        "help_s": median([wall for wall, _ in helps]),
        "help_cpu_s": median([cpu for _, cpu in helps]),
        "first_week_s": median([wall for wall, _ in weeks]),
        "first_week_cpu_s": median([cpu for _, cpu in weeks]),
        "imports_s": round(median_import, 3),
        "slowest_imports_s": min(profiled, key=lambda p: abs(p[0] - median_import))[1],
        "runs": runs,
        "help_all_s": [round(wall, 3) for wall, _ in helps],
        "first_week_all_s": [round(wall, 3) for wall, _ in weeks],
        "targets_s": TARGETS,
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cores": os.cpu_count(),
        "machine": f"{platform.processor() or platform.machine()}, Python {platform.python_version()}",
    }
    results["meets_targets"] = all(results[key] < limit for key, limit in TARGETS.items())
    write_text_atomic(STORE, json.dumps(results, indent=2) + "\n")
    print("| measure | wall s (median) | CPU s (median) | target s |\n|---|---|---|---|")
    for key in ("help", "first_week"):
        print(f"| {key} | {results[key + '_s']} | {results[key + '_cpu_s']} | {TARGETS[key + '_s']} |")
    print(f"imports in the first week: {results['imports_s']} s; slowest packages (own time): "
          f"{results['slowest_imports_s']}")
    print(f"load average {results['load_average_1min']} on {results['cores']} cores")
    print("meets both targets" if results["meets_targets"] else "MISSES a target (wall time)")


if __name__ == "__main__":
    main()
