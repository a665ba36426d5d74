"""How long a page lives: work a page started stops when its browser tab goes away.

A tab's Solara kernel unmounts its components when the tab closes (at once with the
page's goodbye, or after the cull time when the connection just dropped), which runs
their effects' clean-ups. Threads the page started (a playing simulation, a running
comparison) check the event this hook returns and stop instead of running on for nobody.
"""

from __future__ import annotations

import threading

import solara


def use_page_gone() -> threading.Event:
    """An event set when the calling component unmounts (its tab closed or culled)."""
    gone = solara.use_memo(threading.Event, dependencies=[])
    solara.use_effect(lambda: gone.set, dependencies=[])
    return gone
