"""Workshop mode under load: 40 protocol-level participants on loopback.

Starts ``copsim workshop`` on a free local port (127.0.0.1 only) and runs
:func:`copsim.workshop.loadtest.run` REPEATS times on fresh servers: 40 clients join,
decide in two rounds and, in a third round, one of them drops (the round closes on a
5-second timer); garbage, a never-finishing body and trickling headers run alongside.
A round records fewer than its players' decisions only where a player's firm has closed
down (a business exit of the model: it cannot decide any more; listed as "refused").
Prints a table and writes ``benchmarks/workshop_load.json`` (request latency seen by
the clients, the time from opening a round to its close, decisions in the record).
"""

from __future__ import annotations

import json
import platform
import statistics
from pathlib import Path

from copsim.workshop import loadtest
from copsim.outputs.files import write_text_atomic

CLIENTS = 40
REPEATS = 3
OUT = Path(__file__).with_name("workshop_load.json")


def main() -> None:
    runs = []
    for repeat in range(REPEATS):
        with loadtest.local_server("--rounds", "3", "--round-seconds", "60",
                                   "--seed", str(repeat + 1)) as server:
            report = loadtest.run("127.0.0.1", server.port, server.code, server.key,
                                  clients=CLIENTS, rounds=2, drop_round_seconds=5.0, seed=repeat)
        runs.append({"latency": report.latency(), "round_seconds": report.round_seconds,
                     "closed_by": report.closed_by, "decisions_per_round": report.per_round,
                     "joined": report.joined, "garbage_requests": len(report.garbage_statuses),
                     "refused": [r[1].get("error") if isinstance(r, tuple) else repr(r)
                                 for r in report.refused],
                     "garbage_all_4xx": all(400 <= s < 500 for s in report.garbage_statuses),
                     "slow_body_status": report.slow_body_status, "seconds": report.seconds})
    summary = {
        "clients": CLIENTS, "repeats": REPEATS,
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "p50_ms_median": statistics.median(r["latency"]["p50_ms"] for r in runs),
        "p95_ms_median": statistics.median(r["latency"]["p95_ms"] for r in runs),
        "max_ms_worst": max(r["latency"]["max_ms"] for r in runs),
        "full_round_seconds_median": statistics.median(s for r in runs for s in r["round_seconds"][:2]),
        "runs": runs,
    }
    write_text_atomic(OUT, json.dumps(summary, indent=2) + "\n")
    print("| run | requests | p50 ms | p95 ms | max ms | rounds (s, open to closed) | closed by "
          "| decisions |")
    print("|---|---|---|---|---|---|---|---|")
    for i, r in enumerate(runs, 1):
        lat = r["latency"]
        print(f"| {i} | {lat['requests']} | {lat['p50_ms']} | {lat['p95_ms']} | {lat['max_ms']} | "
              f"{r['round_seconds']} | {', '.join(r['closed_by'])} | {r['decisions_per_round']} |")
    print(f"Written {OUT}")


if __name__ == "__main__":
    main()
