"""Kernel threads change nothing: every output of a run is identical on 1 and 2 threads,
in chunks of any size, and equal to the plain-Python engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from copsim.engine import rows
from copsim.engine.runner import RunResult, simulate
from copsim.scenario.io import load_scenario, scale_population, with_years

SCENARIO = with_years(scale_population(load_scenario(), 900), 1.0)


def assert_same_run(a: RunResult, b: RunResult) -> None:
    """Every output of two runs equal, to the bit (the summary names its engine)."""
    for name in ("timeseries", "events", "agents", "firms"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True, obj=name)
    assert {**a.summary, "engine": None} == {**b.summary, "engine": None}


def test_one_and_two_threads_give_every_output_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rows, "CHUNK_ROWS", 64)  # ~15 chunks a week, two at a time on 2 threads
    one = simulate(SCENARIO, seed=4, threads=1)
    two = simulate(SCENARIO, seed=4, threads=2)
    assert (one.events["kind"] == "exit").sum() > 10  # firms closed: the business week ran
    assert (one.events["kind"] == "partnership").sum() > 5  # the contact scan ran in chunks too
    assert_same_run(one, two)


def test_chunked_plain_python_engine_equals_the_compiled_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rows, "CHUNK_ROWS", 100)
    scenario = with_years(SCENARIO, 0.25)
    assert_same_run(simulate(scenario, seed=2, engine="python"),
                    simulate(scenario, seed=2, engine="numba", threads=2))


def chunk_uniforms(n: int, chunk_rows: int, threads: int) -> np.ndarray:
    """The uniforms every row of ``n`` gets from run_in_chunks, 8 a row."""
    seen = np.full((n, 8), np.nan)

    def keep(start: int, stop: int, u: np.ndarray) -> None:
        seen[start:stop] = u

    old, rows.CHUNK_ROWS = rows.CHUNK_ROWS, chunk_rows
    try:
        rows.run_in_chunks(n, np.random.default_rng(7), 8, threads, keep)
    finally:
        rows.CHUNK_ROWS = old
    return seen


def test_a_rows_uniforms_depend_on_its_row_not_on_the_threads() -> None:
    one, two = chunk_uniforms(1000, 96, 1), chunk_uniforms(1000, 96, 2)
    np.testing.assert_array_equal(one, two)
    assert not np.isnan(one).any()
    # chunk 0 draws from the week's stream itself: a run within one chunk draws one block
    np.testing.assert_array_equal(one[:96], np.random.default_rng(7).random((96, 8)))
    np.testing.assert_array_equal(chunk_uniforms(96, 96, 2), one[:96])
    # later chunks draw from streams of their own, not the block's continuation
    assert not np.isin(one[96:], np.random.default_rng(7).random((1000, 8))).any()


@pytest.mark.parametrize("k", [1, 2, 13, 351])
def test_a_kept_generator_jumped_into_draws_what_a_new_jumped_one_does(k: int) -> None:
    rng = np.random.default_rng([5, k])
    rng.integers(0, 10, 3)  # a buffered half-word left behind must not matter
    kept = np.random.Generator(np.random.PCG64(99))
    kept.random()
    expected = rows.jumped(rng, k)
    got = rows.jump_into(kept, rng, k)
    assert got is kept
    np.testing.assert_array_equal(got.integers(0, 1000, 64), expected.integers(0, 1000, 64))
    np.testing.assert_array_equal(got.random(8), expected.random(8))
