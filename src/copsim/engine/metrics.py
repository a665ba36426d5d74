"""Weekly outputs and per-run summaries, computed from the arrays.

The weekly row is a pure function of the model's state and the week's
:class:`~copsim.engine.week.WeekResult`, built from two summary kernels (one
pass over firms, one over ties) instead of per-agent reporters; the clustering
coefficient is measured every ``run.network_every_weeks`` and held in between
(taken from the previous row).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from copsim.dtypes import Activity, EventKind, VentureKind, VentureStatus, enum_names
from copsim.engine import ventures
from copsim.engine.kernels import summary as sums
from copsim.engine.population import SLICE_ROWS
from copsim.engine.rows import run_in_chunks

if TYPE_CHECKING:
    from copsim.engine.week import WeekResult
    from copsim.engine.shape import ModelShape

# Output columns of timeseries.parquet, with their meaning (README and docs/odd.md).
TIMESERIES = {
    "week": "week number, 0 = first simulated week",
    "firms_alive": "living firms in the modelled regions",
    "members": "firms that are members of a group",
    "attendance": "firms that attended a meeting this week",
    "meetings": "meetings held this week",
    "meetings_to_date": "meetings held since the start (the sum of meetings so far)",
    "groups_alive": "groups that have started and not dissolved",
    "joins": "firms that joined a group this week",
    "joins_to_date": "joins to groups since the start (the sum of joins so far)",
    "leaves": "firms that left a group this week (by choice, exit or dissolution)",
    "leaves_to_date": "departures from groups since the start (the sum of leaves so far)",
    "knowledge_mean": "mean knowledge (mean over topics) of living firms, 0-1",
    "knowledge_sd": "standard deviation of that knowledge across living firms",
    "knowledge_members": "mean knowledge of members",
    "knowledge_gap": "gap to the frontier: best firm's knowledge minus the mean",
    "ties": "ties with trust at or above the tie threshold",
    "strong_ties": "ties with trust at or above the strong threshold",
    "tie_density": "member-member ties over member pairs",
    "bridges": "ties between members of different groups",
    "clustering": "mean local clustering coefficient of the tie network",
    "jv_formed": "joint ventures formed this week",
    "jv_formed_to_date": "joint ventures formed since the start (the sum of jv_formed so far)",
    "jv_active": "joint ventures active at the end of the week",
    "jv_revenue_eur": ("revenue joint ventures added this week, EUR (living firms' revenue "
                       "less the same revenue without their venture uplift)"),
    "jv_cost_eur": ("what members paid this week for their active joint ventures, EUR "
                    "(not programme spending)"),
    "survival": "share of the initial firms still alive",
    "revenue_eur": "total weekly revenue of living firms, EUR",
    "employment": "owners plus employees of living firms",
    "confidence": "mean confidence of living firms, 0-1",
    "wellbeing": "mean well-being of living firms, 0-1",
    "cost_week_eur": "programme spending this week, EUR",
    "cost_to_date_eur": "programme spending so far, EUR",
    "demand_index": "mean demand multiplier over sectors and regions (1 = normal)",
    "tracked_alive": "tracked firms still alive (NaN when no cohort is tracked yet)",
    "tracked_revenue_eur": "weekly revenue of the tracked firms, EUR (NaN when none tracked)",
}


# Cumulative columns: a run's totals are in its last row (Mesa's batch_run keeps only that).
FLOWS = ("meetings_to_date", "joins_to_date", "leaves_to_date", "jv_formed_to_date")


# Numeric values of summary.json (what experiments may record as outcomes).
SUMMARY_NUMBERS = (
    "weeks", "population_start", "firms_alive_end", "participants_total", "members_end",
    "groups_started", "groups_active_end", "meetings_held", "joint_ventures_formed",
    "joint_ventures_failed", "partnerships_formed", "survival_rate", "participant_survival_rate",
    "annual_exit_rate",
    "knowledge_gain_members", "participants_with_strong_tie", "participants_with_partner",
    "cost_total_eur", "cost_per_participant_eur", "cost_per_joint_venture_eur",
    "joint_venture_memberships", "joint_venture_cost_eur", "joint_venture_revenue_eur",
    "participants_time_hours", "participants_time_cost_eur", "cost_with_time_eur",
    "cost_with_time_per_participant_eur",
)


def firm_sums(model: ModelShape) -> np.ndarray:
    """The summary kernel's sums over living firms, per chunk of rows on the model's
    threads, added in row order (the maximum kept as a maximum): the same on any number
    of threads, and one kernel call's sums when the firms fit in one chunk."""
    f = model.firms

    def chunk(start: int, stop: int, _u: None) -> np.ndarray:
        return model.kernels.summarise_firms(start, stop, f.alive, f.group, f.born_week,
                                             f.knowledge, f.revenue, f.employees, f.confidence,
                                             f.wellbeing)

    out = np.zeros(sums.N_FIRM_SUMS)
    for part in run_in_chunks(f.n, None, 0, model.threads, chunk):
        most = max(out[sums.S_KNOWLEDGE_MAX], part[sums.S_KNOWLEDGE_MAX])
        out += part
        out[sums.S_KNOWLEDGE_MAX] = most
    return out


def weekly_row(model: ModelShape, result: WeekResult,
               previous: dict[str, float] | None) -> dict[str, float]:
    """One row of timeseries.parquet, from the state at the end of the week and the
    week's result (``previous``: the row of the week before, None for the first).

    Counts are integers; ``*_to_date`` columns add the week's flow to the previous row's.
    """
    f, t, k = model.firms, model.ties, model.kernels
    week = result.week
    fs = firm_sums(model)
    th = model.params.trust
    ts = k.summarise_ties(t.n, t.src, t.dst, t.trust, f.group, f.alive, th.tie_threshold,
                          th.strong_threshold)
    if previous is None or week % model.scenario.run.network_every_weeks == 0:
        network_clustering = clustering(model)
    else:
        network_clustering = previous["clustering"]
    alive = max(fs[sums.S_ALIVE], 1.0)
    members = fs[sums.S_MEMBERS]
    mean = fs[sums.S_KNOWLEDGE] / alive
    v = model.ventures
    active = v.status[: v.n] == 0
    so_far = previous or dict.fromkeys(FLOWS, 0)
    return {
        "week": week,
        "firms_alive": int(fs[sums.S_ALIVE]),
        "members": int(members),
        "attendance": result.attendance,
        "meetings": result.meetings,
        "meetings_to_date": so_far["meetings_to_date"] + result.meetings,
        "groups_alive": len(model.alive_groups()),
        "joins": result.joins,
        "joins_to_date": so_far["joins_to_date"] + result.joins,
        "leaves": result.leaves,
        "leaves_to_date": so_far["leaves_to_date"] + result.leaves,
        "knowledge_mean": mean,
        "knowledge_sd": math.sqrt(max(fs[sums.S_KNOWLEDGE_SQ] / alive - mean * mean, 0.0)),
        "knowledge_members": fs[sums.S_KNOWLEDGE_MEMBERS] / members if members else math.nan,
        "knowledge_gap": fs[sums.S_KNOWLEDGE_MAX] - mean,
        "ties": int(ts[sums.T_TIES]),
        "strong_ties": int(ts[sums.T_STRONG]),
        "tie_density": ts[sums.T_MEMBER_TIES] / (members * (members - 1) / 2) if members > 1 else 0.0,
        "bridges": int(ts[sums.T_BRIDGES]),
        "clustering": network_clustering,
        "jv_formed": result.ventures_formed,
        "jv_formed_to_date": so_far["jv_formed_to_date"] + result.ventures_formed,
        "jv_active": int(active.sum()),
        "jv_revenue_eur": result.venture_revenue,
        "jv_cost_eur": result.venture_cost,
        "survival": fs[sums.S_COHORT_ALIVE] / model.cohort_size,
        "revenue_eur": fs[sums.S_REVENUE],
        "employment": int(fs[sums.S_EMPLOYMENT]),
        "confidence": fs[sums.S_CONFIDENCE] / alive,
        "wellbeing": fs[sums.S_WELLBEING] / alive,
        "cost_week_eur": result.cost,
        "cost_to_date_eur": model.ledger.total,
        "demand_index": float(result.demand.mean()),
        **tracked(model),
    }


def tracked(model: ModelShape) -> dict[str, float]:
    """Survivors and revenue of the tracked cohort (``track_rows`` of :class:`CopModel`)."""
    rows = model.tracked_rows
    if rows is None:
        return {"tracked_alive": math.nan, "tracked_revenue_eur": math.nan}
    alive = model.firms.alive[rows]
    return {"tracked_alive": float(alive.sum()),
            "tracked_revenue_eur": float(model.firms.revenue[rows][alive].sum())}


def partner_rows(model: ModelShape) -> tuple[np.ndarray, np.ndarray]:
    """Firms with at least one strong tie, and firms with a tie or venture partner.

    "Partner" follows eKollega's hoped-for result: a new sparring partner (a strong
    tie), business partner or customer (a joint venture of any kind).
    """
    f, t = model.firms, model.ties
    strong = t.trust[: t.n] >= model.params.trust.strong_threshold
    has_strong = np.zeros(f.n, dtype=bool)
    has_strong[t.src[: t.n][strong]] = True
    has_strong[t.dst[: t.n][strong]] = True
    has_partner = has_strong.copy()
    has_partner[ventures.memberships(model)[1]] = True
    return has_strong, has_partner


def firm_outcomes(model: ModelShape) -> pd.DataFrame:
    """End state of every firm, for comparing the same firms across scenarios (CRN)."""
    f = model.firms
    n = f.n
    has_strong, has_partner = partner_rows(model)
    return pd.DataFrame({
        "row": np.arange(n), "born_week": f.born_week[:n], "ever_member": f.ever_member[:n],
        "alive": f.alive[:n], "revenue_eur": np.where(f.alive[:n], f.revenue[:n], 0.0),
        "employment": np.where(f.alive[:n], 1 + f.employees[:n], 0),
        "knowledge": f.knowledge[:n].mean(axis=1),
        "knowledge_gain": knowledge_gain(f.knowledge[:n], f.knowledge_start[:n]),
        "strong_tie": has_strong, "partner": has_partner,
    })


def knowledge_gain(knowledge: np.ndarray, start: np.ndarray, step: int = SLICE_ROWS) -> np.ndarray:
    """Each firm's mean gain over topics, in slices of rows (no temporary of 8 floats per
    firm for every firm at once: 1.5 GB at 23 million firms)."""
    gain = np.empty(len(knowledge))
    for first in range(0, len(knowledge), step):
        rows = slice(first, first + step)
        gain[rows] = (knowledge[rows] - start[rows]).mean(axis=1)
    return gain


def clustering(model: ModelShape) -> float:
    """Mean local clustering of the living tie network (kernel ``average_clustering``)."""
    f, t = model.firms, model.ties
    return float(model.kernels.average_clustering(
        t.n, t.src, t.dst, t.trust, f.alive, model.params.trust.tie_threshold,
        np.zeros(f.n, dtype=np.int64), np.zeros(f.n + 1, dtype=np.int64),
        np.zeros(2 * t.n + 1, dtype=np.int64), np.zeros(f.n, dtype=np.bool_)))


def run_summary(model: ModelShape, timeseries: pd.DataFrame) -> dict[str, Any]:
    """Per-run outcomes: reach, survival, ventures, costs, the count of each activity."""
    f = model.firms
    n = f.n
    ever = f.ever_member[:n]
    participants = int(ever.sum())
    cohort = f.born_week[:n] < 0
    cost = model.ledger.total
    jv = model.events.count(EventKind.VENTURE_FORMED)
    last = timeseries.iloc[-1]
    return {
        "scenario": model.scenario.name,
        "seed": model.seed,
        "engine": model.engine,
        "weeks": model.week,
        "population_start": int(model.cohort_size),
        "firms_alive_end": int(last["firms_alive"]),
        "participants_total": participants,
        "members_end": int(last["members"]),
        "groups_started": int(model.groups.started[: model.groups.n].sum()),
        "groups_active_end": int(last["groups_alive"]),
        "meetings_held": model.events.count(EventKind.MEETING),
        "joint_ventures_formed": jv,
        "joint_ventures_failed": _meeting_ventures_failed(model),
        "partnerships_formed": model.events.count(EventKind.PARTNERSHIP),
        "joint_venture_memberships": _meeting_venture_memberships(model),
        "joint_venture_cost_eur": round(float(timeseries["jv_cost_eur"].sum()), 2),
        "joint_venture_revenue_eur": round(float(timeseries["jv_revenue_eur"].sum()), 2),
        "survival_rate": float(f.alive[:n][cohort].mean()) if cohort.any() else math.nan,
        "participant_survival_rate": float(f.alive[:n][ever].mean()) if participants else math.nan,
        "annual_exit_rate": _annual_exit_rate(model),
        "knowledge_gain_members": _knowledge_gain(model, ever),
        **_partner_shares(model, ever),
        "cost_total_eur": round(cost, 2),
        "cost_per_participant_eur": round(cost / participants, 2) if participants else None,
        "cost_per_joint_venture_eur": round(cost / jv, 2) if jv else None,
        "cost_by_payer_eur": {k: round(v, 2) for k, v in model.ledger.by_payer().items()},
        "ledger": model.ledger.rows(),
        **_time_costs(model, cost, participants),
        "activities": dict(zip(enum_names(Activity), map(int, model.events.activity_counts), strict=True)),
        "events": dict(zip(enum_names(EventKind), map(int, model.events.counts), strict=True)),
    }


def _meeting_ventures_failed(model: ModelShape) -> int:
    """Failed ventures formed in meetings (partnerships through contacts counted apart)."""
    v = model.ventures
    return int(np.count_nonzero((v.status[: v.n] == VentureStatus.FAILED)
                                & (v.kind[: v.n] != VentureKind.PARTNERSHIP)))


def _meeting_venture_memberships(model: ModelShape) -> int:
    """Firms in the ventures formed in meetings, a firm once per venture (partnerships
    through contacts counted apart)."""
    venture, _ = ventures.memberships(model)
    return int(np.count_nonzero(model.ventures.kind[venture] != VentureKind.PARTNERSHIP))


def _time_costs(model: ModelShape, cost: float, participants: int) -> dict[str, Any]:
    """Participants' time (a separate account, docs/odd.md 7.17) and the cost with it."""
    time = model.time_account
    with_time = cost + time.total_eur
    return {
        "participants_time_hours": round(time.total_hours, 2),
        "participants_time_cost_eur": round(time.total_eur, 2),
        "participants_time": time.rows(),
        "cost_with_time_eur": round(with_time, 2),
        "cost_with_time_per_participant_eur": round(with_time / participants, 2) if participants else None,
    }


def _partner_shares(model: ModelShape, ever: np.ndarray) -> dict[str, float]:
    """Shares of participants who leave with a strong tie, and with any partner."""
    if not ever.any():
        return {"participants_with_strong_tie": math.nan, "participants_with_partner": math.nan}
    has_strong, has_partner = partner_rows(model)
    return {"participants_with_strong_tie": float(has_strong[ever].mean()),
            "participants_with_partner": float(has_partner[ever].mean())}


def _annual_exit_rate(model: ModelShape) -> float:
    """Exits per firm-year over the run (for calibration against ~7 %)."""
    f = model.firms
    n = f.n
    end = np.where(f.alive[:n], model.week, f.exit_week[:n])
    firm_weeks = (end - np.maximum(f.born_week[:n], 0)).clip(min=0).sum()
    exits = int((~f.alive[:n]).sum())
    return float(exits / firm_weeks * 52) if firm_weeks else math.nan


def _knowledge_gain(model: ModelShape, ever: np.ndarray) -> float:
    """Mean change in knowledge (mean over topics) of firms that ever took part."""
    f = model.firms
    n = f.n
    if not ever.any():
        return 0.0
    return float((f.knowledge[:n][ever] - f.knowledge_start[:n][ever]).mean())
