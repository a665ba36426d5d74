"""The workshop server at the protocol level: a real ``copsim workshop`` on a free local
port, spoken to with raw sockets and ``http.client``.

Clients that must look like different machines connect from different loopback
addresses (127.0.0.0/8 all reach a server on 127.0.0.1).
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator

import pytest

from copsim.workshop.checks import GUESS_WINDOW, WRONG_GUESSES
from copsim.workshop.loadtest import LocalServer, local_server
from copsim.workshop.server import HEADER_SECONDS

BOUND = 60.0  # seconds any single wait here may last at most


@pytest.fixture(scope="module")
def workshop() -> Iterator[LocalServer]:
    with local_server("--rounds", "2", "--round-seconds", "300", "--seed", "5") as server:
        yield server


def join(server: LocalServer, code: str, source: str) -> tuple[int, dict, http.client.HTTPMessage]:
    """POST /api/join from ``source``; the status, the JSON answer and the headers."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=BOUND,
                                      source_address=(source, 0))
    try:
        conn.request("POST", "/api/join", body=json.dumps({"code": code, "name": "Guesser"}),
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read()), response.headers
    finally:
        conn.close()


def test_wrong_join_codes_are_limited_per_address(workshop: LocalServer) -> None:
    wrong = "ZZZZZZ" if workshop.code != "ZZZZZZ" else "YYYYYY"
    for _ in range(WRONG_GUESSES):
        status, data, _ = join(workshop, wrong, "127.0.0.3")
        assert (status, data["error"]) == (403, "bad_code")
    status, data, headers = join(workshop, workshop.code, "127.0.0.3")  # even the right code
    assert (status, data["error"]) == (429, "too_many_guesses")
    retry = int(headers["retry-after"])
    assert 1 <= retry <= GUESS_WINDOW and data["retry_after"] == retry
    assert f"try again in {retry} s" in data["message"]
    status, data, _ = join(workshop, workshop.code, "127.0.0.4")  # another device is not held up
    assert status == 200 and data["token"]


def read_until_closed(conn: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (bounded by the timeout)."""
    received = b""
    while chunk := conn.recv(4096):
        received += chunk
    return received


def test_connections_with_unfinished_headers_time_out(workshop: LocalServer) -> None:
    assert HEADER_SECONDS < BOUND
    silent = socket.create_connection(("127.0.0.1", workshop.port), timeout=BOUND)
    trickle = socket.create_connection(("127.0.0.1", workshop.port), timeout=BOUND)
    try:
        trickle.sendall(b"POST /api/join HTTP/1.1\r\nHost: x\r\n")
        trickle.settimeout(0.5)
        deadline = time.monotonic() + BOUND
        answer = b""
        while time.monotonic() < deadline:  # a header byte every half second, never finished
            try:
                trickle.sendall(b"X")
                answer = trickle.recv(4096)
            except TimeoutError:
                continue
            except OSError:  # reset: the server closed the connection
                break
            if answer == b"" or answer.startswith(b"HTTP/1.1 408"):
                break
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), "trickling headers kept the connection"
        assert time.monotonic() < deadline
        assert read_until_closed(silent).startswith(b"HTTP/1.1 408")  # sent nothing at all
    finally:
        silent.close()
        trickle.close()


def test_the_header_deadline_leaves_normal_requests_alone(workshop: LocalServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", workshop.port, timeout=BOUND)
    try:
        for _ in range(3):  # one keep-alive connection, several requests
            conn.request("GET", "/api/status")
            response = conn.getresponse()
            assert response.status == 200 and json.loads(response.read())["state"] == "lobby"
    finally:
        conn.close()
