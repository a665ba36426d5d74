"""The copsim dashboard (``copsim dashboard``, or ``solara run dashboards/app.py``).

Pages: Explore (one run, live, with mid-run levers); Compare (funding models side
by side against no programme, the code of ``copsim compare``); Sweeps (a sweep's
sensitivity indices and heatmaps, the code of ``copsim analyze``). The app is a thin client:
everything it shows comes from copsim's engine and its viz components.
"""

from __future__ import annotations

import warnings

import solara

# Mesa 3.3.1's own SolaraViz module trips Solara's hook checker on import; not ours.
warnings.filterwarnings("ignore", message=".*ComponentsView.*use_state.*")

from copsim.viz.compare_page import ComparePage  # noqa: E402
from copsim.viz.explore import ExplorePage  # noqa: E402
from copsim.viz.sweeps_page import SweepsPage  # noqa: E402


@solara.component
def Page() -> None:
    """The dashboard's pages as tabs."""
    solara.Title("copsim")
    with solara.lab.Tabs():
        with solara.lab.Tab("Explore"):
            ExplorePage()
        with solara.lab.Tab("Compare"):
            ComparePage()
        with solara.lab.Tab("Sweeps"):
            SweepsPage()
