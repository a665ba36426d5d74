"""Figures: a run's main weekly outputs on one page; a calibration's posterior and checks."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

PANELS = [
    ("Membership", [("members", "members"), ("attendance_4w", "attendances, last 4 weeks")]),
    ("Groups", [("groups_alive", "groups alive")]),
    ("Knowledge (0-1)", [("knowledge_members", "members"), ("knowledge_mean", "all firms")]),
    ("Trust network", [("ties", "ties"), ("strong_ties", "strong ties"), ("bridges", "bridges")]),
    ("Joint ventures", [("jv_active", "active")]),
    ("Survival of initial firms", [("survival", "share alive")]),
    ("Employment", [("employment", "owners + employees")]),
    ("Programme cost (k EUR)", [("cost_to_date_k", "to date")]),
]


def plot_timeseries(ts: pd.DataFrame, path: Path, title: str) -> None:
    """Write a grid of weekly time series (x axis in years) to ``path``."""
    ts = ts.assign(year=ts["week"] / 52, cost_to_date_k=ts["cost_to_date_eur"] / 1000,
                   attendance_4w=ts["attendance"].rolling(4, min_periods=1).sum())
    fig, axes = plt.subplots(2, 4, figsize=(16, 7), sharex=True)
    for ax, (name, series) in zip(axes.flat, PANELS, strict=True):
        for column, label in series:
            ax.plot(ts["year"], ts[column], label=label, linewidth=1.4)
        ax.set_title(name, fontsize=11)
        ax.grid(alpha=0.3)
        if len(series) > 1:
            ax.legend(fontsize=8, frameon=False)
    for ax in axes[-1]:
        ax.set_xlabel("year")
    fig.suptitle(title, fontsize=13)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def posterior_plots(posterior: pd.DataFrame, priors: dict, out: Path) -> None:
    """Marginal histograms (weighted, over each prior's range); pyabc's pairwise KDE matrix (2+ parameters)."""
    from pyabc.visualization import plot_kde_matrix

    keys = list(priors)
    weights = posterior["weight"].to_numpy()
    cols = min(3, len(keys))
    rows = -(-len(keys) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    for ax, key in zip(axes.flat, keys, strict=False):
        prior = priors[key]
        log = prior.shape == "loguniform"
        bins = (np.geomspace if log else np.linspace)(prior.low, prior.high, 21)
        ax.hist(posterior[key], bins=bins, weights=weights, color="C0", alpha=0.8)
        ax.axhline(1 / 20, color="C1", linestyle="--", label="prior")
        ax.set_xscale("log" if log else "linear")
        ax.set_title(key, fontsize=9)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.suptitle("Posterior marginals (weighted; dashed: a flat prior's share per bin)")
    fig.tight_layout()
    fig.savefig(out / "posterior_marginals.png", dpi=90)
    plt.close(fig)
    if len(keys) < 2:
        return
    limits = {k: (p.low, p.high) for k, p in priors.items()}
    arr_ax = plot_kde_matrix(posterior[keys], weights, limits=limits, height=2.0)
    arr_ax[0][0].get_figure().savefig(out / "posterior_pairs.png", dpi=70)
    plt.close("all")


def predictive_plot(table: pd.DataFrame, ppc: pd.DataFrame, path: Path) -> None:
    """Each target: observed value (with its uncertainty) against the simulated 90 % interval."""
    fig, axes = plt.subplots(1, len(table), figsize=(3.2 * len(table), 3.2), squeeze=False)
    for ax, row in zip(axes.flat, table.itertuples(), strict=True):
        sim = ppc[row.target].replace(np.inf, np.nan).dropna()
        if len(sim) > 1:
            ax.violinplot(sim, positions=[1], showextrema=False)
        ax.errorbar([1], [row.simulated_median],
                    yerr=[[row.simulated_median - row.simulated_5], [row.simulated_95 - row.simulated_median]],
                    fmt="o", color="C0", label="simulated (90 %)")
        ax.errorbar([1.25], [row.observed], yerr=[[2 * row.sd], [2 * row.sd]], fmt="s", color="C3",
                    label="observed (+/- 2 sd)")
        ax.set_xticks([])
        ax.set_title(row.target, fontsize=9)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Posterior predictive check")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
