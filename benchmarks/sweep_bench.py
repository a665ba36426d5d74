"""Sweep benchmark: parallel efficiency, the Dask path's overhead, memory over 2,000 runs.

(a) The same runs of about one second (the default scenario, five years) with one
    and with two local worker processes: efficiency = time(1) / time(2); target 1.7.
    Each timing is the fastest of three rounds, interleaved, since the machine is shared.
(b) The same runs on Dask (``dask scheduler`` and ``dask worker --nworkers 2
    --nthreads 1`` in their own processes, as on a cluster; workers warmed like
    long-lived cluster workers) against two local processes: overhead =
    time(Dask) / time(local) - 1; target under 5 %. Measured with the worker setting
    the README recommends (no ``MALLOC_TRIM_THRESHOLD_``) and with Dask's defaults.
(c) Resident memory of the sweep process and of its workers, sampled every half
    second over 2,000 short runs (400 firms, half a year), on local processes
    (recycled every ``jobs.JOBS_PER_WORKER`` runs) and on Dask (never recycled):
    flat means finished models are released.

Writes ``benchmarks/sweep_results.json`` and prints a markdown table. Timings are
wall seconds of ``run_sweep`` (loading, running, writing every part file,
consolidating); the fork server's one-off start (a first tiny sweep) is excluded
from (a) and reported.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

import copsim
from copsim.studies.experiments import Plan, load_experiment
from copsim.studies.jobs import JOBS_PER_WORKER
from copsim.studies.sweep import run_sweep
from copsim.outputs.files import write_text_atomic

ROOT = Path(__file__).resolve().parents[1]
SECOND_RUNS = 16
ROUNDS = 3  # each timing is the fastest of three, interleaved
MEMORY_RUNS = 2000

EXPERIMENT = """\
name = "{name}"
base = "{base}"
design = "grid"
replicates = {replicates}
seed = 1
{settings}
[[factors]]
key = "learning.rate"
values = [0.1]

[[outcomes]]
name = "participants_total"
"""


def plan(directory: Path, name: str, replicates: int, settings: str = "") -> Plan:
    """A one-point grid with ``replicates`` runs (each its own seed) of the default scenario."""
    path = directory / f"{name}.toml"
    path.write_text(EXPERIMENT.format(name=name, base=(ROOT / "scenarios" / "microentre.toml").as_posix(),
                                      replicates=replicates, settings=settings))
    return load_experiment(path)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def processes_of_sweep() -> list[psutil.Process]:
    """This process's descendants that run jobs (fork-server children, Dask workers)."""
    found = []
    try:
        me = psutil.Process()
        descendants, direct = me.children(recursive=True), {c.pid for c in me.children()}
    except psutil.Error:  # one ended while being listed: skip this sample
        return found
    for p in descendants:
        try:
            command = " ".join(p.cmdline())
            server = p.pid in direct and any(w in command for w in ("forkserver", "scheduler"))
            if p.children() == [] and "resource_tracker" not in command and not server:
                found.append(p)
        except psutil.Error:
            continue
    return found


@contextmanager
def sampled_memory(workers: Callable[[], list[psutil.Process]]) -> Iterator[list[dict[str, float]]]:
    """Sample (seconds, parent MB, worker MB total, largest worker MB) every half second."""
    samples: list[dict[str, float]] = []
    stop = threading.Event()
    start = time.perf_counter()
    me = psutil.Process()

    def sample() -> None:
        while not stop.wait(0.5):
            rss = []
            for p in workers():
                try:
                    rss.append(p.memory_info().rss / 2**20)
                except psutil.Error:
                    pass
            samples.append({"s": round(time.perf_counter() - start, 1),
                            "parent_mb": round(me.memory_info().rss / 2**20, 1),
                            "workers_mb": round(sum(rss), 1), "largest_worker_mb": round(max(rss, default=0), 1)})

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join()


def memory_summary(samples: list[dict[str, float]]) -> dict[str, float]:
    """First and last tenth of the run (means) and the peak, for parent and largest worker."""
    tenth = max(1, len(samples) // 10)
    def mean(part: list[dict[str, float]], key: str) -> float:
        return round(sum(s[key] for s in part) / len(part), 1)
    return {f"{key}_{where}": mean(part, key)
            for key in ("parent_mb", "largest_worker_mb")
            for where, part in (("first_tenth", samples[:tenth]), ("last_tenth", samples[-tenth:]))} | {
        "parent_mb_peak": max(s["parent_mb"] for s in samples),
        "largest_worker_mb_peak": max(s["largest_worker_mb"] for s in samples),
        "samples": len(samples)}


def warm_dask_worker() -> None:
    """What a long-lived cluster worker has done before: import copsim, compile the kernels."""
    import copsim.engine.runner  # noqa: F401
    from copsim.engine.warmup import compile_kernels

    compile_kernels()


# The Dask setting the README recommends for copsim workers: no MALLOC_TRIM_THRESHOLD_
# (Dask's nanny sets it to 64 KiB, which turns off glibc's dynamic mmap threshold, so
# every large array is mapped and unmapped again: copsim runs ~20 % slower).
COPSIM_DASK_YAML = "distributed:\n  nanny:\n    pre-spawn-environ:\n      MALLOC_TRIM_THRESHOLD_: null\n"


@contextmanager
def dask_cluster(tmp: Path, name: str, copsim_setting: bool) -> Iterator[object]:
    """``dask scheduler`` and ``dask worker --nworkers 2 --nthreads 1`` as separate processes
    (as on a cluster), a client connected, the workers warmed."""
    from distributed import Client

    dask = str(Path(sys.executable).parent / "dask")
    env = dict(os.environ)
    if copsim_setting:
        (tmp / name).mkdir()
        (tmp / name / "copsim.yaml").write_text(COPSIM_DASK_YAML)
        env["DASK_CONFIG"] = str(tmp / name)
    file = tmp / f"{name}.json"
    processes = [subprocess.Popen([dask, "scheduler", "--scheduler-file", str(file), "--port", "0",
                                   "--no-dashboard"], env=env, stderr=subprocess.DEVNULL)]
    try:
        while not file.exists():
            time.sleep(0.1)
        processes.append(subprocess.Popen(
            [dask, "worker", "--scheduler-file", str(file), "--nworkers", "2", "--nthreads", "1",
             "--no-dashboard"], env=env, stderr=subprocess.DEVNULL))
        with Client(scheduler_file=str(file)) as client:
            client.wait_for_workers(2)
            client.run(warm_dask_worker)
            yield client
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(30)


def wall_mean(out: Path) -> float:
    """Mean seconds of a run inside its worker (timings.parquet)."""
    import pandas as pd

    return round(float(pd.read_parquet(out / "timings.parquet")["wall_s"].mean()), 3)


def best(times: list[float]) -> dict[str, object]:
    return {"best_s": round(min(times), 2), "all_s": [round(t, 2) for t in times]}


def main() -> None:
    from copsim.cli.sweep import ClusterWindow

    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        second = plan(tmp, "second", SECOND_RUNS)
        warm = plan(tmp, "warm", 2, 'population = 400\nyears = 0.5\n')
        fork_server = timed(lambda: run_sweep(warm, tmp / "warm", workers=2))  # starts the fork server
        ones, twos = [], []
        for i in range(ROUNDS):  # interleaved, so that a burst of other load hits both
            ones.append(timed(lambda i=i: run_sweep(second, tmp / f"one{i}", workers=1)))
            twos.append(timed(lambda i=i: run_sweep(second, tmp / f"two{i}", workers=2)))
        one, two = min(ones), min(twos)
        results["a_parallel"] = {
            "runs": SECOND_RUNS, "rounds": ROUNDS, "seconds_per_run_one_worker": round(one / SECOND_RUNS, 2),
            "one_worker": best(ones), "two_workers": best(twos),
            "efficiency": round(one / two, 2), "target": 1.7, "meets_target": one / two >= 1.7,
            "first_sweep_with_fork_server_start_s": round(fork_server, 2)}
        tiny = plan(tmp, "tiny", MEMORY_RUNS, 'population = 400\nyears = 0.5\n')
        with sampled_memory(processes_of_sweep) as local_samples:
            local_s = timed(lambda: run_sweep(tiny, tmp / "memory_local", workers=2))
        dask_results: dict[str, object] = {}
        for setting in (True, False):
            name = "copsim_setting" if setting else "dask_defaults"
            with dask_cluster(tmp, name, setting) as client:
                executor, window = client.get_executor(pure=False), ClusterWindow(client)
                locals_, dasks = [], []
                for i in range(ROUNDS):
                    locals_.append(timed(lambda i=i: run_sweep(second, tmp / f"local-{name}{i}", workers=2)))
                    dasks.append(timed(lambda i=i: run_sweep(second, tmp / f"dask-{name}{i}",
                                                             executor=executor, in_flight=window)))
                local, dask = min(locals_), min(dasks)
                dask_results[name] = {
                    "local_two_workers": best(locals_), "dask_two_workers": best(dasks),
                    "run_in_worker_mean_s": {"local": wall_mean(tmp / f"local-{name}{locals_.index(local)}"),
                                             "dask": wall_mean(tmp / f"dask-{name}{dasks.index(dask)}")},
                    "overhead": round(dask / local - 1, 3)}
                if setting:
                    with sampled_memory(processes_of_sweep) as dask_samples:
                        dask_memory_s = timed(lambda: run_sweep(tiny, tmp / "memory_dask", executor=executor,
                                                                in_flight=window))
        overhead = dask_results["copsim_setting"]["overhead"]
        results["b_dask"] = {"runs": SECOND_RUNS, "rounds": ROUNDS, **dask_results, "target": 0.05,
                             "meets_target": overhead < 0.05}
        results["c_memory"] = {
            "runs": MEMORY_RUNS, "jobs_per_worker": JOBS_PER_WORKER,
            "local": {"seconds": round(local_s, 1), **memory_summary(local_samples)},
            "dask": {"seconds": round(dask_memory_s, 1), **memory_summary(dask_samples)},
            "local_samples": local_samples[:: max(1, len(local_samples) // 20)],
            "dask_samples": dask_samples[:: max(1, len(dask_samples) // 20)]}
    load = os.getloadavg()
    results["machine"] = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                          f"Python {platform.python_version()}; load average at the end "
                          f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)")
    results["copsim_version"] = copsim.__version__
    write_text_atomic(ROOT / "benchmarks" / "sweep_results.json", json.dumps(results, indent=2) + "\n")
    print(table(results))


def table(r: dict) -> str:
    a, b, c = r["a_parallel"], r["b_dask"], r["c_memory"]
    rows = [
        ("(a) one run, one worker", f"{a['seconds_per_run_one_worker']} s", ""),
        (f"(a) {a['runs']} runs: 1 worker / 2 workers (best of {a['rounds']})",
         f"{a['one_worker']['best_s']} s / {a['two_workers']['best_s']} s",
         f"efficiency {a['efficiency']} (target >= 1.7)"),
    ]
    for name, label in (("copsim_setting", "copsim's worker setting"), ("dask_defaults", "Dask's defaults")):
        d = b[name]
        rows.append((f"(b) {b['runs']} runs: 2 local / Dask 2 workers, {label} (best of {b['rounds']})",
                     f"{d['local_two_workers']['best_s']} s / {d['dask_two_workers']['best_s']} s",
                     f"overhead {d['overhead']:+.1%} (target < 5 %); one run inside its worker "
                     f"{d['run_in_worker_mean_s']['local']} s / {d['run_in_worker_mean_s']['dask']} s"))
    for name in ("local", "dask"):
        m = c[name]
        rows.append((f"(c) {c['runs']} runs on {name}: sweep process MB, first / last tenth (peak)",
                     f"{m['parent_mb_first_tenth']} / {m['parent_mb_last_tenth']} ({m['parent_mb_peak']})",
                     f"{m['seconds']} s"))
        rows.append((f"(c) {c['runs']} runs on {name}: largest worker MB, first / last tenth (peak)",
                     f"{m['largest_worker_mb_first_tenth']} / {m['largest_worker_mb_last_tenth']} "
                     f"({m['largest_worker_mb_peak']})", ""))
    lines = ["| measure | value | note |", "|---|---|---|"]
    lines += [f"| {a_} | {b_} | {c_} |" for a_, b_, c_ in rows]
    return "\n".join(lines) + f"\n\n{r['machine']}"


if __name__ == "__main__":
    main()
