"""The installed copsim version, recorded in every output's provenance.

A module of its own at the foundation, so that any layer can record the version
without importing the package's public names (which sit above the engine).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("copsim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"
