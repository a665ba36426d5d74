"""A network layout that stays put from frame to frame.

Regions sit on a circle; inside its region every firm has a home on a sunflower
spiral, given once, in the order firms appear. Members are drawn around their
group's centre, each on a slot given when it joined and kept while it stays.
Nothing is recomputed from the network, so no node jumps when ties change.
"""

from __future__ import annotations

import math

import numpy as np

GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))
CANVAS = 1000.0


def sunflower(k: int, count: int, radius: float) -> tuple[float, float]:
    """Offset of point ``k`` of ``count`` evenly spread over a disc of ``radius``."""
    r = radius * math.sqrt((k + 0.5) / max(count, 1))
    return r * math.cos(k * GOLDEN_ANGLE), r * math.sin(k * GOLDEN_ANGLE)


class StableLayout:
    """Positions of firms on a 1000 x 1000 canvas, stable across frames."""

    def __init__(self, n_regions: int, region_sizes: list[int]) -> None:
        ring = 0.34 * CANVAS if n_regions > 1 else 0.0
        self.region_radius = min(0.45 * CANVAS, (math.pi * ring / max(n_regions, 1)) * 0.95) if n_regions > 1 else 0.45 * CANVAS
        self.centres = [
            (CANVAS / 2 + ring * math.cos(2 * math.pi * i / n_regions - math.pi / 2),
             CANVAS / 2 + ring * math.sin(2 * math.pi * i / n_regions - math.pi / 2))
            for i in range(n_regions)]
        self.expected = [max(size, 1) for size in region_sizes]
        self.home: dict[int, tuple[float, float]] = {}
        self.placed = [0] * n_regions
        self.slots: dict[int, tuple[int, int]] = {}  # row -> (group, slot)
        self.next_slot: dict[int, int] = {}

    def place(self, rows: np.ndarray, regions: np.ndarray) -> None:
        """Give new firms their home in their region (firms already placed keep theirs)."""
        for row, region in zip(rows.tolist(), regions.tolist(), strict=True):
            if row in self.home:
                continue
            k = self.placed[region]
            self.placed[region] += 1
            count = max(self.expected[region], k + 1)
            dx, dy = sunflower(k, count, self.region_radius)
            cx, cy = self.centres[region]
            self.home[row] = (cx + dx, cy + dy)

    def group_centre(self, region: int, index_in_region: int) -> tuple[float, float]:
        """Centre of a group: its region's centre, shifted for a region's second group."""
        cx, cy = self.centres[region]
        shift = 0.35 * self.region_radius * index_in_region
        return cx + shift, cy - shift

    def positions(self, rows: np.ndarray, groups: np.ndarray,
                  centres: dict[int, tuple[float, float]]) -> np.ndarray:
        """(x, y) of each row: members around their group's centre, others at home."""
        out = np.empty((len(rows), 2))
        for i, (row, group) in enumerate(zip(rows.tolist(), groups.tolist(), strict=True)):
            if group >= 0 and group in centres:
                slot = self._slot(row, group)
                dx, dy = sunflower(slot, 30, 0.42 * self.region_radius)
                cx, cy = centres[group]
                out[i] = cx + dx, cy + dy
            else:
                self.slots.pop(row, None)
                out[i] = self.home[row]
        return out

    def _slot(self, row: int, group: int) -> int:
        held = self.slots.get(row)
        if held is not None and held[0] == group:
            return held[1]
        slot = self.next_slot.get(group, 0)
        self.next_slot[group] = slot + 1
        self.slots[row] = (group, slot)
        return slot
