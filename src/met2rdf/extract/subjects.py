"""Subjects inside one sentence: cancers coordinated with the subject, and sentences that
speak of something else."""

from __future__ import annotations

from ..model import Concept, Mention
from .assertion import LIST_GAP
from .blocks import BlockView, Sentence, is_subject


def unknown_link_opening(view: BlockView, sent: Sentence) -> str | None:
    """The text of a link to a note on something the vocabulary does not know that opens a
    sentence ("[[toxoplasmosis]]: splenomegaly"): the sentence speaks of that, not the
    cancer.  None when the sentence opens otherwise."""
    text = view.block.text
    start = sent.start
    while start < sent.end and text[start] in " -*_>•\t":
        start += 1
    for s, e, _ in view.block.links:
        if s == start and not any(m.start < e and s < m.end for m in view.mentions):
            following = next((m for m in view.mentions if m.start >= e), None)
            if following is not None and not text[e:following.start].strip():
                return None  # "[[S. bovis]] bacteremia": the link names a kind of finding
            return text[s:e]
    return None


def coordinated_subjects(view: BlockView, mentions: list[Mention],
                         subject: Concept) -> list[Concept]:
    """The subject and the cancers coordinated with it among a sentence's ``mentions``:
    "lung, breast and kidney cancers spread to bone" says it of all three."""
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
