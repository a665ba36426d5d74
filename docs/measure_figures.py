"""Re-measure every figure that README.md and docs/validation.md quote, with one command.

    .venv/bin/python docs/measure_figures.py [--out runs/figures] [--reuse] [--no-trial]

Runs exactly the measurements docs/validation.md ("How the figures were measured") and the
README's measured blocks list, then prints the figures in the order the two documents quote
them: first docs/validation.md (ten seeds 1-10 of three scenarios through the job runner,
then the comparisons, the decomposition and the mentoring trial set beside Brooks, Donovan
& Johnson (2018), once more without the mentors' advice, all with the scenario files'
values), then README.md (the default run and the comparison with the shipped posterior, the
decomposition table, the facilitation-vs-funding sweep and its analysis, the peer-group and
pilot trials with the shipped posterior, the Python example). Every command's own output is
kept under ``--out`` (``<name>.txt`` beside the command's output directory); ``--reuse``
prints from what an earlier call left there instead of running a command again;
``--no-trial`` leaves out the four trials. About 7.5 minutes on the 2-core development
machine, the sum of its parts' measured times (3 minutes the trials, most of the rest the
decomposition); the whole script was not timed in one run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
    ("sweep-fvf", ("sweep", "experiments/facilitation_vs_funding.toml")),
)
# `copsim analyze DIR` takes no --out: it writes into the sweep's directory.
ANALYZE = ("analyze-fvf", "sweep-fvf")
# The README's Python example (copsim.simulate), run with out= so that --reuse can print it again.
PYTHON_EXAMPLE = {"scenario": "microentre", "seed": 1, "overrides": {"learning.rate": 0.2},
                  "population": 5000, "years": 3}

# The trials (skipped by --no-trial): the README's two with the shipped posterior, as its
# trial command runs by default; docs/validation.md's Brooks comparison with the trial file's
# own values, and again without the mentors' specific advice (trial files take no --set, so
# a copy with one more fixed value is written into --out).
MENTORING = "trials/mentoring_rct.toml"
NO_ADVICE = '"mentoring.advice_cost_saving" = 0.0'


def trial_commands(out: Path) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The trials in the order the documents quote them; writes the no-advice trial file."""
    no_advice = out / "mentoring_rct_no_advice.toml"
    text = Path(MENTORING).read_text()
    if text.count("[fixed]\n") != 1:
        raise SystemExit(f"{MENTORING}: expected one [fixed] table to add {NO_ADVICE} to")
    no_advice.write_text(text.replace("[fixed]\n", f"[fixed]\n{NO_ADVICE}\n"))
    return (("trial-mentoring", ("trial", MENTORING, "--no-posterior")),
            ("trial-mentoring-no-advice", ("trial", str(no_advice), "--no-posterior")),
            ("trial-peer-groups", ("trial", "trials/peer_groups_rct.toml")),
            ("trial-pilot", ("trial", "trials/microentre_pilot.toml")))


@contextmanager
def timed(what: str) -> Iterator[None]:
    """Say on stderr what runs now and, once it is done, how much wall time it took."""
    print(f"# running: {what}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    yield
    print(f"# {what} took {time.perf_counter() - start:.0f} s of wall time", file=sys.stderr, flush=True)


def run_command(name: str, args: Sequence[str], out: Path, reuse: bool, out_option: bool = True) -> str:
    """Run `copsim ARGS --out OUT/NAME` (unless reused) and return what it printed.

    Without out_option the command gets no --out (`copsim analyze` writes beside its input).
    A fresh run starts from an empty OUT/NAME: sweeps and trials would otherwise resume
    from what an earlier call left there and report the time of the runs still missing.
    """
    printed = out / f"{name}.txt"
    if reuse and printed.exists():
        return printed.read_text()
    shutil.rmtree(out / name, ignore_errors=True)
    with timed(f"copsim {' '.join(args)}"):
        done = subprocess.run([sys.executable, "-m", "copsim.cli", *args,
                               *(("--out", str(out / name)) if out_option else ())],
                              capture_output=True, text=True, check=True)
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


def python_example(out: Path, reuse: bool) -> tuple[int, tuple[int, int]]:
    """The README's Python example: participants_total and the shape of the weekly table."""
    target = out / "python-simulate"
    if not (reuse and (target / "summary.json").exists()):
        import copsim

        with timed(f"copsim.simulate(**{PYTHON_EXAMPLE})"):
            copsim.simulate(**PYTHON_EXAMPLE, out=target)
    summary = json.loads((target / "summary.json").read_text())
    return summary["participants_total"], pd.read_parquet(target / "timeseries.parquet").shape


def ran_line(printed: str) -> str:
    """The line of a sweep's or trial's output that says how many runs took how long."""
    return next((line for line in printed.splitlines() if line.startswith("Ran ")), "")


def estimates(out: Path, name: str, outcome: str, estimators: Sequence[str]) -> pd.DataFrame:
    """A trial's mean estimates of one outcome, with the mean interval's half-width."""
    est = pd.read_csv(out / name / "analysis" / "estimates.csv")
    rows = est[(est["outcome"] == outcome) & est["estimator"].isin(estimators)]
    return rows.assign(half_width=(rows["hi"] - rows["lo"]) / 2, power=100 * rows["power"])


def validation_mentoring(out: Path, printed: dict[str, str]) -> None:
    """The Brooks, Donovan & Johnson section: profits by arm and horizon, advice's part, the rest."""
    print(f"## docs/validation.md: copsim trial {MENTORING} --no-posterior; again with {NO_ADVICE}")
    print(ran_line(printed["trial-mentoring"]))
    print(ran_line(printed["trial-mentoring-no-advice"]))
    profit = estimates(out, "trial-mentoring", "profit", ("ANCOVA", "TOT (Wald)"))
    keys = ["arm", "estimator", "weeks"]
    profit = profit.assign(share_of_control=100 * profit["estimate"] / profit["control_mean"])
    profit = profit.sort_values(keys)
    print("profit, EUR a week (share_of_control: % of the control group's mean profit; "
          "power: % of trials significant):")
    print(profit[[*keys, "estimate", "share_of_control", "half_width", "power", "control_mean"]]
          .round(1).to_string(index=False))
    compliance = pd.read_csv(out / "trial-mentoring" / "analysis" / "compliance.csv")
    print(compliance[compliance["weeks"] == compliance["weeks"].min()].to_string(index=False))
    both = profit.merge(estimates(out, "trial-mentoring-no-advice", "profit", ("ANCOVA",)), on=keys,
                        suffixes=("", "_no_advice"))
    both = both.assign(advice=both["estimate"] - both["estimate_no_advice"])
    both = both.assign(advice_share=100 * both["advice"] / both["estimate"])
    print("mentoring without advice (ANCOVA profit, EUR a week) and advice's part (the difference):")
    print(both[[*keys, "estimate", "estimate_no_advice", "advice", "advice_share"]]
          .round(1).to_string(index=False))
    for outcome, estimator, scale in (("survival", "difference in means", 100), ("knowledge", "ANCOVA", 100),
                                      ("revenue", "ANCOVA", 100)):
        rows = estimates(out, "trial-mentoring", outcome, (estimator,))
        print(f"{outcome} ({estimator}, x{scale}: points or log points): "
              + ", ".join(f"{r.arm} {r.weeks} weeks {scale * r.estimate:+.1f}" for r in rows.itertuples()))
    print()


def extra_hours(analysis: Path) -> None:
    """The README's reading of the sweep: which outcomes more than 20 funded hours a week change."""
    changed = []
    for table in sorted(analysis.glob("grid_*.csv")):
        grid = pd.read_csv(table).pivot_table(index=["facilitator_skill", "shock"], columns="funded_hours",
                                              values="mean")
        if not (grid[30.0] == grid[20.0]).all():
            changed.append(table.stem.removeprefix("grid_"))
    print("outcomes whose mean differs between 20 and 30 funded hours in any cell: "
          + (", ".join(changed) or "none"))


def trial_details(analysis: Path) -> None:
    """The README's reading of the trial: power by trial size, crossover and spill-overs."""
    power = pd.read_csv(analysis / "power.csv")
    first = power[(power["arm"] == "monthly_groups") & (power["weeks"] == power["weeks"].min())]
    print(first[first["outcome"].isin(["revenue", "survival"])][["outcome", "size", "power", "mde"]]
          .to_string(index=False))
    print(pd.read_csv(analysis / "compliance.csv").to_string(index=False))
    spill = pd.read_csv(analysis / "spillovers.csv")
    print(spill[spill["exposed"].astype(bool)].to_string(index=False))


def readme(out: Path, printed: dict[str, str], example: tuple[int, tuple[int, int]]) -> None:
    """The README's measured blocks, as printed."""
    print("## README.md: Quick start, `copsim run`")
    print(printed["run-default"].strip())
    print()
    print("## README.md: `copsim compare microentre self_organised national_coordinator ecosystem --reps 20`")
    print(printed["readme-compare"].strip())
    print()
    print("## README.md: decompose (the table above; its timing line:)",
          next((line for line in printed["decompose-microentre"].splitlines() if " runs" in line), ""))
    print()
    print("## README.md: `copsim sweep experiments/facilitation_vs_funding.toml`, then `copsim analyze`")
    print(printed["sweep-fvf"].strip())
    print(printed["analyze-fvf"].strip())
    extra_hours(out / "sweep-fvf" / "analysis")
    if "trial-peer-groups" in printed:
        print()
        print("## README.md: `copsim trial trials/peer_groups_rct.toml`")
        print(printed["trial-peer-groups"].strip())
        trial_details(out / "trial-peer-groups" / "analysis")
        print()
        print("## README.md: `copsim trial trials/microentre_pilot.toml`")
        print(printed["trial-pilot"].strip())
    print()
    print(f"## README.md: Python example, copsim.simulate(**{PYTHON_EXAMPLE})")
    print(f"participants_total {example[0]}; timeseries {example[1][0]} x {example[1][1]}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/figures"))
    parser.add_argument("--reuse", action="store_true", help="print from earlier outputs where they exist")
    parser.add_argument("--no-trial", action="store_true", help="skip the four trials (about 3.5 minutes)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    seeds = ten_seed_results(args.out, args.reuse)
    printed = {name: run_command(name, cmd, args.out, args.reuse) for name, cmd in COMMANDS}
    analysis, sweep = ANALYZE
    printed[analysis] = run_command(analysis, ("analyze", str(args.out / sweep)), args.out, args.reuse,
                                    out_option=False)
    if not args.no_trial:
        printed |= {name: run_command(name, cmd, args.out, args.reuse)
                    for name, cmd in trial_commands(args.out)}
    example = python_example(args.out, args.reuse)
    validation_ten_seeds(seeds)
    validation_comparisons(args.out, printed)
    cost_by_payer(args.out)
    if not args.no_trial:
        validation_mentoring(args.out, printed)
    readme(args.out, printed, example)


if __name__ == "__main__":
    main()
