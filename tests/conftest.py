"""Shared fixtures: a small valid scenario file and a catalogue of bad ones.

``small_scenario_file`` extends the shipped default (``scenarios/microentre.toml``)
but keeps one region of 400 firms, one group and one simulated year, so a whole
CLI run takes about a second.

``no_process_left_behind`` (automatic, for the whole session) tags every process the
tests start, through an environment variable they inherit, and fails the session if
any tagged process outlives it (a server, a worker, an orphaned child).

``BAD_CASES`` holds every class of bad input the issue lists; the fixture
``bad_scenario`` (parametrised over it) writes a case into ``tmp_path``. A case knows
which file, dotted key and reason its one-line error must name; ``test_config.py``
checks them through ``load_scenario``, ``test_cli.py`` through ``copsim run``.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"
DEFAULT_FILE = SCENARIOS / "microentre.toml"

SMALL_TOML = f"""\
extends = "{DEFAULT_FILE.as_posix()}"
name = "small"

[run]
years = 1.0

[[regions]]
name = "Oulu"
firms = 400
sparsity = 0.4

[[groups]]
name = "Oulu"
region = "Oulu"
start_week = 0
"""


PROCESS_TAG = "COPSIM_TEST_PROCESS_TAG"
PROCESS_GRACE_S = 30.0  # for stopping processes to finish exiting


def tagged_processes(tag: str) -> list[psutil.Process]:
    """Living processes (not this one) whose environment carries ``tag``."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.pid != os.getpid() and process.status() != psutil.STATUS_ZOMBIE \
                    and process.environ().get(PROCESS_TAG) == tag:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def wait_until(condition: Callable[[], bool], seconds: float = PROCESS_GRACE_S) -> bool:
    """Poll ``condition`` until it holds or ``seconds`` passed; whether it held."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _multiprocessing_server(process: psutil.Process) -> bool:
    """This process's multiprocessing fork server or resource tracker: they live as long as
    pytest, by design (a fork server's workers are its children, and are not excused)."""
    try:
        return process.ppid() == os.getpid() and "from multiprocessing." in " ".join(
            process.cmdline())
    except psutil.NoSuchProcess:
        return False


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind() -> Iterator[str]:
    """Fail the session if a process started by a test is still running at its end."""
    tag = f"session-{uuid.uuid4().hex}"
    os.environ[PROCESS_TAG] = tag
    yield tag

    def left() -> list[psutil.Process]:
        return [p for p in tagged_processes(tag) if not _multiprocessing_server(p)]

    if not wait_until(lambda: not left()):
        stray = left()
        described = [f"{p.pid}: {' '.join(p.cmdline())[:120]}" for p in stray]
        for process in stray:
            process.kill()
        pytest.fail(f"the tests left {len(stray)} processes running: {described}")


def write_small_scenario(directory: Path) -> Path:
    """Write ``small.toml`` (400 firms, 1 group, 1 year, extends the default) into ``directory``."""
    path = directory / "small.toml"
    path.write_text(SMALL_TOML, encoding="utf-8")
    return path


@pytest.fixture
def small_scenario_file(tmp_path: Path) -> Path:
    """A valid scenario (400 firms, 1 group, 1 year) that extends the default by absolute path."""
    return write_small_scenario(tmp_path)


@dataclass(frozen=True)
class BadCase:
    """A bad scenario: files to write, the file to load, and what the error must say.

    ``{base}`` in a file's text is replaced by the path of the small valid scenario,
    so a case states only what it breaks. ``blamed`` lists the files the message may
    start with (default: the entry file).
    """

    files: dict[str, str]
    key: str
    reason: str
    entry: str = "bad.toml"
    blamed: tuple[str, ...] = ()


@dataclass(frozen=True)
class BadScenario:
    """A written bad case: ``path`` to load and the expected parts of the message."""

    path: Path
    key: str
    reason: str
    blamed: tuple[Path, ...] = field(default_factory=tuple)

    def assert_reported(self, message: str) -> None:
        """``message`` is one line ``<file>: <key>: <reason...>`` for this case."""
        assert message.strip() and "\n" not in message.strip(), f"not one line: {message!r}"
        assert "Traceback" not in message
        files = [str(p) for p in self.blamed]
        assert any(message.startswith(f"{f}: ") for f in files), f"{message!r}: no file of {files}"
        rest = message.split(": ", 1)[1]
        assert rest.startswith(f"{self.key}: "), f"{message!r} does not name key {self.key!r}"
        assert self.reason in rest, f"{message!r} does not state reason {self.reason!r}"


def _case(text: str, key: str, reason: str) -> BadCase:
    return BadCase({"bad.toml": 'extends = "{base}"\n' + text}, key, reason)


BAD_CASES: dict[str, BadCase] = {
    "malformed-toml": BadCase({"bad.toml": 'name = "unterminated\n[run]\n'},
                              "(syntax)", "at line 1"),
    "unknown-key-top": _case("colour = 'red'\n", "colour", "Extra inputs are not permitted"),
    "unknown-key-nested": _case("[learning]\nspeed = 0.2\n", "learning.speed",
                                "Extra inputs are not permitted"),
    "wrong-type": _case('[run]\nyears = "five"\n', "run.years", "valid number"),
    "negative-firms": _case("[[regions]]\nname = 'Oulu'\nfirms = -5\n", "regions.0.firms",
                            "greater than or equal to 1"),
    "cadence-zero": _case("[[groups]]\nname = 'g'\nregion = 'Oulu'\ncadence_weeks = 0\n",
                          "groups.0.cadence_weeks", "greater than or equal to 1"),
    "overlapping-phases": _case(
        "[[funding.phases]]\nname = 'a'\nstart_week = 0\nend_week = 100\n"
        "[[funding.phases]]\nname = 'b'\nstart_week = 50\n",
        "funding.phases.1", "overlaps phase 'a'"),
    "years-zero": _case("[run]\nyears = 0\n", "run.years", "greater than 0"),
    "years-negative": _case("[run]\nyears = -1\n", "run.years", "greater than 0"),
    "group-end-before-start": _case(
        "[[groups]]\nname = 'g'\nregion = 'Oulu'\nstart_week = 10\nend_week = 5\n",
        "groups.0.end_week", "must be after start_week"),
    "phase-end-before-start": _case(
        "[[funding.phases]]\nname = 'a'\nstart_week = 10\nend_week = 5\n",
        "funding.phases.0.end_week", "must be after start_week"),
    "group-unknown-region": _case("[[groups]]\nname = 'g'\nregion = 'Atlantis'\n",
                                  "groups.0.region", "unknown name 'Atlantis'"),
    "phase-unknown-facilitator": _case(
        "[[funding.phases]]\nname = 'a'\nfacilitators = ['wizard']\n",
        "funding.phases.0.facilitators", "unknown name 'wizard'"),
    "unknown-activity": _case("[activities.dancing]\nprobability = 0.5\neffect = 0.1\n",
                              "activities.dancing", "unknown activity"),
    "missing-file": BadCase({}, "(file)", "no such scenario file", entry="missing.toml"),
    "extends-cycle": BadCase(
        {"bad.toml": 'extends = "loop.toml"\n', "loop.toml": 'extends = "bad.toml"\n'},
        "extends", "cycle", blamed=("bad.toml", "loop.toml")),
}


def write_bad_case(case: BadCase, directory: Path, base: Path) -> BadScenario:
    """Write a case's files into ``directory`` (``{base}`` -> ``base``); return what to expect."""
    for name, text in case.files.items():
        (directory / name).write_text(text.replace("{base}", base.as_posix()), encoding="utf-8")
    blamed = tuple(directory / name for name in (case.blamed or (case.entry,)))
    return BadScenario(directory / case.entry, case.key, case.reason, blamed)


@pytest.fixture(params=list(BAD_CASES.values()), ids=list(BAD_CASES))
def bad_scenario(
    request: pytest.FixtureRequest, tmp_path: Path, small_scenario_file: Path
) -> BadScenario:
    """One bad scenario written into ``tmp_path`` (parametrised over ``BAD_CASES``)."""
    return write_bad_case(request.param, tmp_path, small_scenario_file)
