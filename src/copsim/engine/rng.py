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

from copsim.engine.rows import chunked_uniforms, jump_into


def stream_id(name: str) -> int:
    """A stable integer for a stream name (``hash()`` is salted per process)."""
    return zlib.crc32(name.encode())


class Streams:
    """Named, week-indexed random streams derived from one integer seed."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._kept: dict[int, np.random.Generator] = {}

    def jumped(self, rng: np.random.Generator, k: int) -> np.random.Generator:
        """Stream ``k`` of ``rng`` (:func:`copsim.engine.rows.jumped`) for a kernel, in a
        generator kept for ``k`` and reused week after week
        (:func:`copsim.engine.rows.jump_into`): valid until the next call with the same ``k``."""
        if k not in self._kept:
            self._kept[k] = np.random.Generator(np.random.PCG64())
        return jump_into(self._kept[k], rng, k)

    def generator(self, name: str, week: int = -1) -> np.random.Generator:
        """A fresh generator for one decision in one week (week -1: initialisation)."""
        return np.random.default_rng([self.seed, stream_id(name), week + 1])

    def uniforms(self, name: str, week: int, n: int, threads: int = 1) -> np.ndarray:
        """``n`` uniforms on [0, 1), element ``row`` belonging to firm ``row``, drawn in
        chunks of rows on ``threads`` threads (:func:`copsim.engine.rows.chunked_uniforms`)."""
        return chunked_uniforms(n, self.generator(name, week), threads)


def replicate_seeds(root_seed: int, n: int) -> list[int]:
    """Independent seeds for replicates, a function of the root seed only."""
    children = np.random.SeedSequence(root_seed).spawn(n)
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in children]
