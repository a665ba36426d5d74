"""Checks of everything a participant or facilitator sends, before it reaches the room.

Each check returns a clean value or raises :class:`WorkshopError` with an HTTP status,
a short machine code and a sentence a person can act on. Nothing here touches the
model, so checks run before the room's lock is taken.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Callable
from typing import Any

from copsim.dtypes import Topic

JOIN_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a projector
CODE_LENGTH = 6
NAME_MAX = 24
NONCE = re.compile(r"[A-Za-z0-9_-]{8,64}")
TOPICS = {t.name.lower(): int(t) for t in Topic}
DECISION_FIELDS = {"entrepreneur", "attend", "topic", "talk_to", "propose_to", "answers"}
MAX_ANSWERS = 20
BAD_CODE = "That join code is not right: check the code on the projector."
WRONG_GUESSES = 10  # wrong join codes an address may send ...
GUESS_WINDOW = 60.0  # ... within this many seconds
GUESSERS_KEPT = 10_000  # addresses remembered at most (the oldest are forgotten)


class WorkshopError(Exception):
    """A refused request: ``status`` (HTTP), ``code`` (for programs), message (for people),
    and for a refusal that passes ``retry_after`` seconds (for the Retry-After header)."""

    def __init__(self, status: int, code: str, message: str,
                 retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.retry_after is not None:
            data["retry_after"] = self.retry_after
        return data


class GuessLimit:
    """Wrong join codes per client address: after ``limit`` of them within ``window``
    seconds, every join from that address is refused (429) until the oldest is ``window``
    old, so a 6-character code cannot be guessed by trying (31^6 codes, 10 a minute)."""

    def __init__(self, limit: int = WRONG_GUESSES, window: float = GUESS_WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._wrong: dict[str, deque[float]] = {}  # oldest address first
        self._lock = threading.Lock()

    def check(self, address: str) -> None:
        """Refuse an address that has used up its wrong guesses, saying when to try again."""
        with self._lock:
            recent = self._recent(address)
            if len(recent) >= self.limit:
                wait = max(1, math.ceil(recent[0] + self.window - self.clock()))
                raise WorkshopError(429, "too_many_guesses",
                                    f"Too many wrong join codes from this device: try again "
                                    f"in {wait} s.", retry_after=wait)

    def wrong(self, address: str) -> None:
        """Count a wrong join code from ``address``."""
        with self._lock:
            recent = self._recent(address)
            recent.append(self.clock())
            self._wrong.pop(address, None)
            self._wrong[address] = recent  # now the newest
            while len(self._wrong) > GUESSERS_KEPT:
                del self._wrong[next(iter(self._wrong))]

    def _recent(self, address: str) -> deque[float]:
        """The address's wrong guesses within the window (older ones dropped)."""
        recent = self._wrong.get(address, deque())
        while recent and recent[0] <= self.clock() - self.window:
            recent.popleft()
        return recent


def invalid(message: str) -> WorkshopError:
    """A malformed or impossible value (422)."""
    return WorkshopError(422, "invalid", message)


def new_join_code() -> str:
    """A short code to read off the projector: 6 characters, none ambiguous."""
    return "".join(secrets.choice(JOIN_ALPHABET) for _ in range(CODE_LENGTH))


def token_digest(token: str) -> str:
    """What the room stores of a token (never the token itself)."""
    return hashlib.sha256(token.encode()).hexdigest()


def same_secret(given: object, expected: str) -> bool:
    """Constant-time comparison of a secret given in a request with the expected one."""
    return isinstance(given, str) and len(given) < 256 and hmac.compare_digest(
        given.encode(), expected.encode())


def normalise_code(code: object) -> str:
    """A join code as typed (any case, spaces or dashes) in its canonical form."""
    if not isinstance(code, str) or len(code) > 32:
        raise WorkshopError(403, "bad_code", BAD_CODE)
    return re.sub(r"[\s-]", "", code).upper()


def display_name(name: object) -> str:
    """A participant's display name: 1-24 printable characters."""
    if not isinstance(name, str):
        raise invalid("Your name must be text.")
    name = " ".join(name.split())
    if not name:
        raise invalid("Please enter a name (it is shown to the room).")
    if len(name) > NAME_MAX:
        raise invalid(f"Please use a shorter name (at most {NAME_MAX} characters).")
    if any(unicodedata.category(c)[0] == "C" for c in name):
        raise invalid("Your name contains characters that cannot be shown.")
    return name


def nonce(value: object) -> str:
    """A client-made single-use action id: 8-64 characters of A-Z a-z 0-9 _ -."""
    if not isinstance(value, str) or NONCE.fullmatch(value) is None:
        raise invalid("Every action needs a nonce: 8 to 64 letters, digits, '_' or '-'.")
    return value


def integer(value: object, what: str) -> int:
    """A JSON integer (not a boolean, not a float)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"{what} must be a whole number.")
    return value


def optional_row(value: object, what: str) -> int:
    """A firm row or null (-1)."""
    return -1 if value is None else integer(value, what)


def decision(data: object) -> dict[str, Any]:
    """The shape and types of a decision; who and what it names is checked by the room.

    ``{"entrepreneur": row, "attend": bool, "topic": name | null, "talk_to": row | null,
    "propose_to": row | null, "answers": {"<proposal id>": bool}}``
    """
    if not isinstance(data, dict):
        raise invalid("A decision is an object with the fields "
                      + ", ".join(sorted(DECISION_FIELDS)) + ".")
    unknown = sorted(set(data) - DECISION_FIELDS)
    if unknown:
        raise invalid(f"Unknown field in the decision: {unknown[0]}.")
    if "entrepreneur" not in data or "attend" not in data:
        raise invalid("A decision names the entrepreneur and whether they attend.")
    if not isinstance(data["attend"], bool):
        raise invalid("attend must be true or false.")
    topic = data.get("topic")
    if topic is not None and (not isinstance(topic, str) or topic not in TOPICS):
        raise invalid("topic must be one of: " + ", ".join(TOPICS) + " (or null).")
    answers = data.get("answers", {})
    if not isinstance(answers, dict) or len(answers) > MAX_ANSWERS:
        raise invalid(f"answers must be an object of at most {MAX_ANSWERS} proposal ids.")
    clean_answers = {}
    for key, accept in answers.items():
        if not key.isdigit() or len(key) > 9 or not isinstance(accept, bool):
            raise invalid("answers maps a proposal id to true (accept) or false (decline).")
        clean_answers[int(key)] = accept
    return {"entrepreneur": integer(data["entrepreneur"], "entrepreneur"),
            "attend": data["attend"], "topic": -1 if topic is None else TOPICS[topic],
            "talk_to": optional_row(data.get("talk_to"), "talk_to"),
            "propose_to": optional_row(data.get("propose_to"), "propose_to"),
            "answers": clean_answers}


def number(value: object, what: str, low: float, high: float) -> float:
    """A JSON number within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise invalid(f"{what} must be a number from {low:g} to {high:g}.")
    return float(value)
