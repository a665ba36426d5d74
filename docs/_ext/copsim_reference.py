"""Sphinx extension: the file reference, generated from the schemas when the site is built.

A page holds markers such as ``<!-- copsim:scenario -->``; on reading, each is replaced
by markdown made from the schema it names. Scenario tables are those of the ODD's
Appendix B (:func:`copsim.scenario.odd_tables.parameter_tables`); shock and experiment
files get one table each from the same schema walk, and the lists of outcomes come from
the code that checks them, so the reference cannot drift from what copsim accepts.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable

from pydantic import BaseModel
from sphinx.application import Sphinx

from copsim.cli import build_parser, commands
from copsim.engine.metrics import TIMESERIES
from copsim.scenario.odd_tables import format_value, meaning_of, parameter_tables, walk
from copsim.scenario.shocks import ShockFile
from copsim.studies.experiments import REDUCTIONS, SUMMARY_KEYS, SUMMARY_TABLES, Experiment


def key_table(model: type[BaseModel]) -> str:
    """Every key of a file schema: default and meaning (markdown table)."""
    rows = ["| key | default | meaning |", "|---|---|---|"]
    for entry in walk(model):
        cells = [f"`{entry.key}`", format_value(entry.default), meaning_of(entry.info)]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)


def names(values: object) -> str:
    """A list of names as inline code, comma separated."""
    return ", ".join(f"`{v}`" for v in values)  # type: ignore[attr-defined]


def outcomes() -> str:
    """What an experiment's outcomes may name, from the code that checks them."""
    tables = ", ".join(f"`{t}.<name>`" for t in SUMMARY_TABLES)
    weekly = ["| column | meaning |", "|---|---|"]
    weekly += [f"| `{column}` | {meaning} |" for column, meaning in TIMESERIES.items()
               if column != "week"]
    return "\n\n".join([
        f"Summary values (`source = \"summary\"`, the default): {names(SUMMARY_KEYS)}; "
        f"and the counts {tables}.",
        f"Reductions of a weekly column (`reduce`): {names(REDUCTIONS)}.",
        "Weekly columns (`source = \"timeseries\"`, with `column` and `reduce`):",
        "\n".join(weekly),
    ])


def help_text(*command: str) -> str:
    """What ``copsim COMMAND --help`` prints."""
    text = io.StringIO()
    with contextlib.redirect_stdout(text), contextlib.suppress(SystemExit):
        build_parser().parse_args([*command, "--help"])
    return text.getvalue()


def command_line() -> str:
    """A section per command with its ``--help`` (``scenarios copy`` under ``scenarios``)."""
    names = [module.__name__.rsplit(".", 1)[1] for module in commands()]
    calls = [(), *[(name,) for name in names], ("scenarios", "copy")]
    return "\n\n".join(f"## {' '.join(('copsim', *call))}\n\n```text\n{help_text(*call)}```"
                       for call in calls)


GENERATED: dict[str, Callable[[], str]] = {
    "command-line": command_line,
    "scenario": lambda: parameter_tables(level=3),
    "shock": lambda: key_table(ShockFile),
    "experiment": lambda: key_table(Experiment),
    "outcomes": outcomes,
}


def fill_markers(app: Sphinx, docname: str, source: list[str]) -> None:
    """Replace each ``<!-- copsim:NAME -->`` marker of a page by its generated markdown."""
    for name, make in GENERATED.items():
        marker = f"<!-- copsim:{name} -->"
        if marker in source[0]:
            source[0] = source[0].replace(marker, make())


def setup(app: Sphinx) -> dict[str, object]:
    """Register the source-read hook."""
    app.connect("source-read", fill_markers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
