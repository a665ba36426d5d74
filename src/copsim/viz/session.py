"""One dashboard tab's simulation: a model, its layout, lever markers and feed.

Every browser tab holds its own :class:`ExploreSession`, so tabs never share a
model. The session turns the model's arrays into what the views draw (nodes,
edges, a firm's card) and keeps the story of the run in plain words.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from copsim.dtypes import Asset, FirmType, Topic
from copsim.engine.model import CopModel
from copsim.scenario.io import load_scenario, scale_population
from copsim.viz import feed
from copsim.viz.layout import StableLayout

ColourBy = Literal["group", "knowledge"]
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939", "#8c6d31", "#843c39"]
FEED_LENGTH = 60
# The levers in the words of the dashboard, for its fields and the markers on its plots.
LEVER_NAMES = {"hours_scale": "Funding level", "skill": "Facilitator skill",
               "recruitment_scale": "Recruitment effort", "cadence_weeks": "Meeting cadence",
               "mode": "Meeting mode"}
LABEL_HEIGHT = 30  # canvas units a group's name needs above its baseline (drawn 22-26 high)
KNOWLEDGE_SCALE = (0.2, 0.7)  # knowledge_colour's lightest and darkest values


def knowledge_colour(value: float) -> str:
    """A light-to-dark blue for knowledge 0-1 (readable on a projector)."""
    low, high = KNOWLEDGE_SCALE
    v = min(max((value - low) / (high - low), 0.0), 1.0)
    r, g, b = (int(230 - 200 * v), int(240 - 150 * v), int(255 - 90 * v))
    return f"#{r:02x}{g:02x}{b:02x}"


@dataclass
class ExploreSession:
    """A model being explored, with everything the views need to draw it.

    The play loop steps it from a thread while levers change it from the UI:
    callers hold ``lock`` around every call.
    """

    scenario_name: str
    population: int = 500
    seed: int = 1
    model: CopModel = field(init=False)
    layout: StableLayout = field(init=False)
    markers: list[tuple[int, str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def __post_init__(self) -> None:
        scenario = scale_population(load_scenario(self.scenario_name), self.population)
        self.model = CopModel(scenario, seed=self.seed)
        sizes = np.bincount(self.model.firms.region[: self.model.firms.n],
                            minlength=len(scenario.regions)).tolist()
        self.layout = StableLayout(len(scenario.regions), sizes)
        self._bookmark = self.model.events.n_chunks

    @property
    def week(self) -> int:
        """Weeks simulated so far."""
        return self.model.week

    def step(self, weeks: int = 1) -> None:
        """Advance the model and add what happened to the feed."""
        for _ in range(weeks):
            if self.model.week >= self.model.horizon:
                self.model.extend_to(self.model.horizon + 52)  # a live session can run past the horizon
            self.model.step()
        events = self.model.events.to_frame(self._bookmark)
        self._bookmark = self.model.events.n_chunks
        self.lines = (feed.describe(self.model, events)[::-1] + self.lines)[:FEED_LENGTH]

    def set_lever(self, name: str, value: object) -> None:
        """Change a lever now (ValueError with the reason if the value is impossible)."""
        self.model.set_lever(name, value)
        self.markers.append((self.model.week, f"{LEVER_NAMES.get(name, name)} {value}"))

    def shock(self, depth: float = 0.3) -> None:
        """A demand shock starting this week."""
        self.model.trigger_shock(depth=depth)
        self.markers.append((self.model.week, f"shock -{depth:.0%}"))

    def network(self, colour_by: ColourBy = "group") -> dict[str, list]:
        """Nodes and edges of the living firms for the network view."""
        f, t = self.model.firms, self.model.ties
        rows = np.flatnonzero(f.alive[: f.n])
        self.layout.place(rows, f.region[rows])
        centres = self._group_centres()
        xy = self.layout.positions(rows, f.group[rows], centres)
        revenue = f.revenue[rows]
        radius = 2.5 + 6.0 * np.sqrt(revenue / max(revenue.max(), 1.0))
        member = f.group[rows] >= 0
        knowledge = f.knowledge[rows].mean(axis=1)
        nodes = [{"id": int(row), "x": round(float(x)), "y": round(float(y)),
                  "r": round(float(r), 1), "o": 1.0 if m else 0.25,
                  "c": (PALETTE[int(grp) % len(PALETTE)] if m else "#999999") if colour_by == "group"
                  else knowledge_colour(float(k))}
                 for row, (x, y), r, m, grp, k in zip(rows, xy, radius, member, f.group[rows],
                                                      knowledge, strict=True)]
        where = {int(row): i for i, row in enumerate(rows)}
        live = np.flatnonzero(t.trust[: t.n] >= self.model.scenario.trust.tie_threshold)
        edges = []  # [node index, node index, width, in a joint venture]: compact to send
        for e in live.tolist():
            a, b = where.get(int(t.src[e])), where.get(int(t.dst[e]))
            if a is not None and b is not None:
                edges.append([a, b, round(float(0.4 + 2.5 * t.trust[e]), 1), int(t.ventures[e] > 0)])
        return {"nodes": nodes, "edges": edges, "groups": self._group_labels(centres, f.group[rows])}

    def _group_labels(self, centres: dict[int, tuple[float, float]],
                      groups: np.ndarray) -> list[dict[str, Any]]:
        """Each group with members, named just above its cluster of members, or just below it
        when above would put the name past the canvas's top edge (a group in the top region
        when there are few regions, as in a workshop)."""
        gap = 0.42 * self.layout.region_radius + 12

        def baseline(y: float) -> int:
            return round(y - gap if y - gap >= LABEL_HEIGHT else y + gap + LABEL_HEIGHT)

        return [{"name": feed.group_name(self.model, gid), "x": round(centres[gid][0]),
                 "y": baseline(centres[gid][1])}
                for gid in sorted(set(groups[groups >= 0].tolist())) if gid in centres]

    def _group_centres(self) -> dict[int, tuple[float, float]]:
        g = self.model.groups
        centres: dict[int, tuple[float, float]] = {}
        seen: dict[int, int] = {}
        for gid in range(g.n):
            if g.is_network[gid]:
                continue
            region = int(g.region[gid])
            centres[gid] = self.layout.group_centre(region, seen.get(region, 0))
            seen[region] = seen.get(region, 0) + 1
        return centres

    def card(self, row: int) -> dict[str, Any]:
        """Everything the entrepreneur's card shows."""
        m = self.model
        f = m.firms
        trust = []
        t = m.ties
        for e in np.flatnonzero(((t.src[: t.n] == row) | (t.dst[: t.n] == row))
                                & (t.trust[: t.n] >= m.scenario.trust.tie_threshold)).tolist():
            other = int(t.dst[e] if t.src[e] == row else t.src[e])
            trust.append((feed.firm_name(m, other), round(float(t.trust[e]), 2)))
        events = m.events.to_frame()
        mine = events[(events.firm == row) | (events.other == row)]
        history = [line for line in feed.describe(m, mine.tail(40)) if line][-8:]
        group = int(f.group[row])
        return {
            "name": feed.firm_name(m, row), "row": row, "alive": bool(f.alive[row]),
            "sector": m.scenario.environment.sectors[int(f.sector[row])].name.replace("_", " "),
            "type": FirmType(int(f.firm_type[row])).name.lower(),
            "region": m.scenario.regions[int(f.region[row])].name,
            "group": feed.group_name(m, group) if group >= 0 else "not a member",
            "employees": int(f.employees[row]), "cash": round(float(f.cash[row])),
            "revenue": round(float(f.revenue[row])),
            "confidence": round(float(f.confidence[row]), 2),
            "wellbeing": round(float(f.wellbeing[row]), 2),
            "problem": feed.topic_name(int(f.problem_topic[row])) if f.problem_topic[row] >= 0 else "none",
            "assets": [a.name.lower().replace("_", " ") for a in Asset if f.assets[row] >> a & 1],
            "knowledge": dict(zip([feed.topic_name(t) for t in Topic],
                                  np.round(f.knowledge[row], 2).tolist(), strict=True)),
            "ties": sorted(trust, key=lambda x: -x[1])[:6],
            "meetings": int(f.meetings_attended[row]),
            "history": history,
        }


def scenario_names() -> list[str]:
    """Scenarios shipped with copsim (names without .toml)."""
    from copsim.resources import SCENARIOS, shipped_names

    return shipped_names(SCENARIOS)


