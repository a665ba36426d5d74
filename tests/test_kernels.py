"""Every kernel against its plain-Python twin on random inputs, plus kernel properties.

Each case builds the same random inputs twice (one per engine: a numba typed
Dict or a plain dict for the tie index, a fresh Generator from the same seed),
runs the kernel of each engine, and requires every output (return values,
mutated arrays, the tie index) to be equal bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copsim.scenario.schema import Scenario
from copsim.dtypes import N_TOPICS, WEEK
from copsim.engine.kernels import get_kernels, new_tie_index
from copsim.engine.kernels.business import N_BUSINESS_UNIFORMS
from copsim.engine.kernels.mentoring import N_SESSION_UNIFORMS
from copsim.engine.kernels.meetings import (
    MAX_EVENTS_PER_MEETING, MAX_VENTURE_MEMBERS_PER_MEETING, MAX_VENTURES_PER_MEETING,
)
from copsim.engine.params import business_params, meeting_params, mentoring_params, trust_params
from copsim.engine.events import EventBuffer
from copsim.engine.scratch import FirmScratch, MeetingScratch, Roster
from copsim.engine.state import (
    PAIR, FirmTable, GroupTable, TieTable, VentureMemberTable, VentureTable,
)
from copsim.engine.tables import Table

SCENARIO = Scenario()
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def tie_index(engine: str, pairs: dict[int, int]) -> Any:
    """The tie index in the engine's own dictionary type."""
    index = new_tie_index(engine)
    for key, edge in pairs.items():
        index[key] = edge
    return index


def random_ties(rng: np.random.Generator, n: int, n_ties: int) -> dict[str, Any]:
    """A random tie table over ``n`` firms with up to ``n_ties`` distinct edges."""
    pairs: dict[int, int] = {}
    src, dst = [], []
    for _ in range(n_ties):
        i, j = sorted(rng.choice(n, size=2, replace=False).tolist()) if n > 1 else (0, 0)
        key = i * PAIR + j
        if i == j or key in pairs:
            continue
        pairs[key] = len(src)
        src.append(i)
        dst.append(j)
    m = len(src)
    ties = TieTable({}, m + n * n + 1)
    ties.n = m
    ties.src[:m] = src
    ties.dst[:m] = dst
    ties.trust[:m] = rng.random(m) * (rng.random(m) > 0.2)
    return {"pairs": pairs, "src": ties.src, "dst": ties.dst, "trust": ties.trust,
            "last_week": ties.last_week, "ventures": ties.ventures, "n": m, "table": ties}


def tie_columns(ties: dict[str, Any], index: Any) -> tuple[Any, Any]:
    """The columns of a random tie table, and the engine's own tie index over them."""
    ties["table"].index = index
    return ties["table"].columns(), index


def table_of(table: type[Table], columns: dict[str, np.ndarray], n: int, *args: Any) -> Any:
    """A table of ``n`` rows holding the given columns (the others at their fill value)."""
    made = table(*args, max(n, 1))
    made.n = n
    for name in table.COLUMNS:
        if name in columns:
            getattr(made, name)[:n] = columns[name]
    return made


def as_table_dtypes(columns: dict[str, np.ndarray], table: type[Table]) -> dict[str, np.ndarray]:
    """The arrays in the dtypes the model allocates, so tests compile what runs use."""
    return {name: (a.astype(table.COLUMNS[name].dtype) if name in table.COLUMNS else a)
            for name, a in columns.items()}


def firm_arrays(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Random firm columns covering the edge cases: exits, members, problems, debt."""
    return as_table_dtypes({
        "region": rng.integers(0, 2, n), "sector": rng.integers(0, 8, n),
        "firm_type": rng.integers(0, 5, n).astype(np.int8), "employees": rng.integers(0, 10, n),
        "knowledge": rng.random((n, N_TOPICS)), "knowledge_start": rng.random((n, N_TOPICS)) * 0.5,
        "problem_topic": np.where(rng.random(n) < 0.5, rng.integers(0, N_TOPICS, n), -1),
        "problem_severity": rng.random(n), "confidence": rng.random(n),
        "confidence_base": rng.random(n), "wellbeing": rng.random(n),
        "cash": rng.normal(1000, 3000, n), "revenue_base": rng.uniform(500, 5000, n),
        "revenue": np.zeros(n), "cost": np.zeros(n), "alive": rng.random(n) < 0.9,
        "exit_week": np.full(n, -1), "group": np.where(rng.random(n) < 0.5, rng.integers(0, 3, n), -1),
        "felt_value": rng.random(n), "support": rng.random(n), "hire_readiness": rng.random(n),
        "innovation_boost": rng.random(n) * 0.3, "venture_uplift": rng.random(n) * 0.1,
        "assets": rng.integers(0, 256, n), "assets_revealed": rng.random(n) < 0.5,
        "value": np.zeros(n), "last_hosted": rng.integers(-1, 5, n),
        "referral": (rng.random(n) - 0.5) * 0.1,
        "advice": rng.random(n) * (rng.random(n) < 0.5),
    }, FirmTable)


def assert_same(a: Any, b: Any, where: str = "") -> None:
    """Bit-equal comparison of nested results; names the first differing element."""
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype, where
        diff = np.flatnonzero(~((a == b) | (np.isnan(a) & np.isnan(b))
                                if a.dtype.kind == "f" else a == b).ravel())
        assert diff.size == 0, f"{where}: first difference at flat index {diff[:1]}"
    elif isinstance(a, dict) or hasattr(a, "items"):
        assert dict(a.items()) == dict(b.items()), where
    elif isinstance(a, tuple | list):
        assert len(a) == len(b), where
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{k}]")
    else:
        assert a == b, where


def mutable_outputs(args: tuple) -> list[Any]:
    """Every array and dictionary among the arguments, through nested tuples."""
    found: list[Any] = []
    for x in args:
        if isinstance(x, np.ndarray | dict) or hasattr(x, "items"):
            found.append(x)
        elif isinstance(x, tuple):
            found.extend(mutable_outputs(x))
    return found


def both_engines(build: Callable[[str], tuple[Callable[..., Any], tuple]]) -> None:
    """Run ``build(engine)`` -> (kernel, args) for each engine and compare everything."""
    outputs = {}
    for engine in ("numba", "python"):
        kernel, args = build(engine)
        result = kernel(*args)
        outputs[engine] = (result, mutable_outputs(args))
    assert_same(outputs["numba"], outputs["python"], "outputs")


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 60))
def test_update_business_parity(seed: int, n: int) -> None:
    p = business_params(SCENARIO)

    def build(engine: str) -> tuple[Callable[..., Any], tuple]:
        rng = np.random.default_rng(seed)
        f = firm_arrays(rng, n)
        demand = rng.uniform(0.5, 1.2, (8, 2))
        u = rng.random((n, N_BUSINESS_UNIFORMS))
        ties = rng.random(n) * 5.0 * (rng.random(n) < 0.7)
        args = (3, n, p, demand, u, table_of(FirmTable, f, n).columns(), ties,
                np.zeros(n, dtype=np.uint8))
        return get_kernels(engine).update_business, args

    both_engines(build)


def meeting_inputs(engine: str, seed: int, n: int, groups: int) -> dict[str, Any]:
    """Random groups, members, firms and ties for the meeting kernels."""
    rng = np.random.default_rng(seed)
    f = firm_arrays(rng, n)
    member_of = rng.integers(-1, groups, n)
    due = np.arange(groups, dtype=np.int64)
    lists = [np.flatnonzero(member_of == g) for g in range(groups)]
    ptr = np.zeros(groups + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(x) for x in lists])
    rows = np.concatenate(lists).astype(np.int64) if lists else np.zeros(0, dtype=np.int64)
    ties = random_ties(rng, n, 3 * n)
    return {"f": f, "due": due, "ptr": ptr, "rows": rows, "ties": ties,
            "index": tie_index(engine, ties["pairs"]),
            **as_table_dtypes({
                "mode": rng.integers(0, 4, groups),
                "facilitation": rng.random(groups) * (rng.random(groups) < 0.7),
                "outside_knowledge": rng.random(groups),
                "expert_knowledge": rng.random(groups) * (rng.random(groups) < 0.3),
                "memory": rng.random((groups, N_TOPICS)) * 0.5}, GroupTable),
            "attend": rng.random(len(rows)) < 0.8,
            "rng": np.random.default_rng(seed + 1)}


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), groups=st.integers(1, 4))
def test_attend_meetings_parity(seed: int, n: int, groups: int) -> None:
    p = meeting_params(SCENARIO)

    def build(engine: str) -> tuple[Callable[..., Any], tuple]:
        m = meeting_inputs(engine, seed, n, groups)
        firms = table_of(FirmTable, {**m["f"], "region": m["f"]["region"] * 0}, n)
        roster = Roster(m["due"], m["ptr"], m["rows"], np.zeros(len(m["rows"]), dtype=np.bool_))
        args = (p, roster, group_columns(m), firms.columns(), *tie_columns(m["ties"], m["index"]),
                m["rng"])
        return get_kernels(engine).attend_meetings, args

    both_engines(build)


def group_columns(m: dict[str, Any]) -> Any:
    """The columns of a group table holding the random groups of ``meeting_inputs``."""
    return table_of(GroupTable, m, len(m["due"])).columns()


def hold_args(m: dict[str, Any], p: Any) -> tuple:
    """Arguments of hold_meetings with room for every output."""
    f = m["f"]
    n = len(f["problem_topic"])
    rows = len(m["rows"])
    groups = len(m["due"])
    v = VentureTable(MAX_VENTURES_PER_MEETING * groups + 1)
    vm = VentureMemberTable(MAX_VENTURE_MEMBERS_PER_MEETING * groups + 1)
    ev = EventBuffer(MAX_EVENTS_PER_MEETING * groups + 1)
    sc = MeetingScratch()
    sc.ensure_meetings(groups, rows + 1, rows * rows + 16 * rows + 1)
    firm_scratch = table_of(FirmScratch, {"value": f["value"],
                                          "raised": m.get("raised", np.full(n, -1))}, n)
    return (5, p, Roster(m["due"], m["ptr"], m["rows"], m["attend"]), group_columns(m),
            table_of(FirmTable, f, n).columns(), firm_scratch.columns(),
            *tie_columns(m["ties"], m["index"]), m["rng"], sc.columns(),
            (v.columns(), 0, vm.columns(), 0), (ev.columns(), 0))


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), groups=st.integers(1, 4))
def test_hold_meetings_parity(seed: int, n: int, groups: int) -> None:
    p = meeting_params(SCENARIO)

    def build(engine: str) -> tuple[Callable[..., Any], tuple]:
        return get_kernels(engine).hold_meetings, hold_args(meeting_inputs(engine, seed, n, groups), p)

    both_engines(build)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 30), lessons=st.integers(0, 80))
def test_exchange_knowledge_parity(seed: int, n: int, lessons: int) -> None:
    def build(engine: str) -> tuple[Callable[..., Any], tuple]:
        rng = np.random.default_rng(seed)
        args = (lessons, rng.integers(0, n, lessons), rng.integers(0, N_TOPICS, lessons),
                rng.random(lessons), rng.random(lessons), 0.25, 5.0, rng.random((n, N_TOPICS)),
                np.zeros(n))
        return get_kernels(engine).exchange_knowledge, args

    both_engines(build)


def meeting_scratch(ptr: np.ndarray, rows: np.ndarray, host: np.ndarray,
                    visit: np.ndarray) -> MeetingScratch:
    """Meeting scratch holding meetings ``rows[ptr[q]:ptr[q + 1]]`` with hosts and visits."""
    sc = MeetingScratch()
    sc.ensure_meetings(len(host), len(rows), 0)
    sc.meet_ptr[: len(ptr)] = ptr
    sc.meet_rows[: len(rows)] = rows
    sc.meet_host[: len(host)] = host
    sc.meet_visit[: len(visit)] = visit
    return sc


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 30), meetings=st.integers(0, 4))
def test_strengthen_and_decay_ties_parity(seed: int, n: int, meetings: int) -> None:
    def build(engine: str) -> tuple[Callable[..., Any], tuple]:
        rng = np.random.default_rng(seed)
        t = random_ties(rng, n, n)
        sizes = rng.integers(0, n + 1, meetings)
        rows = np.concatenate([rng.choice(n, size=s, replace=False) for s in sizes]
                              or [np.zeros(0, dtype=np.int64)]).astype(np.int64)
        ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        index = tie_index(engine, t["pairs"])
        ventures = (rng.random(len(t["trust"])) < 0.3).astype(np.int64)
        k = get_kernels(engine)
        sc = meeting_scratch(ptr, rows, rng.integers(0, n, meetings), rng.random(meetings) < 0.5)
        args = (7, meetings, sc.columns(), rng.random(meetings) * 0.3, 0.05,
                *tie_columns(t, index), t["n"])

        def step(*a: Any) -> tuple[int, None]:
            n_ties = k.strengthen_ties(*a)
            return n_ties, k.decay_ties(8, n_ties, 0.1, 0.01, t["trust"], t["last_week"], ventures)

        return step, args

    both_engines(build)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 30))
def test_update_ventures_parity(seed: int, n: int) -> None:
    p = trust_params(SCENARIO)

    def build(engine: str) -> tuple[Callable[..., Any], tuple]:
        rng = np.random.default_rng(seed)
        t = random_ties(rng, n, 2 * n)
        m = t["n"]
        status = rng.integers(0, 3, m).astype(np.int8)
        sizes = rng.integers(2, min(n, 6) + 1, m)
        first = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        firm = np.concatenate([rng.choice(n, s, replace=False) for s in sizes] or [[]])
        edge = rng.integers(0, max(m, 1), len(firm))
        edge[first] = -1
        members = table_of(VentureMemberTable, {
            "venture": np.repeat(np.arange(m), sizes), "firm": firm, "edge": edge,
            "left_week": np.where(rng.random(len(firm)) < 0.2, 4, -1)}, len(firm))
        np.add.at(t["ventures"], edge[edge >= 0], 1)
        ventures = table_of(VentureTable, {"kind": rng.integers(0, 3, m), "first": first,
                                           "size": sizes, "uplift": rng.random(m) * 0.1,
                                           "status": status}, m)
        firms = table_of(FirmTable, firm_arrays(rng, n), n)
        t["table"].index = tie_index(engine, t["pairs"])
        args = (9, m, p, rng.uniform(0.5, 1.2, (8, 2)), ventures.columns(), members.columns(),
                firms.columns(), t["table"].columns(), rng.random(m))
        return get_kernels(engine).update_ventures, args

    both_engines(build)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 30))
def test_tie_strength_parity(seed: int, n: int) -> None:
    def build(engine: str) -> tuple[Callable[..., Any], tuple]:
        rng = np.random.default_rng(seed)
        t = random_ties(rng, n, 2 * n)
        args = (n, t["n"], t["src"], t["dst"], t["trust"], rng.random(len(t["src"])) < 0.8,
                rng.random(n) < 0.8, 0.2, rng.random(n))
        return get_kernels(engine).tie_strength, args

    both_engines(build)


def test_tie_strength_sums_trust_of_ties_made_in_meetings_to_living_firms() -> None:
    ties = TieTable({}, 8)
    ties.n = 5
    ties.src[:5], ties.dst[:5] = [0, 0, 1, 2, 1], [1, 2, 2, 3, 3]
    ties.trust[:5] = [0.5, 0.1, 0.6, 0.9, 0.8]
    ties.met[:5] = [True, True, True, True, False]
    alive = np.array([True, True, True, False])
    for engine in ("numba", "python"):
        out = np.full(4, 7.0)
        get_kernels(engine).tie_strength(4, 5, ties.src, ties.dst, ties.trust, ties.met, alive,
                                         0.2, out)
        # 0-2 is below the threshold; firm 3 has exited, so 2 does not lean on it (but 3 on 2);
        # 1-3 is a partnership's tie through business contacts, not made in meetings.
        assert out.tolist() == [0.5, 0.5 + 0.6, 0.6, 0.9]


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 40))
def test_summaries_parity(seed: int, n: int) -> None:
    def build(engine: str) -> tuple[Callable[..., Any], tuple]:
        rng = np.random.default_rng(seed)
        f = firm_arrays(rng, n)
        t = random_ties(rng, max(n, 1), 2 * n)
        k = get_kernels(engine)
        alive = np.ones(max(n, 1), dtype=np.bool_) if n == 0 else f["alive"]

        def summarise(*_: Any) -> tuple:
            return (k.summarise_firms(0, n, f["alive"], f["group"], rng.integers(-1, 3, n).astype(WEEK),
                                      f["knowledge"], f["revenue_base"], f["employees"],
                                      f["confidence"], f["wellbeing"]),
                    k.summarise_ties(t["n"], t["src"], t["dst"], t["trust"],
                                     np.resize(f["group"], max(n, 1)), alive, 0.2, 0.5),
                    k.average_clustering(t["n"], t["src"], t["dst"], t["trust"], alive, 0.2,
                                         np.zeros(max(n, 1), dtype=np.int64),
                                         np.zeros(max(n, 1) + 1, dtype=np.int64),
                                         np.zeros(2 * t["n"] + 1, dtype=np.int64),
                                         np.zeros(max(n, 1), dtype=np.bool_)))

        return summarise, ()

    both_engines(build)


# -- properties of single kernels --------------------------------------------------------

@pytest.mark.parametrize("engine", ["numba", "python"])
def test_absorptive_capacity_peaks_at_intermediate_gap(engine: str) -> None:
    absorb = get_kernels(engine).absorptive_capacity
    peak = 0.25
    gaps = np.linspace(0.0, 1.0, 101)
    values = np.array([absorb(g, peak) for g in gaps])
    assert values[0] == 0.0
    assert gaps[values.argmax()] == pytest.approx(peak, abs=0.01)
    assert absorb(0.05, peak) < absorb(peak, peak) > absorb(0.9, peak)


def test_learning_largest_at_intermediate_gap_and_never_past_the_teacher() -> None:
    k = get_kernels("numba")
    gaps = [0.02, 0.25, 0.8]
    learner = np.full(3, 0.1)
    knowledge = np.zeros((3, N_TOPICS))
    knowledge[:, 0] = learner
    level = learner + np.array(gaps)
    k.exchange_knowledge(3, np.arange(3), np.zeros(3, dtype=np.int64), level, np.full(3, 0.5),
                         0.25, 5.0, knowledge, np.zeros(3))
    gain = knowledge[:, 0] - learner
    assert gain[1] > gain[0] and gain[1] > gain[2]
    assert np.all(knowledge[:, 0] <= level)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1))
def test_knowledge_stays_in_unit_interval(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, lessons = 10, 200
    knowledge = rng.random((n, N_TOPICS))
    get_kernels("numba").exchange_knowledge(
        lessons, rng.integers(0, n, lessons), rng.integers(0, N_TOPICS, lessons),
        rng.random(lessons) * 1.5, rng.random(lessons) * 5, 0.25, 5.0, knowledge, np.zeros(n))
    assert knowledge.min() >= 0.0 and knowledge.max() <= 1.0


def test_trust_grows_with_meetings_and_decays_without() -> None:
    k = get_kernels("numba")
    index = new_tie_index("numba")
    ties = TieTable(index, 4)
    src, dst, trust, last, ventures = ties.src, ties.dst, ties.trust, ties.last_week, ties.ventures
    sc = meeting_scratch(np.array([0, 2]), np.array([3, 5]), np.array([3]), np.array([False]))
    history = []
    n_ties = 0
    for week in range(5):
        n_ties = k.strengthen_ties(week, 1, sc.columns(), np.array([0.2]), 0.0, ties.columns(),
                                   index, n_ties)
        history.append(trust[0])
    assert n_ties == 1 and (src[0], dst[0]) == (3, 5)
    assert all(b > a for a, b in zip(history, history[1:], strict=False))
    for week in range(5, 15):
        before = trust[0]
        k.decay_ties(week, n_ties, 0.05, 0.01, trust, last, ventures)
        assert trust[0] < before
    assert 0.0 < trust[0] <= 1.0
    ventures[0] = 1  # partners in a joint venture keep in contact
    before = trust[0]
    k.decay_ties(15, n_ties, 0.05, 0.01, trust, last, ventures)
    assert trust[0] == before


def test_clustering_matches_networkx() -> None:
    rng = np.random.default_rng(3)
    n = 25
    t = random_ties(rng, n, 80)
    graph = nx.Graph()
    for e in range(t["n"]):
        if t["trust"][e] >= 0.2:
            graph.add_edge(int(t["src"][e]), int(t["dst"][e]))
    got = get_kernels("numba").average_clustering(
        t["n"], t["src"], t["dst"], t["trust"], np.ones(n, dtype=np.bool_), 0.2,
        np.zeros(n, dtype=np.int64), np.zeros(n + 1, dtype=np.int64),
        np.zeros(2 * t["n"] + 1, dtype=np.int64), np.zeros(n, dtype=np.bool_))
    assert got == pytest.approx(nx.average_clustering(graph), abs=1e-12)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 40), groups=st.integers(1, 4))
def test_channel_lessons_parity(seed: int, n: int, groups: int) -> None:
    def build(engine: str) -> tuple[Callable[..., Any], tuple]:
        m = meeting_inputs(engine, seed, n, groups)
        keep = np.flatnonzero(np.diff(m["ptr"]) > 0)
        ptr = np.concatenate([[0], np.cumsum(np.diff(m["ptr"])[keep])]).astype(np.int64)
        posters = m["rows"][ptr[:-1]] if len(keep) else np.zeros(0, dtype=np.int64)
        cap = len(m["rows"]) + 1
        les = (np.zeros(cap, dtype=np.int64), np.zeros(cap, dtype=np.int64), np.zeros(cap),
               np.zeros(cap))
        return get_kernels(engine).channel_lessons, (
            m["due"][keep], ptr, m["rows"], posters,
            table_of(FirmTable, m["f"], len(m["f"]["alive"])).columns(), m["index"],
            m["ties"]["trust"], 0.05, 0.15, 0.5, les)

    both_engines(build)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 40), channel=st.booleans())
def test_hold_sessions_parity(seed: int, n: int, channel: bool) -> None:
    scenario = Scenario.model_validate({"channels": {"mentoring": channel}})
    p = mentoring_params(scenario)

    def build(engine: str) -> tuple[Callable[..., Any], tuple]:
        rng = np.random.default_rng(seed)
        f = firm_arrays(rng, n)
        pairs = rng.integers(1, n)
        mentees = np.sort(rng.choice(n, size=pairs, replace=False)).astype(np.int64)
        mentors = rng.integers(0, n, pairs).astype(np.int64)
        u = rng.random((pairs, N_SESSION_UNIFORMS))
        lessons = MeetingScratch()
        lessons.ensure_meetings(0, 0, pairs)
        args = (mentees, mentors, u, p, table_of(FirmTable, f, n).columns(),
                np.zeros(pairs, dtype=np.bool_), np.zeros(pairs, dtype=np.bool_), *lessons.lessons)
        return get_kernels(engine).hold_sessions, args

    both_engines(build)
