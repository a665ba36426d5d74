"""Load: 40 protocol-level participants on loopback (copsim.workshop.loadtest).

A real ``copsim workshop`` server; 40 clients, each in its own thread with its own
connection, join and decide in two rounds while other clients send garbage, a body that
never finishes and headers that trickle in. Nothing is lost (the record holds 80
decisions), nothing stalls, and in a third round where one client has dropped the round
closes on its timer. Bounded in count and time; it stops by itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from copsim.workshop import loadtest
from copsim.workshop.loadtest import LocalServer, local_server

CLIENTS = 40


@pytest.fixture(scope="module")
def workshop() -> Iterator[LocalServer]:
    with local_server("--rounds", "3", "--round-seconds", "60", "--seed", "4") as server:
        yield server


def test_forty_participants_lose_nothing_and_no_round_sticks(workshop: LocalServer) -> None:
    report = loadtest.run("127.0.0.1", workshop.port, workshop.code, workshop.key,
                          clients=CLIENTS, rounds=2, drop_round_seconds=5.0)
    print(f"\nload: {report.clients} clients, {report.seconds} s, rounds took {report.round_seconds} s, "
          f"latency {report.latency()}, {len(report.garbage_statuses)} garbage requests")
    assert report.joined == CLIENTS
    # The only refusal allowed: a player whose firm closed down (a business exit of the
    # model) cannot decide any more; every accepted decision is in the record.
    closed = [r for r in report.refused if isinstance(r, tuple) and r[1]["error"] == "cannot_decide"]
    assert len(closed) == len(report.refused) <= 2, report.refused
    assert report.per_round == report.accepted, "a decision was lost"
    assert sum(report.accepted) + len(closed) == 3 * CLIENTS - 1
    if not closed:
        assert sum(report.per_round[:2]) == 80 and report.per_round[2] == CLIENTS - 1
    assert report.closed_by == ["everyone decided", "everyone decided", "timer"]
    assert 4.5 <= report.round_seconds[2] < 12, "the dropped client did not hold the round"
    assert report.garbage_statuses and all(400 <= s < 500 for s in report.garbage_statuses), \
        sorted(set(report.garbage_statuses))
    assert report.slow_body_status == 408
    assert report.latency()["p95_ms"] < 2000


def test_load_client_refuses_other_addresses() -> None:
    for host in ["10.0.0.1", "192.168.1.20", "example.org", "8.8.8.8"]:
        with pytest.raises(ValueError, match="loopback"):
            loadtest.Client(host, 80)
    loadtest.check_loopback("127.0.0.1")
    loadtest.check_loopback("::1")
