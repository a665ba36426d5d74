"""``copsim trial``: a randomised field experiment in silico, with estimates and power."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

from copsim.cli.compare import add_posterior, posterior_choice
from copsim.cli.sweep import EXIT_FAILED_RUNS, EXIT_INTERRUPTED, add_where, positive_int, where_to_run
from copsim.errors import CopsimError


def sizes(text: str) -> list[int]:
    """An argparse type: comma-separated trial sizes (firms), each at least 4."""
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of whole numbers like 200,500") from None
    if not values or min(values) < 4:
        raise argparse.ArgumentTypeError(f"{text!r}: sizes are whole numbers of firms, at least 4")
    return sorted(set(values))


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``trial`` parser."""
    trial = sub.add_parser("trial", help="run a randomised trial in silico: estimates, truth and power")
    trial.add_argument("trial", type=Path, help="trial file, or a shipped name such as peer_groups_rct (trials/*.toml)")
    trial.add_argument("--reps", type=positive_int, help="replicates (default: the file's)")
    trial.add_argument("--sizes", type=sizes, help="trial sizes for power, e.g. 200,500,1000,2000 "
                       "(default: the file's)")
    trial.add_argument("--out", type=Path, help="results directory (default: trials-out/<trial>)")
    add_where(trial)
    trial.add_argument("--retry-failed", action="store_true",
                       help="run again the replicates that failed in an earlier run")
    add_posterior(trial)
    trial.add_argument("--quiet", action="store_true", help="no progress bar")
    trial.set_defaults(action=action)


def action(args: argparse.Namespace) -> int:
    """Check the trial, run its unfinished replicates, analyse all of them, report."""
    from copsim.version import __version__
    from copsim.studies.trial_analysis import analyse
    from copsim import resources
    from copsim.studies.posterior import choose_posterior, plan_draws
    from copsim.studies.trial_design import load_trial
    from copsim.studies.trial_job import read_firm_tables, run_trial
    from copsim.studies.trial_report import write_trial_outputs

    plan = load_trial(resources.resolve(args.trial, resources.TRIALS))
    if args.reps is not None:
        plan = plan.with_replicates(args.reps)
    chosen, parameters = choose_posterior(posterior_choice(args), [plan.scenario()])
    if chosen is not None:
        plan = plan.with_draws(plan_draws(chosen, plan.trial.seed, plan.trial.replicates,
                                          args.seeds_per_draw))
    out = args.out or Path("trials-out") / args.trial.stem
    with ExitStack() as stack:
        executor, where, in_flight = where_to_run(args, stack)
        if not args.quiet:
            print(parameters)
            print(f"Trial {plan.name}: {plan.n_runs} replicates (a trial and its counterfactual each) "
                  f"into {out}/ on {where}.", flush=True)
        try:
            report = run_trial(plan, out, workers=args.workers, executor=executor,
                               retry_failed=args.retry_failed, progress=not args.quiet,
                               in_flight=in_flight)
        except KeyboardInterrupt:
            print(f"copsim: interrupted; every finished replicate is kept in {out}/: run the same "
                  "command again to resume", file=sys.stderr)
            return EXIT_INTERRUPTED
    if report.errors:
        run_id, message = report.errors[0]
        print(f"copsim: {len(report.errors)} replicates failed; the first, {run_id}: {message} "
              "(--retry-failed runs them again)", file=sys.stderr)
        return EXIT_FAILED_RUNS
    frame = read_firm_tables(out)
    if frame.empty:
        raise CopsimError(f"{out}: series: no finished replicates")
    analysis = analyse(frame, plan.trial, args.sizes or plan.trial.sizes)
    meta = {"copsim_version": __version__, "replicates": int(frame["replicate"].nunique()),
            "firms": float(frame[frame["weeks"] == 0].groupby("replicate").size().mean()),
            "posterior": None if plan.draws is None else plan.draws.record(),
            "parameters": parameters}
    table = write_trial_outputs(out, analysis, plan.trial, plan.scenario(), meta)
    print(table)
    print(f"Ran {report.ran} replicates in {report.seconds:.0f} s ({report.before} finished before). "
          f"Outputs in {out}/analysis/: report.html, estimates.csv, power.csv, compliance.csv, "
          "spillovers.csv, table.md, power_curves.png, effect_over_time.png")
    return 0
