"""Simulated participants for a workshop server on this machine (protocol level).

Used by ``tests/test_workshop_load.py``, ``tests/test_workshop_browser.py`` (which
start servers with :func:`local_server`) and ``benchmarks/workshop_load.py``: N clients
join, decide in each round (each in its own thread with its own keep-alive connection),
while abusive clients send garbage and requests that never finish. Only loopback
addresses are accepted, and every loop is bounded in count and time. The abusers
connect from their own loopback address (:data:`ABUSER`), as they would from their own
machine: the server limits wrong join codes per client address.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import queue
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAX_SECONDS = 120.0  # no phase of a load run lasts longer
ABUSER = "127.0.0.2"  # the abusive clients' source address (loopback, not the players')
PRINTED = (re.compile(r"Participants: (\S+)  join code: ([A-Z0-9]{6})"),
           re.compile(r"Projector:    (\S+)"), re.compile(r"Facilitator:  (\S+)#key=(\S+)"))



def pick(rng: np.random.Generator, items: list[Any]) -> Any:
    """One item, drawn from a simulated client's own generator."""
    return items[int(rng.integers(len(items)))]

@dataclass
class LocalServer:
    """A ``copsim workshop`` server on this machine, with what it printed."""

    base: str
    port: int
    code: str
    key: str
    facilitator: str
    lines: list[str]


def free_port() -> int:
    """A port nothing listens on (on 127.0.0.1)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(port: int, seconds: float = 90) -> None:
    """Ask a local server for its status until it answers (bounded)."""
    client = Client("127.0.0.1", port, timeout=2)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, http.client.HTTPException):
                if client.request("GET", "/api/status")[0] == 200:
                    return
            time.sleep(0.3)
        raise TimeoutError(f"the workshop on port {port} did not answer within {seconds} s")
    finally:
        client.close()


@contextlib.contextmanager
def local_server(*args: str) -> Iterator[LocalServer]:
    """Run ``copsim workshop --port <free port> ARGS`` on 127.0.0.1; check the three printed
    lines; yield them parsed; stop the server."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "copsim.cli", "workshop", "--port", str(port), *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [out.put(line) for line in server.stdout], daemon=True).start()
    try:
        lines = [out.get(timeout=90).rstrip("\n") for _ in range(3)]
        found = [pattern.fullmatch(line) for pattern, line in zip(PRINTED, lines, strict=True)]
        base = f"http://127.0.0.1:{port}/"
        if not all(found) or found[0].group(1) != base or found[1].group(1) != base + "projector" \
                or found[2].group(1) != base + "facilitator":
            raise AssertionError(f"unexpected output: {lines}")
        wait_until_up(port)
        yield LocalServer(base, port, found[0].group(2), found[2].group(2),
                          f"{found[2].group(1)}#key={found[2].group(2)}", lines)
    finally:
        server.terminate()
        server.wait(timeout=20)


def check_loopback(host: str) -> None:
    """Refuse any address that is not this machine's loopback."""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"{host}: load runs only against loopback addresses (127.0.0.0/8, ::1)")


class Client:
    """One keep-alive HTTP connection that records the latency of every request."""

    def __init__(self, host: str, port: int, timeout: float = 15.0, source: str | None = None) -> None:
        check_loopback(host)
        if source is not None:
            check_loopback(source)
        self.host, self.port, self.timeout = host, port, timeout
        self.source = None if source is None else (source, 0)
        self.conn = self._connect()
        self.latencies: list[float] = []

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout,
                                          source_address=self.source)

    def request(self, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        for attempt in range(2):  # one reconnect if the server closed an idle connection
            start = time.perf_counter()
            try:
                self.conn.request(method, path, body=data, headers={
                    "Content-Type": "application/json", **(headers or {})})
                response = self.conn.getresponse()
                raw = response.read()
            except (ConnectionError, http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = self._connect()
                if attempt:
                    raise
                continue
            self.latencies.append(time.perf_counter() - start)
            try:
                return response.status, json.loads(raw) if raw else None
            except ValueError:
                return response.status, raw
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


class Player(Client):
    """A participant: joins, reads its card, decides."""

    token = ""
    row = -1

    def join(self, code: str, name: str) -> int:
        status, data = self.request("POST", "/api/join", {"code": code, "name": name})
        if status == 200:
            self.token, self.row = data["token"], data["row"]
        return status

    def me(self) -> dict[str, Any]:
        status, data = self.request("GET", "/api/me", headers={"X-Copsim-Token": self.token})
        if status != 200:
            raise AssertionError(f"/api/me: {status} {data}")
        return data

    def decide(self, round_id: int, rng: np.random.Generator) -> tuple[int, Any]:
        me = self.me()
        peers = me["peers"]
        decision: dict[str, Any] = {"entrepreneur": self.row, "attend": bool(rng.random() < 0.8),
                                    "topic": pick(rng, me["topics"])["key"]}
        if peers:
            decision["talk_to"] = pick(rng, peers)["row"]
            unplayed = [p["row"] for p in peers if p["player"] is None]
            if unplayed and rng.random() < 0.5:  # proposals to people would wait for answers
                decision["propose_to"] = pick(rng, unplayed)
        nonce = f"{self.row:05d}-{round_id:03d}-{int(rng.integers(2**40)):010x}"
        return self.request("POST", "/api/decide", {"round": round_id, "nonce": nonce,
                                                    "decision": decision},
                            headers={"X-Copsim-Token": self.token})


def in_threads(items: list[Any], work: Any) -> list[Any]:
    """``work(item)`` for every item at once, each in its own thread; results in order."""
    results: list[Any] = [None] * len(items)

    def run(i: int, item: Any) -> None:
        try:
            results[i] = work(item)
        except Exception as exc:  # noqa: BLE001 - reported to the caller
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, x), daemon=True) for i, x in enumerate(items)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=MAX_SECONDS)
    return results


def garbage(host: str, port: int, stop: threading.Event, statuses: list[int]) -> None:
    """Malformed, oversized, forged and unauthorised requests until ``stop`` (bounded)."""
    client = Client(host, port, source=ABUSER)
    bad = [
        ("POST", "/api/decide", b"{not json", {"X-Copsim-Token": "x" * 30}),
        ("POST", "/api/decide", b"[1, 2, 3]", {"X-Copsim-Token": "x" * 30}),
        ("POST", "/api/decide", b'{"round": NaN}', {}),
        ("POST", "/api/decide", b"x" * 100_000, {}),
        ("POST", "/api/decide", {"round": 1, "nonce": "abcdefgh1", "decision": {"entrepreneur": 0,
                                                                              "attend": True}},
         {"X-Copsim-Token": "forged-token-forged-token"}),
        ("POST", "/api/join", {"code": "WRONG1", "name": "Mallory"}, {}),
        ("POST", "/api/join", {"code": 5, "name": ["x"]}, {}),
        ("POST", "/api/join", b"\xff\xfe\x00", {}),
        ("POST", "/api/facilitator/end", {}, {"X-Copsim-Key": "guess"}),
        ("POST", "/api/facilitator/lever", {"name": "skill", "value": 1e308}, {}),
        ("GET", "/api/record", None, {}),
        ("GET", "/api/me", None, {"X-Copsim-Token": "\u00e9" * 10}),
    ]
    deadline = time.monotonic() + MAX_SECONDS
    for i in range(5000):
        if stop.is_set() or time.monotonic() > deadline:
            break
        method, path, body, headers = bad[i % len(bad)]
        try:
            status, _ = client.request(method, path, body, headers)
        except (OSError, http.client.HTTPException, UnicodeEncodeError):
            status = -1
        statuses.append(status)
    client.close()


def slow_body(host: str, port: int, seconds: float) -> int:
    """A request whose body never finishes: returns the status the server answered."""
    check_loopback(host)
    with socket.create_connection((host, port), timeout=seconds, source_address=(ABUSER, 0)) as s:
        s.sendall(b"POST /api/decide HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 400\r\n\r\n{\"round\": 1")
        s.settimeout(seconds)
        try:
            head = s.recv(200)
        except TimeoutError:
            return 0
    parts = head.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1


def slow_headers(host: str, port: int, seconds: float) -> None:
    """A request whose headers trickle in a byte a second and never finish."""
    check_loopback(host)
    deadline = time.monotonic() + seconds
    with socket.create_connection((host, port), timeout=seconds, source_address=(ABUSER, 0)) as s:
        s.sendall(b"POST /api/decide HTTP/1.1\r\nHost: x\r\n")
        while time.monotonic() < deadline:
            try:
                s.sendall(b"X")
            except OSError:
                return
            time.sleep(1.0)


@dataclass
class Report:
    clients: int
    joined: int = 0
    accepted: list[int] = field(default_factory=list)  # decisions accepted per round
    refused: list[Any] = field(default_factory=list)
    closed_by: list[str] = field(default_factory=list)
    round_seconds: list[float] = field(default_factory=list)  # open to closed, seen by clients
    garbage_statuses: list[int] = field(default_factory=list)
    slow_body_status: int = 0
    record_decisions: int = 0
    per_round: list[int] = field(default_factory=list)  # decisions in the record, by round
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def latency(self) -> dict[str, float]:
        ms = sorted(1000 * x for x in self.latencies)
        if not ms:
            return {}
        return {"requests": len(ms), "p50_ms": round(statistics.median(ms), 1),
                "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 1),
                "p99_ms": round(ms[int(0.99 * (len(ms) - 1))], 1), "max_ms": round(ms[-1], 1)}


def wait_rounds(client: Client, played: int, seconds: float) -> dict[str, Any]:
    """Poll the status until ``played`` rounds are done (bounded)."""
    deadline = time.monotonic() + min(seconds, MAX_SECONDS)
    while time.monotonic() < deadline:
        _, status = client.request("GET", "/api/status")
        if status["rounds_played"] >= played:
            return status
        time.sleep(0.1)
    raise TimeoutError(f"round {played} did not close within {seconds} s")


def run(host: str, port: int, code: str, key: str, clients: int = 40, rounds: int = 2,
        drop_round_seconds: float | None = 5.0, abuse: bool = True, seed: int = 0) -> Report:
    """Join ``clients`` players, play ``rounds`` full rounds, then (if
    ``drop_round_seconds``) one more round with that timer in which one player drops."""
    check_loopback(host)
    started = time.monotonic()
    report = Report(clients)
    facilitator = Client(host, port)
    fac = {"X-Copsim-Key": key}
    players = [Player(host, port) for _ in range(clients)]
    stop = threading.Event()
    abusers: list[threading.Thread] = []
    if abuse:
        abusers = [threading.Thread(target=garbage, args=(host, port, stop, report.garbage_statuses),
                                    daemon=True),
                   threading.Thread(target=slow_headers, args=(host, port, 8.0), daemon=True)]
        for t in abusers:
            t.start()
        slow = threading.Thread(target=lambda: setattr(report, "slow_body_status",
                                                       slow_body(host, port, 8.0)), daemon=True)
        slow.start()
        abusers.append(slow)
    try:
        joined = in_threads(list(enumerate(players)),
                            lambda ip: ip[1].join(code, f"Player {ip[0]:02d}"))
        report.joined = sum(1 for s in joined if s == 200)
        plan = [(players, None)] * rounds
        if drop_round_seconds is not None:
            plan.append((players[1:], drop_round_seconds))  # players[0] has dropped
        for k, (playing, seconds) in enumerate(plan, start=1):
            if seconds is not None:
                status, data = facilitator.request("POST", "/api/facilitator/pace",
                                                   {"round_seconds": seconds}, fac)
                assert status == 200, f"pace: {status} {data}"
            status, _ = facilitator.request("POST", "/api/facilitator/open", {}, fac)
            assert status == 200, f"open round {k}: {status}"
            opened = time.monotonic()
            rngs = [np.random.default_rng([seed, k, i]) for i in range(len(playing))]
            results = in_threads(list(zip(playing, rngs, strict=True)),
                                 lambda pr: pr[0].decide(k, pr[1]))  # noqa: B023
            ok = [r for r in results if isinstance(r, tuple) and r[0] == 200]
            report.accepted.append(len(ok))
            report.refused.extend(r for r in results if not (isinstance(r, tuple) and r[0] == 200))
            wait_rounds(facilitator, k, 60.0 + (seconds or 0))
            report.round_seconds.append(round(time.monotonic() - opened, 2))
        status, record = facilitator.request("GET", "/api/record", headers=fac)
        assert status == 200, status
        report.closed_by = [r["closed_by"] for r in record["rounds"]]
        report.record_decisions = record["decisions"]
        report.per_round = [len(r["decisions"]) for r in record["rounds"]]
    finally:
        stop.set()
        for t in abusers:
            t.join(timeout=30)
        for c in [facilitator, *players]:
            report.latencies.extend(c.latencies)
            c.close()
        report.seconds = round(time.monotonic() - started, 2)
    return report
