"""Whether a mention is asserted: negation and its scope, hedges, and the blocks,
sentences and objects that assert nothing (tasks, questions, side effects, ...)."""

from __future__ import annotations

import re
from collections.abc import Callable

from ..model import Mention
from .blocks import BlockView, Sentence
from .cues import Cues

_CLAUSE_END = re.compile(r"[,;:]|\s-\s|\bbut\b|\bwhen\b|\bif\b|\bunless\b", re.IGNORECASE)
TASK = re.compile(r"\s*(?:\[[ xX?/-]\]|(?:TODO|DOING|LATER|NOW|WAITING|DONE)\b)")
LIST_GAP = re.compile(r"\s*(?:[,;/&]\s*)?(?:\b(?:or|and|nor)\b)?\s*", re.IGNORECASE)
_ACTIONS = ("DiagnosticModality", "Treatment")
_ASIDE_ENDS = re.compile(r"[;:.]|\b(?:but|however|whereas)\b", re.IGNORECASE)
_PARENS = re.compile(r"\([^()]*\)")
_REGION_BEFORE = re.compile(r"\s*(?:(?:of|to)(?: the)?\s*)?", re.IGNORECASE)  # "CT of the chest"
_REGION_AFTER = re.compile(r"[\s-]*")  # "chest X-ray", "brain MRI"


def negated(view: BlockView, sent: Sentence, obj: Mention) -> bool:
    negations = view.cues["negation"]
    if not negations:
        return False  # most blocks: no negation to find a scope for
    text = view.block.text
    before = [(s, e) for s, e in negations if sent.start <= s and e <= obj.start]
    if before and not any(before[-1][1] <= s and e <= obj.start
                          for s, e in view.cues["contrast"]):
        s, e = before[-1]
        if not view.cues_of.noun_negation.fullmatch(view.lower[s:e].strip()):
            return True
        if coordinated_with(view, e, obj):
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


def coordinated_with(view: BlockView, start: int, obj: Mention) -> bool:
    """Tell whether ``obj`` is the first mention after ``start`` or joined to it by list
    separators only ("without fever, sweats or weight loss")."""
    text = view.block.text
    pos = start
    for m in view.mentions:
        if m.start < start:
            continue
        gap = text[pos:m.start]
        if pos != start and not LIST_GAP.fullmatch(gap):
            return False
        if m is obj or m.start == obj.start:
            return True
        pos = m.end
    return False


def hedge_of(view: BlockView, sent: Sentence) -> str | None:
    return next((word for pos, word in view.hedges if sent.start <= pos < sent.end), None)


def first_cue(view: BlockView, name: str, sent: Sentence) -> tuple[int, int] | None:
    return next(((s, e) for s, e in view.cues[name] if sent.start <= s < sent.end), None)


# The rules that silence a block, a sentence or one mention, tried in order: each is a
# small function a reader can test alone (markdown-it's rule chains are the model).

def is_task(view: BlockView) -> bool:
    """"- [ ] check whether ...", "TODO ...": a task, not a statement."""
    return bool(TASK.match(view.block.text))


def is_question(view: BlockView, sent: Sentence) -> bool:
    """A question asserts nothing."""
    return view.block.text[sent.start:sent.end].rstrip(" *_)").endswith("?")


def introduces_examples(view: BlockView, sent: Sentence, obj: Mention, cues: Cues) -> bool:
    """"Systemic therapies such as chemotherapy": the broad term is a category."""
    return obj.concept.umbrella and bool(cues.examples.match(view.lower, obj.end, sent.end))


def names_a_cause(view: BlockView, sent: Sentence, obj: Mention, cues: Cues) -> bool:
    """"Radiation-induced enteropathy": the mention is a cause, not a fact."""
    return bool(cues.modifier.match(view.lower, obj.end, sent.end))


def set_aside(view: BlockView, sent: Sentence, obj: Mention, cues: Cues) -> bool:
    """"... its side effects include nausea": what follows, to the end of the clause, is
    not the cancer's ("similar to ovarian cancer: surgery" is)."""
    return any(sent.start <= start and end <= obj.start
               and not _ASIDE_ENDS.search(view.block.text, end, obj.start)
               for start, end in view.cues["aside"])


def region_of_a_test(view: BlockView, sent: Sentence, obj: Mention, cues: Cues) -> bool:
    """"X-ray chest", "MRI of the pelvis", "brain MRI": a site next to a test or treatment
    is where it looks or acts, not where a cancer spreads."""
    if obj.concept.type != "AnatomicalSite":
        return False
    text = view.block.text
    before, after = view.neighbours(obj)
    return (before is not None and before.concept.type in _ACTIONS and before.end <= obj.start
            and bool(_REGION_BEFORE.fullmatch(text, before.end, obj.start))) or (
        after is not None and after.concept.type in _ACTIONS and obj.end <= after.start
        and bool(_REGION_AFTER.fullmatch(text, obj.end, after.start)))


def part_of_a_finding(view: BlockView, sent: Sentence, obj: Mention, cues: Cues) -> bool:
    """"Nipple eczema", "skin rash": a site right before a finding names where the finding
    is, not a site of spread."""
    if obj.concept.type != "AnatomicalSite":
        return False
    after = view.neighbours(obj)[1]
    return after is not None and after.concept.type == "Symptom" and after.start >= obj.end \
        and not view.block.text[obj.end:after.start].strip()


def cross_reference(view: BlockView, sent: Sentence, obj: Mention, cues: Cues) -> bool:
    """"Cervical cancer ([[cancer screening programs]])": a link alone in parentheses points
    the reader to another note; it asserts nothing."""
    text = view.block.text
    for s, e, _ in view.block.links:
        if s <= obj.start < e:
            opened = text.rfind("(", 0, s)
            if opened == -1 or text[opened + 1:s].strip() or \
                    not text[e:].lstrip().startswith(")"):
                return False
            before = [m for m in view.mentions if m.end <= opened]
            # "LMN signs ([[cauda equina syndrome]])": a finding named again, not a pointer
            return not (before and before[-1].concept.type == obj.concept.type
                        and not text[before[-1].end:opened].strip())
    return False


def listed_with_subjects(view: BlockView, sent: Sentence, obj: Mention, cues: Cues) -> bool:
    """"Seen in lung cancer, mesothelioma, bronchiectasis": a finding listed among cancers
    is one more condition of the list, not a finding of theirs."""
    text = view.block.text
    for m in view.neighbours(obj):
        if m is None or m.concept.type not in ("CancerType", "Metastasis") or m.concept.umbrella:
            continue
        left, right = (m, obj) if m.end <= obj.start else (obj, m)
        if right.start >= left.end and LIST_GAP.fullmatch(text, left.end, right.start) and \
                text[left.end:right.start].strip():
            return True
    return False


def is_negated(view: BlockView, sent: Sentence, obj: Mention, cues: Cues) -> bool:
    """"Does not spread to the brain", "without fever"."""
    return negated(view, sent, obj)


SILENT_BLOCKS: tuple[Callable[[BlockView], bool], ...] = (is_task,)
SILENT_SENTENCES: tuple[Callable[[BlockView, Sentence], bool], ...] = (is_question,)
UNASSERTED: tuple[Callable[[BlockView, Sentence, Mention, Cues], bool], ...] = (
    introduces_examples, names_a_cause, set_aside, region_of_a_test, part_of_a_finding,
    cross_reference, listed_with_subjects, is_negated)
