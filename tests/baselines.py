"""Stored regression baselines: digests of runs, checked by the tests and refreshed on purpose.

Each store (``tests/data/*.json``) maps a case to the digests of its outputs. A
script per store (``run_digests.py``, ``workshop_baseline.py``) names its cases and
how to digest them, and calls :func:`check_or_refresh`: without ``--refresh`` it
says which cases changed and exits 1 if any did; with it, it rewrites the store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

Digests = dict[str, str]


def read(store: Path) -> dict[str, Digests]:
    """The stored digests of every case (none when the store does not exist yet)."""
    return json.loads(store.read_text(encoding="utf-8")) if store.exists() else {}


def check_or_refresh(store: Path, cases: Iterable[tuple[str, Callable[[], Digests]]],
                     refresh: bool) -> int:
    """Recompute each case, print whether it is the same as stored, and rewrite the
    store (atomically) if ``refresh``; the exit code is 1 if a case changed unrefreshed."""
    stored = read(store)
    changed = 0
    for key, compute in cases:
        digests = compute()
        same = stored.get(key) == digests
        changed += not same
        print(f"{key}: {'same' if same else 'CHANGED'}", flush=True)
        stored[key] = digests
    if refresh:
        tmp = store.with_suffix(".tmp")
        tmp.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(store)
        print(f"wrote {store}")
    return 1 if changed and not refresh else 0
