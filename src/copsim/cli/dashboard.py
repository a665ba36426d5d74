"""``copsim dashboard``: serve the Solara dashboard on localhost, with no internet needed."""

from __future__ import annotations

import argparse
import ctypes
import signal
import socket
import subprocess
import sys
from pathlib import Path

from copsim.errors import CopsimError
from copsim.resources import DASHBOARDS, folder

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``dashboard`` parser."""
    parser = sub.add_parser("dashboard", help="serve the interactive dashboard on localhost")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: this machine only)")
    parser.set_defaults(action=action)


def port_free(host: str, port: int) -> bool:
    """Whether nothing listens on the port yet."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def serve(app: Path, host: str, port: int, what: str) -> int:
    """Run a Solara app with local front-end assets until interrupted."""
    if not 0 < port < 65536:
        raise CopsimError(f"--port: {port}: not a port number")
    if not port_free(host, port):
        raise CopsimError(f"--port: {port}: already in use on {host}")
    shown = "localhost" if host in ("127.0.0.1", "localhost") else host
    print(f"copsim {what}: http://{shown}:{port}/  (Ctrl-C to stop)", flush=True)
    command = [sys.executable, "-m", "solara", "run", str(app), "--host", host, "--port", str(port),
               "--production", "--no-open", "--no-check-version", "--log-level", "warning"]
    # Solara's asset proxy serves the front end from the installed solara-assets.
    server = subprocess.Popen(command, preexec_fn=die_with_parent)
    try:
        return server.wait()
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM (copsim.cli): the normal way to stop
        return 0
    finally:
        stop(server)


def die_with_parent() -> None:
    """In a child before it starts: end it (SIGTERM) when copsim is gone, even if killed.

    Linux only (``prctl(PR_SET_PDEATHSIG)``); elsewhere the parent's clean-up must do.
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def stop(server: subprocess.Popen, grace_s: float = 10.0) -> None:
    """Ask a server to stop (SIGTERM), and kill it if it has not within ``grace_s``."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def action(args: argparse.Namespace) -> int:
    """Serve the dashboard."""
    return serve(folder(DASHBOARDS) / "app.py", args.host, args.port, "dashboard")
