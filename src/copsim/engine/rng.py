"""Random streams: one per decision, seeded from (seed, stream name, week).

Common random numbers: a firm's business draws are ``uniforms(name, week, n)``
indexed by its row, so the same firm gets the same draw in every scenario run
with the same seed, whatever the programme does. Draws whose number depends on
the programme (who attends, who pairs with whom) take a per-(name, week)
``Generator`` that kernels consume in a documented order. There is no global
random state anywhere in copsim.
"""

from __future__ import annotations

import zlib

import numpy as np

from copsim.engine.kernels import Engine, get_kernels
from copsim.engine.rows import chunked_uniforms, jump_into

MASK128 = (1 << 128) - 1
PCG64_MULT = (2549297995355413924 << 64) + 4865540595714422341  # PCG's default 128-bit multiplier


def stream_id(name: str) -> int:
    """A stable integer for a stream name (``hash()`` is salted per process)."""
    return zlib.crc32(name.encode())


class Streams:
    """Named, week-indexed random streams derived from one integer seed."""

    def __init__(self, seed: int, engine: Engine = "numba") -> None:
        self.seed = int(seed)
        self.engine: Engine = engine
        self._kept: dict[int, np.random.Generator] = {}
        self._weekly: dict[str, np.random.Generator] = {}

    def jumped(self, rng: np.random.Generator, k: int) -> np.random.Generator:
        """Stream ``k`` of ``rng`` (:func:`copsim.engine.rows.jumped`) for a kernel, in a
        generator kept for ``k`` and reused week after week
        (:func:`copsim.engine.rows.jump_into`): valid until the next call with the same ``k``
        (``rng`` itself for 0). A new jumped generator costs about 20 microseconds, a
        thousand times a week at 23 million firms (three draws in chunks of 65,536 rows)."""
        if k == 0:
            return rng
        if k not in self._kept:
            self._kept[k] = np.random.Generator(np.random.PCG64())
        return jump_into(self._kept[k], rng, k)

    def generator(self, name: str, week: int = -1) -> np.random.Generator:
        """A fresh generator for one decision in one week (week -1: initialisation)."""
        return np.random.default_rng([self.seed, stream_id(name), week + 1])

    def weekly(self, name: str, week: int) -> np.random.Generator:
        """The numbers of :meth:`generator` ``(name, week)`` from a generator kept for
        ``name`` and seeded again: valid until the next call with the same name, so for a
        step that draws at once (every weekly step of the engine). NumPy's seeding runs
        compiled (:mod:`copsim.engine.kernels.seeding`; 2 instead of 8 microseconds, some
        twenty times a week), and numba unboxes a generator it has seen before faster."""
        entropy = (self.seed, stream_id(name), week + 1)
        if min(entropy) < 0:  # NumPy's own error
            return self.generator(name, week)
        words = np.array([w for x in entropy for w in uint32_words(x)], dtype=np.int64)
        half = get_kernels(self.engine).pcg64_seed(words).tolist()
        word = [half[2 * k] | half[2 * k + 1] << 32 for k in range(4)]
        inc = ((word[2] << 64 | word[3]) << 1 | 1) & MASK128  # PCG64's seeding from them
        state = ((word[0] << 64 | word[1]) + inc) & MASK128
        state = (state * PCG64_MULT + inc) & MASK128
        if name not in self._weekly:
            self._weekly[name] = np.random.Generator(np.random.PCG64())
        rng = self._weekly[name]
        rng.bit_generator.state = {"bit_generator": "PCG64", "state": {"state": state, "inc": inc},
                                   "has_uint32": 0, "uinteger": 0}
        return rng

    def uniforms(self, name: str, week: int, n: int, threads: int = 1) -> np.ndarray:
        """``n`` uniforms on [0, 1), element ``row`` belonging to firm ``row``, drawn in
        chunks of rows on ``threads`` threads (:func:`copsim.engine.rows.chunked_uniforms`)."""
        return chunked_uniforms(n, self.weekly(name, week), threads, self.jumped)


def uint32_words(value: int) -> list[int]:
    """A non-negative integer as NumPy's SeedSequence reads it: 32-bit words, lowest
    first ([0] for 0)."""
    words = [value & 0xFFFFFFFF]
    while value > 0xFFFFFFFF:
        value >>= 32
        words.append(value & 0xFFFFFFFF)
    return words


def replicate_seeds(root_seed: int, n: int) -> list[int]:
    """Independent seeds for replicates, a function of the root seed only."""
    children = np.random.SeedSequence(root_seed).spawn(n)
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in children]
