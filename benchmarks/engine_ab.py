"""Speed of the engine at two git revisions, measured in turn on the same machine.

``python benchmarks/engine_ab.py OLD NEW [--sizes 10000,1000000] [--rounds 3]`` checks out
both revisions as temporary worktrees (no install: each runs with this checkout's
interpreter and the revision's ``src`` first on ``sys.path``), warms each one's kernel
cache, then alternates OLD, NEW, OLD, NEW ... so that load from other work hits both
alike. Each measurement is a fresh process running the default scenario scaled to N
for one simulated year (numba engine, no agent views, the best of 3 runs at sizes
under 500,000). Prints nanoseconds per agent-week per round and the medians, and
writes ``benchmarks/engine_ab.json``. Issue 11 asked that its restructuring (18c62fe
to 035002c) cost no more than 5 % at 10,000 and 1,000,000 firms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from copsim.outputs.files import write_text_atomic

ROOT = Path(__file__).resolve().parents[1]
STORE = Path(__file__).with_name("engine_ab.json")

CHILD = """
import json, sys, time
from copsim.engine.model import CopModel
from copsim.scenario.io import load_scenario, scale_population, with_years
out = {}
for n in map(int, sys.argv[1:]):
    scenario = with_years(scale_population(load_scenario(), n), 1.0)
    best = float("inf")
    for _ in range(3 if n < 500_000 else 1):
        model = CopModel(scenario, seed=1, engine="numba", agent_views=False)
        start = time.perf_counter()
        model.run()
        best = min(best, time.perf_counter() - start)
        model.release()
    out[n] = best / (scenario.population * scenario.run.weeks) * 1e9
print(json.dumps(out))
"""


def measure(src: Path, sizes: list[int]) -> dict[str, float]:
    """ns per agent-week at each size, in a fresh process running the tree at ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run([sys.executable, "-c", CHILD, *map(str, sizes)], env=env,
                          check=True, capture_output=True, text=True, cwd=src.parent)
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[str, list[dict[str, float]]] = {args.old: [], args.new: []}
    with tempfile.TemporaryDirectory() as tmp:
        trees = {}
        for rev in (args.old, args.new):
            trees[rev] = Path(tmp) / rev.replace("/", "_")
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q",
                            str(trees[rev]), rev], check=True)
        try:
            for rev, tree in trees.items():
                measure(tree / "src", [1_000])  # compile into the tree's own cache
            for round_ in range(args.rounds):
                for rev, tree in trees.items():
                    results[rev].append(measure(tree / "src", sizes))
                    print(f"round {round_ + 1} {rev}: {results[rev][-1]}", flush=True)
        finally:
            for tree in trees.values():
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(tree)], check=False)
    medians = {rev: {str(n): round(statistics.median(r[str(n)] for r in runs), 1) for n in sizes}
               for rev, runs in results.items()}
    change = {str(n): round(medians[args.new][str(n)] / medians[args.old][str(n)] - 1, 4)
              for n in sizes}
    record = {"old": args.old, "new": args.new, "ns_per_agent_week_median": medians,
              "relative_change": change, "rounds": results, "load_average": os.getloadavg()}
    write_text_atomic(STORE, json.dumps(record, indent=1) + "\n")
    print(json.dumps({"median": medians, "change": change}, indent=1))


if __name__ == "__main__":
    main()
