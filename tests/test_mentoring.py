"""Mentoring pairs (docs/odd.md 7.18): who mentors whom, what a session passes on, its
limits (never past the mentor's knowledge), its cost, its fading, and its use in a trial."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from copsim.engine.mentoring import experience
from copsim.engine.model import CopModel
from copsim.errors import ScenarioError
from copsim.scenario.io import load_scenario, validate_scenario
from copsim.scenario.schema import Scenario
from copsim.studies.decompose import CHANNELS, parse_channels
from copsim.studies.trial_design import load_trial
from copsim.studies.trial_job import run_replicate

REPO = Path(__file__).resolve().parents[1]


def scenario(mode: str = "local", *, group_meetings: bool = False, sessions: int = 8,
             end_week: int = 20, **extra: Any) -> Scenario:
    """One region of 400 firms and one group of 16 that mentors from week 2."""
    group = {"name": "pairs", "region": "r", "start_week": 2, "end_week": end_week,
             "initial_members": 16, "selection": "uniform", "channel": False,
             "group_meetings": group_meetings, "mentoring": mode,
             "mentoring_cadence_weeks": 1, "mentoring_sessions": sessions}
    data = {"name": "mentoring_test", "run": {"years": 1.5}, "regions": [{"name": "r", "firms": 400}],
            "groups": [group], **extra}
    return validate_scenario(data, source="test")


def run(s: Scenario, weeks: int, engine: str = "numba", seed: int = 3) -> CopModel:
    model = CopModel(s, seed=seed, engine=engine, agent_views=False)
    model.run(weeks)
    return model


def pairs(model: CopModel) -> list[tuple[int, int]]:
    f = model.firms
    mentees = np.flatnonzero(f.mentor[: f.n] >= 0)
    return [(int(i), int(f.mentor[i])) for i in mentees]


@pytest.mark.parametrize("mode", ["local", "peers"])
def test_mentors_are_more_experienced_and_know_more(mode: str) -> None:
    model = run(scenario(mode, group_meetings=mode == "peers"), 3)
    found = pairs(model)
    assert found, "some members found a mentor"
    f, m = model.firms, model.scenario.mentoring
    for mentee, mentor in found:
        assert experience(model, np.array([mentor]), 3)[0] >= (
            experience(model, np.array([mentee]), 3)[0] + m.min_experience_gap_years)
        assert f.knowledge[mentor].mean() > f.knowledge_start[mentee].mean()
        if mode == "local":
            assert f.group[mentor] < 0, "a local mentor is outside the groups"
            assert f.sector[mentor] == f.sector[mentee], "a local mentor works in the mentee's sector"
        else:
            assert f.group[mentor] == f.group[mentee], "a peer mentor is a member of the same group"
    mentors = [mentor for _, mentor in found]
    assert len(set(mentors)) == len(mentors), "one mentee per mentor (mentoring.mentees_per_mentor)"


def test_sessions_pass_on_knowledge_confidence_and_advice_never_past_the_mentor() -> None:
    model = run(scenario(), 12)
    f = model.firms
    mentees = np.flatnonzero(f.mentor_sessions[: f.n] > 0)
    assert len(mentees) >= 8
    assert (f.advice[mentees] > 0).all()
    assert (f.knowledge[mentees] > f.knowledge_start[mentees] + 1e-12).any(axis=1).all()
    for row in mentees.tolist():
        if f.mentor[row] >= 0:
            mentor = f.mentor[row]
            assert f.advice[row] <= f.knowledge[mentor].mean() + 1e-12
            gained = f.knowledge[row] > f.knowledge_start[row]
            assert (f.knowledge[row][gained] <= f.knowledge[mentor][gained] + 1e-12).all()
    assert f.meetings_attended[mentees].sum() == 0, "a mentoring-only group holds no group meeting"


def test_a_mentee_never_learns_past_its_mentor_however_many_sessions() -> None:
    s = scenario(sessions=200, end_week=80, mentoring={"learning_rate": 1.0, "session_probability": 1.0})
    model = CopModel(s, seed=5, engine="numba", agent_views=False)
    model.run(3)
    f = model.firms
    found = pairs(model)
    mentor_levels = {mentee: f.knowledge[mentor].copy() for mentee, mentor in found}
    for _ in range(60):
        model.step()
        for mentee, level in mentor_levels.items():
            if f.mentor[mentee] >= 0:
                start = f.knowledge_start[mentee]
                assert (f.knowledge[mentee] <= np.maximum(np.maximum(level, f.knowledge[f.mentor[mentee]]),
                                                          start) + 1e-12).all()


def test_what_the_pair_provided_fades_once_sessions_stop() -> None:
    model = run(scenario(sessions=8, end_week=30), 12)
    f = model.firms
    mentees = np.flatnonzero(f.mentor_sessions[: f.n] >= 8)
    assert len(mentees) >= 5
    assert (f.mentor[mentees] < 0).all(), "a pair ends after its last session"
    advice = f.advice[mentees].copy()
    lifted = f.confidence[mentees] - f.confidence_base[mentees]
    model.run(40)
    alive = f.alive[mentees]
    decay = (1 - model.scenario.mentoring.advice_decay_per_week) ** 40
    np.testing.assert_allclose(f.advice[mentees][alive], advice[alive] * decay, rtol=1e-9)
    later = f.confidence[mentees][alive] - f.confidence_base[mentees][alive]
    assert np.abs(later).mean() < 0.75 * np.abs(lifted[alive]).mean()


def test_advice_lowers_running_cost() -> None:
    s = scenario()
    with_advice = CopModel(s, seed=4, engine="numba", agent_views=False)
    without = CopModel(s, seed=4, engine="numba", agent_views=False)
    for model in (with_advice, without):
        model.run(1)
    with_advice.firms.advice[:10] = 0.5
    for model in (with_advice, without):
        model.step()
    saving = 1 - with_advice.firms.cost[:10] / without.firms.cost[:10]
    alive = without.firms.alive[:10]
    np.testing.assert_allclose(saving[alive], s.mentoring.advice_cost_saving * 0.5, rtol=1e-9)


def test_both_firms_time_goes_to_the_participants_account_not_the_funders() -> None:
    """Every session held costs the mentor and the mentee ``session_hours`` each, priced at
    their own rates in the time account; the funders' cost does not depend on it."""
    runs = {h: run(scenario(mentoring={"session_hours": h}), 6) for h in (2.0, 4.0)}
    model = runs[2.0]
    sessions = int(model.firms.mentor_sessions[: model.firms.n].sum())
    assert sessions > 0
    hours, eur = model.time_account.hours, model.time_account.eur
    assert hours["mentoring (mentors)"] == pytest.approx(2.0 * sessions)
    assert hours["mentoring (mentees)"] == pytest.approx(2.0 * sessions)
    assert eur["mentoring (mentors)"] > 0 and eur["mentoring (mentees)"] > 0
    assert not [r for r in model.ledger.rows() if "mentor" in str(r["item"]) + str(r["payer"])]
    longer = runs[4.0]
    assert longer.time_account.hours["mentoring (mentors)"] == pytest.approx(4.0 * sessions)
    assert longer.time_account.eur["mentoring (mentees)"] == pytest.approx(2 * eur["mentoring (mentees)"])
    assert longer.ledger.total == model.ledger.total
    items = [r["item"] for r in model.summary()["participants_time"]]
    assert {"mentoring (mentors)", "mentoring (mentees)"} <= set(items)


def test_with_the_channel_off_sessions_happen_but_pass_nothing_on() -> None:
    model = run(scenario(channels={"mentoring": False}), 12)
    f = model.firms
    mentees = np.flatnonzero(f.mentor_sessions[: f.n] > 0)
    assert len(mentees) >= 8
    assert (f.advice[: f.n] == 0).all()
    assert (f.knowledge[mentees] <= f.knowledge_start[mentees]).all()


def test_engines_agree_on_a_run_with_mentoring() -> None:
    for mode in ("local", "peers"):
        s = scenario(mode, group_meetings=mode == "peers")
        a, b = run(s, 14, "numba"), run(s, 14, "python")
        for name in ("knowledge", "advice", "confidence", "mentor", "mentor_sessions", "cash"):
            np.testing.assert_array_equal(getattr(a.firms, name)[: a.firms.n],
                                          getattr(b.firms, name)[: b.firms.n], err_msg=name)
        assert a.ledger.rows() == b.ledger.rows()


def test_without_mentoring_nobody_is_paired() -> None:
    model = run(validate_scenario({"name": "plain", "regions": [{"name": "r", "firms": 200}],
                                   "groups": [{"name": "g", "region": "r"}]}, source="t"), 10)
    assert (model.firms.mentor[: model.firms.n] < 0).all()
    assert (model.firms.advice[: model.firms.n] == 0).all()


def test_a_group_that_neither_meets_nor_mentors_is_an_error() -> None:
    with pytest.raises(ScenarioError, match="group_meetings: a group that does not meet needs mentoring"):
        scenario("none")


def test_ekollega_ships_peer_mentoring() -> None:
    s = load_scenario("ekollega")
    assert {g.mentoring for g in s.groups} == {"peers"}
    model = run(s, 12, seed=1)
    assert int((model.firms.mentor_sessions[: model.firms.n] > 0).sum()) >= 5


def test_decompose_has_a_mentoring_channel_where_a_group_mentors() -> None:
    assert "mentoring" in CHANNELS
    assert "mentoring" in parse_channels(None, load_scenario("ekollega"))
    assert "mentoring" not in parse_channels(None, load_scenario("microentre"))
    assert parse_channels("mentoring,knowledge", load_scenario("microentre")) == ("mentoring", "knowledge")


def test_the_mentoring_trial_has_a_mentoring_arm_whose_firms_meet_mentors() -> None:
    plan = load_trial(REPO / "trials" / "mentoring_rct.toml")
    arms = {a.name: a for a in plan.trial.arms}
    assert arms["mentoring"].mentoring == "local" and arms["mentoring"].meetings == 0
    trial = plan.trial.model_copy(update={"population": None, "horizons": [12]})
    base = plan.scenario().model_copy(update={"regions": [r.model_copy(update={"firms": 150})
                                                          for r in plan.scenario().regions[:3]]})
    firms = run_replicate(trial, base, seed=7)
    end = firms[firms["weeks"] == 12]
    mentored = end[end["arm"] == "mentoring"]
    assert (mentored["sessions"] > 0).mean() > 0.3  # the rest found no mentor who qualifies
    assert (mentored["attended"] == 0).all()
    assert (end.loc[end["arm"] != "mentoring", "sessions"] == 0).all()


def test_an_arm_without_meetings_or_mentoring_is_one_line(tmp_path: Path) -> None:
    text = (REPO / "trials" / "mentoring_rct.toml").read_text().replace('mentoring = "local"', "")
    text = text.replace('base = "microentre"', f'base = "{REPO / "scenarios" / "microentre.toml"}"')
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=r"arms\.1\.meetings: .*needs mentoring"):
        load_trial(path)


def test_a_pair_becomes_a_tie_that_decays_after_the_sessions() -> None:
    model = run(scenario(sessions=6, end_week=30), 3)
    found = pairs(model)
    assert len(found) >= 5
    model.run(9)
    t, f = model.ties, model.firms
    edge = {(int(a), int(b)): e for e, (a, b) in enumerate(zip(t.src[: t.n], t.dst[: t.n], strict=True))}
    done = [(i, j) for i, j in found if f.mentor_sessions[i] >= 6]
    assert len(done) >= 5
    edges = [edge[min(i, j), max(i, j)] for i, j in done]
    trust = t.trust[edges].copy()
    assert (trust >= model.scenario.trust.tie_threshold).all()
    model.run(40)
    assert (t.trust[edges] < trust).all()
