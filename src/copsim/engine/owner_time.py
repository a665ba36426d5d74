"""Participants' time as a cost: every hour the programme asks of a firm (meetings, travel,
network meetings, introductions, reading the good practice, mentoring sessions) priced at
the firm's own hourly rate (docs/odd.md 7.17).

A separate account (:class:`copsim.engine.funding.TimeAccount`), never mixed into the
funders' ledger (:class:`copsim.engine.funding.Ledger`):
the firms pay it with their time, not with money the programme spends. The hourly rate is
the firm's weekly revenue over the hours worked in it, the owner's ``work_hours_per_week``
times ``1 + firms.revenue_per_employee x employees`` (employees' hours counted by the revenue
they add): gross revenue per owner-equivalent hour, an upper bound of what an hour away costs.
"""

from __future__ import annotations

import numpy as np

from copsim.engine.shape import ModelShape

def hourly_rate(model: ModelShape, rows: np.ndarray) -> np.ndarray:
    """EUR an hour of each firm's work this week (its revenue per owner-equivalent hour)."""
    f, p = model.firms, model.scenario
    persons = 1.0 + p.firms.revenue_per_employee * f.employees[rows]
    hours = p.owner_time.work_hours_per_week * persons
    return np.maximum(f.revenue[rows], 0.0) / hours


def charge(model: ModelShape, rows: np.ndarray, hours: np.ndarray | float, item: str) -> None:
    """Price ``hours`` of each firm in ``rows`` at its own rate into the time account."""
    if len(rows) == 0:
        return
    spent = np.broadcast_to(np.asarray(hours, dtype=float), rows.shape)
    eur = float((hourly_rate(model, rows) * spent).sum())
    model.time_account.add(item, float(spent.sum()), eur)


def meeting_time(model: ModelShape, attendees: np.ndarray, groups: np.ndarray,
                 network: bool) -> None:
    """The hours of this week's meetings: a group meeting and the travel to it (times the
    region's sparsity and the mode's travel factor), or a network meeting's day."""
    ot = model.scenario.owner_time
    if network:
        charge(model, attendees, ot.network_meeting_hours, "network meetings")
        return
    mp = model.params.meeting
    charge(model, attendees, ot.meeting_hours, "meetings")
    sparsity = mp.sparsity_by_region[model.firms.region[attendees]]
    travel = sparsity * mp.travel_by_mode[model.groups.mode[groups]]
    charge(model, attendees, ot.travel_hours * travel, "travel")
