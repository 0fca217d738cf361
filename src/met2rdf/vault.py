"""Find the notes of a vault and decode them; resolve wikilinks the way Obsidian does."""

from __future__ import annotations

import os
import re
import stat
import time
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path, PurePosixPath

from .cache import file_signature
from .model import Problem, SourceNote, SourceSpan, UnchangedNote

NOTE_SUFFIX = ".md"
_RELATIVE = re.compile(r"^(?:\.{0,2}/)+")
MAX_NOTE_BYTES = 1 << 20  # a larger note is refused (parse time grows with size)


def find_note_files(root: Path) -> tuple[Path, list[Path]]:
    """Return the vault root and its note files, sorted by vault-relative path.

    ``root`` is a vault folder (every ``*.md`` below it, skipping dot-folders such as
    ``.obsidian/`` and ``.trash/``) or a single note, whose folder becomes the root.
    Symbolic links to folders are not followed, so link loops and links out of the
    vault cannot be walked into; a linked note counts only when it lies inside the vault,
    and anything but a regular file (a pipe, a device, a broken or looping link) is passed
    over.
    """
    if root.is_file():
        return root.parent, [root]
    return root, [Path(path) for _, path in _note_files(root)]


def _note_files(root: Path) -> list[tuple[str, str]]:
    """(vault-relative path, path) of every note below the folder ``root``, sorted."""
    real_root = root.resolve()
    found: list[tuple[str, str]] = []
    stack = [(str(root), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:  # gone or no permission: passed over, as os.walk does
            continue
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, f"{prefix}{name}/"))
                    continue
                if not name.lower().endswith(NOTE_SUFFIX):
                    continue
                if (_regular_file_inside(Path(entry.path), real_root) if entry.is_symlink()
                        else entry.is_file(follow_symlinks=False)):
                    found.append((prefix + name, entry.path))
            except OSError:
                continue
    found.sort()
    return found


def _regular_file_inside(path: Path, real_root: Path) -> bool:
    """Whether ``path`` is a regular file, or a link to one inside the vault."""
    try:
        if not path.is_symlink():
            return stat.S_ISREG(path.lstat().st_mode)
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # gone, no permission, or a link loop (RuntimeError)
        return False
    return real_root in target.parents and target.is_file()


def decode_note(data: bytes, rel: str) -> SourceNote | Problem:
    """Decode a note's bytes (UTF-8, optional BOM, any newline style) or explain why not."""
    if len(data) > MAX_NOTE_BYTES:
        return too_large(rel, len(data))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Problem(SourceSpan(rel, 1), "not UTF-8 at byte 0 (a UTF-16 byte order mark); "
                                           "re-save the note as UTF-8, skipped")
    problems: tuple[Problem, ...] = ()
    if b"\x00" in data:
        offset = data.index(b"\x00")
        span = SourceSpan(rel, data.count(b"\n", 0, offset) + 1)
        stripped = data.replace(b"\x00", b"")
        if not _stray_nuls(data, stripped):
            return Problem(span, f"binary data (NUL byte at byte {offset}); not a Markdown "
                                 "note, skipped")
        count = len(data) - len(stripped)
        what = f"a NUL byte at byte {offset}" if count == 1 else (
            f"{count} NUL bytes from byte {offset}")
        problems = (Problem(span, f"{what} left out, the rest read; re-save the note "
                                  "without them"),)
        data = stripped
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return Problem(SourceSpan(rel, line),
                       f"not UTF-8 at byte {exc.start}; re-save the note as UTF-8, skipped")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    name = PurePosixPath(rel).name
    title = name[: -len(NOTE_SUFFIX)] if name.lower().endswith(NOTE_SUFFIX) else name
    return SourceNote(path=rel, title=title, text=text, problems=problems)


MAX_STRAY_NULS = 8  # more NUL bytes than this, not all at the end: binary data


def _stray_nuls(data: bytes, stripped: bytes) -> bool:
    """Whether the NUL bytes of a note are strays in text (a few, or a run at the end of
    it) and the rest is UTF-8 text, not binary data."""
    inner = data.rstrip(b"\x00").count(b"\x00")
    if inner > MAX_STRAY_NULS or not stripped.strip():
        return False
    try:
        stripped.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


def too_large(rel: str, size: int) -> Problem:
    """Return the problem of a note over the size limit."""
    return Problem(SourceSpan(rel, 1), f"{size:,} bytes, over the limit of {MAX_NOTE_BYTES:,} "
                                       "bytes for one note; split it, skipped")


def read_vault(root: Path, known: Mapping[str, tuple[int, ...]] | None = None
               ) -> Iterator[SourceNote | UnchangedNote | Problem]:
    """Yield every note of the vault at ``root`` (or a problem for a note that cannot be read).

    A note over ``MAX_NOTE_BYTES`` is refused before it is read.  A note whose size,
    modification time and inode are those ``known`` gives an :class:`UnchangedNote`
    without being read.
    """
    notes: list[tuple[str, str]]
    if root.is_file():
        notes = [(root.name, str(root))]
    else:
        notes = _note_files(root)
    for rel, path in notes:
        if (unreadable := _bad_name(rel)) is not None:
            yield unreadable
            continue
        if known:
            signature = known.get(rel)
            if signature:
                try:
                    if file_signature(os.stat(path)) == signature:
                        yield UnchangedNote(rel, str(path), signature)
                        continue
                except OSError:
                    pass
        yield read_note(rel, path)


def _bad_name(rel: str) -> Problem | None:
    """The problem of a vault path that is not valid UTF-8 (its bytes decoded with
    surrogate escapes, as ``os`` gives them), shown with U+FFFD for the bad bytes."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError as exc:
        raw = rel.encode("utf-8", "surrogateescape")
        shown = raw.decode("utf-8", "replace")
        return Problem(SourceSpan(shown, 1),
                       f"the file name is not valid UTF-8 (byte 0x{raw[exc.start]:02x}... at "
                       f"character {exc.start}); rename the note, skipped")
    return None


def read_note(rel: str, path: Path | str) -> SourceNote | Problem:
    """Read and decode one note file (``rel``: its vault-relative path)."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_size > MAX_NOTE_BYTES:
                return too_large(rel, st.st_size)
            data = f.read(MAX_NOTE_BYTES + 1)
    except OSError as exc:
        return Problem(SourceSpan(rel, 1), f"cannot read: {exc.strerror}; skipped")
    note = decode_note(data, rel)
    if (isinstance(note, SourceNote) and not note.problems  # else read (and warned) again
            and time.time_ns() - st.st_mtime_ns > _SETTLED_NS):
        # trusted next time only if it was not written in the last seconds: a second write
        # in the same clock tick with the same size would otherwise go unseen
        note = replace(note, signature=file_signature(st))
    return note


_SETTLED_NS = 2_000_000_000


def link_key(name: str) -> str:
    """Normalise a note name or link target for matching (case and Unicode form folded)."""
    return unicodedata.normalize("NFC", name).strip().casefold()


def _name(key: str) -> str:
    """The last part of a link key (a plain name, the common case, is its own)."""
    if "/" not in key and key != ".":
        return key
    return PurePosixPath(key).name if key else ""


class LinkResolver:
    """Resolve wikilink targets to note paths the way Obsidian does.

    A target is matched without case (Unicode NFC, casefolded), a trailing ``.md`` and
    leading ``/``, ``./`` or ``../`` dropped: first as a vault path (``[[F/N]]`` is
    ``F/N.md``), then as the end of paths (``[[N]]`` and ``[[F/N]]`` also match
    ``G/F/N.md``).  When several notes match, the one with the fewest folders wins, then
    the first in path order; ``ambiguities`` reports such links.  Headings, block ids and
    shown text (``#H``, ``#^id``, ``|A``) are split off before (see ``parse.split_link``).
    """

    def __init__(self, paths: Iterable[str]) -> None:
        self._by_path: dict[str, list[str]] = {}
        self._by_name: dict[str, list[str]] = {}
        self._memo: dict[str, tuple[str, ...]] = {}
        for path in sorted(paths):
            key = link_key(path[:-len(NOTE_SUFFIX)] if path.lower().endswith(NOTE_SUFFIX)
                           else path)
            self._by_path.setdefault(key, []).append(path)
            self._by_name.setdefault(key.rpartition("/")[2], []).append(path)
        for names in self._by_name.values():
            names.sort(key=lambda p: (p.count("/"), p))
        self.ambiguous = {k: tuple(v) for k, v in self._by_name.items() if len(v) > 1}
        # paths that differ only in case or Unicode form (Bone.md, bone.md): one name
        self.collisions = {k: tuple(v) for k, v in self._by_path.items() if len(v) > 1}

    @staticmethod
    def name(target: str) -> str:
        """The note name a link target (or a note's path) is matched by: a target can only
        ever reach notes of its name."""
        return _name(_RELATIVE.sub("", link_key(target).removesuffix(NOTE_SUFFIX)))

    def candidates(self, target: str) -> tuple[str, ...]:
        """Return every note path a link target matches, the one it resolves to first."""
        found = self._memo.get(target)
        if found is None:
            found = self._memo[target] = self._candidates(target)
        return found

    def _candidates(self, target: str) -> tuple[str, ...]:
        key = _RELATIVE.sub("", link_key(target).removesuffix(NOTE_SUFFIX))
        if key in self._by_path:
            return tuple(self._by_path[key])
        found = self._by_name.get(_name(key), [])
        if "/" in key:
            found = [p for p in found if link_key(p).removesuffix(NOTE_SUFFIX)
                     .endswith("/" + key)]
        return tuple(found)

    def resolve(self, target: str) -> str | None:
        """Return the vault path a link target points to, or None when unresolved."""
        found = self.candidates(target)
        return found[0] if found else None

    def ambiguities(self, targets: Iterable[str]) -> list[Problem]:
        """Return a warning at each note that links to a shared name cannot reach.

        One per note passed over (at its line 1): each note whose path differs from an
        earlier one only in case or Unicode form, and each note passed over by one of the
        ``targets`` that match several notes.
        """
        colliding = {path: paths[0] for paths in self.collisions.values() for path in paths[1:]}
        passed_over: dict[str, tuple[str, str]] = {}
        for target in sorted(set(targets)):
            if self.name(target) not in self.ambiguous:  # one note at most has its name
                continue
            found = self.candidates(target)
            for path in found[1:]:
                if path not in colliding:
                    passed_over.setdefault(path, (target, found[0]))
        same = [Problem(SourceSpan(path, 1), f"this note's path differs from {first} only in "
                                             f"case or Unicode form, so links reach {first}; "
                                             "rename one of them")
                for path, first in sorted(colliding.items())]
        return same + [Problem(SourceSpan(path, 1), f"[[{target}]] matches this note and "
                                                    f"{chosen}, and links to {chosen}; write "
                                                    "the folder in links to choose")
                       for path, (target, chosen) in sorted(passed_over.items())]
