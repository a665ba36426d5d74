"""``copsim scenarios``: list the shipped scenarios, shocks and experiments; copy one to edit it."""

from __future__ import annotations

import argparse
import os
import tempfile
import tomllib
from pathlib import Path
from typing import NamedTuple

from copsim import resources
from copsim.errors import OutputError, ScenarioError


class Kind(NamedTuple):
    """One kind of shipped file: its folder, its heading, and how a file of it is used."""

    folder: str
    heading: str
    use: str  # {0}: a name or a path


# Listed in this order; ``copy`` looks a name up in the same order.
LIBRARY = (
    Kind(resources.SCENARIOS, "Scenarios", "copsim run {0}"),
    Kind(resources.SHOCKS, "Shock overlays", "copsim run --shock {0}"),
    Kind(resources.EXPERIMENTS, "Experiments", "copsim sweep {0}"),
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``scenarios`` parser and its ``copy`` subcommand."""
    parser = sub.add_parser("scenarios", help="list the shipped scenarios, shocks and experiments")
    parser.set_defaults(action=list_action)
    actions = parser.add_subparsers(dest="scenarios_command", parser_class=type(parser))
    copy = actions.add_parser("copy", help="write an editable copy of a shipped file")
    copy.add_argument("name", help="a name that copsim scenarios lists")
    copy.add_argument("directory", nargs="?", type=Path, default=Path("."),
                      help="where to write NAME.toml (default: here); never overwrites")
    copy.set_defaults(action=copy_action)


def listing() -> str:
    """Every shipped file by kind, one line each: its name and its description."""
    blocks = []
    for kind in LIBRARY:
        files = sorted(resources.folder(kind.folder).glob("*.toml"))
        width = max((len(f.stem) for f in files), default=0)
        lines = [f"  {f.stem:<{width}}  {resources.description(f)}" for f in files]
        blocks.append(f"{kind.heading} ({kind.use.format('NAME')}):\n" + "\n".join(lines))
    blocks.append("Edit a copy: copsim scenarios copy NAME [DIR]")
    return "\n\n".join(blocks)


def list_action(args: argparse.Namespace) -> int:
    """Print the listing."""
    print(listing())
    return 0


def find_shipped(name: str) -> tuple[Kind, Path]:
    """The kind and file of a shipped name; an unknown name is a one-line error."""
    for kind in LIBRARY:
        found = resources.shipped(name, kind.folder)
        if found is not None:
            return kind, found
    known = ", ".join(n for kind in LIBRARY for n in resources.shipped_names(kind.folder))
    raise ScenarioError(f"{name}: (name): nothing of that name is shipped (known: {known})")


def _exists(target: Path) -> OutputError:
    return OutputError(f"{target}: (file): already exists; copsim scenarios copy never overwrites "
                       "(remove it or name another directory)")


def copy_file(source: Path, directory: Path) -> Path:
    """Copy ``source`` into ``directory`` under its own name, atomically and never overwriting."""
    target = directory / source.name
    if target.exists():
        raise _exists(target)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=directory, prefix=f".{source.name}.",
                                         delete=False) as tmp:
            tmp.write(source.read_bytes())
        os.chmod(tmp.name, 0o666 & ~_umask())  # an ordinary file, not the temporary's 0600
        try:
            os.link(tmp.name, target)  # refuses an existing target, even one made meanwhile
        finally:
            os.unlink(tmp.name)
    except FileExistsError:
        raise _exists(target) from None
    except OSError as exc:
        raise OutputError(f"{directory}: (directory): cannot write there "
                          f"({exc.strerror or exc.__class__.__name__})") from None
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def copy_action(args: argparse.Namespace) -> int:
    """Write the copy and say how to use it."""
    kind, source = find_shipped(args.name)
    target = copy_file(source, args.directory)
    print(f"Wrote {target}. Edit it, then: {kind.use.format(target)}")
    base = tomllib.loads(target.read_text(encoding="utf-8")).get("extends")
    if isinstance(base, str):
        print(f"It extends {base}: the file of that name beside it if there is one, "
              "else the shipped scenario.")
    return 0
