"""Workshop mode: people join a live simulation from their browsers and play entrepreneurs.

- :mod:`copsim.workshop.room`: the shared session (model, lock, participants, rounds);
- :mod:`copsim.workshop.checks`: checks of everything people send;
- :mod:`copsim.workshop.debrief`: the room against the model alone, and the record;
- :mod:`copsim.workshop.server`: the web app (JSON API and three pages).
"""

from copsim.workshop.checks import WorkshopError
from copsim.workshop.room import Room, Ticket

__all__ = ["Room", "Ticket", "WorkshopError"]
