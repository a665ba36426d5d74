"""Signals and processes: an interrupt is one line at any moment, and stopping copsim
(SIGINT, SIGTERM, even SIGKILL) stops every process it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import psutil
import pytest
from conftest import PROCESS_TAG, tagged_processes, wait_until, write_small_scenario

from copsim.cli import INTERRUPTED
from copsim.cli.dashboard import port_free

INTERRUPT_WHILE_IMPORTING = textwrap.dedent("""
    import importlib.abc, sys

    class Interrupt(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name == sys.argv[1]:
                raise KeyboardInterrupt

    sys.meta_path.insert(0, Interrupt())
    from copsim.cli import main
    sys.exit(main(sys.argv[2:]))
""")


@pytest.mark.parametrize("module", ["copsim.cli.run", "numpy", "pydantic", "pandas", "numba",
                                    "copsim.engine.model", "matplotlib"])
def test_ctrl_c_while_importing_is_one_line_and_exit_130(tmp_path: Path, module: str) -> None:
    """The interrupt is raised exactly when ``module`` is first imported by ``copsim run``."""
    write_small_scenario(tmp_path)
    proc = subprocess.run([sys.executable, "-c", INTERRUPT_WHILE_IMPORTING, module, "run",
                           "small.toml", "--years", "0.1", "--out", "out", "--quiet"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert (proc.returncode, proc.stderr) == (130, INTERRUPTED + "\n")
    assert not (tmp_path / "out").exists()


SIGNAL_WHILE_IMPORTING = textwrap.dedent("""
    import importlib.abc, os, signal, sys

    class Interrupt(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name == sys.argv[1]:
                os.kill(os.getpid(), signal.SIGINT)

    sys.meta_path.insert(0, Interrupt())
    from copsim.cli import main
    code = main(sys.argv[2:])
    print(sys.argv[1] in sys.modules)
    sys.exit(code)
""")


@pytest.mark.parametrize("module", ["numpy", "matplotlib._image"])
def test_a_signal_during_an_import_waits_for_the_import(tmp_path: Path, module: str) -> None:
    """A real SIGINT that arrives while ``module`` is being imported: the import completes
    (an exception inside a compiled module's initialisation would turn into an ImportError,
    or make Python end by SIGINT whatever its exit code), then copsim stops with its line."""
    write_small_scenario(tmp_path)
    proc = subprocess.run([sys.executable, "-c", SIGNAL_WHILE_IMPORTING, module, "run",
                           "small.toml", "--years", "0.1", "--out", "out", "--quiet"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert (proc.returncode, proc.stderr, proc.stdout) == (130, INTERRUPTED + "\n", "True\n")
    assert not (tmp_path / "out").exists()


def test_ctrl_c_while_starting_is_one_line_and_exit_130(tmp_path: Path) -> None:
    """A real SIGINT to ``python -m copsim.cli run``, sent once it has loaded NumPy: it is
    then in the middle of its imports (numba, pandas, the model), or past them."""
    write_small_scenario(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "copsim.cli", "run", "small.toml", "--out",
                             "out", "--quiet"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_until(lambda: numpy_loaded(proc.pid), 60)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert (proc.returncode, err, out) == (130, INTERRUPTED + "\n", "")


def numpy_loaded(pid: int) -> bool:
    """Whether process ``pid`` has mapped NumPy's compiled core."""
    try:
        return any("_multiarray_umath" in m.path for m in psutil.Process(pid).memory_maps())
    except psutil.NoSuchProcess:
        return True  # it ended: the assertions after will say how


# --- servers and workers ----------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_tagged(args: list[str], cwd: Path) -> tuple[subprocess.Popen, str]:
    """``python -m copsim.cli ARGS`` with a tag of its own in its environment."""
    tag = f"test-{uuid.uuid4().hex}"
    proc = subprocess.Popen([sys.executable, "-m", "copsim.cli", *args], cwd=cwd,
                            env={**os.environ, PROCESS_TAG: tag},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return proc, tag


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL],
                         ids=["SIGTERM", "SIGINT", "SIGKILL"])
def test_stopping_the_dashboard_stops_its_server(tmp_path: Path, how: signal.Signals) -> None:
    port = free_port()
    proc, tag = start_tagged(["dashboard", "--port", str(port)], tmp_path)
    try:
        assert wait_until(lambda: not port_free("127.0.0.1", port), 120), proc.stderr
        assert len(tagged_processes(tag)) >= 2  # copsim and its `solara run`
        proc.send_signal(how)  # to copsim only, not to its process group
        code = proc.wait(timeout=60)
        assert code == (-9 if how == signal.SIGKILL else 0)
        assert wait_until(lambda: not tagged_processes(tag)), \
            [p.cmdline() for p in tagged_processes(tag)]
        assert port_free("127.0.0.1", port)
    finally:
        for process in tagged_processes(tag):
            process.kill()


def test_stopping_the_workshop_frees_its_port(tmp_path: Path) -> None:
    port = free_port()
    proc, tag = start_tagged(["workshop", "--port", str(port), "--population", "200"], tmp_path)
    try:
        assert wait_until(lambda: not port_free("127.0.0.1", port), 120), proc.stderr
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        assert wait_until(lambda: not tagged_processes(tag))
        assert port_free("127.0.0.1", port)
    finally:
        for process in tagged_processes(tag):
            process.kill()


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopping_a_comparison_stops_its_workers(tmp_path: Path, how: signal.Signals) -> None:
    """Sent to copsim only, as ``kill`` does: its workers are in the middle of long runs."""
    proc, tag = start_tagged(["compare", "microentre", "self_organised", "--reps", "4",
                              "--workers", "2", "--out", "out"], tmp_path)
    try:
        workers = lambda: [p for p in tagged_processes(tag)  # noqa: E731
                           if "forkserver" in " ".join(p.cmdline()) and p.ppid() != proc.pid]
        assert wait_until(lambda: len(workers()) == 2, 120), proc.stderr
        proc.send_signal(how)
        _, err = proc.communicate(timeout=60)
        assert (proc.returncode, err.splitlines()[-1]) == (130, INTERRUPTED)
        assert wait_until(lambda: not tagged_processes(tag))
        assert not (tmp_path / "out").exists()
    finally:
        for process in tagged_processes(tag):
            process.kill()


STOP_WHILE_A_RESULT_IS_WRITTEN = textwrap.dedent("""
    import time
    from pathlib import Path
    from copsim.studies.jobs import LocalPool

    pool = LocalPool(1)
    pool.submit(int, 0).result()  # the worker is up
    pool.submit(bytes, 300_000_000)  # its result takes the worker a while to write
    wchan = Path(f"/proc/{next(iter(pool.pool._processes))}/wchan")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not wchan.read_text().endswith(("pipe_write", "pipe_wait")):
        time.sleep(0.001)  # until the worker waits on the result pipe
    pool.stop()
    print("stopped")
""")


def test_a_worker_stopped_while_it_writes_its_result_does_not_hold_up_the_exit() -> None:
    """The half-written result in the pipe: the pool's manager thread used to wait for the rest
    forever, and the interpreter's exit for it (an interrupted ``compare`` then hung)."""
    proc = subprocess.run([sys.executable, "-c", STOP_WHILE_A_RESULT_IS_WRITTEN],
                          capture_output=True, text=True, timeout=60, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "stopped\n", "")


CALIBRATION_TARGETS = """\
scenario = "microentre"
population = 3000
parameters = ["firms.exit_rate_per_year"]

[[targets]]
name = "annual_exit_rate"
observed = 0.07
sd = 0.01
source = "a test"
constrains = "firms.exit_rate_per_year"
"""


def test_stopping_a_calibration_stops_pyabc_workers_quietly(tmp_path: Path) -> None:
    """SIGTERM to copsim only, while pyabc's multicore sampler's workers simulate: they end
    with it, without a traceback each, and the message says how to resume."""
    (tmp_path / "targets.toml").write_text(CALIBRATION_TARGETS, encoding="utf-8")
    proc, tag = start_tagged(["calibrate", "targets.toml", "--population-size", "20",
                              "--generations", "2", "--workers", "2", "--out", "out"], tmp_path)
    try:
        children = lambda: [p for p in tagged_processes(tag) if p.ppid() == proc.pid]  # noqa: E731
        assert wait_until(lambda: len(children()) >= 2, 120), proc.stderr
        assert wait_until(lambda: (tmp_path / "out" / "abc.db").exists(), 120)  # simulating
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "Traceback" not in err, err
        assert err.splitlines()[-1].startswith("copsim: interrupted; finished generations are kept")
        assert wait_until(lambda: not tagged_processes(tag)), \
            [p.cmdline() for p in tagged_processes(tag)]
    finally:
        for process in tagged_processes(tag):
            process.kill()
