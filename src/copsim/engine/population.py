"""Creating firms: the initial population and weekly entrants.

All draws come from streams that depend on the seed and the population spec
only, never on the programme, so every scenario with the same regions, sectors
and firm parameters starts from (and adds) the very same firms.
"""

from __future__ import annotations

import numpy as np

from copsim.scenario.schema import Scenario
from copsim.dtypes import N_ASSETS, N_TOPICS, FirmType
from copsim.engine.params import GROWTH_BY_TYPE, weekly_rate
from copsim.engine.state import FirmTable

# Employees at the start by firm type: inclusive (low, high) ranges.
EMPLOYEES_BY_TYPE = np.array([[0, 0], [0, 1], [1, 4], [1, 6], [0, 2]])


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
    low, high = EMPLOYEES_BY_TYPE[ftype, 0], EMPLOYEES_BY_TYPE[ftype, 1]
    employees = low + np.floor(rng.random(n) * (high - low + 1)).astype(np.int64)
    knowledge = np.clip(rng.normal(s.firms.knowledge_mean, s.firms.knowledge_sd, (n, N_TOPICS)),
                        0.02, 0.98)
    bits = rng.random((n, N_ASSETS)) < s.firms.asset_probability
    assets = (bits * (1 << np.arange(N_ASSETS))).sum(axis=1)
    growth = GROWTH_BY_TYPE[ftype] / GROWTH_BY_TYPE.max()
    confidence = np.clip(rng.normal(0.4 + 0.2 * growth, 0.15), 0.05, 0.95)
    revenue = (np.array([x.revenue_eur_per_week for x in s.environment.sectors])[sector]
               * rng.lognormal(0.0, 0.3, n))
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
    firms.wellbeing[rows] = 0.55
    firms.revenue_base[rows] = revenue
    firms.revenue[rows] = revenue * (1.0 + employees * s.firms.revenue_per_employee)
    firms.cost[rows] = cost
    firms.cash[rows] = s.firms.cash_weeks * cost
    firms.alive[rows] = True
    firms.born_week[rows] = week
    return rows


def initial_regions(s: Scenario) -> np.ndarray:
    """Region index of every initial firm, region by region."""
    return np.repeat(np.arange(len(s.regions)), [r.firms for r in s.regions])


def entrant_regions(s: Scenario, rng: np.random.Generator) -> np.ndarray:
    """Regions of this week's entrants: Poisson in number, placed by initial region size."""
    sizes = np.array([r.firms for r in s.regions], dtype=float)
    count = rng.poisson(weekly_rate(s.firms.entry_rate_per_year) * sizes.sum())
    return rng.choice(len(sizes), size=count, p=sizes / sizes.sum())
