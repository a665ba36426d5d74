"""The world outside the groups (issue 13, item 1; docs/odd.md 7.19): every firm's business
contacts, partnerships through them inside and outside the programme, referrals from the
contacts' markets, and less sharing between direct competitors.

Each test here failed on the model without contacts: firms had no relations outside the
groups, so no firm outside the programme ever found a partner, no firm gained from its
peers' markets and competitors shared like anyone else.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from copsim import CopModel
from copsim.dtypes import EventKind, VentureKind
from copsim.engine import rows as chunks
from copsim.engine.contacts import contact_week, contacts_of
from copsim.engine.events import EventBuffer
from copsim.engine.kernels import get_kernels
from copsim.engine.params import contact_params, meeting_params
from copsim.engine.state import (
    PAIR, SPARE_SLOTS, ContactTable, FirmTable, TieTable, VentureMemberTable, VentureTable,
)
from copsim.engine.ventures import partner_pairs
from copsim.scenario.io import validate_scenario
from copsim.scenario.schema import Scenario
from copsim.studies.decompose import CHANNELS
from test_kernels import SETTINGS, both_engines, firm_arrays, table_of, tie_index
from test_mechanisms import meet, one_group
from test_model import early_groups, small

K = get_kernels("numba")


def with_contacts(s: Scenario, **contacts: Any) -> Scenario:
    """The scenario with some contact parameters (or channel switches) replaced."""
    data = s.model_dump()
    channels = {k: contacts.pop(k) for k in list(contacts) if k in data["channels"]}
    data["contacts"].update(contacts)
    data["channels"].update(channels)
    return validate_scenario(data)


# -- 1. every firm has contacts, compactly stored ---------------------------------------------

def test_every_firm_has_contacts_in_its_region_from_the_start() -> None:
    s = small(population=3000)
    model = CopModel(s, seed=4, agent_views=False)
    f, slots = model.firms, model.contacts.slots
    n = f.n
    degree = (slots[:n] >= 0).sum(axis=1)
    assert degree.mean() == pytest.approx(s.contacts.mean_degree, rel=0.05)
    assert (degree == 0).mean() < 0.01
    i, k = np.nonzero(slots[:n] >= 0)
    j = slots[:n][i, k]
    assert np.all(f.region[i] == f.region[j]) and np.all(i != j)
    same = (f.sector[i] == f.sector[j]).mean()
    assert same == pytest.approx(s.contacts.same_sector_share, abs=0.03)
    pairs = set(zip(i.tolist(), j.tolist(), strict=True))
    assert all((b, a) in pairs for a, b in pairs)  # symmetric
    assert len(pairs) == len(i)  # nobody is a contact twice
    # compact: int32 slots, the mean degree plus a few spare, no per-firm objects
    assert slots.dtype == np.int32
    assert slots.shape[1] == int(np.ceil(s.contacts.mean_degree)) + SPARE_SLOTS
    assert model.contacts.nbytes() / len(slots) <= 4 * (s.contacts.mean_degree + SPARE_SLOTS + 1)


def test_contacts_do_not_depend_on_the_programme() -> None:
    s = small(population=1500)
    with_programme = CopModel(s, seed=9, agent_views=False)
    without = CopModel(small(population=1500, groups=[], funding={"phases": []}), seed=9,
                       agent_views=False)
    np.testing.assert_array_equal(with_programme.contacts.slots, without.contacts.slots)


def test_entrants_find_contacts_and_replace_those_that_exited() -> None:
    model = CopModel(small(years=2.0, population=1500, groups=[], funding={"phases": []}),
                     seed=2, agent_views=False)
    model.run()
    f, slots = model.firms, model.contacts.slots
    entrants = np.flatnonzero(f.born_week[: f.n] >= 0)
    assert len(entrants) > 100
    assert (slots[entrants] >= 0).sum(axis=1).mean() > 0.8 * model.scenario.contacts.mean_degree
    alive = np.flatnonzero(f.alive[: f.n])
    held = slots[alive]
    living = np.where(held >= 0, f.alive[np.maximum(held, 0)], False).sum(axis=1)
    # exits are made good by newcomers: living contacts stay near the mean degree
    assert living.mean() > 0.85 * model.scenario.contacts.mean_degree


def test_the_slots_in_use_are_a_prefix_of_each_firms_slots() -> None:
    """The weekly scan stops at a firm's first empty slot: it relies on link_firms filling
    the first free slot and on no slot ever being emptied, through two years of entries and
    exits (slots of firms that exited are reused, not cleared)."""
    model = CopModel(small(years=2.0, population=1500, groups=[], funding={"phases": []}),
                     seed=3, agent_views=False)
    model.run()
    f, slots = model.firms, model.contacts.slots[: model.firms.n]
    used = slots >= 0
    assert np.all(used[:, :-1] >= used[:, 1:])  # no slot in use after an empty one
    assert used.all(axis=1).any() and (~used).any()  # some firms full, some with room
    dead_held = used & ~f.alive[np.maximum(slots, 0)]
    assert dead_held.any()  # exits leave their slots in use until a newcomer takes them


def test_a_firms_contacts_are_listed_once() -> None:
    model = CopModel(small(years=1.0, population=1500, groups=early_groups(small())), seed=5,
                     agent_views=False)
    model.run()
    member = model.members_of(0)[0]
    mine = contacts_of(model, member)
    assert len(mine) == len(set(mine.tolist())) and member not in mine
    assert set(model.contacts.of(member).tolist()) <= set(mine.tolist())


# -- 2. partnerships outside the programme, and what the programme adds ------------------------

def contact_inputs(engine: str, seed: int, n: int, room: int = 6) -> dict[str, Any]:
    """Random firms with random symmetric contacts and random ties, some made in meetings."""
    rng = np.random.default_rng(seed)
    f = firm_arrays(rng, n)
    f["revenue"] = f["revenue_base"] * rng.uniform(0.6, 1.4, n)
    slots = np.full((n, room), -1, dtype=np.int32)
    for _ in range(2 * n):
        i, j = rng.integers(0, n, 2)
        a, b = np.flatnonzero(slots[i] < 0), np.flatnonzero(slots[j] < 0)
        if i != j and len(a) and len(b) and j not in slots[i]:
            slots[i, a[0]], slots[j, b[0]] = j, i
    pairs: dict[int, int] = {}
    ties = TieTable({}, 4 * n + 2 * n + 8)
    for _ in range(2 * n):
        i, j = sorted(rng.integers(0, n, 2).tolist())
        if i != j and i * PAIR + j not in pairs:
            e = ties.n
            pairs[i * PAIR + j] = e
            ties.src[e], ties.dst[e] = i, j
            ties.trust[e] = rng.random()
            ties.met[e] = rng.random() < 0.7
            ties.ventures[e] = int(rng.random() < 0.2)
            ties.n += 1
    return {"f": f, "slots": slots, "ties": ties, "index": tie_index(engine, pairs),
            "u": rng.random(n) * rng.choice([1.0, 0.01], n)}


def contact_args(m: dict[str, Any], p: Any) -> tuple:
    """Arguments of contact_week with room for every output (the model's layout)."""
    n = len(m["f"]["alive"])
    ties = m["ties"]
    ties.index = m["index"]
    keep = np.flatnonzero(ties.met[: ties.n] & (ties.trust[: ties.n] >= p.tie_threshold))
    firm = np.concatenate([ties.src[keep], ties.dst[keep]])
    other = np.concatenate([ties.dst[keep], ties.src[keep]])
    order = np.argsort(firm, kind="stable")
    v, vm, ev = VentureTable(n + 1), VentureMemberTable(2 * n + 2), EventBuffer(n + 1)
    tied = np.zeros(n, dtype=np.bool_)
    tied[ties.src[: ties.n]] = tied[ties.dst[: ties.n]] = True
    return (7, n, p, m["slots"], table_of(FirmTable, m["f"], n).columns(), firm[order],
            other[order], ties.columns(), m["index"], ties.n, tied, m["u"], np.empty(n),
            (v.columns(), 0, vm.columns(), 0), (ev.columns(), 0))


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40),
       channels=st.sampled_from([(True, True), (False, True), (True, False)]))
def test_contact_week_parity(seed: int, n: int, channels: tuple[bool, bool]) -> None:
    s = with_contacts(Scenario(), partner_rate_per_year=10.0, partners=channels[0],
                      referrals=channels[1])

    def build(engine: str) -> tuple[Callable[..., Any], tuple]:
        week = partial(contact_week, kernels=get_kernels(engine))
        return week, contact_args(contact_inputs(engine, seed, n), contact_params(s))

    both_engines(build)


def scanned_at_each_turn(args: tuple) -> tuple[int, int, int, int]:
    """The contact week as its rule reads: firm by firm, each firm's contacts scanned at its
    turn (after the partnerships of the firms before it), then its own partnership drawn."""
    (week, n, p, slots, firms, met_firm, met_other, ties, index, n_ties, tied, u, performance, ven,
     ev) = args
    (v, ven_n, vm, mem_n), (ev_cols, ev_n) = ven, ev
    K.relative_performance(n, p, firms.revenue, firms.revenue_base, firms.employees, performance)
    total = np.empty(n)
    for i in range(n):
        only_i = np.where(np.arange(n) == i, u, 1.0)  # u = 1 never starts a partnership
        starts = np.zeros(n, dtype=np.bool_)
        K.scan_contacts(i, i + 1, p, slots, firms.alive, performance, met_firm, met_other, index,
                        ties.trust, ties.met, ties.ventures, tied, firms.referral, total, only_i,
                        starts, False)
        n_ties, ven_n, mem_n, ev_n = K.form_partnerships(
            week, n, p, slots, firms, performance, met_firm, met_other, ties, index, n_ties, tied,
            only_i, total, starts, np.flatnonzero(starts), (v, ven_n, vm, mem_n), (ev_cols, ev_n))
    return n_ties, ven_n, mem_n, ev_n


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 40), chunk=st.integers(1, 12),
       rate=st.sampled_from([0.5, 1.0, 3.0]))
def test_the_contact_week_equals_scanning_each_firm_at_its_turn(seed: int, n: int, chunk: int,
                                                                rate: float) -> None:
    """contact_week, on one thread and in chunks on two, scans every firm's contacts from the
    week's starting state and again only the firms partnered earlier in the week: the same as scanning
    each firm at its turn. Weekly partner rates far beyond the schema's range make
    partnerships common, so many partners were partnered earlier, and a stale strength of
    their contacts would change their chance."""
    p = contact_params(with_contacts(Scenario(), partner_rate_per_year=10.0))._replace(
        partner_rate=rate)
    at_turn, whole, split = (contact_args(contact_inputs("numba", seed, n), p) for _ in range(3))
    expected = scanned_at_each_turn(at_turn)
    assert contact_week(*whole, kernels=K) == expected
    old, chunks.CHUNK_ROWS = chunks.CHUNK_ROWS, chunk
    try:
        assert contact_week(*split, kernels=K, threads=2) == expected
    finally:
        chunks.CHUNK_ROWS = old
    for done in (whole, split):  # firms (referral), ties, ventures, events, the tie index
        assert_same_arrays(at_turn, done)
        assert dict(at_turn[8]) == dict(done[8])


def assert_same_arrays(a: Any, b: Any) -> None:
    """Every array in two nested tuples of kernel arguments equal."""
    if isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, tuple):
        for x, y in zip(a, b, strict=True):
            assert_same_arrays(x, y)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 60), entrants=st.integers(0, 10))
def test_link_firms_parity(seed: int, n: int, entrants: int) -> None:
    def build(engine: str) -> tuple[Callable[..., Any], tuple]:
        rng = np.random.default_rng(seed)
        region = rng.integers(0, 2, n).astype(np.int16)
        sector = rng.integers(0, 3, n).astype(np.int16)
        alive = rng.random(n) < 0.8
        slots = np.full((n, 5), -1, dtype=np.int32)
        rows = np.arange(n - entrants if entrants < n else 0, n, dtype=np.int64)
        links = rng.integers(0, 6, len(rows)).astype(np.int64)
        pool = np.flatnonzero(region == 0)
        return get_kernels(engine).link_firms, (rows, links, pool, 0.3, region, sector, alive,
                                                slots, np.random.default_rng(seed + 1), 60)

    both_engines(build)


def partner_chance(p: Any, met_trust: float, met: bool) -> tuple[float, int]:
    """Share of 400 weeks in which firm 0, with two business contacts and one tie, starts a
    partnership; and with whom it started the last one."""
    f = firm_arrays(np.random.default_rng(0), 4)
    f["alive"][:] = True
    f["revenue"][:] = f["revenue_base"] * (1 + f["employees"] * 0.55)
    slots = np.full((4, 3), -1, dtype=np.int32)
    slots[0, :2] = [1, 2]
    slots[1, 0] = slots[2, 0] = 0
    formed, partner = 0, -1
    for week in range(400):
        ties = TieTable({}, 16)
        ties.src[0], ties.dst[0], ties.trust[0], ties.met[0] = 0, 3, met_trust, met
        ties.n = 1
        m = {"f": {k: a.copy() for k, a in f.items()}, "slots": slots.copy(), "ties": ties,
             "index": tie_index("numba", {3: 0}), "u": np.random.default_rng(week).random(4)}
        args = contact_args(m, p)
        _, n_ven, _, _ = contact_week(*args, kernels=K)
        members = args[13][2].firm[:2]
        if n_ven and 0 in members:
            formed += 1
            partner = int(members[1] if members[0] == 0 else members[0])
    return formed / 400, partner


def test_firms_outside_the_programme_find_partners_through_their_contacts() -> None:
    s = small(years=2.0, population=1500, groups=[], funding={"phases": []})
    model = CopModel(s, seed=6, agent_views=False)
    model.run()
    summary = model.summary()
    assert summary["partnerships_formed"] > 20
    # counted apart from the ventures formed in meetings, but their members pay their cost
    assert summary["joint_ventures_formed"] == summary["joint_venture_memberships"] == 0
    assert summary["joint_ventures_failed"] == 0 and summary["joint_venture_cost_eur"] > 0
    v = model.ventures
    kinds = v.kind[: v.n]
    assert np.all(kinds == VentureKind.PARTNERSHIP)
    assert np.all(v.size[: v.n] == 2)
    a, b = partner_pairs(model).T
    both = model.firms.alive[a] & model.firms.alive[b]  # slots of the living are never reused
    assert both.sum() > 10
    assert all(y in model.contacts.slots[x] for x, y in zip(a[both], b[both], strict=True))
    lone = CopModel(with_contacts(s, partner_rate_per_year=0.0), seed=6, agent_views=False)
    lone.run()
    assert lone.ventures.n == 0


def test_ties_made_in_meetings_raise_the_partner_rate_only_through_contacts() -> None:
    s = with_contacts(Scenario(), partner_rate_per_year=2.0)
    p = contact_params(s)
    base, _ = partner_chance(p, 0.0, True)
    strong, whom = partner_chance(p, 0.9, True)
    assert 0.0 < base < strong  # a strong tie made in meetings is one more, stronger contact
    assert whom in (1, 2, 3)
    outside, _ = partner_chance(p, 0.9, False)  # a tie not made in meetings adds nothing
    assert outside == base
    switched_off, _ = partner_chance(contact_params(with_contacts(s, partners=False)), 0.9, True)
    assert switched_off == base


# -- 3. referrals: better-performing peers, better business ------------------------------------

def referral(p: Any, contact_performance: float, met_performance: float) -> float:
    """Firm 0's referral with one business contact and one tie made in meetings (trust 0.8)
    performing as given (revenue / normal revenue - 1)."""
    f = firm_arrays(np.random.default_rng(1), 3)
    f["alive"][:] = True
    f["employees"][:] = 0
    f["revenue_base"][:] = 1000.0
    f["revenue"][:] = 1000.0 * np.array([1.0, 1 + contact_performance, 1 + met_performance])
    slots = np.full((3, 2), -1, dtype=np.int32)
    slots[0, 0], slots[1, 0] = 1, 0
    ties = TieTable({}, 8)
    ties.src[0], ties.dst[0], ties.trust[0], ties.met[0] = 0, 2, 0.8, True
    ties.n = 1
    m = {"f": f, "slots": slots, "ties": ties, "index": tie_index("numba", {2: 0}),
         "u": np.ones(3)}
    args = contact_args(m, p)
    contact_week(*args, kernels=K)
    return float(args[4].referral[0])


def test_a_firm_with_better_performing_contacts_gets_more_referrals() -> None:
    s = Scenario()
    p = contact_params(s)
    assert referral(p, 0.0, 0.0) == 0.0
    assert referral(p, 0.2, 0.2) == pytest.approx(s.contacts.referral_effect * 0.2)
    assert referral(p, -0.2, -0.2) == pytest.approx(-s.contacts.referral_effect * 0.2)
    # the tie made in meetings weighs with its trust (0.8), the business contact with 0.2
    both = referral(p, 0.0, 0.3)
    assert both == pytest.approx(s.contacts.referral_effect * 0.3 * 0.8 / 1.0)
    off = contact_params(with_contacts(s, referrals=False))
    assert referral(off, 0.0, 0.3) == 0.0


def test_referrals_move_revenue_in_the_business_update() -> None:
    from test_mechanisms import business, calm_firms
    from copsim.engine.params import business_params
    p = business_params(Scenario())
    f = calm_firms(2)
    f["revenue_base"][:] = 1000.0
    f["employees"][:] = 0
    f["knowledge"][:] = f["knowledge_start"][:] = Scenario().firms.knowledge_mean
    f["referral"][:] = [0.0, 0.05]
    u = np.full((2, 8), 0.5)
    business(p, f, u)
    assert f["revenue"][1] / f["revenue"][0] == pytest.approx(1.05)


# -- 4. direct competitors share less -----------------------------------------------------------

def lesson_weights(p: Any, same_sector: bool) -> float:
    """Total lesson weight a two-firm meeting writes, between firms of one region."""
    m = one_group(3, 2)
    m["f"]["region"][:] = 0
    m["f"]["sector"][:] = [1, 1 if same_sector else 2]
    m["f"]["knowledge"][:] = [[0.2] * 8, [0.6] * 8]
    m["f"]["problem_topic"][:] = -1
    m["expert_knowledge"][:] = 0.0
    _, _, args = meet(m, p)
    held = args[9]
    return float(held.les_weight[: 64].sum())


def test_direct_competitors_share_less_in_meetings() -> None:
    s = Scenario()
    only_discussion = {a: {"probability": 0.0, "effect": x.effect} for a, x in s.activities.items()}
    s = validate_scenario({**s.model_dump(), "activities": only_discussion})
    p = meeting_params(s)
    rivals, others = lesson_weights(p, True), lesson_weights(p, False)
    assert others > 0 and rivals == pytest.approx(s.contacts.competitor_sharing * others)
    free = meeting_params(with_contacts(s, competition=False))
    assert lesson_weights(free, True) == pytest.approx(others)


# -- 5. channels of decompose, and the whole run -----------------------------------------------

def test_contact_mechanisms_are_channels_of_decompose() -> None:
    assert {"partners", "referrals", "competition"} <= set(CHANNELS)


def test_a_programme_gives_more_partnerships_to_its_members_than_they_would_have() -> None:
    s = small(years=3.0, population=1500, groups=early_groups(small()),
              contacts__partner_rate_per_year=0.05)
    nothing = small(years=3.0, population=1500, groups=[], funding={"phases": []},
                    contacts__partner_rate_per_year=0.05)
    runs = [CopModel(x, seed=12, agent_views=False) for x in (s, nothing)]
    for model in runs:
        model.run()
    members = np.flatnonzero(runs[0].firms.ever_member[: runs[0].firms.n])

    def partnerships(model: CopModel) -> int:
        ev = model.events.to_frame()
        formed = ev[ev.kind == "partnership"]
        return int(formed.firm.isin(members).sum() + formed.other.isin(members).sum())

    with_programme, without = partnerships(runs[0]), partnerships(runs[1])
    assert without > 0  # the counterfactual is not zero by construction
    assert with_programme > without
    switched = CopModel(with_contacts(s, partners=False), seed=12, agent_views=False)
    switched.run()
    assert partnerships(switched) < with_programme
    assert runs[0].events.count(EventKind.PARTNERSHIP) > 0


def test_python_and_numba_engines_agree_with_contacts_on() -> None:
    s = small(years=0.5, population=800, groups=early_groups(small(population=800)),
              contacts__partner_rate_per_year=0.2)
    runs = [CopModel(s, seed=4, engine=e, agent_views=False) for e in ("numba", "python")]
    for model in runs:
        model.run()
    assert runs[0].events.count(EventKind.PARTNERSHIP) > 5
    np.testing.assert_array_equal(runs[0].contacts.slots, runs[1].contacts.slots)
    assert runs[0].timeseries_frame().equals(runs[1].timeseries_frame())
    assert runs[0].events.to_frame().equals(runs[1].events.to_frame())
    assert isinstance(runs[0].contacts, ContactTable)
