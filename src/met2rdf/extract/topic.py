"""What a note is about: its topic from the title, aliases or opening heading; whether it
is about cancer at all; acronyms it supports and abbreviations it defines."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..model import Concept, Mention, Note
from ..vocab import SUBJECT_TYPES, Vocabulary
from .blocks import BlockView, coordinated_cancers, is_subject
from .cues import Cues, load_cues

ONCOLOGY_CANCERS = 3  # distinct cancers named that make a note about cancer
ACRONYM = re.compile(r"[A-Z0-9-]{2,6}s?")
_DEFINED = re.compile(r"\s*\(([A-Z][A-Za-z0-9-]{1,7})\)")
_LONG_FORM_REACH = 30  # characters before a term that its abbreviation may also cover


def named_topic(note: Note, vocab: Vocabulary) -> tuple[Concept | None, bool]:
    """Return the concept a note's title or aliases name (any type), if one does, and
    whether they name it only by an acronym ("anti-GBM")."""
    names = (note.title, *note.aliases, *title_heading(note))
    for name in names:
        concept = vocab.lookup(name)
        if concept is not None:
            return concept, bool(ACRONYM.fullmatch(name.strip()))
    for kinds in (SUBJECT_TYPES, ("Symptom",)):  # a cancer, else a complication
        for name in names:
            every = coordinated_cancers(vocab.find(name), name, vocab)  # "Breast and ovarian"
            mentions = [m for m in every if m.concept.type in kinds]
            found = {m.concept.iri: m.concept for m in mentions}
            if len(found) == 1 and (kinds is SUBJECT_TYPES or not any(
                    m.concept.type in SUBJECT_TYPES for m in every)):
                return next(iter(found.values())), all(
                    ACRONYM.fullmatch(m.text) for m in mentions)
    return None, False


def title_heading(note: Note) -> tuple[str, ...]:
    """The text of a level-1 heading that opens the note: a title in all but name."""
    first = note.blocks[0] if note.blocks else None
    if first is not None and first.kind == "heading" and first.level == 1:
        return (first.text,)
    return ()


def find_topic(note: Note, vocab: Vocabulary) -> Concept | None:
    """Return the concept a note is about, from its title and aliases.  A cancer named
    only by an acronym is the topic only where the note's text supports that reading."""
    concept, acronym = named_topic(note, vocab)
    if concept is None or not acronym or not is_subject(concept):
        return concept
    names = [m for name in (note.title, *note.aliases, *title_heading(note))
             for m in vocab.find(name)]
    mentions = [*names, *(m for block in note.blocks for m in vocab.find(block.text))]
    unsupported = unsupported_acronyms(mentions, vocab, says_oncology(note, load_cues()))
    return None if concept.iri in unsupported else concept


def says_oncology(note: Note, cues: Cues) -> bool:
    """Tell whether a note's text uses the words of oncology (cancer, tumour, chemo...)."""
    return any(cues.oncology.search(block.text.lower()) for block in note.blocks)


def broader_of(vocab: Vocabulary, concept: Concept) -> set[str]:
    """Return the IRIs of every broader concept of a concept."""
    seen: set[str] = set()
    todo = list(concept.broader)
    while todo:
        iri = todo.pop()
        if iri not in seen and iri in vocab.concepts:
            seen.add(iri)
            todo.extend(vocab.concepts[iri].broader)
    return seen


def family_of(vocab: Vocabulary, concept: Concept) -> set[str]:
    """The concept and its broader concepts (by IRI)."""
    return {concept.iri, *broader_of(vocab, concept)}


def unsupported_acronyms(mentions: Iterable[Mention], vocab: Vocabulary,
                         oncology_words: bool) -> set[str]:
    """Cancers named only by an acronym, where nothing in the note supports that reading.

    Short acronyms name different things in different fields (GBM is a glioblastoma or the
    glomerular basement membrane).  One counts where the note also names the cancer, or a
    broader or narrower type of it, in words; an acronym the vocabulary does not mark as
    ambiguous (``met:ambiguousLabel``) also where the note names other cancers in words or
    uses the words of oncology (``oncology_words``, see ``says_oncology``).
    """
    acronyms: dict[str, Concept] = {}
    ambiguous: set[str] = set()
    spelled: dict[str, Concept] = {}
    for m in mentions:
        if not is_subject(m.concept) or m.concept.umbrella:
            continue
        if ACRONYM.fullmatch(m.text):
            acronyms[m.concept.iri] = m.concept
            if vocab.is_ambiguous(m):
                ambiguous.add(m.concept.iri)
        else:
            spelled[m.concept.iri] = m.concept
    lenient = oncology_words or len(spelled) >= ONCOLOGY_CANCERS - 1
    families = [family_of(vocab, c) for c in spelled.values()]
    return {iri for iri, c in acronyms.items()
            if (iri in ambiguous or not lenient) and iri not in spelled
            and not family_of(vocab, c) & spelled.keys() and not any(iri in f for f in families)}


def defined_abbreviations(views: list[BlockView], vocab: Vocabulary
                          ) -> dict[str, tuple[str, int]]:
    """Abbreviations a note defines right after a term ("tumour lysis syndrome (TLS)"):
    each with the IRI of its term and the index of the block that defines it.

    The letters of the abbreviation must appear in order in the words before the
    parenthesis, its first letter starting a word (Schwartz and Hearst's rule); one that
    already names a concept keeps that meaning, and the first definition wins.
    """
    found: dict[str, tuple[str, int]] = {}
    for view in views:
        text = view.block.text
        for m in view.mentions:
            short = _DEFINED.match(text, m.end)
            if short is None or short.group(1) in found or \
                    vocab.lookup(short.group(1)) is not None:
                continue
            start = max(0, m.start - _LONG_FORM_REACH)
            if abbreviates(short.group(1), text[start:m.end]):
                found[short.group(1)] = (m.concept.iri, view.block.index)
    return found


def abbreviates(short: str, long: str) -> bool:
    """Tell whether ``short`` abbreviates the end of ``long`` (Schwartz and Hearst, 2003)."""
    s, text = short.lower(), long.lower()
    i, j = len(s) - 1, len(text) - 1
    while i >= 0:
        c = s[i]
        if not c.isalnum():
            i -= 1
            continue
        while j >= 0 and (text[j] != c or (i == 0 and j > 0 and text[j - 1].isalnum())):
            j -= 1
        if j < 0:
            return False
        i, j = i - 1, j - 1
    return True
