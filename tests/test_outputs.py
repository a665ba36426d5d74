"""Output directories: copsim replaces only what it wrote itself, refuses the rest
before running, and cleans up or finishes what a killed write left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import REPO, write_small_scenario
from test_cli import copsim_cli, error_line, leftovers, snapshot

import copsim
import copsim.studies.compare
import copsim.engine.runner
import copsim.studies.sweep
from copsim.cli import main
from copsim.errors import OutputError
from copsim.outputs.files import prepare_output
from copsim.engine.runner import RUN_OUTPUT

EXPERIMENT = REPO / "experiments" / "facilitation_vs_funding.toml"


def run_marker(directory: Path, **extra: str) -> None:
    """Make ``directory`` look like a finished ``copsim run`` (its marker and a summary)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "run.json").write_text(json.dumps({"copsim_version": copsim.__version__, **extra}))
    (directory / "summary.json").write_text("{}")


# --- what may be replaced ---------------------------------------------------------------------


@pytest.mark.parametrize("target", [".", "..", "~", "/"])
def test_special_directories_are_refused_and_left_alone(tmp_path: Path, target: str) -> None:
    home = tmp_path / "home"
    thesis = home / "thesis"
    thesis.mkdir(parents=True)
    (thesis / "data.csv").write_text("a,b\n1,2\n")
    run_marker(thesis / "sub")  # even a copsim run directory is not replaced as '.'
    cwd = thesis / "sub" if target in (".", "..") else thesis
    before = snapshot(home)
    proc = subprocess.run([sys.executable, "-m", "copsim.cli", "run", "--population", "50",
                           "--years", "0.1", "--quiet", "--out", target],
                          cwd=cwd, env={**os.environ, "HOME": str(home)},
                          capture_output=True, text=True, timeout=300, check=False)
    line = error_line(proc)
    assert line.startswith(f"{target}: (output): is ")
    assert "outputs go into a directory of their own" in line
    assert snapshot(home) == before


def test_a_directory_with_other_files_is_refused(tmp_path: Path, small_scenario_file: Path) -> None:
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "data.csv").write_text("precious")
    before = snapshot(tmp_path)
    proc = copsim_cli("run", small_scenario_file, "--out", out, "--quiet", cwd=tmp_path)
    assert error_line(proc) == (f"{out}: (output): holds data.csv, which copsim run does not write; "
                                "copsim replaces only its own run outputs: choose a new or empty "
                                "directory")
    assert snapshot(tmp_path) == before


def test_compare_refuses_a_directory_with_a_users_file(tmp_path: Path) -> None:
    out = tmp_path / "DIR"
    out.mkdir()
    (out / "data.csv").write_text("precious")
    before = snapshot(tmp_path)
    proc = copsim_cli("compare", "ekollega", "ekollega_continued", "--reps", 2, "--years", 0.2,
                      "--out", out, "--quiet", cwd=tmp_path)
    assert "holds data.csv, which copsim compare does not write" in error_line(proc)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "make",
    [lambda out: (run_marker(out), (out / "notes.txt").write_text("mine")),
     lambda out: (out.mkdir(), (out / "run.json").write_text('{"seed": 1}')),
     lambda out: (out.mkdir(), (out / "run.json").write_text("not json")),
     lambda out: (out.mkdir(), (out / "compare.json").write_text(
         json.dumps({"copsim_version": copsim.__version__})))],
    ids=["copsim-run-plus-a-user-file", "marker-without-copsim", "marker-not-json",
         "another-commands-output"])
def test_only_a_pure_copsim_run_directory_is_replaceable(tmp_path: Path, make: object) -> None:
    out = tmp_path / "out"
    make(out)  # type: ignore[operator]
    before = snapshot(tmp_path)
    with pytest.raises(OutputError, match=r"copsim replaces only its own run outputs"):
        prepare_output(out, RUN_OUTPUT)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("make", [lambda out: out.mkdir(), run_marker], ids=["empty", "earlier-run"])
def test_empty_and_earlier_run_directories_are_replaceable(tmp_path: Path, make: object) -> None:
    out = tmp_path / "out"
    make(out)  # type: ignore[operator]
    prepare_output(out, RUN_OUTPUT)


# --- refused before anything runs -------------------------------------------------------------


def _must_not_run(*args: object, **kwargs: object) -> None:
    raise AssertionError("the simulation started although the output cannot be written")


@pytest.mark.parametrize("command", ["run", "compare", "sweep", "analyze"])
def test_unwritable_output_is_refused_before_the_simulation(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        command: str) -> None:
    """``/proc`` accepts no new directory, even for root (whom permission bits do not stop)."""
    monkeypatch.setattr(copsim.engine.runner, "simulate", _must_not_run)
    monkeypatch.setattr(copsim.studies.sweep, "_run_tasks", _must_not_run)
    out = "/proc/copsim-out"
    argv = {"run": ["run", str(write_small_scenario(tmp_path)), "--out", out],
            "compare": ["compare", "ekollega", "ekollega_continued", "--reps", "2", "--out", out],
            "sweep": ["sweep", str(EXPERIMENT), "--out", out],
            "analyze": ["analyze", "/proc"]}[command]
    monkeypatch.setattr(copsim.studies.compare, "run_comparison", _must_not_run)
    if command == "analyze":  # a sweep directory whose analysis/ cannot be created
        monkeypatch.setattr("copsim.studies.analysis.load_sweep", lambda out: ({"experiment": {
            "design": "grid"}, "runs": 0}, None))
    with pytest.raises(SystemExit) as info:
        main([*argv, "--quiet"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("copsim: error: /proc/")
    assert "(output): cannot create a directory in /proc (" in err


def test_sweep_refusing_a_directory_creates_no_lock(tmp_path: Path) -> None:
    out = tmp_path / "results"
    out.mkdir()
    (out / "data.csv").write_text("precious")
    proc = copsim_cli("sweep", EXPERIMENT, "--out", out, "--quiet", cwd=tmp_path)
    assert "holds data.csv but no sweep manifest" in error_line(proc)
    assert sorted(p.name for p in out.iterdir()) == ["data.csv"]


# --- killed writes ------------------------------------------------------------------------------

KILLED_WRITER = textwrap.dedent("""
    import json, os, shutil, signal, sys
    from pathlib import Path
    import copsim
    from copsim.outputs import files
    from copsim.engine.runner import RUN_OUTPUT

    out, stage = Path(sys.argv[1]), sys.argv[2]
    replace, renames = os.replace, []

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    def counting_replace(src, dst):
        renames.append(dst)
        if stage == "between-renames" and len(renames) == 2:
            die()
        replace(src, dst)

    os.replace = counting_replace
    if stage == "before-cleanup":
        shutil.rmtree = lambda *args, **kwargs: die()
    with files.atomic_directory(out, RUN_OUTPUT) as tmp:
        (tmp / "summary.json").write_text("{}")
        (tmp / "run.json").write_text(json.dumps({"copsim_version": copsim.__version__,
                                                  "generation": "new"}))
        if stage == "writing":
            die()
""")


def killed_write(out: Path, stage: str) -> None:
    """Write a run into ``out`` in a process that is killed (SIGKILL) at ``stage``."""
    proc = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(out), stage],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == -9, proc.stderr


def generation(out: Path) -> str | None:
    return json.loads((out / "run.json").read_text()).get("generation")


@pytest.mark.parametrize(
    ("stage", "earlier", "left", "target_left", "after"),
    [("writing", False, [".out.partial-"], False, None),
     ("writing", True, [".out.partial-"], True, "old"),
     ("between-renames", True, [".out.old-", ".out.partial-"], False, "new"),
     ("before-cleanup", True, [".out.old-"], True, "new")])
def test_next_run_cleans_up_or_finishes_a_killed_write(
        tmp_path: Path, stage: str, earlier: bool, left: list[str], target_left: bool,
        after: str | None) -> None:
    out = tmp_path / "out"
    if earlier:
        run_marker(out, generation="old")
    killed_write(out, stage)
    names = sorted(p.name for p in tmp_path.iterdir() if p.name != "out")
    assert [n.split("-")[0] + "-" for n in names] == left  # what the kill left behind
    assert out.exists() == target_left

    prepare_output(out, RUN_OUTPUT)  # what the next run to the same target does first

    assert leftovers(tmp_path) == []
    assert (generation(out) if out.exists() else None) == after


def test_a_whole_run_after_a_kill_between_the_renames(tmp_path: Path) -> None:
    write_small_scenario(tmp_path)
    run_marker(tmp_path / "out", generation="old")
    killed_write(tmp_path / "out", "between-renames")
    proc = copsim_cli("run", "small.toml", "--years", 0.2, "--out", "out", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert leftovers(tmp_path) == []
    assert {p.name for p in (tmp_path / "out").iterdir()} == set(RUN_OUTPUT.files)


def test_leftovers_of_a_live_writer_are_kept_and_old_style_ones_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    live = tmp_path / f".out.partial-{os.getppid()}-abc"  # the parent of pytest is alive
    legacy = tmp_path / ".out.partial-k3j_x9qa"  # copsim before process ids were in the name
    live.mkdir()
    legacy.mkdir()
    prepare_output(out, RUN_OUTPUT)
    assert live.exists() and not legacy.exists()
