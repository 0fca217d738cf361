"""Subjects inside one sentence: cancers coordinated with the subject, and sentences that
speak of something else."""

from __future__ import annotations

import re

from ..model import Concept
from .assertion import LIST_GAP
from .blocks import BlockView, Sentence, is_subject

ANAPHOR = re.compile(r"\b(?:it|its|they|their|these|this|such)\b|"
                      r"\bthe (?:tumou?r|cancer|carcinoma|disease|lesion|malignancy|mass)e?s?\b")


def opens_with_unknown_link(view: BlockView, sent: Sentence) -> bool:
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


def coordinated_subjects(view: BlockView, sent: Sentence, subject: Concept) -> list[Concept]:
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
            if not is_subject(other.concept) or other.concept.umbrella or \
                    not LIST_GAP.fullmatch(text[left.end:right.start]):
                break
            group.setdefault(other.concept.iri, other.concept)
            n += step
    return list(group.values())
