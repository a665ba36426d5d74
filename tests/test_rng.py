"""Random streams: the compiled seeding of the weekly streams draws exactly what NumPy's
``default_rng`` seeded with the same (seed, stream, week) draws."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from copsim.engine.kernels import get_kernels
from copsim.engine.rng import Streams, uint32_words


@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=9))
def test_the_compiled_seeding_is_numpys_seed_sequence(words: list[int]) -> None:
    expected = np.random.SeedSequence(words).generate_state(8, np.uint32).tolist()
    for engine in ("numba", "python"):
        got = get_kernels(engine).pcg64_seed(np.array(words, dtype=np.int64)).tolist()
        assert got == expected


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**70), name=st.text(min_size=1, max_size=20),
       week=st.integers(-1, 2**40))
def test_a_weekly_stream_draws_what_a_fresh_generator_draws(seed: int, name: str,
                                                            week: int) -> None:
    streams = Streams(seed)
    kept = streams.weekly(name, week)
    kept.integers(0, 2**31, 3, dtype=np.int32)  # leaves a buffered half-word behind
    for _ in range(2):  # the same kept generator, seeded again
        again = streams.weekly(name, week)
        assert again is kept
        fresh = streams.generator(name, week)
        np.testing.assert_array_equal(again.integers(0, 2**31, 5, dtype=np.int32),
                                      fresh.integers(0, 2**31, 5, dtype=np.int32))
        np.testing.assert_array_equal(again.random(4), fresh.random(4))


def test_integers_are_split_into_words_as_numpy_reads_them() -> None:
    assert uint32_words(0) == [0]
    assert uint32_words(2**32 - 1) == [2**32 - 1]
    assert uint32_words(2**32) == [0, 1]
    assert uint32_words(5 * 2**64 + 7) == [7, 0, 5]
