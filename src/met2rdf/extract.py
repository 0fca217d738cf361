"""Note + vocabulary -> facts, each with its source line and hedge.

How a fact is found, in order:

1. Every block (heading, list item, paragraph, table row) is split into sentences, and
   vocabulary concepts are found in it (longest match).
2. A mention whose type is the range of a relation (site, symptom, test, treatment,
   route) is a candidate object; the relation follows from its type.
3. The *frame* of the sentence is set by the nearest section label: its own
   ``Label:`` prefix, the enclosing list items and headings ("### Symptoms",
   "**Common Sites**:").  A "none" frame (risk factors, prognosis, ...) asserts nothing.
   A site is only a fact in a spread frame or after a spread verb ("spreads to", "->").
4. The subject is the nearest cancer type or metastasis named before the object in the
   same sentence, else after it, else in an earlier sentence of the block, else the
   subject of the enclosing items and headings, else the note's topic (title, aliases).
5. A negation cue before the object (up to a contrast word) or in its clause drops it;
   a hedge word in the sentence is kept on the fact.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache

from .model import Block, Concept, Fact, Mention, Note, SourceSpan
from .vocab import SUBJECT_TYPES, Vocabulary, package_data

RELATION_OF = {
    "AnatomicalSite": "spreadsTo",
    "Symptom": "hasSymptom",
    "DiagnosticModality": "diagnosedBy",
    "Treatment": "treatedWith",
    "SpreadRoute": "spreadsVia",
}
RELATIONS = tuple(RELATION_OF.values())

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“(\[]?[A-Z0-9])|\n")
_LABEL = re.compile(r"^\s*([^:.;!?\n]{1,60}?)\s*[:=]\s+")
_ABBREVIATIONS = ("e.g.", "i.e.", "vs.", "approx.", "etc.", "cf.", "dr.", "fig.", "no.")


@dataclass(frozen=True, slots=True)
class Cues:
    """Compiled cue patterns from ``data/cues.toml``."""

    frames: tuple[tuple[str, re.Pattern[str]], ...]
    spread: re.Pattern[str]
    negation: re.Pattern[str]
    contrast: re.Pattern[str]
    hedge: re.Pattern[str]
    examples: re.Pattern[str]


def _any(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


@lru_cache(maxsize=1)
def load_cues() -> Cues:
    """Load the cue patterns shipped with the package."""
    data = tomllib.loads(package_data("cues.toml").decode("utf-8"))
    return Cues(
        frames=tuple((f["frame"], _any(f["patterns"])) for f in data["frames"]),
        spread=_any(data["spread"]["patterns"]),
        negation=_any(data["negation"]["patterns"]),
        contrast=_any(data["negation"]["contrast"]),
        hedge=re.compile(r"\b(" + "|".join(map(re.escape, data["hedge"]["patterns"])) + r")\b",
                         re.IGNORECASE),
        examples=_any(data["examples"]["patterns"]),
    )


def frame_of(label: str, cues: Cues) -> str | None:
    """Return the frame a section label sets, or None."""
    for frame, pattern in cues.frames:
        if pattern.search(label):
            return frame
    return None


def find_topic(note: Note, vocab: Vocabulary) -> Concept | None:
    """Return the cancer type or metastasis a note is about, from its title and aliases."""
    for name in (note.title, *note.aliases):
        concept = vocab.lookup(name)
        if concept is not None and concept.type in SUBJECT_TYPES:
            return concept
    for name in (note.title, *note.aliases):
        found = {m.concept.iri: m.concept for m in vocab.find(name)
                 if m.concept.type in SUBJECT_TYPES}
        if len(found) == 1:
            return next(iter(found.values()))
    return None


def _sentences(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        before = text[max(0, m.start() - 8):m.start()].lower()
        if m.group(0) != "\n" and before.endswith(_ABBREVIATIONS):
            continue
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


@dataclass(frozen=True, slots=True)
class _Sentence:
    start: int
    end: int
    label_end: int  # end of a "Label:" prefix, or start when none
    frame: str | None  # frame set by the label of this sentence


class _BlockView:
    """What extraction needs to know about one block."""

    def __init__(self, block: Block, vocab: Vocabulary, cues: Cues) -> None:
        self.block = block
        self.mentions = vocab.find(block.text)
        self.sentences = [self._sentence(s, e, cues) for s, e in _sentences(block.text)]
        self.spread_cues = [m.span() for m in cues.spread.finditer(block.text)]
        self.subject = self._own_subject()
        self.frame = self._own_frame(cues)

    def _sentence(self, start: int, end: int, cues: Cues) -> _Sentence:
        text = self.block.text
        label = _LABEL.match(text, start, end)
        bold = next((b for b in self.block.bold if b[0] <= start + 1 and b[1] > start), None)
        if label is not None and len(label.group(1).split()) <= 6:
            return _Sentence(start, end, label.end(), frame_of(label.group(1), cues))
        if bold is not None and text[bold[1]:bold[1] + 2].strip().startswith(":"):
            return _Sentence(start, end, bold[1] + 1, frame_of(text[bold[0]:bold[1]], cues))
        return _Sentence(start, end, start, None)

    def _own_frame(self, cues: Cues) -> str | None:
        """The frame this block sets for the blocks below it."""
        if self.block.kind in ("heading", "header_row"):
            return frame_of(self.block.text, cues)
        if self.sentences and self.sentences[0].frame is not None:
            return self.sentences[0].frame
        text = self.block.text.strip()
        if text.endswith(":") and len(text.split()) <= 8:
            return frame_of(text, cues)
        return None

    def _own_subject(self) -> Concept | None:
        """The cancer type or metastasis this block is about, for the blocks below it."""
        subjects = [m for m in self.mentions if m.concept.type in SUBJECT_TYPES]
        if not subjects:
            return None
        lead = self.block.bold[0] if self.block.bold else None
        for m in subjects:
            if lead is not None and lead[0] <= m.start < lead[1] and lead[0] <= 2:
                return m.concept
        first = self.sentences[0] if self.sentences else None
        if first is not None and first.label_end > first.start:
            for m in subjects:
                if m.start < first.label_end:
                    return m.concept
        if self.block.kind == "heading" or len(self.block.text.split()) <= 8:
            distinct = {m.concept.iri for m in subjects}
            if len(distinct) == 1:
                return subjects[0].concept
        return None


class _NoteExtractor:
    def __init__(self, note: Note, vocab: Vocabulary, cues: Cues) -> None:
        self.note = note
        self.cues = cues
        self.topic = find_topic(note, vocab)
        self.views = [_BlockView(b, vocab, cues) for b in note.blocks]

    def _ancestors(self, block: Block):
        parent = block.parent
        seen = 0
        while parent is not None and seen < 1000:
            yield self.views[parent]
            parent = self.views[parent].block.parent
            seen += 1

    def _context_frame(self, view: _BlockView) -> str | None:
        if view.block.kind == "row":
            return None  # rows take their frame from their header cells
        for anc in self._ancestors(view.block):
            if anc.frame is not None:
                return anc.frame
        return None

    def _context_subject(self, view: _BlockView) -> Concept | None:
        for anc in self._ancestors(view.block):
            if anc.subject is not None:
                return anc.subject
        return self.topic

    def _is_cue(self, view: _BlockView, m: Mention) -> bool:
        """A generic 'metastasis to' mention is part of a spread verb, not a subject."""
        return m.concept.site is None and m.concept.type == "Metastasis" and any(
            s <= m.start < e for s, e in view.spread_cues)

    def _subject(self, view: _BlockView, sent: _Sentence, obj: Mention, relation: str,
                 previous: Concept | None, context: Concept | None) -> Concept | None:
        def usable(m: Mention) -> bool:
            if m.concept.type not in SUBJECT_TYPES or self._is_cue(view, m):
                return False
            if m.concept.iri == obj.concept.iri:
                return False
            return not (relation == "spreadsTo" and m.concept.site is not None)

        in_sentence = [m for m in view.mentions
                       if sent.start <= m.start < sent.end and usable(m)]
        before = [m for m in in_sentence if m.end <= obj.start]
        if before:
            return before[-1].concept
        if relation == "spreadsTo" and context is not None and context.site is None:
            pass  # the enclosing subject wins over a later mention ("X: spreads to Y in Z")
        elif in_sentence:
            return in_sentence[0].concept
        if previous is not None:
            return previous
        if context is not None and not (relation == "spreadsTo" and context.site is not None):
            return context
        return self.topic if self.topic is not None and self.topic.site is None else None

    def _negated(self, text: str, sent: _Sentence, obj: Mention) -> bool:
        before = text[sent.start:obj.start]
        cues = list(self.cues.negation.finditer(before))
        if cues:
            tail = before[cues[-1].end():]
            if not self.cues.contrast.search(tail):
                return True
        clause_end = len(text[:sent.end])
        for sep in (",", ";", " but "):
            pos = text.find(sep, obj.end, sent.end)
            if pos != -1:
                clause_end = min(clause_end, pos)
        after = text[obj.end:clause_end]
        return bool(self.cues.negation.search(after))

    def _hedge(self, text: str, sent: _Sentence) -> str | None:
        m = self.cues.hedge.search(text, sent.start, sent.end)
        return m.group(1).lower() if m else None

    def _spread_before(self, view: _BlockView, sent: _Sentence, pos: int) -> bool:
        return any(sent.start <= s and e <= pos for s, e in view.spread_cues)

    def facts(self) -> list[Fact]:
        out: list[Fact] = []
        for view in self.views:
            out.extend(self._block_facts(view))
        return out

    def _frame(self, view: _BlockView, sent: _Sentence, obj: Mention,
               context_frame: str | None) -> str | None:
        if view.block.kind == "row":
            header = self._header(view)
            cell = self._cell_index(view.block, obj.start)
            if header is not None and cell is not None and cell < len(header.block.cells):
                s, e = header.block.cells[cell]
                return frame_of(header.block.text[s:e], self.cues) or context_frame
            return context_frame
        if sent.frame is not None and obj.start >= sent.label_end:
            return sent.frame
        if view.block.kind in ("paragraph", "item") and sent is not view.sentences[0]:
            first = view.sentences[0]
            if first.frame is not None:
                return first.frame
        return context_frame

    def _header(self, view: _BlockView) -> _BlockView | None:
        parent = view.block.parent
        if parent is not None and self.views[parent].block.kind == "header_row":
            return self.views[parent]
        return None

    @staticmethod
    def _cell_index(block: Block, pos: int) -> int | None:
        for i, (s, e) in enumerate(block.cells):
            if s <= pos <= e:
                return i
        return None

    def _row_subject(self, view: _BlockView) -> Concept | None:
        if not view.block.cells:
            return None
        s, e = view.block.cells[0]
        for m in view.mentions:
            if s <= m.start < e and m.concept.type in SUBJECT_TYPES:
                return m.concept
        return None

    def _block_facts(self, view: _BlockView) -> list[Fact]:
        text = view.block.text
        context_frame = self._context_frame(view)
        own_context = self._context_subject(view)
        if view.block.kind == "row":
            own_context = self._row_subject(view) or own_context
        out: list[Fact] = []
        previous: Concept | None = None
        for sent in view.sentences:
            for obj in view.mentions:
                if not sent.start <= obj.start < sent.end:
                    continue
                if self.cues.examples.match(text, obj.end, sent.end):
                    continue  # a category that introduces examples
                relation, target = self._object(view, sent, obj, context_frame)
                if relation is None or target is None:
                    continue
                if self._negated(text, sent, obj):
                    continue
                subject = self._subject(view, sent, obj, relation, previous, own_context)
                if subject is None or subject.iri == target:
                    continue
                out.append(Fact(subject=subject.iri, predicate=relation, object=target,
                                span=SourceSpan(self.note.path, view.block.line_at(obj.start)),
                                hedge=self._hedge(text, sent),
                                text=text[sent.start:sent.end].strip()))
            subjects = [m for m in view.mentions if sent.start <= m.start < sent.end
                        and m.concept.type in SUBJECT_TYPES and not self._is_cue(view, m)]
            if subjects:
                previous = subjects[0].concept
        return out

    def _object(self, view: _BlockView, sent: _Sentence, obj: Mention,
                context_frame: str | None) -> tuple[str | None, str | None]:
        """Return the relation and object IRI a mention asserts in its context, if any."""
        frame = self._frame(view, sent, obj, context_frame)
        if frame == "none":
            return None, None
        kind = obj.concept.type
        spread = frame == "spreadsTo" or self._spread_before(view, sent, obj.start)
        if kind == "AnatomicalSite":
            return ("spreadsTo", obj.concept.iri) if spread else (None, None)
        if kind == "Metastasis" and obj.concept.site is not None and spread:
            before = [m for m in view.mentions if sent.start <= m.start < obj.start
                      and m.concept.type == "CancerType"]
            if before or self.topic is not None and self.topic.type == "CancerType":
                return "spreadsTo", obj.concept.site
            return None, None
        if kind in RELATION_OF:
            return RELATION_OF[kind], obj.concept.iri
        return None, None


def extract_facts(note: Note, vocab: Vocabulary) -> tuple[Fact, ...]:
    """Return the facts a note asserts, one per (subject, relation, object, line)."""
    extractor = _NoteExtractor(note, vocab, load_cues())
    unique: dict[tuple[str, str, str, int], Fact] = {}
    for fact in extractor.facts():
        key = (fact.subject, fact.predicate, fact.object, fact.span.line)
        if key not in unique:
            unique[key] = fact
    return tuple(sorted(unique.values()))

