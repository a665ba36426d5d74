"""The mechanisms behind the programme's effects (issue 12): each rule does what docs/odd.md
says, and none of them creates an effect out of nothing.

Each test here failed on the rules it replaced: knowledge above every source, hire
readiness that never faded, a well-being bonus for the membership flag, free and
unlimited ventures, confidence for every attendee, coordination limited to three
pairs, visits at 80 % of meetings held at a member's premises, shocks that bring no
problems.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from copsim import CopModel
from copsim.dtypes import N_TOPICS, Activity, EventKind, VentureKind, enum_names
from copsim.engine.contacts import contacts_of
from copsim.engine.kernels import get_kernels
from copsim.engine.kernels.business import F_HIRE, F_HIRE_FAILED, N_BUSINESS_UNIFORMS, U_EXIT
from copsim.engine.params import business_params, meeting_params, trust_params
from copsim.engine.state import PAIR, FirmTable, TieTable, VentureMemberTable, VentureTable
from copsim.scenario.io import validate_scenario
from copsim.scenario.schema import Scenario
from test_kernels import SETTINGS, firm_arrays, hold_args, meeting_inputs, table_of, tie_index
from test_model import early_groups, small

K = get_kernels("numba")
ACTIVITIES = enum_names(Activity)


def scenario(**sections: dict[str, Any]) -> Scenario:
    """The default scenario with some fields of some sections replaced."""
    data = Scenario().model_dump()
    for section, values in sections.items():
        data[section].update(values)
    return validate_scenario(data)


def only_activity(name: str | None, effect: float | None = None, **extra: dict[str, Any]) -> Scenario:
    """A scenario in which only the named activity happens, at every meeting."""
    acts = {a: {"probability": 1.0 if a == name else 0.0,
                "effect": Scenario().activities[a].effect if a != name or effect is None else effect}
            for a in ACTIVITIES}
    return scenario(activities=acts, **extra)


def meet(m: dict[str, Any], p: Any) -> tuple[int, int, tuple]:
    """Hold the meetings of ``m``, apply the lessons, update ``m["f"]``; return (meetings,
    events, args)."""
    args = hold_args(m, p)
    n_meet, n_les, _, _, n_ev = K.hold_meetings(*args)
    firms, scratch, held = args[4], args[5], args[9]
    K.exchange_knowledge(n_les, held.les_learner, held.les_topic, held.les_level, held.les_weight,
                         p.peak_gap, p.value_per_knowledge, firms.knowledge, scratch.value)
    f = m["f"]
    for name in f:
        if hasattr(firms, name):
            f[name][...] = getattr(firms, name)[: len(f[name])]
    f["value"][...] = scratch.value[: len(f["value"])]
    return n_meet, n_ev, args


# -- 1. knowledge never above its sources ---------------------------------------------------

@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 14), rate=st.sampled_from([0.1, 0.3, 1.0]))
def test_a_closed_group_never_knows_more_than_its_best_member_knew(seed: int, n: int,
                                                                  rate: float) -> None:
    p = meeting_params(scenario(learning={"rate": rate}))
    m = meeting_inputs("numba", seed, n, 1)
    m["rows"] = np.arange(n, dtype=np.int64)
    m["ptr"] = np.array([0, n], dtype=np.int64)
    m["attend"] = np.ones(n, dtype=np.bool_)
    for key in ("facilitation", "outside_knowledge", "expert_knowledge"):
        m[key][:] = 0.0  # no facilitator, no outside knowledge, no expert talks
    best = m["f"]["knowledge"].max(axis=0).copy()
    for _ in range(120):  # weekly meetings for more than two years
        meet(m, p)
    assert np.all(m["f"]["knowledge"] <= best)


def test_many_lessons_on_one_topic_stop_at_the_best_teacher() -> None:
    knowledge = np.full((1, N_TOPICS), 0.3)
    lessons = 20
    levels = np.full(lessons, 0.5)
    levels[-1] = 0.55
    K.exchange_knowledge(lessons, np.zeros(lessons, dtype=np.int64),
                         np.zeros(lessons, dtype=np.int64), levels, np.full(lessons, 1.0), 0.25,
                         1.0, knowledge, np.zeros(1))
    assert knowledge[0, 0] == 0.55


@pytest.mark.slow
def test_a_weekly_unfacilitated_group_stays_within_its_members_knowledge() -> None:
    base = small(years=4.0, population=400)
    group = {**base.groups[0].model_dump(), "start_week": 0, "cadence_weeks": 1,
             "expert_talks": False}
    s = small(years=4.0, population=400, groups=[group], funding={"phases": []},
              membership__word_of_mouth_per_week=0.0, membership__leave_probability_per_meeting=0.0,
              learning__rate=0.3)
    model = CopModel(s, seed=3)
    model.step()
    members = np.array(model.members_of(0))
    best = model.firms.knowledge_start[members].max(axis=0)
    model.run()
    assert model.events.count(EventKind.MEETING) > 100
    assert np.all(model.firms.knowledge[members] <= best)


# -- 2. hiring: readiness fades, a hire costs and may fail -----------------------------------

def business(p: Any, f: dict[str, np.ndarray], u: np.ndarray, weeks: int = 1,
             demand: float = 1.0, ties: np.ndarray | None = None) -> np.ndarray:
    """Run the business kernel on ``f`` for some weeks (``ties``: each firm's trust-weighted
    ties, none by default); the flags of the last week."""
    n = len(f["alive"])
    flags = np.zeros(n, dtype=np.uint8)
    table = table_of(FirmTable, f, n)
    ties = np.zeros(n) if ties is None else ties
    for week in range(weeks):
        K.update_business(week, n, p, np.full((8, 2), demand), u, table.columns(), ties, flags)
    for name in f:
        if name in FirmTable.COLUMNS:
            f[name][...] = getattr(table, name)[:n]
    return flags


def calm_firms(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Living firms with cash, no problem, no exit risk in the draws used."""
    f = firm_arrays(np.random.default_rng(seed), n)
    f["alive"][:] = True
    f["cash"][:] = 1e6
    f["employees"][:] = 0
    f["problem_topic"][:] = -1
    f["venture_uplift"][:] = 0.0
    f["referral"][:] = 0.0
    return f


def test_hire_readiness_fades_without_meetings() -> None:
    f = calm_firms(50)
    f["hire_readiness"][:] = 1.0
    f["confidence"][:] = f["confidence_base"][:] = 0.0  # nobody considers hiring
    u = np.full((50, N_BUSINESS_UNIFORMS), 0.99)
    business(business_params(Scenario()), f, u, weeks=52)
    assert np.all(f["hire_readiness"] < 0.4)


def test_a_hire_costs_cash_and_some_hires_fail() -> None:
    p = business_params(Scenario())._replace(hire_rate=1.0, hire_confidence=0.0)
    n = 4000
    f = calm_firms(n)
    f["knowledge"][:] = f["knowledge_start"][:] = 0.35
    u = np.random.default_rng(1).random((n, N_BUSINESS_UNIFORMS))
    u[:, U_EXIT] = 0.999  # no exit
    cash = f["cash"].copy()
    flags = business(p, f, u)
    hired = (flags & (F_HIRE | F_HIRE_FAILED)) != 0
    assert hired.sum() > n / 4
    paid = cash + f["revenue"] - f["cost"] - f["cash"]
    assert np.allclose(paid[hired], p.hire_cost) and np.allclose(paid[~hired], 0.0)
    failed = (flags & F_HIRE_FAILED) != 0
    assert f["employees"][failed].sum() == 0
    assert failed.sum() / hired.sum() == pytest.approx(p.hire_failure, abs=0.03)


# -- 3. well-being from what happened, not from the membership flag --------------------------

def test_members_who_never_meet_get_no_wellbeing_or_survival_bonus() -> None:
    nobody_attends = {"base": -10.0, "felt_value": 0.0, "facilitation": 0.0, "ties": 0.0,
                      "travel": 10.0, "workload": 10.0}
    groups = [{**g.model_dump(), "channel": False} for g in small().groups]  # no posts either
    s = small(years=1.0, population=600, attendance=nobody_attends, groups=groups)
    without = small(years=1.0, population=600, groups=[], funding={"phases": []})
    runs = []
    for sc in (s, without):
        model = CopModel(sc, seed=5)
        model.run()
        runs.append(model.firms)
    ran, cf = runs
    n = cf.n
    members = np.flatnonzero(ran.ever_member[:n])
    assert len(members) > 10
    assert np.array_equal(ran.wellbeing[members], cf.wellbeing[members])
    assert np.array_equal(ran.alive[:n], cf.alive[:n])


def test_support_received_lifts_wellbeing_and_fades() -> None:
    p = business_params(Scenario())
    f = calm_firms(2)
    f["wellbeing"][:] = 0.5
    f["support"][:] = (0.0, 1.0)
    u = np.full((2, N_BUSINESS_UNIFORMS), 0.99)
    business(p, f, u, weeks=10)
    assert f["wellbeing"][1] > f["wellbeing"][0]
    assert f["support"][1] == pytest.approx((1 - p.support_decay) ** 10)


def test_ties_to_peers_lift_wellbeing_with_everything_else_equal() -> None:
    for channel in (True, False):
        p = business_params(scenario(channels={"wellbeing": channel}))
        f = calm_firms(3)
        f["wellbeing"][:] = 0.5
        f["support"][:] = 0.0
        u = np.full((3, N_BUSINESS_UNIFORMS), 0.99)
        business(p, f, u, weeks=20, ties=np.array([0.0, 1.0, 2.0 * p.ties_for_full_effect]))
        if channel:  # more ties, more well-being, up to the full effect
            assert f["wellbeing"][0] < f["wellbeing"][1] < f["wellbeing"][2]
            drift = 1.0 - (1.0 - p.wellbeing_drift) ** 20
            assert f["wellbeing"][2] - f["wellbeing"][0] == pytest.approx(p.ties_effect * drift)
        else:  # the well-being channel of copsim decompose covers ties too
            assert f["wellbeing"][0] == f["wellbeing"][1] == f["wellbeing"][2]


# -- 4. ventures cost, saturate and fail with demand and distress ----------------------------

def venture_week(p: Any, trust: float, cash: float, demand: float, u: float) -> tuple[int, float]:
    """One active two-firm venture for a week: its status and the lead's cash afterwards."""
    index = tie_index("numba", {0 * PAIR + 1: 0})
    ventures = table_of(VentureTable, {"kind": np.array([VentureKind.SHARED_ASSET]),
                                       "uplift": np.array([0.08]), "size": np.array([2])}, 1)
    members = table_of(VentureMemberTable, {"firm": np.array([0, 1]), "edge": np.array([-1, 0])}, 2)
    firms = table_of(FirmTable, {"alive": np.ones(2, dtype=np.bool_), "cash": np.full(2, cash),
                                 "sector": np.zeros(2), "region": np.zeros(2)}, 2)
    ties = table_of(TieTable, {"trust": np.array([trust]), "ventures": np.ones(1)}, 1, index)
    K.update_ventures(3, 1, p, np.full((8, 1), demand), ventures.columns(), members.columns(),
                      firms.columns(), ties.columns(), np.array([u]))
    return int(ventures.status[0]), float(firms.cash[0])


def test_a_venture_costs_its_partners() -> None:
    p = trust_params(Scenario())
    status, cash = venture_week(p, 0.5, 1000.0, 1.0, 0.5)
    assert status == 0 and cash == 1000.0 - p.shared_cost / 2 - p.member_cost


def test_ventures_fail_more_when_demand_falls_or_partners_are_in_distress() -> None:
    p = trust_params(Scenario())
    u = 1.5 * p.failure_rate  # above the hazard in normal times
    assert venture_week(p, 0.0, 1000.0, 1.0, u)[0] == 0
    assert venture_week(p, 0.0, 1000.0, 0.7, u)[0] == 2
    assert venture_week(p, 0.0, -1.0, 1.0, u)[0] == 2


def test_venture_uplift_has_diminishing_returns_up_to_a_ceiling() -> None:
    p = business_params(Scenario())
    f = calm_firms(3)
    f["venture_uplift"][:] = (0.0, 0.08, 10.0)
    u = np.full((3, N_BUSINESS_UNIFORMS), 0.5)
    f["revenue_base"][:] = 1000.0
    f["region"][:] = f["sector"][:] = 0
    f["knowledge"][:] = f["knowledge_start"][:] = 0.35
    business(p, f, u)
    ratio = f["revenue"] / f["revenue"][0]
    assert 1.0 < ratio[1] < 1.08
    assert ratio[2] <= 1.0 + p.max_uplift + 1e-12


# -- 5. membership is decided per meeting; felt value is a net benefit ----------------------

def one_group_scenario(years: float = 1.0, **membership: Any) -> Scenario:
    """One monthly group of 3 members, no recruiters, starting in week 0."""
    base = small(years=years, population=600)
    group = {**base.groups[0].model_dump(), "start_week": 0, "cadence_weeks": 4,
             "initial_members": 3}
    return small(years=years, population=600, groups=[group], funding={"phases": []},
                 membership={**base.membership.model_dump(), **membership})


def test_a_group_below_critical_mass_dissolves_at_a_meeting_date_not_after_a_week() -> None:
    model = CopModel(one_group_scenario(critical_mass=4, word_of_mouth_per_week=0.0), seed=1)
    model.run()
    ev = model.events.to_frame()
    dissolved = ev[ev.kind == "group_dissolved"]
    assert dissolved.week.tolist() == [4]  # meeting dates 0 and 4 (default: 2 in a row)


def test_dissatisfied_members_leave_only_at_meeting_dates() -> None:
    s = one_group_scenario(years=1.0, critical_mass=0, leave_threshold=1.0, grace_weeks=0,
                           leave_probability_per_meeting=0.5, word_of_mouth_per_week=0.0)
    s = validate_scenario({**s.model_dump(), "groups": [{**s.groups[0].model_dump(),
                                                         "initial_members": 30}]})
    model = CopModel(s, seed=4)
    model.run()
    ev = model.events.to_frame()
    left = ev[(ev.kind == "leave") & (ev.value == 0)]
    assert len(left) > 5
    assert set(left.week) <= set(range(0, 52, 4))


def test_missed_meetings_lower_felt_value() -> None:
    nobody = {"base": -10.0, "felt_value": 0.0, "facilitation": 0.0, "ties": 0.0,
              "travel": 10.0, "workload": 10.0}
    s = one_group_scenario(critical_mass=0)
    s = validate_scenario({**s.model_dump(), "attendance": nobody})
    model = CopModel(s, seed=2)
    model.step()
    members = model.members_of(0)
    ms = s.membership
    expected = ms.initial_felt_value * (1 - ms.felt_value_memory * ms.absence_weight)
    assert model.firms.felt_value[members] == pytest.approx(expected)


# -- 6. recruitment: invitations, and word of mouth through contacts --------------------------

def test_word_of_mouth_reaches_only_contacts() -> None:
    s = one_group_scenario(years=1.0, critical_mass=0, leave_probability_per_meeting=0.0,
                           word_of_mouth_per_week=1.0, initial_felt_value=1.0)
    hermits = validate_scenario({**s.model_dump(), "contacts": {
        **s.contacts.model_dump(), "mean_degree": 0.0}})
    alone = CopModel(hermits, seed=3)
    alone.run()
    # without business contacts members' only ties are with each other: nobody outside
    # can be brought in
    assert alone.events.count(EventKind.JOIN) == 3
    model = CopModel(s, seed=3)
    joined = 0
    while model.running:
        before = set(model.members_of(0))
        known = set().union(*(contacts_of(model, row).tolist() for row in before))
        model.step()
        new = set(model.members_of(0)) - before
        assert new <= known or model.week == 1, "a newcomer who was nobody's contact"
        joined += len(new) if model.week > 1 else 0
    assert joined > 3  # business contacts hear of the group


# -- 7. activities reach the firms concerned --------------------------------------------------

def one_group(seed: int, n: int) -> dict[str, Any]:
    m = meeting_inputs("numba", seed, n, 1)
    m["rows"] = np.arange(n, dtype=np.int64)
    m["ptr"] = np.array([0, n], dtype=np.int64)
    m["attend"] = np.ones(n, dtype=np.bool_)
    m["mode"][:] = 0
    return m


def test_growing_confidence_goes_to_the_firms_concerned_only() -> None:
    m = one_group(4, 12)
    before = m["f"]["confidence"].copy()
    _, _, args = meet(m, meeting_params(only_activity("growing_confidence")))
    host = int(args[9].meet_host[0])
    changed = np.flatnonzero(m["f"]["confidence"] != before)
    assert changed.tolist() == [host]


def test_discussing_developments_helps_the_presenting_firm_only() -> None:
    m = one_group(5, 12)
    before = m["f"]["innovation_boost"].copy()
    meet(m, meeting_params(only_activity("discussing_developments")))
    assert (m["f"]["innovation_boost"] != before).sum() == 1


def test_coordination_rallies_its_peers_into_one_venture_up_to_the_cap() -> None:
    n = 13  # the host and 12 peers, two more than the cap of 10 partners
    m = one_group(6, n)
    m["f"]["assets"][:] = 1 << (np.arange(n) % 8)  # complementary to the host's (asset 0)
    m["f"]["assets"][8] = 2  # firm 8 holds asset 1, which the host lacks
    m["f"]["last_hosted"][:] = np.arange(n)  # firm 0 hosts
    m["f"]["assets"][0] = 1
    pairs = {j: j - 1 for j in range(1, n)}  # ties host-j, index key 0 * PAIR + j
    m["index"] = tie_index("numba", pairs)
    m["ties"]["trust"][: n - 1] = 0.9
    m["ties"]["ventures"][: n - 1] = 0
    p = meeting_params(only_activity("coordination", effect=1.0))
    assert p.max_coordination_partners == 10  # seed 001: she asked 10 fellow entrepreneurs
    _, n_ev, args = meet(m, p)
    ven, _, mem, _ = args[-2]
    kinds = args[-1][0].kind[:n_ev]
    assert int((kinds == EventKind.VENTURE_FORMED).sum()) == 1
    assert int((kinds == EventKind.VENTURE_JOINED).sum()) == 10
    # One venture record of eleven firms: the host first, then the first ten peers (row order).
    assert ven.size[0] == 11 and ven.first[0] == 0 and ven.kind[0] == VentureKind.JOINT_CAMPAIGN
    assert ven.size[1] == 0  # no second venture
    assert mem.firm[:11].tolist() == list(range(11))
    assert mem.edge[:11].tolist() == [-1, *range(10)]
    assert m["ties"]["ventures"][:12].tolist() == [1] * 10 + [0, 0]


def test_every_meeting_at_a_members_premises_is_a_visit() -> None:
    model = CopModel(small(years=0.5, population=600, groups=early_groups(small())), seed=2)
    model.run()
    ev = model.events.to_frame()
    meetings = ev[ev.kind == "meeting"]
    visits = ev[(ev.kind == "activity") & (ev.activity == "visits")]
    assert len(meetings) > 5 and len(visits) == len(meetings)


# -- 8. a shock brings problems ---------------------------------------------------------------

def test_a_demand_shock_raises_problem_arrival() -> None:
    p = business_params(Scenario())
    shares = []
    for demand in (1.0, 0.7):
        f = calm_firms(5000)
        u = np.random.default_rng(2).random((5000, N_BUSINESS_UNIFORMS))
        u[:, U_EXIT] = 0.999
        business(p, f, u, demand=demand)
        shares.append(float((f["problem_topic"] >= 0).mean()))
    assert shares[1] == pytest.approx(shares[0] * (1 + p.shock_problem_effect * 0.3), rel=0.15)
