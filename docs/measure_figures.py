"""Re-measure every figure that README.md and docs/validation.md quote, with one command.

    .venv/bin/python docs/measure_figures.py [--out runs/figures] [--reuse] [--no-trial]

Runs exactly the measurements docs/validation.md ("How the figures were measured") and the
README's measured blocks list, then prints the figures in the order the two documents quote
them: first docs/validation.md (ten seeds 1-10 of three scenarios through the job runner,
then the comparisons and the decomposition, all with the scenario files' values), then
README.md (the default run, the comparison and the trial with the shipped posterior, the
decomposition table). Every command's own output is kept under ``--out`` (``<name>.txt``
beside the command's output directory); ``--reuse`` prints from what an earlier call left
there instead of running a command again. About 4.5 minutes on the quiet 2-core
development machine, most of it the decomposition and the trial.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

TEN_SEEDS = range(1, 11)
TEN_SEED_SCENARIOS = ("microentre", "ekollega", "ekollega_continued")

# (name, command arguments after `copsim`): the commands the two documents quote, in order.
# docs/validation.md validates the scenario files' values (--no-posterior); the README shows
# what its compare and trial commands print by default: with the shipped posterior's
# parameter uncertainty (its decomposition, 3 replicates, is the one without: 2 draws give
# no interval worth showing).
FUNDING = ("microentre", "self_organised", "national_coordinator", "ecosystem")
COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("compare-funding", ("compare", *FUNDING, "--reps", "5", "--no-posterior")),
    ("compare-funding-pandemic", ("compare", *FUNDING, "--reps", "5", "--shock", "pandemic",
                                  "--no-posterior")),
    ("compare-ekollega", ("compare", "ekollega", "ekollega_continued", "--reps", "10", "--no-posterior")),
    ("compare-communal", ("compare", "microentre", "communal_space", "--reps", "5", "--no-posterior")),
    ("decompose-microentre", ("decompose", "microentre", "--reps", "3", "--no-posterior")),
    ("run-default", ("run",)),
    ("readme-compare", ("compare", *FUNDING, "--reps", "20")),
)
TRIAL = ("trial-peer-groups", ("trial", "trials/peer_groups_rct.toml"))


def run_command(name: str, args: Sequence[str], out: Path, reuse: bool) -> str:
    """Run `copsim ARGS --out OUT/NAME` (unless reused) and return what it printed."""
    printed = out / f"{name}.txt"
    if reuse and printed.exists():
        return printed.read_text()
    print(f"# running: copsim {' '.join(args)}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "copsim.cli", *args, "--out", str(out / name)],
                          capture_output=True, text=True, check=True)
    print(f"# copsim {args[0]} took {time.perf_counter() - start:.0f} s of wall time", file=sys.stderr, flush=True)
    printed.write_text(done.stdout)
    return done.stdout


def ten_seed_results(out: Path, reuse: bool) -> pd.DataFrame:
    """One row per (scenario, seed): summary values plus the figures derived from firms."""
    table = out / "ten_seeds.json"
    if reuse and table.exists():
        return pd.read_json(table, orient="records")
    from copsim.scenario.io import load_scenario
    from copsim.studies.jobs import Job, run_jobs

    print("# running: ten seeds of " + ", ".join(TEN_SEED_SCENARIOS), file=sys.stderr, flush=True)
    jobs = [Job((name, seed), load_scenario(name), seed) for name in TEN_SEED_SCENARIOS for seed in TEN_SEEDS]
    rows = []
    for result in run_jobs(jobs, workers=2):
        s, firms, last = result.summary, result.firms, result.timeseries.iloc[-1]
        ever = firms["ever_member"].astype(bool)
        rows.append({
            "scenario": result.job.key[0], "seed": result.job.key[1],
            **{k: v for k, v in s.items() if isinstance(v, int | float) and not isinstance(v, bool)},
            **{f"activity_{k}": v for k, v in s["activities"].items()},
            **{f"event_{k}": v for k, v in s["events"].items()},
            **{f"time_{row['item']}_{unit}": row[unit] for row in s["participants_time"] for unit in ("hours", "eur")},
            "joins": int(last["joins_to_date"]), "leaves": int(last["leaves_to_date"]),
            "share_left": 1 - s["members_end"] / s["participants_total"],
            "share_closed": float((ever & ~firms["alive"].astype(bool)).sum() / ever.sum()),
        })
    frame = pd.DataFrame(rows).sort_values(["scenario", "seed"]).reset_index(drop=True)
    table.write_text(frame.to_json(orient="records"))
    return frame


def spread(values: pd.Series, scale: float = 1.0, digits: int = 1) -> str:
    """'mean (min to max)' of a figure over the seeds."""
    v = values.astype(float) * scale
    return f"{v.mean():,.{digits}f} ({v.min():,.{digits}f} to {v.max():,.{digits}f})"


def validation_ten_seeds(seeds: pd.DataFrame) -> None:
    """The ten-seed figures of the patterns table and the eKollega note, in their order."""
    m = seeds[seeds["scenario"] == "microentre"]
    acts = m[[c for c in m.columns if c.startswith("activity_")]].mean().sort_values()
    rarest = acts.index[0]
    print("## docs/validation.md: ten seeds (1-10) of microentre, ekollega, ekollega_continued")
    print(f"1. groups_started: {sorted(set(m['groups_started']))}; groups_active_end: {spread(m['groups_active_end'])}")
    print(f"2. participants_total: {spread(m['participants_total'], digits=0)}")
    print(f"3. meetings_held: per seed {list(m['meetings_held'])}; meetings cancelled per seed "
          f"{list(m['event_meeting_cancelled'])}")
    print(f"4. rarest activity {rarest[9:]}: mean {acts.iloc[0]:.0f}, at least {m[rarest].min()}; "
          + ", ".join(f"{a[9:]} {acts[a]:.0f}" for a in ("activity_problem_solving", "activity_visits",
                                                         "activity_mapping_knowledge")
                      if a in acts)
          + "; every activity > 0 in every seed: " + str(bool((m[acts.index] > 0).all().all())))
    print(f"5. joint_ventures_formed: {spread(m['joint_ventures_formed'], digits=0)}"
          + (f"; partnerships_formed (through business contacts): {spread(m['partnerships_formed'], digits=0)}"
             if "partnerships_formed" in m else ""))
    print(f"6. joins {m['joins'].mean():.0f}, leaves {m['leaves'].mean():.0f} per run; "
          f"share of participants no longer members {spread(m['share_left'], 100)} %; "
          f"share of participants that closed {spread(m['share_closed'], 100)} %")
    print(f"7. annual_exit_rate {spread(m['annual_exit_rate'], 100)} %; initial firms alive at the end "
          f"{spread(m['survival_rate'], 100)} %")
    for name in ("ekollega", "ekollega_continued"):
        e = seeds[seeds["scenario"] == name]
        print(f"10/11. {name}: participants_total {sorted(set(e['participants_total']))}, meetings_held "
              f"{sorted(set(e['meetings_held']))}; participants_with_partner {spread(e['participants_with_partner'], 100)} %, "
              f"participants_with_strong_tie {spread(e['participants_with_strong_tie'], 100)} %; ventures formed: "
              f"{int((e['joint_ventures_formed'] > 0).sum())} of 10 seeds have any, {int(e['joint_ventures_formed'].sum())} in all")
        time = e[[c for c in e.columns if c.startswith("time_")]].mean().dropna()
        print("   participants' time, mean per run: " + ", ".join(f"{k[5:]} {v:,.0f}" for k, v in time.items()))
    print()


def validation_comparisons(out: Path, printed: dict[str, str]) -> None:
    """The comparisons the patterns table, the notes and 'what moved' quote, as tables."""
    for name in ("compare-funding", "compare-funding-pandemic", "compare-ekollega", "compare-communal"):
        print(f"## docs/validation.md: copsim {' '.join(dict(COMMANDS)[name])}")
        print(printed[name].split("\nMean over")[0].strip())
        print()
    reps = pd.read_csv(out / "compare-communal" / "replicates.csv")
    space = reps[reps["scenario"] == "communal_space"]
    print(f"communal_space closed by the end (no group active) in {int((space['groups_active_end'] == 0).sum())} "
          f"of {len(space)} replicates")
    print()
    print("## docs/validation.md: copsim decompose microentre --reps 3 --no-posterior")
    print(printed["decompose-microentre"].strip())
    print()


def cost_by_payer(out: Path) -> None:
    """The last row of the second patterns table: who pays MicroENTRE (default run, seed 1)."""
    summary = json.loads((out / "run-default" / "summary.json").read_text())
    payers = {k: f"{v / 1e6:.2f} M" for k, v in summary["cost_by_payer_eur"].items()}
    print(f"## docs/validation.md: cost by payer, microentre seed 1: {payers}; total "
          f"{summary['cost_total_eur'] / 1e6:.2f} M EUR")
    print()


def trial_details(analysis: Path) -> None:
    """The README's reading of the trial: power by trial size, crossover and spill-overs."""
    power = pd.read_csv(analysis / "power.csv")
    first = power[(power["arm"] == "monthly_groups") & (power["weeks"] == power["weeks"].min())]
    print(first[first["outcome"].isin(["revenue", "survival"])][["outcome", "size", "power", "mde"]]
          .to_string(index=False))
    print(pd.read_csv(analysis / "compliance.csv").to_string(index=False))
    spill = pd.read_csv(analysis / "spillovers.csv")
    print(spill[spill["exposed"].astype(bool)].to_string(index=False))


def readme(out: Path, printed: dict[str, str], trial: str | None) -> None:
    """The README's measured blocks, as printed."""
    print("## README.md: Quick start, `copsim run`")
    print(printed["run-default"].strip())
    print()
    print("## README.md: `copsim compare microentre self_organised national_coordinator ecosystem --reps 20`")
    print(printed["readme-compare"].strip())
    print()
    print("## README.md: decompose (the table above; its timing line:)",
          next((line for line in printed["decompose-microentre"].splitlines() if " runs" in line), ""))
    if trial is not None:
        print()
        print("## README.md: `copsim trial trials/peer_groups_rct.toml`")
        print(trial.strip())
        trial_details(out / TRIAL[0] / "analysis")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/figures"))
    parser.add_argument("--reuse", action="store_true", help="print from earlier outputs where they exist")
    parser.add_argument("--no-trial", action="store_true", help="skip the trial (about a minute)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    seeds = ten_seed_results(args.out, args.reuse)
    printed = {name: run_command(name, cmd, args.out, args.reuse) for name, cmd in COMMANDS}
    trial = None if args.no_trial else run_command(*TRIAL, args.out, args.reuse)
    validation_ten_seeds(seeds)
    validation_comparisons(args.out, printed)
    cost_by_payer(args.out)
    readme(args.out, printed, trial)


if __name__ == "__main__":
    main()
