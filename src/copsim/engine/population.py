"""Creating firms: the initial population and weekly entrants.

All draws come from streams that depend on the seed and the population spec
only, never on the programme, so every scenario with the same regions, sectors
and firm parameters starts from (and adds) the very same firms.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from copsim.scenario.schema import Scenario
from copsim.dtypes import N_ASSETS, N_TOPICS, FirmType
from copsim.engine.params import weekly_rate
from copsim.engine.state import FirmTable

def firm_type_shares(s: Scenario) -> np.ndarray:
    """Normalised shares of solo, lifestyle, family, growth and start-up firms."""
    f = s.firms
    shares = np.array([f.share_solo, f.share_lifestyle, f.share_family, f.share_growth,
                       f.share_startup])
    return shares / shares.sum()


def sector_shares(s: Scenario) -> np.ndarray:
    """Normalised sector shares."""
    shares = np.array([x.share for x in s.environment.sectors])
    return shares / shares.sum()


def add_firms(firms: FirmTable, s: Scenario, regions: np.ndarray, week: int,
              rng: np.random.Generator) -> np.ndarray:
    """Append one firm per entry of ``regions`` (region indices); return their rows.

    Each column is written as soon as it is drawn (the rows are contiguous), and the
    blocks of 8 draws a firm are drawn in slices of rows (a generator fills an array in
    order, so the numbers are those of one block): the initial population of a
    continental run holds no whole-population temporaries beside its table."""
    n = len(regions)
    rows = firms.add_rows(n)
    at = slice(int(rows[0]), int(rows[0]) + n) if n else slice(0, 0)
    f = s.firms
    ftype = rng.choice(len(FirmType), size=n, p=firm_type_shares(s))
    firms.region[at] = regions
    firms.firm_type[at] = ftype
    sector = rng.choice(len(s.environment.sectors), size=n, p=sector_shares(s))
    firms.sector[at] = sector
    low = np.array(f.employees_min_by_type)[ftype]
    employees = low + np.floor(rng.random(n) * (np.array(f.employees_max_by_type)[ftype] - low + 1)).astype(np.int64)
    del low
    firms.employees[at] = employees

    def knowledge(start: int, stop: int) -> None:
        k = rng.normal(f.knowledge_mean, f.knowledge_sd, (stop - start, N_TOPICS))
        np.clip(k, 0.02, 0.98, out=k)
        firms.knowledge[at][start:stop] = k
        firms.knowledge_start[at][start:stop] = k

    in_slices(n, knowledge)
    firms.assets[at] = asset_masks(rng, n, f.asset_probability)
    growth_by_type = np.array(f.growth_by_type)
    confidence = np.clip(rng.normal(f.confidence_mean + f.confidence_growth * (growth_by_type[ftype] / growth_by_type.max()),
                                    f.confidence_sd), 0.05, 0.95)
    firms.confidence[at] = confidence
    firms.confidence_base[at] = confidence
    del confidence, ftype
    firms.wellbeing[at] = f.wellbeing_start
    revenue = (np.array([x.revenue_eur_per_week for x in s.environment.sectors])[sector]
               * rng.lognormal(0.0, f.revenue_dispersion, n))
    firms.revenue_base[at] = revenue
    firms.revenue[at] = revenue * (1.0 + employees * f.revenue_per_employee)
    cost = revenue * f.cost_share + employees * f.wage_eur_per_week
    firms.cost[at] = cost
    firms.cash[at] = f.cash_weeks * cost
    firms.alive[at] = True
    firms.born_week[at] = week
    return rows


SLICE_ROWS = 1 << 18  # rows a slice of a whole-population draw or temporary holds


def in_slices(n: int, fill: Callable[[int, int], None]) -> None:
    """Call ``fill(start, stop)`` for consecutive slices of rows ``0..n-1``."""
    for start in range(0, n, SLICE_ROWS):
        fill(start, min(n, start + SLICE_ROWS))


def asset_masks(rng: np.random.Generator, n: int, probability: float) -> np.ndarray:
    """Each firm's asset bitmask: asset ``a`` held with ``probability``, drawn as one
    ``(n, N_ASSETS)`` block in row order, read in slices of rows so that the block's
    8 uniforms a firm are never held for every firm at once."""
    assets = np.zeros(n, dtype=np.int64)

    def masks(start: int, stop: int) -> None:
        bits = rng.random((stop - start, N_ASSETS)) < probability
        assets[start:stop] = (bits.astype(np.int64) << np.arange(N_ASSETS)).sum(axis=1)

    in_slices(n, masks)
    return assets


def expected_rows(s: Scenario) -> int:
    """Rows the firm table needs over the whole run: the initial firms and the expected
    entrants with room for chance (5 standard deviations), so that it rarely grows (a
    growing table holds its old and new arrays at once: 3x the rows for a moment)."""
    entrants = weekly_rate(s.firms.entry_rate_per_year) * s.population * s.run.weeks
    return int(s.population + entrants + 5 * math.sqrt(entrants) + 16)


def initial_regions(s: Scenario) -> np.ndarray:
    """Region index of every initial firm, region by region."""
    return np.repeat(np.arange(len(s.regions)), [r.firms for r in s.regions])


def entrant_regions(s: Scenario, rng: np.random.Generator) -> np.ndarray:
    """Regions of this week's entrants: Poisson in number, placed by initial region size."""
    sizes = np.array([r.firms for r in s.regions], dtype=float)
    count = rng.poisson(weekly_rate(s.firms.entry_rate_per_year) * sizes.sum())
    return rng.choice(len(sizes), size=count, p=sizes / sizes.sum())
