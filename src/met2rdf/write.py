"""Serialize triples to Turtle, named graphs to N-Quads or TriG, and write files atomically."""

from __future__ import annotations

import glob
import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyoxigraph as ox

from .cache import Cache, signature_of
from .errors import OutputError
from .graph import PREFIXES, sort_key
from .result import BuildResult, NamedGraph
from .store import STORE_KEYS, sync_store
from .turtle import TURTLE_HEADER as HEADER
from .turtle import prefix_lines

DATASET_FORMATS = ("nquads", "trig")



def to_turtle(triples: Iterable[ox.Triple]) -> bytes:
    """Return deterministic Turtle: unique triples sorted by subject, predicate, object."""
    unique = sorted(set(triples), key=sort_key)
    body = ox.serialize(unique, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    assert body is not None  # serialize returns bytes when no output is given
    return HEADER + body


def to_dataset(graphs: Sequence[NamedGraph], fmt: str) -> bytes:
    """Return named graphs as deterministic N-Quads or TriG (graphs and triples sorted).

    N-Quads has no header comment, for bulk loaders that read it line by line.
    """
    quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g.iri))
             for g in sorted(graphs, key=lambda g: g.iri)
             for t in sorted(set(g.triples), key=sort_key)]
    if fmt == "nquads":
        return ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""
    return HEADER + (ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=PREFIXES) or b"")


def write_atomic(path: Path, data: bytes | Callable[[int], None]) -> None:
    """Write bytes to ``path`` whole or not at all: the old file stays until the new one is
    complete.  ``data`` may also be a function that writes to the file descriptor it gets.

    The bytes go to a temporary file beside it (``.NAME.PID.RANDOM.tmp``), synced, then
    renamed over it.  A failure (disk full, no permission, an interrupt) removes the
    temporary file and keeps the old one, raising :class:`OutputError` for an OS error; the
    temporary file of a process killed outright is removed by the next write of ``path``.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(path)
        tmp = _write_named(path, data)
        try:
            os.replace(tmp, path)
        except BaseException:
            _unlink(tmp)
            raise
        _sync_folder(path.parent)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}; the previous file "
                          "is kept") from exc


def _temporary_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")


def _write_named(path: Path, data: bytes | Callable[[int], None]) -> Path:
    tmp = _temporary_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        if callable(data):
            data(fd)
        else:
            _write_all(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        _unlink(tmp)
        raise
    os.close(fd)
    return tmp


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _copy_range(source: int, target: int, offset: int, count: int) -> None:
    """Append ``count`` bytes of ``source`` from ``offset`` to ``target`` (in the kernel
    where it can)."""
    while count > 0:
        try:
            done = os.copy_file_range(source, target, count, offset)
        except OSError:  # not on this file system: copy through memory
            data = os.pread(source, count, offset)
            if not data:
                raise OSError(f"the previous file ended early (at byte {offset})") from None
            _write_all(target, data)
            done = len(data)
        if done == 0:
            raise OSError(f"the previous file ended early (at byte {offset})")
        offset += done
        count -= done


def _sync_folder(folder: Path) -> None:
    """Make the rename durable (where folders can be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_stale_temporaries(path: Path) -> None:
    """Remove temporary files of ``path`` left by processes that no longer run."""
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = tmp.name[len(path.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            _unlink(tmp)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


LAYOUT = "layout"


def write_graph(path: Path, result: BuildResult) -> None:
    """Write a build's graph as Turtle to ``path``: the notes' chunks in path order, then
    the vocabulary's (the bytes of ``result.turtle()``), atomically.

    With a cache folder, the build remembers where each chunk went; a chunk unchanged since
    the previous write is copied from the previous file (checked by its size, time and
    inode) instead of being read back from the cache, so a rebuild writes in the time of a
    file copy.
    """
    cache = Cache(result.cache_dir)
    version = str(path.resolve())
    layout = cache.index(LAYOUT, version)
    previous: dict[str, tuple[str, int, int]] = layout.get("parts", {})
    now = signature_of(path)
    if now is None or layout.get("stat") != now:
        previous = {}
    parts: dict[str, tuple[str, int, int]] = {}

    def write(fd: int) -> None:
        head = HEADER + prefix_lines()
        _write_all(fd, head)
        position, run = len(head), (0, 0)  # run: a stretch of the old file still to copy
        source = os.open(path, os.O_RDONLY) if previous else -1
        try:
            for iri, key, read in result.chunks():
                old = previous.get(iri)
                if old is not None and old[0] == key:
                    size = old[2]
                    if run[1] and run[0] + run[1] == old[1]:
                        run = (run[0], run[1] + size)
                    else:
                        _copy_range(source, fd, *run)
                        run = (old[1], size)
                else:
                    _copy_range(source, fd, *run)
                    run = (0, 0)
                    chunk = read()
                    _write_all(fd, chunk)
                    size = len(chunk)
                parts[iri] = (key, position, size)
                position += size
            _copy_range(source, fd, *run)
        finally:
            if source != -1:
                os.close(source)

    write_atomic(path, write)
    cache.save_index(LAYOUT, version, {"stat": signature_of(path), "parts": parts})


def write_turtle(path: Path, triples: Iterable[ox.Triple]) -> None:
    """Write triples to a Turtle file atomically."""
    write_atomic(path, to_turtle(triples))


def write_outputs(result: BuildResult, path: Path, store: ox.Store | None) -> tuple[float, float]:
    """Write ``path`` (:func:`write_graph`) and bring the store up to date (:func:`sync_store`,
    remembering its keys in the build's cache) at the same time: copying, syncing and
    renaming the file is mostly the kernel's work.  Returns the seconds each took."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as pool:
        written = pool.submit(_timed, write_graph, path, result)
        stored = 0.0
        try:
            if store is not None:
                sync_store(store, result.chunks(build_graph=True),
                           remember=result.cache_dir / STORE_KEYS if result.cache_dir else None)
                stored = time.perf_counter() - started
        finally:
            error = written.exception()
    if error is not None:
        raise error
    return written.result(), stored


def _timed(function: Callable, *args: object) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started
