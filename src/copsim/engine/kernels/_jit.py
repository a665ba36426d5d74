"""Compilation options for every kernel, and the switch that makes plain-Python twins.

Each kernel module starts with ``jit = jit_for(__name__)``. Imported normally it
gets numba's ``njit``; loaded again by :func:`copsim.engine.kernels.load_plain` under a
name starting with :data:`PLAIN_PREFIX` it gets the identity, so the same source
(helpers included) runs as ordinary CPython: the reference engine.

- ``cache=True``: a second process loads machine code instead of compiling.
  Numba's cache does not notice a changed global in another module nor a
  changed jitted helper in another file, so kernels take parameters as
  arguments and call helpers from their own file only.
- ``fastmath=False``, ``parallel=False``: results must be bit-equal to the twin,
  which uses the same ``math`` functions in the same summation order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PLAIN_PREFIX = "copsim.engine.kernels.plain."


Kernel = Callable[..., Any]


def _plain(fn: Kernel | None = None, **_options: Any) -> Any:
    """``@jit`` or ``@jit(...)`` for the twin: the function itself."""
    return fn if fn is not None else _plain


def _njit(fn: Kernel | None = None, **options: Any) -> Any:
    """``@jit`` or ``@jit(inline="always")``: numba with the project's options.

    Small helpers called with many literal argument types are inlined at numba
    IR level (``inline="always"``); otherwise numba compiles one specialisation
    per distinct literal signature, which multiplied compile time by five.
    """
    import numba  # here, not at the top: the CLI reads ENGINES without loading numba

    if fn is None:
        return lambda f: _njit(f, **options)
    return numba.njit(cache=True, fastmath=False, parallel=False, nogil=True, **options)(fn)


def jit_for(module_name: str) -> Any:
    """The decorator for kernels of the named module: numba, or none for the twin."""
    return _plain if module_name.startswith(PLAIN_PREFIX) else _njit
