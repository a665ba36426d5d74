"""Where a programme's effects come from: its channels switched off, with Shapley attribution.

Why it is built this way:

- A channel (``scenario.channels``) is one way the programme acts on a firm's business:
  knowledge learnt, problems solved in meetings, joint ventures, confidence and hiring,
  well-being and resilience, customers found by mapping knowledge, partners and referrals
  through ties made in meetings, less sharing between direct competitors. Switching one
  off keeps the meetings but removes that route to the firm's outcomes (docs/odd.md 7.14).
- Every subset of the channels is a scenario arm of one comparison
  (:mod:`copsim.studies.compare`), run with the same replicate seeds and against one
  shared counterfactual, so the differences between arms are common-random-number
  differences, not sampling noise between populations.
- Effects are totals over the participants against the same firms in the counterfactual
  (additional surviving firms, revenue, employment, firms with a partner). What reaches
  non-participants through their business contacts (referrals, partnerships with
  members) is not counted.
- Channels interact (a firm kept alive by support can then hire), so a one-at-a-time
  split does not add up. The Shapley value of channel ``i`` averages its marginal
  contribution over every order in which channels could be switched on. Up to
  ``EXACT_UP_TO`` channels it is exact over all ``2^k`` subsets (64 arms); beyond that
  the ``2^k`` runs grow out of reach, and it is estimated from sampled orders (Castro,
  Gomez & Tejada 2009), drawn in antithetic pairs (each order and its reverse; Mitchell
  et al. 2022, JMLR 23:43), the same orders in every replicate: only the subsets that
  are prefixes of a sampled order are run. Either way the channels' values plus the
  effect with every channel off (what the programme does through none of them) add up
  to the whole effect, replicate by replicate.
- By default only the channels that can act in the scenario are decomposed
  (:func:`acting_channels`): brokering needs a phase that introduces, documentation one
  that publishes, mentoring a group that mentors; an idle channel's value is 0 and would
  only double the runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from copsim.scenario.io import validate_scenario
from copsim.scenario.schema import Channels, Scenario
from copsim.studies.compare import (
    CONFIDENCE, NO_PROGRAMME, CompareError, Comparison, Interval, Pair, interval, prepare,
    replicate_outcomes,
)
from copsim.studies.posterior import Draws, spread

CHANNELS: dict[str, str] = {
    "knowledge": "knowledge to revenue",
    "problem_solving": "problem solving",
    "ventures": "joint ventures",
    "hiring": "confidence and hiring",
    "wellbeing": "well-being and resilience",
    "customers": "customers through mapping knowledge",
    "partners": "partners found through ties made in meetings",
    "referrals": "referrals through ties made in meetings",
    "competition": "less sharing between direct competitors",
    "brokering": "a coordinator's introductions across groups",
    "documentation": "published good practice",
    "mentoring": "mentoring pairs",
}
assert set(CHANNELS) == set(Channels.model_fields), "every channel switch has a label"
EXACT_UP_TO = 6  # channels decomposed exactly (2^6 = 64 arms); more are sampled
SAMPLED_ORDERS = 16  # orders of channels sampled beyond that (8 antithetic pairs)
NONE = "(no channel)"
TOTAL = "total effect"


@dataclass(frozen=True)
class Outcome:
    """An effect decomposed: key, label, unit and how it is read from a replicate."""

    key: str
    label: str
    unit: str
    value: Callable[[Mapping[str, float]], float]


OUTCOMES: tuple[Outcome, ...] = (
    Outcome("survival", "Additional surviving firms", "firms",
            lambda r: r["additional_surviving_firms"]),
    Outcome("revenue", "Additional revenue (EUR a year, at the end)", "EUR/year",
            lambda r: r["additional_revenue_eur_per_year"]),
    Outcome("employment", "Additional employment (persons, at the end)", "persons",
            lambda r: r["additional_employment"]),
    Outcome("partners", "Additional firms with a partner (strong tie or joint venture)", "firms",
            lambda r: 0.0 if r["participants"] == 0
            else (r["partner_pct"] - r["partner_without_pct"]) * r["participants"] / 100),
)


def acting_channels(scenario: Scenario) -> tuple[str, ...]:
    """The channels through which the scenario can act: all, except brokering without a
    phase that introduces, documentation without published good practice and mentoring
    without a group that mentors (a channel that cannot act has a Shapley value of 0 and
    would only double the runs)."""
    idle = set()
    if not any(p.introductions_per_year > 0 for p in scenario.funding.phases):
        idle.add("brokering")
    if not any(p.good_practice_reach_per_year > 0 for p in scenario.funding.phases):
        idle.add("documentation")
    if all(g.mentoring == "none" for g in scenario.groups):
        idle.add("mentoring")
    return tuple(c for c in CHANNELS if c not in idle)


def parse_channels(text: str | None, scenario: Scenario) -> tuple[str, ...]:
    """The channels to decompose over, from ``a,b,c`` (None: those acting in ``scenario``)."""
    if text is None:
        return acting_channels(scenario)
    names = tuple(x.strip() for x in text.split(",") if x.strip())
    for name in names:
        if name not in CHANNELS:
            raise CompareError(f"--channels: {name}: unknown channel (known: {', '.join(CHANNELS)})")
    if not names or len(set(names)) != len(names):
        raise CompareError(f"--channels: {text}: give distinct channel names, comma-separated")
    return names


def arm_label(name: str, on: frozenset[str], channels: Sequence[str]) -> str:
    """The scenario's own name with every channel on, else which channels are on."""
    if len(on) == len(channels):
        return name
    return f"{name} [{'+'.join(c for c in channels if c in on) or 'no channel'}]"


def with_channels(scenario: Scenario, on: frozenset[str], channels: Sequence[str],
                  label: str) -> Scenario:
    """The scenario with the decomposed channels outside ``on`` switched off."""
    data = scenario.model_dump()
    data["name"] = label
    data["channels"] = {**data["channels"], **{c: c in on for c in channels}}
    return validate_scenario(data, source=label)


def subsets(channels: Sequence[str]) -> list[frozenset[str]]:
    """Every subset of the channels, smallest first."""
    return [frozenset(c) for size in range(len(channels) + 1)
            for c in combinations(channels, size)]


Order = tuple[str, ...]


def sampled_orders(channels: Sequence[str], count: int, seed: int) -> tuple[Order, ...]:
    """``count`` orders of the channels in antithetic pairs (an order, then its reverse)."""
    if count < 2 or count % 2:
        raise CompareError(f"--orders: {count}: must be an even number, at least 2")
    rng = np.random.default_rng([seed, len(channels), count])
    orders: list[Order] = []
    for _ in range(count // 2):
        order = tuple(channels[i] for i in rng.permutation(len(channels)))
        orders += [order, order[::-1]]
    return tuple(orders)


def prefixes(orders: Sequence[Order]) -> list[frozenset[str]]:
    """Every subset that begins one of the orders, smallest first (the arms to run)."""
    found = {frozenset(order[:j]) for order in orders for j in range(len(order) + 1)}
    return sorted(found, key=lambda s: (len(s), sorted(s)))


@dataclass(frozen=True)
class Decomposition:
    """What to run: one comparison arm per subset of channels (all of them, or the
    prefixes of ``orders`` when the attribution is sampled)."""

    comparison: Comparison
    channels: tuple[str, ...]
    arms: dict[frozenset[str], str]  # subset -> arm label
    name: str
    orders: tuple[Order, ...] | None = None  # None: exact over every subset

    def method(self) -> str:
        """How the attribution is made, in words."""
        k = len(self.channels)
        if self.orders is None:
            return f"exact Shapley values over all {2 ** k} subsets of channels switched on"
        return (f"Shapley values estimated from {len(self.orders)} sampled orders of the {k} "
                f"channels (antithetic pairs; {len(self.arms)} subsets switched on)")


def prepare_decomposition(scenario: Scenario, channels: Sequence[str], reps: int, root_seed: int,
                          years: float | None = None, orders: int | None = None,
                          draws: Draws | None = None) -> Decomposition:
    """Check the scenario and lay out the arms: every subset of ``channels`` up to
    ``EXACT_UP_TO`` of them (or ``orders=0``), else the prefixes of sampled orders."""
    if orders is None:
        orders = 0 if len(channels) <= EXACT_UP_TO else SAMPLED_ORDERS
    if not scenario.groups and not scenario.funding.phases:
        raise CompareError(f"{scenario.name}: (groups): no programme to decompose")
    for c in channels:
        if not getattr(scenario.channels, c):
            raise CompareError(f"{scenario.name}: channels.{c}: is off; decompose switches "
                               "channels off itself, so every decomposed channel must be on")
    sampled = sampled_orders(channels, orders, root_seed) if orders else None
    on_sets = subsets(channels) if sampled is None else prefixes(sampled)
    arms = {on: arm_label(scenario.name, on, channels) for on in on_sets}
    variants = [with_channels(scenario, on, channels, label) for on, label in arms.items()]
    return Decomposition(prepare(variants, reps, root_seed, years, draws=draws), tuple(channels),
                         arms, scenario.name, sampled)


def shapley(values: Mapping[frozenset[str], float], channels: Sequence[str]) -> dict[str, float]:
    """Exact Shapley value of each channel in the game ``values`` (one value per subset).

    ``phi_i = sum over S without i of |S|! (k - |S| - 1)! / k! * (v(S + i) - v(S))``.
    """
    k = len(channels)
    out = {}
    for c in channels:
        total = 0.0
        for s in values:
            if c in s:
                continue
            weight = math.factorial(len(s)) * math.factorial(k - len(s) - 1) / math.factorial(k)
            total += weight * (values[s | {c}] - values[s])
        out[c] = total
    return out


def sampled_shapley(values: Mapping[frozenset[str], float],
                    orders: Sequence[Order]) -> dict[str, float]:
    """Each channel's marginal contribution averaged over ``orders``; the values add up
    to ``v(all) - v(none)`` exactly, as the exact ones do."""
    out = dict.fromkeys(orders[0], 0.0)
    for order in orders:
        for j, c in enumerate(order):
            out[c] += (values[frozenset(order[:j + 1])] - values[frozenset(order[:j])]) / len(orders)
    return out


def arm_values(d: Decomposition, pairs: Sequence[Pair]) -> pd.DataFrame:
    """Every outcome of every arm in every replicate: the game the attribution splits."""
    by_label = {label: on for on, label in d.arms.items()}
    rows = []
    for pair in pairs:
        if pair.label == NO_PROGRAMME:
            continue
        outcomes = replicate_outcomes(pair)
        on = by_label[pair.label]
        rows += [{"replicate": pair.replicate, "draw": pair.draw,
                  "channels_on": "+".join(c for c in d.channels if c in on),
                  "outcome": o.key, "value": o.value(outcomes)} for o in OUTCOMES]
    return pd.DataFrame(rows)


def replicate_attribution(d: Decomposition, arms: pd.DataFrame) -> pd.DataFrame:
    """One row per replicate, outcome and component: the channel's Shapley value, the
    effect with every channel off, and the whole effect."""
    full = frozenset(d.channels)
    rows = []
    for (rep, key), group in arms.groupby(["replicate", "outcome"], sort=True):
        game = {frozenset(x for x in on.split("+") if x): v
                for on, v in zip(group["channels_on"], group["value"], strict=True)}
        split = (shapley(game, d.channels) if d.orders is None
                 else sampled_shapley(game, d.orders))
        parts = {NONE: game[frozenset()], **split, TOTAL: game[full]}
        rows += [{"replicate": rep, "draw": group["draw"].iloc[0], "outcome": key,
                  "component": c, "value": v} for c, v in parts.items()]
    return pd.DataFrame(rows)


def attribution_table(replicates: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95 % interval over replicates of every component of every outcome."""
    rows = []
    order = {c: i for i, c in enumerate([NONE, *CHANNELS, TOTAL])}
    for (key, component), group in replicates.groupby(["outcome", "component"], sort=False):
        iv, share = component_interval(group)
        rows.append({"outcome": key, "component": component, "mean": iv.mean, "lo": iv.lo,
                     "hi": iv.hi, "replicates": iv.n, "parameter_share": share})
    table = pd.DataFrame(rows)
    table["_order"] = table["component"].map(order)
    outcome_order = {o.key: i for i, o in enumerate(OUTCOMES)}
    table["_outcome"] = table["outcome"].map(outcome_order)
    return (table.sort_values(["_outcome", "_order"]).drop(columns=["_order", "_outcome"])
            .reset_index(drop=True))


def component_interval(group: pd.DataFrame) -> tuple[Interval, float]:
    """A component's interval over replicates, with parameter uncertainty when they drew
    from a posterior (and the share of the spread between draws; NaN without draws)."""
    values = group["value"].tolist()
    iv = interval(values)
    if group["draw"].isna().any():
        return iv, math.nan
    s = spread(values, group["draw"].tolist(), CONFIDENCE)
    return Interval(s.mean, s.lo, s.hi, iv.defined, iv.n), s.parameter_share


def component_label(component: str) -> str:
    """A component's label for people."""
    return CHANNELS.get(component, component)


def fmt(x: float) -> str:
    """A signed number in the table's style."""
    if not math.isfinite(x):
        return "n/a"
    return f"{x:+,.0f}" if abs(x) >= 100 else f"{x:+.1f}"


def cell_text(row: Mapping[str, float]) -> str:
    """'mean (lo to hi)', the interval only with more than one replicate."""
    text = fmt(row["mean"])
    if math.isfinite(row["lo"]):
        text += f" ({fmt(row['lo'])} to {fmt(row['hi'])})"
    return text


def markdown(table: pd.DataFrame, d: Decomposition) -> str:
    """The attribution table for people: one row per component, one column per outcome."""
    components = [NONE, *d.channels, TOTAL]
    lines = ["| | " + " | ".join(o.label for o in OUTCOMES) + " |",
             "|---|" + "---|" * len(OUTCOMES)]
    for c in components:
        cells = []
        for o in OUTCOMES:
            row = table[(table["outcome"] == o.key) & (table["component"] == c)].iloc[0]
            cells.append(cell_text(row))
        lines.append(f"| {component_label(c)} | " + " | ".join(cells) + " |")
    return "\n".join(lines + [""] + notes(d)) + "\n"


def notes(d: Decomposition) -> list[str]:
    """What the numbers in the attribution table are."""
    reps = len(d.comparison.seeds)
    draws = d.comparison.draws
    brackets = ("in brackets the 95 % confidence interval of the mean over replicates (random "
                "noise only)." if draws is None else
                f"each replicate's parameters drawn from the posterior {draws.posterior.source} "
                f"({len(draws.sets)} draws of {draws.seeds_per_draw} seeds); in brackets a 95 % "
                "interval holding parameter uncertainty and noise (docs/calibration.md), and "
                "decomposition.csv's parameter_share says how much of the spread is parameters.")
    return [
        f"{d.name}: its effect against the same firms without any programme, split over "
        f"{len(d.channels)} channels by {d.method()} (each subset a run with the same "
        f"seeds and parameters). Mean over {reps} replicates (root seed "
        f"{d.comparison.root_seed}); " + brackets,
        f"'{NONE}': the effect with every decomposed channel switched off (the meetings still "
        "happen; what remains acts through no channel listed). It plus the channels' values "
        f"makes the '{TOTAL}', exactly, in every replicate.",
    ]
