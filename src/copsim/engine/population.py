"""Creating firms: the initial population and weekly entrants.

All draws come from streams that depend on the seed and the population spec
only, never on the programme, so every scenario with the same regions, sectors
and firm parameters starts from (and adds) the very same firms.
"""

from __future__ import annotations

import math

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
    """Append one firm per entry of ``regions`` (region indices); return their rows."""
    n = len(regions)
    rows = firms.add_rows(n)
    ftype = rng.choice(len(FirmType), size=n, p=firm_type_shares(s))
    sector = rng.choice(len(s.environment.sectors), size=n, p=sector_shares(s))
    f = s.firms
    low = np.array(f.employees_min_by_type)[ftype]
    high = np.array(f.employees_max_by_type)[ftype]
    employees = low + np.floor(rng.random(n) * (high - low + 1)).astype(np.int64)
    knowledge = rng.normal(s.firms.knowledge_mean, s.firms.knowledge_sd, (n, N_TOPICS))
    np.clip(knowledge, 0.02, 0.98, out=knowledge)  # in place: the initial population is large
    assets = asset_masks(rng, n, s.firms.asset_probability)
    growth_by_type = np.array(f.growth_by_type)
    growth = growth_by_type[ftype] / growth_by_type.max()
    confidence = np.clip(rng.normal(f.confidence_mean + f.confidence_growth * growth, f.confidence_sd),
                         0.05, 0.95)
    revenue = (np.array([x.revenue_eur_per_week for x in s.environment.sectors])[sector]
               * rng.lognormal(0.0, f.revenue_dispersion, n))
    cost = revenue * s.firms.cost_share + employees * s.firms.wage_eur_per_week

    firms.region[rows] = regions
    firms.sector[rows] = sector
    firms.firm_type[rows] = ftype
    firms.employees[rows] = employees
    firms.knowledge[rows] = knowledge
    firms.knowledge_start[rows] = knowledge
    firms.assets[rows] = assets
    firms.confidence[rows] = confidence
    firms.confidence_base[rows] = confidence
    firms.wellbeing[rows] = s.firms.wellbeing_start
    firms.revenue_base[rows] = revenue
    firms.revenue[rows] = revenue * (1.0 + employees * s.firms.revenue_per_employee)
    firms.cost[rows] = cost
    firms.cash[rows] = s.firms.cash_weeks * cost
    firms.alive[rows] = True
    firms.born_week[rows] = week
    return rows


def asset_masks(rng: np.random.Generator, n: int, probability: float) -> np.ndarray:
    """Each firm's asset bitmask: asset ``a`` held with ``probability``, drawn as one
    ``(n, N_ASSETS)`` block in row order, read in slices of rows so that the block's
    8 uniforms a firm are never held for every firm at once."""
    assets = np.zeros(n, dtype=np.int64)
    step = 1 << 18
    for start in range(0, n, step):
        bits = rng.random((min(n, start + step) - start, N_ASSETS)) < probability
        for a in range(N_ASSETS):
            assets[start: start + len(bits)] |= bits[:, a].astype(np.int64) << a
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
