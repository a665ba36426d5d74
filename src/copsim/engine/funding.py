"""Funding phases: which facilitation each group gets this week, and who pays.

Every euro goes through :class:`Ledger` under (payer, item), so the total cost
of a run is the sum of its ledger and each item can be traced to a phase. The hours
participants give (priced by :mod:`copsim.engine.owner_time`) go into a
:class:`TimeAccount` of their own: time, not money any funder spends.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from copsim.scenario.schema import WEEKS_PER_YEAR, FundingPhase, Scenario


class Ledger:
    """Spending by (payer, item)."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], float] = defaultdict(float)
        self.total = 0.0

    def spend(self, payer: str, item: str, eur: float) -> None:
        """Record a payment."""
        if eur > 0.0:
            self.entries[(payer, item)] += eur
            self.total += eur

    def by_payer(self) -> dict[str, float]:
        """Totals per payer."""
        totals: dict[str, float] = defaultdict(float)
        for (payer, _), eur in self.entries.items():
            totals[payer] += eur
        return dict(totals)

    def rows(self) -> list[dict[str, object]]:
        """The ledger as records, for summary.json."""
        return [{"payer": p, "item": i, "eur": round(v, 2)} for (p, i), v in sorted(self.entries.items())]


TIME_ITEMS = ("meetings", "travel", "network meetings", "introductions", "reading",
              "mentoring (mentors)", "mentoring (mentees)")


class TimeAccount:
    """Participants' hours and their value in EUR, by item."""

    def __init__(self) -> None:
        self.eur: dict[str, float] = defaultdict(float)
        self.hours: dict[str, float] = defaultdict(float)

    def add(self, item: str, hours: float, eur: float) -> None:
        """Record hours spent and their value."""
        if hours > 0.0:
            self.hours[item] += hours
            self.eur[item] += eur

    @property
    def total_eur(self) -> float:
        """All participants' time so far, EUR."""
        return sum(self.eur.values())

    @property
    def total_hours(self) -> float:
        """All participants' hours so far."""
        return sum(self.hours.values())

    def rows(self) -> list[dict[str, object]]:
        """The account as records, for summary.json."""
        return [{"item": k, "hours": round(self.hours[k], 2), "eur": round(self.eur[k], 2)}
                for k in TIME_ITEMS if k in self.hours]


@dataclass(frozen=True)
class Support:
    """What a group gets in one week from the phases that cover it."""

    facilitation: float  # 0-1: skill times the share of the hours needed for full effect
    outside_knowledge: float  # 0-1: the best outside knowledge a funded facilitator brings
    recruitment_hours: float
    costs: tuple[tuple[str, str, float], ...]  # (payer, item, EUR)
    hours: tuple[tuple[str, float, float], ...]  # (facilitator key, facilitation, recruitment)


NO_SUPPORT = Support(0.0, 0.0, 0.0, (), ())


def covering_phases(s: Scenario, week: int, group_age: int) -> list[FundingPhase]:
    """The phases that fund a group of this age in this week (at most one per basis)."""
    return [p for p in s.funding.phases
            if p.covers(group_age if p.basis == "group_age" else week)]


def group_support(s: Scenario, phases: list[FundingPhase], hours_scale: float,
                  skill_override: float | None) -> Support:
    """Facilitation, recruitment and weekly costs of one group under the given phases."""
    facilitation = outside = recruitment = 0.0
    costs: list[tuple[str, str, float]] = []
    hours_by: list[tuple[str, float, float]] = []
    for phase in phases:
        keys = [k for k in phase.facilitators if s.facilitators[k].kind != "none"]
        hours = phase.facilitation_hours_per_week * hours_scale if keys else 0.0
        recruit = phase.recruitment_hours_per_week * hours_scale if keys else 0.0
        recruitment += recruit
        kinds = [s.facilitators[k] for k in keys]
        hours_by.extend((k, hours / len(keys), recruit / len(keys)) for k in keys)
        if kinds and hours + recruit > 0:
            rate = phase_hourly_rate(s, phase)
            costs.append((phase.payer, "facilitation", hours * rate))
            costs.append((phase.payer, "recruitment", recruit * rate))
        for k in kinds:
            skill = k.skill if skill_override is None else skill_override
            share = min(1.0, hours / len(kinds) / k.hours_for_full_effect)
            facilitation = max(facilitation, skill * share)
            if hours > 0:
                outside = max(outside, k.outside_knowledge)
        costs.append((phase.payer, "other", phase.other_eur_per_group_per_year / WEEKS_PER_YEAR))
    return Support(facilitation, outside, recruitment, tuple(c for c in costs if c[2] > 0),
                   tuple(hours_by))


def phase_hourly_rate(s: Scenario, phase: FundingPhase) -> float:
    """EUR an hour of the phase's facilitators (their mean rate; 0 if it funds none)."""
    kinds = [s.facilitators[k] for k in phase.facilitators if s.facilitators[k].kind != "none"]
    return sum(k.eur_per_hour for k in kinds) / len(kinds) if kinds else 0.0


def fixed_costs(s: Scenario, week: int) -> list[tuple[str, str, float]]:
    """Weekly costs of calendar phases that do not depend on the number of groups."""
    return [(p.payer, "fixed", p.fixed_eur_per_year / WEEKS_PER_YEAR)
            for p in s.funding.phases
            if p.basis == "calendar" and p.covers(week) and p.fixed_eur_per_year > 0]


def founding_allowed(s: Scenario, week: int) -> bool:
    """Whether a calendar phase that allows founding runs this week."""
    return any(p.founding and p.covers(week) for p in s.funding.phases)
