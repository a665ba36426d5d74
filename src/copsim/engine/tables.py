"""Struct-of-arrays storage with amortised growth.

A :class:`Table` owns one NumPy array per column, all with the same capacity
(first axis). Rows ``0..n-1`` are in use; ``grow_to`` doubles capacity when
needed so appending stays amortised O(1). Kernels receive the full-capacity
arrays and the row count, and mutate them in place: a table passes all its arrays
to a kernel as one argument, :meth:`Table.columns` (a NamedTuple, which numba
takes as it is and the plain-Python twin reads the same way).
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np


@dataclass(frozen=True)
class Column:
    """A column's dtype, trailing shape and fill value for new rows."""

    dtype: Any
    fill: Any = 0
    shape: tuple[int, ...] = ()


class Table:
    """Named columns sharing one row count; subclasses declare ``COLUMNS``.

    ``EXTRA`` names further array attributes that kernels get with the columns; ``Columns`` is the NamedTuple type of :meth:`columns`, made
    once per subclass (importable as ``<Table>.Columns``, so numba's on-disk cache
    can record kernel signatures that contain it).
    """

    COLUMNS: ClassVar[dict[str, Column]] = {}
    EXTRA: ClassVar[tuple[str, ...]] = ()
    Columns: ClassVar[type]

    _FIELDS: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        view = namedtuple(f"{cls.__name__}Columns", [*cls.COLUMNS, *cls.EXTRA])  # type: ignore[misc]
        view.__module__ = cls.__module__
        view.__qualname__ = f"{cls.__qualname__}.Columns"
        cls.Columns = view
        cls._FIELDS = frozenset(view._fields)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._FIELDS:  # a column was replaced (growth): build the view anew
            self.__dict__.pop("_view", None)
        super().__setattr__(name, value)

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

    def columns(self) -> Any:
        """Every column (and ``EXTRA`` attribute) as one NamedTuple, for a kernel (kept
        until a column is replaced, so a week's many kernel calls share it)."""
        view = self.__dict__.get("_view")
        if view is None:
            view = self.__dict__["_view"] = self.Columns(*(getattr(self, name) for name in self.Columns._fields))
        return view

    def nbytes(self) -> int:
        """Bytes held by the arrays (capacity, not just rows in use)."""
        return sum(getattr(self, name).nbytes for name in self.COLUMNS)
