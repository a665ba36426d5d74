"""The kernels, compiled with numba or run as plain Python: one registry for both.

``get_kernels("numba")`` returns the jitted functions; ``get_kernels("python")``
returns the same source loaded as ordinary Python (see ``_jit.jit_for``). The
model calls kernels only through the object returned here.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from functools import cache
from types import ModuleType, SimpleNamespace
from typing import Any, Literal

from copsim.engine.kernels._jit import PLAIN_PREFIX

Engine = Literal["numba", "python"]
ENGINES: tuple[Engine, ...] = ("numba", "python")
MODULES = ("business", "meetings", "exchange", "ties", "ventures", "summary", "outreach",
           "contacts", "mentoring", "seeding")
KERNELS = {
    "business": ("update_business",),
    "meetings": ("attend_meetings", "hold_meetings", "channel_lessons"),
    "exchange": ("absorptive_capacity", "exchange_knowledge"),
    "ties": ("strengthen_ties", "decay_ties", "tie_strength"),
    "ventures": ("update_ventures",),
    "summary": ("summarise_firms", "summarise_ties", "average_clustering"),
    "outreach": ("match_introductions", "good_practice_lessons"),
    "contacts": ("link_firms", "relative_performance", "scan_contacts", "form_partnerships"),
    "mentoring": ("hold_sessions",),
    "seeding": ("pcg64_seed",),
}


def load_plain(module: str) -> ModuleType:
    """Load ``copsim.engine.kernels.<module>`` again as plain Python (no numba)."""
    name = PLAIN_PREFIX + module
    if name not in sys.modules:
        compiled = importlib.import_module(f"copsim.engine.kernels.{module}")
        spec = importlib.util.spec_from_file_location(name, compiled.__file__)
        assert spec is not None and spec.loader is not None
        plain = importlib.util.module_from_spec(spec)
        sys.modules[name] = plain
        spec.loader.exec_module(plain)
    return sys.modules[name]


def new_tie_index(engine: Engine) -> Any:
    """An empty tie index (pair key -> edge row): a numba typed Dict, or a dict.

    The typed Dict comes from a compiled function that numba's cache serves:
    ``numba.typed.Dict.empty`` called from Python compiles its helpers again in
    every process (numba issue 5713), about 0.4 s of each run's start-up.
    """
    if engine == "python":
        return {}
    return importlib.import_module("copsim.engine.kernels.ties").empty_index()


@cache
def get_kernels(engine: Engine) -> SimpleNamespace:
    """Every kernel of one engine, by name."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")
    found = {}
    for module, names in KERNELS.items():
        source = (importlib.import_module(f"copsim.engine.kernels.{module}") if engine == "numba"
                  else load_plain(module))
        for name in names:
            found[name] = getattr(source, name)
    return SimpleNamespace(**found)
