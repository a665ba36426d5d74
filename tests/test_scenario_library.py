"""The scenario library: every file cites its sources, validates, and the patterns claimed in
docs/validation.md hold for a fixed seed."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from conftest import SCENARIOS

from copsim.studies.compare import population_difference
from copsim.dtypes import Activity, enum_names
from copsim.studies.jobs import Job, run_jobs
from copsim.scenario.io import load_scenario, with_years
from copsim.scenario.shocks import SHOCK_DIR, apply_shocks, load_shocks

FILES = sorted(SCENARIOS.glob("*.toml")) + sorted(SHOCK_DIR.glob("*.toml"))
SAME_FIRMS_AS_MICROENTRE = ["self_organised", "no_programme", "national_coordinator", "ecosystem",
                            "communal_space"]
SEED = 1


def header(path: Path) -> str:
    """The comment block a file starts with."""
    lines = path.read_text(encoding="utf-8").splitlines()
    block = []
    for line in lines:
        if not line.startswith("#"):
            break
        block.append(line)
    return "\n".join(block)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_file_starts_with_a_comment_citing_its_sources(path: Path) -> None:
    text = header(path)
    assert text.startswith("# "), "the file must start with a comment"
    assert "Sources" in text, "the comment names its sources"
    assert '"' in text, "the comment quotes the phrase behind the numbers"
    assert "assumption" in text.lower(), "the comment marks what is assumed"


def test_the_issue_s_scenarios_and_shocks_exist() -> None:
    names = {p.stem for p in SCENARIOS.glob("*.toml")}
    assert {"microentre", "ekollega", "ekollega_continued", "communal_space", "self_organised",
            "no_programme", "national_coordinator", "ecosystem"} <= names
    assert {p.stem for p in SHOCK_DIR.glob("*.toml")} >= {"pandemic", "plant_closure"}


@pytest.mark.parametrize("name", SAME_FIRMS_AS_MICROENTRE)
def test_scenarios_meant_to_be_compared_with_microentre_share_its_firms(name: str) -> None:
    assert population_difference(load_scenario("microentre"), load_scenario(name)) is None


def test_ekollega_is_elsewhere_and_its_variant_shares_its_firms() -> None:
    ekollega = load_scenario("ekollega")
    assert population_difference(load_scenario("microentre"), ekollega) is not None
    assert population_difference(ekollega, load_scenario("ekollega_continued")) is None


def test_the_scenarios_say_what_the_issue_asks() -> None:
    ek = load_scenario("ekollega")
    assert ek.run.years == 1.0
    groups = [(g.mode, g.cadence_weeks, g.expert_talks) for g in ek.groups]
    assert groups == [("online", 3, True)] * 2
    assert sum(g.initial_members for g in ek.groups) == 23
    assert all(g.end_week is not None for g in ek.groups)
    assert all(g.end_week is None for g in load_scenario("ekollega_continued").groups)
    space = load_scenario("communal_space").groups
    assert [(g.mode, g.cadence_weeks) for g in space] == [("communal_space", 1)]
    assert space[0].venue_eur_per_week > 0
    assert load_scenario("self_organised").funding.phases == []
    none = load_scenario("no_programme")
    assert none.groups == [] and none.funding.phases == []
    national = [p for p in load_scenario("national_coordinator").funding.phases
                if p.basis == "calendar"]
    assert national[0].start_week == 156 and national[0].cross_group_meetings_per_year > 0
    eco = [p for p in load_scenario("ecosystem").funding.phases if p.basis == "calendar"]
    assert len(eco[0].facilitators) >= 2 and eco[0].recruitment_hours_per_week > 0


@pytest.mark.parametrize("shock", sorted(p.stem for p in SHOCK_DIR.glob("*.toml")))
@pytest.mark.parametrize("name", sorted(p.stem for p in SCENARIOS.glob("*.toml")))
def test_shock_overlays_apply_to_every_scenario(name: str, shock: str) -> None:
    scenario = load_scenario(name)
    scenario = with_years(scenario, max(scenario.run.years, 3.0))
    path, shocks = load_shocks(shock)
    shocked = apply_shocks(scenario, shocks, path)
    assert len(shocked.environment.shocks) == len(scenario.environment.shocks) + len(shocks)


# --- the patterns claimed in docs/validation.md ---------------------------------------------


@pytest.fixture(scope="module")
def summaries() -> dict[str, dict]:
    """microentre (5 years, 11 200 firms) and ekollega (1 year), seed 1, run together."""
    jobs = [Job((name,), load_scenario(name), SEED) for name in ("microentre", "ekollega")]
    return {r.job.key[0]: r.summary for r in run_jobs(jobs, workers=2)}


def test_microentre_reaches_300_firms_with_13_groups_and_all_activities(
        summaries: dict[str, dict]) -> None:
    s = summaries["microentre"]
    assert s["participants_total"] >= 300
    assert s["groups_started"] == 13
    assert list(s["activities"]) == enum_names(Activity)
    assert all(n > 0 for n in s["activities"].values())
    assert 0.05 <= s["annual_exit_rate"] <= 0.09
    # realistic churn: members leave and are replaced, so fewer are members at the end
    assert s["events"]["leave"] > 0.2 * s["participants_total"]
    assert s["members_end"] < s["participants_total"]


def test_ekollega_has_its_23_participants_and_reports_the_partner_share(
        summaries: dict[str, dict]) -> None:
    s = summaries["ekollega"]
    assert abs(s["participants_total"] - 23) <= 2
    assert s["groups_started"] == 2
    for key in ("participants_with_partner", "participants_with_strong_tie"):
        assert not math.isnan(s[key]) and 0.0 <= s[key] <= 1.0
