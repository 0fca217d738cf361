"""Note + vocabulary -> facts, each with its source line and hedge.

How a fact is found, in order:

1. Every block (heading, list item, paragraph, table row) is split into sentences, and
   vocabulary concepts are found in it (longest match).  Organ names coordinated with a
   cancer ("lung, breast and kidney cancers") become those cancers.
2. A mention whose type is the range of a relation (site, symptom, test, treatment,
   route) is a candidate object; the relation follows from its type.  A site-specific
   metastasis ("bone mets") said of a cancer is that cancer spreading to its site.
3. The *frame* of the sentence is set by the nearest section label: its own
   ``Label:`` prefix, the enclosing list items and headings ("### Symptoms",
   "**Common Sites**:"), a table's header cell.  A "none" frame (risk factors,
   prognosis, ...) asserts nothing.  A site is only a fact in a spread or route frame,
   after a spread verb ("spreads to", "->"), or as the site of a metastasis.
4. The subject is the nearest cancer type or metastasis named before the object in the
   same sentence, else in an earlier sentence of the block, else the subject of the
   enclosing items and headings, else the note's topic (title, aliases, or the cause a
   complication note names), else one named after the object.  A broad subject
   ("metastases", "cancer") gives way to a specific one from the context; "cancer has
   spread to the bone" makes bone metastasis the subject of the sentence.
5. "The sources of brain metastases are lung and breast cancer" reverses: the cancers
   after a source cue spread to the metastasis' site.
6. A negation cue before the object (up to a contrast word) or in its clause drops it;
   a hedge word in the sentence is kept on the fact.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache

from .model import Block, Concept, Fact, Mention, Note, SourceSpan
from .vault import link_key
from .vocab import SUBJECT_TYPES, Vocabulary, package_data

RELATION_OF = {
    "AnatomicalSite": "spreadsTo",
    "Symptom": "hasSymptom",
    "DiagnosticModality": "diagnosedBy",
    "Treatment": "treatedWith",
    "SpreadRoute": "spreadsVia",
}
RELATIONS = tuple(RELATION_OF.values())

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]=*_]*\s+(?=[\"'“(\[=*_]*[A-Z0-9])|\n")
_LABEL = re.compile(r"\s*([^:.;!?\n]{1,60}?)\s*[:=]\s+")
_ABBREVIATIONS = ("e.g.", "i.e.", "vs.", "approx.", "etc.", "cf.", "dr.", "fig.", "no.")
_COORDINATION = re.compile(r"\s*(?:,|&|/|\band\b|\bor\b|,\s*and\b|,\s*or\b)\s*$", re.IGNORECASE)
_LIST_SEPARATOR = re.compile(r"\s*(?:,\s*(?:and|or)?|\band\b|\bor\b|/)\s*", re.IGNORECASE)
_LIST_ITEM = re.compile(r"[A-Za-z][\w-]*(?: [A-Za-z][\w-]*)?(?=\s*(?:,|\bor\b|\band\b|/|[.;:)]|$))")
_CLAUSE_END = re.compile(r"[,;:]|\s-\s|\bbut\b|\bwhen\b|\bif\b|\bunless\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Cues:
    """Compiled cue patterns from ``data/cues.toml``."""

    frames: tuple[tuple[str, re.Pattern[str]], ...]
    spread: re.Pattern[str]
    negation: re.Pattern[str]
    contrast: re.Pattern[str]
    hedge: re.Pattern[str]
    examples: re.Pattern[str]
    sources: re.Pattern[str]
    cause: re.Pattern[str]
    modifier: re.Pattern[str]
    route: re.Pattern[str]
    oncology: re.Pattern[str]
    aside: re.Pattern[str]


def _any(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def _lower(text: str) -> str:
    """Lower-case text keeping every offset (cue patterns match lower-cased text)."""
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


_SCANNED = ("negation", "contrast", "route", "sources", "aside")


@lru_cache(maxsize=1)
def load_cues() -> Cues:
    """Load the cue patterns shipped with the package."""
    data = tomllib.loads(package_data("cues.toml").decode("utf-8"))
    return Cues(
        frames=tuple((f["frame"], _any(f["patterns"])) for f in data["frames"]),
        spread=_any(data["spread"]["patterns"]),
        negation=_any(data["negation"]["patterns"]),
        contrast=_any(data["negation"]["contrast"]),
        hedge=re.compile(r"\b(" + "|".join(map(re.escape, data["hedge"]["patterns"])) + r")\b"),
        examples=_any(data["examples"]["patterns"]),
        sources=_any(data["sources"]["patterns"]),
        cause=_any(data["cause"]["patterns"]),
        modifier=_any(data["modifier"]["patterns"]),
        route=_any(data["route"]["patterns"]),
        oncology=_any(data["oncology"]["patterns"]),
        aside=_any(data["aside"]["patterns"]),
    )


def frame_of(label: str, cues: Cues) -> str | None:
    """Return the frame a section label sets, or None."""
    label = label.lower()
    found = [frame for frame, pattern in cues.frames if pattern.search(label)]
    if len(found) > 1 and found[0] == "none":
        return found[1]  # "Etiology and clinical manifestations": the part to read
    return found[0] if found else None


def _named_topic(note: Note, vocab: Vocabulary) -> tuple[Concept | None, bool]:
    """Return the concept a note's title or aliases name (any type), if one does, and
    whether they name it only by an acronym ("anti-GBM")."""
    names = (note.title, *note.aliases, *_title_heading(note))
    for name in names:
        concept = vocab.lookup(name)
        if concept is not None:
            return concept, bool(_ACRONYM.fullmatch(name.strip()))
    for kinds in (SUBJECT_TYPES, ("Symptom",)):  # a cancer, else a complication
        for name in names:
            mentions = [m for m in vocab.find(name) if m.concept.type in kinds]
            found = {m.concept.iri: m.concept for m in mentions}
            if len(found) == 1 and (kinds is SUBJECT_TYPES or not any(
                    m.concept.type in SUBJECT_TYPES for m in vocab.find(name))):
                return next(iter(found.values())), all(
                    _ACRONYM.fullmatch(m.text) for m in mentions)
    return None, False


def _title_heading(note: Note) -> tuple[str, ...]:
    """The text of a level-1 heading that opens the note: a title in all but name."""
    first = note.blocks[0] if note.blocks else None
    if first is not None and first.kind == "heading" and first.level == 1:
        return (first.text,)
    return ()


def find_topic(note: Note, vocab: Vocabulary) -> Concept | None:
    """Return the concept a note is about, from its title and aliases.  A cancer named
    only by an acronym is the topic only where the note's text supports that reading."""
    concept, acronym = _named_topic(note, vocab)
    if concept is None or not acronym or not _is_subject(concept):
        return concept
    if _says_oncology(note, load_cues()):
        return concept
    mentions = [m for block in note.blocks for m in vocab.find(block.text)]
    return None if concept.iri in _unsupported_acronyms(mentions, vocab) else concept


def _says_oncology(note: Note, cues: Cues) -> bool:
    """Tell whether a note's text uses the words of oncology (cancer, tumour, chemo...)."""
    return any(cues.oncology.search(block.text.lower()) for block in note.blocks)


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


def _is_subject(concept: Concept) -> bool:
    return concept.type in SUBJECT_TYPES


@dataclass(frozen=True, slots=True)
class _Sentence:
    start: int
    end: int
    label_end: int  # end of a "Label:" prefix, or start when none
    frame: str | None  # frame set by the label of this sentence


class _CuePositions(dict[str, list[tuple[int, int]]]):
    """The spans of each kind of cue (``_SCANNED``) in a block's text, found when first
    asked for (a block without a negation never needs its contrasts)."""

    def __init__(self, cues: Cues, lower: str) -> None:
        super().__init__()
        self._cues, self._lower = cues, lower

    def __missing__(self, name: str) -> list[tuple[int, int]]:
        if name not in _SCANNED:
            raise KeyError(name)
        spans = self[name] = [m.span() for m in getattr(self._cues, name).finditer(self._lower)]
        return spans


class _BlockView:
    """What extraction needs to know about one block."""

    def __init__(self, block: Block, vocab: Vocabulary, cues: Cues,
                 link_topics: Mapping[str, Concept]) -> None:
        self.block = block
        self.vocab = vocab
        self._cues = cues
        found = [m for m in self._linked(vocab.find(block.text), link_topics)
                 if not block.text.startswith("#", m.start - 1) or m.start == 0]  # a #tag
        self.mentions = self._coordinated_cancers(self._shared_modifier(found))
        self.sentences = [self._sentence(s, e, cues) for s, e in _sentences(block.text)]
        if self.mentions:
            self.mentions = self._organ_subjects(self.mentions)
        self.subject = self._own_subject()
        self.frame = self._own_frame(cues)

    def drop(self, iris: set[str]) -> None:
        """Forget the mentions of some concepts (acronyms the note does not support)."""
        kept = [m for m in self.mentions if m.concept.iri not in iris]
        if len(kept) != len(self.mentions):
            self.mentions = kept
            self.subject = self._own_subject()

    def heads_children(self) -> None:
        """A short line that other blocks hang under ("Metastasis", "- Distant spread")
        sets their frame as a heading does."""
        if self.frame is None and self.block.kind in ("item", "paragraph") and \
                len(self.block.text.split()) <= _HEAD_WORDS:
            self.frame = frame_of(self.block.text, self._cues)

    def _organ_subjects(self, mentions: list[Mention]) -> list[Mention]:
        """Read "Rectum -> may metastasise to liver" as the organ's cancer spreading: an
        organ that opens a sentence right before a spread verb names the cancer there."""
        out = list(mentions)
        for sent in self.sentences:
            inside = [n for n, m in enumerate(out) if sent.start <= m.start < sent.end]
            if len(inside) < 2:
                continue
            first = out[inside[0]]
            cancer = self.vocab.cancer_of.get(first.concept.iri)
            if first.concept.type != "AnatomicalSite" or cancer is None or \
                    self.block.text[sent.label_end:first.start].strip(" -*_•>"):
                continue
            cue = next((c for c in self.spread_cues if first.end <= c[0] < sent.end), None)
            if cue is not None and cue[0] <= out[inside[1]].start:
                out[inside[0]] = Mention(cancer, first.start, first.end, first.text)
        return out

    # Cue positions are found only in blocks that have mentions (most blocks have none).
    @cached_property
    def lower(self) -> str:
        return _lower(self.block.text)

    @cached_property
    def spread_cues(self) -> list[tuple[int, int]]:
        return [m.span() for m in self._cues.spread.finditer(self.lower)]

    @cached_property
    def cues(self) -> dict[str, list[tuple[int, int]]]:
        return _CuePositions(self._cues, self.lower)

    @cached_property
    def hedges(self) -> list[tuple[int, str]]:
        return [(m.start(), m.group(1)) for m in self._cues.hedge.finditer(self.lower)]

    def _linked(self, mentions: list[Mention],
                link_topics: Mapping[str, Concept]) -> list[Mention]:
        """Add wikilinks to notes about a concept as mentions of it ("[[HCC note|it]]")."""
        extra = []
        for start, end, target in self.block.links:
            concept = link_topics.get(link_key(target))
            if concept is not None and not any(m.start < end and start < m.end
                                               for m in mentions):
                extra.append(Mention(concept, start, end, self.block.text[start:end]))
        return sorted([*mentions, *extra], key=lambda m: m.start) if extra else mentions

    def _shared_modifier(self, mentions: list[Mention]) -> list[Mention]:
        """Read "urinary frequency, urgency or retention" as three urinary symptoms."""
        text = self.block.text
        extra: list[Mention] = []
        for m in mentions:
            words = m.text.split()
            if len(words) < 2:
                continue
            pos = m.end
            while (sep := _LIST_SEPARATOR.match(text, pos)) is not None:
                item = _LIST_ITEM.match(text, sep.end())
                if item is None:
                    break
                known = next((o for o in mentions if o.start == sep.end()), None)
                if known is not None:  # already a mention of its own: step over it
                    pos = known.end
                    continue
                concept = self.vocab.lookup(f"{words[0]} {item.group(0)}")
                if concept is None or concept.type != m.concept.type:
                    break
                extra.append(Mention(concept, item.start(), item.end(), item.group(0)))
                pos = item.end()
        extra.extend(self._shared_head(mentions))
        return sorted([*mentions, *extra], key=lambda x: x.start) if extra else mentions

    def _shared_head(self, mentions: list[Mention]) -> list[Mention]:
        """Read "flank or suprapubic pain", "renal/adrenal mass" as each modifier with the
        head: a word joined to a known term whose first word it stands beside."""
        text = self.block.text
        extra: list[Mention] = []
        taken = {m.start for m in mentions}
        for m in mentions:
            words = m.text.split()
            head, end = " ".join(words[1:]), m.start
            if len(words) < 2:  # "flank or suprapubic pain": an unknown modifier, then "pain"
                modifier = _LAST_WORD.search(text, max(0, m.start - 30), m.start)
                if modifier is None:
                    continue
                head, end = m.text, modifier.start()
            while (before := _HEAD_SHARER.search(text, max(0, end - 40), end)) is not None:
                if before.start(1) in taken:
                    break
                concept = self.vocab.lookup(f"{before.group(1)} {head}")
                if concept is None or concept.type != m.concept.type:
                    break
                extra.append(Mention(concept, before.start(1), before.end(1), before.group(1)))
                end = before.start(1)
        return extra

    def _coordinated_cancers(self, mentions: list[Mention]) -> list[Mention]:
        """Read "lung, breast and kidney cancers" as three cancers."""
        out = list(mentions)
        text = self.block.text
        for i in range(len(out) - 1, 0, -1):
            head = out[i]
            if head.concept.type != "CancerType" or head.concept.primary_site is None:
                continue
            j, right = i - 1, head.start
            while j >= 0 and out[j].concept.type == "AnatomicalSite" and \
                    _COORDINATION.fullmatch(text[out[j].end:right]):
                cancer = self.vocab.cancer_of.get(out[j].concept.iri)
                if cancer is None:
                    break
                right = out[j].start
                out[j] = Mention(cancer, out[j].start, out[j].end, out[j].text)
                j -= 1
        return out

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
        subjects = [m for m in self.mentions if _is_subject(m.concept)]
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

    def in_sentence(self, sent: _Sentence) -> Iterator[Mention]:
        return (m for m in self.mentions if sent.start <= m.start < sent.end)


_ONCOLOGY_CANCERS = 3  # distinct cancers named that make a note about cancer
_HEAD_WORDS = 8  # at most this many words in a line that heads the blocks below it
_TASK = re.compile(r"\s*(?:\[[ xX?/-]\]|(?:TODO|DOING|LATER|NOW|WAITING|DONE)\b)")
_HEAD_SHARER = re.compile(r"\b([A-Za-z][\w-]*)\s*(?:,|/|\bor\b|\band\b|\bvs\.?|\bversus\b|,\s*or\b|,\s*and\b)\s*$", re.IGNORECASE)
_LAST_WORD = re.compile(r"\b[A-Za-z][\w-]* $")
_ANAPHOR = re.compile(r"\b(?:it|its|they|their|these|this|such)\b|"
                      r"\bthe (?:tumou?r|cancer|carcinoma|disease|lesion|malignancy|mass)e?s?\b")
_DEFINED = re.compile(r"\s*\(([A-Z][A-Za-z0-9-]{1,7})\)")
_LONG_FORM_REACH = 30  # characters before a term that its abbreviation may also cover
_NOUN_NEGATION = re.compile(r"without|absence of|free of")
_LIST_GAP = re.compile(r"\s*(?:[,;/&]\s*)?(?:\b(?:or|and|nor)\b)?\s*", re.IGNORECASE)
_ARROW = re.compile(r"→|->|=>|⇒|⟶")
_PARENS = re.compile(r"\([^()]*\)")
_PRIMARY = re.compile(r"\bprimar(?:y|ies)\b|\borigin\b")
_PAREN_REACH = 40  # characters from a metastasis to the parenthesis that lists its sources
_ACRONYM = re.compile(r"[A-Z0-9-]{2,6}s?")


def _defined_abbreviations(views: list[_BlockView], vocab: Vocabulary) -> dict[str, list[str]]:
    """Abbreviations a note defines right after a term: "tumour lysis syndrome (TLS)".

    The letters of the abbreviation must appear in order in the words before the
    parenthesis, its first letter starting a word (Schwartz and Hearst's rule); one that
    already names a concept keeps that meaning.
    """
    found: dict[str, list[str]] = {}
    for view in views:
        text = view.block.text
        for m in view.mentions:
            short = _DEFINED.match(text, m.end)
            if short is None or vocab.lookup(short.group(1)) is not None:
                continue
            start = max(0, m.start - _LONG_FORM_REACH)
            if _abbreviates(short.group(1), text[start:m.end]):
                names = found.setdefault(m.concept.iri, [])
                if short.group(1) not in names:
                    names.append(short.group(1))
    return found


def _abbreviates(short: str, long: str) -> bool:
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


def _opens_with_unknown_link(view: _BlockView, sent: _Sentence) -> bool:
    """Tell whether a sentence opens with a link to a note on something the vocabulary
    does not know ("[[toxoplasmosis]]: splenomegaly"): it speaks of that, not the cancer."""
    text = view.block.text
    lead = len(text) - len(text.lstrip(" -*_>•\t")) if sent.start == 0 else 0
    start = sent.start + lead
    while start < sent.end and text[start] in " -*_>•\t":
        start += 1
    for s, e, _ in view.block.links:
        if s == start:
            return not any(m.start < e and s < m.end for m in view.mentions)
    return False


def _coordinated_subjects(view: _BlockView, sent: _Sentence, subject: Concept) -> list[Concept]:
    """The subject and the cancers coordinated with it in the sentence: "lung, breast and
    kidney cancers spread to bone" says it of all three."""
    mentions = list(view.in_sentence(sent))
    at = next((n for n, m in enumerate(mentions) if m.concept.iri == subject.iri), None)
    if at is None or subject.umbrella:
        return [subject]
    text = view.block.text
    group = {subject.iri: subject}
    for step in (-1, 1):
        n = at
        while 0 <= n + step < len(mentions):
            left, right = sorted((mentions[n], mentions[n + step]), key=lambda m: m.start)
            other = mentions[n + step]
            if not _is_subject(other.concept) or other.concept.umbrella or \
                    not _LIST_GAP.fullmatch(text[left.end:right.start]):
                break
            group.setdefault(other.concept.iri, other.concept)
            n += step
    return list(group.values())


def _coordinated(view: _BlockView, start: int, obj: Mention) -> bool:
    """Tell whether ``obj`` is the first mention after ``start`` or joined to it by list
    separators only ("without fever, sweats or weight loss")."""
    text = view.block.text
    pos = start
    for m in view.mentions:
        if m.start < start:
            continue
        gap = text[pos:m.start]
        if pos != start and not _LIST_GAP.fullmatch(gap):
            return False
        if m is obj or m.start == obj.start:
            return True
        pos = m.end
    return False


def _broader(vocab: Vocabulary, concept: Concept) -> set[str]:
    """Return the IRIs of every broader concept of a concept."""
    seen: set[str] = set()
    todo = list(concept.broader)
    while todo:
        iri = todo.pop()
        if iri not in seen and iri in vocab.concepts:
            seen.add(iri)
            todo.extend(vocab.concepts[iri].broader)
    return seen


def _family(vocab: Vocabulary, concept: Concept) -> set[str]:
    """The concept and its broader concepts (by IRI)."""
    return {concept.iri, *_broader(vocab, concept)}


def _unsupported_acronyms(mentions: Iterable[Mention], vocab: Vocabulary) -> set[str]:
    """Cancers named only by an acronym, where nothing in the note supports that reading.

    Short acronyms name different things in different fields (GBM is a glioblastoma or the
    glomerular basement membrane): one counts where the note also names the cancer, or a
    broader or narrower type of it, in words, or names other cancers in words (or, see
    ``_says_oncology``, uses the words of oncology).
    """
    acronyms: dict[str, Concept] = {}
    spelled: dict[str, Concept] = {}
    for m in mentions:
        if not _is_subject(m.concept) or m.concept.umbrella:
            continue
        if _ACRONYM.fullmatch(m.text):
            acronyms[m.concept.iri] = m.concept
        else:
            spelled[m.concept.iri] = m.concept
    if len(spelled) >= _ONCOLOGY_CANCERS - 1:
        return set()
    families = [_family(vocab, c) for c in spelled.values()]
    return {iri for iri, c in acronyms.items() if iri not in spelled
            and not _family(vocab, c) & spelled.keys() and not any(iri in f for f in families)}


class _NoteExtractor:
    def __init__(self, note: Note, vocab: Vocabulary, cues: Cues,
                 link_topics: Mapping[str, Concept]) -> None:
        self.note = note
        self.cues = cues
        self.views = [_BlockView(b, vocab, cues, link_topics) for b in note.blocks]
        defined = _defined_abbreviations(self.views, vocab)
        if defined:  # "epidural spinal cord compression (ESCC)": ESCC names it from here on
            vocab = vocab.with_labels(defined)
            self.views = [_BlockView(b, vocab, cues, link_topics) for b in note.blocks]
        self.vocab = vocab
        self.topic_facts: list[Fact] = []
        self.metastasis = next((c for c in vocab.concepts.values()
                                if c.type == "Metastasis" and c.umbrella), None)
        unsupported = set() if _says_oncology(note, cues) else \
            _unsupported_acronyms((m for v in self.views for m in v.mentions), vocab)
        if unsupported:
            for view in self.views:
                view.drop(unsupported)
        named = find_topic(note, vocab)
        self.topic = named if named is not None and _is_subject(named) else None
        if named is not None and named.type == "Symptom":
            self.topic = self._eponymous_cause(named) or self._complication_cause(named)
        self.oncology = self._about_oncology()
        if self.oncology:
            self._section_causes()
        parents = {b.parent for b in note.blocks if b.parent is not None}
        for view in self.views:
            if view.block.index in parents:
                view.heads_children()
                if view.subject is None:
                    view.subject = self._subtype(view)
        self._row_subjects: dict[int | None, Concept | None] = {}
        self._subject_columns: dict[int | None, bool] = {}

    def _subtype(self, view: _BlockView) -> Concept | None:
        """"## Papillary" under "# Thyroid cancer" heads papillary thyroid cancer: a short
        heading that, put before the enclosing subject's name, names a narrower type."""
        words = view.block.text.strip(" :*_").split()
        if not words or len(words) > 3 or view.mentions:
            return None
        outer = next((a.subject for a in self._ancestors(view.block) if a.subject), None)
        if outer is None or outer.umbrella:
            return None
        for label in outer.labels:
            concept = self.vocab.lookup(f"{' '.join(words)} {label}")
            if concept is not None and _is_subject(concept) and concept.iri != outer.iri:
                return concept
        return None

    def _section_causes(self) -> None:
        """A section headed by a complication ("#### Spinal cord compression") is about
        the cancer or metastasis its text says the complication is due to."""
        for view in self.views:
            block = view.block
            if block.kind != "heading" or view.subject is not None:
                continue
            complications = {m.concept.iri: m.concept for m in view.mentions
                             if m.concept.type == "Symptom"}
            if len(complications) != 1 or len(view.mentions) != 1:
                continue
            end = next((v.block.index for v in self.views[block.index + 1:]
                        if v.block.kind == "heading" and v.block.level <= block.level),
                       len(self.views))
            cause = self._section_cause(self.views[block.index + 1:end])
            if cause is not None:
                view.subject = cause

    def _section_cause(self, views: list[_BlockView]) -> Concept | None:
        """The first cancer or metastasis named after a cause cue ("due to", "results from")
        in the same sentence, in a section's blocks; a broad one ("malignancies") too."""
        for view in views:
            for cue in self.cues.cause.finditer(view.lower):
                sent = next((t for t in view.sentences if t.start <= cue.start() < t.end), None)
                if sent is None:
                    continue
                after = [m for m in view.in_sentence(sent)
                         if m.start >= cue.end() and _is_subject(m.concept)]
                if after:
                    return after[0].concept
        return None

    def _about_oncology(self) -> bool:
        """Tell whether the note is about cancer: its topic is a cancer or metastasis, its
        title, aliases or tags say so, or it names several cancers.  In other notes (most
        of a real vault) only sentences that name a cancer assert anything about one."""
        if self.topic is not None:
            return True
        names = " ".join((self.note.title, *self.note.aliases, *self.note.tags)).lower()
        if self.cues.oncology.search(names):
            return True
        first = next((v for v in self.views if v.block.kind == "heading"), None)
        if first is not None and first.block.level == 1 and first.subject is not None \
                and not first.subject.umbrella:
            return True  # "# Lung cancer" atop the note: its title in all but name
        named = {m.concept.iri for v in self.views for m in v.mentions
                 if _is_subject(m.concept) and not m.concept.umbrella}
        return len(named) >= _ONCOLOGY_CANCERS

    def _explicit_subjects(self, view: _BlockView, sent: _Sentence,
                           previous: Concept | None, row: Concept | None) -> set[str]:
        """The cancers a sentence is explicitly about: named in it or just before it in the
        block, in its table row, or in the headings and items it is under."""
        named = {m.concept.iri for m in view.in_sentence(sent)
                 if _is_subject(m.concept) and not m.concept.umbrella}
        named.update(c.iri for c in (previous, row) if c is not None and not c.umbrella)
        named.update(a.subject.iri for a in self._ancestors(view.block)
                     if a.subject is not None and not a.subject.umbrella)
        return named

    def _eponymous_cause(self, symptom: Concept) -> Concept | None:
        """A complication named after its cancer ("carcinoid syndrome", "myeloma kidney"):
        the cancer a leading part of its name names, with the fact where the note first
        mentions the complication."""
        for label in symptom.labels:
            words = label.split()
            for n in range(len(words) - 1, 0, -1):
                cause = self.vocab.lookup(" ".join(words[:n]))
                if cause is not None and _is_subject(cause) and not cause.umbrella:
                    self._note_cause(cause, symptom)
                    return cause
        return None

    def _note_cause(self, cause: Concept, symptom: Concept) -> None:
        """Keep the fact that a note's complication is due to its cause, at the first block
        that names the complication."""
        for view in self.views:
            at = next((m for m in view.mentions if m.concept.iri == symptom.iri), None)
            if at is not None:
                hedge = self.cues.hedge.search(view.lower)
                self.topic_facts.append(Fact(
                    cause.iri, "hasSymptom", symptom.iri,
                    SourceSpan(self.note.path, view.block.line_at(at.start)),
                    hedge=hedge.group(1).lower() if hedge else None,
                    text=view.block.text.strip()))
                return

    def _complication_cause(self, symptom: Concept) -> Concept | None:
        """In a note about a complication, the cancer or metastasis it is due to."""
        for view in self.views:
            text = view.block.text
            for cue in self.cues.cause.finditer(view.lower):
                after = [m for m in view.mentions if m.start >= cue.end()
                         and _is_subject(m.concept) and not m.concept.umbrella]
                if after:
                    cause = after[0].concept
                    hedge = self.cues.hedge.search(view.lower)
                    self.topic_facts.append(Fact(
                        cause.iri, "hasSymptom", symptom.iri,
                        SourceSpan(self.note.path, view.block.line_at(after[0].start)),
                        hedge=hedge.group(1).lower() if hedge else None, text=text.strip()))
                    return cause
        return None

    def _ancestors(self, block: Block) -> Iterator[_BlockView]:
        parent = block.parent
        seen = 0
        while parent is not None and seen < 10_000:
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

    def _context_subjects(self, view: _BlockView) -> list[Concept]:
        """Subjects from the enclosing blocks, nearest first, then the topic."""
        found = [anc.subject for anc in self._ancestors(view.block) if anc.subject is not None]
        if self.topic is not None:
            found.append(self.topic)
        return found

    def _is_cue(self, view: _BlockView, m: Mention) -> bool:
        """A broad 'metastasis to' mention is part of a spread verb, not a subject."""
        return m.concept.umbrella and m.concept.type == "Metastasis" and any(
            s <= m.start < e for s, e in view.spread_cues)

    def _spread_site(self, view: _BlockView, sent: _Sentence) -> Concept | None:
        """The site of "cancer has spread to the <site>" in a sentence without a real subject."""
        for start, end in view.spread_cues:
            if not sent.start <= start < sent.end:
                continue
            before = [m for m in view.in_sentence(sent) if m.end <= start
                      and _is_subject(m.concept) and not self._is_cue(view, m)]
            if not before or any(not m.concept.umbrella for m in before):
                return None
            site = next((m for m in view.in_sentence(sent) if m.start >= end), None)
            if site is not None and site.concept.type == "AnatomicalSite":
                return self.vocab.metastasis_of.get(site.concept.iri)
        return None

    def _subject(self, view: _BlockView, sent: _Sentence, obj: Mention, relation: str,
                 previous: Concept | None, context: list[Concept]) -> Concept | None:
        def usable(concept: Concept) -> bool:
            if not _is_subject(concept) or concept.iri == obj.concept.iri:
                return False
            return not (relation == "spreadsTo" and concept.site is not None)

        in_sentence = [m for m in view.in_sentence(sent)
                       if usable(m.concept) and not self._is_cue(view, m)]
        before = [m.concept for m in in_sentence if m.end <= obj.start]
        after = [m.concept for m in in_sentence if m.start >= obj.end]
        candidates = [*before[::-1], *([previous] if previous else []), *context, *after]
        candidates = [c for c in candidates if usable(c)]
        if not candidates:
            return None
        chosen = candidates[0]
        narrower = next((c for c in context if chosen.iri in _broader(self.vocab, c)), None)
        if narrower is not None:
            return narrower  # "gliomas" in a section on glioblastoma: the most specific type
        if chosen.umbrella:  # a specific type named in the sentence, else in its context
            order = [*before[::-1], *after, *([previous] if previous else []), *context]
            specific = next((c for c in order if usable(c) and not c.umbrella), None)
            if specific is not None:
                return specific
            if relation == "spreadsTo" and chosen.type == "CancerType":
                return self.metastasis or chosen
        return chosen

    @staticmethod
    def _negated(view: _BlockView, sent: _Sentence, obj: Mention) -> bool:
        text = view.block.text
        negations = view.cues["negation"]
        before = [(s, e) for s, e in negations if sent.start <= s and e <= obj.start]
        if before and not any(before[-1][1] <= s and e <= obj.start
                              for s, e in view.cues["contrast"]):
            s, e = before[-1]
            if not _NOUN_NEGATION.fullmatch(view.lower[s:e].strip()):
                return True
            if _coordinated(view, e, obj):
                return True  # "without fever or weight loss": both
        start = obj.end
        opened = text.rfind("(", sent.start, obj.start)
        if opened != -1 and text.find(")", opened, obj.start) == -1:
            close = text.find(")", obj.end, sent.end)
            start = close + 1 if close != -1 else start  # a list in parentheses: after it
        # the clause goes on over parentheses: "Biopsy (FNA, core) is contraindicated"
        rest = _PARENS.sub(lambda m: " " * len(m.group()), text[start:sent.end])
        end = _CLAUSE_END.search(rest)
        clause_end = start + end.start() if end else sent.end
        return any(obj.end <= s and e <= clause_end for s, e in negations)

    @staticmethod
    def _hedge(view: _BlockView, sent: _Sentence) -> str | None:
        return next((word for pos, word in view.hedges if sent.start <= pos < sent.end), None)

    @staticmethod
    def _first_cue(view: _BlockView, name: str, sent: _Sentence) -> tuple[int, int] | None:
        return next(((s, e) for s, e in view.cues[name] if sent.start <= s < sent.end), None)

    def _spread_before(self, view: _BlockView, sent: _Sentence, pos: int) -> bool:
        """Tell whether a spread verb comes before ``pos`` in the sentence; an arrow counts
        only when it points at a site ("Leukaemia -> cancer of the blood" defines)."""
        for s, e in view.spread_cues:
            if not (sent.start <= s and e <= pos):
                continue
            if not _ARROW.fullmatch(view.block.text[s:e].strip()):
                return True
            between = [m for m in view.mentions if e <= m.start < pos]
            if all(m.concept.type == "AnatomicalSite" or m.concept.site for m in between):
                return True
        return False

    def facts(self) -> list[Fact]:
        out: list[Fact] = list(self.topic_facts)
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

    def _column_subject(self, view: _BlockView, obj: Mention) -> Concept | None:
        """The cancer a table column is about, named in its header cell."""
        header = self._header(view) if view.block.kind == "row" else None
        cell = self._cell_index(view.block, obj.start) if header is not None else None
        if header is None or cell is None or cell == 0 or cell >= len(header.block.cells):
            return None
        s, e = header.block.cells[cell]
        return next((m.concept for m in header.mentions
                     if s <= m.start < e and _is_subject(m.concept) and not m.concept.umbrella),
                    None)

    def _row_subject(self, view: _BlockView) -> Concept | None:
        """The cancer a table row is about: named in its first cell, or that cell's organ;
        a row whose first cell is empty goes on with the row above."""
        if not view.block.cells:
            return None
        s, e = view.block.cells[0]
        table = view.block.parent
        if not view.block.text[s:e].strip():
            return self._row_subjects.get(table)
        subject = self._first_cell_subject(view, s, e)
        self._row_subjects[table] = subject
        return subject

    def _names_other_subject(self, view: _BlockView) -> bool:
        """Tell whether a row's first cell names something unknown in a column of cancers
        (headed "Tumour type" or "Primary", or where another row names a cancer), and this
        cell is no aspect label ("Symptoms") but words of its own ("Insulinoma" when the
        vocabulary lacks it)."""
        s, e = view.block.cells[0]
        cell = view.block.text[s:e].strip()
        if not cell or frame_of(cell, self.cues) is not None:
            return False
        if any(s <= m.start < e for m in view.mentions):
            return False
        table = view.block.parent
        if table not in self._subject_columns:
            self._subject_columns[table] = self._primary_column(view) or any(
                self._first_cell_subject(other, *other.block.cells[0]) is not None
                for other in self.views if other.block.kind == "row"
                and other.block.parent == table and other.block.cells)
        return self._subject_columns[table]

    def _primary_column(self, view: _BlockView) -> bool:
        """Tell whether a row's table heads its first column as cancers ("Primary")."""
        header = self._header(view)
        if header is None or not header.block.cells:
            return False
        s, e = header.block.cells[0]
        title = header.block.text[s:e].lower()
        return bool(self.cues.oncology.search(title) or _PRIMARY.search(title))

    def _first_cell_subject(self, view: _BlockView, s: int, e: int) -> Concept | None:
        first = [m for m in view.mentions if s <= m.start < e]
        for m in first:
            if _is_subject(m.concept):
                return m.concept
        cell = view.block.text[s:e].strip()
        if not self.oncology and not self._primary_column(view):
            return None  # an organ names its cancer only where the table or note is on cancer
        if 0 < len(cell.split()) <= 3:
            for name in (f"{cell} cancer", f"{cell} carcinoma"):
                concept = self.vocab.lookup(name)
                if concept is not None and concept.type == "CancerType":
                    return concept
        for m in first:
            if m.concept.type == "AnatomicalSite" and m.concept.iri in self.vocab.cancer_of:
                return self.vocab.cancer_of[m.concept.iri]
        return None

    def _block_facts(self, view: _BlockView) -> list[Fact]:
        if _TASK.match(view.block.text):
            return []  # "- [ ] check whether ...", "TODO ...": a task, not a statement
        context_frame = self._context_frame(view)
        context = self._context_subjects(view)
        row = self._row_subject(view) if view.block.kind == "row" else None
        if row is not None:
            context = [row, *context]
        elif view.block.kind == "row" and self._names_other_subject(view):
            return []  # the row is about a thing the vocabulary does not know
        out: list[Fact] = []
        previous: Concept | None = None
        antecedent: Concept | None = None  # the last subject named, for "it" or "the tumour"
        for sent in view.sentences:
            if view.block.text[sent.start:sent.end].rstrip(" *_)").endswith("?"):
                continue  # a question asserts nothing
            if previous is None and _ANAPHOR.search(view.lower, sent.start, sent.end):
                previous = antecedent
            spread_subject = self._spread_site(view, sent)
            sources = self._parenthesized_sources(view, sent)
            out.extend(self._fact(view, sent, m, cancer, "spreadsTo", site)
                       for m, cancer, site in sources)
            foreign = _opens_with_unknown_link(view, sent)
            named = set() if self.oncology and not foreign else \
                self._explicit_subjects(view, sent, None if foreign else previous, row)
            taken = {m.start for m, _, _ in sources}
            for obj in view.in_sentence(sent):
                if obj.start in taken:
                    continue
                if obj.concept.umbrella and self.cues.examples.match(view.lower, obj.end, sent.end):
                    continue  # a broad term that introduces examples
                if self.cues.modifier.match(view.lower, obj.end, sent.end):
                    continue  # "radiation-induced": a cause, not a fact
                if any(sent.start <= a < obj.start for a, _ in view.cues["aside"]):
                    continue  # "... its side effects include nausea": not the cancer's
                relation, target = self._object(view, sent, obj, context_frame, context)
                if relation is None or target is None:
                    continue
                if self._negated(view, sent, obj):
                    continue
                column = self._column_subject(view, obj)
                if column is not None:
                    subject: Concept | None = column
                elif spread_subject is not None and relation != "spreadsTo":
                    subject = spread_subject
                else:
                    subject = self._subject(view, sent, obj, relation, previous, context)
                if subject is None or subject.iri == target or \
                        (relation == "spreadsTo" and subject.primary_site == target):
                    continue  # "lung cancer spreads within the lung": not a metastasis
                if (foreign or not self.oncology) and subject.iri not in named \
                        and column is None:
                    continue  # a note not about cancer: only what a sentence says of one
                out.extend(self._fact(view, sent, obj, each, relation, target)
                           for each in _coordinated_subjects(view, sent, subject)
                           if each.iri != target)
            out.extend(self._source_facts(view, sent, previous, context))
            source = self._first_cue(view, "sources", sent)
            limit = source[0] if source else sent.end
            subjects = [m.concept for m in view.in_sentence(sent)
                        if _is_subject(m.concept) and not self._is_cue(view, m)
                        and m.start < limit and not self._negated(view, sent, m)]
            specific = list({c.iri: c for c in subjects if not c.umbrella}.values())
            if len(specific) > 1:
                previous = None  # "lymphomas, mesotheliomas and ...": no one antecedent
            elif specific or (subjects and previous is None):
                previous = antecedent = (specific or subjects)[0]
            elif not subjects and not _ANAPHOR.search(view.lower, sent.start, sent.end) \
                    and view.block.text[sent.start:sent.end].rstrip().endswith((".", "!")):
                previous = None  # the next sentence but one needs "it", "the tumour"...
        return out

    def _fact(self, view: _BlockView, sent: _Sentence, at: Mention, subject: Concept,
              relation: str, target: str) -> Fact:
        text = view.block.text
        return Fact(subject=subject.iri, predicate=relation, object=target,
                    span=SourceSpan(self.note.path, view.block.line_at(at.start)),
                    hedge=self._hedge(view, sent), text=text[sent.start:sent.end].strip())

    def _parenthesized_sources(self, view: _BlockView, sent: _Sentence
                               ) -> list[tuple[Mention, Concept, str]]:
        """"Brain metastases are common (breast, lung, melanoma)": after a metastasis of a
        site, the organs and cancers in parentheses are where it comes from.  Returns each
        such mention with its cancer and the site."""
        text = view.block.text
        found: list[tuple[Mention, Concept, str]] = []
        for m in view.in_sentence(sent):
            site = m.concept.site if m.concept.type == "Metastasis" else None
            if site is None:
                continue
            opened = text.find("(", m.end, min(sent.end, m.end + _PAREN_REACH))
            closed = text.find(")", opened, sent.end) if opened != -1 else -1
            if closed == -1 or any(o.start < opened for o in view.in_sentence(sent)
                                   if o.start > m.start):
                continue
            for inner in view.in_sentence(sent):
                if not opened < inner.start < closed:
                    continue
                cancer = inner.concept if inner.concept.type == "CancerType" else \
                    self.vocab.cancer_of.get(inner.concept.iri)
                if cancer is not None and not cancer.umbrella and \
                        cancer.primary_site != site:
                    found.append((inner, cancer, site))
        return found

    @staticmethod
    def _after_metastases(view: _BlockView, sent: _Sentence, site: Mention) -> bool:
        """"Mets (bone, brain)": sites in parentheses right after a broad metastasis."""
        text = view.block.text
        opened = text.rfind("(", sent.start, site.start)
        if opened == -1 or text.find(")", opened, site.start) != -1:
            return False
        before = [m for m in view.in_sentence(sent) if m.end <= opened]
        return bool(before) and before[-1].concept.type == "Metastasis" and \
            before[-1].concept.umbrella and not text[before[-1].end:opened].strip()

    def _source_facts(self, view: _BlockView, sent: _Sentence, previous: Concept | None,
                      context: list[Concept]) -> list[Fact]:
        """"Sources of brain metastases are lung and breast cancer": cancers spread there."""
        cue = self._first_cue(view, "sources", sent)
        if cue is None:
            return []
        before = [m.concept for m in view.in_sentence(sent) if m.end <= cue[0]]
        about = [c for c in (*before[::-1], previous, *context)
                 if c is not None and c.type == "Metastasis" and c.site is not None]
        if not about:
            return []
        site = about[0].site
        assert site is not None
        return [self._fact(view, sent, m, m.concept, "spreadsTo", site)
                for m in view.in_sentence(sent) if m.start >= cue[1]
                and m.concept.type == "CancerType" and not m.concept.umbrella
                and not self._negated(view, sent, m)]

    def _object(self, view: _BlockView, sent: _Sentence, obj: Mention,
                context_frame: str | None,
                context: list[Concept]) -> tuple[str | None, str | None]:
        """Return the relation and object IRI a mention asserts in its context, if any."""
        frame = self._frame(view, sent, obj, context_frame)
        if frame == "none":
            return None, None
        kind = obj.concept.type
        spread = frame in ("spreadsTo", "spreadsVia") or \
            self._spread_before(view, sent, obj.start)
        if kind == "AnatomicalSite":
            spread = spread or self._after_metastases(view, sent, obj)
            return ("spreadsTo", obj.concept.iri) if spread else (None, None)
        if kind == "Metastasis" and obj.concept.site is not None:
            before = [m for m in view.in_sentence(sent) if m.start < obj.start
                      and m.concept.type == "CancerType" and not m.concept.umbrella]
            topic = self.topic
            if before or (topic is not None and topic.type == "CancerType" and not topic.umbrella):
                return "spreadsTo", obj.concept.site
            return None, None
        if kind == "SpreadRoute" and not (frame in ("spreadsTo", "spreadsVia") or
                                          self._first_cue(view, "route", sent)):
            return None, None
        if kind in RELATION_OF:
            return RELATION_OF[kind], obj.concept.iri
        return None, None


def extract_facts(note: Note, vocab: Vocabulary,
                  link_topics: Mapping[str, Concept] | None = None) -> tuple[Fact, ...]:
    """Return the facts a note asserts, one per (subject, relation, object, line).

    ``link_topics`` maps wikilink targets (normalised with :func:`vault.link_key`) to the
    topic concept of the note they point to; such links count as mentions of it.
    """
    extractor = _NoteExtractor(note, vocab, load_cues(), link_topics or {})
    unique: dict[tuple[str, str, str, int], Fact] = {}
    for fact in extractor.facts():
        key = (fact.subject, fact.predicate, fact.object, fact.span.line)
        if key not in unique:
            unique[key] = fact
    return tuple(sorted(unique.values()))
