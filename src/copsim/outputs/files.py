"""Writing outputs safely: copsim replaces only what it wrote itself, and atomically.

An output directory is written into a temporary sibling ``.NAME.partial-PID-*``
that replaces the target only when complete: the target is renamed to
``.NAME.old-PID``, the temporary directory to NAME, and the old one is removed.
Before a command runs, :func:`prepare_output` checks the target:

- the current directory, one of its ancestors, the home directory and ``/`` are
  refused whatever they hold;
- an existing directory is replaced only if it is empty or holds exactly what
  the same command writes, with its marker file (``run.json``, ``compare.json``,
  ...) naming a copsim version. Anything else is the user's and is refused, with
  no way around it: the user moves or deletes it, or picks another directory;
- the location must be writable (tried, not guessed from permission bits);
- leftovers of a writer that was killed are cleaned up: temporary directories
  are removed, and a target killed between the two renames is finished (the
  complete new directory is moved into place).
"""

from __future__ import annotations

import fnmatch
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from copsim.errors import OutputError


@dataclass(frozen=True)
class OutputKind:
    """What one command writes into its output directory, so that a rerun recognises it."""

    command: str
    marker: str  # a JSON object with "copsim_version": the directory is copsim's
    files: tuple[str, ...]  # fnmatch patterns of every file the command writes

    def refusal(self, out: Path) -> str | None:
        """Why ``out`` (an existing directory) may not be replaced, or None if it may."""
        names = sorted(p.name for p in out.iterdir())
        if not names:
            return None
        foreign = [n for n in names if not any(fnmatch.fnmatchcase(n, f) for f in self.files)]
        if foreign:
            return f"holds {foreign[0]}, which copsim {self.command} does not write"
        if self.marker not in names or not _copsim_marker(out / self.marker):
            return f"holds no {self.marker} written by copsim"
        return None


def _copsim_marker(path: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get("copsim_version"), str)


def prepare_output(out: Path, kind: OutputKind) -> None:
    """Check an output directory before a long run: OutputError if it cannot be used.

    Also finishes or removes what a killed earlier write left next to it.
    """
    refuse_special(out)
    out = Path(out).expanduser()
    check_writable(out)
    recover(out)
    if out.is_dir():
        reason = kind.refusal(out)
        if reason is not None:
            raise OutputError(f"{out}: (output): {reason}; copsim replaces only its own "
                              f"{kind.command} outputs: choose a new or empty directory")


def refuse_special(out: Path) -> None:
    """Refuse the current directory or an ancestor, the home directory and the root."""
    path = Path(out).expanduser().resolve()
    cwd = Path.cwd().resolve()
    home = Path.home().resolve()
    if path == Path(path.anchor):
        what = "the root directory"
    elif path == home:
        what = "the home directory"
    elif path == cwd:
        what = "the current directory"
    elif path in cwd.parents:
        what = "a parent of the current directory"
    elif path in home.parents:
        what = "a parent of the home directory"
    else:
        return
    raise OutputError(f"{out}: (output): is {what}; outputs go into a directory of their own "
                      "(e.g. runs/NAME), which copsim replaces on the next run")


def check_writable(out: Path) -> None:
    """Fail early (before a long run) if the output directory cannot be written.

    Missing parent directories are fine (they are created when the outputs are
    written); a directory is created and removed in the nearest existing ancestor,
    since permission bits do not tell (root, read-only or virtual file systems).
    """
    out = Path(out).expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: (output): exists and is not a directory")
    if out.exists() and not os.access(out, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: (output): directory is not writable")
    ancestor = out.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputError(f"{out}: (output): {ancestor} is a file, not a directory")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".copsim-probe-", dir=ancestor))
    except OSError as exc:
        raise OutputError(f"{out}: (output): cannot create a directory in {ancestor} "
                          f"({exc.strerror or exc.__class__.__name__})") from None


# --- leftovers of killed writes ---------------------------------------------------------------


def _writer_pid(suffix: str) -> int | None:
    """The writer's process id leading a leftover's suffix (None: older copsim named none)."""
    match = re.match(r"(\d+)(-|$)", suffix)
    return int(match[1]) if match else None


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _dead_leftovers(out: Path, role: str) -> dict[int | None, list[Path]]:
    """Temporary siblings of ``out`` whose writer is gone, by its process id."""
    prefix, found = f".{out.name}.{role}-", {}
    if out.parent.is_dir():
        for path in sorted(out.parent.iterdir()):
            if path.name.startswith(prefix):
                pid = _writer_pid(path.name.removeprefix(prefix))
                if not _alive(pid):
                    found.setdefault(pid, []).append(path)
    return found


def recover(out: Path) -> None:
    """Finish a write killed between its two renames; remove what killed writes left.

    A writer renames the old target to ``.NAME.old-PID`` only once its temporary
    directory is complete, so a missing target with such a sibling means: move
    that writer's temporary directory into place.
    """
    out = Path(out).expanduser().resolve()
    try:
        partials = _dead_leftovers(out, "partial")
        for pid, (old, *more) in _dead_leftovers(out, "old").items():
            if not out.exists() and not out.is_symlink():
                os.replace(partials.pop(pid)[0] if pid in partials else old, out)
            for path in (old, *more):
                _remove(path)
        for paths in partials.values():
            for path in paths:
                _remove(path)
    except OSError as exc:
        raise OutputError(f"{out}: (output): cannot clean up an interrupted earlier write "
                          f"({exc.strerror or exc.__class__.__name__})") from None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


@contextmanager
def atomic_directory(out: Path, kind: OutputKind) -> Iterator[Path]:
    """Yield a temporary directory that replaces ``out`` when the block succeeds."""
    prepare_output(out, kind)
    out = Path(out).expanduser().resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-{os.getpid()}-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; outputs are ordinary files
    try:
        yield tmp
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def temporary_file(path: Path) -> Path:
    """Where a file is written before it replaces ``path``: ``.NAME.tmp-PID`` beside it."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def write_text_atomic(path: Path, text: str) -> None:
    """``text`` into ``path`` through :func:`temporary_file`: a reader, or a writer
    killed half-way, never leaves a half-written file at ``path``."""
    tmp = temporary_file(path)
    tmp.write_text(text)
    os.replace(tmp, path)


def write_json(path: Path, data: Any) -> None:
    """Pretty, valid JSON with a trailing newline: NaN and infinities become null."""
    text = json.dumps(_finite(data), indent=2, sort_keys=False, allow_nan=False)
    path.write_text(text + "\n")


def _finite(value: Any) -> Any:
    """The value with every non-finite float (an undefined ratio) replaced by None."""
    if hasattr(value, "item"):  # a NumPy scalar
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
