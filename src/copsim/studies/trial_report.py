"""A trial's outputs: tables, figures (power curves, effect over time) and report.html.

Everything is written into ``<trial dir>/analysis/`` at once (a temporary directory
that replaces it when complete). The report is one self-contained file, its text
generated from the tables, with the page style and helpers of the comparison report.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from copsim.outputs.files import OutputKind, atomic_directory, write_json  # noqa: E402
from copsim.scenario.schema import Scenario  # noqa: E402
from copsim.studies.report import STYLE, embedded_image, html_table, settings_html  # noqa: E402
from copsim.studies.trial_analysis import ANCOVA, DIM, TrialAnalysis  # noqa: E402
from copsim.studies.trial_design import OUTCOMES, Arm, Trial  # noqa: E402

FIGURES = ("power_curves.png", "effect_over_time.png")
# OUT/analysis/: replaced as a whole by the next analysis of the same trial; trial.json marks it.
ANALYSIS_OUTPUT = OutputKind("trial", "trial.json", (
    "estimates.csv", "estimates_by_replicate.parquet", "power.csv", "compliance.csv",
    "spillovers.csv", "table.md", *FIGURES, "report.html", "trial.json"))


def num(x: float) -> str:
    """Three significant digits, or n/a."""
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def scale_note(outcome: str, estimator: str) -> str:
    """The unit an estimate is in."""
    spec = OUTCOMES[outcome]
    if estimator == ANCOVA and spec.scale == "log":
        return "log points (x100 ~ %)"
    return spec.unit


def primary_rows(summary: pd.DataFrame) -> pd.DataFrame:
    """The primary estimator's row per arm, outcome and horizon."""
    has_ancova = summary.groupby(["arm", "outcome", "weeks"])["estimator"].transform(lambda e: (e == ANCOVA).any())
    return summary[(summary["estimator"] == ANCOVA) | (~has_ancova & (summary["estimator"] == DIM))]


def headline_table(analysis: TrialAnalysis) -> list[list[str]]:
    """Rows of the main table: estimate, interval, truth, coverage, power, MDE; with posterior
    draws the truth's interval over the posterior and how much of the estimates' spread is
    parameters."""
    rows = []
    for r in primary_rows(analysis.summary()).to_dict("records"):
        drawn = "true_lo" in r
        truth = num(r["true"]) + (f" ({num(r['true_lo'])} to {num(r['true_hi'])})" if drawn else "")
        row = [r["arm"], r["outcome"], str(r["weeks"]), r["estimator"], scale_note(r["outcome"], r["estimator"]),
               f"{num(r['estimate'])} ({num(r['lo'])} to {num(r['hi'])})", truth,
               num(r["bias"]), num(100 * r["coverage"]), num(100 * r["power"]), num(r["mde"])]
        rows.append(row + ([num(100 * r["estimate_parameter_share"])] if drawn else []))
    return rows


HEADLINE = ["arm", "outcome", "weeks after start", "estimator", "unit", "estimate (mean 95 % interval)",
            "true effect", "bias", "coverage %", "power % (trial size)", "MDE (80 % power)"]
PARAMETER_SHARE = "spread of the estimates from parameters %"


def headline_headers(analysis: TrialAnalysis) -> list[str]:
    """The main table's columns: with posterior draws, the parameters' share of the spread too."""
    return HEADLINE + ([PARAMETER_SHARE] if "draw" in analysis.estimates.columns else [])


def markdown(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def estimator_rows(analysis: TrialAnalysis) -> list[list[str]]:
    """Every estimator (ITT: difference in means and ANCOVA; TOT: Wald) beside its truth."""
    return [[r["arm"], r["outcome"], str(r["weeks"]), r["estimator"], scale_note(r["outcome"], r["estimator"]),
             f"{num(r['estimate'])} ({num(r['lo'])} to {num(r['hi'])})", num(r["sd"]), num(r["se"]),
             num(r["true"]), num(100 * r["coverage"])] for r in analysis.summary().to_dict("records")]


ESTIMATORS = ["arm", "outcome", "weeks after start", "estimator", "unit", "estimate (mean 95 % interval)",
              "sd over replicates", "mean standard error", "true effect", "coverage %"]


def power_rows(analysis: TrialAnalysis) -> list[list[str]]:
    """Power and MDE of the primary estimator per size, at every horizon."""
    return [[r["arm"], r["outcome"], str(r["weeks"]), f"{r['size']:,}",
             "n/a (larger than the trial)" if r["replicates"] == 0 else num(100 * r["power"]), num(r["mde"])]
            for r in analysis.power_table().to_dict("records")]


def compliance_rows(analysis: TrialAnalysis) -> list[list[str]]:
    """Take-up, crossover, attrition and contamination, per arm and horizon."""
    return [[r["arm"], str(r["weeks"]), num(r["firms_arm"]), num(r["firms_control"]), num(100 * r["take_up"]),
             num(r["meetings_attended"]), num(100 * r["control_members"]), num(100 * r["attrition_arm"]),
             num(100 * r["attrition_control"]), num(100 * r["exposed_controls"])]
            for r in analysis.compliance_table().to_dict("records")]


COMPLIANCE = ["arm", "weeks after start", "firms in arm", "control firms", "take-up % (attended a meeting or a mentoring session)",
              "meetings attended", "control firms that joined a group %", "attrition % (arm)",
              "attrition % (control)", "control firms in contact with treated firms %"]


def spillover_rows(analysis: TrialAnalysis) -> list[list[str]]:
    """The programme's effect on control firms, exposed and not (the model's truth)."""
    return [[r["outcome"], str(r["weeks"]), "in contact" if r["exposed"] else "not in contact", num(r["firms"]),
             num(r["effect"])] for r in analysis.spillover_table().to_dict("records")]


SPILLOVER = ["outcome", "weeks after start", "control firms", "firms (mean)", "effect on them (vs no programme)"]


def plot_power(analysis: TrialAnalysis, trial: Trial, path: Path) -> None:
    """Power against trial size, a panel per outcome, a line per arm and horizon."""
    table = analysis.power_table().dropna(subset=["power"])
    fig, axes = plt.subplots(1, len(trial.outcomes), figsize=(4 * len(trial.outcomes), 3.6), squeeze=False)
    for ax, outcome in zip(axes[0], trial.outcomes, strict=True):
        for (arm, weeks), part in table[table["outcome"] == outcome].groupby(["arm", "weeks"], sort=False):
            ax.plot(part["size"], 100 * part["power"], marker="o", label=f"{arm}, week {weeks}")
        ax.axhline(80, color="grey", linestyle="--", linewidth=1)
        ax.set_ylim(0, 102)
        ax.set_title(outcome)
        ax.set_xlabel("firms in the trial")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("power % (5 % test)")
    axes[0][0].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_effects(analysis: TrialAnalysis, trial: Trial, path: Path) -> None:
    """The primary estimate (mean and mean 95 % interval) and the true effect at each horizon."""
    table = primary_rows(analysis.summary())
    fig, axes = plt.subplots(1, len(trial.outcomes), figsize=(4 * len(trial.outcomes), 3.6), squeeze=False)
    for ax, outcome in zip(axes[0], trial.outcomes, strict=True):
        for i, (arm, part) in enumerate(table[table["outcome"] == outcome].groupby("arm", sort=False)):
            x = part["weeks"] + 2 * i
            ax.errorbar(x, part["estimate"], yerr=[part["estimate"] - part["lo"], part["hi"] - part["estimate"]],
                        marker="o", capsize=3, label=f"{arm}: trial estimate")
            ax.plot(x, part["true"], marker="x", linestyle=":", color="black",
                    label="true effect" if i == 0 else None)
        ax.axhline(0, color="grey", linewidth=1)
        ax.set_title(f"{outcome} ({scale_note(outcome, part['estimator'].iloc[0])})", fontsize=9)
        ax.set_xlabel("weeks after the start")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def mentoring_text(arm: Arm) -> str:
    """An arm's mentoring for the design table."""
    if arm.mentoring == "none":
        return "none"
    return f"{arm.mentoring}: {arm.mentoring_sessions} sessions every {arm.mentoring_cadence_weeks} weeks"


def parameters_note(meta: dict[str, Any]) -> str:
    """Where the replicates' parameters came from, and what the intervals then hold."""
    posterior = meta.get("posterior")
    if posterior is None:
        return ("Parameters: those of the base scenario in every replicate, so the spread over "
                "replicates is random noise only (new worlds, randomisations and draws).")
    return (f"Parameters: each replicate drew its parameters from the posterior {posterior['file']} "
            f"({posterior['draws']} draws of {posterior['seeds_per_draw']} seeds). The true effect's "
            "bracket is its 95 % interval over the posterior, noise included, and the last column the "
            "share of the estimates' spread that lies between draws (one-way random-effects ANOVA, "
            "docs/calibration.md); power and coverage are averages over the posterior.")


def report_html(analysis: TrialAnalysis, trial: Trial, base: Scenario, meta: dict[str, Any], figures: Path) -> str:
    """The self-contained report page."""
    arms = html_table(["arm", "share", "meetings", "every (weeks)", "mode", "expert talks", "mentoring",
                       "what it offers"],
                      [[a.name, a.share, a.meetings, a.cadence_weeks, a.mode, "yes" if a.expert_talks else "no",
                        mentoring_text(a), a.description] for a in trial.arms])
    r = trial.randomisation
    design = (f"{meta['replicates']} replicates (each a fresh world and randomisation; root seed {trial.seed}); "
              f"{meta['firms']:.0f} firms per trial on average, randomised by {r.unit} "
              f"(groups of about {r.group_size}), stratified by {r.strata}; the first meeting in week "
              f"{trial.start_week}, the baseline the week before.")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>copsim trial {html.escape(trial.name)}</title>
<style>{STYLE}</style></head><body>
<h1>Trial in silico: {html.escape(trial.name)}</h1>
<p>{html.escape(trial.description)}</p>
<p class="note">copsim {html.escape(meta['copsim_version'])}. {html.escape(design)}</p>
<h2>Arms</h2>{arms}
<h2>Estimates and the model's true effect</h2>
<p>The primary estimator per outcome: ANCOVA on the log outcome with its log baseline (revenue,
employment, knowledge), ANCOVA on the level (profit, partners) or the difference in means (survival);
standard errors clustered by the unit of randomisation. Estimate and interval are means over
replicates; the true effect compares the same firms with and without the programme (common random
numbers), which a real trial cannot; coverage is the share of replicates whose 95 % interval holds
the true effect; power the share significant at 5 %. Survivors only, except survival.</p>
<p>{html.escape(parameters_note(meta))}</p>
{html_table(headline_headers(analysis), headline_table(analysis))}
<h2>Every estimator: intention to treat and treatment on the treated</h2>
<p>TOT is the Wald ratio of the ITT on the outcome to the ITT on take-up (attended at least one
meeting or mentoring session), the assignment as instrument; its true value is the true ITT over the same take-up gap.</p>
{html_table(ESTIMATORS, estimator_rows(analysis))}
<h2>Power by trial size</h2>
{html_table(["arm", "outcome", "weeks after start", "firms", "power %", "MDE (80 % power)"], power_rows(analysis))}
<h2>Compliance, attrition and contamination</h2>
{html_table(COMPLIANCE, compliance_rows(analysis))}
<h2>Spill-overs on the control group</h2>
{html_table(SPILLOVER, spillover_rows(analysis))}
<h2>Figures</h2>{''.join(embedded_image(figures / name) for name in FIGURES)}
<h2>The population (base scenario)</h2>{settings_html(base)}
</body></html>
"""


def write_trial_outputs(out: Path, analysis: TrialAnalysis, trial: Trial, base: Scenario,
                        meta: dict[str, Any]) -> str:
    """Write every table, figure and report.html into ``out/analysis``; return the terminal text."""
    headline = markdown(headline_headers(analysis), headline_table(analysis))
    with atomic_directory(out / "analysis", ANALYSIS_OUTPUT) as tmp:
        write_json(tmp / "trial.json", meta)
        analysis.summary().to_csv(tmp / "estimates.csv", index=False)
        analysis.estimates.to_parquet(tmp / "estimates_by_replicate.parquet", index=False)
        analysis.power_table().to_csv(tmp / "power.csv", index=False)
        analysis.compliance_table().to_csv(tmp / "compliance.csv", index=False)
        analysis.spillover_table().to_csv(tmp / "spillovers.csv", index=False)
        (tmp / "table.md").write_text(headline + "\n", encoding="utf-8")
        plot_power(analysis, trial, tmp / FIGURES[0])
        plot_effects(analysis, trial, tmp / FIGURES[1])
        (tmp / "report.html").write_text(report_html(analysis, trial, base, meta, tmp), encoding="utf-8")
    return headline
