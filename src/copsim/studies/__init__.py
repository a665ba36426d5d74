"""Studies built from many runs: comparisons, sweeps, sensitivity analysis, reports, the job layer."""
