"""The build index: what a build keeps of each note for the next one (``NoteEntry``: its
survey, the key of its result, its labels and Bloom filter, its file's signature), and the
vault's labels, normalised names and link ambiguities, saved in the cache as ``index``."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..cache import Cache, digest
from ..errors import NoteError
from ..model import Problem, SourceNote, UnchangedNote
from ..result import NoteEntry, NoteOutput, Survey
from ..vault import read_note
from ..vocab import Vocabulary, normalized, remember_normalized
from .keys import KeyParts, base_key, note_key

INDEX = "index"
Notes = list[SourceNote | UnchangedNote]


@dataclass(frozen=True, slots=True)
class BuildIndex:
    """The build index as the last build saved it."""

    cache: Cache
    base: str  # the base key (see ``keys.base_key``)
    saved: dict[str, Any]  # the index as saved
    before: Mapping[str, NoteEntry]  # path -> what the last build kept of the note
    labels: frozenset[str]  # the vault's labels then ("IRI<TAB>label" items)


def saved_index(cache_dir: Path | None, vocab: Vocabulary, validate: bool) -> dict[str, Any]:
    """The build index the last build with this code, vocabulary and validation saved."""
    return Cache(cache_dir).index(INDEX, base_key(vocab, validate))


def open_index(cache_dir: Path | None, vocab: Vocabulary, validate: bool,
               saved: dict[str, Any] | None = None) -> BuildIndex:
    """Open the build index (``saved``: as read by ``saved_index``) of a cache folder."""
    cache = Cache(cache_dir)
    cache.remove_leftovers()
    base = base_key(vocab, validate)
    if saved is None:
        saved = cache.index(INDEX, base)
    remember_normalized(saved.get("normalized", {}))
    return BuildIndex(cache, base, saved, saved.get("entries", {}),
                      frozenset(saved.get("labels", ())))


def gather(sources: Iterable[SourceNote | UnchangedNote | Problem], index: BuildIndex
           ) -> tuple[Notes, dict[str, str], list[Problem]]:
    """The notes in path order (a file that changed since the index is read), the digests
    of their texts, and the problems of reading them."""
    problems: list[Problem] = []
    notes: Notes = []
    for source in sources:
        if isinstance(source, UnchangedNote):
            old = index.before.get(source.path)
            if old is None or old.signature != source.signature:
                source = read_note(source.path, source.file)
        if isinstance(source, Problem):
            problems.append(source)
        else:
            if isinstance(source, SourceNote):
                problems.extend(source.problems)
            notes.append(source)
    notes.sort(key=lambda n: n.path)
    texts = {n.path: index.before[n.path].text if isinstance(n, UnchangedNote)
             else digest(n.path, n.text) for n in notes}
    return notes, texts, problems


def kept_surveys(notes: Notes, texts: Mapping[str, str], index: BuildIndex
                 ) -> tuple[dict[str, Survey], Notes]:
    """The surveys of the notes whose text is unchanged, and the notes to survey."""
    surveys: dict[str, Survey] = {}
    todo: Notes = []
    for note in notes:
        old = index.before.get(note.path)
        if old is not None and old.text == texts[note.path]:
            surveys[note.path] = old.survey
        else:
            todo.append(note)
    return surveys, todo


def kept(old: NoteEntry, note: SourceNote | UnchangedNote) -> NoteEntry:
    """A reused entry, with the file signature it has now."""
    return old if old.signature == note.signature else replace(old, signature=note.signature)


def source_of(note: SourceNote | UnchangedNote) -> SourceNote:
    """The note's text: read now for a note the build had not read (it was unchanged)."""
    if isinstance(note, SourceNote):
        return note
    found = read_note(note.path, note.file)
    if isinstance(found, Problem):
        raise NoteError(f"{found} (it changed during the build; build again)")
    return found


def new_entries(outputs: Iterable[NoteOutput], keys: Mapping[str, KeyParts],
                surveys: Mapping[str, Survey], notes: Sequence[SourceNote | UnchangedNote],
                index: BuildIndex) -> dict[str, NoteEntry]:
    """The entries of notes extracted anew (their outputs cached under their keys)."""
    signatures = {n.path: n.signature for n in notes}
    entries = {}
    for output in outputs:
        parts = keys[output.path]
        key = note_key(index.base, parts, output.labels)
        if not output.results:
            index.cache.put(key, output)
        entries[output.path] = NoteEntry(output.path, parts.text, surveys[output.path], key,
                                         _interned(output.labels), len(output.facts),
                                         output.statements, _interned(output.used),
                                         output.results, signatures[output.path],
                                         output.bloom)
    return entries


def _interned(strings: tuple[str, ...]) -> tuple[str, ...]:
    """The same strings, one object each across the index (pickled once, then referenced)."""
    return tuple(map(sys.intern, strings))


def save_index(index: BuildIndex, entries: Sequence[NoteEntry], items: Sequence[str],
               ambiguities: Sequence[Problem]) -> None:
    """Save what this build knows for the next; after a first build, drop older results."""
    item_set = frozenset(items)
    saved = index.saved
    index.cache.save_index(INDEX, index.base, {
        "labels": dict.fromkeys(items),  # (a mapping: the index saves the items that change)
        "entries": {e.path: e for e in entries if not e.results},
        "normalized": saved["normalized"] if "normalized" in saved and item_set == index.labels
        else normalized(item.split("\t", 1)[1] for item in items),
        "ambiguities": ambiguities}, previous=saved)
    if not index.before:  # a first build, or the code or vocabulary changed: older results go
        index.cache.prune({e.key for e in entries})
