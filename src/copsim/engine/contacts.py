"""Business contacts: the world outside the groups (docs/odd.md 5, 7.19).

Every firm has customers, suppliers and sector neighbours in its region from the start;
entrants find theirs when they enter. Through them word of mouth reaches new members,
firms find business partners (inside or outside the programme) and customers follow
their contacts' markets (referrals). Ties made in meetings are contacts too, which is
how the programme changes what flows through them.

Contacts are kept in a fixed number of int32 slots per firm
(:class:`~copsim.engine.state.ContactTable`),
about 40 bytes a firm at the default six contacts: no per-firm objects, no dense
matrix. All draws come from programme-independent streams (``contacts.init``,
``contacts.entry``, and ``contacts`` read by firm row), so a firm has the same contacts
and the same draws in a scenario and its counterfactual.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from copsim.dtypes import INT
from copsim.engine import rows as chunks
from copsim.engine.shape import ModelShape

TRIES_PER_CONTACT = 20  # candidate draws per contact, per sector to search


def links_wanted(mean: float, count: int, rng: np.random.Generator) -> np.ndarray:
    """How many contacts each of ``count`` firms starts: ``mean`` on average (the integer
    part, plus one with the chance of the fraction)."""
    whole = math.floor(mean)
    return (whole + (rng.random(count) < mean - whole)).astype(INT)


def link_initial(model: ModelShape, rows: np.ndarray) -> None:
    """The initial firms' contacts: each starts half the mean degree with firms of its
    region (so the mean degree is the parameter)."""
    if model.contacts.slots.shape[1] == 0 or len(rows) == 0:
        return
    rng = model.streams.generator("contacts.init")
    wanted = links_wanted(model.scenario.contacts.mean_degree / 2, len(rows), rng)
    link_by_region(model, rows, wanted, rng)


def link_entrants(model: ModelShape, rows: np.ndarray, week: int) -> None:
    """This week's entrants find their contacts: each starts the mean degree with living
    firms of its region (replacing contacts others lost when firms exited)."""
    if model.contacts.slots.shape[1] == 0 or len(rows) == 0:
        return
    rng = model.streams.weekly("contacts.entry", week)
    wanted = links_wanted(model.scenario.contacts.mean_degree, len(rows), rng)
    link_by_region(model, rows, wanted, rng)


def link_by_region(model: ModelShape, rows: np.ndarray, wanted: np.ndarray,
                   rng: np.random.Generator) -> None:
    """Firms ``rows`` (ascending) start ``wanted`` contacts each, drawing candidates from
    their region's firms only (``model.region_rows``, so a draw's cost does not grow with
    the number of regions). Regions share no firm, so they link on the model's threads in
    any order (the busiest first), region ``r`` from stream ``r + 1`` of ``rng``
    (:meth:`copsim.engine.rng.Streams.jumped`)."""
    c, f = model.scenario.contacts, model.firms
    tries = TRIES_PER_CONTACT * len(model.scenario.environment.sectors)
    regions = f.region[rows]
    by_region = np.argsort(regions, kind="stable")  # each region's rows stay ascending
    counts = np.bincount(regions)
    ends = np.cumsum(counts)

    def link(region: int) -> Callable[[], None]:
        mine = by_region[ends[region] - counts[region]: ends[region]]
        pool, stream = model.region_rows[region], model.streams.jumped(rng, region + 1)
        return lambda: model.kernels.link_firms(rows[mine], wanted[mine], pool,
                                                c.same_sector_share, f.region, f.sector, f.alive,
                                                model.contacts.slots, stream, tries)

    present = np.flatnonzero(counts)
    busiest_first = present[np.argsort(-counts[present], kind="stable")].tolist()  # balance
    chunks.run_tasks([link(region) for region in busiest_first], model.threads)


def met_ties(model: ModelShape) -> tuple[np.ndarray, np.ndarray]:
    """Both ends of every tie made in meetings at or above the tie threshold, sorted by
    the first: (firm, other)."""
    t = model.ties
    n = t.n
    keep = np.flatnonzero(t.met[:n] & (t.trust[:n] >= model.scenario.trust.tie_threshold))
    firm = np.concatenate([t.src[keep], t.dst[keep]])
    other = np.concatenate([t.dst[keep], t.src[keep]])
    order = np.argsort(firm, kind="stable")
    return firm[order], other[order]


def weekly(model: ModelShape, week: int) -> None:
    """Phase 5, before the ventures run: referrals and partnerships through contacts."""
    f, t, v, p = model.firms, model.ties, model.ventures, model.params.contacts
    n = f.n
    u = model.streams.uniforms("contacts", week, n, model.threads)
    met_firm, met_other = met_ties(model)
    # room: at most one partnership per firm whose draw is below the largest chance
    most = model.contacts.slots.shape[1] + (int(np.bincount(met_firm).max()) if len(met_firm) else 0)
    room = int(np.count_nonzero(u < 1.0 - math.exp(-p.partner_rate * most)))
    t.grow_to(t.n + room)
    v.grow_to(v.n + room)
    vm = model.venture_members
    vm.grow_to(vm.n + 2 * room)
    model.events.buffer.room_for(room)
    ev = model.events.buffer
    tied = np.zeros(n, dtype=np.bool_)
    tied[t.src[: t.n]] = True
    tied[t.dst[: t.n]] = True
    t.n, v.n, vm.n, ev.n = contact_week(
        week, n, p, model.contacts.slots, f.columns(), met_firm, met_other, t.columns(), t.index,
        t.n, tied, u, model.firm_scratch.performance, (v.columns(), v.n, vm.columns(), vm.n),
        (ev.columns(), ev.n),
        kernels=model.kernels, threads=model.threads)
    model.events.take()


def contact_week(week: int, n: int, p: Any, slots: np.ndarray, firms: Any, met_firm: np.ndarray,
                 met_other: np.ndarray, ties: Any, tie_index: Any, n_ties: int, tied: np.ndarray,
                 u: np.ndarray, performance: np.ndarray, ventures: tuple, events: tuple, *,
                 kernels: Any, threads: int = 1) -> tuple[int, int, int, int]:
    """Referrals and new partners through contacts for rows ``0..n-1``: every firm's contacts
    scanned from the week's starting state (in chunks of rows on ``threads`` kernel threads:
    rows are independent), then the partnerships in row order on this thread
    (docs/odd.md 7.19; the kernels' docstrings say what each step does).

    ``met_firm``/``met_other``: both ends of every tie made in meetings at or above the tie
    threshold, sorted by ``met_firm``. ``tied[row]``: the firm has a tie. ``performance``:
    scratch of at least ``n`` rows for the firms' relative performance. Appends ventures,
    their members and events; the caller guarantees room. Returns ``(n_ties, ven_n, mem_n,
    ev_n)``.
    """
    kernels.relative_performance(n, p, firms.revenue, firms.revenue_base, firms.employees,
                                 performance)
    total = np.empty(n, dtype=np.float64)
    starts = np.empty(n, dtype=np.bool_)

    def scan(start: int, stop: int, _u: None) -> np.ndarray:
        """The chunk's scan; its starting rows, listed in its own thread."""
        kernels.scan_contacts(start, stop, p, slots, firms.alive, performance, met_firm, met_other,
                              tie_index, ties.trust, ties.met, ties.ventures, tied, firms.referral,
                              total, u, starts, False)
        return start + np.flatnonzero(starts[start:stop])

    starting = np.concatenate([np.zeros(0, dtype=np.int64),
                               *chunks.run_in_chunks(n, None, 0, threads, scan)])
    return kernels.form_partnerships(week, n, p, slots, firms, performance, met_firm, met_other,
                                     ties, tie_index, n_ties, tied, u, total, starts, starting,
                                     ventures, events)


def contacts_of(model: ModelShape, row: int) -> np.ndarray:
    """A firm's contacts: its business contacts and the firms it has a tie with (trust at
    least the tie threshold), each once, in row order."""
    t = model.ties
    n = t.n
    mine = (t.src[:n] == row) | (t.dst[:n] == row)
    mine &= t.trust[:n] >= model.scenario.trust.tie_threshold
    tied = np.where(t.src[:n][mine] == row, t.dst[:n][mine], t.src[:n][mine])
    return np.union1d(model.contacts.of(row), tied)
