"""The documentation site builds with warnings as errors, and every tutorial is executed.

One build of ``docs/`` (as ``make docs`` does, into a temporary directory) is checked
for the outputs only execution can produce, for the generated file reference and for the
API reference. A second, one-page project with the same configuration shows that a
failing cell fails the build, which is what keeps the tutorials from rotting.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from copsim.scenario.odd_tables import walk
from copsim.studies.experiments import Experiment

DOCS = Path(__file__).resolve().parents[1] / "docs"
TUTORIALS = sorted(p.stem for p in (DOCS / "tutorials").glob("*.md") if p.stem != "index")
NOTEBOOK_HEADER = "---\nfile_format: mystnb\nkernelspec:\n  name: python3\n  display_name: Python 3\n---\n"


def sphinx_build(source: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """``sphinx-build -W --keep-going`` from scratch, as ``make docs`` runs it."""
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-T", "-b", "html",
         "-d", str(out / "doctrees"), str(source), str(out / "html")],
        capture_output=True, text=True, timeout=1800, check=False)


def text_of(page: Path) -> str:
    """The visible text of an HTML page, whitespace collapsed."""
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", page.read_text(), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


def outputs_of(page: Path) -> str:
    """The text of a page's executed cell outputs only."""
    chunks = page.read_text().split('<div class="cell_output')[1:]
    blocks = [re.split(r'<div class="cell |</section>', chunk, maxsplit=1)[0] for chunk in chunks]
    return " ".join(" ".join(html.unescape(re.sub(r"<[^>]+>", " ", b)).split()) for b in blocks)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs")
    proc = sphinx_build(DOCS, out)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return out / "html"


def test_every_tutorial_is_listed_and_its_cells_ran(site: Path) -> None:
    assert TUTORIALS == ["calibrate", "compare", "sweep", "trial", "workshop"]
    index = text_of(site / "tutorials" / "index.html")
    for name in TUTORIALS:
        page = site / "tutorials" / f"{name}.html"
        assert text_of(page).split(" ")[0] in index  # linked from the tutorials' index
        assert "Traceback" not in page.read_text()
    compare = outputs_of(site / "tutorials" / "compare.html")
    assert "Survival effect (percentage points)" in compare  # table.md, rendered
    assert re.search(r"microentre .* self_organised .* ecosystem", compare)
    sweep = outputs_of(site / "tutorials" / "sweep.html")
    assert "8 runs" in sweep and "identical to the local ones: 8 runs" in sweep
    workshop = outputs_of(site / "tutorials" / "workshop.html")
    assert re.search(r"Join code: [A-Z0-9]{6}", workshop) and "Aino plays" in workshop
    assert "joint ventures in the room" in workshop  # the debrief
    assert list((site / "_images").glob("*.png")), "the comparison's figures are missing"


def test_getting_started_runs_the_commands(site: Path) -> None:
    out = outputs_of(site / "getting-started.html")
    assert "Scenarios (copsim run NAME)" in out and "Wrote ekollega.toml" in out
    assert "Outputs in runs/ekollega-seed1/" in out
    assert "members after a year" in out


def test_file_reference_is_generated_from_the_schemas(site: Path) -> None:
    text = text_of(site / "reference" / "files.html")
    assert "<!-- copsim:" not in (site / "reference" / "files.html").read_text()
    for key in ("learning.peak_gap", "groups[].cadence_weeks", "funding.phases[].payer",
                "shocks[].depth", "factors[].low", "all_numeric.spread", "mean_last_52",
                "knowledge_gap"):
        assert key in text, key
    for entry in walk(Experiment):
        assert entry.key in text, entry.key


def test_api_reference_and_command_line_help(site: Path) -> None:
    api = (site / "reference" / "api.html").read_text()
    for name in ("copsim.CopModel", "copsim.engine.runner.simulate", "copsim.studies.sweep.run_sweep",
                 "copsim.studies.experiments.load_experiment", "copsim.workshop.room.Room",
                 "copsim.resources.resolve"):
        assert f'id="{name}"' in api, name  # a documented object's anchor
    cli = text_of(site / "reference" / "command-line.html")
    assert "usage: copsim scenarios copy" in cli
    for command in ("run", "validate", "compare", "sweep", "analyze", "scenarios", "dashboard",
                    "workshop"):
        assert f"usage: copsim {command}" in cli, command


def test_a_failing_cell_fails_the_build(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(DOCS / "conf.py", source)
    shutil.copytree(DOCS / "_ext", source / "_ext")
    (source / "index.md").write_text(
        NOTEBOOK_HEADER + "# Broken\n\n```{code-cell} ipython3\n"
        "raise RuntimeError('this tutorial is out of date')\n```\n")
    proc = sphinx_build(source, tmp_path / "out")
    assert proc.returncode != 0
    assert "this tutorial is out of date" in proc.stderr + proc.stdout
