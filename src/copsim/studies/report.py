"""A comparison's outputs: figures, a self-contained HTML report for people who decide,
the tables and compare.json (written by ``copsim compare`` and the dashboard alike).

The report is one file (figures embedded as base64 PNG, no external links) so that
it can be e-mailed. Every sentence in it is generated from the outcome table, so
the text cannot drift from the numbers.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from copsim.outputs.files import atomic_directory, write_json  # noqa: E402
from copsim.scenario.io import scenario_hash  # noqa: E402
from copsim.scenario.schema import Scenario, Shock  # noqa: E402
from copsim.studies.compare import (  # noqa: E402
    CONFIDENCE, LEAD_WEEKS, METRICS, NO_PROGRAMME, Comparison, Interval, Pair, cell,
    counterfactual, job_count, markdown_table, metrics_for, number, outcome_table,
    replicates_frame, row_interval, shock_week, table_notes, timeseries_frame,
)
from copsim.version import __version__  # noqa: E402

FIGURES = ("timeseries_bands.png", "cost_vs_outcome.png")
BY_KEY = {m.key: m for m in METRICS}


# --- figures --------------------------------------------------------------------------------


def band(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Weekly mean over replicates and its 95 % confidence band."""
    g = frame.groupby("week")[column]
    mean, sd, n = g.mean(), g.std(ddof=1), g.count()
    t = stats.t.ppf(0.5 + CONFIDENCE / 2, (n - 1).clip(lower=1))
    half = (t * sd / np.sqrt(n)).where(n > 1, 0.0).fillna(0.0)
    return pd.DataFrame({"mean": mean, "lo": mean - half, "hi": mean + half})


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


def plot_bands(ts: pd.DataFrame, path: Path, shock_week: int | None) -> None:
    """Weekly outputs per scenario with 95 % bands over replicates."""
    data = derived(ts[ts["scenario"] != NO_PROGRAMME], shock_week)
    fig, axes = plt.subplots(2, 3, figsize=(15, 8), sharex=True)
    colours = dict(zip(data["scenario"].unique(), plt.cm.tab10.colors, strict=False))
    for ax, (title, column) in zip(axes.flat, panels(shock_week), strict=True):
        for label, frame in data.groupby("scenario", sort=False):
            _band(ax, frame, column, colours[label], label)
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


def plot_cost_outcome(table: pd.DataFrame, path: Path) -> None:
    """Total cost against three outcomes, one marker per scenario, with 95 % intervals."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 5.2))
    colours, markers = plt.cm.tab10.colors, "osD^vPX*"
    for ax, (key, title) in zip(axes, COST_PANELS, strict=True):
        for i, row in enumerate(table.to_dict("records")):
            x, y = row_interval(row, "cost_total_eur"), row_interval(row, key)
            ax.errorbar(x.mean / 1e6, y.mean, xerr=_err(x, 1e6), yerr=_err(y),
                        fmt=markers[i % len(markers)], markersize=8, capsize=3, alpha=0.85,
                        color=colours[i % len(colours)], label=row["scenario"])
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


def _err(iv: Interval, scale: float = 1.0) -> list[list[float]] | None:
    if not math.isfinite(iv.lo):
        return None
    return [[(iv.mean - iv.lo) / scale], [(iv.hi - iv.mean) / scale]]


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


def paragraph(row: Mapping[str, Any], scenario: Scenario | None) -> str:
    """A plain-language paragraph about one scenario, from its row of the table."""
    name = row["scenario"]
    if scenario is None:
        return (f"{name.capitalize()}: the same firms with no groups, facilitation or funding, "
                "in the same replicates. It costs nothing and, by construction, has no effect: "
                "it is the baseline every effect above is measured against.")
    free = row["cost_total_eur_mean"] == 0
    cost = ("at no cost to any funder" if free else
            f"for {value(row, 'cost_total_eur', ' EUR')} in all, that is "
            f"{value(row, 'cost_per_participant_eur', ' EUR')} per participant")
    text = [f"{name}: {scenario.description or 'no description'}. Over {mean(row, 'years')} "
            f"years ({int(row['replicates'])} replicates), it reached "
            f"{value(row, 'participants', ' firms')} {cost}."]
    if row["participants_mean"] == 0:
        return " ".join(text)
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
        f"Against the same firms without the programme, their knowledge (0-1 scale) changed by "
        f"{value(row, 'knowledge_gain')}, and at the end of the run their revenue by "
        f"{value(row, 'additional_revenue_eur_per_year', ' EUR a year')} and their employment by "
        f"{value(row, 'additional_employment', ' people')}.")
    if "recovery_weeks_mean" in row:
        text.append(f"After the shock, the revenue of its members {recovery(row, 'recovery_weeks')}"
                    f"; that of the same firms without the programme "
                    f"{recovery(row, 'recovery_without_weeks')}.")
    return " ".join(text)


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
img{max-width:100%}.note{color:#555;font-size:0.9em}"""


def outcome_html(table: pd.DataFrame, shock: bool) -> str:
    """The outcome table as HTML: one row per metric, one column per scenario."""
    rows = table.to_dict("records")
    body = [[m.label] + [cell(row_interval(r, m.key), m, r["participants_mean"]) for r in rows]
            for m in metrics_for(shock)]
    return html_table([""] + [r["scenario"] for r in rows], body)


def image_html(path: Path) -> str:
    """A PNG embedded in the page (the report stays one file)."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{path.stem}" src="data:image/png;base64,{data}">'


def write_report(out: Path, table: pd.DataFrame, arms: Mapping[str, Scenario], meta: dict[str, Any],
                 shock: bool) -> None:
    """Write report.html into ``out`` (the figures must already be there)."""
    paragraphs = "".join(f"<p>{html.escape(paragraph(r, arms.get(r['scenario'])))}</p>"
                         for r in table.to_dict("records"))
    notes = "".join(f'<p class="note">{html.escape(n)}</p>'
                    for n in table_notes(table, shock, meta["root_seed"]))
    settings = "".join(f"<h3>{html.escape(name)}</h3>{settings_html(s)}"
                       for name, s in arms.items())
    shock_text = f"shock overlay: {Path(meta['shock']).stem}" if meta["shock"] else "no shock"
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>copsim comparison</title>
<style>{STYLE}</style></head><body>
<h1>Comparing funding models for entrepreneur peer networks</h1>
<p class="note">copsim {html.escape(meta['copsim_version'])}; {meta['replicates']} replicates per
scenario; root seed {meta['root_seed']}; {html.escape(shock_text)}. Every scenario is compared
with the same firms without any programme (common random numbers).</p>
<h2>What each scenario buys</h2>{paragraphs}
<h2>Outcomes</h2>{outcome_html(table, shock)}{notes}
<h2>Figures</h2>{''.join(image_html(out / name) for name in FIGURES)}
<h2>Scenario settings</h2>{settings}
</body></html>
"""
    (out / "report.html").write_text(page, encoding="utf-8")


def write_outputs(out: Path, table: pd.DataFrame, timeseries: pd.DataFrame,
                  arms: Mapping[str, Scenario], meta: dict[str, Any],
                  shock_week: int | None) -> None:
    """Both figures, table.md and report.html into ``out``."""
    shock = shock_week is not None
    plot_bands(timeseries, out / FIGURES[0], shock_week)
    plot_cost_outcome(table, out / FIGURES[1])
    (out / "table.md").write_text(markdown_table(table, shock, meta["root_seed"]), encoding="utf-8")
    write_report(out, table, arms, meta, shock)


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
        "runs": job_count(comparison),
        "workers": workers,
        "seconds": round(seconds, 1),
    }


def write_comparison(out: Path, comparison: Comparison, pairs: list[Pair],
                     meta: dict[str, Any]) -> None:
    """Every output file of a comparison, into a temporary directory that replaces ``out``
    when complete (``copsim compare`` and the dashboard's Compare page)."""
    replicates = replicates_frame(pairs)
    table = outcome_table(replicates, comparison.has_shock)
    timeseries = timeseries_frame(pairs)
    first_shock = shock_week(next(iter(comparison.arms.values())))
    with atomic_directory(out) as tmp:
        table.to_csv(tmp / "table.csv", index=False)
        replicates.to_csv(tmp / "replicates.csv", index=False)
        timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
        write_outputs(tmp, table, timeseries, comparison.arms, meta, first_shock)
        write_json(tmp / "compare.json", meta)
