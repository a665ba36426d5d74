"""The engine's hooks for workshop mode (copsim.engine.decisions, docs/odd.md 7.13).

Without decisions the model must be bit-identical to the engine before the hooks:
``data/workshop_engine_baseline.json`` holds the fingerprints of two runs (see
``workshop_baseline.py``, which refreshes them when results change on purpose). With
decisions, each hook does what docs/odd.md says, and the changed meeting kernel stays
bit-equal to its plain-Python twin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from copsim import CopModel
from copsim.engine.decisions import venture_obstacle
from copsim.dtypes import N_TOPICS, EventKind, Topic
from copsim.engine.kernels import get_kernels
from copsim.engine.params import meeting_params
from copsim.scenario.io import load_scenario
from baselines import read
from test_kernels import SCENARIO, SETTINGS, both_engines, hold_args, meeting_inputs
from workshop_baseline import STORE, default_run, fingerprint, small_python_run


def assert_matches_baseline(model: CopModel, key: str) -> None:
    expected = read(STORE)[key]
    got = fingerprint(model)
    differing = sorted(k for k in expected if got.get(k) != expected[k])
    assert not differing, (f"{key}: differs from the stored fingerprint in {differing}; if on "
                           "purpose: .venv/bin/python tests/workshop_baseline.py --refresh")


def test_no_decisions_is_bit_identical_default_scenario() -> None:
    model = default_run()
    assert model.events.count(EventKind.MEETING) > 20
    assert_matches_baseline(model, "default_seed5_60w")


def test_no_decisions_is_bit_identical_python_engine() -> None:
    model = small_python_run()
    assert model.events.count(EventKind.MEETING) > 10
    assert_matches_baseline(model, "small_python_seed11")


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), groups=st.integers(1, 4))
def test_hold_meetings_parity_with_raised_topics(seed: int, n: int, groups: int) -> None:
    p = meeting_params(SCENARIO)

    def build(engine: str) -> tuple[Callable[..., Any], tuple]:
        m = meeting_inputs(engine, seed, n, groups)
        rng = np.random.default_rng(seed + 7)
        m["raised"] = np.where(rng.random(n) < 0.5, rng.integers(0, N_TOPICS, n), -1).astype(np.int8)
        return get_kernels(engine).hold_meetings, hold_args(m, p)

    both_engines(build)


# -- each hook ---------------------------------------------------------------------------


def workshop_model(seed: int = 3, engine: str = "numba") -> CopModel:
    """The workshop scenario after week 0 (groups started, first meetings held); the
    groups meet next in week 4."""
    model = CopModel(load_scenario("workshop"), seed=seed, engine=engine)
    model.step()
    assert all(len(model.members_of(g)) >= 12 for g in range(3))
    return model


def meetings_of_week(model: CopModel, week: int) -> Any:
    ev = model.events.to_frame()
    return ev[(ev.week == week) & (ev.kind == "meeting")]


def test_forced_attendance_overrides_the_draw_and_nobody_else_changes() -> None:
    free, forced = workshop_model(), workshop_model()
    members = sorted(forced.members_of(0))
    stay_away, come = members[:4], members[4:8]
    forced.decisions.attend.update({row: False for row in stay_away})
    forced.decisions.attend.update({row: True for row in come})
    before = forced.firms.meetings_attended.copy()
    free.run(4)
    forced.run(4)
    f = forced.firms
    assert all(f.meetings_attended[r] == before[r] for r in stay_away)
    assert all(f.meetings_attended[r] == before[r] + 1 for r in come)
    others = [r for g in range(3) for r in sorted(free.members_of(g)) if r not in forced.decisions.attend]
    np.testing.assert_array_equal(free.firms.meetings_attended[others], f.meetings_attended[others])


def test_raised_topic_sets_the_hosts_theme() -> None:
    model = workshop_model()
    for row in sorted(model.members_of(1)):
        model.decisions.topic[row] = int(Topic.EXPORT)
    model.run(4)
    meetings = meetings_of_week(model, 4)
    assert meetings[meetings.group == 1].topic.tolist() == ["export"]
    assert len(meetings) == 3
    assert (model.firm_scratch.raised == -1).all(), "raised topics are reset after the meeting"


def test_raised_topic_is_what_a_member_asks_about() -> None:
    """With every member raising a topic, the request for information is on one of them."""
    model = workshop_model(seed=4)
    for g in range(3):
        for row in sorted(model.members_of(g)):
            model.decisions.topic[row] = int(Topic.REGULATION)
            model.decisions.attend[row] = True
    model.run(12)
    ev = model.events.to_frame()
    ev = ev[(ev.week >= 1) & ev.firm.isin(list(model.decisions.topic))]
    asks = ev[(ev.kind == "activity") & (ev.activity == "request_information")]
    assert len(asks) > 0 and set(asks.topic.astype(str)) == {"regulation"}
    hosts = ev[ev.kind == "meeting"]
    assert len(hosts) >= 6 and set(hosts.topic.astype(str)) == {"regulation"}
    solved = ev[(ev.kind == "activity") & (ev.activity == "problem_solving")]
    assert set(solved.topic.astype(str)) <= {"regulation"}


def pair_in_group(model: CopModel, gid: int) -> tuple[int, int]:
    rows = sorted(model.members_of(gid))
    return rows[0], rows[1]


def test_conversation_partners_learn_and_trust_more() -> None:
    plain, talking = workshop_model(), workshop_model()
    i, j = pair_in_group(talking, 0)
    for model in (plain, talking):
        model.decisions.attend.update({i: True, j: True})
    talking.decisions.partner[i] = j
    plain.run(4)
    talking.run(4)
    e_plain = plain.ties.index[min(i, j) * 2**32 + max(i, j)]
    e_talk = talking.ties.index[min(i, j) * 2**32 + max(i, j)]
    assert talking.ties.trust[e_talk] > plain.ties.trust[e_plain]
    gained = (talking.firms.knowledge[[i, j]] - plain.firms.knowledge[[i, j]]).sum()
    assert gained > 0
    assert talking.decisions.outcomes[-1]["result"] == "talked"


def test_conversation_needs_both_at_the_meeting() -> None:
    model = workshop_model()
    i, j = pair_in_group(model, 0)
    model.decisions.attend.update({i: True, j: False})
    model.decisions.partner[i] = j
    model.run(4)
    assert model.decisions.outcomes[-1]["result"] == "not both at the meeting"


def venture_ready_pair(model: CopModel) -> tuple[int, int]:
    """Two members of one group who met, trust each other enough and complement."""
    for gid in range(3):
        rows = sorted(model.members_of(gid))
        for a in rows:
            for b in rows:
                key = min(a, b) * 2**32 + max(a, b)
                if a < b and key in model.ties.index and venture_obstacle(
                        model, a, b, int(model.ties.index[key])) is None:
                    return a, b
    raise AssertionError("no pair ready for a venture")


def test_agreed_venture_forms_under_the_coordination_rule() -> None:
    model = workshop_model()
    members = [r for g in range(3) for r in model.members_of(g)]
    model.decisions.attend.update({r: True for r in members})
    model.run(8)  # two more meetings together build trust
    a, b = venture_ready_pair(model)
    model.decisions.ventures.append((a, b))
    formed_before = model.events.count(EventKind.VENTURE_FORMED)
    week = model.week
    model.run(4)  # the next meeting
    ev = model.events.to_frame()
    mine = ev[(ev.kind == "venture_formed") & (ev.firm == a) & (ev.other == b)]
    assert len(mine) == 1 and mine.activity.astype(str).iloc[0] == "coordination"
    assert model.events.count(EventKind.VENTURE_FORMED) > formed_before
    assert [o["result"] for o in model.decisions.outcomes if o["kind"] == "venture"][0] == "formed"
    assert week <= int(mine.week.iloc[0]) < model.week


def test_agreed_venture_refused_without_complementary_assets_or_trust() -> None:
    model = workshop_model()
    a, b = pair_in_group(model, 2)
    model.decisions.attend.update({a: True, b: True})
    model.decisions.ventures.append((a, b))
    model.run(4)  # one meeting together before this one is not enough
    outcome = [o for o in model.decisions.outcomes if o["kind"] == "venture"][0]
    assert outcome["result"] == "not enough trust yet"
    f = model.firms
    f.assets[a] = f.assets[b] = 0b11
    e = int(model.ties.index[min(a, b) * 2**32 + max(a, b)])
    model.ties.trust[e] = 0.9
    assert venture_obstacle(model, a, b, e) == "assets do not complement each other"


def test_players_leave_only_by_exit() -> None:
    def leaves(players: bool) -> int:
        s = load_scenario("workshop", ["membership.leave_threshold=1.0",
                                       "membership.leave_probability_per_meeting=1.0",
                                       "membership.grace_weeks=1"])
        model = CopModel(s, seed=2)
        model.step()  # the groups start
        first = {r for g in range(3) for r in model.members_of(g)}
        if players:
            model.decisions.players.update(first)
        model.run(4)  # through week 4, the groups' next meeting date (members leave at one)
        ev = model.events.to_frame()
        return int(((ev.kind == "leave") & (ev.value == 0) & ev.firm.isin(first)).sum())

    assert leaves(False) > 20
    assert leaves(True) == 0


@pytest.mark.parametrize("engine", ["numba", "python"])
def test_decisions_give_the_same_numbers_on_both_engines(engine: str) -> None:
    runs = []
    for eng in ("numba", engine):
        model = workshop_model(seed=6, engine=eng)
        rows = sorted(model.members_of(0))
        model.decisions.attend.update({r: True for r in rows})
        model.decisions.topic.update({r: int(Topic.DIGITAL) for r in rows[:3]})
        model.decisions.partner.update({rows[0]: rows[1], rows[2]: rows[3]})
        model.decisions.ventures.append((rows[4], rows[5]))
        model.run(6)
        runs.append(fingerprint(model))
    assert runs[0] == runs[1]


def test_empty_decisions_after_clear_round_change_nothing() -> None:
    a, b = workshop_model(seed=9), workshop_model(seed=9)
    b.decisions.attend[1] = True
    b.decisions.topic[1] = 2
    b.decisions.clear_round()
    assert not b.decisions.for_meetings()
    a.run(5)
    b.run(5)
    assert fingerprint(a) == fingerprint(b)
