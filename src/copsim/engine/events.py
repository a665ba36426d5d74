"""The event log: meetings, activities, ventures, joins, leaves, exits ...

Kernels write events into an :class:`EventBuffer` (preallocated columns and a
row count they return); :meth:`EventLog.take` moves the rows written into the
log as a chunk, so the log is append-only and stored columnar.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from copsim.dtypes import CODE, FLOAT, WEEK, Activity, EventKind, Topic, enum_names
from copsim.engine.tables import Column, Table


class EventBuffer(Table):
    """Scratch columns kernels append events to."""

    COLUMNS = {
        "week": Column(WEEK),
        "kind": Column(CODE),
        "group": Column(WEEK, -1),
        "firm": Column(WEEK, -1),
        "other": Column(WEEK, -1),
        "activity": Column(CODE, -1),
        "topic": Column(CODE, -1),
        "value": Column(FLOAT),
    }

    def room_for(self, extra: int) -> None:
        """Guarantee space for ``extra`` more events before a kernel runs."""
        self.grow_to(self.n + extra)


class EventLog:
    """All events of a run, in the order they happened."""

    def __init__(self) -> None:
        self.buffer = EventBuffer(4096)
        self._chunks: list[dict[str, np.ndarray]] = []
        self.counts = np.zeros(len(EventKind), dtype=np.int64)
        self.activity_counts = np.zeros(len(Activity), dtype=np.int64)

    def add(
        self, week: int, kind: EventKind, *, group: int = -1, firm: int = -1,
        other: int = -1, activity: int = -1, topic: int = -1, value: float = 0.0,
    ) -> None:
        """Append one event from Python code."""
        self.add_rows(week, np.array([kind]), np.array([firm]), group=group, other=other,
                      activity=activity, topic=topic, value=value)

    def add_rows(self, week: int, kind: np.ndarray, firm: np.ndarray, *,
                 group: np.ndarray | int = -1, other: np.ndarray | int = -1,
                 activity: np.ndarray | int = -1, topic: np.ndarray | int = -1,
                 value: np.ndarray | float = 0.0) -> None:
        """Append one event per entry of ``kind`` and ``firm``, in order (the other fields
        arrays of the same length, or one value for all): a week can end hundreds of
        ventures."""
        b = self.buffer
        b.room_for(len(kind))
        rows = slice(b.n, b.n + len(kind))
        b.week[rows], b.kind[rows], b.group[rows], b.firm[rows] = week, kind, group, firm
        b.other[rows], b.activity[rows], b.topic[rows], b.value[rows] = other, activity, topic, value
        b.n += len(kind)

    def add_many(self, week: int, kind: EventKind, firm: np.ndarray, *,
                 group: np.ndarray | int = -1, value: np.ndarray | float = 0.0,
                 keep: np.ndarray | None = None) -> None:
        """Append one event per firm in ``firm`` (vectorised; for exits, entries ...).

        ``keep`` (a mask over ``firm``) stores only those events; the others are counted
        (``counts``) but not kept: what bounds the log of the largest runs."""
        self.take()  # keep the log in order
        if keep is not None:
            self.counts[kind] += int(len(firm) - keep.sum())
            firm = firm[keep]
            group = group[keep] if isinstance(group, np.ndarray) else group
            value = value[keep] if isinstance(value, np.ndarray) else value
        n = len(firm)
        if n == 0:
            return
        cols = EventBuffer.COLUMNS
        chunk = {name: np.full(n, col.fill, dtype=col.dtype) for name, col in cols.items()}
        chunk["week"][:] = week
        chunk["kind"][:] = kind
        chunk["firm"][:] = firm
        chunk["group"][:] = group
        chunk["value"][:] = value
        self._append(chunk)

    def take(self) -> None:
        """Move the buffered events into the log (called once per phase)."""
        b = self.buffer
        if b.n == 0:
            return
        self._append({name: getattr(b, name)[: b.n].copy() for name in b.COLUMNS})
        b.n = 0

    def _append(self, chunk: dict[str, np.ndarray]) -> None:
        self.counts += np.bincount(chunk["kind"], minlength=len(EventKind))
        acts = chunk["activity"][chunk["kind"] == EventKind.ACTIVITY]
        self.activity_counts += np.bincount(acts, minlength=len(Activity))
        self._chunks.append(chunk)

    def count(self, kind: EventKind) -> int:
        """Events of one kind so far."""
        return int(self.counts[kind])

    @property
    def n_chunks(self) -> int:
        """Chunks in the log so far: a bookmark for :meth:`to_frame` (``start``)."""
        self.take()
        return len(self._chunks)

    def to_frame(self, start: int = 0) -> pd.DataFrame:
        """The log (from chunk ``start`` on) as a table with readable kind and activity names."""
        self.take()
        chunks = self._chunks[start:]
        cols = {name: (np.concatenate([c[name] for c in chunks]) if chunks
                       else np.empty(0, dtype=col.dtype))
                for name, col in EventBuffer.COLUMNS.items()}
        frame = pd.DataFrame(cols)
        frame["kind"] = pd.Categorical.from_codes(frame["kind"], enum_names(EventKind))
        acts = frame["activity"].to_numpy()
        frame["activity"] = pd.Categorical.from_codes(acts, enum_names(Activity))
        frame["topic"] = pd.Categorical.from_codes(frame["topic"].to_numpy(), enum_names(Topic))
        return frame
