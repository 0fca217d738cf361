"""Find the notes of a vault and decode them; resolve wikilinks the way Obsidian does."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from .model import Problem, SourceNote, SourceSpan

NOTE_SUFFIX = ".md"


def find_note_files(root: Path) -> tuple[Path, list[Path]]:
    """Return the vault root and its note files, sorted by vault-relative path.

    ``root`` is a vault folder (every ``*.md`` below it, skipping dot-folders such as
    ``.obsidian/`` and ``.trash/``) or a single note, whose folder becomes the root.
    Symbolic links to folders are not followed, so link loops and links out of the
    vault cannot be walked into.
    """
    if root.is_file():
        return root.parent, [root]
    files: list[Path] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            path = Path(folder, name)
            if name.startswith(".") or not name.lower().endswith(NOTE_SUFFIX):
                continue
            if path.is_symlink() and not _inside(path.resolve(), root.resolve()):
                continue
            files.append(path)
    files.sort(key=lambda p: p.relative_to(root).as_posix())
    return root, files


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def decode_note(data: bytes, rel: str) -> SourceNote | Problem:
    """Decode a note's bytes (UTF-8, optional BOM, any newline style) or explain why not."""
    if b"\x00" in data:
        offset = data.index(b"\x00")
        return Problem(SourceSpan(rel, data.count(b"\n", 0, offset) + 1),
                       f"binary data (NUL byte at byte {offset}); not a Markdown note, skipped")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return Problem(SourceSpan(rel, line),
                       f"not UTF-8 at byte {exc.start}; re-save the note as UTF-8, skipped")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    name = PurePosixPath(rel).name
    title = name[: -len(NOTE_SUFFIX)] if name.lower().endswith(NOTE_SUFFIX) else name
    return SourceNote(path=rel, title=title, text=text)


def read_vault(root: Path) -> Iterator[SourceNote | Problem]:
    """Yield every note of the vault at ``root`` (or a problem for a note that cannot be read)."""
    base, files = find_note_files(root)
    for path in files:
        rel = path.relative_to(base).as_posix()
        try:
            data = path.read_bytes()
        except OSError as exc:
            yield Problem(SourceSpan(rel, 1), f"cannot read: {exc.strerror}; skipped")
            continue
        yield decode_note(data, rel)


def link_key(name: str) -> str:
    """Normalise a note name or link target for matching (case and Unicode form folded)."""
    return unicodedata.normalize("NFC", name).strip().casefold()


class LinkResolver:
    """Resolve wikilink targets to note paths the way Obsidian does.

    ``[[N]]``, ``[[N.md]]`` and ``[[folder/N]]`` all work; case is ignored.  A bare name
    shared by several notes resolves to the one with the shortest path, then the first
    in path order (deterministic); ``ambiguous`` lists such names.
    """

    def __init__(self, paths: Iterable[str]) -> None:
        self._by_path: dict[str, str] = {}
        self._by_name: dict[str, list[str]] = {}
        for path in sorted(paths):
            stem = path[: -len(NOTE_SUFFIX)] if path.lower().endswith(NOTE_SUFFIX) else path
            self._by_path.setdefault(link_key(stem), path)
            self._by_name.setdefault(link_key(PurePosixPath(stem).name), []).append(path)
        for names in self._by_name.values():
            names.sort(key=lambda p: (p.count("/"), p))
        self.ambiguous = {k: tuple(v) for k, v in self._by_name.items() if len(v) > 1}

    def resolve(self, target: str) -> str | None:
        """Return the vault path a link target points to, or None when unresolved."""
        key = link_key(target)
        key = key.removesuffix(NOTE_SUFFIX)
        key = key.lstrip("/")
        if key in self._by_path:
            return self._by_path[key]
        candidates = self._by_name.get(PurePosixPath(key).name) if "/" not in key else None
        if candidates:
            return candidates[0]
        return None
