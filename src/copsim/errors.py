"""The errors copsim reports to users as one line (exit code 2 in the CLI)."""

from __future__ import annotations


def error_line(message: str) -> str:
    """The one line a user sees for an error, whatever newlines the message held."""
    return f"copsim: error: {' '.join(message.split())}"


class CopsimError(Exception):
    """A user-facing error: its message is one line naming file, key and reason."""


class ScenarioError(CopsimError):
    """A scenario or experiment file that cannot be used."""


class OutputError(CopsimError):
    """An output location that cannot be written."""
