"""``copsim workshop``: one shared simulation that people join from their browsers.

Prints the participants' address with the join code, the projector's address and the
facilitator's address with the key, then serves until interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import socket

from copsim.cli.dashboard import port_free
from copsim.cli.run import non_negative_int
from copsim.errors import CopsimError

WORKSHOP_SCENARIO = "workshop"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``workshop`` parser."""
    parser = sub.add_parser("workshop", help="run a workshop: people join from their browsers "
                                             "and play entrepreneurs")
    parser.add_argument("scenario", nargs="?", default=WORKSHOP_SCENARIO,
                        help="scenario file or name in scenarios/ (default: workshop)")
    parser.add_argument("--port", type=int, default=8800, help="port (default 8800)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: this machine only; "
                             "0.0.0.0 to let phones on the room's Wi-Fi join)")
    parser.add_argument("--rounds", type=int, default=8, help="meeting rounds (default 8)")
    parser.add_argument("--weeks-per-round", type=int, default=4,
                        help="simulated weeks per round (default 4: a monthly meeting)")
    parser.add_argument("--round-seconds", type=float, default=90.0,
                        help="time to decide in each round, in seconds (default 90)")
    parser.add_argument("--population", type=int, help="scale the regions to this many firms")
    parser.add_argument("--seed", type=non_negative_int, default=1, help="random seed (default 1)")
    parser.add_argument("--url", help="the participants' address to print and put in the QR "
                                      "code, e.g. http://192.168.1.20:8800/ (default: the "
                                      "address the projector page was opened at)")
    parser.set_defaults(action=action)


def shown_host(host: str) -> str:
    """The host to print: this machine's name when listening on every address."""
    return socket.gethostname() if host in ("0.0.0.0", "::") else host


def action(args: argparse.Namespace) -> int:
    """Build the room, print the three addresses, serve."""
    from copsim.workshop.room import Room
    from copsim.workshop.server import serve

    if not 0 < args.port < 65536:
        raise CopsimError(f"--port: {args.port}: not a port number")
    for name, value, low, high in (("--rounds", args.rounds, 1, 100),
                                   ("--weeks-per-round", args.weeks_per_round, 1, 52),
                                   ("--round-seconds", args.round_seconds, 5, 3600)):
        if not value >= low:  # NaN fails too
            raise CopsimError(f"{name}: {value}: must be at least {low}")
        if value > high:
            raise CopsimError(f"{name}: {value}: must be at most {high}")
    if args.population is not None and args.population < 10:
        raise CopsimError(f"--population: {args.population}: must be at least 10")
    if args.url is not None and not args.url.startswith(("http://", "https://")):
        raise CopsimError(f"--url: {args.url}: must start with http:// or https://")
    if not port_free(args.host, args.port):
        raise CopsimError(f"--port: {args.port}: already in use on {args.host}")
    room = Room(args.scenario, seed=args.seed, population=args.population, rounds=args.rounds,
                weeks_per_round=args.weeks_per_round, round_seconds=args.round_seconds)
    base = f"http://{shown_host(args.host)}:{args.port}/"
    participants = args.url or base
    print(f"Participants: {participants}  join code: {room.code}")
    print(f"Projector:    {base}projector")
    print(f"Facilitator:  {base}facilitator#key={room.key}", flush=True)
    try:
        serve(room, args.host, args.port, public_url=args.url)
    except KeyboardInterrupt:
        pass
    return 0
