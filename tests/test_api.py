"""The Python API (copsim.api): its docstring examples run, and it gives what the commands give.

The doctests use tiny populations (500-600 firms, half a year) so that the examples in the
documentation are checked on every test run.
"""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import pandas as pd
import pytest
from test_cli import copsim_cli

import copsim
from copsim import api
from copsim.errors import ScenarioError

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def test_docstring_examples_run() -> None:
    failed, attempted = doctest.testmod(api, optionflags=FLAGS)
    assert attempted >= 15
    assert failed == 0


def test_names_are_exported_lazily_from_the_package() -> None:
    assert copsim.simulate is api.simulate
    assert copsim.compare is api.compare
    assert copsim.sweep is api.sweep
    assert copsim.Result is api.Result
    assert {"simulate", "compare", "sweep", "Result"} <= set(copsim.__all__)
    with pytest.raises(AttributeError, match="no attribute 'simulat'"):
        copsim.simulat  # noqa: B018


@pytest.mark.parametrize(("overrides", "key", "reason"), [
    ({"learning.rte": 0.2}, "learning.rte", "Extra inputs are not permitted"),
    ({"learning.rate": "fast"}, "learning.rate", "Input should be a valid number"),
    ({"groups.99.cadence_weeks": 2}, "groups.99", "no such index"),
    ({"": 1}, "''", "an override key is a dotted scenario key"),
])
def test_dict_overrides_fail_with_the_line_of_set(overrides: dict, key: str, reason: str,
                                                  tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        copsim.simulate("microentre", overrides=overrides, population=300, years=0.1)
    message = str(caught.value)
    assert message.startswith(f"{copsim.scenario.library.SCENARIO_DIR / 'microentre.toml'}: {key}: ")
    assert reason in message
    assert "\n" not in message
    if isinstance(next(iter(overrides)), str) and next(iter(overrides)):
        item = "{}={}".format(*next(iter(overrides.items())))
        proc = copsim_cli("run", "--set", item, "--out", str(tmp_path / "out"), cwd=tmp_path)
        assert proc.returncode == 2
        assert proc.stderr.strip() == f"copsim: error: {message}"


def test_a_single_string_is_not_taken_for_a_list_of_overrides() -> None:
    with pytest.raises(ScenarioError, match="not one string"):
        copsim.simulate(overrides="learning.rate=0.2")


def test_simulate_writes_what_copsim_run_writes(tmp_path: Path) -> None:
    ours = copsim.simulate("microentre", seed=4, population=400, years=0.25,
                           overrides={"learning.rate": 0.3}, out=tmp_path / "api")
    proc = copsim_cli("run", "microentre", "--seed", "4", "--population", "400", "--years",
                      "0.25", "--set", "learning.rate=0.3", "--out", str(tmp_path / "cli"),
                      "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for name in ("timeseries.parquet", "events.parquet", "agents.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "api" / name),
                                      pd.read_parquet(tmp_path / "cli" / name))
    summary = json.loads((tmp_path / "cli" / "summary.json").read_text())
    assert json.loads((tmp_path / "api" / "summary.json").read_text()) == summary
    assert summary["weeks"] == ours.summary["weeks"] == 13
    assert ours.firms["ever_member"].sum() == summary["participants_total"]



def test_simulate_without_the_firm_table_changes_nothing_else() -> None:
    """``firms=False`` (what ``copsim run`` asks for: no file holds the table) leaves out
    the end state of every firm and only that."""
    full = copsim.simulate("microentre", seed=5, population=400, years=0.25)
    lean = copsim.simulate("microentre", seed=5, population=400, years=0.25, firms=False)
    assert lean.firms is None and len(full.firms) >= 400
    assert lean.summary == full.summary
    for name in ("timeseries", "events", "agents"):
        pd.testing.assert_frame_equal(getattr(lean, name), getattr(full, name))

def test_compare_returns_what_copsim_compare_writes(tmp_path: Path) -> None:
    ours = copsim.compare(["microentre", "self_organised"], reps=2, years=0.25, population=500,
                          workers=1, out=tmp_path / "api")
    written = pd.read_csv(tmp_path / "api" / "table.csv")
    pd.testing.assert_frame_equal(written, ours.table, check_dtype=False)
    assert (tmp_path / "api" / "table.md").read_text() == ours.markdown
    assert json.loads((tmp_path / "api" / "compare.json").read_text()) == ours.provenance
    assert (tmp_path / "api" / "report.html").exists()
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "api" / "timeseries.parquet"),
                                  ours.timeseries)
    assert ours.provenance["runs"] == 2 * 2 + 2  # two scenarios and one shared counterfactual


def test_compare_and_sweep_reject_bad_input_before_running(tmp_path: Path) -> None:
    with pytest.raises(copsim.CopsimError, match="--reps: 0: must be at least 1"):
        copsim.compare(["microentre"], reps=0)
    with pytest.raises(copsim.CopsimError, match="--workers: 0: must be at least 1"):
        copsim.compare(["microentre"], workers=0)
    with pytest.raises(ScenarioError, match=r"<experiment>: design: Input should be"):
        copsim.sweep({"name": "x", "base": "microentre", "design": "nope",
                      "factors": [{"key": "learning.rate", "values": [0.1]}],
                      "outcomes": [{"name": "participants_total"}]}, out=tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_sweep_resumes_and_returns_results_parquet(tmp_path: Path) -> None:
    experiment = {"name": "api", "base": "microentre", "population": 400, "years": 0.25,
                  "design": "grid", "replicates": 2, "seed": 3,
                  "factors": [{"key": "membership.leave_threshold", "values": [0.2, 0.4]}],
                  "outcomes": [{"name": "participants_total"},
                               {"name": "members_end", "source": "timeseries",
                                "column": "members", "reduce": "last"}]}
    first = copsim.sweep(experiment, out=tmp_path, workers=1, limit=3)
    assert (first.report.ran, first.report.remaining) == (3, 1)
    second = copsim.sweep(experiment, out=tmp_path, workers=1)
    assert (second.report.ran, second.report.remaining) == (1, 0)
    pd.testing.assert_frame_equal(second.results, pd.read_parquet(tmp_path / "results.parquet"))
    assert len(second.results) == 4
    assert list(second.results["status"]) == ["ok"] * 4
    assert second.results["participants_total"].ge(0).all()
