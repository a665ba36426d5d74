"""Parameter tables of docs/odd.md, generated from the scenario schema.

The schema in :mod:`copsim.scenario.schema` is the one record of every parameter's unit,
default and source. Generating the ODD tables from it (instead of writing them by
hand) keeps the documentation from drifting away from the code; ``--check`` lets a
test or CI fail when someone changes the schema and forgets to regenerate.

Usage: ``python -m copsim.scenario.odd_tables [--check] [path]`` (default ``docs/odd.md``).
"""

from __future__ import annotations

import argparse
import re
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from copsim.scenario.priors import prior_of
from copsim.scenario.schema import Scenario

START = "<!-- parameters:start -->"
END = "<!-- parameters:end -->"
ODD_PATH = Path(__file__).resolve().parents[3] / "docs" / "odd.md"

REQUIRED = "required"
SEED_REFERENCE = re.compile(r"seed \d{3} \([^)]*\)")
# Container kinds: the key suffix that stands for "any item" of the container.
LIST_ITEM, DICT_ITEM = "[]", ".<name>"


@dataclass(frozen=True)
class Entry:
    """One schema field at a dotted key, with the default that applies there."""

    key: str
    info: FieldInfo
    default: Any  # PydanticUndefined when the field must be given


def _strip_optional(annotation: Any) -> Any:
    """``X | None`` -> ``X``: optional parameters are documented by their value type."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def container_of(annotation: Any) -> tuple[str, type[BaseModel]] | None:
    """``(item suffix, item model)`` for ``list[Model]`` and ``dict[str, Model]``, else None."""
    tp = _strip_optional(annotation)
    args = get_args(tp)
    if get_origin(tp) is list and args and _is_model(args[0]):
        return LIST_ITEM, args[0]
    if get_origin(tp) is dict and len(args) == 2 and _is_model(args[1]):
        return DICT_ITEM, args[1]
    return None


def field_default(info: FieldInfo) -> Any:
    """The value a field takes when omitted (calling its default factory if it has one)."""
    return info.get_default(call_default_factory=True)


def walk(model: type[BaseModel] = Scenario, prefix: str = "",
         defaults: BaseModel | None = None) -> Iterator[Entry]:
    """Every field of ``model``, depth first, in declaration order.

    Nested models are entered with their default instance, so a field's default is
    the one that applies at that key (``modes.online.travel_factor`` is 0.0, not the
    class default 1.0). Lists and dicts of models yield the container itself and
    then the item fields under ``key[]`` or ``key.<name>`` with the item class
    defaults (what an entry that omits the field gets).
    """
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        default = getattr(defaults, name) if defaults is not None else field_default(info)
        nested = _strip_optional(info.annotation)
        container = container_of(info.annotation)
        if container is not None:
            yield Entry(key, info, default)
            suffix, item = container
            yield from walk(item, f"{key}{suffix}.")
        elif _is_model(nested):
            yield from walk(nested, f"{key}.", default if isinstance(default, BaseModel) else None)
        else:
            yield Entry(key, info, default)


def is_numeric(info: FieldInfo) -> bool:
    """Whether a field holds a number (bool excluded, ``int | None`` included)."""
    tp = _strip_optional(info.annotation)
    return tp in (int, float)


def _metadata(info: FieldInfo) -> dict[str, Any]:
    extra = info.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def unit_of(info: FieldInfo) -> str:
    """The declared unit, or "-" for fields declared without one."""
    return str(_metadata(info).get("unit", "-"))


def source_of(info: FieldInfo) -> str:
    """The declared source; else a seed cited in the description; else a plain label.

    Names and labels (strings, lists of names) make no empirical claim, so they get
    "-"; any other undeclared value is, honestly, an assumption.
    """
    declared = _metadata(info).get("source")
    if declared:
        return str(declared)
    cited = SEED_REFERENCE.search(info.description or "")
    if cited:
        return cited.group(0)
    tp = _strip_optional(info.annotation)
    if tp is str or (get_origin(tp) is list and get_args(tp) == (str,)):
        return "-"
    return "assumption"


def meaning_of(info: FieldInfo) -> str:
    """The description, with the allowed values of a ``Literal`` field appended."""
    text = info.description or ""
    tp = _strip_optional(info.annotation)
    if get_origin(tp) is Literal:
        text = f"{text} (one of: {', '.join(str(v) for v in get_args(tp))})"
    container = container_of(info.annotation)
    if not text and container is not None:
        text = (container[1].__doc__ or "").strip().splitlines()[0]
    return text


def format_value(value: Any) -> str:
    """A default as it would be written in a scenario file."""
    if value is PydanticUndefined:
        return REQUIRED
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return f"{len(value)} entries: {', '.join(value)}" if value else "none"
    if isinstance(value, list):
        if value and isinstance(value[0], BaseModel):
            names = [str(getattr(v, "name", "")) for v in value]
            return f"{len(value)} {'entry' if len(value) == 1 else 'entries'}: {', '.join(names)}"
        return "[" + ", ".join(str(v) for v in value) + "]" if value else "none"
    return str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def prior_text(entry: Entry) -> str:
    """The prior column: declared, default (marked '*') or "-" for none."""
    prior = prior_of(entry.info, entry.default, source_of(entry.info))
    return "-" if prior is None else prior.text()


def _row(entry: Entry) -> list[str]:
    default = format_value(entry.default)
    if container_of(entry.info.annotation) is not None:
        unit = source = prior = "-"
    else:
        unit, source, prior = unit_of(entry.info), source_of(entry.info), prior_text(entry)
    return [f"`{entry.key}`", unit, default, source, prior, meaning_of(entry.info)]


def _dict_defaults(key: str, entries: dict[str, BaseModel]) -> str:
    """The default entries of a dict of models, one row each, one column per field."""
    names = list(type(next(iter(entries.values()))).model_fields)
    rows = [[f"`{name}`", *(format_value(getattr(v, f)) for f in names)]
            for name, v in entries.items()]
    return f"Default entries of `{key}`:\n\n" + _table(rows, ["entry", *names])


def _top(key: str) -> str:
    return re.split(r"[.\[]", key, maxsplit=1)[0]


def _is_section(info: FieldInfo) -> bool:
    """Top-level fields that get a table of their own (nested models and containers)."""
    return container_of(info.annotation) is not None or _is_model(_strip_optional(info.annotation))


def _section(name: str, entries: list[Entry], level: int) -> str:
    """The markdown of one section: title, summary, table, default entries of dicts."""
    info = Scenario.model_fields.get(name)
    if info is None:
        summary = (Scenario.__doc__ or "").strip()
    else:
        model = _strip_optional(info.annotation)
        summary = meaning_of(info) or (model.__doc__ or "").strip().splitlines()[0]
    parts = [f"{'#' * level} `{name}`", summary]
    own = [e for e in entries if e.key == name and container_of(e.info.annotation)]
    rows = [e for e in entries if e not in own]
    if own and not isinstance(own[0].default, dict):
        parts.append(f"Default: {format_value(own[0].default)}.")
    parts.append(_table([_row(e) for e in rows], ["key", "unit", "default", "source", "prior", "meaning"]))
    parts += [_dict_defaults(e.key, e.default) for e in entries
              if container_of(e.info.annotation) and isinstance(e.default, dict) and e.default]
    return "\n\n".join(parts)


def parameter_tables(level: int = 3) -> str:
    """Markdown: one table per section of the scenario (top-level scalars first, as `scenario`)."""
    fields = Scenario.model_fields
    groups: dict[str, list[Entry]] = {}
    for entry in walk():
        top = _top(entry.key)
        groups.setdefault(top if _is_section(fields[top]) else "scenario", []).append(entry)
    order = sorted(groups, key=lambda g: -1 if g == "scenario" else list(fields).index(g))
    return "\n\n".join(_section(g, groups[g], level) for g in order) + "\n"


def replace_between_markers(text: str, body: str) -> str:
    """``text`` with everything between START and END replaced by ``body``."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"markers {START} ... {END} not found in order")
    return f"{text[: start + len(START)]}\n\n{body}\n{text[end:]}"


def _regenerated(path: Path) -> tuple[str, str]:
    """The file's text now and with freshly generated tables."""
    old = path.read_text(encoding="utf-8")
    return old, replace_between_markers(old, parameter_tables())


def update_odd(path: Path = ODD_PATH) -> bool:
    """Rewrite the generated tables in ``path``; return whether the file changed."""
    old, new = _regenerated(path)
    if new != old:
        path.write_text(new, encoding="utf-8")
    return new != old


def is_current(path: Path = ODD_PATH) -> bool:
    """Whether ``path`` already holds the tables the schema generates (reads only)."""
    old, new = _regenerated(path)
    return new == old


def main(argv: list[str] | None = None) -> int:
    """Regenerate the tables; with ``--check`` only compare (exit 1 if out of date)."""
    parser = argparse.ArgumentParser(prog="python -m copsim.scenario.odd_tables",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=ODD_PATH, help="the ODD file")
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if out of date")
    args = parser.parse_args(argv)
    try:
        if args.check:
            if is_current(args.path):
                return 0
            print(f"{args.path}: parameter tables are out of date; "
                  "run python -m copsim.scenario.odd_tables", file=sys.stderr)
            return 1
        changed = update_odd(args.path)
    except (OSError, ValueError) as exc:
        print(f"{args.path}: {exc}", file=sys.stderr)
        return 2
    print(f"{args.path}: {'updated' if changed else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
