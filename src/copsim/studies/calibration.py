"""ABC-SMC calibration of a scenario's assumptions against observed targets (pyabc).

pyabc proposes parameter sets from the priors (later from the previous population,
perturbed), :class:`TargetModel` runs the scenario with them and returns the target
statistics, and a particle is accepted when its distance to the observed values --
each difference divided by the target's uncertainty, combined as a Euclidean norm --
falls under the generation's tolerance (pyabc's median schedule). Each simulation's
seed is a function of the root seed and the parameter values only.

The pyabc history (``OUT/abc.db``, SQLite) is written after every generation, so a
killed calibration continues from its last finished generation when run again with
the same targets and settings. The results in ``OUT/posterior/`` are replaced as a
whole when a calibration finishes: the weighted posterior sample (Parquet), the
diagnostics per generation (tolerance, simulations, acceptance rate, effective sample
size), marginal and pairwise plots, and a posterior predictive check of every target.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from copsim import __version__
from copsim.engine.runner import simulate
from copsim.errors import OutputError
from copsim.outputs.files import OutputKind, atomic_directory, prepare_output, write_json
from copsim.scenario.priors import Prior
from copsim.studies.experiments import outcome_values
from copsim.studies.posterior import WEIGHT, Posterior, plan_draws, with_values
from copsim.studies.targets import Calibration, TrialStatistic
from copsim.studies.trial_design import CONTROL, TrialPlan
from copsim.studies.trial_job import run_replicate

SCALE = "log of loguniform priors"  # how pyabc sees the parameters (abc_name, from_abc)
DB_NAME = "abc.db"
SETTINGS_NAME = "settings.json"
RESULTS_DIR = "posterior"
POSTERIOR_FILE = "posterior.parquet"
# OUT holds the resumable history; OUT/posterior/ the results, replaced as a whole.
STATE_OUTPUT = OutputKind("calibrate", SETTINGS_NAME, (
    DB_NAME, f"{DB_NAME}-*", SETTINGS_NAME, RESULTS_DIR, f".{RESULTS_DIR}.*"))
RESULTS_OUTPUT = OutputKind("calibrate", "calibration.json", (
    POSTERIOR_FILE, "diagnostics.csv", "predictive.parquet", "predictive_check.csv",
    "calibration.json", "*.png"))


@dataclass(frozen=True)
class Settings:
    """What identifies a calibration run: a resumed run must have the same settings."""

    targets_digest: str
    population_size: int
    seed: int
    engine: str = "numba"
    scale: str = SCALE
    quantile: float = 0.5  # each generation's tolerance: this quantile of the previous distances

    def record(self) -> dict[str, Any]:
        """The settings as written to ``settings.json``."""
        return {"targets_digest": self.targets_digest, "population_size": self.population_size,
                "seed": self.seed, "engine": self.engine, "scale": self.scale,
                "quantile": self.quantile,
                "copsim_version": __version__}


def abc_name(key: str, prior: Prior) -> str:
    """pyabc's name of a calibrated parameter: no dots (its storage dislikes them), and a
    ``log__`` prefix where pyabc works on the logarithm (:func:`from_abc`)."""
    name = key.replace(".", "__")
    return f"log__{name}" if prior.shape == "loguniform" else name


def from_abc(prior: Prior, value: float) -> float:
    """A parameter's value from pyabc's. pyabc samples a loguniform parameter as the
    uniform logarithm: its perturbation kernel is then as wide at 0.01 as at 0.1, and the
    importance weights do not pile onto the smallest values (1/x prior density), which
    had left 8 of 100 effective particles by the third generation."""
    return math.exp(value) if prior.shape == "loguniform" else value


def simulation_seed(root: int, values: dict[str, float]) -> int:
    """The seed of one simulation: depends on the root seed and the parameter values only."""
    text = json.dumps([root, sorted((k, float(v)) for k, v in values.items())])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


class TargetModel:
    """pyabc's model: parameter set -> target statistics (picklable for worker processes)."""

    def __init__(self, calibration: Calibration, root_seed: int, engine: str = "numba") -> None:
        self.calibration = calibration
        self.root_seed = root_seed
        self.engine = engine

    def statistics(self, values: dict[str, float], seed: int) -> dict[str, float]:
        """Run the scenario once with ``values`` (and the trials of trial targets: each trial,
        horizon and outcome once, however many arms' targets read it); a statistic that is undefined is +inf."""
        runs = [t for t in self.calibration.targets if t.trial is None]
        stats: dict[str, float] = {}
        if runs:
            result = simulate(self.calibration.scenario(values), seed=seed, engine=self.engine)
            stats = outcome_values(runs, result.summary, result.timeseries)
        trials: dict[tuple[str, int, str, int], list[pd.DataFrame]] = {}
        for target in self.calibration.targets:
            if (stat := target.trial) is not None:
                key = (stat.file, stat.weeks, stat.outcome, stat.replicates)
                if key not in trials:
                    trials[key] = trial_firms(self.calibration.trials[target.name], values, seed,
                                              stat.replicates, self.engine)
                stats[target.name] = trial_effect(trials[key], stat)
        stats = {t.name: stats[t.name] for t in self.calibration.targets}
        return {k: (v if math.isfinite(v) else math.inf) for k, v in stats.items()}

    def __call__(self, parameter: dict[str, float]) -> dict[str, float]:
        values = {key: from_abc(prior, float(parameter[abc_name(key, prior)]))
                  for key, prior in self.calibration.priors.items()}
        return self.statistics(values, simulation_seed(self.root_seed, values))


def trial_firms(plan: TrialPlan, values: dict[str, float], seed: int, replicates: int,
                engine: str) -> list[pd.DataFrame]:
    """The firm records of ``replicates`` trials (seeds ``seed``, ``seed + 1``, ...), each a
    fresh world and randomisation, simulated with the calibrated ``values``."""
    base = with_values(plan.base, values, plan.source)
    return [run_replicate(plan.trial, base, seed + replicate, engine)
            for replicate in range(replicates)]


def trial_effect(trials: list[pd.DataFrame], stat: TrialStatistic) -> float:
    """The arm's effect on the outcome at the horizon, as the trial's evaluator measures it
    (difference in means against the control group, on firms in business), the mean over
    the trials; relative to the control mean for ``relative_effect``."""
    effects = []
    for firms in trials:
        now = firms[firms["weeks"] == stat.weeks]
        arm = now.loc[now["arm"] == stat.arm, stat.outcome].mean()
        control = now.loc[now["arm"] == CONTROL, stat.outcome].mean()
        effect = arm - control
        effects.append(effect / abs(control) if stat.measure == "relative_effect" else effect)
    return float(np.mean(effects))


def pyabc_prior(calibration: Calibration) -> Any:
    """The joint prior as a pyabc Distribution (independent marginals)."""
    import pyabc

    rvs = {}
    for key, prior in calibration.priors.items():
        low, high = ((math.log(prior.low), math.log(prior.high)) if prior.shape == "loguniform"
                     else (prior.low, prior.high))
        rvs[abc_name(key, prior)] = pyabc.RV("uniform", low, high - low)
    return pyabc.Distribution(**rvs)


def observed(calibration: Calibration) -> dict[str, float]:
    """The observed statistics, keyed like the model's output."""
    return {t.name: t.observed for t in calibration.targets}


def distance(calibration: Calibration) -> Any:
    """Euclidean distance of the differences in units of each target's uncertainty."""
    import pyabc

    return pyabc.PNormDistance(p=2, fixed_weights={t.name: 1.0 / t.sd for t in calibration.targets})


@contextmanager
def sampler(workers: int, scheduler: str | None) -> Iterator[Any]:
    """pyabc's sampler: one process, its multicore sampler, or Dask at ``scheduler``."""
    import pyabc

    if scheduler:
        from distributed import Client

        try:
            client = Client(scheduler, timeout=10)
        except OSError as exc:
            raise OutputError(f"--scheduler: {scheduler}: cannot connect ({exc})") from None
        try:
            yield pyabc.sampler.DaskDistributedSampler(dask_client=client, batch_size=1)
        finally:
            client.close()
    elif workers <= 1:
        yield pyabc.sampler.SingleCoreSampler()
    else:
        yield pyabc.sampler.MulticoreEvalParallelSampler(n_procs=workers)


@dataclass
class CalibrationReport:
    """What a finished calibration says on the terminal."""

    out: Path
    generations: int
    simulations: int
    resumed_from: int  # generations already in the history when this call started


def calibrate(calibration: Calibration, out: Path, *, population_size: int, generations: int,
              workers: int = 2, scheduler: str | None = None, seed: int = 1,
              ppc_draws: int = 20, engine: str = "numba", quantile: float = 0.5) -> CalibrationReport:
    """Run (or continue) ABC-SMC until ``generations`` populations exist, then write results.

    Each generation's tolerance is the ``quantile`` of the previous one's distances (the
    first: of pyabc's calibration sample from the prior). One generation with a small
    quantile is rejection ABC: every particle a prior draw of equal weight, which keeps
    the effective sample size whole where importance weights in many dimensions collapse.
    """
    import pyabc

    settings = Settings(calibration.digest, population_size, seed, engine, quantile=quantile)
    db = _open_state(out, settings)
    model = TargetModel(calibration, seed, engine)
    with pyabc_seeded(seed), sampler(workers, scheduler) as chosen:
        abc = pyabc.ABCSMC(model, pyabc_prior(calibration), distance(calibration),
                           population_size=population_size, sampler=chosen,
                           eps=pyabc.QuantileEpsilon(alpha=quantile))
        done = _generations_done(db)
        if done:
            abc.load(f"sqlite:///{db}", 1)
        else:  # nothing worth keeping: a new history (the run id stays 1)
            db.unlink(missing_ok=True)
            abc.new(f"sqlite:///{db}", observed(calibration))
        if generations > done:
            abc.run(max_nr_populations=generations - done)
    history = pyabc.History(f"sqlite:///{db}")
    write_results(calibration, history, out / RESULTS_DIR, model, ppc_draws, workers, seed)
    return CalibrationReport(out, history.max_t + 1, int(history.total_nr_simulations), done)


@contextmanager
def pyabc_seeded(seed: int) -> Iterator[None]:
    """Seed NumPy's global generator for pyabc only, then put the caller's state back.

    pyabc 0.13 draws particles and perturbations from ``np.random`` (it takes no
    Generator); the simulations themselves draw from the model's named streams.
    """
    saved = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(saved)


def _open_state(out: Path, settings: Settings) -> Path:
    """The history database, checking that an existing one belongs to these settings."""
    prepare_output(out, STATE_OUTPUT)
    out.mkdir(parents=True, exist_ok=True)
    db = out / DB_NAME
    path = out / SETTINGS_NAME
    if path.exists() and db.exists():
        recorded = json.loads(path.read_text())
        mine = settings.record()
        for key in ("targets_digest", "population_size", "seed", "engine", "scale", "quantile"):
            if recorded.get(key) != mine[key]:
                raise OutputError(f"{out}: {key}: holds a calibration with {key} = {recorded.get(key)!r}, "
                                  f"not {mine[key]!r}; use another --out or remove it")
        return db
    db.unlink(missing_ok=True)
    write_json(path, settings.record())
    return db


def _generations_done(db: Path) -> int:
    """Generations finished in the history (0 when it holds none, e.g. killed in the first)."""
    if not db.exists():
        return 0
    import pyabc

    history = pyabc.History(f"sqlite:///{db}")
    return max(history.max_t + 1, 0) if history.n_populations else 0


# --- results ----------------------------------------------------------------------------------


def posterior_frame(calibration: Calibration, history: Any) -> pd.DataFrame:
    """The last population: one row per particle, dotted parameter keys and ``weight``."""
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    frame = pd.DataFrame({key: [from_abc(prior, float(v)) for v in frame[abc_name(key, prior)]]
                          for key, prior in calibration.priors.items()})
    frame[WEIGHT] = np.asarray(weights, dtype=float) / float(np.sum(weights))
    return frame


def diagnostics(history: Any) -> pd.DataFrame:
    """Per generation: tolerance, simulations, acceptance rate and effective sample size."""
    from pyabc.weighted_statistics import effective_sample_size

    populations = history.get_all_populations()
    rows = []
    for t in range(history.max_t + 1):
        _, weights = history.get_distribution(m=0, t=t)
        row = populations[populations["t"] == t].iloc[0]
        n = len(weights)
        rows.append({"generation": t, "epsilon": float(row["epsilon"]), "simulations": int(row["samples"]),
                     "accepted": n, "acceptance_rate": n / float(row["samples"]),
                     "ess": float(effective_sample_size(np.asarray(weights)))})
    return pd.DataFrame(rows)


def predictive_check(calibration: Calibration, model: TargetModel, posterior: pd.DataFrame,
                     draws: int, workers: int, seed: int) -> pd.DataFrame:
    """Every target simulated at ``draws`` posterior draws (comparisons' draws: a weighted
    row each, from the root seed and its index), each with its own seed."""
    keys = tuple(calibration.parameters)
    sample = Posterior("posterior", keys, posterior[list(keys)].to_numpy(dtype=float),
                       posterior[WEIGHT].to_numpy(dtype=float))
    sets = plan_draws(sample, seed, draws, seeds_per_draw=1).sets
    seeds = [seed * 1_000_003 + i for i in range(draws)]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            stats = list(pool.map(model.statistics, sets, seeds))
    else:
        stats = [model.statistics(v, s) for v, s in zip(sets, seeds, strict=True)]
    return pd.DataFrame([{"draw": i, **s} for i, s in enumerate(stats)])


def ppc_table(calibration: Calibration, ppc: pd.DataFrame) -> pd.DataFrame:
    """Observed value and simulated median and 90 % interval of every target."""
    rows = []
    for t in calibration.targets:
        sim = ppc[t.name].replace(math.inf, np.nan).dropna()
        low, mid, high = (np.quantile(sim, [0.05, 0.5, 0.95]) if len(sim) else (math.nan,) * 3)
        rows.append({"target": t.name, "observed": t.observed, "sd": t.sd, "simulated_median": mid,
                     "simulated_5": low, "simulated_95": high,
                     "observed_within_90": bool(low - t.sd <= t.observed <= high + t.sd)})
    return pd.DataFrame(rows)


def write_results(calibration: Calibration, history: Any, out: Path, model: TargetModel,
                  ppc_draws: int, workers: int, seed: int) -> None:
    """Posterior, diagnostics, plots and the predictive check, replacing ``out`` as a whole."""
    from copsim.outputs.plotting import posterior_plots, predictive_plot

    posterior = posterior_frame(calibration, history)
    diag = diagnostics(history)
    ppc = predictive_check(calibration, model, posterior, ppc_draws, workers, seed)
    table = ppc_table(calibration, ppc)
    with atomic_directory(out, RESULTS_OUTPUT) as tmp:
        posterior.to_parquet(tmp / POSTERIOR_FILE, index=False)
        diag.to_csv(tmp / "diagnostics.csv", index=False)
        ppc.to_parquet(tmp / "predictive.parquet", index=False)
        table.to_csv(tmp / "predictive_check.csv", index=False)
        write_json(tmp / "calibration.json", {
            "targets_file": calibration.source, "targets_digest": calibration.digest,
            "priors": {k: p.text() for k, p in calibration.priors.items()},
            "targets": [t.model_dump() for t in calibration.targets],
            "generations": len(diag), "simulations": int(diag["simulations"].sum()),
            "final_ess": float(diag["ess"].iloc[-1]), "seed": seed, "copsim_version": __version__,
        })
        posterior_plots(posterior, calibration.priors, tmp)
        predictive_plot(table, ppc, tmp / "predictive_check.png")
