"""Whole runs are bit-identical to the stored digests (see ``tests/run_digests.py``).

A failure here means a change moved results. If it was meant to, refresh the digests
with ``.venv/bin/python tests/run_digests.py --refresh`` and say why in the commit.
"""

from __future__ import annotations

import pytest

import run_digests as rd
from baselines import read

STORED = read(rd.STORE)
CASES = [c for c in rd.all_cases() if c[2] == "numba" or c[1] == rd.SEEDS[0]]


@pytest.mark.slow
@pytest.mark.parametrize(("scenario", "seed", "engine"), CASES, ids=lambda v: str(v))
def test_whole_run_matches_stored_digest(scenario: str, seed: int, engine: str) -> None:
    key = rd.case_key(scenario, seed, engine)
    assert rd.run_case(scenario, seed, engine) == STORED[key], (
        f"{key} changed; if on purpose: .venv/bin/python tests/run_digests.py --refresh")
