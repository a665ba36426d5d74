"""Reading scenario files: TOML in, a validated :class:`Scenario` out.

A file may name a base with ``extends = "other.toml"`` (resolved relative to the
file); tables merge key by key and arrays replace, except that a file that
renames its scenario without giving a ``title`` does not inherit its base's. Overrides are dotted keys with
TOML values on the command line (``run.years=2``) or a mapping from Python
(``{"run.years": 2}``); both go through the same path and the same checks, and are
set on the resolved scenario (so a table's other keys keep their values). A file may
start with a UTF-8 byte order mark; an empty file is an error, not the defaults. Every
problem becomes one :class:`ScenarioError` line: ``<file>: <dotted.key>: <reason>``.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from copsim.errors import ScenarioError
from copsim.scenario.library import DEFAULT_SCENARIO, resolve_base, resolve_scenario_path
from copsim.scenario.schema import KeyedValueError, Scenario

MAX_EXTENDS_DEPTH = 8

# ``--set`` strings (``KEY=VALUE``, TOML values) or a mapping of dotted keys to values.
Overrides = Iterable[str] | Mapping[str, Any]


def load_scenario(
    name_or_path: str | Path = DEFAULT_SCENARIO, overrides: Overrides = ()
) -> Scenario:
    """Read, merge and validate a scenario file; raise ScenarioError on any problem."""
    path = resolve_scenario_path(name_or_path)
    data = _read_with_bases(path, depth=0)
    if overrides:  # set on the resolved scenario, so a table's other keys keep their values
        data = validate_scenario(data, source=str(path)).model_dump()
    apply_overrides(data, overrides, str(path))
    return validate_scenario(data, source=str(path))


def with_overrides(scenario: Scenario, overrides: Overrides, source: str) -> Scenario:
    """A resolved scenario with overrides applied and validated again (errors name ``source``)."""
    data = scenario.model_dump()
    apply_overrides(data, overrides, source)
    return validate_scenario(data, source=source)


def validate_scenario(data: Mapping[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a plain dict into a Scenario, reporting the first problem as one line."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(first_error_line(exc, source)) from None


def first_error_line(exc: ValidationError, source: str) -> str:
    """The first problem of a pydantic error as one line: ``source: dotted.key: reason``."""
    error = exc.errors(include_url=False)[0]
    loc = [str(part) for part in error["loc"]]
    cause = (error.get("ctx") or {}).get("error")
    message = error["msg"]
    if isinstance(cause, KeyedValueError):
        loc += cause.key.split(".")
        message = str(cause)
    message = message.removeprefix("Value error, ")
    key = ".".join(loc) or "(top level)"
    return f"{source}: {key}: {message}"


def read_toml(path: Path, what: str = "scenario") -> dict[str, Any]:
    """A TOML file as a dict; a missing, unreadable or invalid file is a one-line error."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: (file): no such {what} file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: (file): cannot be read ({exc.__class__.__name__})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: (syntax): {exc}") from None
    if not data:
        raise ScenarioError(f"{path}: (file): is empty")
    return data


def _read_with_bases(path: Path, depth: int) -> dict[str, Any]:
    if depth > MAX_EXTENDS_DEPTH:
        raise ScenarioError(f"{path}: extends: chain deeper than {MAX_EXTENDS_DEPTH} (a cycle?)")
    data = read_toml(path)
    base_name = data.pop("extends", None)
    if base_name is None:
        return data
    if not isinstance(base_name, str):
        raise ScenarioError(f"{path}: extends: must be a file name")
    base = _read_with_bases(resolve_base(base_name, path.parent), depth + 1)
    if "name" in data and "title" not in data:
        base.pop("title", None)  # a title belongs to its name: a renamed scenario has none
    return deep_merge(base, data)


def deep_merge(base: dict[str, Any], delta: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; any other value (arrays included) replaces."""
    merged = dict(base)
    for key, value in delta.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def parse_override(item: str, source: Path | str = "<override>") -> tuple[list[str], Any]:
    """Split ``a.b.c=<toml value>`` into its key path and value (bare words are strings)."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ScenarioError(f"{source}: {item}: an override is KEY=VALUE")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key.strip().split("."), value


def set_dotted(data: dict[str, Any], parts: list[str], value: Any, source: str) -> None:
    """Set a value at a dotted path, through tables and array indices."""
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError(f"{source}: {'.'.join(parts[: i + 1])}: no such index")
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.setdefault(part, {})
        if not isinstance(node, dict | list):
            raise ScenarioError(f"{source}: {'.'.join(parts[: i + 1])}: is a value, not a table")
    last = parts[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise ScenarioError(f"{source}: {'.'.join(parts)}: no such index")
        node[int(last)] = value
    elif isinstance(value, Mapping) and isinstance(node.get(last), Mapping):
        node[last] = deep_merge(dict(node[last]), value)  # a table merges, as in files
    else:
        node[last] = value


def apply_overrides(data: dict[str, Any], overrides: Overrides, source: str) -> None:
    """Set every override in ``data`` (plain scenario data, validated afterwards)."""
    if isinstance(overrides, Mapping):
        items = [(_dotted_key(key, source), value) for key, value in overrides.items()]
    elif isinstance(overrides, str):
        raise ScenarioError(f"{source}: {overrides}: overrides are a list of KEY=VALUE "
                            "strings or a mapping of keys to values, not one string")
    else:
        items = [parse_override(item, source) for item in overrides]
    for parts, value in items:
        set_dotted(data, parts, value, source)


def _dotted_key(key: Any, source: str) -> list[str]:
    if not isinstance(key, str) or not key.strip() or "" in key.strip().split("."):
        raise ScenarioError(f"{source}: {key!r}: an override key is a dotted scenario key "
                            "such as 'learning.rate'")
    return key.strip().split(".")


def scale_population(scenario: Scenario, population: int) -> Scenario:
    """The same scenario with regions' firm counts scaled to a total population."""
    if population < 1:
        raise ScenarioError(f"--population: {population}: must be at least 1")
    total = scenario.population
    counts = [max(1, round(r.firms * population / total)) for r in scenario.regions]
    counts[-1] = max(1, counts[-1] + population - sum(counts))
    regions = [r.model_copy(update={"firms": n}) for r, n in zip(scenario.regions, counts, strict=True)]
    return validate_scenario(
        {**scenario.model_dump(), "regions": [r.model_dump() for r in regions]}, "--population"
    )


def with_years(scenario: Scenario, years: float) -> Scenario:
    """The same scenario with another horizon (validated like the file value)."""
    data = scenario.model_dump()
    data["run"]["years"] = years
    return validate_scenario(data, "--years")


def scenario_hash(scenario: Scenario) -> str:
    """A stable fingerprint of a resolved scenario, for provenance."""
    canonical = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
