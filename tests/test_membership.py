"""Membership has one owner (copsim.engine.membership) and one truth (``firms.group``):
the roster index always agrees with it, every change is an event, and the week leaves no
scratch behind on the model."""

from __future__ import annotations

import numpy as np

from copsim import CopModel
from copsim.dtypes import EventKind
from copsim.engine import membership
from copsim.engine.week import WeekResult
from test_model import small


def assert_rosters_match_groups(model: CopModel) -> None:
    f, g = model.firms, model.groups
    for gid in range(g.n):
        assert model.members_of(gid) == np.flatnonzero(f.group[: f.n] == gid).tolist(), gid


def test_rosters_follow_joins_leaves_exits_founding_and_dissolution() -> None:
    phase = {"name": "founding", "basis": "calendar", "start_week": 0, "payer": "state",
             "founding": True}
    base = small(years=1.0)
    tiny = {**base.groups[0].model_dump(), "start_week": 0, "initial_members": 3}
    model = CopModel(small(years=1.0, groups=[tiny, base.groups[1].model_dump()],
                           funding={"phases": [phase]},
                           founding={"max_new_groups": 2, "check_every_weeks": 13, "min_interested": 5},
                           membership__critical_mass=4), seed=3)
    for _ in range(model.horizon):
        model.step()
        assert_rosters_match_groups(model)
    counts = model.summary()["events"]
    assert counts["join"] > 0 and counts["leave"] > 0 and counts["group_dissolved"] > 0
    assert counts["group_founded"] >= 3  # the scenario's two groups and founded ones
    members = int((model.firms.group[: model.firms.n] >= 0).sum())
    assert counts["join"] - counts["leave"] == members


def test_dissolving_a_group_makes_every_member_leave() -> None:
    base = small(years=0.2)
    model = CopModel(small(years=0.2, groups=[{**base.groups[0].model_dump(), "start_week": 0}]), seed=4)
    model.run(3)
    gid = int(model.alive_groups()[0])
    rows = model.members_of(gid)
    assert rows
    leaves = model.events.count(EventKind.LEAVE)
    membership.dissolve_group(model, gid, model.week)
    model.events.take()
    assert model.members_of(gid) == []
    assert (model.firms.group[rows] == -1).all()
    assert model.events.count(EventKind.LEAVE) == leaves + len(rows)
    assert not model.groups.alive[gid]


def test_the_week_is_a_result_not_model_scratch() -> None:
    model = CopModel(small(years=0.2), seed=5)
    model.step()
    assert isinstance(model.week_result, WeekResult) and model.week_result.week == 0
    for scratch in ("demand", "week_costs", "attendance", "cost_week", "clustering",
                    "facilitator_hours", "members"):
        assert not hasattr(model, scratch), scratch
    row = model.latest
    assert row["attendance"] == model.week_result.attendance
    assert row["cost_week_eur"] == model.week_result.cost


def test_a_live_session_extends_the_horizon() -> None:
    model = CopModel(small(years=0.1), seed=6)
    model.run()
    assert not model.running
    model.extend_to(model.horizon + 2)
    assert model.running
    model.run()
    assert model.week == model.horizon and not model.running
    model.extend_to(1)  # never shortens
    assert model.horizon == model.week
