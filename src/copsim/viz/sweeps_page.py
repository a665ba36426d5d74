"""The Sweeps page: open a sweep's output directory and read its analysis.

It runs :func:`copsim.studies.analysis.analyze`, the code of ``copsim analyze`` (which
writes ``DIR/analysis/``), and shows the summary with every chart it drew:
heatmaps for grids, Sobol or Morris bars for sensitivity designs.
"""

from __future__ import annotations

from pathlib import Path

import solara

from copsim.studies.analysis import Analysis, analyze
from copsim.errors import CopsimError


def sweep_directories(root: Path = Path(".")) -> list[str]:
    """Sweep outputs found under ``runs/`` and ``sweeps/`` (directories with a manifest)."""
    found = [p.parent for base in ("runs", "sweeps") for p in (root / base).glob("**/manifest.json")]
    return sorted(str(p) for p in found)


@solara.component
def SweepsPage() -> None:
    """Pick or type a sweep directory; analyse it; show the summary and charts."""
    directory = solara.use_reactive("")
    known = solara.use_memo(sweep_directories, dependencies=[])

    def run() -> Analysis:
        path = Path(directory.value.strip())
        if not path.is_dir():
            raise CopsimError(f"{path}: (directory): no such sweep output directory")
        return analyze(path)

    # raise_error=False: a failure shows in the page's error box below, not as a
    # traceback in place of the whole app.
    task = solara.lab.use_task(run, dependencies=None, raise_error=False, prefer_threaded=True)
    with solara.Columns([1, 3]):
        with solara.Card("Sweep"):
            if known:
                solara.Select("Found", values=known, value=directory)
            solara.InputText("Sweep output directory", value=directory, continuous_update=True)
            solara.Button("Analyse", on_click=task, disabled=task.pending or not directory.value,
                          color="primary", classes=["copsim-sweep-analyse"])
            if task.pending:
                solara.ProgressLinear(True)
            if task.error:
                solara.Error(f"{task.exception}", classes=["copsim-sweep-error"])
        with solara.Column():
            if task.finished and task.value is not None:
                analysis: Analysis = task.value
                out = Path(directory.value.strip()) / "analysis"
                solara.Preformatted(analysis.summary, class_="copsim-sweep-summary")
                for name in analysis.files:
                    if name.endswith(".png"):
                        solara.Image(str(out / name), width="100%")
