"""Sphinx configuration of copsim's documentation site (``make docs``).

MyST markdown throughout; tutorials are MyST notebooks that MyST-NB executes on every
build (so they cannot rot), and a failing cell fails the build. The file reference is
generated from the schemas (``_ext/copsim_reference.py``) and the API reference from
docstrings. Warnings are errors (``-W`` in ``make docs`` and in the tests).
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "copsim"
author = "copsim developers"
copyright = "copsim developers"
release = metadata.version("copsim")

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",  # the engine's docstrings use Google-style "Args:"
    "sphinx_copybutton",
    "copsim_reference",
]
exclude_patterns = ["_build", "jupyter_execute"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# Tutorials: executed on every build, in a temporary directory, at tiny sizes.
nb_execution_mode = "force"
nb_execution_in_temp = True
nb_execution_raise_on_error = True
nb_execution_timeout = 600
nb_output_stderr = "remove"  # progress bars; errors still fail the build
nb_merge_streams = True
nb_render_markdown_format = "myst"  # tables in Markdown outputs (table.md)
smartquotes = False  # keep "--shock" as typed in text the code generates

autodoc_member_order = "bysource"
autodoc_default_options = {"members": True}

html_theme = "pydata_sphinx_theme"
html_title = f"copsim {release}"
html_theme_options = {
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
