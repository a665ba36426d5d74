"""A comparison's outputs: figures, a self-contained HTML report for people who decide,
the tables and compare.json (written by ``copsim compare`` and the dashboard alike).

The report is one file (figures embedded as base64 PNG, no external resources) so
that it can be e-mailed, and it prints to PDF from a browser without cutting a table.
Every sentence in it is generated from the outcome table, so the text cannot drift
from the numbers. Each section is one function returning HTML (:data:`SECTIONS`), so
a new section is one function and one entry.
"""

from __future__ import annotations

import base64
import datetime
import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from copsim.outputs.files import OutputKind, atomic_directory, write_json  # noqa: E402
from copsim.scenario.io import scenario_hash  # noqa: E402
from copsim.scenario.odd_tables import is_numeric, source_of, walk  # noqa: E402
from copsim.scenario.schema import ASSUMPTION, Scenario, Shock  # noqa: E402
from copsim.studies.compare import (  # noqa: E402
    CONFIDENCE, LEAD_WEEKS, METRICS, NO_PROGRAMME, NON_NEGATIVE, Comparison, CompareResult,
    Interval, cell, counterfactual, has_draws, job_count, markdown_table, metrics_for, number,
    row_interval, spread_rows, table_notes,
)
from copsim.version import __version__  # noqa: E402

FIGURES = ("timeseries_bands.png", "cost_vs_outcome.png")
COMPARE_OUTPUT = OutputKind("compare", "compare.json", (
    "table.md", "table.csv", "replicates.csv", "timeseries.parquet", *FIGURES, "report.html",
    "compare.json"))
BY_KEY = {m.key: m for m in METRICS}
VALIDATION = Path(__file__).resolve().parents[3] / "docs" / "validation.md"


# --- figures --------------------------------------------------------------------------------


# What each plotted column can possibly be: bands are drawn within it (a count is never
# negative, knowledge stays in 0-1); the revenue difference can take either sign.
POSSIBLE = {"members": (0.0, math.inf), "groups_alive": (0.0, math.inf),
            "cost_m": (0.0, math.inf), "knowledge_members": (0.0, 1.0),
            "jv_active": (0.0, math.inf), "tracked_index": (0.0, math.inf),
            "tracked_index_without": (0.0, math.inf)}


def band(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Weekly mean over replicates and its 95 % confidence band, within the column's
    possible values."""
    g = frame.groupby("week")[column]
    mean, sd, n = g.mean(), g.std(ddof=1), g.count()
    t = stats.t.ppf(0.5 + CONFIDENCE / 2, (n - 1).clip(lower=1))
    half = (t * sd / np.sqrt(n)).where(n > 1, 0.0).fillna(0.0)
    low, high = POSSIBLE.get(column, (-math.inf, math.inf))
    return pd.DataFrame({"mean": mean, "lo": (mean - half).clip(lower=low, upper=high),
                         "hi": (mean + half).clip(lower=low, upper=high)})


def panels(shock_week: int | None) -> list[tuple[str, str]]:
    """(title, derived column) of each panel of the time-series figure."""
    last = (("Revenue of the members before the shock (1 = pre-shock)", "tracked_index")
            if shock_week is not None
            else ("Revenue of all firms vs no programme (k EUR/week)", "revenue_gain_k"))
    return [("Members", "members"), ("Groups alive", "groups_alive"),
            ("Programme cost to date (M EUR)", "cost_m"),
            ("Members' knowledge (0-1)", "knowledge_members"),
            ("Joint ventures active", "jv_active"), last]


def derived(ts: pd.DataFrame, shock_week: int | None) -> pd.DataFrame:
    """The time series with the columns the figure plots."""
    out = ts.assign(year=ts["week"] / 52, cost_m=ts["cost_to_date_eur"] / 1e6,
                    revenue_gain_k=(ts["revenue_eur"] - ts["revenue_eur_without"]) / 1e3)
    if shock_week is not None:
        lo = max(0, shock_week - LEAD_WEEKS)
        for column, name in (("tracked_revenue_eur", "tracked_index"),
                             ("tracked_revenue_eur_without", "tracked_index_without")):
            pre = (out[out["week"].between(lo, shock_week - 1)]
                   .groupby(["scenario", "replicate"])[column].mean())
            base = out.set_index(["scenario", "replicate"]).index.map(pre)
            index = out[column].to_numpy() / np.where(base > 0, base, np.nan)
            out[name] = np.where(out["week"] >= lo, index, np.nan)
    return out


def plot_bands(ts: pd.DataFrame, path: Path, shock_week: int | None,
               labels: Mapping[str, str]) -> None:
    """Weekly outputs per scenario with 95 % bands over replicates."""
    data = derived(ts[ts["scenario"] != NO_PROGRAMME], shock_week)
    fig, axes = plt.subplots(2, 3, figsize=(15, 8), sharex=True)
    colours = dict(zip(data["scenario"].unique(), plt.cm.tab10.colors, strict=False))
    for ax, (title, column) in zip(axes.flat, panels(shock_week), strict=True):
        for label, frame in data.groupby("scenario", sort=False):
            _band(ax, frame, column, colours[label], labels.get(label, label))
            if column == "tracked_index":
                _band(ax, frame, "tracked_index_without", colours[label], None, dashed=True)
        if column == "tracked_index":
            ax.axvline(shock_week / 52, color="grey", linewidth=0.8)
            ax.axhline(0.95, color="grey", linewidth=0.8, linestyle=":")
            ax.text(0.02, 0.04, "solid: with the programme; dashed: the same firms without",
                    transform=ax.transAxes, fontsize=8)
        if column == "revenue_gain_k":
            ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_title(title, fontsize=11)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("year")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), frameon=False)
    fig.suptitle("Mean over replicates, with 95 % confidence bands", fontsize=13)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _band(ax: plt.Axes, frame: pd.DataFrame, column: str, colour: Any, label: str | None,
          dashed: bool = False) -> None:
    b = band(frame, column)
    years = b.index.to_numpy() / 52
    ax.plot(years, b["mean"], color=colour, label=label, linewidth=1.5,
            linestyle="--" if dashed else "-")
    ax.fill_between(years, b["lo"], b["hi"], color=colour, alpha=0.15 if dashed else 0.25,
                    linewidth=0)


COST_PANELS = (("participants", "Participants reached"),
               ("additional_surviving_firms", "Additional surviving firms"),
               ("joint_ventures", "Joint ventures formed"))


def plot_cost_outcome(table: pd.DataFrame, path: Path, labels: Mapping[str, str]) -> None:
    """Total cost against three outcomes, one marker per scenario, with 95 % intervals
    (within the possible range, like the table's)."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 5.2))
    colours, markers = plt.cm.tab10.colors, "osD^vPX*"
    for ax, (key, title) in zip(axes, COST_PANELS, strict=True):
        for i, row in enumerate(table.to_dict("records")):
            x, y = row_interval(row, "cost_total_eur"), row_interval(row, key)
            ax.errorbar(x.mean / 1e6, y.mean, xerr=_err(x, "cost_total_eur", 1e6),
                        yerr=_err(y, key), fmt=markers[i % len(markers)], markersize=8,
                        capsize=3, alpha=0.85, color=colours[i % len(colours)],
                        label=labels.get(row["scenario"], row["scenario"]))
        if key == "additional_surviving_firms":
            ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_xlabel("total cost (M EUR)")
        ax.set_title(title, fontsize=11)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), frameon=False)
    fig.suptitle("What each scenario buys for its cost (means, 95 % intervals)", fontsize=13)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _err(iv: Interval, key: str, scale: float = 1.0) -> list[list[float]] | None:
    if not math.isfinite(iv.lo):
        return None
    lo = max(iv.lo, 0.0) if BY_KEY[key].unit in NON_NEGATIVE else iv.lo
    return [[(iv.mean - lo) / scale], [(iv.hi - iv.mean) / scale]]


# --- text -----------------------------------------------------------------------------------


def value(row: Mapping[str, Any], key: str, unit: str = "") -> str:
    """A metric of a table row as a number with its interval (or why it is n/a)."""
    return cell(row_interval(row, key), BY_KEY[key], row["participants_mean"], unit)


def mean(row: Mapping[str, Any], key: str) -> str:
    """A metric's mean alone, in the table's style."""
    return number(row[f"{key}_mean"], BY_KEY[key].unit)


def distinguishable(row: Mapping[str, Any], key: str) -> bool:
    """Whether the 95 % interval of an effect excludes zero."""
    iv = row_interval(row, key)
    return math.isfinite(iv.lo) and (iv.lo > 0 or iv.hi < 0)


def title(name: str, scenario: Scenario | None) -> str:
    """What people call a scenario: its title, else its name."""
    if scenario is None:
        return "No programme" if name == NO_PROGRAMME else name
    return scenario.title or scenario.name


def knowledge_words(row: Mapping[str, Any]) -> str:
    """The knowledge gain in plain words: points of the 0-1 scale and its share of it."""
    gain = row["knowledge_gain_mean"]
    share = f"about {abs(gain) * 100:.0f} % of the whole scale" if abs(gain) >= 0.005 else \
        "less than 1 % of the whole scale"
    direction = "more" if gain >= 0 else "less"
    return (f"their know-how (the mean over eight business topics, on a scale from 0, knowing "
            f"nothing, to 1, the most the model allows) grew by {value(row, 'knowledge_gain')} "
            f"points {direction} than that of the same firms without the programme, {share}")


def unstarted_groups(scenario: Scenario) -> list[str]:
    """Groups planned to start at or after the horizon: they never meet in the run."""
    return [g.name for g in scenario.groups if g.start_week >= scenario.run.weeks]


def unstarted_words(scenario: Scenario) -> str:
    """Why fewer groups are active than the scenario lists ('' when all of them start)."""
    late = unstarted_groups(scenario)
    if not late:
        return ""
    names = ", ".join(late)
    return (f"{len(late)} of its {len(scenario.groups)} groups ({names}) are planned to start "
            f"after the {scenario.run.weeks}-week horizon, so they never met in these runs; "
            f"the groups counted are those that started.")


def paragraph(row: Mapping[str, Any], scenario: Scenario | None) -> str:
    """A plain-language paragraph about one scenario, from its row of the table."""
    name = title(row["scenario"], scenario)
    if scenario is None:
        return (f"{name}: the same firms with no groups, facilitation or funding, "
                "in the same replicates. It costs nothing and, by construction, has no effect: "
                "it is the baseline every effect above is measured against.")
    free = row["cost_total_eur_mean"] == 0
    cost = ("at no cost to any funder" if free else
            f"for {value(row, 'cost_total_eur', ' EUR')} in all, that is "
            f"{value(row, 'cost_per_participant_eur', ' EUR')} per participant")
    text = [f"{name}: {scenario.description or 'no description'}. Over {mean(row, 'years')} "
            f"years ({int(row['replicates'])} replicates), it reached "
            f"{value(row, 'participants', ' firms')} {cost}."]
    late = unstarted_words(scenario)
    if late:
        text.append(late[0].upper() + late[1:])
    if row["participants_mean"] == 0:
        return " ".join(text)
    text.append(
        f"Its participants also gave time worth {value(row, 'participants_time_cost_eur', ' EUR')} "
        "at their own hourly rates (meetings, travel, introductions, reading; not paid by any "
        f"funder); with it the cost is {value(row, 'cost_with_time_eur', ' EUR')}, "
        f"{value(row, 'cost_with_time_per_participant_eur', ' EUR')} per participant.")
    sure = ("distinguishable" if distinguishable(row, "survival_effect_pp") else
            "not distinguishable")
    text.append(
        f"At the end, {mean(row, 'survival_pct')} % of its participants were still in business, "
        f"against {mean(row, 'survival_without_pct')} % of the same firms without it: "
        f"{value(row, 'survival_effect_pp', ' percentage points')}, {sure} from zero at this "
        f"number of replicates, or {value(row, 'additional_surviving_firms', ' surviving firms')}"
        + ("." if free else "; cost per additional surviving firm: "
           f"{value(row, 'cost_per_additional_surviving_firm_eur', ' EUR')}."))
    text.append(
        f"Participants formed {value(row, 'joint_ventures', ' joint ventures')}"
        + ("" if free else
           f" (cost per joint venture {value(row, 'cost_per_joint_venture_eur', ' EUR')})")
        + f"; {mean(row, 'strong_tie_pct')} % left with at least one new strong tie and "
        f"{mean(row, 'partner_pct')} % with a new partner (strong tie or joint venture). "
        f"Participants learnt: {knowledge_words(row)}. At the end of the run their revenue "
        f"differed by {value(row, 'additional_revenue_eur_per_year', ' EUR a year')} and their "
        f"employment by {value(row, 'additional_employment', ' people')}.")
    text.append(
        f"Among the other firms (spill-overs through business contacts and published good "
        f"practice), survival changed by {value(row, 'spillover_surviving_firms', ' firms')}, "
        f"revenue by {value(row, 'spillover_revenue_eur_per_year', ' EUR a year')} and employment "
        f"by {value(row, 'spillover_employment', ' people')}.")
    if "recovery_weeks_mean" in row:
        text.append(f"After the shock, the revenue per surviving member "
                    f"{recovery(row, 'recovery_weeks')}"
                    f"; that of the same firms without the programme "
                    f"{recovery(row, 'recovery_without_weeks')}.")
    return " ".join(text)


# --- the executive summary ------------------------------------------------------------------


def _listing(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def executive_summary(table: pd.DataFrame, arms: Mapping[str, Scenario]) -> list[str]:
    """Five sentences from the numbers: what was compared, what each scenario buys and for
    how much, its survival effect, the best value for money, and how sure we are."""
    rows = [r for r in table.to_dict("records") if r["scenario"] in arms]
    names = {r["scenario"]: title(r["scenario"], arms[r["scenario"]]) for r in rows}
    first = arms[rows[0]["scenario"]]
    reps = int(table["replicates"].max())
    buys = []
    for r in rows:
        cost = ("at no cost" if r["cost_total_eur_mean"] == 0 else
                f"for {mean(r, 'cost_total_eur')} EUR ({mean(r, 'cost_per_participant_eur')} EUR "
                "per participant)")
        buys.append(f"{names[r['scenario']]} reaches about {r['participants_mean']:,.0f} firms "
                    f"{cost}")
    effects = [f"{value(r, 'survival_effect_pp')} points with {names[r['scenario']]}"
               for r in rows if r["participants_mean"] > 0]
    clear = [names[r["scenario"]] for r in rows if distinguishable(r, "survival_effect_pp")]
    return [
        f"This report compares {_listing(list(names.values()))} with no programme at all, on the "
        f"same {first.population:,} firms over {mean(rows[0], 'years')} years, each simulated "
        f"{reps} times.",
        "; ".join(buys) + ".",
        ("Against the same firms without a programme, the share of participants still in "
         f"business at the end changes by {_listing(effects)}" if effects else
         "No scenario reached any firm, so no effect can be measured")
        + _distinguishable_words(clear, len(effects)),
        value_for_money(rows, names),
        how_sure(table, reps),
    ]


def how_sure(table: pd.DataFrame, reps: int) -> str:
    """What the ranges hold: noise only, or parameter uncertainty too (and how much of it)."""
    if not has_draws(table):
        return (f"How sure we are: the ranges are 95 % intervals over the {reps} simulated "
                "replicates, so they hold random variation only, not the uncertainty of the "
                "model's assumed parameters or of its structure (see Caveats).")
    shares = table["survival_effect_pp_parameter_share"].dropna()
    part = (f"; for the survival effect {100 * shares.min():.0f} to {100 * shares.max():.0f} % of "
            "the spread between replicates is parameter uncertainty, the rest random noise"
            if len(shares) else "")
    return (f"How sure we are: the ranges are 95 % intervals over {reps} replicates whose "
            "parameters were drawn from the calibrated posterior, so they hold the uncertainty "
            f"of the calibrated parameters as well as random variation{part}; they do not hold "
            "the uncertainty of the model's structure (see Caveats).")


def _distinguishable_words(clear: Sequence[str], n: int) -> str:
    if n == 0:
        return "."
    if not clear:
        return "; no 95 % interval excludes zero."
    if len(clear) == n:
        return "; every 95 % interval excludes zero."
    return f"; the 95 % interval excludes zero for {_listing(list(clear))} only."


def value_for_money(rows: Sequence[Mapping[str, Any]], names: Mapping[str, str]) -> str:
    """The lowest cost per additional surviving firm, where one is defined in every replicate."""
    paid = [r for r in rows if r["cost_total_eur_mean"] > 0]
    priced = [r for r in paid if r["cost_per_additional_surviving_firm_eur_defined"]
              == r["replicates"] and r["cost_per_additional_surviving_firm_eur_mean"] > 0]
    if not priced:
        return ("No funded scenario added surviving firms in every replicate, so no cost per "
                "additional surviving firm can be given.")
    best = min(priced, key=lambda r: r["cost_per_additional_surviving_firm_eur_mean"])
    return (f"The lowest cost per additional surviving firm is {names[best['scenario']]}'s, "
            f"{value(best, 'cost_per_additional_surviving_firm_eur', ' EUR')}, and its cost per "
            f"joint venture is {mean(best, 'cost_per_joint_venture_eur')} EUR.")


# --- caveats --------------------------------------------------------------------------------


def assumed_parameters() -> tuple[int, int]:
    """(numeric parameters whose source is an assumption, all numeric parameters)."""
    numeric = [e for e in walk() if is_numeric(e.info)]
    return sum(ASSUMPTION in source_of(e.info).lower() for e in numeric), len(numeric)


def caveats(arms: Mapping[str, Scenario], meta: Mapping[str, Any]) -> list[str]:
    """What the numbers rest on and what their intervals include."""
    assumed, total = assumed_parameters()
    items = [
        f"What is assumed: {assumed} of the model's {total} numeric parameters rest in whole or "
        "in part on assumptions rather than on measurements (each is marked in the parameter "
        "tables of docs/odd.md); costs are the funding phases' hours and budgets as written in "
        "each scenario file.",
        intervals_caveat(meta),
        "Effects are measured on the firms that took part, against the same firms in a run "
        "without any programme; participants are self-selected, which this comparison removes "
        "only as far as the model represents who joins.",
    ]
    late = [f"{title(n, s)}: {unstarted_words(s)}" for n, s in arms.items() if unstarted_groups(s)]
    items += late
    return items


def intervals_caveat(meta: Mapping[str, Any]) -> str:
    """What the intervals include, given how the replicates' parameters were chosen."""
    posterior = meta.get("posterior")
    if posterior is None:
        return (f"What the intervals include: only the random variation between the "
                f"{meta['replicates']} replicates (different random seeds). They do not include "
                "uncertainty about the assumed parameters, the model's structure, or the data "
                "the scenarios were built from; the true uncertainty is larger.")
    return (f"What the intervals include: the random variation between seeds and the "
            f"uncertainty of the {len(posterior['parameters'])} calibrated parameters "
            f"({', '.join(posterior['parameters'])}), {posterior['draws']} draws from the "
            f"posterior {posterior['file']}. The other assumed parameters stay at their values, "
            "and the model's structure and the data the scenarios were built from are not "
            "varied; the true uncertainty is larger.")


# --- the report's sections ------------------------------------------------------------------


def recovery(row: Mapping[str, Any], key: str) -> str:
    """'was back to 95 % ... after N weeks', or in how many replicates it never was."""
    iv = row_interval(row, key)
    if iv.defined < iv.n:
        return (f"was not back to 95 % of its pre-shock level within the horizon in "
                f"{iv.n - iv.defined} of {iv.n} replicates")
    return f"was back to 95 % of its pre-shock level after {value(row, key, ' weeks')}"


# --- settings -------------------------------------------------------------------------------


def html_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A small HTML table with escaped cells."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_plain(c))}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _plain(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, list):
        return ", ".join(map(str, x)) or "all"
    return f"{x:,g}" if isinstance(x, float) else str(x)


def settings_html(s: Scenario) -> str:
    """A scenario's programme settings in readable form."""
    parts = [f"<p>{html.escape(s.description)}</p>",
             f"<p>{s.run.years:g} years; {len(s.regions)} regions, {s.population:,} firms at the "
             f"start; scenario hash {scenario_hash(s)}.</p>"]
    groups = [(g.name, g.region, g.mode, g.cadence_weeks, g.start_week, g.end_week,
               g.initial_members, g.venue_eur_per_week, "yes" if g.expert_talks else "no")
              for g in s.groups]
    parts.append(html_table(["group", "region", "mode", "every (weeks)", "first week", "end week",
                             "first members", "venue EUR/week", "expert talks"], groups)
                 if groups else "<p>No groups.</p>")
    phases = [(p.name, p.basis, p.start_week, p.end_week, p.payer, p.facilitators,
               p.facilitation_hours_per_week, p.recruitment_hours_per_week,
               p.other_eur_per_group_per_year, p.fixed_eur_per_year,
               p.cross_group_meetings_per_year) for p in s.funding.phases]
    parts.append(html_table(["funding phase", "weeks counted", "from", "until", "payer",
                             "facilitators", "facilitation h/week", "recruitment h/week",
                             "other EUR/group/year", "fixed EUR/year", "network meetings/year"],
                            phases) if phases else "<p>No funding: nobody facilitates or recruits."
                                                   "</p>")
    shocks = [(x.name, x.start_week, x.duration_weeks, x.recovery_weeks, x.depth, x.sectors,
               x.regions) for x in s.environment.shocks]
    if shocks:
        parts.append(html_table(["shock", "start week", "weeks at full depth", "recovery weeks",
                                 "depth", "sectors", "regions"], shocks))
    return "\n".join(parts)


# --- the report -----------------------------------------------------------------------------

STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.45;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:0.9em}td,th{border:1px solid #ccc;
padding:0.3em 0.5em;text-align:left;vertical-align:top}th{background:#f0f0f0}
img{max-width:100%}.note{color:#555;font-size:0.9em}.summary{font-size:1.05em}
@page{size:A4;margin:14mm}
@media print{body{max-width:none;margin:0;font-size:9.5pt;line-height:1.35}
table{font-size:7.5pt;width:100%;table-layout:fixed}
td,th{padding:0.2em 0.3em;overflow-wrap:anywhere;hyphens:auto}
table,tr,img,.summary,.figure{break-inside:avoid;page-break-inside:avoid}
thead{display:table-header-group}h1,h2,h3{break-after:avoid;page-break-after:avoid}}"""


@dataclass(frozen=True)
class Report:
    """What every section is written from."""

    out: Path
    table: pd.DataFrame
    arms: Mapping[str, Scenario]
    meta: Mapping[str, Any]
    shock: bool

    def title(self, name: str) -> str:
        """The readable title of a scenario of the table."""
        return title(name, self.arms.get(name))


def outcome_html(table: pd.DataFrame, shock: bool, names: Mapping[str, str] | None = None) -> str:
    """The outcome table as HTML: one row per metric, one column per scenario."""
    rows = table.to_dict("records")
    body = [[m.label] + [cell(row_interval(r, m.key), m, r["participants_mean"]) for r in rows]
            for m in metrics_for(shock)]
    names = names or {}
    return html_table([""] + [names.get(r["scenario"], r["scenario"]) for r in rows], body)


def embedded_image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<div class="figure"><img alt="{path.stem}" src="data:image/png;base64,{data}"></div>'


def _paragraphs(items: Sequence[str], css: str = "") -> str:
    attr = f' class="{css}"' if css else ""
    return "".join(f"<p{attr}>{html.escape(text)}</p>" for text in items)


def header_section(r: Report) -> str:
    """Title, date and what was run."""
    shock_text = f"shock overlay: {Path(r.meta['shock']).stem}" if r.meta["shock"] else "no shock"
    return (f"<h1>Comparing funding models for entrepreneur peer networks</h1>"
            f'<p class="note">Generated on {datetime.date.today().isoformat()} by copsim '
            f"{html.escape(r.meta['copsim_version'])}; {r.meta['replicates']} replicates per "
            f"scenario; root seed {r.meta['root_seed']}; {html.escape(shock_text)}; "
            f"{html.escape(parameters_words(r.meta))}. Every "
            "scenario is compared with the same firms without any programme (common random "
            "numbers).</p>")


def parameters_words(meta: Mapping[str, Any]) -> str:
    """Where the replicates' parameters come from, in a few words."""
    posterior = meta.get("posterior")
    if posterior is None:
        return "parameters as in the scenario files"
    return (f"parameters drawn from the posterior {posterior['file']} ({posterior['draws']} draws "
            f"of {posterior['seeds_per_draw']} seeds)")


def summary_section(r: Report) -> str:
    """The executive summary: five sentences."""
    sentences = "".join(f'<span class="sentence">{html.escape(x)}</span> '
                        for x in executive_summary(r.table, r.arms))
    return f'<h2>Summary</h2><p class="summary">{sentences.strip()}</p>'


def findings_section(r: Report) -> str:
    """A paragraph per scenario."""
    return "<h2>What each scenario buys</h2>" + _paragraphs(
        [paragraph(row, r.arms.get(row["scenario"])) for row in r.table.to_dict("records")])


def outcomes_section(r: Report) -> str:
    """The outcome table and what its numbers are."""
    names = {name: r.title(name) for name in r.table["scenario"]}
    notes = table_notes(r.table, r.shock, r.meta["root_seed"], r.meta.get("posterior"))
    text = "<h2>Outcomes</h2>" + outcome_html(r.table, r.shock, names) + _paragraphs(notes, "note")
    if has_draws(r.table):
        text += ("<h3>Where the spread comes from</h3>"
                 + _paragraphs(["Share of the replicates' variance that lies between parameter "
                                "draws (the rest is noise between seeds at one draw), from a "
                                "one-way random-effects analysis of variance."], "note")
                 + html_table([""] + [names[n] for n in r.table["scenario"]],
                              spread_rows(r.table, r.shock)))
    return text


def figures_section(r: Report) -> str:
    """Both figures, embedded."""
    return "<h2>Figures</h2>" + "".join(embedded_image(r.out / name) for name in FIGURES)


def caveats_section(r: Report) -> str:
    """Assumptions, what the intervals include, and where the validation is."""
    link = (f'<p>How the model\'s patterns compare with what was observed: '
            f'<a href="{VALIDATION.as_uri()}">docs/validation.md</a> in the copsim '
            "repository.</p>")
    items = "".join(f"<li>{html.escape(x)}</li>" for x in caveats(r.arms, r.meta))
    return f"<h2>Caveats</h2><ul>{items}</ul>{link}"


def settings_section(r: Report) -> str:
    """Each scenario's programme settings."""
    return '<h2>Scenario settings</h2><div class="settings">' + "".join(
        f"<h3>{html.escape(r.title(name))} ({html.escape(name)})</h3>{settings_html(s)}"
        for name, s in r.arms.items()) + "</div>"


SECTIONS: tuple[Callable[[Report], str], ...] = (
    header_section, summary_section, findings_section, outcomes_section, figures_section,
    caveats_section, settings_section,
)


def plot_waterfall(attribution: pd.DataFrame, components: Sequence[str],
                   labels: Mapping[str, str], outcomes: Sequence[tuple[str, str]],
                   path: Path) -> None:
    """One waterfall per outcome: the effect through no channel, each channel's Shapley
    value stacked on it, and the whole effect (means over replicates)."""
    fig, axes = plt.subplots(1, len(outcomes), figsize=(5 * len(outcomes), 5.5))
    for ax, (key, title) in zip(np.atleast_1d(axes), outcomes, strict=True):
        means = attribution[attribution["outcome"] == key].set_index("component")["mean"]
        level = 0.0
        for x, c in enumerate(components):
            v = float(means[c])
            last = x == len(components) - 1
            bottom = 0.0 if x == 0 or last else level
            colour = "#777777" if last else ("#2a9d8f" if v >= 0 else "#e76f51")
            ax.bar(x, v, bottom=bottom, color=colour)
            level = v if last else bottom + v
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_xticks(range(len(components)), [labels[c] for c in components], rotation=60,
                      ha="right", fontsize=8)
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(out: Path, table: pd.DataFrame, arms: Mapping[str, Scenario], meta: dict[str, Any],
                 shock: bool, sections: Sequence[tuple[str, str]] = ()) -> None:
    """Write report.html into ``out`` (the figures must already be there); ``sections``
    are further (title, HTML) sections placed after the outcomes."""
    report = Report(out, table, arms, meta, shock)
    parts = []
    for section in SECTIONS:
        parts.append(section(report))
        if section is outcomes_section:
            parts.extend(f"<h2>{html.escape(title)}</h2>{body}" for title, body in sections)
    body = "\n".join(parts)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>copsim comparison</title>
<style>{STYLE}</style></head><body>
{body}
</body></html>
"""
    (out / "report.html").write_text(page, encoding="utf-8")


def write_outputs(out: Path, table: pd.DataFrame, timeseries: pd.DataFrame,
                  arms: Mapping[str, Scenario], meta: dict[str, Any],
                  shock_week: int | None, sections: Sequence[tuple[str, str]] = ()) -> None:
    """Both figures, table.md and report.html (with further ``sections``) into ``out``."""
    shock = shock_week is not None
    labels = {name: title(name, arms.get(name)) for name in table["scenario"]}
    plot_bands(timeseries, out / FIGURES[0], shock_week, labels)
    plot_cost_outcome(table, out / FIGURES[1], labels)
    (out / "table.md").write_text(markdown_table(table, shock, meta["root_seed"],
                                                 meta.get("posterior")), encoding="utf-8")
    write_report(out, table, arms, meta, shock, sections)


def comparison_provenance(comparison: Comparison, shock: tuple[Path, list[Shock]] | None,
                          workers: int, seconds: float) -> dict[str, Any]:
    """compare.json: what identifies the comparison (results do not depend on workers)."""
    return {
        "copsim_version": __version__,
        "root_seed": comparison.root_seed,
        "replicates": len(comparison.seeds),
        "seeds": list(comparison.seeds),
        "shock": None if shock is None else str(shock[0]),
        "scenarios": {name: {"hash": scenario_hash(s),
                             "counterfactual_hash": scenario_hash(counterfactual(s)),
                             "scenario": s.model_dump(mode="json")}
                      for name, s in comparison.arms.items()},
        "posterior": None if comparison.draws is None else comparison.draws.record(),
        "runs": job_count(comparison),
        "workers": workers,
        "seconds": round(seconds, 1),
    }


def write_comparison(out: Path, result: CompareResult,
                     extra: Callable[[Path], list[tuple[str, str]]] | None = None,
                     kind: OutputKind = COMPARE_OUTPUT) -> None:
    """Every output file of a comparison, into a temporary directory that replaces ``out``
    when complete (``copsim compare``, ``copsim decompose``, copsim.compare and the
    dashboard's Compare page) as output of the ``kind`` given; ``extra(tmp)`` may write
    more files there and returns further report sections."""
    with atomic_directory(out, kind) as tmp:
        result.table.to_csv(tmp / "table.csv", index=False)
        result.replicates.to_csv(tmp / "replicates.csv", index=False)
        result.timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
        sections = [] if extra is None else extra(tmp)
        write_outputs(tmp, result.table, result.timeseries, result.arms, result.provenance,
                      result.shock_week, sections)
        write_json(tmp / "compare.json", result.provenance)
