"""copsim: agent-based simulation of communities of practice among micro-entrepreneurs.

The public names below are imported on first use (PEP 562), so that ``import copsim``
and the ``copsim`` command's help and argument checks do not pay for Mesa, pandas and
numba; ``from copsim import CopModel`` works as usual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from copsim.engine.agents import Entrepreneur, Facilitator, Group
    from copsim.engine.model import CopModel
    from copsim.errors import CopsimError, OutputError, ScenarioError
    from copsim.scenario.io import load_scenario
    from copsim.scenario.schema import Scenario
    from copsim.version import __version__

_MODULE_OF = {
    # the Python API sits above copsim.studies, so it is named here but never imported
    **dict.fromkeys(("CompareResult", "Result", "SweepResult", "compare", "simulate", "sweep"),
                    "copsim.api"),
    "CopModel": "copsim.engine.model",
    "CopsimError": "copsim.errors",
    "Entrepreneur": "copsim.engine.agents",
    "Facilitator": "copsim.engine.agents",
    "Group": "copsim.engine.agents",
    "OutputError": "copsim.errors",
    "Scenario": "copsim.scenario.schema",
    "ScenarioError": "copsim.errors",
    "__version__": "copsim.version",
    "load_scenario": "copsim.scenario.io",
}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'copsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULE_OF[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names with the public ones not imported yet (for completion)."""
    return sorted({*globals(), *_MODULE_OF})
