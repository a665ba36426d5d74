"""Comparing programmes with their no-programme counterfactual, on the same firms.

Why it is built this way:

- A programme's effect is measured on its participants against *the same firms*
  without it. Business draws are indexed by firm row and entrants are exogenous, so
  a scenario and its counterfactual (the scenario with no groups and no funding)
  run with the same seed hold the same firms row for row (common random numbers).
  The participants are the rows that were ever members in the programme run.
- Scenarios can only be compared when they share one population: the same regions,
  sectors and firm parameters. Anything else is a different set of firms.
- Replicate ``r`` uses the same seed in every scenario and in the counterfactual,
  so the differences between rows of the table are not sampling noise between
  populations.
- Ratios (cost per participant, per additional surviving firm, per joint venture)
  are computed per replicate and then summarised; a ratio with nothing to divide
  by is infinite or undefined and is reported as such, never dropped.
- With a posterior (:mod:`copsim.studies.posterior`) replicate ``r`` also takes a
  parameter set drawn from it, the same in every scenario and in the counterfactual;
  the intervals then hold parameter uncertainty and say how much of the spread it is.
- Recovery after a shock needs the cohort of members just before the shock in the
  counterfactual run too, so with a shock the counterfactual jobs are a second wave
  that tracks the rows the programme jobs found.

Every simulation goes through :func:`copsim.studies.jobs.run_jobs`; this module only plans
jobs, pairs their results and summarises them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from copsim.scenario.schema import Scenario, Shock
from copsim.errors import CopsimError
from copsim.studies.jobs import Job, JobResult, run_jobs
from copsim.engine.rng import replicate_seeds
from copsim.scenario.io import scenario_hash, validate_scenario, with_years
from copsim.scenario.shocks import apply_shocks
from copsim.studies.posterior import Draws, spread, with_values

NO_PROGRAMME = "no programme"
LEAD_WEEKS = 4  # members this many weeks before a shock form the tracked cohort
RECOVERED_SHARE = 0.95  # recovered: revenue per surviving tracked firm back to this share
CONFIDENCE = 0.95
POPULATION_KEYS = ("regions", "environment.sectors", "firms")
TIMESERIES_COLUMNS = ("members", "attendance", "groups_alive", "knowledge_members", "jv_active",
                      "cost_to_date_eur", "survival", "revenue_eur", "employment",
                      "tracked_alive", "tracked_revenue_eur")
NON_NEGATIVE = ("years", "count", "eur", "pct", "weeks")  # units whose bounds are shown >= 0
WITHOUT_COLUMNS = ("survival", "revenue_eur", "employment", "tracked_alive", "tracked_revenue_eur")


class CompareError(CopsimError):
    """Scenarios or options that cannot make a comparison."""


@dataclass(frozen=True)
class Metric:
    """A column of the outcome table: key, label, display unit, what 'undefined' means."""

    key: str
    label: str
    unit: str  # years | count | eur | pct | pp | effect | gain | weeks | weeks_diff
    undefined: str = "no participants"
    shock_only: bool = False


METRICS: tuple[Metric, ...] = (
    Metric("years", "Years simulated", "years"),
    Metric("participants", "Participants reached (firms)", "count"),
    Metric("groups_active_end", "Groups active at the end", "count"),
    Metric("cost_total_eur", "Funders' cost (EUR)", "eur"),
    Metric("participants_time_cost_eur", "Participants' time at their own hourly rates (EUR)",
           "eur"),
    Metric("cost_with_time_eur", "Total cost with participants' time (EUR)", "eur"),
    Metric("survival_pct", "Participants alive at the end (%)", "pct"),
    Metric("survival_without_pct", "The same firms without the programme (%)", "pct"),
    Metric("survival_effect_pp", "Survival effect (percentage points)", "pp"),
    Metric("additional_surviving_firms", "Additional surviving firms", "effect"),
    Metric("additional_revenue_eur_per_year",
           "Additional revenue of participants (EUR a year, at the end)", "effect"),
    Metric("additional_employment", "Additional employment of participants (persons, at the end)",
           "effect"),
    Metric("spillover_surviving_firms", "Spill-over: additional surviving non-participants",
           "effect"),
    Metric("spillover_revenue_eur_per_year",
           "Spill-over: additional revenue of non-participants (EUR a year, at the end)", "effect"),
    Metric("spillover_employment",
           "Spill-over: additional employment of non-participants (persons, at the end)", "effect"),
    Metric("joint_ventures", "Joint ventures formed", "count"),
    Metric("knowledge_gain", "Knowledge gain of participants against the same firms (0-1)", "gain"),
    Metric("strong_tie_pct", "Participants with at least one new strong tie (%)", "pct"),
    Metric("partner_pct", "Participants with a new partner: strong tie or joint venture (%)",
           "pct"),
    Metric("partner_without_pct", "The same firms with a partner without the programme (%)", "pct"),
    Metric("recovery_weeks", "Recovery after the shock: participants (weeks)", "weeks",
           "not recovered within the horizon", shock_only=True),
    Metric("recovery_without_weeks", "Recovery: the same firms without the programme (weeks)",
           "weeks", "not recovered within the horizon", shock_only=True),
    Metric("recovery_difference_weeks", "Recovery difference (weeks; negative: faster)",
           "weeks_diff", "not recovered within the horizon", shock_only=True),
    Metric("cost_per_participant_eur", "Cost per participant (EUR)", "eur"),
    Metric("cost_per_additional_surviving_firm_eur", "Cost per additional surviving firm (EUR)",
           "eur", "no additional surviving firm"),
    Metric("cost_per_joint_venture_eur", "Cost per joint venture (EUR)", "eur",
           "no joint venture"),
    Metric("cost_with_time_per_participant_eur", "With participants' time: cost per participant (EUR)",
           "eur"),
    Metric("cost_with_time_per_additional_surviving_firm_eur",
           "With participants' time: cost per additional surviving firm (EUR)", "eur",
           "no additional surviving firm"),
    Metric("cost_with_time_per_joint_venture_eur",
           "With participants' time: cost per joint venture (EUR)", "eur", "no joint venture"),
)


@dataclass(frozen=True)
class Comparison:
    """What to run: the scenarios (shock and horizon applied) and the replicate seeds."""

    arms: dict[str, Scenario]
    seeds: tuple[int, ...]
    root_seed: int
    draws: Draws | None = None  # parameter sets of the replicates (None: the scenarios' own)

    def scenario(self, scenario: Scenario, replicate: int) -> Scenario:
        """What replicate ``replicate`` of ``scenario`` runs: with its posterior draw, if any."""
        if self.draws is None:
            return scenario
        return with_values(scenario, self.draws.values(replicate),
                           f"{scenario.name} (posterior draw {self.draws.draw_of(replicate)})")

    def draw_of(self, replicate: int) -> int | None:
        """The posterior draw of a replicate (None without a posterior)."""
        return None if self.draws is None else self.draws.draw_of(replicate)

    @property
    def has_shock(self) -> bool:
        """Whether any compared scenario has a shock (recovery is then reported)."""
        return any(shock_week(s) is not None for s in self.arms.values())


@dataclass(frozen=True)
class Pair:
    """One replicate of one scenario with its counterfactual run (same seed)."""

    label: str
    replicate: int
    seed: int
    programme: JobResult
    without: JobResult
    shock_week: int | None
    draw: int | None = None  # the posterior draw of the replicate


@dataclass(frozen=True)
class Interval:
    """Mean over replicates and its 95 % confidence interval (t distribution)."""

    mean: float
    lo: float
    hi: float
    defined: int  # replicates with a finite value
    n: int


# --- planning -------------------------------------------------------------------------------


def counterfactual(scenario: Scenario) -> Scenario:
    """The same firms with no programme: no groups, no funding, no facilitators to pay, and a
    neutral name, so that scenarios with the same firms share one counterfactual run."""
    data = scenario.model_dump()
    data["name"], data["description"] = NO_PROGRAMME, "the same firms without any programme"
    data["title"] = "No programme"
    data["groups"] = []
    data["funding"]["phases"] = []
    data["facilitators"] = {}
    data["channels"] = {}  # switches of programme channels (decompose) do not matter here
    return validate_scenario(data, source=f"{scenario.name} (counterfactual)")


def is_no_programme(scenario: Scenario) -> bool:
    """A scenario that is itself a counterfactual (no groups and no funding)."""
    return not scenario.groups and not scenario.funding.phases


def first_difference(a: Any, b: Any, path: str) -> str | None:
    """The first dotted key at which two plain values differ (None if equal)."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in sorted(set(a) | set(b)):
            found = first_difference(a.get(key), b.get(key), f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}.{i}")
            if found:
                return found
        return None
    return None if a == b else path


def population_difference(a: Scenario, b: Scenario) -> str | None:
    """The first population-defining key (regions, sectors, firms) where two scenarios differ."""
    da, db = a.model_dump(), b.model_dump()
    for key in POPULATION_KEYS:
        va, vb = da, db
        for part in key.split("."):
            va, vb = va[part], vb[part]
        found = first_difference(va, vb, key)
        if found:
            return found
    return None


def shock_week(scenario: Scenario) -> int | None:
    """Start week of the scenario's first shock (None without shocks)."""
    starts = [s.start_week for s in scenario.environment.shocks]
    return min(starts) if starts else None


def prepare(scenarios: Sequence[Scenario], reps: int, root_seed: int, years: float | None = None,
            shock: tuple[Path, list[Shock]] | None = None, draws: Draws | None = None
            ) -> Comparison:
    """Check that the scenarios can be compared; set the horizon, lay the shock over them
    and fix the replicate seeds. Every problem is a one-line error, before anything runs."""
    if reps < 1:
        raise CompareError(f"--reps: {reps}: must be at least 1")
    arms: dict[str, Scenario] = {}
    for scenario in scenarios:
        if scenario.name in arms:
            raise CompareError(f"{scenario.name}: (name): two compared scenarios have this name")
        if scenario.name == NO_PROGRAMME:
            raise CompareError(f"{scenario.name}: (name): reserved for the counterfactual's row")
        if years is not None:
            scenario = with_years(scenario, years)
        if shock is not None:
            scenario = apply_shocks(scenario, shock[1], shock[0])
        arms[scenario.name] = scenario
    first = scenarios[0]
    for scenario in scenarios[1:]:
        key = population_difference(first, scenario)
        if key:
            raise CompareError(f"{first.name} and {scenario.name}: {key}: differs, so they do not "
                               "simulate the same firms and cannot be compared")
    return Comparison(arms, tuple(replicate_seeds(root_seed, reps)), root_seed, draws)


def programme_jobs(c: Comparison) -> list[Job]:
    """One job per scenario and replicate; with a shock, it tracks the members before it."""
    jobs = []
    for label, scenario in c.arms.items():
        start = shock_week(scenario)
        track = None if start is None else max(0, start - LEAD_WEEKS)
        jobs += [Job(("programme", label, r), c.scenario(scenario, r), seed, track_members_at=track)
                 for r, seed in enumerate(c.seeds)]
    return jobs


def counterfactual_jobs(c: Comparison, tracked: Mapping[tuple[str, int], np.ndarray | None]
                        ) -> tuple[list[Job], dict[tuple[str, int], tuple[Any, ...]]]:
    """Counterfactual jobs and the job key paired with each (scenario, replicate).

    Without a tracked cohort the run depends only on the counterfactual scenario and
    the seed, so scenarios with the same counterfactual share one run per replicate.
    """
    jobs: dict[tuple[Any, ...], Job] = {}
    pairing: dict[tuple[str, int], tuple[Any, ...]] = {}
    for label, scenario in c.arms.items():
        for r, seed in enumerate(c.seeds):
            without = counterfactual(c.scenario(scenario, r))
            rows = tracked.get((label, r))
            if rows is None:
                key: tuple[Any, ...] = ("counterfactual", scenario_hash(without), r)
                job = Job(key, without, seed)
            else:
                key = ("counterfactual", label, r)
                job = Job(key, without, seed, track_rows=tuple(int(x) for x in rows))
            jobs.setdefault(key, job)
            pairing[(label, r)] = key
    return list(jobs.values()), pairing


def job_count(c: Comparison) -> int:
    """How many simulations the comparison runs (for a progress bar)."""
    tracked = {(label, r): np.zeros(0) for label, s in c.arms.items()
               if shock_week(s) is not None for r in range(len(c.seeds))}
    return len(programme_jobs(c)) + len(counterfactual_jobs(c, tracked)[0])


def run_comparison(c: Comparison, workers: int | None = None,
                   progress: Callable[[JobResult], None] | None = None) -> list[Pair]:
    """Run every programme and counterfactual job; pair them by scenario and replicate.

    With a shock the counterfactual jobs need the programme's tracked cohort, so they
    run as a second wave; otherwise all jobs run together.
    """
    jobs = programme_jobs(c)
    if c.has_shock:
        results = {r.job.key: r for r in run_jobs(jobs, workers, progress)}
        tracked = {(label, r): results[("programme", label, r)].tracked_rows
                   for label in c.arms for r in range(len(c.seeds))}
        without, pairing = counterfactual_jobs(c, tracked)
        results |= {r.job.key: r for r in run_jobs(without, workers, progress)}
    else:
        without, pairing = counterfactual_jobs(c, {})
        results = {r.job.key: r for r in run_jobs(jobs + without, workers, progress)}
    pairs = [Pair(label, r, seed, results[("programme", label, r)], results[pairing[(label, r)]],
                  shock_week(scenario), c.draw_of(r))
             for label, scenario in c.arms.items() for r, seed in enumerate(c.seeds)]
    if not any(is_no_programme(s) for s in c.arms.values()):
        first = next(iter(c.arms))
        pairs += [Pair(NO_PROGRAMME, r, seed, results[pairing[(first, r)]],
                       results[pairing[(first, r)]], None, c.draw_of(r))
                  for r, seed in enumerate(c.seeds)]
    return pairs


# --- outcomes of one replicate --------------------------------------------------------------


def per(cost: float, amount: float) -> float:
    """Cost per unit: infinite when a positive cost bought nothing, undefined when nothing
    was spent on nothing."""
    if amount > 0:
        return cost / amount
    return math.inf if cost > 0 else math.nan


def recovery_weeks(tracked_revenue: np.ndarray, tracked_alive: np.ndarray, start: int) -> float:
    """Weeks from the shock's start until the cohort's revenue per surviving firm is back to
    95 % of its mean over the 4 weeks before the shock (NaN: never within the horizon, or no
    cohort). Per surviving firm, so that firms closing is not read as a lasting loss of
    revenue; the same rule applied to the same firms without the programme is the yardstick."""
    with np.errstate(divide="ignore", invalid="ignore"):
        per_firm = np.where(tracked_alive > 0, tracked_revenue / tracked_alive, np.nan)
    before = per_firm[max(0, start - LEAD_WEEKS):start]
    if len(before) == 0 or not np.all(np.isfinite(before)) or before.mean() <= 0:
        return math.nan
    back = np.flatnonzero(per_firm[start:] >= RECOVERED_SHARE * before.mean())
    return float(back[0]) if len(back) else math.nan


def replicate_outcomes(pair: Pair) -> dict[str, float]:
    """Every metric of one replicate: the programme run against the same firms without it."""
    prog, without = pair.programme.firms, pair.without.firms
    if len(prog) != len(without) or not np.array_equal(prog["born_week"], without["born_week"]):
        raise RuntimeError(f"{pair.label}: the counterfactual run holds other firms (CRN broken)")
    p = prog["ever_member"].to_numpy(dtype=bool)
    n = int(p.sum())
    summary = pair.programme.summary
    cost = float(summary["cost_total_eur"])
    time = float(summary["participants_time_cost_eur"])
    others = ~p  # every other firm (entrants included): the same rows in both runs
    alive, alive_without = prog["alive"].to_numpy()[p], without["alive"].to_numpy()[p]
    jv = float(summary["joint_ventures_formed"])

    def share(x: np.ndarray) -> float:
        return 100.0 * float(x.mean()) if n else math.nan

    def gain(column: str, rows: np.ndarray = p) -> float:
        """The column's sum over ``rows`` with the programme less without it."""
        return float(prog[column].to_numpy()[rows].sum() - without[column].to_numpy()[rows].sum())

    extra = gain("alive")

    out = {
        "years": summary["weeks"] / 52,
        "participants": float(n),
        "groups_active_end": float(summary["groups_active_end"]),
        "cost_total_eur": cost,
        "participants_time_cost_eur": time,
        "cost_with_time_eur": cost + time,
        "survival_pct": share(alive),
        "survival_without_pct": share(alive_without),
        "survival_effect_pp": share(alive) - share(alive_without),
        "additional_surviving_firms": extra,
        "additional_revenue_eur_per_year": 52.0 * gain("revenue_eur"),
        "additional_employment": gain("employment"),
        "spillover_surviving_firms": gain("alive", others),
        "spillover_revenue_eur_per_year": 52.0 * gain("revenue_eur", others),
        "spillover_employment": gain("employment", others),
        "joint_ventures": jv,
        "knowledge_gain": gain("knowledge") / n if n else math.nan,
        "strong_tie_pct": share(prog["strong_tie"].to_numpy()[p]),
        "partner_pct": share(prog["partner"].to_numpy()[p]),
        "partner_without_pct": share(without["partner"].to_numpy()[p]),
        "cost_per_participant_eur": per(cost, n),
        "cost_per_additional_surviving_firm_eur": per(cost, extra),
        "cost_per_joint_venture_eur": per(cost, jv),
        "cost_with_time_per_participant_eur": per(cost + time, n),
        "cost_with_time_per_additional_surviving_firm_eur": per(cost + time, extra),
        "cost_with_time_per_joint_venture_eur": per(cost + time, jv),
    }
    if pair.shock_week is not None and n:
        start = pair.shock_week
        ours, theirs = (recovery_weeks(run.timeseries["tracked_revenue_eur"].to_numpy(),
                                       run.timeseries["tracked_alive"].to_numpy(), start)
                        for run in (pair.programme, pair.without))
        out |= {"recovery_weeks": ours, "recovery_without_weeks": theirs,
                "recovery_difference_weeks": ours - theirs}
    else:
        out |= dict.fromkeys(("recovery_weeks", "recovery_without_weeks",
                              "recovery_difference_weeks"), math.nan)
    return out


def replicates_frame(pairs: Iterable[Pair]) -> pd.DataFrame:
    """One row per scenario and replicate, every metric."""
    return pd.DataFrame([{"scenario": p.label, "replicate": p.replicate, "seed": p.seed,
                          **({} if p.draw is None else {"draw": p.draw}),
                          **replicate_outcomes(p)} for p in pairs])


def timeseries_frame(pairs: Iterable[Pair]) -> pd.DataFrame:
    """Weekly main columns per scenario and replicate, with the counterfactual's beside them."""
    frames = []
    for p in pairs:
        ts = p.programme.timeseries
        frame = ts[["week", *TIMESERIES_COLUMNS]].copy()
        for column in WITHOUT_COLUMNS:
            frame[f"{column}_without"] = p.without.timeseries[column].to_numpy()
        frame.insert(0, "seed", p.seed)
        frame.insert(0, "replicate", p.replicate)
        frame.insert(0, "scenario", p.label)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


# --- summaries ------------------------------------------------------------------------------


def interval(values: Sequence[float]) -> Interval:
    """Mean and 95 % CI of the mean, mean ± t(0.975, R-1)·sd/√R; no bounds if R = 1 or if
    any replicate is not finite (the mean is then inf or NaN, as the values say)."""
    x = np.asarray(values, dtype=float)
    n, defined = len(x), int(np.isfinite(x).sum())
    mean = float(x.mean()) if n else math.nan
    if n < 2 or defined < n:
        return Interval(mean, math.nan, math.nan, defined, n)
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, defined, n)


def metrics_for(shock: bool) -> tuple[Metric, ...]:
    """The table's metrics: recovery only when there is a shock."""
    return tuple(m for m in METRICS if shock or not m.shock_only)


def outcome_table(replicates: pd.DataFrame, shock: bool) -> pd.DataFrame:
    """One row per scenario: mean, lower and upper 95 % bound, and defined replicates; with
    posterior draws (a ``draw`` column) the bounds hold parameter uncertainty and
    ``<metric>_parameter_share`` says how much of the spread is between draws."""
    rows = []
    for label, group in replicates.groupby("scenario", sort=False):
        row: dict[str, Any] = {"scenario": label, "replicates": len(group)}
        for m in metrics_for(shock):
            values = group[m.key].tolist()
            iv = interval(values)
            if "draw" in group:
                s = spread(values, group["draw"].tolist(), CONFIDENCE)
                iv = Interval(s.mean, s.lo, s.hi, iv.defined, iv.n)
                row[f"{m.key}_parameter_share"] = s.parameter_share
            row |= {f"{m.key}_mean": iv.mean, f"{m.key}_lo": iv.lo, f"{m.key}_hi": iv.hi,
                    f"{m.key}_defined": iv.defined}
        rows.append(row)
    return pd.DataFrame(rows)


def has_draws(table: pd.DataFrame) -> bool:
    """Whether the table's intervals hold parameter uncertainty (replicates drew from a
    posterior)."""
    return "participants_parameter_share" in table.columns


def row_interval(row: Mapping[str, Any], key: str) -> Interval:
    """The interval of one metric from a row of the outcome table."""
    return Interval(row[f"{key}_mean"], row[f"{key}_lo"], row[f"{key}_hi"],
                    int(row[f"{key}_defined"]), int(row["replicates"]))


# --- text -----------------------------------------------------------------------------------


def number(x: float, unit: str, whole: bool = True) -> str:
    """A value in the table's style for its unit (whole numbers without decimals if
    ``whole``)."""
    if unit == "gain":
        return f"{x:+.3f}"
    if unit in ("pp", "weeks_diff"):
        return f"{x:+.1f}"
    if unit in ("pct", "weeks"):
        return f"{x:.1f}"
    if unit == "years":
        return f"{x:g}"
    if abs(x) >= 1e6:
        body = f"{x / 1e6:.2f} M"
    else:
        body = f"{x:,.0f}" if abs(x) >= 100 or (whole and float(x).is_integer()) else f"{x:.1f}"
    return f"+{body}" if unit == "effect" and x > 0 else body


def cell(iv: Interval, metric: Metric, participants: float, unit: str = "") -> str:
    """'mean[unit] (lo to hi)', or why the value is not defined and in how many replicates."""
    if iv.defined < iv.n:
        reason = "no participants" if participants == 0 else metric.undefined
        where = "" if iv.defined == 0 else f" in {iv.n - iv.defined} of {iv.n} replicates"
        return f"n/a{where} ({reason})"
    spread = math.isfinite(iv.lo) and iv.lo != iv.hi
    text = number(iv.mean, metric.unit, whole=not spread) + unit
    if spread:
        lo = max(iv.lo, 0.0) if metric.unit in NON_NEGATIVE else iv.lo
        hi = min(iv.hi, 100.0) if metric.unit == "pct" else iv.hi
        text += f" ({number(lo, metric.unit)} to {number(hi, metric.unit)})"
    return text


def table_notes(table: pd.DataFrame, shock: bool, root_seed: int,
                posterior: Mapping[str, Any] | None = None) -> list[str]:
    """What the numbers in the table are (``posterior``: compare.json's record of the draws)."""
    reps = int(table["replicates"].max())
    if posterior is None:
        first = (
            f"Mean over {reps} replicates (seeds derived from root seed {root_seed}; replicate r "
            "has the same seed in every scenario and in the counterfactual). In brackets: the 95 % "
            "confidence interval of the mean, mean ± t(0.975, R−1)·sd/√R over replicates (shown "
            "within the possible range: no negative counts, costs or weeks, no share above "
            "100 %). It holds random noise only, not the uncertainty of the parameters.")
    else:
        first = (
            f"Mean over {reps} replicates: {posterior['draws']} parameter sets drawn from the "
            f"posterior {posterior['file']}, {posterior['seeds_per_draw']} seeds each (seeds and "
            f"draws derived from root seed {root_seed}; replicate r has the same seed and "
            "parameters in every scenario and in the counterfactual). In brackets: a 95 % "
            "interval that holds parameter uncertainty and noise, mean ± t(0.975, D−1)·"
            "sqrt(between-draw variance + MSB/R), from a one-way random-effects ANOVA of the "
            "replicates by draw (docs/calibration.md; shown within the possible range).")
    notes = [
        first,
        "Effects compare the participants (firms that were ever members) with the same firms in "
        "the no-programme run of the same replicate. Spill-overs compare every other firm "
        "(entrants included) in the same way: what the programme carries to non-participants "
        "through business contacts (referrals, partnerships with members) and published good "
        "practice; costs per outcome count participants' effects only. Ratios are computed per "
        "replicate, then averaged; n/a means the ratio is not defined in some replicate.",
        "Funders' cost: every euro of the funding phases and venues (the ledger). Participants' "
        "time: every hour firms spend in meetings, travel, network meetings, introductions, "
        "reading the good practice and mentoring sessions (mentors and mentees), priced at each "
        "firm's own hourly rate (weekly revenue per hour worked); a separate account, paid in "
        "time, not by any funder.",
    ]
    if shock:
        notes.append(f"Recovery: weeks from the shock's start until the revenue per surviving "
                     f"firm of the members {LEAD_WEEKS} weeks before it is back to 95 % of its "
                     f"mean over the {LEAD_WEEKS} weeks before the shock; the same firms under "
                     "the same shock without the programme are the yardstick.")
    else:
        notes.append("Recovery time after a shock is not reported: no shock (use --shock).")
    return notes


def markdown_table(table: pd.DataFrame, shock: bool, root_seed: int,
                   posterior: Mapping[str, Any] | None = None) -> str:
    """The outcome table for people: one row per metric, one column per scenario; with
    posterior draws, a second table of how much of each spread is parameters."""
    rows = table.to_dict("records")
    lines = ["| | " + " | ".join(r["scenario"] for r in rows) + " |",
             "|---|" + "---|" * len(rows)]
    for m in metrics_for(shock):
        cells = [cell(row_interval(r, m.key), m, r["participants_mean"]) for r in rows]
        lines.append(f"| {m.label} | " + " | ".join(cells) + " |")
    lines += [""] + table_notes(table, shock, root_seed, posterior)
    if has_draws(table):
        lines += ["", *spread_table(table, shock)]
    return "\n".join(lines) + "\n"


def share_text(share: float) -> str:
    """A parameter share as 'P % parameters', or why there is none."""
    if not math.isfinite(share):
        return "n/a"
    return f"{100 * share:.0f} % parameters, {100 * (1 - share):.0f} % noise"


def spread_rows(table: pd.DataFrame, shock: bool) -> list[list[str]]:
    """Per metric, each scenario's split of the replicates' variance."""
    rows = table.to_dict("records")
    return [[m.label] + [share_text(r[f"{m.key}_parameter_share"]) for r in rows]
            for m in metrics_for(shock) if m.unit != "years"]


def spread_table(table: pd.DataFrame, shock: bool) -> list[str]:
    """Where the spread comes from, as markdown lines."""
    lines = ["Where the spread comes from (share of the replicates' variance between parameter "
             "draws, the rest is noise between seeds at one draw; n/a: no spread or too few "
             "draws):", "",
             "| | " + " | ".join(table["scenario"]) + " |", "|---|" + "---|" * len(table)]
    return lines + ["| " + " | ".join(r) + " |" for r in spread_rows(table, shock)]


# --- what a comparison produces -------------------------------------------------------------


@dataclass
class CompareResult:
    """What ``copsim compare`` writes, in memory: the outcome table (table.csv), every
    replicate (replicates.csv), the weekly series (timeseries.parquet), the table for people
    (table.md) and the provenance (compare.json); ``report.write_comparison`` writes them
    with the figures and report.html."""

    table: pd.DataFrame
    replicates: pd.DataFrame
    timeseries: pd.DataFrame
    markdown: str
    provenance: dict[str, Any]
    arms: dict[str, Scenario]
    shock_week: int | None


def results(c: Comparison, pairs: list[Pair], provenance: dict[str, Any]) -> CompareResult:
    """Summarise the paired runs of a comparison."""
    replicates = replicates_frame(pairs)
    table = outcome_table(replicates, c.has_shock)
    return CompareResult(table, replicates, timeseries_frame(pairs),
                         markdown_table(table, c.has_shock, c.root_seed,
                                        provenance.get("posterior")), provenance,
                         dict(c.arms), shock_week(next(iter(c.arms.values()))))
