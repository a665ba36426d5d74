"""Start-up: help, ``validate`` and argument errors load none of the heavy libraries.

Each case runs the command in a fresh interpreter with ``-X importtime``, which lists
every module the process imported, and checks the list; the time itself is measured
in ``benchmarks/startup.py``, not asserted here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DEFAULT_FILE

HEAVY = {"mesa", "pandas", "numba", "scipy", "matplotlib", "solara"}
SUBCOMMANDS = ("run", "validate", "compare", "sweep", "analyze", "dashboard", "workshop")


def imported_by(*args: str, code: int = 0) -> set[str]:
    """Top-level names of every module ``python -X importtime ARGS`` imported."""
    done = subprocess.run([sys.executable, "-X", "importtime", *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == code, done.stderr[-2000:]
    return {line.split("|")[-1].strip().split(".")[0]
            for line in done.stderr.splitlines() if line.startswith("import time:")}


def command(*args: str, code: int = 0) -> set[str]:
    return imported_by("-m", "copsim.cli", *args, code=code)


def test_the_check_sees_heavy_imports() -> None:
    """The same check on the public model class finds Mesa, pandas and numba."""
    assert {"mesa", "pandas", "numba"} <= imported_by("-c", "from copsim import CopModel")


def test_import_copsim_is_cheap() -> None:
    assert not imported_by("-c", "import copsim") & (HEAVY | {"numpy", "pydantic"})


@pytest.mark.parametrize("args", [("--help",), *((name, "--help") for name in SUBCOMMANDS)],
                         ids=" ".join)
def test_help_imports_no_heavy_library(args: tuple[str, ...]) -> None:
    assert not command(*args) & HEAVY


def test_validate_imports_no_heavy_library() -> None:
    assert not command("validate", str(DEFAULT_FILE)) & HEAVY


def test_validate_of_a_bad_file_imports_no_heavy_library(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(f'extends = "{DEFAULT_FILE.as_posix()}"\n[run]\nyears = -1\n', encoding="utf-8")
    assert not command("validate", str(bad), code=2) & HEAVY


@pytest.mark.parametrize("args", [("frobnicate",), ("run", "--seed", "-1"),
                                  ("run", "--engine", "jax"), ("compare",),
                                  ("sweep", "x.toml", "--workers", "0")], ids=" ".join)
def test_argument_errors_import_no_heavy_library(args: tuple[str, ...]) -> None:
    assert not command(*args, code=2) & HEAVY
