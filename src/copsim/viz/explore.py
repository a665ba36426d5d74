"""The Explore page: watch one run live, change levers mid-run, read the story.

The time series come from the model's Mesa ``DataCollector`` and are drawn in
the browser by a small SVG component: Mesa's ``PlotMatplotlib`` renders a PNG on
the server (about 35 ms each on this machine), and three of them per frame broke
the 250 ms frame budget. The controls, levers, the network view (a Vue SVG
component, so clicking a firm works in the browser), the feed and the
entrepreneur's card are copsim's own components. Each browser tab builds its own
:class:`ExploreSession`.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable
from pathlib import Path

import solara

from copsim.dtypes import MODE_NAMES
from copsim.viz.lifetime import use_page_gone
from copsim.viz.session import (KNOWLEDGE_SCALE, LEVER_NAMES, ExploreSession, knowledge_colour,
                                scenario_names)

MODES = list(MODE_NAMES)
# (title, counts: the axis starts at zero, {column: (legend label, colour)})
PANELS = [
    ("Membership (firms)", True, {"members": ("members", "#1f77b4"),
                                  "attendance": ("at a meeting", "#ff7f0e")}),
    ("Knowledge (0-1)", False, {"knowledge_members": ("members", "#2ca02c"),
                                "knowledge_mean": ("all firms", "#7f7f7f")}),
    ("Trust and ventures", True, {"ties": ("trust ties", "#9467bd"),
                                  "strong_ties": ("strong ties", "#d62728"),
                                  "jv_active": ("joint ventures", "#e6550d")}),
]


# The Vue views take their data as one JSON string (not named ``data``: Vue reserves it): Solara's renderer walks every nested
# list and dict of a component's arguments, which for 500 nodes and 2,000 edges cost more
# than the rest of a frame.


@solara.component_vue(str(Path(__file__).with_name("network.vue")))
def NetworkView(graph: str, selected: int, event_select: Callable[[int], None]) -> None:
    """SVG network (``graph``: JSON of nodes and edges): nodes by group or knowledge, sized
    by revenue; ventures highlighted; clicking a node calls ``event_select(row)``."""


@solara.component_vue(str(Path(__file__).with_name("timeseries.vue")))
def TimeSeriesView(chart: str) -> None:
    """Small-multiple line charts (``chart``: JSON of panels, markers and the week) with lever
    changes as labelled dashed lines."""


def panels(session: ExploreSession) -> list[dict]:
    """The weekly outputs to plot, from the model's Mesa DataCollector (NaN as gaps)."""
    frame = session.model.datacollector.get_model_vars_dataframe()
    def values(column: str) -> list[float | None]:
        return [None if v != v else round(float(v), 4) for v in frame[column]]
    return [{"title": title, "zero": counts,
             "lines": [{"label": label, "color": colour, "values": values(name)}
                       for name, (label, colour) in lines.items()]}
            for title, counts, lines in PANELS]


@solara.component
def LeverField(label: str, current: Callable[[], str], apply: Callable[[str], None]) -> None:
    """A typed lever, applied on Enter or blur. An impossible value shows the reason, and the
    field goes back to ``current()``, the value the model goes on using (read when the field
    renders: the page does not re-render the levers on every frame)."""
    error = solara.use_reactive("")
    refusals = solara.use_reactive(0)  # a fresh field, showing current(), after each refusal

    def on_value(text: str) -> None:
        try:
            apply(text)
            error.value = ""
        except ValueError as exc:
            error.value = f"{label}: refused ({exc})"
            refusals.value += 1

    solara.InputText(label, value=current(), on_value=on_value,
                     continuous_update=False).key(f"lever-{refusals.value}")
    if error.value:
        solara.Error(error.value, dense=True, classes=["copsim-lever-error"])


@solara.component
def Levers(session: ExploreSession, changed: Callable[[], None]) -> None:
    """Mid-run levers: funding, facilitation, recruitment, mode, cadence, a shock."""
    lv = session.model.levers

    def shown(name: str) -> Callable[[], str]:
        def current() -> str:
            value = getattr(session.model.levers, name)
            return "" if value is None else str(value)
        return current

    def lever(name: str, convert: Callable[[str], object]) -> Callable[[str], None]:
        def apply(text: str) -> None:
            try:
                value = convert(text)
            except ValueError:
                raise ValueError(f"'{text}' is not a number") from None
            with session.lock:
                session.set_lever(name, value)
            changed()
        return apply

    def shock() -> None:
        with session.lock:
            session.shock(0.3)
        changed()

    def set_mode(mode: str) -> None:
        with session.lock:
            session.set_lever("mode", mode)
        changed()

    with solara.Card("Levers", subtitle="They apply mid-run", classes=["copsim-levers"]):
        for name, unit, convert in (("hours_scale", "x funded hours", float), ("skill", "0-1", float),
                                    ("recruitment_scale", "x", float), ("cadence_weeks", "weeks", int)):
            LeverField(f"{LEVER_NAMES[name]} ({unit})", shown(name), lever(name, convert))
        solara.Select(LEVER_NAMES["mode"], values=MODES, value=lv.mode or "physical",
                      on_value=set_mode)
        solara.Button("Shock: demand -30 %", on_click=shock, color="error", outlined=True)


@solara.component
def Card(session: ExploreSession, row: int) -> None:
    """The selected entrepreneur: firm, knowledge, ties and history."""
    with session.lock:
        c = session.card(row)
    with solara.Card(c["name"], subtitle=f"{c['sector']}, {c['type']}, {c['region']}",
                     classes=["copsim-card"]):
        facts = [
            ("Group", f"{c['group']} ({c['meetings']} meetings)"),
            ("Employees", f"{c['employees']}; revenue {c['revenue']:,} EUR/week; cash {c['cash']:,} EUR"),
            ("Confidence", f"{c['confidence']}; well-being {c['wellbeing']}"),
            ("Problem", f"{c['problem']}; assets: {', '.join(c['assets']) or 'none'}"),
            ("Knowledge", ", ".join(f"{k} {v}" for k, v in c["knowledge"].items())),
            ("Ties", ", ".join(f"{n} ({t})" for n, t in c["ties"]) or "none"),
        ] + ([] if c["alive"] else [("Closed down", "yes")])
        # Plain HTML, not solara.Markdown: its math support fetches KaTeX, which solara-assets
        # does not ship (a 404 and a page error in a dashboard without internet).
        solara.HTML(unsafe_innerHTML="".join(
            f"<div><b>{html.escape(key)}:</b> {html.escape(value)}</div>" for key, value in facts),
            classes=["copsim-card-facts"])
        for line in c["history"]:
            solara.Text(line, style={"font-size": "0.85em", "display": "block"})


@solara.component
def KnowledgeScale() -> None:
    """The key to the knowledge colouring: a light-to-dark bar with its end values."""
    low, high = KNOWLEDGE_SCALE
    stops = ", ".join(knowledge_colour(low + (high - low) * i / 4) for i in range(5))
    solara.HTML(unsafe_innerHTML=(
        f"<span>knowledge {low} or less</span>"
        f"<span style='flex: 1; height: 0.8em; margin: 0 0.5em; background: linear-gradient("
        f"to right, {stops}); border: 1px solid #ccc'></span><span>{high} or more</span>"),
        style="display: flex; align-items: center; font-size: 0.8em; margin: 0.3em 0",
        classes=["copsim-knowledge-scale"])


@solara.component
def ExplorePage() -> None:
    """Scenario picker, play controls, levers, network, plots, feed and card."""
    scenario = solara.use_reactive("microentre")
    population = solara.use_reactive(500)
    seed = solara.use_reactive(1)
    generation = solara.use_reactive(0)  # bumped by Reset
    session = solara.use_memo(
        lambda: ExploreSession(scenario.value, population.value, seed.value),
        dependencies=[scenario.value, population.value, seed.value, generation.value])
    frame = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(4)
    colour_by = solara.use_reactive("group")
    selected = solara.use_reactive(-1)

    def redraw() -> None:
        frame.value += 1

    def step() -> None:
        with session.lock:
            session.step()
        redraw()

    gone = use_page_gone()  # a playing simulation stops with its tab

    def play_loop() -> None:
        while playing.value and not gone.is_set():
            started = time.perf_counter()
            step()
            gone.wait(max(0.0, 1.0 / speed.value - (time.perf_counter() - started)))

    solara.lab.use_task(play_loop, dependencies=[playing.value, session], prefer_threaded=True)

    def reset() -> None:
        playing.value = False
        selected.value = -1
        generation.value += 1

    def snapshot() -> tuple:
        with session.lock:
            series = {"panels": panels(session), "weeks": session.week,
                      "markers": [{"week": w, "label": label} for w, label in session.markers]}
            return (json.dumps(session.network(colour_by.value)), json.dumps(series),
                    session.week, list(session.lines[:8]))

    # Redrawn when a step (``frame``), the colouring or the session changes.
    net, series, week, lines = solara.use_memo(
        snapshot, dependencies=[frame.value, colour_by.value, session])
    with solara.Columns([3, 5, 4]):
        with solara.Column():
            with solara.Card("Run"):
                solara.Select("Scenario", values=scenario_names(), value=scenario)
                solara.InputInt("Entrepreneurs", value=population, continuous_update=False)
                solara.InputInt("Seed", value=seed, continuous_update=False)
                solara.Text(f"Week {week}", classes=["copsim-week"])
                with solara.Row(style={"flex-wrap": "wrap"}, classes=["copsim-run-buttons"]):
                    solara.Button("Pause" if playing.value else "Play",
                                  on_click=lambda: playing.set(not playing.value),
                                  color="primary", classes=["copsim-play"])
                    solara.Button("Step", on_click=step, disabled=playing.value,
                                  classes=["copsim-step"])
                    solara.Button("Reset", on_click=reset, classes=["copsim-reset"])
                solara.SliderInt("Speed (weeks per second)", value=speed, min=1, max=20)
            Levers(session, redraw)
        with solara.Column():
            solara.ToggleButtonsSingle(value=colour_by, values=["group", "knowledge"])
            NetworkView(graph=net, selected=selected.value,
                        event_select=lambda row: selected.set(int(row)))
            if colour_by.value == "knowledge":
                KnowledgeScale()
            solara.Text("Colour: group (grey: not a member) or knowledge; size: revenue; "
                        "orange: joint ventures. Click a firm for its card.",
                        style={"font-size": "0.8em"})
            with solara.Card("What happened", classes=["copsim-feed"]):
                for line in lines:
                    solara.Text(line, style={"font-size": "0.85em", "display": "block"})
        with solara.Column(classes=["copsim-chart-column"]):
            if selected.value >= 0:
                Card(session, selected.value).key("card")
            TimeSeriesView(chart=series)
