"""The figure of a run: the main weekly outputs on one page."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
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
