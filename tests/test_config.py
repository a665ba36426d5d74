"""Reading scenarios: every bad input is one ``<file>: <key>: <reason>`` line."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SCENARIOS, BadScenario

from copsim.scenario.schema import Scenario
from copsim.errors import ScenarioError
from copsim.scenario.io import load_scenario, scenario_hash


def test_small_scenario_is_valid(small_scenario_file: Path) -> None:
    scenario = load_scenario(small_scenario_file)
    assert scenario.name == "small"
    assert scenario.population == 400
    assert scenario.run.years == 1.0
    # Tables merge with the base: the default's funding phases are inherited.
    assert [p.name for p in scenario.funding.phases] == ["pilot", "maintenance"]


def test_bad_scenario_is_one_line_naming_file_key_and_reason(bad_scenario: BadScenario) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(bad_scenario.path)
    bad_scenario.assert_reported(str(info.value))


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.name)
def test_shipped_scenarios_validate(path: Path) -> None:
    assert isinstance(load_scenario(path), Scenario)


def test_override_changes_the_value(small_scenario_file: Path) -> None:
    scenario = load_scenario(small_scenario_file, ["run.years=2", "groups.0.cadence_weeks=2"])
    assert scenario.run.years == 2.0
    assert scenario.groups[0].cadence_weeks == 2


@pytest.mark.parametrize(
    ("override", "key", "reason"),
    [
        ("run.years=0", "run.years", "greater than 0"),
        ("run.years=abc", "run.years", "valid number"),
        ("run.speed=3", "run.speed", "Extra inputs are not permitted"),
        ("groups.7.name='x'", "groups.7", "no such index"),
        ("years", "years", "KEY=VALUE"),
        ("run.years.x=1", "run.years", "not a table"),
    ],
)
def test_bad_override_is_reported(
    small_scenario_file: Path, override: str, key: str, reason: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(small_scenario_file, [override])
    expected = BadScenario(small_scenario_file, key, reason, (small_scenario_file,))
    expected.assert_reported(str(info.value))


def test_message_stays_one_line_when_the_value_has_a_newline(small_scenario_file: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(small_scenario_file, ['groups.0.region="At\\nlantis"'])
    assert "\n" not in str(info.value)


def test_scenario_hash_is_stable_for_equal_scenarios(small_scenario_file: Path) -> None:
    first = load_scenario(small_scenario_file)
    assert scenario_hash(first) == scenario_hash(load_scenario(small_scenario_file))
    # Setting a value to what it already is gives the same scenario, so the same hash.
    same = load_scenario(small_scenario_file, ["run.years=1.0"])
    assert scenario_hash(first) == scenario_hash(same)


@pytest.mark.parametrize(
    "override", ["run.years=2", "regions.0.firms=401", "learning.rate=0.11", "name='other'"]
)
def test_scenario_hash_changes_with_any_value(small_scenario_file: Path, override: str) -> None:
    base = scenario_hash(load_scenario(small_scenario_file))
    assert scenario_hash(load_scenario(small_scenario_file, [override])) != base


@pytest.mark.parametrize("text", ["", "\n# only a comment\n"], ids=["empty", "comment-only"])
def test_an_empty_scenario_file_is_an_error_not_the_defaults(tmp_path: Path, text: str) -> None:
    path = tmp_path / "empty.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    BadScenario(path, "(file)", "is empty", (path,)).assert_reported(str(info.value))


def test_a_byte_order_mark_is_accepted(tmp_path: Path, small_scenario_file: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + small_scenario_file.read_bytes())
    assert load_scenario(path) == load_scenario(small_scenario_file)


def test_override_of_a_nested_key_keeps_the_rest_of_its_table(small_scenario_file: Path) -> None:
    base = load_scenario(small_scenario_file)
    changed = load_scenario(small_scenario_file, ["activities.building_argument.effect=0.1",
                                                  "learning={rate=0.3}"])
    assert changed.activities["building_argument"].effect == 0.1
    assert changed.activities["building_argument"].probability == \
        base.activities["building_argument"].probability
    assert {k: v for k, v in changed.activities.items() if k != "building_argument"} == \
        {k: v for k, v in base.activities.items() if k != "building_argument"}
    assert changed.learning.rate == 0.3
    assert changed.learning.peak_gap == base.learning.peak_gap


@pytest.mark.parametrize(
    ("override", "reason"),
    [("facilitators.pbas.eur_per_hour=inf", "finite number"),
     ("firms.wage_eur_per_week=inf", "finite number"),
     ("membership.recruits_per_hour=1e20", "less than or equal to"),
     ("funding.phases.0.other_eur_per_group_per_year=inf", "finite number"),
     ("environment.sectors.0.revenue_eur_per_week=nan", "finite number"),
     ("attendance.felt_value=inf", "finite number"),
     ("ventures.mean_duration_weeks=inf", "finite number"),
     ("learning.facilitation_gain=-inf", "finite number")])
def test_values_the_issue_found_are_refused(small_scenario_file: Path, override: str,
                                            reason: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(small_scenario_file, [override])
    key = override.split("=")[0]
    BadScenario(small_scenario_file, key, reason, (small_scenario_file,)).assert_reported(
        str(info.value))
