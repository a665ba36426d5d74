"""A fix to Solara 1.58, applied by the dashboard before its first page renders.

Solara's router widget (``solara.widgets.Navigator``, in every Solara page) ships a Vue
script that assigns ``modules.export`` instead of ``module.exports``. ipyvue's loader then
finds no export, warns "Failed to evaluate Vue script and find module.exports" in the
browser console of every page and falls back to an older way of reading the script. The
fix reads Solara's own template, corrects that one assignment and serves the result, so
the component stays Solara's and follows Solara when it changes; a Solara without the
typo is left alone.
"""

from __future__ import annotations

from pathlib import Path

import solara
import solara.widgets
import traitlets

TYPO = "modules.export ="
EXPORT = "module.exports ="


def corrected_template(source: str) -> str | None:
    """``source`` with its script exporting to ``module.exports``; None if it has no typo."""
    if source.count(TYPO) != 1:
        return None
    return source.replace(TYPO, EXPORT)


def fix_navigator() -> bool:
    """Make ``solara.Navigator`` build a Navigator whose script exports properly.

    Returns whether a fix was needed (False once Solara ships a correct template).
    """
    upstream = solara.widgets.Navigator
    template = corrected_template(Path(upstream.template_file).read_text(encoding="utf-8"))
    if template is None:
        return False

    class Navigator(upstream):
        """Solara's Navigator with the corrected template (a string, not a file)."""

        template_file = None

        @traitlets.default("template")
        def _corrected(self) -> str:
            return template

    solara.Navigator.widget = Navigator
    return True
