"""``pip install copsim`` runs every command; shipped files resolve from a wheel and a checkout.

The first part checks the resolution rules in this checkout (names resolve first as paths,
then as shipped names; the repository folders are used, not copies). The second builds the
wheel, installs it into a fresh virtual environment (no system site-packages) with the
dependencies pinned by requirements.lock, and runs each command once, at tiny sizes, from
a temporary directory. The dependencies come from a wheelhouse in pytest's cache that
``pip wheel`` fills once per lock file, so later runs install offline.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from conftest import write_small_scenario

import copsim
from copsim import resources
from copsim.cli import main
from copsim.cli.scenarios import LIBRARY
from copsim.workshop.loadtest import free_port, wait_until_up
from test_startup import HEAVY, command

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements.lock"
PYPROJECT = REPO / "pyproject.toml"
SHIPPED = sorted(p.stem for kind in LIBRARY for p in (REPO / kind.folder).glob("*.toml"))
START_SECONDS = 180  # a server must answer within this (a hang guard, not a speed check)


# --- resolution in this checkout ---------------------------------------------------------------


def test_checkout_uses_the_repository_folders() -> None:
    for name in (resources.SCENARIOS, resources.SHOCKS, resources.EXPERIMENTS, resources.TRIALS,
                 resources.CALIBRATION, resources.DASHBOARDS):
        assert resources.folder(name) == REPO / name
    assert resources.from_checkout()


def test_wheel_ships_each_folder_under_its_own_name() -> None:
    forced = tomllib.loads(PYPROJECT.read_text())["tool"]["hatch"]["build"]["targets"]["wheel"][
        "force-include"]
    assert forced == {name: f"copsim/{resources.PACKAGE_DATA}/{name}" for name in forced}
    used = {resources.SCENARIOS, resources.EXPERIMENTS, resources.TRIALS, resources.CALIBRATION,
            resources.DASHBOARDS}
    assert used <= set(forced)  # shocks ship inside scenarios/


def test_names_resolve_first_as_paths_then_as_shipped_names(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shipped = REPO / "scenarios" / "microentre.toml"
    assert resources.resolve("microentre", "scenarios") == shipped
    assert resources.resolve("microentre.toml", "scenarios") == shipped
    (tmp_path / "microentre.toml").write_text("name = 'mine'\n")
    assert resources.resolve("microentre.toml", "scenarios") == Path("microentre.toml")
    assert resources.resolve("nosuch", "scenarios") == Path("nosuch")
    assert resources.resolve("sub/microentre", "scenarios") == Path("sub/microentre")
    assert resources.resolve("pandemic", "scenarios/shocks") == REPO / "scenarios/shocks/pandemic.toml"


def test_a_copy_extends_the_base_beside_it_else_the_shipped_one(tmp_path: Path) -> None:
    copy = tmp_path / "ecosystem.toml"
    copy.write_bytes((REPO / "scenarios" / "ecosystem.toml").read_bytes())
    assert copsim.load_scenario(copy).population == copsim.load_scenario("microentre").population
    (tmp_path / "microentre.toml").write_text(
        (REPO / "scenarios" / "microentre.toml").read_text().replace("firms = 900", "firms = 901"))
    assert copsim.load_scenario(copy).population == copsim.load_scenario("microentre").population + 1


def test_scenarios_lists_every_shipped_file_with_its_description(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name in SHIPPED:
        line = next(line for line in lines if line.split()[:1] == [name])
        assert len(line.split(None, 1)[1]) > 20, line
    micro = next(line for line in lines if line.split()[:1] == ["microentre"])
    assert micro.split(None, 1)[1] == copsim.load_scenario("microentre").description
    pandemic = next(line for line in lines if line.split()[:1] == ["pandemic"])
    assert pandemic.split(None, 1)[1].startswith("A pandemic-like demand shock")


def test_copy_writes_an_editable_copy_and_never_overwrites(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "mine" / "sobol_core.toml"
    assert main(["scenarios", "copy", "sobol_core", str(tmp_path / "mine")]) == 0
    assert target.read_bytes() == (REPO / "experiments" / "sobol_core.toml").read_bytes()
    assert f"copsim sweep {target}" in capsys.readouterr().out
    target.write_text("# edited\n")
    for args in (["sobol_core", str(tmp_path / "mine")], ["nosuch", str(tmp_path)]):
        with pytest.raises(SystemExit) as exit_:
            main(["scenarios", "copy", *args])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("copsim: error: ")
    assert target.read_text() == "# edited\n"
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["sobol_core.toml"]


def test_version_and_run_json_say_which_code_ran(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    commit = resources.git_commit()
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    assert commit is not None and commit.removesuffix("+dirty") == head
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out == f"copsim {copsim.__version__} (git {commit})\n"
    out = tmp_path / "run"
    assert main(["run", str(write_small_scenario(tmp_path)), "--years", "0.1", "--quiet",
                 "--out", str(out)]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["git_commit"] == commit and run["copsim_version"] == copsim.__version__


@pytest.mark.parametrize("args", [("--version",), ("scenarios",)], ids=" ".join)
def test_version_and_listing_load_no_heavy_library(args: tuple[str, ...]) -> None:
    assert not HEAVY & command(*args)


# --- the built wheel in a fresh virtual environment -------------------------------------------


@dataclass(frozen=True)
class Installed:
    """A virtual environment with the wheel installed, and an empty directory to work in."""

    venv: Path
    work: Path
    version: str

    def env(self) -> dict[str, str]:
        """Nothing of the development environment: no PYTHONPATH, the venv first on PATH."""
        return {"PATH": f"{self.venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
                "HOME": os.environ.get("HOME", str(self.work)), "LANG": "C.UTF-8",
                "MPLBACKEND": "Agg"}

    def run(self, *args: object, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``copsim ARGS`` of the venv in the work directory."""
        proc = subprocess.run([self.venv / "bin" / "copsim", *map(str, args)], cwd=self.work,
                              env=self.env(), capture_output=True, text=True, timeout=600)
        if check:
            assert proc.returncode == 0, proc.stderr
        return proc

    def python(self, code: str) -> str:
        """Run Python code in the venv (work directory); return its output."""
        proc = subprocess.run([self.venv / "bin" / "python", "-c", code], cwd=self.work,
                              env=self.env(), capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    @contextmanager
    def serve(self, *args: object) -> Iterator[subprocess.Popen[str]]:
        """Start ``copsim ARGS`` (a server) in its own session; stop it and all its children."""
        server = subprocess.Popen([self.venv / "bin" / "copsim", *map(str, args)], cwd=self.work,
                                  env=self.env(), stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            yield server
        finally:
            os.killpg(server.pid, signal.SIGTERM)  # copsim dashboard runs solara as a child
            server.wait(timeout=60)


def wait_for_page(url: str) -> bytes:
    """The page once the server answers (bounded by START_SECONDS, a hang guard)."""
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as page:
                return page.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def pip(*args: object) -> None:
    """The development environment's pip (its configuration: indexes, certificates)."""
    subprocess.run([sys.executable, "-m", "pip", "--quiet", *map(str, args)], check=True,
                   timeout=1800)


def wheelhouse(cache: pytest.Cache, wheel: Path) -> Path:
    """The wheel's dependencies at the lock's versions as wheels, fetched once per lock and wheel."""
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        requires = [line for line in archive.read(metadata).decode().splitlines()
                    if line.startswith("Requires-Dist:")]
    key = hashlib.sha256("\n".join([LOCK.read_text(), *requires]).encode()).hexdigest()[:16]
    house = cache.mkdir(f"wheelhouse-{key}")
    done = house / "complete"
    if not done.exists():
        pip("wheel", "--wheel-dir", house, "--constraint", LOCK, wheel)  # sdists built once
        for own in house.glob("copsim-*.whl"):
            own.unlink()
        done.touch()
    return house


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Installed:
    """The wheel built from this checkout, installed offline into a fresh venv."""
    root = tmp_path_factory.mktemp("package")
    pip("wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", root / "dist", REPO)
    wheel = next((root / "dist").glob("copsim-*.whl"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    house = wheelhouse(request.config.cache, wheel)
    pip("--python", venv / "bin" / "python", "install", "--no-compile", "--no-index",
        "--find-links", house, "--constraint", LOCK, wheel)
    (root / "work").mkdir()
    return Installed(venv, root / "work", wheel.name.split("-")[1])


def test_installed_copsim_reads_its_own_files_and_is_no_checkout(installed: Installed) -> None:
    site = installed.python("import copsim.resources as r; print(r.folder('scenarios'), "
                            "r.from_checkout(), r.git_commit())").split()
    assert Path(site[0]).is_relative_to(installed.venv) and site[1:] == ["False", "None"]
    assert not (installed.venv / "pyvenv.cfg").read_text().count("include-system-site-packages = true")


def test_installed_version_comes_from_the_metadata(installed: Installed) -> None:
    assert installed.run("--version").stdout == f"copsim {installed.version}\n"
    assert installed.python("import copsim; print(copsim.__version__)").strip() == installed.version


def test_installed_scenarios_lists_and_copies(installed: Installed) -> None:
    listed = installed.run("scenarios").stdout.splitlines()
    assert [n for n in SHIPPED if any(line.split()[:1] == [n] for line in listed)] == SHIPPED
    installed.run("scenarios", "copy", "ecosystem")
    again = installed.run("scenarios", "copy", "ecosystem", check=False)
    assert again.returncode == 2 and again.stderr.count("\n") == 1 and "already exists" in again.stderr


def test_installed_run(installed: Installed) -> None:
    installed.run("run", "--population", 500, "--years", 0.25, "--quiet")  # the shipped default
    run = json.loads((installed.work / "runs" / "microentre-seed1" / "run.json").read_text())
    assert run["copsim_version"] == installed.version and run["git_commit"] is None
    # The copy of ecosystem.toml extends microentre.toml: not beside it, so the shipped one.
    installed.run("run", "ecosystem.toml", "--population", 500, "--years", 0.25, "--quiet",
                  "--engine", "python")
    assert (installed.work / "runs" / "ecosystem-seed1" / "summary.json").is_file()


def test_installed_compare(installed: Installed) -> None:
    installed.run("compare", "microentre", "self_organised", "--shock", "plant_closure",
                  "--reps", 2, "--years", 2.1, "--workers", 1, "--quiet")  # the shock: week 104
    out = installed.work / "runs" / "compare-microentre-self_organised-plant_closure"
    assert {"table.csv", "report.html", "compare.json"} <= {p.name for p in out.iterdir()}


def test_installed_sweep_and_analyze(installed: Installed) -> None:
    installed.run("scenarios", "copy", "facilitation_vs_funding")
    experiment = installed.work / "facilitation_vs_funding.toml"
    experiment.write_text("population = 400\nyears = 0.25\n" + experiment.read_text())
    installed.run("sweep", experiment.name, "--limit", 2, "--workers", 1, "--quiet")
    results = pd.read_parquet(installed.work / "sweeps" / "facilitation_vs_funding" / "results.parquet")
    assert (results["status"] == "ok").sum() == 2
    assert "2 of 72 runs finished" in installed.run("analyze", "sweeps/facilitation_vs_funding").stdout


def test_installed_trial_by_shipped_name(installed: Installed) -> None:
    text = installed.python("import copsim.resources as r; "
                            "print((r.folder('trials') / 'peer_groups_rct.toml').read_text())")
    tiny = installed.work / "tiny_trial.toml"
    tiny.write_text(text.replace("population = 2000", "population = 400")
                    .replace("replicates = 100", "replicates = 2"))
    installed.run("trial", tiny.name, "--sizes", "100", "--workers", 1, "--quiet")
    out = installed.work / "trials-out" / "tiny_trial" / "analysis"
    assert {"table.md", "power.csv", "report.html"} <= {p.name for p in out.iterdir()}
    shipped = installed.run("trial", "peer_groups_rct", "--reps", 1, "--sizes", "100",
                            "--workers", 1, "--quiet", "--out", "shipped_trial")
    assert shipped.returncode == 0 and (installed.work / "shipped_trial" / "analysis").is_dir()


def test_installed_calibrate_finds_the_shipped_targets(installed: Installed) -> None:
    found = installed.python("from copsim import resources; "
                             "from copsim.studies.targets import load_targets; "
                             "print(len(load_targets(resources.resolve('targets', "
                             "resources.CALIBRATION)).targets))")
    assert int(found) >= 3
    missing = installed.run("calibrate", "no_such_targets", check=False)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    assert "no_such_targets" in missing.stderr


def test_installed_dashboard(installed: Installed) -> None:
    app = installed.python("import copsim.resources as r; print(r.folder('dashboards') / 'app.py')")
    assert "Page" in installed.python(f"import runpy; print(*runpy.run_path({app.strip()!r}))")
    port = free_port()
    with installed.serve("dashboard", "--port", port):
        assert b"solara" in wait_for_page(f"http://127.0.0.1:{port}/").lower()


def test_installed_workshop(installed: Installed) -> None:
    port = free_port()
    with installed.serve("workshop", "--port", port, "--rounds", 1) as server:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert first.startswith(f"Participants: http://127.0.0.1:{port}/  join code: "), first
        wait_until_up(port, START_SECONDS)
