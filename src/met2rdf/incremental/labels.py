"""The vault's own names: which of the labels that notes add to the vocabulary (their
titles and aliases) a note's text could contain, told by its words (``NoteWords``), by an
index of the labels under their rarest word (``LabelIndex``) and, for a note the build does
not read, by a Bloom filter of its words kept in the build index."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property

from ..result import Survey
from ..vocab import fold_word, folded_words, normalize_label

# Words that extraction adds to a note's own words before looking a name up
# ("breast" in a table's cell -> "breast cancer").
_COMPOSED = frozenset(fold_word(w) for w in ("cancer", "carcinoma"))


def label_items(extra: Mapping[str, Iterable[str]]) -> tuple[str, ...]:
    """Return the vault's extra labels as sorted "IRI<TAB>label" items."""
    return tuple(sorted(f"{iri}\t{label}" for iri, labels in extra.items() for label in labels))


class NoteWords:
    """A note's folded words in order (its title, then its text), to tell which vault
    labels it could contain."""

    def __init__(self, title: str, text: str) -> None:
        self.runs = (folded_words(title), folded_words(text))
        self.words = {*self.runs[0], *self.runs[1], *_COMPOSED}
        self._at: dict[str, list[tuple[int, int]]] = {}
        for r, run in enumerate(self.runs):
            for i, word in enumerate(run):
                self._at.setdefault(word, []).append((r, i))

    def contiguous(self, words: Sequence[str]) -> bool:
        """Whether the words occur one after another (a composed word alone always does)."""
        if not words or (len(words) == 1 and words[0] in _COMPOSED):
            return True
        n = len(words)
        return any(self.runs[r][i:i + n] == list(words) for r, i in self._at.get(words[0], ()))

    def could_contain(self, label: Sequence[str]) -> bool:
        """Whether extraction could find ``label`` here: all its words occur, and it is one
        run of the note's words or two (a modifier shared over a list, "urinary frequency,
        urgency": "urinary" + "urgency"; a table cell + "cancer")."""
        return all(w in self.words for w in label) and any(
            self.contiguous(label[:k]) and self.contiguous(label[k:])
            for k in range(len(label), 0, -1))

    def bloom(self) -> int:
        """A Bloom filter of the words (2,048 bits, two hashes), kept in the build index so
        a new label can be tested against a note without reading it."""
        return _bloom(self.words)


def _hashes(word: str) -> tuple[int, int]:
    data = word.encode("utf-8", "surrogatepass")
    return zlib.crc32(data) & 2047, zlib.crc32(data, 0x5BD1E995) & 2047


def _bloom(words: Iterable[str]) -> int:
    bits = 0
    for word in words:
        for h in _hashes(word):
            bits |= 1 << h
    return bits


def label_mask(label: Sequence[str]) -> int:
    """The Bloom bits a note's filter has if the note could contain the label (the words
    extraction adds itself do not count)."""
    return _bloom(w for w in label if w not in _COMPOSED)


def bloom_may_contain(bloom: int, label: Sequence[str]) -> bool:
    """False when a note whose words gave ``bloom`` cannot contain all of the label's words."""
    mask = label_mask(label)
    return bloom & mask == mask


class LabelIndex:
    """The vault's extra labels, filed under their rarest word, to find those a note could
    contain (``NoteWords.could_contain``).  The first few notes are checked against every
    label instead: filing 20,000 labels takes as long as checking fifty notes that way."""

    SCANS = 32

    def __init__(self, items: Iterable[str]) -> None:
        self.items = [(item, normalize_label(item.split("\t", 1)[1])) for item in items]
        self.scans = 0

    @cached_property
    def bags(self) -> list[frozenset[str]]:
        return [frozenset(words) for _, words in self.items]

    @cached_property
    def by_word(self) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
        count: dict[str, int] = {}
        for _, words in self.items:
            for word in set(words):
                count[word] = count.get(word, 0) + 1
        by_word: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for item, words in self.items:  # filed under its rarest word: few to test per word
            if words:
                rarest = min(words, key=count.__getitem__)  # any of them would do
                by_word.setdefault(rarest, []).append((item, words))
        return by_word

    def labels(self, note: NoteWords) -> tuple[str, ...]:
        if "by_word" not in self.__dict__ and self.scans < self.SCANS:
            self.scans += 1
            words = note.words
            return tuple(sorted(item for (item, label), bag in zip(self.items, self.bags)
                                if bag <= words and label and note.could_contain(label)))
        found = {item for word in note.words for item, label in self.by_word.get(word, ())
                 if note.could_contain(label)}
        return tuple(sorted(found))

    def maybe(self, bloom: int) -> bool:
        """Whether a note with this Bloom filter could contain any of the labels."""
        return any(bloom & mask == mask for mask in self.masks)

    @cached_property
    def masks(self) -> frozenset[int]:
        """The labels' Bloom masks (``label_mask``)."""
        return frozenset(label_mask(label) for _, label in self.items)


def alias_labels(surveys: Iterable[Survey]) -> dict[str, list[str]]:
    """Return the titles and aliases of notes about a concept, as extra labels for it.

    A name that is already a label of some concept keeps its meaning (the survey leaves
    those out of ``new_names``).
    """
    extra: dict[str, dict[str, None]] = {}
    for survey in sorted(surveys, key=lambda s: s.path):
        if survey.topic is not None and survey.new_names:
            extra.setdefault(survey.topic, {}).update(dict.fromkeys(survey.new_names))
    return {topic: list(names) for topic, names in extra.items()}
