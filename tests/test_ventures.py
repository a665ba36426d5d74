"""Joint ventures of several firms (issue 12, finding 7): one venture record with its members,
a cost shared among them, members leaving, and readers that count a firm once."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pytest

from copsim.dtypes import VentureKind, VentureStatus
from copsim.engine import ventures
from copsim.engine.kernels import get_kernels
from copsim.engine.kernels.business import N_BUSINESS_UNIFORMS, U_EXIT
from copsim.engine.model import CopModel
from copsim.engine.params import business_params, trust_params
from copsim.engine.state import FirmTable, TieTable, VentureMemberTable, VentureTable
from copsim.scenario.schema import Scenario
from copsim.studies.trial_job import partner_counts
from copsim.viz import feed
from copsim.workshop.debrief import measure
from test_kernels import firm_arrays, table_of
from test_mechanisms import only_activity, scenario
from test_model import early_groups, small

P = trust_params(Scenario())


def one_venture(size: int, cash: np.ndarray, alive: np.ndarray | None = None,
                trust: float = 0.8, demand: float = 1.0, u: float = 0.5,
                kind: VentureKind = VentureKind.JOINT_CAMPAIGN, p: Any = P) -> dict[str, Any]:
    """One active venture of firms 0..size-1 (lead 0, partner j on edge j-1) run for a week."""
    v = table_of(VentureTable, {"kind": np.array([kind]), "uplift": np.array([0.08]),
                                "size": np.array([size])}, 1)
    m = table_of(VentureMemberTable, {"firm": np.arange(size),
                                      "edge": np.arange(-1, size - 1)}, size)
    f = table_of(FirmTable, {"alive": np.ones(size, dtype=np.bool_) if alive is None else alive,
                             "cash": cash.astype(float), "sector": np.zeros(size),
                             "region": np.zeros(size)}, size)
    t = table_of(TieTable, {"trust": np.full(size - 1, trust),
                            "ventures": np.ones(size - 1)}, size - 1, {})
    paid = get_kernels("numba").update_ventures(4, 1, p, np.full((8, 1), demand), v.columns(),
                                                m.columns(), f.columns(), t.columns(),
                                                np.array([u]))
    return {"status": int(v.status[0]), "paid": paid, "cash": f.cash[:size].copy(),
            "uplift": f.venture_uplift[:size].copy(), "left": m.left_week[:size].copy(),
            "trust": t.trust[: size - 1].copy(), "tie_ventures": t.ventures[: size - 1].copy()}


def test_members_share_a_ventures_cost_to_the_euro() -> None:
    for size in (2, 5, 11):
        week = one_venture(size, np.full(size, 1000.0))
        share = P.shared_cost / size + P.member_cost
        assert week["status"] == VentureStatus.ACTIVE
        assert np.allclose(1000.0 - week["cash"], share)
        assert week["paid"] == pytest.approx(P.shared_cost + size * P.member_cost)
        assert week["paid"] == pytest.approx((1000.0 - week["cash"]).sum())
        assert np.all(week["uplift"] == 0.08)  # every member gets the uplift once
    # Economies of scale: each member of a ten-firm venture pays less than a pair's member.
    assert P.shared_cost / 10 + P.member_cost < P.shared_cost / 2 + P.member_cost


def test_the_uplift_is_rebuilt_each_week_from_the_active_ventures_only() -> None:
    """update_ventures zeroes no firm outside a venture (they hold zero already): a member
    of an active venture gets this week's uplift, not last week's on top; a member of a
    venture that ended keeps none."""
    v = table_of(VentureTable, {"kind": np.array([VentureKind.JOINT_CAMPAIGN] * 2),
                                "uplift": np.array([0.08, 0.05]), "size": np.array([2, 2]),
                                "first": np.array([0, 2]),
                                "status": np.array([VentureStatus.ACTIVE, VentureStatus.ENDED])}, 2)
    m = table_of(VentureMemberTable, {"firm": np.array([0, 1, 2, 3]),
                                      "edge": np.array([-1, 0, -1, 1])}, 4)
    t = table_of(TieTable, {"trust": np.full(2, 0.8), "ventures": np.ones(2)}, 2, {})
    for engine in ("numba", "python"):
        f = table_of(FirmTable, {"alive": np.ones(5, dtype=np.bool_), "cash": np.full(5, 1e4),
                                 "sector": np.zeros(5), "region": np.zeros(5),
                                 "venture_uplift": np.array([0.3, 0.3, 0.0, 0.0, 0.0])}, 5)
        get_kernels(engine).update_ventures(4, 2, P, np.ones((8, 1)), v.columns(), m.columns(),
                                            f.columns(), t.columns(), np.array([0.5, 0.5]))
        assert f.venture_uplift[:5].tolist() == [0.08, 0.08, 0.0, 0.0, 0.0]


@pytest.mark.parametrize("engine", ["numba", "python"])
def test_jv_revenue_is_what_the_uplift_adds_to_the_firms_still_alive(engine: str) -> None:
    """What the business kernel reports as ventures' revenue (``jv_revenue_eur``) is the
    revenue of the firms alive at the end of the week less their revenue on the same
    draws without any venture uplift: not revenue times uplift, which counts the uplift
    inside revenue again and ignores its diminishing returns."""
    rng = np.random.default_rng(7)
    n = 300
    f = firm_arrays(rng, n)
    uplift = np.where(rng.random(n) < 0.5, rng.uniform(0.01, 0.4, n), 0.0)
    u, demand = rng.random((n, N_BUSINESS_UNIFORMS)), np.ones((8, 2))
    u[::10, U_EXIT] = 0.0  # every tenth firm exits this week
    p = business_params(Scenario())

    def week(venture_uplift: np.ndarray) -> tuple[float, Any]:
        table = table_of(FirmTable, {**f, "venture_uplift": venture_uplift}, n)
        added = get_kernels(engine).update_business(3, n, p, demand, u, table.columns(),
                                                    np.zeros(n), np.zeros(n, dtype=np.uint8))
        return added, table

    added, lifted = week(uplift)
    none, plain = week(np.zeros(n))
    alive = lifted.alive[:n]
    assert 0 < alive.sum() < f["alive"].sum()  # some firms exited this week
    assert none == 0.0
    assert added == pytest.approx((lifted.revenue[:n] - plain.revenue[:n])[alive].sum(), rel=1e-9)
    assert added < (lifted.revenue[:n] * uplift)[alive].sum()


def test_a_partner_that_exits_leaves_and_the_venture_goes_on() -> None:
    alive = np.array([True, True, False, True])
    week = one_venture(4, np.full(4, 1000.0), alive=alive)
    assert week["status"] == VentureStatus.ACTIVE
    assert week["left"].tolist() == [-1, -1, 4, -1]
    assert week["tie_ventures"].tolist() == [1, 0, 1]
    share = P.shared_cost / 3 + P.member_cost  # split among the three left
    assert week["cash"].tolist() == pytest.approx([1000 - share, 1000 - share, 1000, 1000 - share])


def test_a_venture_ends_when_its_lead_exits_or_one_member_is_left() -> None:
    lead_gone = one_venture(4, np.full(4, 1000.0), alive=np.array([False, True, True, True]))
    assert lead_gone["status"] == VentureStatus.ENDED
    assert lead_gone["tie_ventures"].tolist() == [0, 0, 0]
    alone = one_venture(3, np.full(3, 1000.0), alive=np.array([True, False, False]))
    assert alone["status"] == VentureStatus.ENDED
    assert np.all(alone["cash"] == 1000.0) and alone["tie_ventures"].tolist() == [0, 0]


def test_failure_rises_with_each_member_in_distress_and_with_lost_demand() -> None:
    u = 1.5 * P.failure_rate  # above the hazard of a calm venture at zero trust
    calm = one_venture(6, np.full(6, 1000.0), trust=0.0, u=u)
    assert calm["status"] == VentureStatus.ACTIVE
    one_in_debt = one_venture(6, np.array([1000.0, -1, 1000, 1000, 1000, 1000]), trust=0.0, u=u)
    assert one_in_debt["status"] == VentureStatus.FAILED
    assert np.all(one_in_debt["trust"] == 0.0) and np.all(one_in_debt["tie_ventures"] == 0)
    assert one_venture(6, np.full(6, 1000.0), trust=0.0, demand=0.7, u=u)["status"] == VentureStatus.FAILED
    ended = one_venture(6, np.full(6, 1000.0), trust=0.5, u=1.0 - 0.5 * P.end_rate)
    assert ended["status"] == VentureStatus.ENDED
    assert np.allclose(ended["trust"], 0.5 + P.venture_gain * 0.5)  # every tie of it gains


def test_a_channel_off_venture_neither_lifts_nor_costs() -> None:
    off = trust_params(scenario(channels={"ventures": False}))
    week = one_venture(5, np.full(5, 1000.0), p=off)
    assert week["paid"] == 0.0 and np.all(week["cash"] == 1000.0) and np.all(week["uplift"] == 0)


# -- whole runs -------------------------------------------------------------------------------

@cache
def coordination_run(engine: str = "numba") -> CopModel:
    """Two years of weekly meetings in which only coordination happens, always succeeding
    (and no partnerships through business contacts: every venture is formed in meetings)."""
    groups = [{**g, "cadence_weeks": 1, "initial_members": 16} for g in early_groups(small())]
    s = small(years=2.0, population=1500, groups=groups,
              activities=only_activity("coordination", effect=1.0).model_dump()["activities"],
              ventures__min_trust=0.2, contacts__partner_rate_per_year=0.0)
    model = CopModel(s, seed=2, engine=engine)
    model.run()
    return model


def test_a_coordination_venture_of_eleven_firms_forms_in_a_run() -> None:
    model = coordination_run()
    v = model.ventures
    sizes = v.size[: v.n]
    assert sizes.max() == 11  # the host and ten fellow entrepreneurs (seed 001)
    assert np.all(v.kind[: v.n] == VentureKind.JOINT_CAMPAIGN)
    for vid in range(v.n):  # a firm at most once in a venture
        firms = ventures.firms_of(model, vid)
        assert len(np.unique(firms)) == len(firms)


def test_outputs_count_each_venture_and_each_member_once() -> None:
    model = coordination_run()
    summary = model.summary()
    v, members = model.ventures, model.venture_members
    events = model.events.to_frame()
    formed = events[events.kind == "venture_formed"]
    joined = events[events.kind == "venture_joined"]
    assert summary["joint_ventures_formed"] == v.n == len(formed)
    assert summary["joint_venture_memberships"] == members.n == len(formed) + len(joined)
    assert int(model.timeseries_frame()["jv_formed"].sum()) == v.n
    ended = summary["events"]["venture_ended"] + summary["events"]["venture_failed"]
    assert int(model.latest["jv_active"]) == v.n - ended
    assert summary["joint_venture_cost_eur"] > 0
    revenue = model.timeseries_frame()["jv_revenue_eur"]
    assert summary["joint_venture_revenue_eur"] == round(float(revenue.sum()), 2) > 0
    # partners per firm: every co-member once, however many ventures two firms share
    pairs = ventures.partner_pairs(model)
    assert len(pairs) == len(np.unique(pairs, axis=0))
    per_firm = np.bincount(pairs.ravel(), minlength=model.firms.n)
    for row in np.flatnonzero(per_firm)[:20]:
        co = set()
        for vid in np.flatnonzero(np.isin(np.arange(v.n), members.venture[: members.n][
                members.firm[: members.n] == row])):
            co.update(int(x) for x in ventures.firms_of(model, int(vid)) if x != row)
        assert per_firm[row] == len(co)
    # ventures per firm (debrief): a venture counts once for a set of firms in it
    busiest = int(np.argmax(np.bincount(ventures.memberships(model)[1])))
    vids = members.venture[: members.n][members.firm[: members.n] == busiest]
    assert measure(model, np.array([busiest]))["ventures"] == len(vids) > 1
    everyone_in = ventures.firms_of(model, int(vids[0]))
    assert measure(model, everyone_in)["ventures"] == len(np.unique(
        members.venture[: members.n][np.isin(members.firm[: members.n], everyone_in)]))


def test_the_python_engine_forms_the_same_ventures() -> None:
    a, b = coordination_run("numba"), coordination_run("python")
    for name in VentureTable.COLUMNS:
        assert np.array_equal(getattr(a.ventures, name)[: a.ventures.n],
                              getattr(b.ventures, name)[: b.ventures.n]), name
    for name in VentureMemberTable.COLUMNS:
        assert np.array_equal(getattr(a.venture_members, name)[: a.venture_members.n],
                              getattr(b.venture_members, name)[: b.venture_members.n]), name


def test_form_venture_from_python_and_the_readers_of_a_shared_pair() -> None:
    model = CopModel(small(years=0.1, population=300), seed=1)
    t = model.ties
    index = {}
    for j in (1, 2, 3):
        index[j] = int(t.add_rows(1)[0])
        t.src[index[j]], t.dst[index[j]], t.trust[index[j]] = 0, j, 0.9
    first = ventures.form_venture(model, 0, 0, [1, 2, 3], [index[1], index[2], index[3]],
                                  VentureKind.JOINT_CAMPAIGN, 0.08, activity=4)
    second = ventures.form_venture(model, 0, 1, [0], [index[1]], VentureKind.SHARED_ASSET, 0.08)
    assert (first, second) == (0, 1)
    assert ventures.firms_of(model, first).tolist() == [0, 1, 2, 3]
    assert ventures.firms_of(model, second).tolist() == [1, 0]
    assert t.ventures[index[1]] == 2
    # Firms 0 and 1 share two ventures: still one partner pair, two ventures each.
    pairs = ventures.partner_pairs(model).tolist()
    assert pairs == [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]
    assert np.bincount(ventures.memberships(model)[1]).tolist() == [2, 2, 1, 1]  # ventures per firm
    counts = partner_counts(model)  # the trial's partners: ties and co-members, once each
    assert counts[:5].tolist() == [3, 3, 3, 3, 0]
    assert measure(model, np.array([0, 1]))["ventures"] == 2
    ev = model.events.to_frame()
    ev = ev[ev.kind.astype(str).str.startswith("venture")]
    assert ev.kind.tolist() == ["venture_formed"] + ["venture_joined"] * 3 + [
        "venture_formed", "venture_joined"]
    assert ev.other.tolist() == [-1, 0, 0, 0, 0, 1]
    with pytest.raises(ValueError, match="distinct partners"):
        ventures.form_venture(model, 0, 0, [0], [index[1]], VentureKind.SHARED_ASSET, 0.08)


def test_the_feed_tells_how_many_firms_started_a_venture() -> None:
    model = coordination_run()
    events = model.events.to_frame()
    vid = int(np.argmax(model.ventures.size[: model.ventures.n]))
    week, lead = int(model.ventures.start_week[vid]), ventures.firms_of(model, vid)[0]
    meeting = events[(events.kind == "meeting") & (events.week == week) & (events.firm == lead)]
    lines = feed.describe(model, events[events.week == week])
    assert any(f"{feed.count_words(11)} firms started a joint sales campaign" in line
               for line in lines), lines
    assert len(meeting) == 1
