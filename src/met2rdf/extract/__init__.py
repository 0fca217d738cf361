"""Note + vocabulary -> facts, each with its source line and hedge.

The package reads a note the way a clinician does, in this order (``note.py`` holds it):

1. *What the note is about* (``topic.py``): its topic from the title, aliases or an
   opening ``# heading``; a complication note ("Carcinoid syndrome", "MSCC") is about
   the cancer it is named after or its text says it is due to.  A note whose title,
   tags and text are not about cancer (most of a real vault) asserts a fact only where
   a sentence names a cancer.  Acronyms of cancers count only where the note supports
   them (GBM in a nephrology note is the glomerular basement membrane); abbreviations
   the note defines ("... compression (ESCC)") name their term from then on.
2. *Each block* (``blocks.py``: heading, list item, paragraph, table row) is split into
   sentences and ``Label:`` prefixes, and vocabulary concepts are found in it (longest
   match); organs coordinated with a cancer ("lung, breast and kidney cancers") become
   those cancers, shared modifiers and heads are spread ("flank or suprapubic pain"),
   an organ before a spread verb is its cancer ("Rectum -> liver").
3. *The frame and the subject of a block* come from the headings, bold lines, lead-in
   lines and list items it hangs under ("### Symptoms", "Sites of spread:"), a table's
   header cells and subject column (``tables.py``), a section headed by a complication
   (its cause), a sub-heading naming a subtype ("## Papillary" under thyroid cancer).
   A "none" frame (risk factors, prognosis, ...) asserts nothing.  A site is only a
   fact in a spread frame, after a spread verb or an arrow toward it, in parentheses
   after "mets", or as the site of a metastasis.
4. *The subject of each object* is the nearest cancer or metastasis named before it in
   the sentence, else the one the sentence before named (further only through "it",
   "the tumour"), else the block's subject, else the note's topic, else one named
   after it; a broad subject ("cancer") gives way to a specific one; the fact holds for
   every cancer coordinated with the subject (``subjects.py``).  "Brain metastases
   (breast, lung)" and "the sources of brain metastases are ..." reverse: those cancers
   spread to the site.
5. *Assertion* (``assertion.py``): tasks and questions say nothing; a negation drops
   what it governs (to a contrast word or clause end; "without" only its own noun
   phrases); examples of a broad term, causes ("radiation-induced"), a treatment's
   side effects are no facts; a hedge word is kept on the fact.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..model import Concept, Fact, Note
from ..vocab import Vocabulary
from .cues import RELATION_OF, RELATIONS, Cues, frame_of, load_cues
from .note import NoteExtractor
from .topic import find_topic

__all__ = ["RELATIONS", "RELATION_OF", "Cues", "extract_facts", "find_topic", "frame_of",
           "load_cues"]


def extract_facts(note: Note, vocab: Vocabulary,
                  link_topics: Mapping[str, Concept] | None = None) -> tuple[Fact, ...]:
    """Return the facts a note asserts, one per (subject, relation, object, line).

    ``link_topics`` maps wikilink targets (normalised with :func:`vault.link_key`) to the
    topic concept of the note they point to; such links count as mentions of it.
    """
    extractor = NoteExtractor(note, vocab, load_cues(), link_topics or {})
    unique: dict[tuple[str, str, str, int], Fact] = {}
    for fact in extractor.facts():
        key = (fact.subject, fact.predicate, fact.object, fact.span.line)
        if key not in unique:
            unique[key] = fact
    return tuple(sorted(unique.values()))
