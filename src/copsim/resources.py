"""The files copsim ships (scenarios, shocks, experiments, trials, calibration targets,
the dashboard app).

The repository's top-level folders (``scenarios/``, ``experiments/``, ``trials/``,
``calibration/``, ``dashboards/``) are the one source of truth. A wheel carries copies of
them under ``copsim/_data/`` (hatch's ``force-include`` in pyproject.toml: shipping another
folder is one line there, plus a name here); from a checkout (an editable install) the
repository folders themselves are used, so an edit shows at once. Command-line names
resolve first as paths, then as shipped names.
"""

from __future__ import annotations

import subprocess
import tomllib
from functools import cache
from importlib.resources import files
from pathlib import Path

PACKAGE_DATA = "_data"  # copsim/_data/<folder> in a wheel
SCENARIOS, SHOCKS, EXPERIMENTS, DASHBOARDS = "scenarios", "scenarios/shocks", "experiments", "dashboards"
CALIBRATION, TRIALS = "calibration", "trials"
CHECKOUT = Path(__file__).resolve().parents[2]  # src/copsim/resources.py -> the repository


def _packaged(name: str) -> Path | None:
    """The wheel's copy of a folder (None from a checkout)."""
    shipped = files("copsim") / PACKAGE_DATA / name
    return shipped if isinstance(shipped, Path) and shipped.is_dir() else None


def folder(name: str) -> Path:
    """A shipped folder by its repository path, e.g. ``scenarios`` or ``scenarios/shocks``."""
    return _packaged(name) or CHECKOUT / name


def shipped_names(name: str) -> list[str]:
    """Names of the TOML files shipped in a folder (without ``.toml``), sorted."""
    return sorted(p.stem for p in folder(name).glob("*.toml"))


def shipped(file_name: str, name: str) -> Path | None:
    """The shipped file ``file_name`` (``.toml`` optional) in folder ``name``, if there is one."""
    path = Path(file_name)
    if path.parent != Path("."):
        return None
    found = folder(name) / (path.name if path.suffix == ".toml" else f"{path.name}.toml")
    return found if found.is_file() else None


def resolve(name_or_path: str | Path, name: str) -> Path:
    """An existing file as given; else the shipped file of that name in folder ``name``.

    ``microentre`` and ``microentre.toml`` both name a shipped file; a name nothing
    matches comes back as given, so the error names what the user typed.
    """
    path = Path(name_or_path)
    return path if path.is_file() else shipped(str(path), name) or path


def description(path: Path) -> str:
    """A file's one-line description: its ``description`` key, else its first comment line."""
    text = path.read_text(encoding="utf-8")
    try:
        described = tomllib.loads(text).get("description")
    except tomllib.TOMLDecodeError:
        described = None
    if isinstance(described, str) and described.strip():
        return described.strip()
    comments = (line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("#"))
    return next((c for c in comments if c), "")


def from_checkout() -> bool:
    """Whether this copsim runs from a source checkout rather than an installed wheel."""
    return _packaged("scenarios") is None and (CHECKOUT / ".git").exists()


@cache
def git_commit() -> str | None:
    """The checkout's commit (``+dirty`` with uncommitted changes); None from a wheel.

    Recorded in run.json so that a run made between releases can be traced to its code.
    """
    if not from_checkout():
        return None
    try:
        commit = _git("rev-parse", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}+dirty" if dirty else commit


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(CHECKOUT), *args], capture_output=True, text=True,
                          check=True, timeout=10).stdout.strip()
