"""Estimators of a randomised trial: difference in means, ANCOVA and the Wald (IV) ratio.

Every estimator is an OLS fit by statsmodels with standard errors clustered by the
unit of randomisation (``cov_type="cluster"``) and t intervals with G - 1 degrees of
freedom (G clusters), the usual small-sample choice for cluster-randomised trials.
The treatment-on-the-treated effect is the Wald ratio ITT(outcome) / ITT(take-up);
its standard error comes from the delta method on the joint cluster-robust covariance
of the two ITTs, fitted together as one stacked regression.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from scipy import stats

ALPHA = 0.05
POWER = 0.8


@dataclass(frozen=True)
class Estimate:
    """An effect with its cluster-robust standard error and 95 % interval."""

    effect: float
    se: float
    lo: float
    hi: float
    p: float
    df: int  # degrees of freedom of the t interval (clusters - 1)

    @property
    def significant(self) -> bool:
        """Whether the effect differs from zero at the 5 % level (two-sided)."""
        return bool(self.p < ALPHA)


NO_ESTIMATE = Estimate(math.nan, math.nan, math.nan, math.nan, math.nan, 0)


def _interval(effect: float, se: float, df: int) -> Estimate:
    if not (math.isfinite(effect) and math.isfinite(se)) or se <= 0 or df < 1:
        return Estimate(effect, se, math.nan, math.nan, math.nan, df)
    half = stats.t.ppf(1 - ALPHA / 2, df) * se
    p = 2 * stats.t.sf(abs(effect) / se, df)
    return Estimate(effect, se, effect - half, effect + half, float(p), df)


def _fit(y: np.ndarray, columns: list[np.ndarray], clusters: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """OLS of ``y`` on a constant and ``columns``: coefficients, cluster covariance, G - 1."""
    X = np.column_stack([np.ones(len(y)), *columns])
    fit = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": clusters}, use_t=True)
    return np.asarray(fit.params), np.asarray(fit.cov_params()), len(np.unique(clusters)) - 1


def _usable(*arrays: np.ndarray) -> np.ndarray:
    return np.logical_and.reduce([np.isfinite(np.asarray(a, dtype=float)) for a in arrays])


def _enough(treated: np.ndarray, clusters: np.ndarray) -> bool:
    """At least two clusters in each arm: otherwise no cluster-robust variance exists."""
    t = treated.astype(bool)
    return len(np.unique(clusters[t])) >= 2 and len(np.unique(clusters[~t])) >= 2


def difference_in_means(y: np.ndarray, treated: np.ndarray, clusters: np.ndarray) -> Estimate:
    """Mean outcome of the treated minus the control (firms with an outcome only)."""
    keep = _usable(y)
    y, treated, clusters = y[keep], treated[keep], clusters[keep]
    if not _enough(treated, clusters):
        return NO_ESTIMATE
    params, cov, df = _fit(y, [treated.astype(float)], clusters)
    return _interval(float(params[1]), math.sqrt(cov[1, 1]), df)


def ancova(y: np.ndarray, treated: np.ndarray, baseline: np.ndarray, clusters: np.ndarray) -> Estimate:
    """The treatment coefficient of y on treatment and the baseline value of y."""
    keep = _usable(y, baseline)
    y, treated, baseline, clusters = y[keep], treated[keep], baseline[keep], clusters[keep]
    if not _enough(treated, clusters):
        return NO_ESTIMATE
    covariates = [treated.astype(float)] + ([baseline] if np.ptp(baseline) > 0 else [])  # a constant adds nothing
    params, cov, df = _fit(y, covariates, clusters)
    return _interval(float(params[1]), math.sqrt(cov[1, 1]), df)


def wald(y: np.ndarray, treated: np.ndarray, took_up: np.ndarray, clusters: np.ndarray) -> Estimate:
    """Treatment on the treated: ITT on y over ITT on take-up (assignment as instrument)."""
    keep = _usable(y, took_up)
    y, treated, took_up, clusters = y[keep], treated[keep].astype(float), took_up[keep], clusters[keep]
    if not _enough(treated, clusters):
        return NO_ESTIMATE
    n = len(y)
    one, zero = np.ones(n), np.zeros(n)
    stacked = np.concatenate([y, took_up.astype(float)])
    X = np.column_stack([np.concatenate([one, zero]), np.concatenate([treated, zero]),
                         np.concatenate([zero, one]), np.concatenate([zero, treated])])
    fit = sm.OLS(stacked, X).fit(cov_type="cluster", cov_kwds={"groups": np.concatenate([clusters, clusters])},
                                 use_t=True)
    b, cov = np.asarray(fit.params), np.asarray(fit.cov_params())
    itt_y, itt_d = b[1], b[3]
    if abs(itt_d) < 1e-12:
        return NO_ESTIMATE
    effect = itt_y / itt_d
    gradient = np.array([1 / itt_d, -itt_y / itt_d**2])
    var = float(gradient @ cov[np.ix_([1, 3], [1, 3])] @ gradient)
    return _interval(float(effect), math.sqrt(max(var, 0.0)), len(np.unique(clusters)) - 1)


def minimum_detectable_effect(se: float, df: int, power: float = POWER) -> float:
    """The smallest true effect found significant (5 %, two-sided) with the given power.

    Bloom (1995): MDE = (t_{1-alpha/2} + t_{power}) x SE, with the trial's degrees of freedom.
    """
    if not math.isfinite(se) or df < 1:
        return math.nan
    return float((stats.t.ppf(1 - ALPHA / 2, df) + stats.t.ppf(power, df)) * se)
