"""copsim: agent-based simulation of communities of practice among micro-entrepreneurs."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("copsim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

from copsim.engine.agents import Entrepreneur, Facilitator, Group
from copsim.scenario.schema import Scenario
from copsim.errors import CopsimError, OutputError, ScenarioError
from copsim.engine.model import CopModel
from copsim.scenario.io import load_scenario

__all__ = [
    "CopModel",
    "CopsimError",
    "Entrepreneur",
    "Facilitator",
    "Group",
    "OutputError",
    "Scenario",
    "ScenarioError",
    "__version__",
    "load_scenario",
]
