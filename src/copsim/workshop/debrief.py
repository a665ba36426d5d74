"""The debrief (the room against the same world played by the model alone) and the record.

Both worlds have the same scenario, seed, levers and shocks, and step the same weeks;
the only difference is what people decided. Common random numbers make a firm's row the
same firm in both, so the entrepreneurs people played can be compared one by one.
"""

from __future__ import annotations

import math
import time
from typing import Any, Protocol

import numpy as np

from copsim.engine import ventures
from copsim.engine.model import CopModel
from copsim.scenario.schema import Scenario
from copsim.version import __version__
from copsim.viz import feed
from copsim.workshop.records import Participant, Proposal, Round


class RoomView(Protocol):
    """What the debrief reads of a room (:class:`copsim.workshop.room.Room`, which calls it)."""

    model: CopModel
    alone: CopModel  # the same world played by the model alone
    scenario: Scenario
    seed: int
    state: str
    started_wall: float
    participants: dict[str, Participant]
    history: list[Round]
    proposals: list[Proposal]
    actions: list[dict[str, Any]]


METRICS = [  # key, label, decimals
    ("knowledge", "Knowledge (mean, 0-1)", 3),
    ("ties", "Trust ties", 0),
    ("strong_ties", "Strong ties", 0),
    ("ventures", "Joint ventures formed", 0),
    ("survival", "Still in business (%)", 1),
    ("members", "Members of a group", 0),
    ("meetings", "Meetings attended (mean)", 1),
]


def measure(model: CopModel, rows: np.ndarray | None) -> dict[str, float]:
    """Outcomes of a world for some firms (None: all firms, survival of the initial ones)."""
    f, t = model.firms, model.ties
    n = f.n
    every = np.arange(n)
    chosen = every if rows is None else rows
    mask = np.zeros(n, dtype=bool)
    mask[chosen] = True
    src, dst, trust = t.src[: t.n], t.dst[: t.n], t.trust[: t.n]
    touching = mask[src] | mask[dst]
    threshold = model.scenario.trust
    living = f.alive[:n] & mask
    cohort = f.alive[: model.cohort_size] if rows is None else f.alive[chosen]
    venture, firm = ventures.memberships(model)
    return {
        "knowledge": float(f.knowledge[:n][living].mean()) if living.any() else math.nan,
        "ties": float((touching & (trust >= threshold.tie_threshold)).sum()),
        "strong_ties": float((touching & (trust >= threshold.strong_threshold)).sum()),
        "ventures": float(len(np.unique(venture[mask[firm]]))),  # each venture once
        "survival": 100.0 * float(cohort.mean()) if len(cohort) else math.nan,
        "members": float((living & (f.group[:n] >= 0)).sum()),
        "meetings": float(f.meetings_attended[:n][mask].mean()) if mask.any() else math.nan,
    }


def number(x: float, decimals: int) -> float | None:
    """A rounded number for JSON (None for NaN, which JSON cannot hold)."""
    return None if x != x else round(float(x), decimals)


def table(room_values: dict[str, float], alone_values: dict[str, float],
          keys: list[str]) -> list[dict[str, Any]]:
    """Rows of metric, room, model alone and difference."""
    out = []
    for key, label, decimals in METRICS:
        if key not in keys:
            continue
        a, b = room_values[key], alone_values[key]
        out.append({"metric": label, "key": key, "room": number(a, decimals),
                    "alone": number(b, decimals), "difference": number(a - b, decimals)})
    return out


def played_rows(room: RoomView) -> np.ndarray:
    """Every firm a person played in this session (removed participants included)."""
    return np.array(sorted({p.row for p in room.participants.values()}), dtype=np.int64)


def compare(room: RoomView) -> dict[str, Any]:
    """The debrief: every firm, the firms people played, each person, in numbers and words."""
    rows = played_rows(room)
    everyone = table(measure(room.model, None), measure(room.alone, None),
                     ["knowledge", "ties", "strong_ties", "ventures", "survival", "members"])
    sections = [{"title": f"All {room.model.firms.n} firms", "rows": everyone}]
    people = []
    if len(rows):
        played = table(measure(room.model, rows), measure(room.alone, rows),
                       ["knowledge", "ties", "strong_ties", "ventures", "survival", "meetings"])
        sections.append({"title": f"The {len(rows)} entrepreneurs played by people", "rows": played})
        for p in sorted(room.participants.values(), key=lambda p: p.name.lower()):
            one = np.array([p.row])
            a, b = measure(room.model, one), measure(room.alone, one)
            both = {k: [number(a[k], d), number(b[k], d)] for k, _, d in METRICS
                    if k in ("knowledge", "ties", "ventures", "meetings")}
            alive = [bool(room.model.firms.alive[p.row]), bool(room.alone.firms.alive[p.row])]
            people.append({"name": p.name, "firm": feed.firm_name(room.model, p.row), **both,
                           "alive": alive})
    return {"weeks": room.model.week, "rounds": len(room.history), "seed": room.seed,
            "sections": sections, "people": people, "summary": summary(sections)}


def summary(sections: list[dict[str, Any]]) -> list[str]:
    """Plain sentences from the tables."""
    lines = []
    for section in sections:
        values = {r["key"]: r for r in section["rows"]}
        v, t = values["ventures"], values["ties"]
        lines.append(f"{section['title']}: {v['room']:g} joint ventures in the room, "
                     f"{v['alone']:g} when the model played alone; {t['room']:g} trust ties "
                     f"against {t['alone']:g}.")
    return lines


def claimed_events(room: RoomView, rows: np.ndarray) -> tuple[list[dict[str, Any]], list[str]]:
    """Events of the firms people played, as records and as sentences."""
    events = room.model.events.to_frame()
    mine = events[events.firm.isin(rows) | events.other.isin(rows)]
    records = []
    for e in mine.itertuples(index=False):
        records.append({"week": int(e.week), "kind": str(e.kind), "group": int(e.group),
                        "firm": int(e.firm), "other": int(e.other),
                        "activity": None if e.activity != e.activity else str(e.activity),
                        "topic": None if e.topic != e.topic else str(e.topic),
                        "value": number(e.value, 6)})
    return records, [line for line in feed.describe(room.model, mine) if line]


def record(room: RoomView) -> dict[str, Any]:
    """Everything about the session worth keeping, without any secret (JSON-ready)."""
    rows = played_rows(room)
    events, story = claimed_events(room, rows)
    rounds = [{"round": r.id, "first_week": r.first_week, "weeks": r.weeks,
               "opened": _iso(r.opened_wall), "closed": _iso(r.closed_wall) if r.closed_wall else None,
               "closed_by": r.closed_by,
               "decisions": [{"row": row, **_jsonable(d)} for row, d in sorted(r.decisions.items())],
               "outcomes": r.outcomes} for r in room.history]
    return {
        "copsim_version": __version__, "scenario": room.scenario.name, "seed": room.seed,
        "firms": room.model.firms.n, "weeks": room.model.week, "started": _iso(room.started_wall),
        "saved": _iso(time.time()), "state": room.state,
        "participants": [{"name": p.name, "row": p.row, "firm": feed.firm_name(room.model, p.row),
                          "removed": p.removed} for p in room.participants.values()],
        "rounds": rounds,
        "decisions": sum(len(r["decisions"]) for r in rounds),
        "proposals": [{"round": x.round, "from": x.frm, "to": x.to, "status": x.status}
                      for x in room.proposals],
        "facilitator_actions": room.actions,
        "events_of_played_firms": events, "story_of_played_firms": story,
        "debrief": compare(room),
    }


def _jsonable(decision: dict[str, Any]) -> dict[str, Any]:
    return {**decision, "answers": {str(k): v for k, v in decision["answers"].items()}}


def _iso(wall: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(wall))
