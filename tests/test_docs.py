"""docs/odd.md stays true to the code: current parameter tables, declared units and
sources, and the section structure of the ODD protocol (Grimm et al. 2020)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from copsim.scenario.odd_tables import (
    END, ODD_PATH, START, Entry, is_numeric, main, parameter_tables, update_odd, walk,
)

ODD_2020_SECTIONS = [
    "Purpose and patterns",
    "Entities, state variables, and scales",
    "Process overview and scheduling",
    "Design concepts",
    "Initialization",
    "Input data",
    "Submodels",
]
DESIGN_CONCEPTS = [
    "Basic principles", "Emergence", "Adaptation", "Objectives", "Learning", "Prediction",
    "Sensing", "Interaction", "Stochasticity", "Collectives", "Observation",
]
def _numeric_entries() -> list[Entry]:
    return [e for e in walk() if is_numeric(e.info)]


def _numeric_params() -> list[object]:
    return [pytest.param(e, id=e.key) for e in _numeric_entries()]


@pytest.fixture
def odd_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "odd.md"
    shutil.copy(ODD_PATH, copy)
    return copy


def _headings(text: str, level: int) -> list[str]:
    """Heading titles of one level, without their section numbers."""
    pattern = re.compile(rf"^{'#' * level} (?:\d+(?:\.\d+)*\s+)?(.+?)\s*$", re.MULTILINE)
    return pattern.findall(text)


def test_parameter_tables_are_up_to_date(odd_copy: Path) -> None:
    assert update_odd(odd_copy) is False, "run: python -m copsim.scenario.odd_tables"
    assert odd_copy.read_text() == ODD_PATH.read_text()
    assert parameter_tables() in ODD_PATH.read_text()


def test_stale_tables_are_detected_and_rewritten(odd_copy: Path) -> None:
    row = "| `learning.peak_gap` | knowledge | 0.25 |"
    text = odd_copy.read_text()
    assert text.index(START) < text.index(row) < text.index(END)
    odd_copy.write_text(text.replace(row, "| `learning.peak_gap` | knowledge | 0.3 |"))
    assert main(["--check", str(odd_copy)]) == 1
    assert update_odd(odd_copy) is True
    assert row in odd_copy.read_text()
    assert main(["--check", str(odd_copy)]) == 0
    assert update_odd(odd_copy) is False


def test_walk_reaches_nested_lists_dicts_and_instances() -> None:
    entries = {e.key: e for e in walk()}
    for key in ("learning.peak_gap", "funding.phases[].start_week", "facilitators.<name>.skill",
                "environment.shocks[].depth", "groups[].cadence_weeks", "regions[].sparsity",
                "activities.<name>.effect"):
        assert key in entries
    # Defaults of nested model instances, not of their class.
    assert entries["modes.online.travel_factor"].default == 0.0
    assert entries["modes.physical.travel_factor"].default == 1.0
    assert len(_numeric_entries()) > 100


@pytest.mark.parametrize("entry", _numeric_params())
def test_numeric_parameter_declares_unit_and_source(entry: Entry) -> None:
    extra = entry.info.json_schema_extra
    assert isinstance(extra, dict), f"{entry.key}: declared without param()"
    assert str(extra.get("unit", "")).strip(), f"{entry.key}: no unit"
    assert str(extra.get("source", "")).strip(), f"{entry.key}: no source"


def test_odd_2020_sections_in_order() -> None:
    text = ODD_PATH.read_text()
    titles = _headings(text, 2)
    found = [t for t in titles if t in ODD_2020_SECTIONS]
    assert found == ODD_2020_SECTIONS


def test_design_concepts_in_order_within_section_4() -> None:
    text = ODD_PATH.read_text()
    start = text.index("## 4 Design concepts")
    end = text.index("\n## ", start + 1)
    assert _headings(text[start:end], 3) == DESIGN_CONCEPTS
