"""Each enum, event code, mode name and lever bound is declared once; the kernels keep
copies (numba's cache sees changes to a kernel's own file only), held equal here to the
Python definitions, in the compiled modules and in their plain-Python twins."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import get_args

import pytest

from copsim.dtypes import (
    MODE_NAMES, Activity, EventKind, GroupMode, ModeName, VentureKind, VentureStatus, enum_names,
)
from copsim.engine.kernels import ENGINES, load_plain
from copsim.engine.levers import BOUNDS, Levers
from copsim.engine.state import PAIR
from copsim.scenario.schema import Founding, GroupSpec, Ventures
from copsim.workshop.room import LEVERS


def kernel_module(engine: str, name: str) -> ModuleType:
    if engine == "python":
        return load_plain(name)
    return importlib.import_module(f"copsim.engine.kernels.{name}")


@pytest.mark.parametrize("engine", ENGINES)
def test_kernel_constants_equal_their_python_definitions(engine: str) -> None:
    meetings = kernel_module(engine, "meetings")
    ties = kernel_module(engine, "ties")
    ventures = kernel_module(engine, "ventures")
    outreach = kernel_module(engine, "outreach")
    assert meetings.PAIR == ties.PAIR == outreach.PAIR == PAIR
    events = {"EV_MEETING": EventKind.MEETING, "EV_CANCELLED": EventKind.MEETING_CANCELLED,
              "EV_ACTIVITY": EventKind.ACTIVITY, "EV_VENTURE": EventKind.VENTURE_FORMED,
              "EV_SOLVED": EventKind.PROBLEM_SOLVED, "EV_JOINED": EventKind.VENTURE_JOINED}
    for name, kind in events.items():
        assert getattr(meetings, name) == kind, name
    activities = ["A_PROBLEM", "A_REQUEST", "A_EXPERIENCE", "A_REUSE", "A_COORDINATION",
                  "A_ARGUMENT", "A_CONFIDENCE", "A_DEVELOPMENTS", "A_DOCUMENTATION", "A_VISITS",
                  "A_MAPPING"]
    assert [getattr(meetings, name) for name in activities] == list(Activity)
    assert meetings.N_ACTIVITIES == len(Activity)
    kinds = ["V_SHARED_ASSET", "V_JOINT_CAMPAIGN", "V_CUSTOMER"]
    assert [getattr(meetings, name) for name in kinds] == list(VentureKind)[:3]
    assert [ventures.ACTIVE, ventures.ENDED, ventures.FAILED] == list(VentureStatus)
    assert ventures.CUSTOMER == VentureKind.CUSTOMER
    assert ventures.PARTNERSHIP == VentureKind.PARTNERSHIP
    contacts = kernel_module(engine, "contacts")
    assert contacts.PAIR == PAIR
    assert contacts.EV_PARTNERSHIP == EventKind.PARTNERSHIP
    assert contacts.V_PARTNERSHIP == VentureKind.PARTNERSHIP
    bound = [m.le for m in Ventures.model_fields["max_coordination_partners"].metadata if hasattr(m, "le")]
    assert bound == [meetings.MAX_COORDINATION_PARTNERS]  # sizes the per-meeting buffers


def test_mode_names_come_from_the_group_mode_enum() -> None:
    assert MODE_NAMES == tuple(enum_names(GroupMode))
    assert get_args(ModeName) == MODE_NAMES
    for model in (GroupSpec, Founding):
        assert get_args(model.model_fields["mode"].annotation) == MODE_NAMES
    levers = Levers()
    for name in MODE_NAMES:
        assert levers.validate("mode", name) == name
    with pytest.raises(ValueError, match="unknown mode"):
        levers.validate("mode", "carrier_pigeon")


def test_lever_bounds_are_the_engines_everywhere() -> None:
    assert LEVERS is BOUNDS
    levers = Levers()
    for name, (low, high) in BOUNDS.items():
        assert levers.validate(name, low) == low and levers.validate(name, high) == high
        with pytest.raises(ValueError, match="between"):
            levers.validate(name, high + 0.5)
