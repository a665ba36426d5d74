"""The workshop's core (copsim.workshop.room, checks, debrief) without any web code.

A fake clock drives round timers and connection timeouts, so nothing here sleeps.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import numpy as np
import pytest

from copsim.engine import membership
from copsim.workshop import Room, WorkshopError
from copsim.workshop import checks


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def room(clock: Clock) -> Room:
    return Room(rounds=3, round_seconds=60, idle_seconds=10, clock=clock)


def refused(status: int, code: str, fn: Any, *args: Any, **kwargs: Any) -> WorkshopError:
    with pytest.raises(WorkshopError) as info:
        fn(*args, **kwargs)
    assert (info.value.status, info.value.code) == (status, code), info.value.message
    assert info.value.message.endswith(".")
    return info.value


def decision(row: int, **changes: Any) -> dict[str, Any]:
    return {"entrepreneur": row, "attend": True, **changes}


nonces = (f"nonce-{i:06d}" for i in range(10**6))


def decide(room: Room, ticket: Any, **changes: Any) -> dict[str, Any]:
    assert room.round is not None
    return room.decide(ticket.token, room.round.id, next(nonces), decision(ticket.row, **changes))


# -- joining ---------------------------------------------------------------------------


def test_join_assigns_distinct_members_spread_over_groups(room: Room) -> None:
    code = f" {room.code[:3].lower()}-{room.code[3:]} "  # as someone might type it
    tickets = [room.join(code, f"Person {i}") for i in range(9)]
    rows = [t.row for t in tickets]
    assert len(set(rows)) == 9
    groups = [int(room.model.firms.group[r]) for r in rows]
    assert all(g >= 0 for g in groups) and sorted(np.bincount(groups).tolist()) == [3, 3, 3]
    assert all(room.model.firms.alive[r] for r in rows)
    assert len({t.token for t in tickets}) == 9 and all(len(t.token) >= 32 for t in tickets)


def test_wrong_code_and_expired_code_say_so(room: Room) -> None:
    wrong = "AAAAAA" if room.code != "AAAAAA" else "BBBBBB"
    assert "not right" in refused(403, "bad_code", room.join, wrong, "Eve").message
    refused(403, "bad_code", room.join, None, "Eve")
    refused(403, "bad_code", room.join, "X" * 100, "Eve")
    room.end(room.key)
    assert "expired" in refused(410, "expired", room.join, room.code, "Late").message


def test_wrong_codes_are_limited_per_address(room: Room, clock: Clock) -> None:
    wrong = "AAAAAA" if room.code != "AAAAAA" else "BBBBBB"
    for _ in range(checks.WRONG_GUESSES - 1):
        refused(403, "bad_code", room.join, wrong, "Eve", "10.0.0.9")
    clock.now += 30
    refused(403, "bad_code", room.join, None, "Eve", "10.0.0.9")  # the 10th wrong guess
    limited = refused(429, "too_many_guesses", room.join, room.code, "Eve", "10.0.0.9")
    assert limited.retry_after == 30 and limited.as_dict()["retry_after"] == 30
    assert room.join(room.code, "Ann", "10.0.0.8").name == "Ann"  # other addresses join
    clock.now += 30  # the first nine wrong guesses are a minute old
    assert room.join(room.code, "Eve", "10.0.0.9").name == "Eve"


def test_the_guess_limit_forgets_the_oldest_addresses(clock: Clock) -> None:
    limit = checks.GuessLimit(limit=1, window=60, clock=clock)
    for i in range(checks.GUESSERS_KEPT + 5):
        limit.wrong(f"10.{i}")
    limit.check("10.0")  # forgotten: not refused
    with pytest.raises(WorkshopError):
        limit.check(f"10.{checks.GUESSERS_KEPT + 4}")


def test_names_are_checked(room: Room) -> None:
    for bad in ["", "   ", "x" * 25, "bad\x00name", 42, None]:
        refused(422, "invalid", room.join, room.code, bad)
    assert room.join(room.code, "  Anna   Maria ").name == "Anna Maria"


def test_rejoin_gives_the_same_entrepreneur(room: Room) -> None:
    ticket = room.join(room.code, "Anna")
    again = room.rejoin(ticket.token)
    assert (again.row, again.name) == (ticket.row, "Anna")
    me = room.me(ticket.token)
    assert me["row"] == ticket.row and me["card"]["name"] and me["peers"]
    assert {p["row"] for p in me["peers"]} == set(room.model.members_of(int(room.model.firms.group[ticket.row]))) - {ticket.row}


def test_unknown_or_foreign_tokens_are_refused(room: Room, clock: Clock) -> None:
    other = Room(rounds=1, clock=clock)
    foreign = other.join(other.code, "Mallory")
    refused(401, "unknown_token", room.me, foreign.token)
    refused(401, "unknown_token", room.rejoin, "made-up-token")
    refused(401, "no_token", room.me, None)
    refused(401, "no_token", room.me, "")


# -- deciding --------------------------------------------------------------------------


def test_a_decision_is_accepted_and_can_be_changed(room: Room) -> None:
    t = room.join(room.code, "Anna")
    room.open_round(room.key)
    peer = room.me(t.token)["peers"][0]["row"]
    assert decide(room, t, topic="export", talk_to=peer)["accepted"]
    assert decide(room, t, attend=False)["accepted"]
    mine = room.me(t.token)["decision"]
    assert mine["attend"] is False and mine["topic"] is None


def test_forged_action_for_another_entrepreneur_is_refused(room: Room) -> None:
    anna, ben = room.join(room.code, "Anna"), room.join(room.code, "Ben")
    room.open_round(room.key)
    refused(403, "not_yours", room.decide, anna.token, 1, "forged-0001", decision(ben.row, attend=False))
    assert ben.row not in room.round.decisions


def test_replayed_action_is_refused(room: Room) -> None:
    anna = room.join(room.code, "Anna")
    room.open_round(room.key)
    room.decide(anna.token, 1, "once-only-1", decision(anna.row))
    refused(409, "replay", room.decide, anna.token, 1, "once-only-1", decision(anna.row))


def test_actions_outside_the_open_round_are_refused(room: Room) -> None:
    anna = room.join(room.code, "Anna")
    refused(409, "round_closed", room.decide, anna.token, 1, "early-0001", decision(anna.row))
    room.open_round(room.key)
    refused(409, "round_closed", room.decide, anna.token, 2, "later-0001", decision(anna.row))
    refused(409, "round_closed", room.decide, anna.token, "1", "strid-0001", decision(anna.row))


@pytest.mark.parametrize("bad", [
    None, [], "attend", {"entrepreneur": 0}, {"attend": True},
    {"entrepreneur": "0", "attend": True}, {"entrepreneur": 0, "attend": 1},
    {"entrepreneur": 0, "attend": True, "topic": "astrology"},
    {"entrepreneur": 0, "attend": True, "topic": 3},
    {"entrepreneur": 0, "attend": True, "talk_to": "Ben"},
    {"entrepreneur": 0, "attend": True, "talk_to": 1.5},
    {"entrepreneur": 0, "attend": True, "answers": []},
    {"entrepreneur": 0, "attend": True, "answers": {"x": True}},
    {"entrepreneur": 0, "attend": True, "answers": {"1": "yes"}},
    {"entrepreneur": 0, "attend": True, "colour": "red"},
])
def test_malformed_decisions_are_refused_with_a_reason(bad: Any) -> None:
    with pytest.raises(WorkshopError) as info:
        checks.decision(bad)
    assert info.value.status == 422 and len(info.value.message) > 10


def test_partners_must_be_in_the_group_and_answers_must_be_mine(room: Room) -> None:
    anna = room.join(room.code, "Anna")
    room.open_round(room.key)
    outsider = next(r for r in range(room.model.firms.n)
                    if room.model.firms.group[r] != room.model.firms.group[anna.row])
    for field in ("talk_to", "propose_to"):
        e = refused(422, "invalid", decide, room, anna, **{field: outsider})
        assert "own group" in e.message
    refused(422, "invalid", decide, room, anna, talk_to=anna.row)
    refused(422, "invalid", decide, room, anna, answers={"99": True})
    for bad_nonce in ["short", "x" * 65, "has space1", None, 12345678]:
        refused(422, "invalid", room.decide, anna.token, 1, bad_nonce, decision(anna.row))


# -- the facilitator -------------------------------------------------------------------


def test_facilitator_actions_need_the_key(room: Room) -> None:
    t = room.join(room.code, "Anna")
    for bad in [None, "", "wrong", room.key[:-1], room.key + "x", t.token]:
        refused(401, "bad_key", room.open_round, bad)
        refused(401, "bad_key", room.set_lever, bad, "hours_scale", 2.0)
        refused(401, "bad_key", room.shock, bad, 0.3)
        refused(401, "bad_key", room.remove, bad, t.row)
        refused(401, "bad_key", room.end, bad)
        refused(401, "bad_key", room.record, bad)
        refused(401, "bad_key", room.facilitator_view, bad)
        refused(401, "bad_key", room.debrief, bad)
    assert room.state == "lobby"
    room.open_round(room.key)
    refused(401, "bad_key", room.close_round, "nope")
    refused(401, "bad_key", room.set_pace, "nope", round_seconds=10)
    assert room.state == "open"


def test_levers_and_shocks_reach_both_worlds(room: Room) -> None:
    room.set_lever(room.key, "hours_scale", 2.5)
    room.set_lever(room.key, "skill", 0.9)
    assert room.model.levers.hours_scale == room.alone.levers.hours_scale == 2.5
    assert room.model.levers.skill == room.alone.levers.skill == 0.9
    room.shock(room.key, 0.4)
    assert room.model.shocks[-1].depth == room.alone.shocks[-1].depth == 0.4
    refused(422, "invalid", room.set_lever, room.key, "mode", "online")
    refused(422, "invalid", room.set_lever, room.key, "skill", 7)
    refused(422, "invalid", room.set_lever, room.key, "skill", float("nan"))
    refused(422, "invalid", room.shock, room.key, 0.99)
    refused(422, "invalid", room.set_pace, room.key, round_seconds=1)
    refused(422, "invalid", room.set_pace, room.key, auto="yes")


def test_pace_changes_the_open_rounds_timer(room: Room, clock: Clock) -> None:
    room.open_round(room.key)
    room.set_pace(room.key, round_seconds=10, weeks_per_round=2)
    assert room.status()["seconds_left"] == 10
    clock.now += 10
    assert room.tick() and room.history[-1].closed_by == "timer"
    assert room.model.week == 1 + 4  # this round kept its weeks; the next has 2
    room.open_round(room.key)
    room.close_round(room.key)
    assert room.model.week == 1 + 4 + 2


def test_remove_frees_the_entrepreneur_and_stops_the_token(room: Room) -> None:
    anna = room.join(room.code, "Anna")
    room.open_round(room.key)
    decide(room, anna)
    room.remove(room.key, anna.row)
    refused(403, "removed", room.me, anna.token)
    assert anna.row not in room.round.decisions and anna.row not in room.claimed
    refused(404, "no_participant", room.remove, room.key, anna.row)


# -- rounds ----------------------------------------------------------------------------


def test_round_closes_on_the_timer_when_a_participant_drops(room: Room, clock: Clock) -> None:
    anna, ben, carl = (room.join(room.code, n) for n in ("Anna", "Ben", "Carl"))
    room.open_round(room.key)
    decide(room, anna)
    decide(room, ben)  # Carl's phone died: no decision, no more requests
    clock.now += 5
    room.me(anna.token), room.me(ben.token)
    assert not room.tick() and room.state == "open"  # Carl still counts as connected
    clock.now += 56
    assert room.tick()
    assert room.state == "closed" and room.history[-1].closed_by == "timer"
    assert room.model.week == 5 and sorted(room.history[-1].decisions) == sorted([anna.row, ben.row])
    assert room.me(carl.token)["row"] == carl.row  # back later: the same entrepreneur


def test_round_closes_early_when_every_connected_participant_decided(room: Room, clock: Clock) -> None:
    anna, ben, carl = (room.join(room.code, n) for n in ("Anna", "Ben", "Carl"))
    room.open_round(room.key)
    decide(room, anna)
    assert not room.tick()
    decide(room, ben)
    clock.now += 11  # Carl has been silent longer than the idle limit: he has dropped
    room.me(anna.token), room.me(ben.token)
    assert room.tick() and room.history[-1].closed_by == "everyone decided"


def test_pending_proposal_to_a_connected_person_keeps_the_round_open(room: Room) -> None:
    anna = room.join(room.code, "Anna")
    others = [room.join(room.code, f"Ben {i}") for i in range(5)]  # two per group
    peers = [p["row"] for p in room.me(anna.token)["peers"]]
    ben = next(t for t in others if t.row in peers)
    for t in others:
        if t is not ben:
            room.remove(room.key, t.row)
    room.open_round(room.key)
    decide(room, anna, propose_to=ben.row)
    decide(room, ben)
    assert not room.tick(), "Ben has not answered Anna's proposal"
    proposal = room.me(ben.token)["proposals_to_me"][0]
    assert proposal["from_row"] == anna.row and proposal["by"] == "Anna"
    decide(room, ben, answers={str(proposal["id"]): True})
    assert room.tick() and room.history[-1].closed_by == "everyone decided"
    venture = [o for o in room.history[-1].outcomes if o["kind"] == "venture"]
    assert venture and venture[0]["firm"] == anna.row and venture[0]["result"]
    news = " ".join(room.me(anna.token)["news"])
    assert "joint venture" in news


def test_proposals_to_firms_nobody_plays_are_answered_by_the_model(room: Room) -> None:
    anna = room.join(room.code, "Anna")
    peers = [p["row"] for p in room.me(anna.token)["peers"]]
    room.open_round(room.key)
    decide(room, anna, propose_to=peers[0])
    room.close_round(room.key)
    assert room.proposals[0].status not in ("pending", "no answer")


def test_decisions_change_the_room_but_not_the_model_alone(room: Room) -> None:
    tickets = [room.join(room.code, f"P{i}") for i in range(6)]
    room.open_round(room.key)
    before = room.model.firms.meetings_attended.copy()
    for t in tickets[:3]:
        decide(room, t, attend=False)
    for t in tickets[3:]:
        decide(room, t, attend=True)
    room.close_round(room.key)
    after = room.model.firms.meetings_attended
    assert all(after[t.row] == before[t.row] for t in tickets[:3])
    assert all(after[t.row] == before[t.row] + 1 for t in tickets[3:])
    assert room.model.week == room.alone.week == 5
    assert room.model.decisions.for_meetings() is False  # cleared after the round


def test_auto_mode_and_the_last_round_end_the_session(room: Room, clock: Clock) -> None:
    room.set_pace(room.key, auto=True, round_seconds=5)
    assert room.tick() and room.state == "open"
    for expected in (2, 3):
        clock.now += 5
        room.tick()
        assert room.round.id == expected or room.state == "ended"
    clock.now += 5
    room.tick()
    assert room.state == "ended" and len(room.history) == 3
    refused(409, "ended", room.open_round, room.key)
    assert room.status()["code"] is None


def test_end_cancels_the_open_round_and_shows_the_debrief(room: Room) -> None:
    anna = room.join(room.code, "Anna")
    room.open_round(room.key)
    decide(room, anna)
    week = room.model.week
    refused(401, "bad_key", room.debrief)  # before the end: facilitator only
    room.end(room.key)
    assert room.model.week == week and room.history[-1].closed_by == "cancelled"
    me = room.me(anna.token)
    assert me["state"] == "ended" and me["debrief"]["sections"]
    refused(409, "round_closed", room.decide, anna.token, 1, "after-end-1", decision(anna.row))


# -- debrief and record ----------------------------------------------------------------


def test_debrief_without_decisions_is_the_model_alone(clock: Clock) -> None:
    room = Room(rounds=2, clock=clock)
    room.join(room.code, "Watcher")
    for _ in range(2):
        room.open_round(room.key)
        room.close_round(room.key)
    d = room.debrief()
    for section in d["sections"]:
        assert all(r["difference"] in (0, 0.0) for r in section["rows"]), section
    assert d["weeks"] == 9 and d["rounds"] == 2


def test_debrief_and_record_after_a_session(room: Room) -> None:
    tickets = [room.join(room.code, f"P{i}") for i in range(4)]
    for _ in range(3):
        room.open_round(room.key)
        for t in tickets:
            peers = room.me(t.token)["peers"]
            decide(room, t, topic="finance", talk_to=peers[0]["row"], propose_to=peers[1]["row"])
        room.close_round(room.key)
    assert room.state == "ended"
    d = room.debrief()
    titles = [s["title"] for s in d["sections"]]
    assert titles[1] == "The 4 entrepreneurs played by people"
    assert {r["key"] for r in d["sections"][1]["rows"]} >= {"knowledge", "ties", "ventures", "survival"}
    assert len(d["people"]) == 4 and d["summary"]
    record = room.record(room.key)
    text = json.dumps(record)
    assert record["decisions"] == 12 and len(record["rounds"]) == 3
    assert all(len(r["decisions"]) == 4 for r in record["rounds"])
    assert record["events_of_played_firms"] and record["story_of_played_firms"]
    for secret in [room.key, room.code, *(t.token for t in tickets)]:
        assert secret not in text


def test_many_threads_deciding_at_once_lose_nothing(room: Room) -> None:
    tickets = [room.join(room.code, f"T{i}") for i in range(30)]
    room.open_round(room.key)
    errors: list[Exception] = []

    def play(t: Any) -> None:
        try:
            for k in range(5):
                room.decide(t.token, 1, f"{t.row:06d}-{k:04d}", decision(t.row, attend=k % 2 == 0))
                room.me(t.token)
                room.status()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=play, args=(t,)) for t in tickets]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)
    assert not errors
    assert len(room.round.decisions) == 30
    assert all(d["attend"] is True for d in room.round.decisions.values())  # k = 4 came last


def test_codes_and_secrets() -> None:
    codes = {checks.new_join_code() for _ in range(200)}
    assert all(len(c) == 6 and set(c) <= set(checks.JOIN_ALPHABET) for c in codes)
    assert not set("01OIL") & set(checks.JOIN_ALPHABET)
    assert len(codes) > 190
    assert checks.same_secret("abc", "abc") and not checks.same_secret("abd", "abc")
    assert not checks.same_secret(None, "abc") and not checks.same_secret(b"abc", "abc")


# -- the command's errors (nothing is served) ------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["--port", "0"], "--port: 0: not a port number"),
    (["--rounds", "0"], "--rounds: 0: must be at least 1"),
    (["--round-seconds", "1"], "--round-seconds: 1.0: must be at least 5"),
    (["--population", "3"], "--population: 3: must be at least 10"),
    (["--url", "192.168.1.20:8800"], "--url: 192.168.1.20:8800: must start with http://"),
    (["no_such_scenario"], "no such scenario file"),
])
def test_workshop_command_errors_are_one_line(args: list[str], message: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from copsim.cli import main

    with pytest.raises(SystemExit) as info:
        main(["workshop", *args])
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and "\n" not in err and message in err, err


def test_workshop_command_refuses_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    from copsim.cli import main

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SystemExit):
            main(["workshop", "--port", str(port)])
    assert f"--port: {port}: already in use" in capsys.readouterr().err


def test_status_and_record_are_strict_json_even_without_members(clock: Clock) -> None:
    """JSON has no NaN: a world whose groups are gone still reports (n/a as null)."""
    room = Room(rounds=1, clock=clock)
    for gid in list(room.model.alive_groups()):
        membership.dissolve_group(room.model, int(gid), room.model.week)
    room.open_round(room.key)
    room.close_round(room.key)
    for payload in (room.status(), room.network(), room.debrief(), room.record(room.key)):
        json.dumps(payload, allow_nan=False)
    assert room.status()["outcomes"]["knowledge_members"] is None


def test_a_failing_step_does_not_leave_the_round_stuck(room: Room, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(weeks: int) -> None:
        raise RuntimeError("boom")

    room.open_round(room.key)
    monkeypatch.setattr(room, "_advance", broken)
    room.close_round(room.key)
    assert room.state == "closed" and "error: RuntimeError" in room.history[-1].closed_by
