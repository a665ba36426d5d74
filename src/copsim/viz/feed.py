"""What happened, in plain words: firm names and one sentence per meeting or event.

"week 37: the Kuusamo group met at Pudas bakery (9 came); theme: export; the
problem was solved; two firms started a joint sales campaign."
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from copsim.dtypes import Topic, VentureKind

if TYPE_CHECKING:
    from copsim.engine.model import CopModel

SURNAMES = ["Aho", "Heikkinen", "Hietala", "Jokela", "Kallio", "Karjalainen", "Koivisto",
            "Korhonen", "Laine", "Lehto", "Mäkelä", "Nieminen", "Ojala", "Pudas", "Rantala",
            "Saarela", "Salo", "Toivonen", "Turunen", "Virtanen"]
NOUNS = {
    "retail": ["shop", "boutique", "kiosk"], "food": ["bakery", "café", "catering"],
    "tourism": ["guesthouse", "safaris", "cottages"], "crafts": ["woodworks", "pottery", "smithy"],
    "business_services": ["accounting", "IT services", "design studio"],
    "construction": ["carpentry", "renovations", "roofing"],
    "wellbeing": ["hair salon", "massage studio", "gym"],
    "creative": ["photo studio", "print shop", "music school"],
}
TOPICS = {Topic.SALES_MARKETING: "sales and marketing", Topic.FINANCE: "finance",
          Topic.EMPLOYMENT: "hiring and employment", Topic.DIGITAL: "digital tools",
          Topic.OPERATIONS: "operations", Topic.EXPORT: "export", Topic.REGULATION: "regulation",
          Topic.STRATEGY: "strategy and growth"}
VENTURES = {VentureKind.SHARED_ASSET: "share an asset", VentureKind.JOINT_CAMPAIGN: "a joint sales campaign",
            VentureKind.CUSTOMER: "a supplier-customer deal", VentureKind.PARTNERSHIP: "a partnership"}
LEAVE_REASONS = {0: "left", 1: "closed down and left", 2: "lost its group"}
NUMBERS = ["no", "one", "two", "three", "four", "five", "six"]


def firm_name(model: CopModel, row: int) -> str:
    """A stable, readable name for a firm: a surname and what the firm does."""
    sector = model.scenario.environment.sectors[int(model.firms.sector[row])].name
    nouns = NOUNS.get(sector, ["firm"])
    return f"{SURNAMES[row % len(SURNAMES)]} {nouns[(row // len(SURNAMES)) % len(nouns)]}"


def group_name(model: CopModel, group: int) -> str:
    """The group's name from the scenario ("network" for cross-group meetings)."""
    return model.group_names[group] if 0 <= group < len(model.group_names) else "?"


def topic_name(topic: int | str | float) -> str:
    """A topic (its code, or its name as in the event table) in words."""
    if isinstance(topic, str):
        return TOPICS[Topic[topic.upper()]]
    return TOPICS[Topic(int(topic))] if topic == topic and topic >= 0 else "business"


def count_words(n: int) -> str:
    """Small counts in words."""
    return NUMBERS[n] if 0 <= n < len(NUMBERS) else str(n)


def describe_meeting(model: CopModel, meeting: pd.Series, related: pd.DataFrame) -> str:
    """One sentence for a meeting and what came of it."""
    parts = [f"week {int(meeting.week)}: the {group_name(model, int(meeting.group))} group met at "
             f"{firm_name(model, int(meeting.firm))} ({int(meeting.value)} came); "
             f"theme: {topic_name(meeting.topic)}"]
    acts = related[related.kind == "activity"]
    problem = acts[acts.activity == "problem_solving"]
    if len(problem):
        parts.append("the problem was solved" if problem.value.iloc[0] > 0 else "the problem stayed open")
    if (acts.activity == "visits").any():
        parts.append(f"they toured {firm_name(model, int(meeting.firm))}")
    in_ventures = related[related.kind.isin(["venture_formed", "venture_joined"])]
    for kind, members in in_ventures.groupby("value", observed=True):
        parts.append(f"{count_words(members.firm.nunique())} firms started "
                     f"{VENTURES[VentureKind(int(kind))]}")
    return "; ".join(parts) + "."


def describe_event(model: CopModel, event: pd.Series) -> str | None:
    """One sentence for an event outside meetings (None for the ones not worth telling)."""
    week, kind = int(event.week), event.kind
    firm = firm_name(model, int(event.firm)) if event.firm >= 0 else ""
    group = group_name(model, int(event.group))
    if kind == "join":
        return f"week {week}: {firm} joined the {group} group."
    if kind == "leave":
        return f"week {week}: {firm} {LEAVE_REASONS.get(int(event.value), 'left')} ({group})."
    if kind == "group_founded":
        return f"week {week}: the {group} group started."
    if kind == "group_dissolved":
        return f"week {week}: the {group} group dissolved."
    if kind == "hire" and event.group >= 0:
        return f"week {week}: {firm} hired (now {int(event.value)} employees)."
    if kind == "partnership" and event.group >= 0:
        return (f"week {week}: {firm} started a partnership with a firm it knows, "
                f"{firm_name(model, int(event.other))}.")
    if kind == "venture_failed" and event.group >= 0:
        partners = (f"{firm} and {firm_name(model, int(event.other))}" if event.other >= 0
                    else f"{firm} and its partners")
        return f"week {week}: the venture of {partners} failed."
    if kind == "shock":
        return f"week {week}: a shock hit demand (-{event.value:.0%})."
    return None


def describe(model: CopModel, events: pd.DataFrame) -> list[str]:
    """Sentences for a slice of the event log, in week order (a slice may span many weeks)."""
    told: list[tuple[int, str]] = []
    meetings = events[events.kind == "meeting"]
    by_meeting = events[events.kind.isin(["activity", "venture_formed", "venture_joined"])]
    for _, meeting in meetings.iterrows():
        related = by_meeting[(by_meeting.week == meeting.week) & (by_meeting.group == meeting.group)]
        told.append((int(meeting.week), describe_meeting(model, meeting, related)))
    for _, event in events[~events.kind.isin(["meeting", "activity", "venture_formed",
                                               "venture_joined"])].iterrows():
        line = describe_event(model, event)
        if line is not None:
            told.append((int(event.week), line))
    return [line for _, line in sorted(told, key=lambda item: item[0])]
