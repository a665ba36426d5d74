"""Struct-of-arrays storage with amortised growth.

A :class:`Table` owns one NumPy array per column, all with the same capacity
(first axis). Rows ``0..n-1`` are in use; ``grow_to`` doubles capacity when
needed so appending stays amortised O(1). Kernels receive the full-capacity
arrays and the row count, and mutate them in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Column:
    """A column's dtype, trailing shape and fill value for new rows."""

    dtype: Any
    fill: Any = 0
    shape: tuple[int, ...] = ()


class Table:
    """Named columns sharing one row count; subclasses declare ``COLUMNS``."""

    COLUMNS: dict[str, Column] = {}

    def __init__(self, capacity: int = 16) -> None:
        self.n = 0
        capacity = max(int(capacity), 1)
        for name, col in self.COLUMNS.items():
            setattr(self, name, np.full((capacity, *col.shape), col.fill, dtype=col.dtype))

    @property
    def capacity(self) -> int:
        """Rows allocated."""
        first = next(iter(self.COLUMNS))
        return int(getattr(self, first).shape[0])

    def grow_to(self, rows: int) -> None:
        """Make room for at least ``rows`` rows, keeping existing values."""
        if rows <= self.capacity:
            return
        capacity = max(rows, 2 * self.capacity)
        for name, col in self.COLUMNS.items():
            old = getattr(self, name)
            new = np.full((capacity, *col.shape), col.fill, dtype=col.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)

    def add_rows(self, count: int) -> np.ndarray:
        """Append ``count`` rows with fill values; return their indices."""
        self.grow_to(self.n + count)
        rows = np.arange(self.n, self.n + count)
        self.n += count
        return rows

    def nbytes(self) -> int:
        """Bytes held by the arrays (capacity, not just rows in use)."""
        return sum(getattr(self, name).nbytes for name in self.COLUMNS)
