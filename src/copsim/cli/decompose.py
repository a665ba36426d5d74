"""``copsim decompose``: a programme's effects split by channel (Shapley over channels)."""

from __future__ import annotations

import argparse
import html
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from copsim.cli.compare import add_posterior, posterior_choice
from copsim.cli.run import non_negative_int

if TYPE_CHECKING:
    import pandas as pd

    from copsim.studies.decompose import Decomposition

WATERFALL = "waterfall.png"
ATTRIBUTION = ("decomposition.md", "decomposition.csv", "attribution_replicates.csv",
               "channel_arms.csv", WATERFALL)  # written besides a comparison's outputs


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``decompose`` parser."""
    p = sub.add_parser("decompose", help="split a programme's effects by channel (Shapley)")
    p.add_argument("scenario", metavar="SCENARIO", help="a scenario file or a name in scenarios/")
    p.add_argument("--reps", type=int, default=4, help="replicates (default 4)")
    p.add_argument("--years", type=float, help="horizon (default: the scenario's own)")
    p.add_argument("--channels",
                   help="comma-separated channels to split over (default: every channel that "
                        "acts in the scenario; brokering, documentation and mentoring only "
                        "where it has them; the others stay on)")
    p.add_argument("--orders", type=non_negative_int,
                   help="orders of channels to sample for the Shapley values (even; 0: exact over "
                        "every subset; default: exact up to 6 channels, else 16)")
    p.add_argument("--seed", type=non_negative_int, default=1,
                   help="root seed of the replicate seeds (default 1)")
    p.add_argument("--workers", type=int, help="local processes (default: all cores)")
    p.add_argument("--out", type=Path, help="output directory (default: runs/decompose-<name>)")
    add_posterior(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    p.set_defaults(action=action)


def action(args: argparse.Namespace) -> int:
    """Run every subset of channels and the counterfactual; write the attribution."""
    from tqdm import tqdm

    from copsim.outputs.files import OutputKind, prepare_output
    from copsim.scenario.io import load_scenario
    from copsim.studies.compare import (
        NO_PROGRAMME, CompareError, Comparison, job_count, results, run_comparison,
    )
    from copsim.studies.decompose import (
        arm_values, attribution_table, parse_channels, prepare_decomposition,
        replicate_attribution,
    )
    from copsim.studies.jobs import default_workers
    from copsim.studies.posterior import choose_posterior, plan_draws
    from copsim.studies.report import COMPARE_OUTPUT, comparison_provenance, write_comparison

    if args.workers is not None and args.workers < 1:
        raise CompareError(f"--workers: {args.workers}: must be at least 1")
    scenario = load_scenario(args.scenario)
    chosen, parameters = choose_posterior(posterior_choice(args), [scenario])
    draws = None if chosen is None else plan_draws(chosen, args.seed, args.reps,
                                                   args.seeds_per_draw)
    d = prepare_decomposition(scenario, parse_channels(args.channels, scenario), args.reps,
                              args.seed, args.years, args.orders, draws)
    out = args.out or Path("runs") / f"decompose-{d.name}"
    kind = OutputKind("decompose", COMPARE_OUTPUT.marker, (*ATTRIBUTION, *COMPARE_OUTPUT.files))
    prepare_output(out, kind)
    workers = args.workers or default_workers()
    started = time.perf_counter()
    runs = job_count(d.comparison)
    with tqdm(total=runs, unit="run", disable=args.quiet, desc="decompose") as bar:
        pairs = run_comparison(d.comparison, workers, progress=lambda result: bar.update(1))
    seconds = time.perf_counter() - started
    arms = arm_values(d, pairs)
    replicates = replicate_attribution(d, arms)
    table = attribution_table(replicates)
    full = Comparison({d.name: d.comparison.arms[d.name]}, d.comparison.seeds,
                      d.comparison.root_seed, d.comparison.draws)
    meta = comparison_provenance(full, None, workers, seconds)
    meta |= {"runs": runs, "channels": list(d.channels), "arms": len(d.arms),
             "attribution": d.method(), "parameters": parameters}
    shown = [p for p in pairs if p.label in (d.name, NO_PROGRAMME)]
    write_comparison(out, results(full, shown, meta),
                     lambda tmp: write_attribution(tmp, d, table, replicates, arms), kind)
    if not args.quiet:
        print(parameters)
        print((out / "decomposition.md").read_text(encoding="utf-8"), end="")
        print(f"\n{len(d.arms)} subsets of {len(d.channels)} channels and the counterfactual, "
              f"{len(d.comparison.seeds)} replicates: {runs} runs on {workers} process(es) in "
              f"{seconds:.0f} s.")
        print(f"Outputs in {out}/: {', '.join(kind.files)}")
    sys.stdout.flush()
    return 0


def write_attribution(tmp: Path, d: Decomposition, table: pd.DataFrame,
                      replicates: pd.DataFrame, arms: pd.DataFrame) -> list[tuple[str, str]]:
    """The attribution's files into ``tmp``; its section of report.html."""
    from copsim.studies.decompose import (
        NONE, OUTCOMES, TOTAL, cell_text, component_label, markdown, notes,
    )
    from copsim.studies.report import embedded_image, html_table, plot_waterfall

    table.to_csv(tmp / "decomposition.csv", index=False)
    replicates.to_csv(tmp / "attribution_replicates.csv", index=False)
    arms.to_csv(tmp / "channel_arms.csv", index=False)
    (tmp / "decomposition.md").write_text(markdown(table, d), encoding="utf-8")
    components = [NONE, *d.channels, TOTAL]
    labels = {c: component_label(c) for c in components}
    plot_waterfall(table, components, labels, [(o.key, o.label) for o in OUTCOMES],
                   tmp / WATERFALL)
    cells = table.set_index(["component", "outcome"])
    rows = [[labels[c]] + [cell_text(cells.loc[(c, o.key)]) for o in OUTCOMES]
            for c in components]
    body = (html_table(["channel"] + [o.label for o in OUTCOMES], rows)
            + "".join(f'<p class="note">{html.escape(n)}</p>' for n in notes(d))
            + embedded_image(tmp / WATERFALL))
    return [("Where the effects come from", body)]
