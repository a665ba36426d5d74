"""Trial benchmark: 2,000 firms x 3 years x 100 replicates, target under 10 minutes.

Runs ``trials/peer_groups_rct.toml`` (2,000 firms, weeks 0-156: three years; 100
replicates, each a trial run and its counterfactual run) end to end as the command
does: the replicates on two local worker processes, then the analysis (three
estimators per arm, outcome and horizon, power at four sizes) and the report. Times
the two stages separately and writes ``benchmarks/trial_results.json``. Not a test:
the machine is shared, so the numbers are what one run measured.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import copsim
from copsim.studies.trial_analysis import analyse
from copsim.studies.trial_design import load_trial
from copsim.studies.trial_job import read_firm_tables, run_trial
from copsim.studies.trial_report import write_trial_outputs
from copsim.outputs.files import write_text_atomic

TRIAL = Path(__file__).resolve().parents[1] / "trials" / "peer_groups_rct.toml"
RESULTS = Path(__file__).with_name("trial_results.json")
WORKERS = 2


def main() -> None:
    """Run the benchmark and write its results."""
    plan = load_trial(TRIAL)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "trial"
        start = time.perf_counter()
        report = run_trial(plan, out, workers=WORKERS)
        simulated = time.perf_counter() - start
        frame = read_firm_tables(out)
        analysis = analyse(frame, plan.trial, plan.trial.sizes)
        meta = {"copsim_version": copsim.__version__, "replicates": int(frame["replicate"].nunique()),
                "firms": float(frame[frame["weeks"] == 0].groupby("replicate").size().mean())}
        write_trial_outputs(out, analysis, plan.trial, plan.scenario(), meta)
        total = time.perf_counter() - start
    results = {
        "trial": TRIAL.name, "population": plan.scenario().population, "weeks": plan.trial.weeks,
        "replicates": plan.n_runs, "runs_ok": report.ok, "workers": WORKERS,
        "trial_firms_mean": meta["firms"], "seconds_replicates": round(simulated, 1),
        "seconds_analysis_and_report": round(total - simulated, 1), "seconds_total": round(total, 1),
        "target_seconds": 600, "cpus": os.cpu_count(), "python": sys.version.split()[0],
        "machine": platform.machine(), "copsim_version": copsim.__version__,
    }
    write_text_atomic(RESULTS, json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
