"""Parameter uncertainty in comparisons: replicates draw their parameters from a posterior.

Why it is built this way:

- A posterior file is what ``copsim calibrate`` writes (``posterior.parquet``): one row
  per particle, a column per dotted scenario key and a ``weight``. A draw is a row
  chosen with probability proportional to its weight.
- Replicates come in draws: replicate ``r`` uses draw ``r // K`` (``K`` seeds per draw)
  and its own seed. A draw depends only on the root seed and its index, so the same
  seed gives the same draws whatever the number of workers; every scenario and the
  counterfactual of one replicate use the same draw and the same seed.
- With several seeds per draw the spread of an outcome splits into the part between
  draws (parameters) and the part within them (random noise): a one-way random-effects
  analysis of variance (:func:`spread`), the method docs/calibration.md states.
- The shipped posterior (``calibration/microentre``) was fitted on the default scenario.
  It applies to a comparison only where every compared scenario keeps the calibrated
  scenario's value of every calibrated parameter: a scenario that sets one itself made
  a choice the posterior must not overwrite.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from copsim import resources
from copsim.errors import ScenarioError
from copsim.scenario.io import load_scenario, set_dotted, validate_scenario
from copsim.scenario.schema import Scenario
from copsim.studies.experiments import scenario_field

WEIGHT = "weight"
SHIPPED = "microentre/posterior/posterior.parquet"  # in the shipped calibration/ folder
SHIPPED_BASE = "microentre"  # the scenario the shipped posterior was fitted on
DRAW_STREAM = 0x706F7374  # keeps the draws' random numbers apart from the replicate seeds
SEEDS_PER_DRAW = 2
DEFAULT = "shipped"  # choose_posterior: the shipped posterior where it applies


@dataclass(frozen=True)
class Posterior:
    """A weighted sample of parameter sets (rows of ``values``, columns ``keys``)."""

    source: str
    keys: tuple[str, ...]
    values: np.ndarray
    weights: np.ndarray  # normalised

    def draw(self, root_seed: int, index: int) -> dict[str, float]:
        """Draw ``index`` of the replicates of root seed ``root_seed``: a weighted row."""
        rng = np.random.default_rng([DRAW_STREAM, root_seed, index])
        row = int(rng.choice(len(self.weights), p=self.weights))
        return {k: float(v) for k, v in zip(self.keys, self.values[row], strict=True)}


def load_posterior(path: str | Path) -> Posterior:
    """Read a posterior file; ScenarioError (one line) if it is not one."""
    source = str(path)
    try:
        frame = pd.read_parquet(path)
    except FileNotFoundError:
        raise ScenarioError(f"{source}: (file): no such posterior file") from None
    except (OSError, ValueError) as exc:
        raise ScenarioError(f"{source}: (file): not a Parquet posterior sample ({exc})") from None
    if WEIGHT not in frame.columns:
        raise ScenarioError(f"{source}: {WEIGHT}: missing (a posterior has one weight per row)")
    keys = tuple(str(c) for c in frame.columns if c != WEIGHT)
    if not keys or frame.empty:
        raise ScenarioError(f"{source}: (file): holds no parameter values")
    for key in (*keys, WEIGHT):
        if not pd.api.types.is_numeric_dtype(frame[key]) or not np.isfinite(frame[key]).all():
            raise ScenarioError(f"{source}: {key}: every value must be a finite number")
    weights = frame[WEIGHT].to_numpy(dtype=float)
    if (weights < 0).any() or weights.sum() <= 0:
        raise ScenarioError(f"{source}: {WEIGHT}: weights must be non-negative, not all zero")
    return Posterior(source, keys, frame[list(keys)].to_numpy(dtype=float), weights / weights.sum())


def with_values(scenario: Scenario | Mapping[str, Any], values: Mapping[str, float],
                source: str) -> Scenario:
    """The scenario with dotted keys set to ``values`` (whole-number keys rounded), checked."""
    data = (scenario.model_dump(mode="json") if isinstance(scenario, Scenario)
            else json.loads(json.dumps(scenario)))
    for key, value in values.items():
        kind, _ = scenario_field(key, data)
        set_dotted(data, key.split("."), round(value) if kind is int else value, source)
    return validate_scenario(data, source)


def check_applies(posterior: Posterior, scenario: Scenario) -> None:
    """One line naming the first posterior column the scenario cannot take, if any."""
    data = scenario.model_dump(mode="json")
    for key in posterior.keys:
        try:
            kind, _ = scenario_field(key, data)
        except ValueError:
            raise ScenarioError(f"{posterior.source}: {key}: not a parameter of scenario "
                                f"{scenario.name}") from None
        if kind not in (int, float):
            raise ScenarioError(f"{posterior.source}: {key}: not a number in scenario "
                                f"{scenario.name}")
    for row in (posterior.values.min(axis=0), posterior.values.max(axis=0)):
        with_values(data, dict(zip(posterior.keys, row, strict=True)), posterior.source)


def value_at(data: Mapping[str, Any], key: str) -> Any:
    """The value of a dotted key in plain scenario data (None where it does not exist)."""
    node: Any = data
    for part in key.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return None
    return node


def shipped_posterior() -> Posterior | None:
    """The posterior shipped with copsim (None if this installation has none)."""
    path = resources.folder(resources.CALIBRATION) / SHIPPED
    if not path.is_file():
        return None
    return replace(load_posterior(path), source=f"{resources.CALIBRATION}/{SHIPPED}")


def own_choice(posterior: Posterior, scenarios: Sequence[Scenario]) -> str | None:
    """Why the shipped posterior does not apply (a scenario sets a calibrated key itself)."""
    base = load_scenario(SHIPPED_BASE).model_dump(mode="json")
    for scenario in scenarios:
        data = scenario.model_dump(mode="json")
        for key in posterior.keys:
            if value_at(data, key) != value_at(base, key):
                return f"{scenario.name} sets {key} itself"
    return None


def choose_posterior(choice: str | Path | None, scenarios: Sequence[Scenario]
                     ) -> tuple[Posterior | None, str]:
    """The posterior the replicates draw from, and a sentence saying which and why.

    ``choice`` is a file (it must fit every scenario), :data:`DEFAULT` (the shipped
    posterior where it applies) or None (the scenarios' own values: noise only).
    """
    if choice is None:
        return None, ("Parameters: as in the scenario files (no posterior): the intervals hold "
                      "random noise only.")
    if choice != DEFAULT:
        posterior = load_posterior(choice)
        for scenario in scenarios:
            check_applies(posterior, scenario)
        return posterior, f"Parameters: drawn from the posterior {posterior.source}."
    posterior = shipped_posterior()
    why = "none is shipped" if posterior is None else unfit(posterior, scenarios)
    if posterior is None or why:
        return None, (f"Parameters: as in the scenario files; the shipped posterior does not apply "
                      f"({why}), so the intervals hold random noise only.")
    return posterior, (f"Parameters: drawn from the shipped posterior {posterior.source} (the "
                       f"{len(posterior.keys)} calibrated parameters); --no-posterior gives "
                       "noise-only intervals.")


def unfit(posterior: Posterior, scenarios: Sequence[Scenario]) -> str | None:
    """Why the shipped posterior does not apply to these scenarios (None: it does)."""
    try:
        for scenario in scenarios:
            check_applies(posterior, scenario)
    except ScenarioError as exc:
        return f"{str(exc).partition(': ')[2]}; refit it: docs/calibration.md"
    return own_choice(posterior, scenarios)


@dataclass(frozen=True)
class Draws:
    """The parameter sets of a comparison's replicates: replicate r takes draw r // K."""

    posterior: Posterior
    seeds_per_draw: int
    sets: tuple[dict[str, float], ...]  # one per draw

    def draw_of(self, replicate: int) -> int:
        """The draw index of a replicate."""
        return replicate // self.seeds_per_draw

    def values(self, replicate: int) -> dict[str, float]:
        """The parameter values of a replicate."""
        return self.sets[self.draw_of(replicate)]

    def record(self) -> dict[str, Any]:
        """What outputs record of the draws (compare.json, trial.json)."""
        return {"file": self.posterior.source, "parameters": list(self.posterior.keys),
                "seeds_per_draw": self.seeds_per_draw, "draws": len(self.sets),
                "values": [dict(v) for v in self.sets],
                "method": "one-way random-effects ANOVA of replicates by draw (docs/calibration.md)"}


def plan_draws(posterior: Posterior, root_seed: int, reps: int, seeds_per_draw: int) -> Draws:
    """The draws of ``reps`` replicates, ``seeds_per_draw`` seeds each (the last may have fewer)."""
    if seeds_per_draw < 1:
        raise ScenarioError(f"--seeds-per-draw: {seeds_per_draw}: must be at least 1")
    n = math.ceil(reps / seeds_per_draw)
    return Draws(posterior, seeds_per_draw, tuple(posterior.draw(root_seed, d) for d in range(n)))


# --- the spread: parameters against noise ----------------------------------------------------


@dataclass(frozen=True)
class Spread:
    """An outcome's replicates split into draws: the variance components and the interval."""

    mean: float
    lo: float
    hi: float
    between: float  # variance of the expected outcome across parameter draws
    within: float  # variance between seeds at one draw (noise)

    @property
    def parameter_share(self) -> float:
        """Share of a replicate's variance that is between draws (NaN when there is none,
        rounding errors of a constant included)."""
        total = self.between + self.within
        return self.between / total if total > 1e-12 * max(1.0, self.mean ** 2) else math.nan


def spread(values: Sequence[float], draws: Sequence[int], confidence: float) -> Spread:
    """One-way random-effects ANOVA of replicate ``values`` grouped by ``draws``.

    Method of moments for unequal groups: MSB and MSW as usual, ``n0 = (N - sum n_i^2 / N)
    / (D - 1)``, between-draw variance ``max(0, (MSB - MSW) / n0)``, noise ``MSW``. The
    interval is where the expected outcome at a posterior draw lies, our estimate's error
    included: mean ± t(q, D - 1)·sqrt(between + MSB / N). Without parameter variation it is
    the usual interval of the mean. No bounds with fewer than two draws, without two seeds
    at some draw, or when a replicate is not finite.
    """
    x = np.asarray(values, dtype=float)
    g = np.asarray(draws)
    n = len(x)
    mean = float(x.mean()) if n else math.nan
    labels, sizes = np.unique(g, return_counts=True)
    d = len(labels)
    if n == 0 or not np.isfinite(x).all() or d < 2 or n == d:
        return Spread(mean, math.nan, math.nan, math.nan, math.nan)
    means = np.array([x[g == label].mean() for label in labels])
    msb = float((sizes * (means - mean) ** 2).sum() / (d - 1))
    msw = float(sum(((x[g == label] - m) ** 2).sum() for label, m in zip(labels, means, strict=True))
                / (n - d))
    n0 = (n - float((sizes ** 2).sum()) / n) / (d - 1)
    between = max(0.0, (msb - msw) / n0)
    half = float(stats.t.ppf(0.5 + confidence / 2, d - 1)) * math.sqrt(between + msb / n)
    return Spread(mean, mean - half, mean + half, between, msw)
