"""Every numeric scenario value is refused with one line naming its key, or runs to
finite numbers: NaN, infinities, huge, negative and boundary values, alone and mixed.

The base scenario has at least one entry in every list and table of the schema
(regions, sectors, a shock, groups, funding phases, facilitators, activities) and
every optional number set, so every numeric field of the schema is reached (a
test checks that). Runs are tiny (40 firms, at most a year and a half) and go
through the library, not a subprocess. Scenarios larger than that (a boundary of
``regions.*.firms`` or ``run.years``) are checked for a finite memory estimate
instead of being run; the memory check refuses what would not fit.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import annotated_types
import numpy as np
import pytest
from conftest import DEFAULT_FILE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copsim.scenario.schema import Scenario
from copsim.errors import ScenarioError
from copsim.studies.experiments import _numeric_keys, scenario_field
from copsim.engine.memory import run_bytes
from copsim.scenario.odd_tables import DICT_ITEM, LIST_ITEM, is_numeric, walk
from copsim.engine.runner import RunResult, simulate
from copsim.scenario.io import load_scenario

MAX_RUN_FIRMS = 200
MAX_RUN_YEARS = 1.5

BASE_TOML = f"""\
extends = "{DEFAULT_FILE.as_posix()}"
name = "every_field"

[run]
years = 0.5

[[regions]]
name = "North"
firms = 25
[[regions]]
name = "South"
firms = 15

[[environment.shocks]]
name = "dip"
start_week = 8
duration_weeks = 6
recovery_weeks = 6

[[groups]]
name = "North"
region = "North"
cadence_weeks = 2
end_week = 20
initial_members = 8
venue_eur_per_week = 50.0

[founding]
max_new_groups = 1
check_every_weeks = 4

[[funding.phases]]
name = "pilot"
basis = "calendar"
start_week = 0
end_week = 30
founding = true
facilitators = ["pbas"]
facilitation_hours_per_week = 5.0
recruitment_hours_per_week = 5.0
other_eur_per_group_per_year = 1000.0
fixed_eur_per_year = 2000.0
cross_group_meetings_per_year = 4.0
"""

# Outputs that are undefined, not broken, in a run where nobody takes part (or is tracked).
UNDEFINED_WITHOUT_PARTICIPANTS = {"participant_survival_rate", "participants_with_strong_tie",
                                  "participants_with_partner"}
UNTRACKED = {"tracked_alive", "tracked_revenue_eur"}


@pytest.fixture(scope="module")
def base_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("schema") / "every_field.toml"
    path.write_text(BASE_TOML, encoding="utf-8")
    return path


def base_data(base_file: Path) -> dict[str, Any]:
    return load_scenario(base_file).model_dump()


def numeric_keys(base_file: Path) -> list[str]:
    return list(_numeric_keys(Scenario, base_data(base_file)))


def bounds(key: str, data: dict[str, Any]) -> tuple[type, float | None, float | None]:
    """The field's type and its lowest and highest allowed values."""
    kind, info = scenario_field(key, data)
    low = high = None
    for c in info.metadata if info else []:
        if isinstance(c, annotated_types.Ge):
            low = c.ge
        if isinstance(c, annotated_types.Gt):
            low = c.gt + 1 if kind is int else math.nextafter(c.gt, math.inf)
        if isinstance(c, annotated_types.Le):
            high = c.le
    return kind, low, high


def toml_value(value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


# --- the property -----------------------------------------------------------------------------


def named_key(message: str, source: Path) -> str:
    assert "\n" not in message and message.startswith(f"{source}: "), message
    return message.removeprefix(f"{source}: ").split(": ", 1)[0]


def blames(error_key: str, key: str) -> bool:
    """The error names the key, the table holding it, or a sibling it conflicts with."""
    parent = key.rsplit(".", 1)[0]
    return (error_key == key or key.startswith(f"{error_key}.")
            or error_key.rsplit(".", 1)[0] == parent)


def finite_outputs(result: RunResult) -> None:
    """Every number the run produced is finite, except what is undefined by definition."""
    summary = result.summary
    nobody = summary["participants_total"] == 0
    for key, value in _numbers(summary):
        if not math.isfinite(value):
            assert nobody and key in UNDEFINED_WITHOUT_PARTICIPANTS, f"summary {key} = {value}"
    ts = result.timeseries
    for column in ts.columns:
        values = ts[column].to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if column in UNTRACKED:
            continue
        if column == "knowledge_members":
            bad &= ts["members"].to_numpy() > 0
        assert not bad.any(), f"timeseries {column}: {values[bad][:3]}"
    for frame, name in ((result.agents, "agents"), (result.events, "events"), (result.firms, "firms")):
        numeric = frame.select_dtypes("number")
        assert np.isfinite(numeric.to_numpy(dtype=float)).all(), \
            f"{name}: {numeric.columns[~np.isfinite(numeric.to_numpy(dtype=float)).all(axis=0)].tolist()}"


def _numbers(value: Any, key: str = "") -> list[tuple[str, float]]:
    if isinstance(value, dict):
        return [n for k, v in value.items() for n in _numbers(v, k if not key else key)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v, key)]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return []
    return [(key, float(value))]


def check(base_file: Path, overrides: dict[str, float]) -> str:
    """Load with the overrides; a refusal names a key, an accepted scenario runs finite."""
    items = [f"{k}={toml_value(v)}" for k, v in overrides.items()]
    try:
        scenario = load_scenario(base_file, items)
    except ScenarioError as exc:
        error_key = named_key(str(exc), base_file)
        assert any(blames(error_key, k) for k in overrides), f"{exc} for {overrides}"
        return "refused"
    if scenario.population > MAX_RUN_FIRMS or scenario.run.years > MAX_RUN_YEARS:
        assert 0 < run_bytes(scenario) < 2**63
        return "too large to run here"
    finite_outputs(simulate(scenario, seed=3))
    return "ran"


# --- every field, each special value ----------------------------------------------------------


def test_the_base_reaches_every_numeric_field_of_the_schema(base_file: Path) -> None:
    reached = numeric_keys(base_file)
    for entry in walk():
        if is_numeric(entry.info):
            pattern = re.escape(entry.key).replace(re.escape(LIST_ITEM), r"\.\d+")
            pattern = pattern.replace(re.escape(DICT_ITEM), r"\.[^.]+")
            assert any(re.fullmatch(pattern, key) for key in reached), entry.key


SPECIAL = [math.nan, math.inf, -math.inf, 1e300, -1e300]


def test_nan_infinite_and_huge_values_are_refused_naming_the_key(base_file: Path) -> None:
    data = base_data(base_file)
    for key in numeric_keys(base_file):
        kind, _, _ = bounds(key, data)
        for value in SPECIAL:
            with pytest.raises(ScenarioError) as info:
                load_scenario(base_file, [f"{key}={toml_value(value)}"])
            message = str(info.value)
            assert named_key(message, base_file) == key, message
            if kind is float and not math.isfinite(value):
                assert "finite number" in message, message


def test_every_field_at_its_bounds_and_beyond(base_file: Path) -> None:
    """Each bound runs to finite outputs; a step beyond it is refused naming the key."""
    data = base_data(base_file)
    outcomes: dict[str, int] = {}
    for key in numeric_keys(base_file):
        kind, low, high = bounds(key, data)
        assert high is not None, f"{key} has no upper bound"
        step = 1 if kind is int else 1e-6 * max(1.0, abs(high))
        for value in (low, high):
            if value is not None:
                result = check(base_file, {key: kind(value)})
                outcomes[result] = outcomes.get(result, 0) + 1
        assert check(base_file, {key: kind(high + step)}) == "refused", key
        if low is not None:
            assert check(base_file, {key: kind(low - step)}) == "refused", key
        assert check(base_file, {key: kind(-1)}) in ("refused", "ran"), key
    assert outcomes["ran"] > 100  # most bounds are run, not only estimated


# --- mixed values -----------------------------------------------------------------------------


@st.composite
def overrides(draw: st.DrawFn, keys: list[str], data: dict[str, Any]) -> dict[str, float]:
    chosen = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=4, unique=True))
    values = {}
    for key in chosen:
        kind, low, high = bounds(key, data)
        lo = -1e6 if low is None else low
        candidates = [st.sampled_from([math.nan, math.inf, -math.inf, 1e300, -1.0]),
                      st.sampled_from([v for v in (low, high) if v is not None]),
                      st.floats(lo, high, allow_nan=False)]
        value = draw(st.one_of(*candidates))
        values[key] = int(value) if kind is int and math.isfinite(value) else value
    return values


def test_any_mix_of_values_is_refused_or_runs_finite(base_file: Path) -> None:
    keys = numeric_keys(base_file)
    data = base_data(base_file)

    @settings(max_examples=200, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(overrides(keys, data))
    def mixed(values: dict[str, float]) -> None:
        check(base_file, values)

    mixed()


def test_the_base_runs(base_file: Path) -> None:
    assert check(base_file, {}) == "ran"
