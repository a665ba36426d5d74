"""NumPy's seeding of a PCG64 stream, compiled: the state ``np.random.default_rng(entropy)``
starts from, in about a microsecond instead of eight (a week draws from some twenty
streams, and at 1,000 firms a whole week costs about 700 microseconds).

:func:`pcg64_seed` is ``SeedSequence(entropy).generate_state(4, np.uint64)`` (NumPy's
``bit_generator.pyx``: the entropy mixed into a pool of four 32-bit words, then hashed out)
for entropy given as 32-bit words. ``tests/test_rng.py`` holds it equal to NumPy's.
"""

from __future__ import annotations

import numpy as np

from copsim.engine.kernels._jit import jit_for

jit = jit_for(__name__)

# SeedSequence's constants (numpy/random/bit_generator.pyx)
MASK32 = 0xFFFFFFFF
INIT_A, MULT_A = 0x43B0D7E5, 0x931E8875
INIT_B, MULT_B = 0x8B51F9DD, 0x58F38DED
MIX_MULT_L, MIX_MULT_R = 0xCA01F9DD, 0x4973F715
XSHIFT = 16
POOL_SIZE = 4


@jit(inline="always")
def _hashmix(value, hash_const):
    """SeedSequence's ``hashmix``: ``(hashed value, next hash constant)``."""
    value = (value ^ hash_const) & MASK32
    hash_const = (hash_const * MULT_A) & MASK32
    value = (value * hash_const) & MASK32
    return value ^ (value >> XSHIFT), hash_const


@jit(inline="always")
def _mix(x, y):
    """SeedSequence's ``mix`` of two words."""
    result = (MIX_MULT_L * x - MIX_MULT_R * y) & MASK32
    return result ^ (result >> XSHIFT)


@jit
def pcg64_seed(words):
    """The four 64-bit words ``SeedSequence(words).generate_state(4, np.uint64)`` for
    entropy ``words`` (each below 2**32), as 32-bit halves: ``(8,)`` int64, low half first."""
    pool = np.zeros(POOL_SIZE, dtype=np.int64)
    hash_const = INIT_A
    for i in range(POOL_SIZE):
        pool[i], hash_const = _hashmix(int(words[i]) if i < words.shape[0] else 0, hash_const)
    for i_src in range(POOL_SIZE):
        for i_dst in range(POOL_SIZE):
            if i_src != i_dst:
                hashed, hash_const = _hashmix(int(pool[i_src]), hash_const)
                pool[i_dst] = _mix(int(pool[i_dst]), hashed)
    for i_src in range(POOL_SIZE, words.shape[0]):
        for i_dst in range(POOL_SIZE):
            hashed, hash_const = _hashmix(int(words[i_src]), hash_const)
            pool[i_dst] = _mix(int(pool[i_dst]), hashed)
    out = np.zeros(2 * POOL_SIZE, dtype=np.int64)
    hash_const = INIT_B
    for i_dst in range(2 * POOL_SIZE):
        value = (int(pool[i_dst % POOL_SIZE]) ^ hash_const) & MASK32
        hash_const = (hash_const * MULT_B) & MASK32
        value = (value * hash_const) & MASK32
        out[i_dst] = value ^ (value >> XSHIFT)
    return out
