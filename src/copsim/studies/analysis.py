"""Analysing a sweep: sensitivity indices, screening measures, grids of means.

``analyze(out)`` reads ``manifest.json`` and the finished runs of a sweep and writes
into ``out/analysis/`` (atomically, replacing an earlier analysis):

- **sobol**: first-order and total indices (S1, ST) with 95 % bootstrap confidence
  intervals per outcome (SALib ``analyze.sobol``): ``sobol_<outcome>.csv`` and a bar
  chart ``sobol_<outcome>.png``;
- **morris**: mu, mu* (with its confidence interval) and sigma per outcome (SALib
  ``analyze.morris``): ``morris_<outcome>.csv`` and ``.png`` (bars of mu*, and mu*
  against sigma);
- **lhs**: standardised regression coefficients and partial rank correlations:
  ``lhs_<outcome>.csv`` and ``.png``;
- **grid**: the mean, standard deviation and count of each outcome per combination
  of levels (``grid_<outcome>.csv``) and a heatmap over the first two factors
  (``grid_<outcome>.png``), one panel per combination of the other factors when
  there are at most six, otherwise averaged over them.

Replicates: every sample's outcome is the mean over its finished replicates
before the indices are computed (failed runs are left out of that mean). SALib
designs need every sample: an outcome with a sample that has no value is
reported as not analysed. ``summary.txt`` holds the printed summary; ``analysis.json``
the copsim version and the experiment analysed (so a rerun knows the directory as its own).
"""

from __future__ import annotations

import json
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from copsim import __version__
from copsim.errors import OutputError
from copsim.outputs.files import OutputKind, atomic_directory, prepare_output, write_json

MAX_FACETS = 6
MAX_BARS = 30
ANALYSIS_OUTPUT = OutputKind("analyze", "analysis.json", (
    "analysis.json", "summary.txt",
    *(f"{design}_*.{ext}" for design in ("sobol", "morris", "lhs", "grid") for ext in ("csv", "png"))))


@dataclass
class Analysis:
    """What an analysis found: tables per outcome, the files written, a summary."""

    design: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # outcome -> why not analysed
    files: list[str] = field(default_factory=list)
    summary: str = ""


def load_sweep(out: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """The manifest and every committed run of a sweep directory (OutputError if none)."""
    from copsim.studies.sweep import TIMING_COLUMNS, read_parts

    out = Path(out)
    manifest_path = out / "manifest.json"
    if not manifest_path.exists():
        raise OutputError(f"{out}: manifest.json: not a sweep directory (run copsim sweep first)")
    try:
        manifest = json.loads(manifest_path.read_text())
    except ValueError:
        raise OutputError(f"{manifest_path}: (file): not valid JSON") from None
    results = read_parts(out)
    if results.empty:
        raise OutputError(f"{out}: runs: no finished runs yet (run copsim sweep first)")
    return manifest, results.drop(columns=list(TIMING_COLUMNS))


def analyze(out: Path) -> Analysis:
    """Analyse a sweep directory into ``out/analysis/``."""
    out = Path(out)
    manifest, results = load_sweep(out)
    prepare_output(out / "analysis", ANALYSIS_OUTPUT)
    design = manifest["experiment"]["design"]
    analysis = Analysis(design)
    header = _header(manifest, results)
    if design != "grid" and len(results) < manifest["runs"]:
        raise OutputError(f"{out}: runs: {len(results)} of {manifest['runs']} runs finished; "
                          f"a {design} analysis needs every sample (run copsim sweep again to finish)")
    with atomic_directory(out / "analysis", ANALYSIS_OUTPUT) as tmp:
        if design == "grid":
            _grid(manifest, results, analysis, tmp)
        else:
            _sampled(manifest, results, analysis, tmp)
        analysis.summary = "\n".join([header, *_summary_lines(analysis, manifest)])
        (tmp / "summary.txt").write_text(analysis.summary + "\n")
        write_json(tmp / "analysis.json", {"copsim_version": __version__, "design": design,
                                           "experiment_hash": manifest.get("experiment_hash")})
        analysis.files = sorted(p.name for p in tmp.iterdir())
    return analysis


def _header(manifest: dict[str, Any], results: pd.DataFrame) -> str:
    exp = manifest["experiment"]
    failed = int((results["status"] != "ok").sum()) if len(results) else 0
    n = len(manifest["factors"])
    size = f" (N = {exp['samples']})" if exp["design"] != "grid" else ""
    return (f"Experiment {exp['name']}: {exp['design']} design, {manifest['samples']} points{size} of {n} "
            f"factor{'s' * (n != 1)} x {manifest['replicates']} replicate{'s' * (manifest['replicates'] != 1)}; "
            f"{len(results)} of {manifest['runs']} runs finished ({failed} failed).")


def sample_means(manifest: dict[str, Any], results: pd.DataFrame, outcome: str) -> np.ndarray:
    """Mean of an outcome over each sample's finished replicates (NaN if none), by sample."""
    ok = results[results["status"] == "ok"]
    means = ok.groupby("sample")[outcome].mean()
    return means.reindex(range(manifest["samples"])).to_numpy(dtype=float)


# --- SALib designs ----------------------------------------------------------------------------


def _sampled(manifest: dict[str, Any], results: pd.DataFrame, analysis: Analysis, tmp: Path) -> None:
    problem = manifest["problem"]
    design = manifest["experiment"]["design"]
    for outcome in manifest["outcomes"]:
        y = sample_means(manifest, results, outcome)
        missing = int(np.isnan(y).sum())
        if missing:
            analysis.skipped[outcome] = f"{missing} sample(s) without a value (failed runs)"
            continue
        if np.ptp(y) == 0:
            analysis.skipped[outcome] = f"constant ({y[0]:g}) in every sample"
            continue
        table = INDICES[design](manifest, problem, y)
        analysis.tables[outcome] = table
        table.to_csv(tmp / f"{design}_{_slug(outcome)}.csv", index=False)
        PLOTS[design](table, outcome, tmp / f"{design}_{_slug(outcome)}.png")


def sobol_table(manifest: dict[str, Any], problem: dict[str, Any], y: np.ndarray) -> pd.DataFrame:
    """S1 and ST with their 95 % confidence half-widths, one row per factor."""
    from SALib.analyze import sobol

    exp = manifest["experiment"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        si = sobol.analyze(problem, y, calc_second_order=exp["second_order"], num_resamples=200,
                           conf_level=0.95, seed=exp["seed"])
    return pd.DataFrame({"factor": problem["names"], "S1": si["S1"], "S1_conf": si["S1_conf"],
                         "ST": si["ST"], "ST_conf": si["ST_conf"]})


def morris_table(manifest: dict[str, Any], problem: dict[str, Any], y: np.ndarray) -> pd.DataFrame:
    """mu, mu*, its 95 % confidence half-width and sigma, one row per factor."""
    from SALib.analyze import morris

    exp = manifest["experiment"]
    x = np.asarray(manifest["matrix"], dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        si = morris.analyze(problem, x, y, num_resamples=200, conf_level=0.95,
                            num_levels=exp["levels"], seed=exp["seed"])
    return pd.DataFrame({"factor": problem["names"], "mu": si["mu"], "mu_star": si["mu_star"],
                         "mu_star_conf": si["mu_star_conf"], "sigma": si["sigma"]})


def lhs_table(manifest: dict[str, Any], problem: dict[str, Any], y: np.ndarray) -> pd.DataFrame:
    """Standardised regression coefficients (SRC, with R^2) and partial rank correlations."""
    from scipy import stats

    x = np.asarray(manifest["matrix"], dtype=float)
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    zy = (y - y.mean()) / y.std()
    design = np.column_stack([np.ones(len(y)), z])
    coef, *_ = np.linalg.lstsq(design, zy, rcond=None)
    r2 = 1 - np.sum((zy - design @ coef) ** 2) / np.sum(zy**2)
    ranks = np.column_stack([stats.rankdata(c) for c in x.T])
    ry = stats.rankdata(y)
    prcc = []
    for j in range(x.shape[1]):
        others = np.column_stack([np.ones(len(y)), np.delete(ranks, j, axis=1)])
        res_x = ranks[:, j] - others @ np.linalg.lstsq(others, ranks[:, j], rcond=None)[0]
        res_y = ry - others @ np.linalg.lstsq(others, ry, rcond=None)[0]
        prcc.append(float(np.corrcoef(res_x, res_y)[0, 1]))
    return pd.DataFrame({"factor": problem["names"], "SRC": coef[1:], "PRCC": prcc, "R2": r2})


INDICES = {"sobol": sobol_table, "morris": morris_table, "lhs": lhs_table}


def _bars(ax: Any, table: pd.DataFrame, columns: list[tuple[str, str | None]], title: str) -> None:
    """Horizontal bars, one group per factor (largest first), with error bars."""
    rows = table.iloc[::-1]
    y = np.arange(len(rows))
    height = 0.8 / len(columns)
    for k, (column, conf) in enumerate(columns):
        ax.barh(y + ((len(columns) - 1) / 2 - k) * height, rows[column], height,
                xerr=None if conf is None else rows[conf], capsize=2, label=column)
    ax.set_yticks(y, rows["factor"], fontsize=8)
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_title(title, fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    if len(columns) > 1:
        ax.legend(fontsize=8, frameon=False)


def _figure(width: float, height: float, panels: int = 1) -> tuple[Any, Any]:
    """A figure with ``panels`` axes side by side, each ``width`` x ``height`` inches."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(1, panels, figsize=(width * panels, height), squeeze=False)


def _bar_height(table: pd.DataFrame) -> float:
    return 1.4 + 0.32 * len(table)


def _save(fig: Any, path: Path, tight: bool = True) -> None:
    import matplotlib.pyplot as plt

    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches=None if tight else "tight")
    plt.close(fig)


def plot_sobol(table: pd.DataFrame, outcome: str, path: Path) -> None:
    """Bars of S1 and ST with 95 % confidence intervals."""
    top = table.sort_values("ST", ascending=False).head(MAX_BARS)
    fig, axes = _figure(6.5, _bar_height(top))
    _bars(axes[0, 0], top, [("S1", "S1_conf"), ("ST", "ST_conf")], f"Sobol indices: {outcome}")
    _save(fig, path)


def plot_morris(table: pd.DataFrame, outcome: str, path: Path) -> None:
    """Bars of mu* (95 % interval) for the largest, and mu* against sigma for all."""
    top = table.sort_values("mu_star", ascending=False).head(MAX_BARS)
    fig, axes = _figure(6.5, _bar_height(top), panels=2)
    _bars(axes[0, 0], top, [("mu_star", "mu_star_conf")], f"Morris mu*: {outcome}")
    ax = axes[0, 1]
    ax.scatter(table["mu_star"], table["sigma"], s=14)
    for _, row in top.head(10).iterrows():
        ax.annotate(row["factor"], (row["mu_star"], row["sigma"]), fontsize=7)
    ax.set_xlabel("mu*")
    ax.set_ylabel("sigma")
    ax.set_title("mu* against sigma (interaction or non-linearity)", fontsize=11)
    ax.grid(alpha=0.3)
    _save(fig, path)


def plot_lhs(table: pd.DataFrame, outcome: str, path: Path) -> None:
    """Bars of SRC and PRCC."""
    top = table.reindex(table["PRCC"].abs().sort_values(ascending=False).index).head(MAX_BARS)
    fig, axes = _figure(6.5, _bar_height(top))
    _bars(axes[0, 0], top, [("SRC", None), ("PRCC", None)],
          f"{outcome}: SRC (R2 = {table['R2'].iloc[0]:.2f}) and PRCC")
    _save(fig, path)


PLOTS = {"sobol": plot_sobol, "morris": plot_morris, "lhs": plot_lhs}


# --- grids ------------------------------------------------------------------------------------


def grid_means(manifest: dict[str, Any], results: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Mean, sd and number of finished runs of an outcome per combination of levels."""
    names = [f["name"] for f in manifest["factors"]]
    ok = results[results["status"] == "ok"].copy()
    for f in manifest["factors"]:
        ok[f["name"]] = pd.Categorical(ok[f["name"]], categories=_unique(f["labels"]), ordered=True)
    return (ok.groupby(names, observed=False)[outcome].agg(["mean", "std", "count"])
            .reset_index())


def _unique(labels: list[Any]) -> list[Any]:
    return list(dict.fromkeys(labels))


def _grid(manifest: dict[str, Any], results: pd.DataFrame, analysis: Analysis, tmp: Path) -> None:
    for outcome in manifest["outcomes"]:
        table = grid_means(manifest, results, outcome)
        analysis.tables[outcome] = table
        table.to_csv(tmp / f"grid_{_slug(outcome)}.csv", index=False)
        plot_grid(manifest, table, outcome, tmp / f"grid_{_slug(outcome)}.png")


def grid_facets(manifest: dict[str, Any], table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Panels of a grid: (title, means over the first two factors) per combination of the others.

    With more than MAX_FACETS combinations the other factors are averaged over.
    """
    names = [f["name"] for f in manifest["factors"]]
    rows, cols, others = names[0], names[1] if len(names) > 1 else None, names[2:]
    def pivot(part: pd.DataFrame) -> pd.DataFrame:
        if cols is None:
            return part.groupby(rows, observed=False)["mean"].mean().to_frame("mean")
        return part.pivot_table(index=rows, columns=cols, values="mean", aggfunc="mean", observed=False,
                                dropna=False)
    combos = table[others].drop_duplicates() if others else pd.DataFrame()
    if not others or len(combos) > MAX_FACETS:
        title = f"averaged over {', '.join(others)}" if others else ""
        return [(title, pivot(table))]
    facets = []
    for _, combo in combos.iterrows():
        mask = np.logical_and.reduce([table[o] == combo[o] for o in others])
        facets.append((", ".join(f"{o} = {combo[o]}" for o in others), pivot(table[mask])))
    return facets


def plot_grid(manifest: dict[str, Any], table: pd.DataFrame, outcome: str, path: Path) -> None:
    """Heatmap(s) of an outcome's mean over the first two factors, on one colour scale."""
    facets = grid_facets(manifest, table)
    values = np.concatenate([f.to_numpy(dtype=float).ravel() for _, f in facets])
    finite = values[np.isfinite(values)]
    vmin, vmax = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    rows, cols = facets[0][1].shape
    fig, axes = _figure(max(4.5, 1.1 * cols + 2.5), 2.3 + 0.6 * rows, panels=len(facets))
    image = None
    for ax, (title, grid) in zip(axes[0], facets, strict=True):
        data = grid.to_numpy(dtype=float)
        image = ax.imshow(data, cmap="viridis", vmin=vmin, vmax=vmax, aspect="auto")
        ax.set_xticks(range(data.shape[1]), [str(c) for c in grid.columns])
        ax.set_yticks(range(data.shape[0]), [str(i) for i in grid.index])
        ax.set_xlabel(str(grid.columns.name or ""))
        ax.set_ylabel(str(grid.index.name))
        for (i, j), v in np.ndenumerate(data):
            if math.isfinite(v):
                light = (v - vmin) / ((vmax - vmin) or 1) < 0.6
                ax.text(j, i, _number(v, 3), ha="center", va="center", fontsize=8,
                        color="white" if light else "black")
        ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=list(axes[0]), shrink=0.9, label=outcome)
    fig.suptitle(f"{outcome}: mean over replicates", fontsize=12)
    _save(fig, path, tight=False)  # the colour bar spans the panels: no tight_layout


# --- the printed summary ----------------------------------------------------------------------


def _summary_lines(analysis: Analysis, manifest: dict[str, Any]) -> list[str]:
    lines = []
    for outcome, table in analysis.tables.items():
        lines.append("")
        lines.extend(SUMMARIES[analysis.design](outcome, table, manifest))
    for outcome, reason in analysis.skipped.items():
        lines.append(f"{outcome}: not analysed: {reason}")
    return lines


def _top(table: pd.DataFrame, by: str, n: int = 8) -> pd.DataFrame:
    return table.reindex(table[by].abs().sort_values(ascending=False).index).head(n)


def _sobol_summary(outcome: str, table: pd.DataFrame, manifest: dict[str, Any]) -> list[str]:
    top = _top(table, "ST")
    shown = pd.DataFrame({"factor": top["factor"],
                          "S1 (95% CI)": [f"{v:.3f} ± {c:.3f}" for v, c in zip(top["S1"], top["S1_conf"], strict=True)],
                          "ST (95% CI)": [f"{v:.3f} ± {c:.3f}" for v, c in zip(top["ST"], top["ST_conf"], strict=True)]})
    return _lines(f"{outcome}: Sobol indices", shown, table)


def _morris_summary(outcome: str, table: pd.DataFrame, manifest: dict[str, Any]) -> list[str]:
    top = _top(table, "mu_star")
    shown = pd.DataFrame({"factor": top["factor"],
                          "mu* (95% CI)": [f"{v:.4g} ± {c:.2g}" for v, c in zip(top["mu_star"], top["mu_star_conf"], strict=True)],
                          "sigma": [f"{v:.4g}" for v in top["sigma"]]})
    return _lines(f"{outcome}: Morris elementary effects", shown, table)


def _lhs_summary(outcome: str, table: pd.DataFrame, manifest: dict[str, Any]) -> list[str]:
    top = _top(table, "PRCC")
    shown = pd.DataFrame({"factor": top["factor"], "SRC": [f"{v:.3f}" for v in top["SRC"]],
                          "PRCC": [f"{v:.3f}" for v in top["PRCC"]]})
    return _lines(f"{outcome}: regression (R2 = {table['R2'].iloc[0]:.2f}) and rank correlation", shown, table)


def _lines(title: str, shown: pd.DataFrame, table: pd.DataFrame, n: int = 8) -> list[str]:
    names = shown["factor"].astype(str)
    text = shown.assign(factor=names.str.ljust(names.str.len().max())).to_string(index=False, justify="left")
    rest = len(table) - n
    more = [f"  ... and {rest} more factor{'s' * (rest != 1)}"] if rest > 0 else []
    return [title, *("  " + line for line in text.splitlines()), *more]


def _grid_summary(outcome: str, table: pd.DataFrame, manifest: dict[str, Any]) -> list[str]:
    lines = []
    for title, grid in grid_facets(manifest, table):
        head = f"{outcome}: mean" + (f" ({title})" if title else "")
        text = grid.to_string(float_format=lambda v: _number(v, 4), na_rep="-")
        lines += [head, *("  " + line for line in text.splitlines())]
    return lines


SUMMARIES = {"sobol": _sobol_summary, "morris": _morris_summary, "lhs": _lhs_summary,
             "grid": _grid_summary}


def _number(value: float, digits: int) -> str:
    """Significant digits, but whole numbers with separators from 1,000 up."""
    return f"{value:,.0f}" if abs(value) >= 10 ** (digits - 1) else f"{value:.{digits}g}"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
