"""One place for array dtypes and the small-integer codes stored in them.

Kernels see only numbers, so every categorical state (firm type, group mode,
activity, event kind ...) is an ``IntEnum`` whose value is what the arrays hold.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Literal

import numpy as np

FLOAT = np.float64  # all continuous state; float64 keeps the two engines bit-equal
INT = np.int64  # row references (int64: tie keys are row * 2**32 + row)
WEEK = np.int32  # weeks, group indices and counts
SMALL = np.int16  # regions, sectors, asset bitmasks
CODE = np.int8  # enum codes
FLAG = np.bool_


class Topic(IntEnum):
    """Business topics of the knowledge vector (K = 8)."""

    SALES_MARKETING = 0
    FINANCE = 1
    EMPLOYMENT = 2
    DIGITAL = 3
    OPERATIONS = 4
    EXPORT = 5
    REGULATION = 6
    STRATEGY = 7


N_TOPICS = len(Topic)


class FirmType(IntEnum):
    """Kinds of micro-enterprise named in DESIGN.md."""

    SOLO = 0
    LIFESTYLE = 1
    FAMILY = 2
    GROWTH = 3
    STARTUP = 4


class Asset(IntEnum):
    """Shareable assets; a firm holds a bitmask of ``1 << Asset``."""

    VEHICLE = 0
    SALES_SPACE = 1
    EXPORT_CONTACTS = 2
    PRODUCTION_CAPACITY = 3
    WEB_SHOP = 4
    EVENT_STAND = 5
    STORAGE = 6
    SHOWROOM = 7


N_ASSETS = len(Asset)


class GroupMode(IntEnum):
    """How a group meets."""

    PHYSICAL = 0
    ONLINE = 1
    HYBRID = 2
    COMMUNAL_SPACE = 3


class FacilitatorKind(IntEnum):
    """Who facilitates a group."""

    NONE = 0
    ADVISORY_SERVICE = 1
    RESEARCHER = 2


class Activity(IntEnum):
    """Wenger's (2011) eleven typical community-of-practice activities."""

    PROBLEM_SOLVING = 0
    REQUEST_INFORMATION = 1
    SEEKING_EXPERIENCE = 2
    REUSING_ASSETS = 3
    COORDINATION = 4
    BUILDING_ARGUMENT = 5
    GROWING_CONFIDENCE = 6
    DISCUSSING_DEVELOPMENTS = 7
    DOCUMENTATION = 8
    VISITS = 9
    MAPPING_KNOWLEDGE = 10


N_ACTIVITIES = len(Activity)


class VentureStatus(IntEnum):
    """Where a joint venture stands."""

    ACTIVE = 0
    ENDED = 1  # ended well, its lead exited, or fewer than two members were left
    FAILED = 2


class VentureKind(IntEnum):
    """What a joint venture is built on."""

    SHARED_ASSET = 0  # from "reusing assets": one firm's asset serves both
    JOINT_CAMPAIGN = 1  # from "coordination and strategy"
    CUSTOMER = 2  # from "mapping knowledge": a peer becomes a customer
    PARTNERSHIP = 3  # through business contacts, inside or outside the programme


class EventKind(IntEnum):
    """Rows of the event log."""

    MEETING = 0
    MEETING_CANCELLED = 1
    ACTIVITY = 2
    VENTURE_FORMED = 3
    VENTURE_ENDED = 4
    VENTURE_FAILED = 5
    JOIN = 6
    LEAVE = 7
    EXIT = 8
    ENTRY = 9
    GROUP_FOUNDED = 10
    GROUP_DISSOLVED = 11
    PROBLEM_SOLVED = 12
    HIRE = 13
    INNOVATION = 14
    SHOCK = 15
    LEVER = 16
    VENTURE_JOINED = 17  # a partner of a venture formed just before (firm: partner, other: lead)
    INTRODUCTION = 18  # a coordinator introduced firm to other (docs/odd.md 7.15)
    PARTNERSHIP = 19  # a venture started through business contacts (docs/odd.md 7.19)


def enum_names(enum: type[IntEnum]) -> list[str]:
    """Lower-case member names in code order, for tables and files."""
    return [member.name.lower() for member in enum]


MODE_NAMES: tuple[str, ...] = tuple(enum_names(GroupMode))
ModeName = Literal[MODE_NAMES]  # type: ignore[valid-type]  # "physical", "online", ... as in GroupMode
