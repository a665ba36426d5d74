"""The model as a whole: mechanisms, accounting, reproducibility, CRN and Mesa fit."""

from __future__ import annotations

from functools import cache

import mesa
import numpy as np
import pandas as pd
import pytest

from copsim import CopModel, Entrepreneur, Group
from copsim.scenario.schema import Scenario
from copsim.dtypes import Activity, EventKind, VentureKind, enum_names
from copsim.engine.kernels import get_kernels
from copsim.engine.params import meeting_params
from copsim.scenario.io import load_scenario, scale_population, validate_scenario, with_years
from test_kernels import hold_args, meeting_inputs


def small(years: float = 1.0, population: int = 1500, **changes: object) -> Scenario:
    """The default scenario, smaller and shorter, with top-level sections replaced."""
    s = with_years(scale_population(load_scenario(), population), years)
    data = s.model_dump()
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            data[section][field] = value
        else:
            data[key] = value
    return validate_scenario(data)


def early_groups(s: Scenario) -> list[dict]:
    """The scenario's groups, all starting in the first weeks."""
    return [{**g.model_dump(), "start_week": 2 * i} for i, g in enumerate(s.groups)]


@cache
def default_run() -> CopModel:
    model = CopModel(seed=11)
    model.run()
    return model


def test_every_activity_type_occurs_in_the_default_run() -> None:
    counts = default_run().summary()["activities"]
    assert set(counts) == set(enum_names(Activity))
    assert all(n > 0 for n in counts.values()), counts


def test_default_run_reaches_the_seed_patterns() -> None:
    summary = default_run().summary()
    assert summary["weeks"] == 260
    assert summary["groups_started"] == 13
    assert summary["participants_total"] >= 300
    assert 0.05 <= summary["annual_exit_rate"] <= 0.09
    assert summary["joint_ventures_formed"] > 0
    assert summary["events"]["leave"] > 0  # churn: members do leave


def test_costs_add_up_to_the_funding_spent() -> None:
    model = default_run()
    ts = model.timeseries_frame()
    ledger = sum(model.ledger.entries.values())
    assert ledger == pytest.approx(model.ledger.total, rel=1e-12)
    assert ts["cost_week_eur"].sum() == pytest.approx(model.ledger.total, rel=1e-12)
    assert ts["cost_to_date_eur"].iloc[-1] == pytest.approx(model.ledger.total, rel=1e-12)
    assert set(model.ledger.by_payer()) == {"eu_regional_fund", "pbas"}


def test_cost_of_one_group_matches_the_phase_rates() -> None:
    base = small(years=1.0)
    group = {**base.groups[0].model_dump(), "start_week": 0}
    phase = {"name": "only", "basis": "group_age", "start_week": 0, "payer": "funder",
             "facilitators": ["pbas"], "facilitation_hours_per_week": 10.0,
             "recruitment_hours_per_week": 2.0, "other_eur_per_group_per_year": 5200.0}
    s = small(years=1.0, groups=[group], funding={"phases": [phase]},
              membership__critical_mass=0)
    model = CopModel(s, seed=3)
    model.run()
    weekly = (10.0 + 2.0) * s.facilitators["pbas"].eur_per_hour + 5200.0 / 52
    assert model.ledger.total == pytest.approx(52 * weekly)
    assert model.ledger.entries[("funder", "recruitment")] == pytest.approx(52 * 2.0 * 60.0)


def test_same_seed_same_numbers_other_seed_other_numbers() -> None:
    s = small()
    runs = [CopModel(s, seed=seed) for seed in (5, 5, 6)]
    for model in runs:
        model.run()
    a, b, c = (m.timeseries_frame() for m in runs)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    pd.testing.assert_frame_equal(runs[0].events.to_frame(), runs[1].events.to_frame(), check_exact=True)
    assert not a.equals(c)


def test_whole_run_parity_between_engines() -> None:
    s = small(years=1.0, population=1000, groups=early_groups(small()))
    runs = {}
    for engine in ("numba", "python"):
        model = CopModel(s, seed=21, engine=engine)
        model.run()
        runs[engine] = model
    assert runs["numba"].events.count(EventKind.MEETING) > 20
    pd.testing.assert_frame_equal(runs["numba"].timeseries_frame(),
                                  runs["python"].timeseries_frame(), check_exact=True)
    pd.testing.assert_frame_equal(runs["numba"].events.to_frame(),
                                  runs["python"].events.to_frame(), check_exact=True)
    pd.testing.assert_frame_equal(runs["numba"].agents_frame(), runs["python"].agents_frame(),
                                  check_exact=True)


def test_counterfactual_firms_get_the_same_business_draws() -> None:
    """Common random numbers: firms that never join live the same life without the programme,
    once nothing reaches them through their contacts (referrals and partnerships carry the
    programme's effects to non-members: test_contacts.py)."""
    closed = {"contacts": {**Scenario().contacts.model_dump(), "referral_effect": 0.0,
                           "partner_rate_per_year": 0.0}}
    programme = small(years=1.0, groups=early_groups(small()), **closed)
    nothing = small(years=1.0, groups=[], funding={"phases": []}, **closed)
    a, b = CopModel(programme, seed=8), CopModel(nothing, seed=8)
    a.run()
    b.run()
    fa, fb = a.firms, b.firms
    assert fa.n == fb.n  # the same entrants, row for row
    never = ~fa.ever_member[: fa.n]
    assert (~never).sum() > 50
    for column in ("alive", "cash", "revenue", "employees", "problem_topic", "sector", "region"):
        np.testing.assert_array_equal(getattr(fa, column)[: fa.n][never],
                                      getattr(fb, column)[: fb.n][never], err_msg=column)


def test_no_programme_means_no_meetings_no_cost() -> None:
    model = CopModel(small(groups=[], funding={"phases": []}), seed=4)
    model.run()
    summary = model.summary()
    assert summary["participants_total"] == 0
    assert summary["meetings_held"] == 0
    assert summary["cost_total_eur"] == 0


def solved_share(facilitation: float, seeds: range) -> float:
    """Share of meetings in which the host's problem is solved, over many draws."""
    p = meeting_params(Scenario())
    solved = held = 0
    for seed in seeds:
        m = meeting_inputs("numba", seed, 12, 1)
        m["attend"][:] = True
        m["facilitation"][:] = facilitation
        m["outside_knowledge"][:] = 0.0
        m["f"]["problem_topic"][:] = 2
        args = hold_args(m, p)
        _, _, _, _, n_ev = get_kernels("numba").hold_meetings(*args)
        kinds = args[-1][0].kind[:n_ev]  # the event buffer (columns, rows)
        held += int((kinds == EventKind.MEETING).sum())
        solved += int((kinds == EventKind.PROBLEM_SOLVED).sum())
    return solved / held


def test_facilitated_problem_solving_beats_unfacilitated() -> None:
    seeds = range(400)
    assert solved_share(0.8, seeds) > solved_share(0.0, seeds) + 0.05


def test_joint_ventures_need_complementary_assets() -> None:
    s = small(years=2.0, groups=early_groups(small()))
    without = small(years=2.0, groups=early_groups(small()), firms__asset_probability=0.0)
    kinds = {}
    for name, scenario in (("with", s), ("without", without)):
        model = CopModel(scenario, seed=2)
        model.run()
        v = model.ventures
        kinds[name] = set(v.kind[: v.n].tolist())
    asset_kinds = {VentureKind.SHARED_ASSET, VentureKind.JOINT_CAMPAIGN}
    assert kinds["with"] & asset_kinds
    assert not kinds["without"] & asset_kinds


def test_trust_ties_form_in_meetings_and_fade_when_groups_stop() -> None:
    groups = [{**g, "end_week": 40} for g in early_groups(small())]
    model = CopModel(small(years=2.0, groups=groups), seed=9)
    model.run()
    ts = model.timeseries_frame().set_index("week")
    assert ts.loc[38, "ties"] > 0
    assert ts.loc[103, "strong_ties"] < ts.loc[38, "strong_ties"]
    assert ts.loc[103, "ties"] < ts.loc[38, "ties"]


# -- Mesa fit --------------------------------------------------------------------------

def test_copmodel_runs_with_defaults_and_agents_are_views() -> None:
    model = CopModel()
    model.step()
    firms = model.agents_by_type[Entrepreneur]
    assert len(firms) == int(model.firms.alive[: model.firms.n].sum())
    assert len(model.agents_by_type[Group]) == len(model.scenario.groups)
    agent = next(iter(firms))
    agent.confidence = 0.99
    assert model.firms.confidence[agent.row] == 0.99
    members = firms.select(lambda a: a.is_member)
    assert all(a.group >= 0 for a in members)
    f, n = model.firms, model.firms.n
    assert firms.agg("employees", sum) == int(f.employees[:n][f.alive[:n]].sum())


def test_datacollector_reporters_work_on_the_model() -> None:
    model = CopModel(small(years=0.2), seed=1)
    collector = mesa.DataCollector(
        model_reporters={"members": lambda m: m.latest["members"]},
        agenttype_reporters={Entrepreneur: {"cash": "cash", "knowledge": "knowledge_mean"}})
    for _ in range(3):
        model.step()
        collector.collect(model)
    frame = collector.get_agenttype_vars_dataframe(Entrepreneur)
    assert len(frame) > 3000 and frame["knowledge"].between(0, 1).all()
    builtin = model.datacollector.get_model_vars_dataframe()
    assert list(builtin["members"]) == [row["members"] for row in model.timeseries]
    assert list(builtin["week"]) == [0, 1, 2]  # collected after each week, none before


def test_batch_run_with_explicit_seeds() -> None:
    s = small(years=0.2, population=500)
    results = mesa.batch_run(CopModel, parameters={"scenario": [s], "seed": [1, 2]},
                             max_steps=10, number_processes=1, display_progress=False)
    frame = pd.DataFrame(results)
    assert set(frame["seed"]) == {1, 2}
    final = frame.groupby("seed")["revenue_eur"].last()
    assert final[1] != final[2]


def test_batch_run_rows_are_weeks_with_totals_and_whole_counts() -> None:
    s = small(years=0.5, population=800, groups=early_groups(small()))
    every = pd.DataFrame(mesa.batch_run(CopModel, parameters={"scenario": [s], "seed": [3]},
                                        data_collection_period=1, number_processes=1,
                                        display_progress=False))
    final = pd.DataFrame(mesa.batch_run(CopModel, parameters={"scenario": [s], "seed": [3]},
                                        number_processes=1, display_progress=False))
    assert list(every["Step"]) == list(every["week"]) == list(range(26))
    assert len(final) == 1 and final["week"].iloc[0] == 25
    model = CopModel(s, seed=3)
    model.run()
    summary = model.summary()
    assert final["jv_formed_to_date"].iloc[0] == summary["joint_ventures_formed"] > 0
    assert final["meetings_to_date"].iloc[0] == summary["meetings_held"] > final["meetings"].iloc[0]
    for flow in ("meetings", "joins", "leaves", "jv_formed"):
        assert list(every[f"{flow}_to_date"]) == list(every[flow].cumsum())
    for count in ("firms_alive", "members", "attendance", "meetings", "groups_alive", "joins",
                  "leaves", "ties", "strong_ties", "bridges", "jv_formed", "jv_active",
                  "employment", "joins_to_date"):
        assert type(final[count].iloc[0].item()) is int, count
        assert type(model.latest[count]) is int, count
    assert model.timeseries_frame()["members"].dtype == np.int64


def test_categories_are_names_and_group_members_are_agents() -> None:
    model = CopModel(small(years=0.1, groups=early_groups(small())), seed=4)
    model.run()
    regions = [r.name for r in model.scenario.regions]
    sectors = [x.name for x in model.scenario.environment.sectors]
    firms = model.agents_by_type[Entrepreneur]
    for agent in firms:
        assert agent.region == regions[agent.region_code]
        assert agent.sector == sectors[agent.sector_code]
        assert isinstance(agent.firm_type, str)
        assert agent.problem is None or isinstance(agent.problem, str)
    assert {a.region for a in firms} == set(regions)
    group = next(g for g in model.agents_by_type[Group] if g.member_rows)
    assert group.region in regions and isinstance(group.mode, str)
    members = group.members
    assert isinstance(members, mesa.agent.AgentSet)
    assert all(isinstance(a, Entrepreneur) and a.group == group.row for a in members)
    assert sorted(a.row for a in members) == group.member_rows
    assert len(members.select(lambda a: a.region == group.region)) == len(members)
    no_views = CopModel(model.scenario, seed=4, agent_views=False)
    no_views.run()
    with pytest.raises(RuntimeError, match="member_rows"):
        no_views.agents_by_type[Group][0].members


def test_rng_is_accepted_like_mesa() -> None:
    s = small(years=0.1, population=500)
    by_seed, by_rng = CopModel(s, seed=5), CopModel(s, rng=5)
    by_seed.run()
    by_rng.run()
    assert by_rng.seed == 5
    pd.testing.assert_frame_equal(by_seed.timeseries_frame(), by_rng.timeseries_frame())
    a = CopModel(s, rng=np.random.default_rng(9))
    b = CopModel(s, rng=np.random.default_rng(9))
    assert a.seed == b.seed
    with pytest.raises(ValueError, match="either rng or seed, not both"):
        CopModel(s, seed=1, rng=1)
    rows = pd.DataFrame(mesa.batch_run(CopModel, parameters={"scenario": [s], "rng": [1, 2]},
                                       number_processes=1, display_progress=False))
    assert rows.set_index("rng")["revenue_eur"].nunique() == 2


def test_groups_are_founded_where_funding_allows() -> None:
    phase = {"name": "founding", "basis": "calendar", "start_week": 0, "payer": "state",
             "founding": True, "fixed_eur_per_year": 5200.0}
    s = small(years=1.0, groups=[], funding={"phases": [phase]},
              founding={"max_new_groups": 3, "check_every_weeks": 13, "min_interested": 5})
    model = CopModel(s, seed=12)
    model.run()
    founded = model.events.count(EventKind.GROUP_FOUNDED)
    assert founded == 3
    regions = model.groups.region[: model.groups.n]
    assert len(set(regions.tolist())) == 3  # one per region without a group
    assert model.ledger.entries[("state", "fixed")] == pytest.approx(5200.0)
    unfunded = CopModel(small(years=1.0, groups=[], funding={"phases": []},
                              founding={"max_new_groups": 3}), seed=12)
    unfunded.run()
    assert unfunded.events.count(EventKind.GROUP_FOUNDED) == 0


def test_groups_below_critical_mass_dissolve() -> None:
    base = small(years=1.0)
    tiny = {**base.groups[0].model_dump(), "start_week": 0, "initial_members": 3}
    large = {**base.groups[1].model_dump(), "start_week": 0, "initial_members": 12}
    model = CopModel(small(years=1.0, groups=[tiny, large], funding={"phases": []},
                           membership__critical_mass=4), seed=5)
    model.run()
    dissolved = model.events.to_frame().query("kind == 'group_dissolved'")
    assert dissolved["group"].tolist()[:1] == [0]
    assert dissolved["week"].iloc[0] <= base.groups[0].cadence_weeks
    assert not model.groups.alive[0]


def test_a_shock_cuts_revenue_and_raises_exits() -> None:
    shock = {"name": "pandemic", "start_week": 10, "duration_weeks": 20, "recovery_weeks": 10,
             "depth": 0.5}
    calm = CopModel(small(years=1.0, groups=[]), seed=6)
    hit = CopModel(small(years=1.0, groups=[], environment={"shocks": [shock]}), seed=6)
    calm.run()
    hit.run()
    a, b = calm.timeseries_frame(), hit.timeseries_frame()
    assert (b["revenue_eur"][:10] == a["revenue_eur"][:10]).all()
    assert b["demand_index"][15] == pytest.approx(0.5)
    assert b["revenue_eur"][15] < 0.6 * a["revenue_eur"][15]
    assert b["firms_alive"].iloc[-1] < a["firms_alive"].iloc[-1]


def test_levers_change_the_run_mid_way_and_are_logged() -> None:
    s = small(years=1.0, groups=early_groups(small()))
    model = CopModel(s, seed=4)
    model.run(weeks=10)
    cost_before = model.ledger.total
    model.set_lever("hours_scale", 2.0)
    with pytest.raises(ValueError, match="between 0 and 10"):
        model.set_lever("hours_scale", -1)
    model.step()
    doubled = model.ledger.total - cost_before
    reference = CopModel(s, seed=4)
    reference.run(weeks=11)
    assert doubled > reference.timeseries[-1]["cost_week_eur"]
    assert model.lever_log == [(10, "hours_scale", 2.0)]
    assert model.events.count(EventKind.LEVER) == 1


def test_network_meetings_build_bridges_between_groups() -> None:
    coordinator = {"name": "coordinator", "basis": "calendar", "start_week": 0, "payer": "ministry",
                   "facilitators": ["researcher"], "facilitation_hours_per_week": 4.0,
                   "cross_group_meetings_per_year": 12, "delegates_per_group": 4,
                   "fixed_eur_per_year": 52000.0}
    s = small(years=1.5, groups=early_groups(small()))
    phases = [p.model_dump() for p in s.funding.phases]
    networked = CopModel(small(years=1.5, groups=early_groups(small()),
                               funding={"phases": phases + [coordinator]}), seed=3)
    alone = CopModel(s, seed=3)
    networked.run()
    alone.run()
    assert alone.timeseries_frame()["bridges"].max() == 0
    assert networked.timeseries_frame()["bridges"].iloc[-1] > 0
    events = networked.events.to_frame()
    network_meetings = events.query("kind == 'meeting' and group == @networked.network_group")
    assert len(network_meetings) == 20  # weeks 0, 4, ..., 76
    assert networked.summary()["groups_started"] == alone.summary()["groups_started"]
    assert networked.ledger.entries[("ministry", "fixed")] == pytest.approx(52000.0 * 1.5)


def test_tracked_cohort_is_the_same_firms_in_the_counterfactual() -> None:
    programme = small(years=1.0, groups=early_groups(small()))
    nothing = small(years=1.0, groups=[], funding={"phases": []})
    with_programme = CopModel(programme, seed=8, track_members_at=20)
    with_programme.run()
    members = with_programme.tracked_rows
    assert members is not None and len(members) > 50
    assert (with_programme.firms.ever_member[members]).all()
    alone = CopModel(nothing, seed=8, track_rows=members)
    alone.run()
    a, b = with_programme.timeseries_frame(), alone.timeseries_frame()
    assert a["tracked_alive"][:20].isna().all() and a["tracked_alive"][20:].notna().all()
    assert b["tracked_alive"].notna().all()
    assert b["tracked_alive"].iloc[-1] == alone.firms.alive[members].sum()
    summary = with_programme.summary()
    assert 0 < summary["participants_with_strong_tie"] <= summary["participants_with_partner"] <= 1


def test_hosting_goes_round_every_member_before_anyone_hosts_twice() -> None:
    group = {**small().groups[0].model_dump(), "start_week": 0, "initial_members": 10}
    s = small(years=1.0, groups=[group], funding={"phases": []}, membership__leave_probability_per_meeting=0.0,
              membership__word_of_mouth_per_week=0.0, attendance__base=10.0)
    model = CopModel(s, seed=2)
    model.run(weeks=40)
    hosts = model.events.to_frame().query("kind == 'meeting'")["firm"].tolist()
    assert len(hosts) == 10
    assert len(set(hosts)) == 10  # ten meetings, ten different hosts
