"""The shared workshop session: one model, one lock, participants, rounds and the record.

A :class:`Room` holds the live simulation (an :class:`~copsim.viz.session.ExploreSession`,
so the network layout and the plain-language feed are the dashboard's), a second model of
the same scenario and seed that no person plays (the debrief's "model alone"), the
participants and the rounds. There is no web code here: :mod:`copsim.workshop.server`
maps HTTP requests onto these methods and the tests call them directly.

Security rules, all enforced here (the server only passes headers and bodies on):

- joining needs the join code (compared in constant time); after the session ends the
  code has expired and says so;
- a participant's token is random (``secrets.token_urlsafe``), bound to this room (only
  its digest is stored) and owns exactly one entrepreneur: a decision naming another
  entrepreneur is refused; every action carries the open round's id and a nonce that is
  accepted once only, so a replayed action is refused;
- facilitator actions need the facilitator key (constant-time comparison);
- values are checked (:mod:`copsim.workshop.checks`) before the lock is taken; the lock
  is held only for quick work, except when a round closes and the model steps.

A round: participants decide; it closes when every connected participant has decided
(and answered the proposals made to them), on its timer, or when the facilitator closes
it; then both models step the round's weeks, the room's with the decisions applied
through the engine's hooks (:mod:`copsim.engine.decisions`). Participants who did not decide,
dropped out or were never there are played by the model.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from copsim.scenario.schema import Scenario
from copsim.engine.decisions import Decisions
from copsim.engine.levers import BOUNDS
from copsim.dtypes import Activity, EventKind
from copsim.engine.model import CopModel
from copsim.scenario.io import load_scenario
from copsim.viz import feed
from copsim.viz.session import ExploreSession
from copsim.workshop import checks, debrief
from copsim.workshop.checks import WorkshopError
from copsim.workshop.records import Participant, Proposal, Round

LEVERS = BOUNDS  # the levers a facilitator may set, with their ranges
MAX_SUBMISSIONS_PER_ROUND = 40  # decisions one participant may send (and change) in a round
MAX_NONCES = 4000  # nonces remembered per participant (a session has far fewer actions)
MAX_PARTICIPANTS = 200
log = logging.getLogger("copsim.workshop")


@dataclass(frozen=True)
class Ticket:
    """What a participant gets on joining: the secret token and their entrepreneur."""

    token: str
    row: int
    name: str


class Room:
    """One workshop session (see the module docstring)."""

    def __init__(self, scenario: str | Path = "workshop", *, seed: int = 1,
                 population: int | None = None, rounds: int = 8, weeks_per_round: int = 4,
                 round_seconds: float = 90.0, idle_seconds: float = 15.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rounds < 1 or weeks_per_round < 1 or round_seconds <= 0:
            raise ValueError("rounds, weeks per round and round seconds must be positive")
        self.lock = threading.Lock()  # the one lock around the shared model and the room
        self.clock = clock
        self.guesses = checks.GuessLimit(clock=clock)
        self.code = checks.new_join_code()
        self.key = secrets.token_urlsafe(32)
        size = population if population is not None else load_scenario(scenario).population
        self.session = ExploreSession(str(scenario), population=size, seed=seed)
        self.model: CopModel = self.session.model
        self.scenario: Scenario = self.model.scenario
        self.alone = CopModel(self.scenario, seed=seed, agent_views=False)
        self.seed = seed
        self.rounds_total = rounds
        self.weeks_per_round = weeks_per_round
        self.round_seconds = float(round_seconds)
        self.idle_seconds = idle_seconds
        self.auto = False
        self.state = "lobby"  # lobby, open, closed (between rounds), ended
        self.round: Round | None = None
        self.history: list[Round] = []
        self.participants: dict[str, Participant] = {}  # by token digest
        self.claimed: dict[int, str] = {}  # row -> token digest
        self.proposals: list[Proposal] = []
        self.actions: list[dict[str, Any]] = []  # the facilitator's, for the record
        self.assign_rng = self.model.streams.generator("workshop.assign")  # who gets whom
        self.started_wall = time.time()
        self.version = 0
        self._cards: dict[int, dict[str, Any]] = {}
        self._group_lines: dict[int, list[str]] = {}
        self._network: dict[str, Any] | None = None
        self._debrief: dict[str, Any] | None = None
        self._advance(1)  # week 0: the groups start and hold their first meeting
        self.model.ties.edge(0, 1)  # compile the tie index's lookups now, not in a round

    # -- participants ------------------------------------------------------------------

    def join(self, code: object, name: object, address: str = "") -> Ticket:
        """Claim an unclaimed entrepreneur with the join code (a clear error otherwise);
        wrong codes are counted per client ``address`` and limited (:class:`checks.GuessLimit`)."""
        self.guesses.check(address)
        try:
            return self._join(code, name)
        except WorkshopError as exc:
            if exc.code == "bad_code":
                self.guesses.wrong(address)
            raise

    def _join(self, code: object, name: object) -> Ticket:
        given = checks.normalise_code(code)
        clean = checks.display_name(name)
        with self.lock:
            if not checks.same_secret(given, self.code):
                raise WorkshopError(403, "bad_code", checks.BAD_CODE)
            if self.state == "ended":
                raise WorkshopError(410, "expired",
                                    "This session has ended: its join code has expired.")
            if len(self.participants) >= MAX_PARTICIPANTS:
                raise WorkshopError(409, "full", "The room is full: ask the facilitator.")
            row = self._free_entrepreneur()
            token = secrets.token_urlsafe(24)
            digest = checks.token_digest(token)
            now = self.clock()
            self.participants[digest] = Participant(clean, row, now, now)
            self.claimed[row] = digest
            self.version += 1
            self._network = None
            return Ticket(token, row, clean)

    def rejoin(self, token: object) -> Ticket:
        """The same entrepreneur again after a reload or a lost connection."""
        with self.lock:
            p = self._participant(token)
            return Ticket(str(token), p.row, p.name)

    def me(self, token: object) -> dict[str, Any]:
        """Everything a participant's page shows: card, round, proposals, news."""
        with self.lock:
            p = self._participant(token)
            rnd = self.round if self.state == "open" else None
            mine = rnd.decisions.get(p.row) if rnd else None
            return {
                "name": p.name, "row": p.row, "state": self.state,
                "round": rnd.id if rnd else (self.history[-1].id if self.history else 0),
                "rounds": self.rounds_total, "seconds_left": self._seconds_left(),
                "week": self.model.week, "card": self._card(p.row),
                "can_decide": self._why_not_deciding(p.row) is None,
                "why_not": self._why_not_deciding(p.row),
                "peers": self._peers(p.row),
                "topics": [{"key": k, "label": feed.topic_name(v)} for k, v in checks.TOPICS.items()],
                "decision": _public_decision(mine),
                "proposals_to_me": [self._proposal_view(x) for x in self.proposals
                                    if x.to == p.row and rnd and x.round == rnd.id
                                    and x.status == "pending"],
                "news": self._news(p.row), "group_news": self._group_news(p.row),
                "debrief": self._debrief_locked() if self.state == "ended" else None,
            }

    def decide(self, token: object, round_id: object, nonce: object, data: object) -> dict[str, Any]:
        """A participant's decision for the open round (it may be changed until it closes).

        Refused: an unknown or removed token (401/403), a malformed nonce or decision
        (422), a reused nonce (409, replay), a round that is not the open one (409), a
        decision naming another entrepreneur (403), a partner outside the group (422).
        """
        clean = checks.decision(data)
        given_nonce = checks.nonce(nonce)
        with self.lock:
            p = self._participant(token)
            if given_nonce in p.nonces:
                raise WorkshopError(409, "replay",
                                    "This action was already received (replayed action).")
            if len(p.nonces) >= MAX_NONCES:
                raise WorkshopError(429, "too_many", "Too many actions from this participant.")
            p.nonces.add(given_nonce)
            rnd = self.round
            if self.state != "open" or rnd is None or round_id != rnd.id:
                raise WorkshopError(409, "round_closed", "This round is not open: wait for the "
                                    "facilitator to open the next one.")
            if clean["entrepreneur"] != p.row:
                raise WorkshopError(403, "not_yours", "You can act only for your own entrepreneur.")
            why = self._why_not_deciding(p.row)
            if why is not None:
                raise WorkshopError(409, "cannot_decide", why)
            if p.submissions >= MAX_SUBMISSIONS_PER_ROUND:
                raise WorkshopError(429, "too_many", "Too many changes in this round.")
            group = self._group_mates(p.row)
            for key in ("talk_to", "propose_to"):
                other = clean[key]
                if other >= 0 and other not in group:
                    raise checks.invalid(f"{key}: choose someone in your own group.")
            for pid in clean["answers"]:
                prop = next((x for x in self.proposals if x.id == pid), None)
                if prop is None or prop.to != p.row or prop.round != rnd.id:
                    raise checks.invalid(f"answers: proposal {pid} was not made to you in this round.")
            p.submissions += 1
            p.last_seen = self.clock()
            previous = rnd.decisions.get(p.row)
            answers = {**(previous["answers"] if previous else {}), **clean["answers"]}
            rnd.decisions[p.row] = {**clean, "answers": answers, "name": p.name}
            self._propose(rnd, p.row, clean["propose_to"])
            for pid, accept in clean["answers"].items():
                prop = next(x for x in self.proposals if x.id == pid)
                if prop.status in ("pending", "accepted", "declined"):
                    prop.status = "accepted" if accept else "declined"
            return {"accepted": True, "round": rnd.id, "decided": len(rnd.decisions)}

    # -- facilitator -------------------------------------------------------------------

    def open_round(self, key: object) -> dict[str, Any]:
        """Open the next round: participants decide until it closes."""
        with self.lock:
            self._facilitator(key)
            self._open()
            return self._status()

    def close_round(self, key: object) -> dict[str, Any]:
        """Close the open round now and step the model through its weeks."""
        with self.lock:
            self._facilitator(key)
            if self.state != "open":
                raise WorkshopError(409, "no_round", "No round is open.")
            self._close("facilitator")
            return self._status()

    def set_pace(self, key: object, round_seconds: object = None, weeks_per_round: object = None,
                 auto: object = None) -> dict[str, Any]:
        """Seconds per round (the open round's timer too), weeks per round, auto-advance."""
        seconds = (None if round_seconds is None
                   else checks.number(round_seconds, "round_seconds", 5, 3600))
        weeks = (None if weeks_per_round is None
                 else int(checks.number(weeks_per_round, "weeks_per_round", 1, 13)))
        if auto is not None and not isinstance(auto, bool):
            raise checks.invalid("auto must be true or false.")
        with self.lock:
            self._facilitator(key)
            if seconds is not None:
                self.round_seconds = seconds
                if self.state == "open" and self.round is not None:
                    self.round.deadline = self.round.opened_at + seconds
            if weeks is not None:
                self.weeks_per_round = weeks
            if auto is not None:
                self.auto = auto
            self._act("pace", round_seconds=self.round_seconds, weeks_per_round=self.weeks_per_round,
                      auto=self.auto)
            return self._status()

    def set_lever(self, key: object, name: object, value: object) -> dict[str, Any]:
        """Funding (``hours_scale``), facilitation (``skill``) or recruitment, in both worlds."""
        if name not in LEVERS:
            raise checks.invalid("lever must be one of: " + ", ".join(LEVERS) + ".")
        clean = checks.number(value, str(name), *LEVERS[str(name)])
        with self.lock:
            self._facilitator(key)
            self.session.set_lever(str(name), clean)
            self.alone.set_lever(str(name), clean)
            self._act("lever", name=name, value=clean)
            return self._status()

    def shock(self, key: object, depth: object = 0.3) -> dict[str, Any]:
        """A demand shock from this week, in both worlds."""
        clean = checks.number(depth, "depth", 0.05, 0.8)
        with self.lock:
            self._facilitator(key)
            self.session.shock(clean)
            self.alone.trigger_shock(depth=clean)
            self._act("shock", depth=clean)
            return self._status()

    def remove(self, key: object, row: object) -> dict[str, Any]:
        """Remove a participant: their token stops working and the model plays their firm."""
        target = checks.integer(row, "row")
        with self.lock:
            self._facilitator(key)
            digest = self.claimed.pop(target, None)
            if digest is None:
                raise WorkshopError(404, "no_participant", "Nobody plays that entrepreneur.")
            p = self.participants[digest]
            p.removed = True
            if self.round is not None and self.state == "open":
                self.round.decisions.pop(target, None)
            for prop in self.proposals:
                if prop.status == "pending" and prop.frm == target:
                    prop.status = "withdrawn"
            self._act("remove", row=target, name=p.name)
            self.version += 1
            self._network = None
            return self._status()

    def end(self, key: object) -> dict[str, Any]:
        """End the session: an open round is cancelled, the code expires, the debrief shows."""
        with self.lock:
            self._facilitator(key)
            if self.state == "open" and self.round is not None:
                self.round.closed_by = "cancelled"
                self.round.closed_wall = time.time()
                self.history.append(self.round)
            self._act("end")
            self.state = "ended"
            self.version += 1
            return self._status()

    def facilitator_view(self, key: object) -> dict[str, Any]:
        """Status plus the participants, for the facilitator's page."""
        with self.lock:
            self._facilitator(key)
            rnd = self.round if self.state == "open" else None
            people = [{"row": p.row, "name": p.name, "firm": feed.firm_name(self.model, p.row),
                       "group": self._group_name(p.row), "connected": self._connected(p),
                       "decided": bool(rnd and p.row in rnd.decisions), "removed": p.removed}
                      for p in self.participants.values()]
            levers = {name: getattr(self.model.levers, name) for name in LEVERS}
            return {**self._status(), "people": people, "levers": levers, "auto": self.auto}

    def record(self, key: object) -> dict[str, Any]:
        """The downloadable record of the session (needs the facilitator key)."""
        with self.lock:
            self._facilitator(key)
            return debrief.record(self)

    # -- public ------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """What the projector shows (no secrets but the join code, which it displays)."""
        with self.lock:
            return self._status()

    def network(self) -> dict[str, Any]:
        """Nodes and ties for the projector; people's entrepreneurs carry their names."""
        with self.lock:
            if self._network is None:
                net = self.session.network("group")
                for node in net["nodes"]:
                    digest = self.claimed.get(node["id"])
                    if digest is not None:
                        node["p"] = self.participants[digest].name
                self._network = {"version": self.version, **net}
            return self._network

    def debrief(self, key: object = None) -> dict[str, Any]:
        """The room against the model alone; public once the session has ended."""
        with self.lock:
            if self.state != "ended":
                self._facilitator(key)
            return self._debrief_locked()

    def tick(self) -> bool:
        """Close a round whose timer ran out or whose people have all decided; open the
        next one in auto mode. Returns whether anything changed (call it often)."""
        with self.lock:
            changed = False
            if self.state == "open" and self.round is not None:
                if self.clock() >= self.round.deadline:
                    self._close("timer")
                    changed = True
                elif self._everyone_decided():
                    self._close("everyone decided")
                    changed = True
            if self.auto and self.state in ("lobby", "closed"):
                self._open()
                changed = True
            return changed

    # -- inside the lock ---------------------------------------------------------------

    def _participant(self, token: object) -> Participant:
        if not isinstance(token, str) or not token or len(token) > 128:
            raise WorkshopError(401, "no_token", "Join with the code first.")
        p = self.participants.get(checks.token_digest(token))
        if p is None:
            raise WorkshopError(401, "unknown_token", "This browser's ticket is not from this "
                                "session: join again with the code.")
        if p.removed:
            raise WorkshopError(403, "removed", "The facilitator has removed you from this session.")
        p.last_seen = self.clock()
        return p

    def _facilitator(self, key: object) -> None:
        if not checks.same_secret(key, self.key):
            raise WorkshopError(401, "bad_key", "This needs the facilitator key.")

    def _act(self, action: str, **details: Any) -> None:
        self.actions.append({"week": self.model.week, "at": time.time(), "action": action, **details})

    def _free_entrepreneur(self) -> int:
        """An unclaimed living member, from the group with the fewest people playing."""
        f = self.model.firms
        best: list[int] = []
        fewest = None
        for gid in self.model.alive_groups().tolist():
            free = [r for r in self.model.members_of(gid) if r not in self.claimed and f.alive[r]]
            if not free:
                continue
            playing = sum(1 for r in self.model.members_of(gid) if r in self.claimed)
            if fewest is None or playing < fewest:
                fewest, best = playing, free
        if not best:
            raise WorkshopError(409, "full", "Every entrepreneur is taken: ask the facilitator.")
        return best[int(self.assign_rng.integers(len(best)))]

    def _group_mates(self, row: int) -> set[int]:
        gid = int(self.model.firms.group[row])
        return {r for r in self.model.members_of(gid) if r != row} if gid >= 0 else set()

    def _group_name(self, row: int) -> str:
        gid = int(self.model.firms.group[row])
        return feed.group_name(self.model, gid) if gid >= 0 else "no group"

    def _why_not_deciding(self, row: int) -> str | None:
        f = self.model.firms
        if not f.alive[row]:
            return "Your firm has closed down: watch the room and the debrief."
        if f.group[row] < 0:
            return "Your firm is no longer in a group: watch the room and the debrief."
        return None

    def _connected(self, p: Participant) -> bool:
        return not p.removed and self.clock() - p.last_seen <= self.idle_seconds

    def _everyone_decided(self) -> bool:
        """Every connected participant who can decide has, and has answered proposals."""
        rnd = self.round
        assert rnd is not None
        waiting = [p for p in self.participants.values()
                   if self._connected(p) and self._why_not_deciding(p.row) is None]
        if not waiting:
            return False
        if any(p.row not in rnd.decisions for p in waiting):
            return False
        people = {p.row for p in waiting}
        return not any(x.round == rnd.id and x.status == "pending" and x.to in people
                       for x in self.proposals)

    def _seconds_left(self) -> float | None:
        if self.state != "open" or self.round is None:
            return None
        return max(0.0, round(self.round.deadline - self.clock(), 1))

    def _propose(self, rnd: Round, frm: int, to: int) -> None:
        """This round's proposal from ``frm`` (a new target replaces a pending one)."""
        current = next((x for x in self.proposals if x.round == rnd.id and x.frm == frm
                        and x.status in ("pending", "accepted", "declined")), None)
        if current is not None and current.to == to:
            return
        if current is not None:
            current.status = "withdrawn"
        if to >= 0:
            self.proposals.append(Proposal(len(self.proposals) + 1, rnd.id, frm, to))

    def _proposal_view(self, prop: Proposal) -> dict[str, Any]:
        return {"id": prop.id, "from": feed.firm_name(self.model, prop.frm), "from_row": prop.frm,
                "by": self._player_name(prop.frm), "status": prop.status}

    def _player_name(self, row: int) -> str | None:
        digest = self.claimed.get(row)
        return self.participants[digest].name if digest else None

    def _peers(self, row: int) -> list[dict[str, Any]]:
        """The other members of the row's group: whom to talk to or propose a venture to."""
        t = self.model.ties
        src, dst, trust = t.src[: t.n], t.dst[: t.n], t.trust[: t.n]
        mine = (src == row) | (dst == row)
        others = np.where(src[mine] == row, dst[mine], src[mine])
        trust_with = dict(zip(others.tolist(), trust[mine].tolist(), strict=True))
        out = []
        for other in sorted(self._group_mates(row)):
            card = self._card(other)
            out.append({"row": other, "firm": card["name"], "sector": card["sector"],
                        "player": self._player_name(other),
                        "trust": round(trust_with.get(other, 0.0), 2),
                        "assets": card["assets"], "problem": card["problem"]})
        return out

    def _card(self, row: int) -> dict[str, Any]:
        if row not in self._cards:
            self._cards[row] = self.session.card(row)
        return self._cards[row]

    def _news(self, row: int) -> list[str]:
        """What came of this participant's choices, round by round (latest first)."""
        return [line for rnd in reversed(self.history) for line in self._round_news(rnd, row)]

    def _round_news(self, last: Round, row: int) -> list[str]:
        lines = []
        name = lambda r: feed.firm_name(self.model, r)  # noqa: E731
        mine = last.decisions.get(row)
        if mine is not None:
            topic = f", raising {feed.topic_name(mine['topic'])}" if mine["topic"] >= 0 else ""
            lines.append(f"Round {last.id}: you chose to {'attend' if mine['attend'] else 'stay away'}"
                         f"{topic}.")
        for o in last.outcomes:
            if row not in (o["firm"], o["other"]):
                continue
            if o["kind"] == "conversation" and o["firm"] == row:
                lines.append(f"Week {o['week']}: your talk with {name(o['other'])}: "
                             + ("done, on " + feed.topic_name(o["topic"]) if o["result"] == "talked"
                                else o["result"]) + ".")
            elif o["kind"] == "venture":
                other = o["other"] if o["firm"] == row else o["firm"]
                lines.append(f"Week {o['week']}: joint venture with {name(other)}: {o['result']}.")
        for prop in self.proposals:
            if prop.round == last.id and row in (prop.frm, prop.to) and prop.status in (
                    "declined", "no answer", "withdrawn"):
                other = prop.to if prop.frm == row else prop.frm
                lines.append(f"Joint venture proposal with {name(other)}: {prop.status}.")
        return lines

    def _group_news(self, row: int) -> list[str]:
        """What happened in the row's group during the last round, in words."""
        gid = int(self.model.firms.group[row])
        if gid < 0 or not self.history:
            return []
        if gid not in self._group_lines:
            last = self.history[-1]
            events = self.model.events.to_frame()
            weeks = events.week.between(last.first_week, last.first_week + last.weeks - 1)
            self._group_lines[gid] = feed.describe(self.model, events[weeks & (events.group == gid)])
        return self._group_lines[gid]

    def _open(self) -> None:
        if self.state == "ended":
            raise WorkshopError(409, "ended", "The session has ended.")
        if self.state == "open":
            raise WorkshopError(409, "already_open", "A round is already open.")
        if len(self.history) >= self.rounds_total:
            raise WorkshopError(409, "no_rounds_left", "All rounds have been played: end the session.")
        now = self.clock()
        self.round = Round(len(self.history) + 1, self.model.week, self.weeks_per_round, now,
                           now + self.round_seconds, time.time())
        for p in self.participants.values():
            p.submissions = 0
        self.state = "open"
        self.version += 1

    def _close(self, why: str) -> None:
        """Apply the round's decisions and step both worlds through its weeks."""
        rnd = self.round
        assert rnd is not None
        rnd.closed_by = why
        rnd.closed_wall = time.time()
        decisions = self.model.decisions
        try:
            decisions = self.model.decisions = self._model_decisions(rnd)
            self._advance(rnd.weeks)
        except Exception as exc:  # never leave a round stuck open: record and go on
            log.exception("stepping round %s failed", rnd.id)
            rnd.closed_by += f" (error: {exc.__class__.__name__})"
        finally:
            rnd.outcomes = list(decisions.outcomes)
            decisions.clear_round()
            decisions.outcomes.clear()
        for o in rnd.outcomes:
            if o["kind"] == "venture":
                for prop in self.proposals:
                    if prop.round == rnd.id and (prop.frm, prop.to) == (o["firm"], o["other"]):
                        prop.status = o["result"]
        for prop in self.proposals:
            if prop.round == rnd.id and prop.status == "pending":
                prop.status = "no answer"
        self.history.append(rnd)
        self.state = "ended" if len(self.history) >= self.rounds_total else "closed"

    def _model_decisions(self, rnd: Round) -> Decisions:
        """The round's choices as engine decisions; the model answers for firms nobody plays."""
        d = Decisions(players=set(self.claimed))
        for row, dec in sorted(rnd.decisions.items()):
            if row not in self.claimed:
                continue
            d.attend[row] = dec["attend"]
            if dec["topic"] >= 0:
                d.topic[row] = dec["topic"]
            if dec["talk_to"] >= 0:
                d.partner[row] = dec["talk_to"]
        rng = self.model.streams.generator("workshop.answers", self.model.week)
        agree = self.scenario.activities[Activity.COORDINATION.name.lower()].effect
        for prop in self.proposals:
            if prop.round != rnd.id or prop.frm not in self.claimed:
                continue
            if prop.status == "pending" and prop.to not in self.claimed:
                prop.status = "accepted" if rng.random() < agree else "declined"
            if prop.status == "accepted":
                d.ventures.append((prop.frm, prop.to))
        return d

    def _advance(self, weeks: int) -> None:
        """Step the room's world and the model-alone world through the same weeks."""
        self.session.step(weeks)
        self.alone.extend_to(self.model.horizon)
        for _ in range(weeks):
            self.alone.step()
        self.version += 1
        self._cards.clear()
        self._group_lines.clear()
        self._network = None
        self._debrief = None

    def _status(self) -> dict[str, Any]:
        rnd = self.round if self.state == "open" else None
        active = [p for p in self.participants.values() if not p.removed]
        latest = self.model.latest
        return {
            "state": self.state, "round": rnd.id if rnd else len(self.history),
            "rounds": self.rounds_total, "rounds_played": len(self.history),
            "seconds_left": self._seconds_left(), "round_seconds": self.round_seconds,
            "weeks_per_round": self.weeks_per_round, "week": self.model.week,
            "decided": len(rnd.decisions) if rnd else 0,
            "connected": sum(1 for p in active if self._connected(p)),
            "participants": len(active), "version": self.version,
            "code": self.code if self.state != "ended" else None,
            "outcomes": {
                "members": int(latest["members"]), "attendance": int(latest["attendance"]),
                "ties": int(latest["ties"]), "strong_ties": int(latest["strong_ties"]),
                "ventures_formed": int(self.model.events.count(EventKind.VENTURE_FORMED)),
                "ventures_active": int(latest["jv_active"]),
                "knowledge_members": debrief.number(latest["knowledge_members"], 3),
                "survival": debrief.number(latest["survival"], 3),
            },
            "feed": self.session.lines[:8],
        }

    def _debrief_locked(self) -> dict[str, Any]:
        if self._debrief is None:
            self._debrief = debrief.compare(self)
        return self._debrief


def _public_decision(decision: dict[str, Any] | None) -> dict[str, Any] | None:
    if decision is None:
        return None
    topic = decision["topic"]
    return {"attend": decision["attend"],
            "topic": list(checks.TOPICS)[topic] if topic >= 0 else None,
            "talk_to": decision["talk_to"] if decision["talk_to"] >= 0 else None,
            "propose_to": decision["propose_to"] if decision["propose_to"] >= 0 else None,
            "answers": {str(k): v for k, v in decision["answers"].items()}}
