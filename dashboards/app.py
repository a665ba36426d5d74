"""The copsim dashboard (``copsim dashboard``, or ``solara run dashboards/app.py``).

Pages: Explore (one run, live, with mid-run levers); Compare (funding models side
by side against no programme, the code of ``copsim compare``); Sweeps (a sweep's
sensitivity indices and heatmaps, the code of ``copsim analyze``). The app is a thin client:
everything it shows comes from copsim's engine and its viz components.
"""

from __future__ import annotations

import os
import warnings

import solara
import solara.server.settings

# A tab that disappears without saying goodbye (browser killed, network lost) keeps its
# kernel, and the simulation in it, until the kernel is culled: Solara's default waits
# 24 h; the dashboard waits a minute, long enough to survive a brief network drop.
# SOLARA_KERNEL_CULL_TIMEOUT still overrides it.
IDLE_CULL = "60s"
if "SOLARA_KERNEL_CULL_TIMEOUT" not in {name.upper() for name in os.environ}:
    solara.server.settings.kernel.cull_timeout = IDLE_CULL
# Solara's "runs on Solara" banner floats over the bottom of the first screen, on top of
# whatever is there (the time series at 1280x720); the page ends with that line instead.
solara.server.settings.theme.show_banner = False

# Mesa 3.3.1's own SolaraViz module trips Solara's hook checker on import; not ours.
warnings.filterwarnings("ignore", message=".*ComponentsView.*use_state.*")

from copsim.viz.compare_page import ComparePage  # noqa: E402
from copsim.viz.explore import ExplorePage  # noqa: E402
from copsim.viz.solara_fixes import fix_navigator  # noqa: E402
from copsim.viz.sweeps_page import SweepsPage  # noqa: E402

fix_navigator()  # before the first page: Solara's router script warns in every browser console


@solara.component
def Page() -> None:
    """The dashboard's pages as tabs, then the line that ends every page."""
    solara.Title("copsim")
    # The pages' rows of columns reach 12 px past each side (Vuetify's gutters): the padding
    # keeps their content inside the window instead of flush against its right edge, or past it.
    with solara.Column(classes=["px-3"], gap="0px"):
        with solara.lab.Tabs():
            with solara.lab.Tab("Explore"):
                ExplorePage()
            with solara.lab.Tab("Compare"):
                ComparePage()
            with solara.lab.Tab("Sweeps"):
                SweepsPage()
    solara.HTML(tag="footer", classes=["copsim-footer"],
                unsafe_innerHTML='This dashboard runs on <a href="https://solara.dev">Solara</a>',
                style="text-align: right; font-weight: bold; padding: 10px")
