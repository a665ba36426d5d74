"""The Compare page: funding models side by side, with the code of ``copsim compare``.

It calls the same functions as the command (prepare, run the jobs, write every
output) and shows the table, the banded time series and cost against outcome;
the report downloads from the page; all files stay in runs/dashboard/.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import markdown
import solara

from copsim.errors import CopsimError
from copsim.scenario.io import load_scenario, scale_population
from copsim.scenario.shocks import known_shocks, load_shocks
from copsim.studies.compare import job_count, prepare, results, run_comparison
from copsim.studies.jobs import default_workers
from copsim.studies.report import comparison_provenance, write_comparison
from copsim.viz.lifetime import use_page_gone
from copsim.viz.session import scenario_names

NO_SHOCK = "none"
OUT = Path("runs") / "dashboard"


class PageGone(Exception):
    """The page that started a comparison went away: its runs stop, nothing is written."""


def run_from_dashboard(names: list[str], reps: int, years: float, population: int, shock: str,
                       progress: solara.Reactive[float], gone: threading.Event) -> Path:
    """Run a comparison as ``copsim compare`` does; return its output directory. Once
    ``gone`` is set (the tab closed) the next finished run stops the others (their worker
    processes end) and nothing is written."""
    if not 2 <= len(names) <= 4:
        raise CopsimError(f"scenarios: pick 2 to 4 (picked {len(names)})")
    scenarios = [scale_population(load_scenario(name), population) for name in names]
    overlay = None if shock == NO_SHOCK else load_shocks(shock)
    comparison = prepare(scenarios, reps, 1, years, overlay)
    total, done = job_count(comparison), 0
    workers = default_workers()

    def advance(_: object) -> None:
        nonlocal done
        if gone.is_set():
            raise PageGone("the page was closed: comparison stopped")
        done += 1
        progress.value = done / total

    started = time.perf_counter()
    pairs = run_comparison(comparison, workers, progress=advance)
    meta = comparison_provenance(comparison, overlay, workers, time.perf_counter() - started)
    out = OUT / f"compare-{'-'.join(comparison.arms)}-{int(time.time())}"
    write_comparison(out, results(comparison, pairs, meta))
    return out


@solara.component
def ComparePage() -> None:
    """Pick scenarios, replicates and a shock; run; read the table and the figures."""
    names = solara.use_reactive(["microentre", "self_organised"])
    reps = solara.use_reactive(3)
    years = solara.use_reactive(2.0)
    population = solara.use_reactive(3000)
    shock = solara.use_reactive(NO_SHOCK)
    progress = solara.use_reactive(0.0)
    gone = use_page_gone()

    def run() -> Path:
        progress.value = 0.0
        return run_from_dashboard(list(names.value), reps.value, years.value, population.value,
                                  shock.value, progress, gone)

    # raise_error=False: a failure shows in the page's error box below, not as a
    # traceback in place of the whole app.
    task = solara.lab.use_task(run, dependencies=None, raise_error=False, prefer_threaded=True)
    with solara.Columns([1, 3]):
        with solara.Card("Comparison"):
            solara.SelectMultiple("Scenarios (2-4, same population)", values=names,
                                  all_values=scenario_names())
            solara.InputInt("Replicates", value=reps)
            solara.InputFloat("Years", value=years)
            solara.InputInt("Entrepreneurs (population of every scenario)", value=population)
            solara.Select("Shock", values=[NO_SHOCK, *known_shocks()], value=shock)
            solara.Button("Run comparison", on_click=task, disabled=task.pending, color="primary",
                          classes=["copsim-compare-run"])
            if task.pending:
                solara.ProgressLinear(value=100 * progress.value)
                solara.Text(f"{progress.value:.0%} of the runs done")
            if task.error:
                solara.Error(f"{task.exception}", classes=["copsim-compare-error"])
        with solara.Column():
            if task.finished and task.value is not None:
                out: Path = task.value
                # HTML from the markdown package, not solara.Markdown: its math support fetches
                # KaTeX, which solara-assets does not ship (a 404 and a page error offline).
                solara.HTML(unsafe_innerHTML=markdown.markdown(
                    (out / "table.md").read_text(encoding="utf-8"), extensions=["tables"]),
                    style="font-size: 0.85em; overflow-x: auto", classes=["copsim-compare-table"])
                with solara.Row(classes=["copsim-compare-done"]):
                    solara.FileDownload(lambda: (out / "report.html").read_bytes(),
                                        filename="report.html", label="Download report.html",
                                        mime_type="text/html")
                solara.Image(str(out / "timeseries_bands.png"), width="100%")
                solara.Image(str(out / "cost_vs_outcome.png"), width="100%")
