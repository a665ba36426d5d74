"""Random assignment of a trial: eligible firms, the sample, the arms and the groups.

Assignment is balanced within strata: the units of a stratum are shuffled and laid
along [0, 1) at positions (i + u) / n with one uniform offset u, and a unit goes to
the arm whose share covers its position (arms first, the control group last). Every
arm then receives its share of each stratum to within one unit, as in a stratified
complete randomisation.

With ``unit = "group"`` the sample of each region is first cut into groups of about
``group_size`` firms and whole groups are assigned (clustered randomisation, so a
group is never split between arms). With ``unit = "firm"`` firms are assigned one by
one and each arm's firms of a region are then cut into groups.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from copsim.dtypes import FirmType, enum_names
from copsim.studies.trial_design import CONTROL, Eligibility, Trial


@dataclass(frozen=True)
class TreatedGroup:
    """A group a treatment arm runs: its arm, region index and members (firm rows)."""

    arm: str
    region: int
    members: tuple[int, ...]


@dataclass(frozen=True)
class Assignment:
    """The trial's firms (row, region, sector, stratum, unit, arm) and the arms' groups."""

    firms: pd.DataFrame
    groups: list[TreatedGroup]


def eligible(population: pd.DataFrame, rules: Eligibility, regions: list[str], sectors: list[str]) -> pd.DataFrame:
    """Firms in business that pass every filter (``population``: one row per firm)."""
    keep = population["alive"].to_numpy(dtype=bool).copy()
    types = enum_names(FirmType)
    if rules.firm_types:
        keep &= population["firm_type"].isin([types.index(t) for t in rules.firm_types]).to_numpy()
    if rules.sectors:
        keep &= population["sector"].isin([sectors.index(s) for s in rules.sectors]).to_numpy()
    if rules.regions:
        keep &= population["region"].isin([regions.index(r) for r in rules.regions]).to_numpy()
    keep &= (population["employees"] >= rules.min_employees).to_numpy()
    if rules.max_employees is not None:
        keep &= (population["employees"] <= rules.max_employees).to_numpy()
    return population[keep]


def assign(population: pd.DataFrame, trial: Trial, regions: list[str], sectors: list[str],
           rng: np.random.Generator) -> Assignment:
    """Sample the trial's firms among the eligible, assign them to arms, form the groups."""
    pool = eligible(population, trial.eligibility, regions, sectors).sort_values("row")
    size = trial.randomisation.sample_size
    if size is not None and size < len(pool):
        pool = pool.iloc[np.sort(rng.choice(len(pool), size=size, replace=False))]
    firms = pool[["row", "region", "sector"]].reset_index(drop=True)
    strata = trial.randomisation.strata
    firms["stratum"] = 0 if strata == "none" else firms[strata].to_numpy()
    if trial.randomisation.unit == "group":
        firms = _clustered(firms, trial, rng)
    else:
        firms = _individual(firms, trial, rng)
    return Assignment(firms, _groups(firms, trial, rng))


def arm_positions(n: int, trial: Trial, rng: np.random.Generator) -> np.ndarray:
    """The arm (an index into ``trial.arm_names``) of each of ``n`` shuffled units."""
    cumulative = np.cumsum([a.share for a in trial.arms])
    positions = (np.arange(n) + rng.random()) / n
    index = np.searchsorted(cumulative, positions, side="right")  # len(arms) means control
    return np.where(index >= len(trial.arms), 0, index + 1)


def _assign_units(units: pd.DataFrame, trial: Trial, rng: np.random.Generator) -> pd.Series:
    """An arm name per unit, balanced within each stratum (``units``: unit, stratum)."""
    arms = pd.Series(index=units.index, dtype=object)
    names = trial.arm_names
    for _, part in units.groupby("stratum", sort=True):
        order = part.index.to_numpy()[rng.permutation(len(part))]
        arms[order] = [names[i] for i in arm_positions(len(order), trial, rng)]
    return arms


def _individual(firms: pd.DataFrame, trial: Trial, rng: np.random.Generator) -> pd.DataFrame:
    firms["unit"] = firms["row"].to_numpy()
    firms["arm"] = _assign_units(firms, trial, rng)
    return firms


def _clustered(firms: pd.DataFrame, trial: Trial, rng: np.random.Generator) -> pd.DataFrame:
    firms["unit"] = -1
    for _, part in firms.groupby("region", sort=True):
        firms.loc[part.index, "unit"] = _cut(part.index.to_numpy(), trial.randomisation.group_size, rng,
                                            start=int(firms["unit"].max()) + 1)
    units = firms.groupby("unit", sort=True)["stratum"].first().to_frame()
    arm_of_unit = _assign_units(units, trial, rng)
    firms["arm"] = firms["unit"].map(arm_of_unit)
    return firms


def _cut(index: np.ndarray, group_size: int, rng: np.random.Generator, start: int = 0) -> pd.Series:
    """Shuffle ``index`` and number it in groups of nearly equal size, about ``group_size``."""
    shuffled = index[rng.permutation(len(index))]
    parts = np.array_split(shuffled, max(1, math.ceil(len(index) / group_size)))
    return pd.Series(np.repeat(np.arange(start, start + len(parts)), [len(p) for p in parts]),
                     index=np.concatenate(parts))


def _groups(firms: pd.DataFrame, trial: Trial, rng: np.random.Generator) -> list[TreatedGroup]:
    """The groups each treatment arm runs, region by region."""
    groups = []
    treated = firms[firms["arm"] != CONTROL]
    for (arm, region), part in treated.groupby(["arm", "region"], sort=True):
        if trial.randomisation.unit == "group":
            labels = part["unit"]
        else:
            labels = _cut(part.index.to_numpy(), trial.randomisation.group_size, rng)
        for _, members in part.groupby(labels.reindex(part.index), sort=True):
            groups.append(TreatedGroup(str(arm), int(region), tuple(sorted(members["row"].tolist()))))
    return groups
