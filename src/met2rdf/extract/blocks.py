"""One block of a note as extraction reads it: its sentences, labels, cue spans and the
vocabulary mentions in it (with the readings that hold inside one block: coordinated
organs as cancers, shared modifiers and heads, an organ before a spread verb)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

from ..model import Block, Concept, Mention
from ..vault import link_key
from ..vocab import SUBJECT_TYPES, Vocabulary
from .cues import SCANNED, Cues, frame_of, lower_keeping_offsets

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]=*_]*\s+(?=[\"'“(\[=*_]*[A-Z0-9])|\n")
_LABEL = re.compile(r"\s*([^:.;!?\n]{1,60}?)\s*[:=]\s+")
_ABBREVIATIONS = ("e.g.", "i.e.", "vs.", "approx.", "etc.", "cf.", "dr.", "fig.", "no.")
_COORDINATION = re.compile(r"\s*(?:,|&|/|\band\b|\bor\b|,\s*and\b|,\s*or\b)\s*$", re.IGNORECASE)
_LIST_SEPARATOR = re.compile(r"\s*(?:,\s*(?:and|or)?|\band\b|\bor\b|/)\s*", re.IGNORECASE)
_LIST_ITEM = re.compile(r"[A-Za-z][\w-]*(?: [A-Za-z][\w-]*)?(?=\s*(?:,|\bor\b|\band\b|/|[.;:)]|$))")
# before a mention: a #tag, or "non-" ("non-seminomas" are not seminomas)
_NOT_THIS = re.compile(r"(?:#|\bnon[-–‑ ]?)$", re.IGNORECASE)


def _not_this(text: str, start: int) -> bool:
    """Tell whether a mention at ``start`` is a #tag or follows "non-"."""
    if not start:
        return False
    before = text[start - 1]
    if before == "#":
        return True
    return before in "-–‑ nN" and bool(_NOT_THIS.search(text, max(0, start - 5), start))
# between an organ and its spread verb: nothing but hedges ("skin lesions may spread" is
# about lesions, "Rectum -> may metastasise" about the rectum's cancer)
_RIGHT_BEFORE_VERB = re.compile(r"(?:[\s:–-]|\b(?:may|can|could|will|often|commonly|usually|"
                                r"typically|frequently|rarely|also|tends? to|cancers?)\b)*")
_HEAD_WORDS = 8  # at most this many words in a line that heads the blocks below it
_HEAD_SHARER = re.compile(r"\b([A-Za-z][\w-]*)\s*(?:,|/|\bor\b|\band\b|\bvs\.?|\bversus\b|,\s*or\b|,\s*and\b)\s*$", re.IGNORECASE)
_LAST_WORD = re.compile(r"\b[A-Za-z][\w-]* $")


def coordinated_cancers(mentions: list[Mention], text: str, vocab: Vocabulary) -> list[Mention]:
    """Read "lung, breast and kidney cancers" as three cancers."""
    out = list(mentions)
    for i in range(len(out) - 1, 0, -1):
        head = out[i]
        if head.concept.type != "CancerType" or head.concept.primary_site is None:
            continue
        j, right = i - 1, head.start
        while j >= 0 and out[j].concept.type == "AnatomicalSite" and \
                _COORDINATION.fullmatch(text[out[j].end:right]):
            cancer = vocab.cancer_of.get(out[j].concept.iri)
            if cancer is None:
                break
            right = out[j].start
            out[j] = Mention(cancer, out[j].start, out[j].end, out[j].text)
            j -= 1
    return out


def split_sentences(text: str) -> list[tuple[int, int]]:
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


def is_subject(concept: Concept) -> bool:
    return concept.type in SUBJECT_TYPES


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    label_end: int  # end of a "Label:" prefix, or start when none
    frame: str | None  # frame set by the label of this sentence


class CuePositions(dict[str, list[tuple[int, int]]]):
    """The spans of each kind of cue (``SCANNED``) in a block's text, found when first
    asked for (a block without a negation never needs its contrasts)."""

    def __init__(self, cues: Cues, lower: str) -> None:
        super().__init__()
        self._cues, self._lower = cues, lower

    def __missing__(self, name: str) -> list[tuple[int, int]]:
        if name not in SCANNED:
            raise KeyError(name)
        quick = self._cues.prefilters.get(name)
        if quick is not None and quick.search(self._lower) is None:
            spans: list[tuple[int, int]] = []  # not one of the cues' first words is there
        else:
            spans = [m.span() for m in getattr(self._cues, name).finditer(self._lower)]
        self[name] = spans
        return spans


class BlockView:
    """What extraction needs to know about one block."""

    def __init__(self, block: Block, vocab: Vocabulary, cues: Cues,
                 link_topics: Mapping[str, Concept]) -> None:
        self.block = block
        self.vocab = vocab
        self._cues = cues
        found = [m for m in self._linked(vocab.find(block.text), link_topics)
                 if not _not_this(block.text, m.start)]
        self.mentions = coordinated_cancers(self._shared_modifier(found), block.text, vocab)
        self.sentences = [self._sentence(s, e, cues) for s, e in split_sentences(block.text)]
        if self.mentions:
            self.mentions = self._organ_subjects(self.mentions)
        self.subject = self._own_subject()
        self.frame = self._own_frame(cues)

    def keep(self, wanted: Callable[[Mention], bool]) -> None:
        """Forget the mentions that are not ``wanted`` (acronyms the note does not support,
        an abbreviation before the note defines it)."""
        kept = [m for m in self.mentions if wanted(m)]
        if len(kept) != len(self.mentions):
            self.mentions = kept
            self.__dict__.pop("_places", None)
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
            if cue is not None and cue[0] <= out[inside[1]].start and \
                    _RIGHT_BEFORE_VERB.fullmatch(self.lower, first.end, cue[0]):
                out[inside[0]] = Mention(cancer, first.start, first.end, first.text)
        return out

    def neighbours(self, mention: Mention) -> tuple[Mention | None, Mention | None]:
        """The mentions right before and right after one of the block's mentions."""
        at = self._places.get(id(mention))
        if at is None:
            return None, None
        return (self.mentions[at - 1] if at else None,
                self.mentions[at + 1] if at + 1 < len(self.mentions) else None)

    @cached_property
    def _places(self) -> dict[int, int]:
        return {id(m): n for n, m in enumerate(self.mentions)}

    @cached_property
    def parentheses(self) -> list[tuple[int, int]]:
        """The (start, end) of each outermost pair of parentheses in the block."""
        spans, depth, start = [], 0, 0
        for n, c in enumerate(self.block.text):
            if c == "(":
                depth, start = depth + 1, n if depth == 0 else start
            elif c == ")" and depth:
                depth -= 1
                if depth == 0:
                    spans.append((start, n))
        return spans

    def annotates(self, mention: Mention, obj: Mention) -> bool:
        """Tell whether a mention is in parentheses right after ``obj`` ("SIADH (SCLC)")."""
        text = self.block.text
        return any(s < mention.start < e and obj.end <= s and not text[obj.end:s].strip()
                   for s, e in self.parentheses)

    def aside(self, mention: Mention, obj: Mention) -> bool:
        """Tell whether a mention sits in parentheses that do not hold ``obj`` ("... tender
        nodes (HL has non-tender), cough"): a remark, no subject for what is outside; but
        parentheses right after the object say whose it is ("SIADH (SCLC)")."""
        return not self.annotates(mention, obj) and any(
            s < mention.start < e and not s < obj.start < e for s, e in self.parentheses)

    @property
    def cues_of(self) -> Cues:
        """The cue patterns this block is read with."""
        return self._cues

    # Cue positions are found only in blocks that have mentions (most blocks have none).
    @cached_property
    def lower(self) -> str:
        return lower_keeping_offsets(self.block.text)

    @cached_property
    def spread_cues(self) -> list[tuple[int, int]]:
        return [m.span() for m in self._cues.spread.finditer(self.lower)]

    @cached_property
    def cues(self) -> dict[str, list[tuple[int, int]]]:
        return CuePositions(self._cues, self.lower)

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


    def _sentence(self, start: int, end: int, cues: Cues) -> Sentence:
        text = self.block.text
        label = _LABEL.match(text, start, end)
        bold = next((b for b in self.block.bold if b[0] <= start + 1 and b[1] > start), None)
        if label is not None and len(label.group(1).split()) <= 6:
            return Sentence(start, end, label.end(), frame_of(label.group(1), cues))
        if bold is not None and text[bold[1]:bold[1] + 2].strip().startswith(":"):
            return Sentence(start, end, bold[1] + 1, frame_of(text[bold[0]:bold[1]], cues))
        return Sentence(start, end, start, None)

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
        subjects = [m for m in self.mentions if is_subject(m.concept)]
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

    def in_sentence(self, sent: Sentence) -> Iterator[Mention]:
        return (m for m in self.mentions if sent.start <= m.start < sent.end)
