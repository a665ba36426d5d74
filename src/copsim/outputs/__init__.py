"""Writing results: atomic output directories, JSON, figures."""
