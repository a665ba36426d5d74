"""What the largest runs compute in slices of rows equals the whole-array formula."""

from __future__ import annotations

import numpy as np

from copsim.dtypes import N_ASSETS
from copsim.engine.metrics import knowledge_gain
from copsim.engine.population import SLICE_ROWS, asset_masks, expected_rows
from copsim.scenario.io import load_scenario, scale_population, with_years


def test_asset_masks_in_slices_equal_one_block_of_draws() -> None:
    n = 2 * SLICE_ROWS + 1  # three slices, the last of one row
    bits = np.random.default_rng(5).random((n, N_ASSETS)) < 0.3
    expected = (bits * (1 << np.arange(N_ASSETS))).sum(axis=1)
    got = asset_masks(np.random.default_rng(5), n, 0.3)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_knowledge_gain_in_slices_equals_the_formula() -> None:
    rng = np.random.default_rng(1)
    k, k0 = rng.random((1001, 8)), rng.random((1001, 8))
    np.testing.assert_array_equal(knowledge_gain(k, k0, step=100), (k - k0).mean(axis=1))


def test_firm_table_is_sized_for_the_runs_entrants() -> None:
    ten = with_years(scale_population(load_scenario(), 100_000), 10.0)
    rows = expected_rows(ten)
    assert 1.72 * ten.population < rows < 1.75 * ten.population  # 520 weeks of 0.14 % entrants, 5 sd


def test_new_firms_are_the_same_whatever_the_slices(monkeypatch) -> None:
    from copsim.engine import population
    from copsim.engine.state import FirmTable

    s = scale_population(load_scenario(), 5000)
    regions = population.initial_regions(s)

    def table() -> FirmTable:
        firms = FirmTable(len(regions) + 7)
        firms.add_rows(7)  # rows of new firms start past existing ones
        population.add_firms(firms, s, regions, -1, np.random.default_rng(9))
        return firms

    whole = table()
    monkeypatch.setattr(population, "SLICE_ROWS", 333)
    sliced = table()
    for name in FirmTable.COLUMNS:
        np.testing.assert_array_equal(getattr(sliced, name), getattr(whole, name), err_msg=name)
