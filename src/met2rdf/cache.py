"""The build's cache on disk: per-note results, one file per key, and indexes (mappings
saved whole, or as their changes in a delta file beside them while those stay small).

Every file is written atomically; one that is missing, truncated or of another version
reads as nothing, so the build does the work again.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputError

# what reading a missing, truncated or foreign pickle raises
_UNREADABLE = (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError,
               TypeError, ImportError, IndexError)


def digest(*parts: bytes | str) -> str:
    """The SHA-256 of some parts, each ended by a NUL (what names a cached result)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


class Cache:
    """Per-note results on disk, one file per key (written atomically), and the build index.

    Without a folder nothing is kept.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def get(self, key: str) -> object | None:
        if self.folder is None:
            return None
        try:
            return pickle.loads((self.folder / key[:2] / key).read_bytes())
        except _UNREADABLE:
            return None

    def put(self, key: str, value: object) -> None:
        if self.folder is None:
            return
        self._write(self.folder / key[:2] / key,
                    pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    def prune(self, keep: set[str]) -> int:
        """Remove the results under other keys (of a previous code or vocabulary); return
        how many."""
        if self.folder is None:
            return 0
        return sum(_unlink(entry.path) for folder in self.folder.glob("??")
                   for entry in os.scandir(folder)
                   if entry.name not in keep and not entry.name.startswith("."))

    def _write(self, path: Path, data: bytes) -> None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise OutputError(f"{self.folder}: cannot write the build cache: "
                              f"{exc.strerror or exc}; make room, or build with --no-cache"
                              ) from None

    def remove_leftovers(self) -> int:
        """Remove the temporary files a killed build left (``.NAME.PID.tmp`` of a process
        that is gone); return how many."""
        if self.folder is None:
            return 0
        removed = 0
        for folder in (self.folder, *self.folder.glob("??")):
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                pid = entry.name.rsplit(".", 2)[-2] if entry.name.endswith(".tmp") else ""
                if entry.name.startswith(".") and pid.isdigit() and not _alive(int(pid)):
                    removed += _unlink(entry.path)
        return removed

    def index(self, name: str, version: str) -> dict:
        """The mapping saved as ``name`` by a build of this ``version`` ({} if none): the
        file ``name`` and the changes since, kept in ``name.delta``."""
        if self.folder is None:
            return {}
        path = self.folder / name
        try:
            with _no_gc(), path.open("rb") as f:  # tens of thousands of objects: the
                st = os.fstat(f.fileno())  # collector would run often
                saved = pickle.loads(f.read())
        except _UNREADABLE:
            return {}
        signature = file_signature(st)
        if not isinstance(saved, tuple) or len(saved) != 2 or not isinstance(saved[1], dict):
            return {}
        saved_version, mapping = saved
        changes: dict = {}
        delta = self._delta(path, signature)
        if delta is not None:
            saved_version, changes = delta
            _apply(mapping, changes)
        _LOADED[path] = (signature, changes)
        return mapping if saved_version == version else {}

    def save_index(self, name: str, version: str, mapping: dict,
                   previous: dict | None = None) -> None:
        """Save ``mapping``; given the mapping ``index`` returned before, only the changes
        are written (to ``name.delta``) while they stay small beside the whole."""
        if self.folder is None:
            return
        path = self.folder / name
        loaded = _LOADED.get(path)
        if previous and loaded is not None and loaded[0] == signature_of(path):
            changes = _merge(loaded[1], _diff(previous, mapping))
            if DELTA_SHARE * _changed_items(changes) <= sum(map(_items, mapping.values())):
                with _no_gc():
                    data = pickle.dumps((loaded[0], version, changes),
                                        protocol=pickle.HIGHEST_PROTOCOL)
                self._write(path.with_name(name + ".delta"), data)
                _LOADED[path] = (loaded[0], changes)
                return
        with _no_gc():
            data = pickle.dumps((version, mapping), protocol=pickle.HIGHEST_PROTOCOL)
        self._write(path, data)  # a new file: the delta no longer applies to it
        _LOADED[path] = (signature_of(path), {})
        try:
            path.with_name(name + ".delta").unlink(missing_ok=True)
        except OSError:
            pass

    @staticmethod
    def _delta(path: Path, signature: tuple[int, ...] | None) -> tuple[str, dict] | None:
        """The version and changes in ``path``'s delta file, if they apply to it as it is."""
        try:
            with _no_gc():
                delta = pickle.loads(path.with_name(path.name + ".delta").read_bytes())
        except _UNREADABLE:
            return None
        if (isinstance(delta, tuple) and len(delta) == 3 and delta[0] == signature
                and isinstance(delta[2], dict)):
            return delta[1], delta[2]
        return None


# The build index is rewritten whole when its changes would be more than an eighth of it.
DELTA_SHARE = 8
# Per file: its signature when read or written and the changes in its delta since.
_LOADED: dict[Path, tuple[tuple[int, ...] | None, dict]] = {}


def _unlink(path: str) -> int:
    """Remove a file; 1 if it went, 0 if it could not (gone already, no permission)."""
    try:
        os.unlink(path)
    except OSError:
        return 0
    return 1


def _alive(pid: int) -> bool:
    """Whether a process of this id runs (then its temporary files may be in use)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return pid > 0
    return True


def file_signature(st: os.stat_result) -> tuple[int, ...]:
    """What tells a file's version without reading it: its size, time and inode."""
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def signature_of(path: Path | str) -> tuple[int, ...] | None:
    """``file_signature`` of the file at ``path`` (None when it cannot be stat'ed)."""
    try:
        return file_signature(os.stat(path))
    except OSError:
        return None


def _diff(old: dict, new: dict) -> dict:
    """What turns ``old`` into ``new``: per key, ("set", value) or, for two mappings,
    ("merge", changed items, removed keys)."""
    changes: dict = {}
    for key, value in new.items():
        before = old.get(key, _DIFF_MISSING)
        if before is value:
            continue
        if isinstance(before, dict) and isinstance(value, dict):
            changed = {k: v for k, v in value.items()
                       if (b := before.get(k, _DIFF_MISSING)) is not v and b != v}
            removed = frozenset(before.keys() - value.keys())
            if changed or removed:
                changes[key] = ("merge", changed, removed)
        elif before != value:
            changes[key] = ("set", value)
    for key in old.keys() - new.keys():
        changes[key] = ("drop",)
    return changes


_DIFF_MISSING = object()


def _merge(first: dict, then: dict) -> dict:
    """The changes ``first`` followed by ``then``, as one."""
    merged = dict(first)
    for key, change in then.items():
        before = merged.get(key)
        if change[0] == "merge" and before is not None and before[0] == "merge":
            changed = {k: v for k, v in before[1].items() if k not in change[2]}
            changed.update(change[1])
            merged[key] = ("merge", changed, (before[2] - change[1].keys()) | change[2])
        elif change[0] == "merge" and before is not None and before[0] == "set":
            merged[key] = ("set", _merged(dict(before[1]), change))
        else:
            merged[key] = change
    return merged


def _merged(value: dict, change: tuple) -> dict:
    value.update(change[1])
    for key in change[2]:
        value.pop(key, None)
    return value


def _apply(mapping: dict, changes: dict) -> None:
    for key, change in changes.items():
        if change[0] == "set":
            mapping[key] = change[1]
        elif change[0] == "drop":
            mapping.pop(key, None)
        else:
            before = mapping.get(key)
            mapping[key] = _merged(before if isinstance(before, dict) else {}, change)


def _items(value: object) -> int:
    return len(value) if isinstance(value, (dict, tuple, list, set, frozenset)) else 1


def _changed_items(changes: dict) -> int:
    """How many items the changes carry (those of a mapping that is merged, one by one)."""
    return sum(len(c[1]) + len(c[2]) if c[0] == "merge" else
               _items(c[1]) if c[0] == "set" else 1 for c in changes.values())


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector (pickles of the build index make no cycles)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
