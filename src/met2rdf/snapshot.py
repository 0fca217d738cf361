"""Published snapshots of the store, so that readers never wait for a writer.

A process that wrote the store (``build``, ``load``, ``watch``) checkpoints it when its
write is complete, while it still holds the store: ``Store.backup``, a RocksDB checkpoint
made of hard links, into the next generation ``STORE/.snapshots/N`` (RocksDB passes over
files it does not name, so the folder lives inside the store and goes where it goes).  The
file ``STORE/.snapshots/current`` then names ``N``; it is replaced atomically, so it always
names a whole checkpoint.  Only the current generation and the one before are kept.

A reader opens the live store (and so holds it for the time of its read, as before).  When
a writer holds it, or a build stopped half-way (the store has no dataset key, which a build
removes first and puts back last, and its snapshot had one), the reader opens the current
snapshot read-only instead: the state of the last complete write.  Each snapshot has a
``N.pin`` file a reader holds a shared lock on while it reads; a writer retires an old
generation only under an exclusive lock, so no snapshot is removed under a reader, and a
reader that finds its generation gone reads ``current`` again.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from .errors import StoreError, StoreInUseError
from .store import dataset_key, open_store

try:
    import fcntl
except ImportError:  # Windows: no pins; a retired snapshot's reader may fail and retry
    fcntl = None  # type: ignore[assignment]

SNAPSHOTS = ".snapshots"
CURRENT = "current"
KEEP = 2  # generations kept: the current one and the one before
TRIES = 5  # times a reader reads ``current`` again when its generation was retired


@dataclass(frozen=True, slots=True)
class ReadStore:
    """A store opened for reading: the live store, or the snapshot of the last complete
    write (``generation``) with ``reason`` saying why."""

    store: ox.Store
    generation: int | None = None
    reason: str = ""
    pin: IO[bytes] | None = None  # the shared lock that keeps the snapshot from retiring


def open_for_reading(path: Path) -> ReadStore:
    """Open the store in folder ``path`` to read it, never waiting for a writer."""
    try:
        live = open_store(path)
    except StoreInUseError:
        snapshot = _open_current(path)
        if snapshot is None:
            raise
        return ReadStore(snapshot[0], snapshot[1], f"{path} is held by another process (a "
                         "build, load or query); reading its last complete build", snapshot[2])
    if dataset_key(live) is None and _built(path / SNAPSHOTS):
        del live  # a build stopped half-way: its last complete state is the snapshot
        snapshot = _open_current(path)
        if snapshot is not None:
            return ReadStore(snapshot[0], snapshot[1], f"{path} was left half-written by a "
                             "build that stopped; reading its last complete build (build "
                             "again to bring it up to date)", snapshot[2])
        return ReadStore(open_store(path))
    return ReadStore(live)


def publish_snapshot(store: ox.Store, path: Path) -> int:
    """Checkpoint ``store`` (the store in folder ``path``, held by this process, its write
    complete) as the next generation, name it in ``current`` and retire older ones but the
    one before; return its number."""
    folder = path / SNAPSHOTS
    try:
        folder.mkdir(exist_ok=True)
        _remove_leftovers(folder)
        before = _current(folder)
        generations = _generations(folder)
        number = max([*generations, before or 0]) + 1
        (folder / f"{number}.pin").touch()
        store.backup(str(folder / str(number)))
        _replace(folder / CURRENT, f"{number}\n{dataset_key(store) or ''}\n".encode())
    except OSError as exc:
        raise StoreError(f"{folder}: cannot write the store's snapshot: {exc}; make room "
                         "and build again (readers meanwhile read the previous one)") from None
    for old in generations:
        if old not in (number, before):
            _retire(folder, old)
    return number


def _pointer(folder: Path) -> list[str]:
    """The lines of ``current``: the generation, then the dataset key of the build it holds
    (empty for a store no build made)."""
    try:
        return (folder / CURRENT).read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def _remove_leftovers(folder: Path) -> None:
    """Remove what killed writers left: a checkpoint half made (RocksDB's ``N.tmp``), a
    pointer not renamed.  No writer but the caller, who holds the store, is at work."""
    for path in folder.glob("*.tmp"):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _current(folder: Path) -> int | None:
    lines = _pointer(folder)
    return int(lines[0]) if lines and lines[0].isdigit() else None


def _built(folder: Path) -> bool:
    """Whether the current snapshot holds a build (its store had a dataset key, which a
    build removes first and puts back last)."""
    lines = _pointer(folder)
    return len(lines) > 1 and bool(lines[1])


def _generations(folder: Path) -> list[int]:
    """The generations in the folder, whole or not (a killed writer's partial one too)."""
    names = {p.name.removesuffix(".pin") for p in folder.iterdir()}
    return sorted(int(n) for n in names if n.isdigit())


def _open_current(path: Path) -> tuple[ox.Store, int, IO[bytes] | None] | None:
    """Open the current snapshot read-only, pinned; None when there is none."""
    folder = path / SNAPSHOTS
    for _ in range(TRIES):
        number = _current(folder)
        if number is None:
            return None
        try:
            pin = open(folder / f"{number}.pin", "rb")  # noqa: SIM115 -- held by ReadStore
        except FileNotFoundError:
            continue  # retired since current was read; read it again
        if fcntl is not None:
            fcntl.flock(pin.fileno(), fcntl.LOCK_SH)
        try:
            return ox.Store.read_only(str(folder / str(number))), number, pin
        except OSError:
            pin.close()  # retired between the two: read current again
    return None


def _retire(folder: Path, number: int) -> None:
    """Remove a generation unless a reader holds it (then the next writer tries again)."""
    pin_path = folder / f"{number}.pin"
    try:
        pin = open(pin_path, "rb")  # noqa: SIM115
    except FileNotFoundError:
        pin = None
    try:
        if pin is not None and fcntl is not None:
            try:
                fcntl.flock(pin.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return
        shutil.rmtree(folder / str(number), ignore_errors=True)
        pin_path.unlink(missing_ok=True)
    finally:
        if pin is not None:
            pin.close()


def _replace(path: Path, data: bytes) -> None:
    """Write a small file atomically: a temporary file beside it, synced, renamed."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
