"""The analysis of a trial's replicates: estimates, truth, compliance, spill-overs, power.

Every replicate is one trial as an evaluator would analyse it: for each arm against
the control group, each outcome and each horizon, the difference in means, the
ANCOVA (on the log outcome with its log baseline where the outcome is positive, on
the level otherwise) and the treatment-on-the-treated Wald ratio, all with standard
errors clustered by the unit of randomisation (:mod:`copsim.studies.estimators`).
Beside each estimate stands what no real trial sees: the effect on the same firms
measured against the counterfactual run (common random numbers), on the same scale.

Power at a size n is the share of replicates in which the primary estimator (ANCOVA
where the outcome has a baseline, else the difference in means) is significant at
5 % when the analysis keeps n firms: whole units of randomisation drawn at random
from each arm in proportion to its size in the trial. Every firm's outcome still
comes from the full trial, so spill-overs are those of the full trial.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from copsim.engine.rng import Streams
from copsim.studies.estimators import Estimate, ancova, difference_in_means, minimum_detectable_effect, wald
from copsim.studies.posterior import spread
from copsim.studies.trial_design import CONTROL, OUTCOMES, Trial
from copsim.studies.trial_job import COUNTERFACTUAL

DIM, ANCOVA, TOT = "difference in means", "ANCOVA", "TOT (Wald)"
KEYS = ["arm", "outcome", "weeks", "estimator"]  # what a row of the summary is about


@dataclass(frozen=True)
class Cell:
    """The data of one comparison: an arm against the control group at one horizon."""

    replicate: int
    arm: str
    weeks: int
    now: pd.DataFrame  # the arm's and the control group's firms at the horizon
    base: pd.DataFrame  # the same firms at the baseline (same order)
    draw: int | None = None  # the replicate's posterior draw (None: no posterior)

    @property
    def treated(self) -> np.ndarray:
        """Assignment to the arm (1) or the control group (0)."""
        return (self.now["arm"] == self.arm).to_numpy(dtype=float)

    @property
    def clusters(self) -> np.ndarray:
        """The unit of randomisation of each firm."""
        return self.now["unit"].to_numpy()


def cells(frame: pd.DataFrame, trial: Trial) -> Iterator[Cell]:
    """Every (replicate, arm, horizon) comparison of the trial's table."""
    for replicate, rep in frame.groupby("replicate", sort=True):
        draw = int(rep["draw"].iloc[0]) if "draw" in rep.columns else None
        base = rep[rep["weeks"] == 0].set_index("row")
        for horizon in trial.horizons:
            now = rep[rep["weeks"] == horizon]
            for arm in trial.arms:
                both = now[now["arm"].isin([arm.name, CONTROL])].reset_index(drop=True)
                yield Cell(int(replicate), arm.name, horizon, both, base.loc[both["row"]].reset_index(),
                           draw)


def transformed(values: np.ndarray, scale: str) -> np.ndarray:
    """The outcome on the ANCOVA's scale (log of positive values; NaN otherwise)."""
    if scale != "log":
        return values.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(values > 0, np.log(np.where(values > 0, values, 1.0)), np.nan)


def primary(cell: Cell, outcome: str, keep: np.ndarray | None = None) -> Estimate:
    """The primary estimator: ANCOVA where the outcome has a baseline, else difference in means."""
    scale = OUTCOMES[outcome].scale
    now, base, treated, clusters = cell.now, cell.base, cell.treated, cell.clusters
    y = now[outcome].to_numpy(dtype=float)
    if keep is not None:
        y, treated, clusters = y[keep], treated[keep], clusters[keep]
    if scale == "none":
        return difference_in_means(y, treated, clusters)
    y0 = base[outcome].to_numpy(dtype=float)
    if keep is not None:
        y0 = y0[keep]
    return ancova(transformed(y, scale), treated, transformed(y0, scale), clusters)


def true_effects(cell: Cell, outcome: str) -> dict[str, float]:
    """The effect on the arm's firms against themselves without the programme, per scale."""
    arm = cell.now[cell.now["arm"] == cell.arm]
    y, y_cf = arm[outcome].to_numpy(dtype=float), arm[f"{outcome}{COUNTERFACTUAL}"].to_numpy(dtype=float)
    level = float(np.nanmean(y) - np.nanmean(y_cf)) if np.isfinite(y).any() and np.isfinite(y_cf).any() else math.nan
    scale = OUTCOMES[outcome].scale
    if scale == "none":
        return {DIM: level, ANCOVA: math.nan}
    t, t_cf = transformed(y, scale), transformed(y_cf, scale)
    on_scale = float(np.nanmean(t) - np.nanmean(t_cf)) if np.isfinite(t).any() and np.isfinite(t_cf).any() else math.nan
    return {DIM: level, ANCOVA: on_scale}


def take_up(frame: pd.DataFrame) -> np.ndarray:
    """Compliance: the firm attended at least one meeting or had a mentoring session."""
    return ((frame["attended"] > 0) | (frame["sessions"] > 0)).to_numpy(dtype=float)


def estimate_rows(cell: Cell, outcomes: list[str]) -> list[dict[str, object]]:
    """Every estimator's estimate and the truth for one cell, outcome by outcome."""
    rows = []
    took_up = take_up(cell.now)
    arm_share = float(took_up[cell.treated == 1].mean()) - float(took_up[cell.treated == 0].mean())
    for outcome in outcomes:
        y = cell.now[outcome].to_numpy(dtype=float)
        truth = true_effects(cell, outcome)
        results = {DIM: difference_in_means(y, cell.treated, cell.clusters),
                   TOT: wald(y, cell.treated, took_up, cell.clusters)}
        if OUTCOMES[outcome].scale != "none":
            results[ANCOVA] = primary(cell, outcome)
        truth[TOT] = truth[DIM] / arm_share if arm_share > 0 else math.nan
        control = cell.now[cell.now["arm"] == CONTROL][outcome]
        for estimator, est in results.items():
            rows.append({"replicate": cell.replicate, **({} if cell.draw is None else {"draw": cell.draw}),
                         "arm": cell.arm, "outcome": outcome,
                         "weeks": cell.weeks, "estimator": estimator, "effect": est.effect, "se": est.se,
                         "lo": est.lo, "hi": est.hi, "p": est.p, "df": est.df, "true": truth[estimator],
                         "control_mean": float(control.mean())})
    return rows


def subsample(cell: Cell, size: int, total: int, rng: np.random.Generator) -> np.ndarray | None:
    """Firms kept in a trial of ``size`` firms (of ``total``): whole units, arms in proportion."""
    if size > total:
        return None
    keep = np.zeros(len(cell.now), dtype=bool)
    for _, part in cell.now.groupby("arm", sort=True):
        want = size * len(part) / total
        units = part.groupby("unit", sort=True).size()
        order = units.index.to_numpy()[rng.permutation(len(units))]
        counts = units[order].to_numpy()
        take = order[: int(np.searchsorted(np.cumsum(counts), want - 1e-9)) + 1]
        keep |= cell.now["unit"].isin(take).to_numpy() & (cell.now["arm"] == part["arm"].iloc[0]).to_numpy()
    return keep


def power_rows(cell: Cell, outcomes: list[str], sizes: list[int], total: int, seed: int) -> list[dict[str, object]]:
    """Significance and standard error of the primary estimator at each size."""
    rows = []
    for size in sizes:
        rng = Streams(seed).generator(f"trial.power.{cell.arm}.{cell.weeks}.{size}", cell.replicate)
        keep = subsample(cell, size, total, rng)
        for outcome in outcomes:
            est = primary(cell, outcome, keep) if keep is not None else None
            rows.append({"replicate": cell.replicate, **({} if cell.draw is None else {"draw": cell.draw}),
                         "arm": cell.arm, "outcome": outcome,
                         "weeks": cell.weeks, "size": size,
                         "significant": math.nan if est is None or not math.isfinite(est.p) else float(est.significant),
                         "se": math.nan if est is None else est.se, "df": 0 if est is None else est.df})
    return rows


def compliance_rows(cell: Cell) -> dict[str, object]:
    """Take-up, crossover, attrition and contamination of one cell."""
    arm = cell.now[cell.now["arm"] == cell.arm]
    control = cell.now[cell.now["arm"] == CONTROL]
    return {"replicate": cell.replicate, "arm": cell.arm, "weeks": cell.weeks,
            "firms_arm": len(arm), "firms_control": len(control),
            "take_up": take_up(arm).mean(), "meetings_attended": arm["attended"].mean(),
            "control_members": control["member"].mean(),
            "attrition_arm": 1 - arm["survival"].mean(), "attrition_control": 1 - control["survival"].mean(),
            "exposed_controls": control["exposed"].mean()}


def spillover_rows(frame: pd.DataFrame, trial: Trial) -> pd.DataFrame:
    """Control firms in contact with treated firms against the other controls (model's truth)."""
    control = frame[(frame["arm"] == CONTROL) & (frame["weeks"] > 0)]
    rows = []
    for (replicate, weeks, exposed), part in control.groupby(["replicate", "weeks", "exposed"], sort=True):
        for outcome in trial.outcomes:
            diff = part[outcome] - part[f"{outcome}{COUNTERFACTUAL}"]
            rows.append({"replicate": replicate, "weeks": weeks, "exposed": bool(exposed), "outcome": outcome,
                         "firms": len(part), "effect": float(diff.mean()) if diff.notna().any() else math.nan})
    return pd.DataFrame(rows)


@dataclass
class TrialAnalysis:
    """Per-replicate results and their summaries."""

    estimates: pd.DataFrame  # one row per replicate x arm x outcome x horizon x estimator
    power: pd.DataFrame  # one row per replicate x arm x outcome x horizon x size
    compliance: pd.DataFrame
    spillovers: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        """Per arm, outcome, horizon and estimator: mean estimate and interval, truth, coverage, power."""
        e = self.estimates.assign(
            covers=lambda d: ((d["lo"] <= d["true"]) & (d["true"] <= d["hi"])).where(d["lo"].notna()),
            significant=lambda d: (d["p"] < 0.05).where(d["p"].notna()))
        g = e.groupby(KEYS, sort=False)
        out = g.agg(replicates=("effect", "count"), estimate=("effect", "mean"), sd=("effect", "std"),
                    se=("se", "mean"), lo=("lo", "mean"), hi=("hi", "mean"), true=("true", "mean"),
                    coverage=("covers", "mean"), power=("significant", "mean"), df=("df", "median"),
                    control_mean=("control_mean", "mean")).reset_index()
        out["bias"] = out["estimate"] - out["true"]
        out["mde"] = [minimum_detectable_effect(se, int(df)) for se, df in zip(out["se"], out["df"], strict=True)]
        if "draw" in e.columns:
            out = out.merge(self.parameter_split(), on=KEYS, how="left")
        return out

    def parameter_split(self) -> pd.DataFrame:
        """With posterior draws: the true effect's 95 % interval over the posterior (noise
        included) and the shares of the true effect's and the estimate's spread that are
        parameters (one-way random-effects ANOVA by draw, docs/calibration.md)."""
        rows = []
        for key, part in self.estimates.groupby(KEYS, sort=False):
            draws = part["draw"].tolist()
            truth, estimate = spread(part["true"].tolist(), draws, 0.95), spread(part["effect"].tolist(), draws, 0.95)
            rows.append({**dict(zip(KEYS, key, strict=True)), "true_lo": truth.lo, "true_hi": truth.hi,
                         "true_parameter_share": truth.parameter_share,
                         "estimate_parameter_share": estimate.parameter_share})
        return pd.DataFrame(rows)

    def power_table(self) -> pd.DataFrame:
        """Power and minimum detectable effect (80 % power) of the primary estimator per size."""
        g = self.power.groupby(["arm", "outcome", "weeks", "size"], sort=False)
        out = g.agg(power=("significant", "mean"), replicates=("significant", "count"),
                    se=("se", "mean"), df=("df", "median")).reset_index()
        out["mde"] = [minimum_detectable_effect(se, int(df)) for se, df in zip(out["se"], out["df"], strict=True)]
        return out

    def compliance_table(self) -> pd.DataFrame:
        """Means over replicates of take-up, crossover, attrition and contamination."""
        return self.compliance.drop(columns="replicate").groupby(["arm", "weeks"], sort=False).mean().reset_index()

    def spillover_table(self) -> pd.DataFrame:
        """Mean effect of the programme on exposed and unexposed control firms."""
        if self.spillovers.empty:
            return self.spillovers
        return (self.spillovers.groupby(["outcome", "weeks", "exposed"], sort=False)
                .agg(firms=("firms", "mean"), effect=("effect", "mean")).reset_index())


def analyse(frame: pd.DataFrame, trial: Trial, sizes: list[int]) -> TrialAnalysis:
    """Analyse every replicate of a trial's table (see the module's docstring)."""
    estimates, power, compliance = [], [], []
    totals = frame[frame["weeks"] == 0].groupby("replicate").size()
    for cell in cells(frame, trial):
        estimates += estimate_rows(cell, trial.outcomes)
        power += power_rows(cell, trial.outcomes, sizes, int(totals[cell.replicate]), trial.seed)
        compliance.append(compliance_rows(cell))
    return TrialAnalysis(pd.DataFrame(estimates), pd.DataFrame(power), pd.DataFrame(compliance),
                         spillover_rows(frame, trial))
