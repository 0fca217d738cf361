"""One note's facts: the order in which its blocks, sentences and mentions are read."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ..model import Block, Concept, Fact, Mention, Note, SourceSpan
from ..vocab import Vocabulary
from .assertion import SILENT_BLOCKS, SILENT_SENTENCES, UNASSERTED, first_cue, hedge_of, negated
from .blocks import BlockView, Sentence, coordinated_cancers, is_subject
from .cues import RELATION_OF, SILENT_FRAMES, Cues, frame_of
from .subjects import coordinated_subjects, unknown_link_opening
from .tables import Tables
from .topic import (
    ACRONYM,
    ONCOLOGY_CANCERS,
    abbreviates,
    broader_of,
    defined_abbreviations,
    find_topic,
    says_oncology,
    unsupported_acronyms,
)

_CONDITION = re.compile(r"\b(?:with|having)\s+(?:[\w-]+\s+){0,5}$")
_ARROW = re.compile(r"→|->|=>|⇒|⟶")
_PAREN_REACH = 40  # characters from a metastasis to the parenthesis that lists its sources


OBJECT_TYPES = frozenset((*RELATION_OF, "Metastasis"))


def _unasserted(view: BlockView, sent: Sentence, obj: Mention, cues: Cues) -> bool:
    for rule in UNASSERTED:
        if rule(view, sent, obj, cues):
            return True
    return False




def _is_lymph_node(concept: Concept) -> bool:
    return any(label.lower().endswith(("lymph node", " node")) for label in concept.labels)


def _section_ends(views: list[BlockView]) -> dict[int, int]:
    """For each heading, the index of the block after its section (the next heading of
    its level or above), in one pass."""
    ends: dict[int, int] = {}
    open_: list[BlockView] = []
    for view in views:
        if view.block.kind != "heading":
            continue
        while open_ and open_[-1].block.level >= view.block.level:
            ends[open_.pop().block.index] = view.block.index
        open_.append(view)
    ends.update((v.block.index, len(views)) for v in open_)
    return ends


@dataclass(frozen=True, slots=True)
class _Scope:
    """What a block's place in the note gives its sentences: the frame and subjects of
    the headings and items it is under (and its table row's subject)."""

    frame: str | None
    context: list[Concept]
    row: Concept | None


class NoteExtractor:
    """Reads one note: its topic and sections first, then each block in order."""

    def __init__(self, note: Note, vocab: Vocabulary, cues: Cues,
                 link_topics: Mapping[str, Concept]) -> None:
        self.note = note
        self.cues = cues
        self.views = [BlockView(b, vocab, cues, link_topics) for b in note.blocks]
        defined = defined_abbreviations(self.views, vocab)
        if defined:  # "epidural spinal cord compression (ESCC)": ESCC names it from here on
            vocab = vocab.with_labels({iri: [short] for short, (iri, _) in defined.items()})
            first = min(at for _, at in defined.values())
            self.views[first:] = [BlockView(b, vocab, cues, link_topics)
                                  for b in note.blocks[first:]]
            for view in self.views[first:]:
                view.keep(lambda m, at=view.block.index: m.text not in defined
                          or defined[m.text][1] <= at)
        self.vocab = vocab
        self.topic_facts: list[Fact] = []
        self.metastasis = next((c for c in vocab.concepts.values()
                                if c.type == "Metastasis" and c.umbrella), None)
        names = [m for name in (note.title, *note.aliases) for m in vocab.find(name)]
        unsupported = unsupported_acronyms([*names, *(m for v in self.views for m in v.mentions)],
                                           vocab, says_oncology(note, cues))
        if unsupported:
            for view in self.views:
                view.keep(lambda m: m.concept.iri not in unsupported)
        named = find_topic(note, vocab)
        self.topic = named if named is not None and is_subject(named) else None
        self.complication = named if named is not None and named.type == "Symptom" else None
        if self.complication is not None:
            self.topic = self._eponymous_cause(named) or self._complication_cause(named)
        self.oncology = self._about_oncology()
        if self.oncology:
            self._section_causes()
        parents = {b.parent for b in note.blocks if b.parent is not None}
        title_cancers = self._title_cancers()
        for view in self.views:
            if view.block.index in parents:
                view.heads_children()
                if view.subject is None:
                    view.subject = self._subtype(view) or self._title_part(view, title_cancers)
        self.tables = Tables(self.views, self.vocab, cues, self.oncology)

    def _title_cancers(self) -> dict[str, Concept]:
        """The cancers a title names when it names several ("Breast and ovarian cancer"),
        by their organ."""
        found = {m.concept.iri: m.concept for name in (self.note.title, *self.note.aliases)
                 for m in coordinated_cancers(self.vocab.find(name), name, self.vocab)
                 if is_subject(m.concept) and not m.concept.umbrella}
        if len(found) < 2:
            return {}
        return {c.primary_site: c for c in found.values() if c.primary_site is not None}

    @staticmethod
    def _title_part(view: BlockView, title_cancers: dict[str, Concept]) -> Concept | None:
        """"## Ovary" in a note titled "Breast and ovarian cancer": that cancer."""
        if view.block.kind != "heading" or len(view.mentions) != 1:
            return None
        return title_cancers.get(view.mentions[0].concept.iri)

    def _subtype(self, view: BlockView) -> Concept | None:
        """"## Papillary" under "# Thyroid cancer" heads papillary thyroid cancer, "HER2
        positive:" in a note on breast cancer HER2-positive breast cancer: a short heading or
        lead-in that, put before the enclosing subject's (or the note's) name, names a
        narrower type."""
        words = view.block.text.strip(" :*_").split()
        if not words or len(words) > 3 or any(is_subject(m.concept) for m in view.mentions):
            return None  # "## HER2 positive": a marker's name may be a mention of its own
        outer = next((a.subject for a in self._ancestors(view.block) if a.subject),
                     self.topic)  # no section names one: the note's own cancer
        if outer is None or outer.umbrella:
            return None
        for label in outer.labels:
            if len(label) < 4 or label.isupper():
                continue  # "Papillary RCC": acronyms do not take a modifier this way
            concept = self.vocab.lookup(f"{' '.join(words)} {label}")
            if concept is not None and is_subject(concept) and concept.iri != outer.iri:
                return concept
        return None

    def _section_causes(self) -> None:
        """A section headed by a complication ("#### Spinal cord compression") is about
        the cancer or metastasis its text says the complication is due to."""
        ends = _section_ends(self.views)
        for view in self.views:
            block = view.block
            if block.kind != "heading" or view.subject is not None:
                continue
            complications = {m.concept.iri: m.concept for m in view.mentions
                             if m.concept.type == "Symptom"}
            if len(complications) != 1 or len(view.mentions) != 1:
                continue
            cause = self._section_cause(self.views[block.index + 1:ends[block.index]])
            if cause is not None:
                view.subject = cause

    def _section_cause(self, views: list[BlockView]) -> Concept | None:
        """The first cancer or metastasis named after a cause cue ("due to", "results from")
        in the same sentence, in a section's blocks; a broad one ("malignancies") too."""
        for view in views:
            for cue in self.cues.cause.finditer(view.lower):
                sent = next((t for t in view.sentences if t.start <= cue.start() < t.end), None)
                if sent is None:
                    continue
                after = [m for m in view.in_sentence(sent)
                         if m.start >= cue.end() and is_subject(m.concept)]
                if after:
                    return after[0].concept
        return None

    def _titled_oncology(self) -> bool:
        """Tell whether the title, aliases or tags say the note is on cancer."""
        names = " ".join((self.note.title, *self.note.aliases, *self.note.tags)).lower()
        return bool(self.cues.oncology.search(names))

    def _about_oncology(self) -> bool:
        """Tell whether the note is about cancer: its topic is a cancer or metastasis, its
        title, aliases or tags say so, or it names several cancers.  In other notes (most
        of a real vault) only sentences that name a cancer assert anything about one."""
        if self.topic is not None:
            return True
        if self._titled_oncology():
            return True
        first = next((v for v in self.views if v.block.kind == "heading"), None)
        if first is not None and first.block.level == 1 and first.subject is not None \
                and not first.subject.umbrella:
            return True  # "# Lung cancer" atop the note: its title in all but name
        named = {m.concept.iri for v in self.views for m in v.mentions
                 if is_subject(m.concept) and not m.concept.umbrella}
        return len(named) >= ONCOLOGY_CANCERS

    def _explicit_subjects(self, view: BlockView, sent: Sentence, previous: Concept | None,
                           row: Concept | None, inherited: bool = True) -> set[str]:
        """The cancers a sentence is explicitly about: named in it or just before it in the
        block, in its table row, or (``inherited``) in the headings and items it is under."""
        named = {m.concept.iri for m in view.in_sentence(sent)
                 if is_subject(m.concept) and not m.concept.umbrella
                 and not any(s < m.start < e for s, e in view.parentheses)}
        named.update(c.iri for c in (previous, row) if c is not None and not c.umbrella)
        if inherited:
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
                if cause is not None and is_subject(cause) and not cause.umbrella:
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
                         and is_subject(m.concept) and not m.concept.umbrella]
                if after:
                    cause = after[0].concept
                    hedge = self.cues.hedge.search(view.lower)
                    self.topic_facts.append(Fact(
                        cause.iri, "hasSymptom", symptom.iri,
                        SourceSpan(self.note.path, view.block.line_at(after[0].start)),
                        hedge=hedge.group(1).lower() if hedge else None, text=text.strip()))
                    return cause
        return None

    def _ancestors(self, block: Block) -> Iterator[BlockView]:
        parent = block.parent
        seen = 0
        while parent is not None and seen < 10_000:
            yield self.views[parent]
            parent = self.views[parent].block.parent
            seen += 1

    def _context_frame(self, view: BlockView) -> str | None:
        if view.block.kind == "row":  # rows take their frame from their header cells,
            # but nothing is read in a section that asserts nothing (differentials, risks)
            silent = any(anc.frame == "none" for anc in self._ancestors(view.block))
            return "none" if silent else None
        for anc in self._ancestors(view.block):
            if anc.frame is not None:
                return anc.frame
        return None

    def _context_subjects(self, view: BlockView) -> list[Concept]:
        """Subjects from the enclosing blocks, nearest first, then the topic."""
        found = [anc.subject for anc in self._ancestors(view.block) if anc.subject is not None]
        if self.topic is not None:
            found.append(self.topic)
        return found

    def _is_cue(self, view: BlockView, m: Mention) -> bool:
        """A broad 'metastasis to' mention is part of a spread verb, not a subject."""
        return m.concept.umbrella and m.concept.type == "Metastasis" and any(
            s <= m.start < e for s, e in view.spread_cues)

    def _spread_site(self, view: BlockView, sent: Sentence) -> Concept | None:
        """The site of "cancer has spread to the <site>" in a sentence without a real subject."""
        for start, end in view.spread_cues:
            if not sent.start <= start < sent.end:
                continue
            before = [m for m in view.in_sentence(sent) if m.end <= start
                      and is_subject(m.concept) and not self._is_cue(view, m)]
            if not before or any(not m.concept.umbrella for m in before):
                return None
            site = next((m for m in view.in_sentence(sent) if m.start >= end), None)
            if site is not None and site.concept.type == "AnatomicalSite":
                return self.vocab.metastasis_of.get(site.concept.iri)
        return None

    def _subject(self, view: BlockView, sent: Sentence, named: list[Mention], obj: Mention,
                 relation: str, previous: Concept | None,
                 context: list[Concept]) -> Concept | None:
        """The subject of ``obj``; ``named`` are the sentence's mentions of cancers and
        metastases (not the "metastasis to" of a spread verb)."""
        def usable(concept: Concept) -> bool:
            if concept.iri == obj.concept.iri:
                return False
            return not (relation == "spreadsTo" and concept.site is not None)

        in_sentence = [m for m in named if usable(m.concept)
                       and not (view.parentheses and view.aside(m, obj))]
        before = [m.concept for m in in_sentence if m.end <= obj.start
                  and not self._condition(view, m, in_sentence)]
        after = [m.concept for m in in_sentence if m.start >= obj.end]
        own = [m.concept for m in in_sentence if view.parentheses
               and view.annotates(m, obj)]  # "SIADH (SCLC)"
        tied = next(([m.concept] for m in in_sentence if m.start >= obj.end
                     and self.cues.tied.fullmatch(view.lower, obj.end, m.start)), [])  # "CT to stage X"
        candidates = [*own, *before[::-1], *tied, *([previous] if previous else []), *context,
                      *after]
        candidates = [c for c in candidates if usable(c)]
        if not candidates:
            return None
        chosen = candidates[0]
        narrower = next((c for c in context if chosen.iri in broader_of(self.vocab, c)), None)
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
    def _condition(view: BlockView, m: Mention, in_sentence: list[Mention]) -> bool:
        """"Head and neck cancer includes patients with extensive nodal disease and is
        treated with ...": a metastasis named as a condition of patients, after the cancer
        the sentence is about, is not the subject."""
        return m.concept.type == "Metastasis" and bool(
            _CONDITION.search(view.lower, max(0, m.start - 60), m.start)) and any(
            o.end <= m.start and o.concept.type == "CancerType" and not o.concept.umbrella
            for o in in_sentence)

    def _spread_before(self, view: BlockView, sent: Sentence, pos: int) -> bool:
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

    def _frame(self, view: BlockView, sent: Sentence, obj: Mention,
               context_frame: str | None) -> str | None:
        if view.block.kind == "row":
            header = self.tables.header(view)
            cell = self.tables.cell_index(view.block, obj.start)
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

    def _block_facts(self, view: BlockView) -> list[Fact]:
        if not view.mentions or any(rule(view) for rule in SILENT_BLOCKS):
            return []
        row = self.tables.row_subject(view) if view.block.kind == "row" else None
        if row is None and view.block.kind == "row" and self.tables.names_other_subject(view):
            return []  # the row is about a thing the vocabulary does not know
        context = self._context_subjects(view)
        if view.subject is not None and all(m.concept.iri != view.subject.iri
                                            for m in view.mentions):
            context = [view.subject, *context]  # found for the block: its cause, its subtype
        scope = _Scope(self._context_frame(view), [row, *context] if row else context, row)
        out: list[Fact] = []
        previous: Concept | None = None
        antecedent: Concept | None = None  # the last subject named, for "it" or "the tumour"
        for sent in view.sentences:
            if any(rule(view, sent) for rule in SILENT_SENTENCES):
                continue
            if previous is None and self.cues.anaphor.search(view.lower, sent.start, sent.end):
                previous = antecedent
            inside = list(view.in_sentence(sent))
            if inside:
                out.extend(self._sentence_facts(view, sent, inside, scope, previous))
            previous, antecedent = self._antecedent(view, sent, inside, previous, antecedent)
        return out

    def _sentence_facts(self, view: BlockView, sent: Sentence, inside: list[Mention],
                        scope: _Scope, previous: Concept | None) -> list[Fact]:
        sources = self._parenthesized_sources(view, sent)
        out = [self._fact(view, sent, m, cancer, "spreadsTo", site)
               for m, cancer, site in sources]
        out.extend(self._listed_causes(view, sent, inside, scope))
        foreign = self._foreign(view, sent)
        # in a note not about cancer, or a sentence on something else, only what the
        # sentence itself says of a named cancer
        explicit = None if self.oncology and not foreign else \
            self._explicit_subjects(view, sent, None if foreign else previous, scope.row,
                                    inherited=not foreign)
        spread_subject = self._spread_site(view, sent)
        site_label = self._site_label(view, sent, inside, scope)
        named = [m for m in inside if is_subject(m.concept) and not self._is_cue(view, m)]
        taken = {m.start for m, _, _ in sources}
        for obj in inside:
            if obj.start in taken or obj.concept.type not in OBJECT_TYPES:
                continue
            relation, target = self._object(view, sent, obj, scope.frame, scope.context)
            if relation is None or target is None or _unasserted(view, sent, obj, self.cues):
                continue
            column = self.tables.column_subject(view, obj)
            if column is not None:
                subject: Concept | None = column
            elif spread_subject is not None and relation != "spreadsTo":
                subject = spread_subject
            else:
                subject = self._subject(view, sent, named, obj, relation, previous,
                                        scope.context)
            if subject is None or subject.iri == target or (
                    relation == "spreadsTo" and subject.primary_site == target
                    and not self.cues.other_side.search(view.lower, max(0, obj.start - 20),
                                                       obj.start)):
                continue  # "lung cancer spreads within the lung" (but "to the other lung")
            if explicit is not None and subject.iri not in explicit and column is None:
                continue
            subjects = coordinated_subjects(view, inside, subject)
            if site_label is not None and relation != "spreadsTo" and obj.start >= sent.label_end:
                subjects.append(site_label)  # the cancer and its metastasis there: both
            out.extend(self._fact(view, sent, obj, each, relation, target)
                       for each in subjects if each.iri != target)
            node = self._node_of(view, obj) if relation == "hasSymptom" else None
            if node is not None:  # "cervical lymphadenopathy" in a solid cancer: nodal spread
                out.extend(self._fact(view, sent, obj, each, "spreadsTo", node.iri)
                           for each in subjects if each.primary_site is not None)
        out.extend(self._source_facts(view, sent, previous, scope.context))
        out.extend(self._causer_facts(view, sent))
        return out

    def _antecedent(self, view: BlockView, sent: Sentence, inside: list[Mention],
                    previous: Concept | None, antecedent: Concept | None
                    ) -> tuple[Concept | None, Concept | None]:
        """The subject the next sentence inherits, and the last one named."""
        named = [m for m in inside if is_subject(m.concept)]
        if named:
            source = first_cue(view, "sources", sent)
            limit = source[0] if source else sent.end
            named = [m for m in named if m.start < limit and not self._is_cue(view, m)
                     and not negated(view, sent, m)]
        subjects = [m.concept for m in named]
        specific = list({c.iri: c for c in subjects if not c.umbrella}.values())
        if len(specific) > 1:
            return None, antecedent  # "lymphomas, mesotheliomas and ...": no one antecedent
        if specific or (subjects and previous is None):
            return (specific or subjects)[0], (specific or subjects)[0]
        if not subjects and not self.cues.anaphor.search(view.lower, sent.start, sent.end) \
                and view.block.text[sent.start:sent.end].rstrip().endswith((".", "!")):
            return None, antecedent  # the next sentence but one needs "it", "the tumour"...
        return previous, antecedent

    def _foreign(self, view: BlockView, sent: Sentence) -> bool:
        """Tell whether a sentence opens with a link to a note on something else: unknown
        to the vocabulary, and no abbreviation of the section's subject ("[[CCA]]" under
        cholangiocarcinoma is that cancer, "[[CBDS]]" is not)."""
        link = unknown_link_opening(view, sent)
        if link is None:
            return False
        subjects = [a.subject for a in self._ancestors(view.block) if a.subject is not None]
        return not any(ACRONYM.fullmatch(link) and abbreviates(link, label)
                       for c in subjects for label in c.labels)

    def _site_label(self, view: BlockView, sent: Sentence, inside: list[Mention],
                    scope: _Scope) -> Concept | None:
        """"Lung: chest X-ray" under "Metastases": a site as the label of a line in a
        section on metastases makes the line about that site's metastasis too."""
        if sent.label_end == sent.start or not any(
                c.type == "Metastasis" and c.umbrella for c in scope.context):
            return None
        label = [m for m in inside if m.start < sent.label_end]
        if len(label) != 1 or label[0].concept.type != "AnatomicalSite":
            return None
        return self.vocab.metastasis_of.get(label[0].concept.iri)

    def _listed_causes(self, view: BlockView, sent: Sentence, inside: list[Mention],
                       scope: _Scope) -> list[Fact]:
        """In a note on a complication or finding, the cancers listed under its causes
        ("# Can lead to: ... leukaemia") have it."""
        complication = self.complication
        frame = sent.frame if sent.frame is not None else scope.frame
        if complication is None or frame != "causes":
            return []
        return [self._fact(view, sent, m, m.concept, "hasSymptom", complication.iri)
                for m in inside if is_subject(m.concept) and not m.concept.umbrella
                and m.start >= sent.label_end and not negated(view, sent, m)]

    def _node_of(self, view: BlockView, finding: Mention) -> Concept | None:
        """The regional lymph nodes an enlarged-node finding names ("cervical
        lymphadenopathy", "axillary adenopathy"); None for other findings and bare ones."""
        label = finding.concept.pref_label.lower()
        if not label.endswith(self.cues.node_findings):
            return None
        words = label.split()[:-1] or view.block.text[:finding.start].split()[-1:]
        region = self.vocab.lookup(f"{' '.join(words)} lymph node") if words else None
        return region if region is not None and region.type == "AnatomicalSite" else None

    def _fact(self, view: BlockView, sent: Sentence, at: Mention, subject: Concept,
              relation: str, target: str) -> Fact:
        text = view.block.text
        return Fact(subject=subject.iri, predicate=relation, object=target,
                    span=SourceSpan(self.note.path, view.block.line_at(at.start)),
                    hedge=hedge_of(view, sent), text=text[sent.start:sent.end].strip())

    def _parenthesized_sources(self, view: BlockView, sent: Sentence
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
    def _after_metastases(view: BlockView, sent: Sentence, site: Mention) -> bool:
        """"Mets (bone, brain)": sites in parentheses right after a broad metastasis."""
        text = view.block.text
        opened = text.rfind("(", sent.start, site.start)
        if opened == -1 or text.find(")", opened, site.start) != -1:
            return False
        before = [m for m in view.in_sentence(sent) if m.end <= opened]
        return bool(before) and before[-1].concept.type == "Metastasis" and \
            before[-1].concept.umbrella and not text[before[-1].end:opened].strip()

    def _source_facts(self, view: BlockView, sent: Sentence, previous: Concept | None,
                      context: list[Concept]) -> list[Fact]:
        """"Sources of brain metastases are lung and breast cancer": cancers spread there."""
        cue = first_cue(view, "sources", sent)
        if cue is None or any(sent.start <= s < cue[0] for s, _ in view.cues["aside"]):
            return []  # none, or "distinguish liver metastases from lymphoma"
        before = [m.concept for m in view.in_sentence(sent) if m.start < cue[0]]
        about = [c for c in (*before[::-1], previous, *context)
                 if c is not None and c.type == "Metastasis" and c.site is not None]
        if not about:
            return []
        site = about[0].site
        assert site is not None
        return [self._fact(view, sent, m, cancer, "spreadsTo", site)
                for m, cancer in self._listed_cancers(view, sent, cue[1], site)]

    def _listed_cancers(self, view: BlockView, sent: Sentence, start: int,
                        target: str) -> list[tuple[Mention, Concept]]:
        """The cancers a sentence names from ``start`` on, organ names as that organ's
        cancer ("from solid organs: prostate", "carcinomas of the breast, lung"), but not
        the cancer of ``target``'s own organ, an umbrella term or a negated one."""
        found = []
        for m in view.in_sentence(sent):
            cancer = m.concept if m.concept.type == "CancerType" else \
                self.vocab.cancer_of.get(m.concept.iri)
            if m.start >= start and cancer is not None and not cancer.umbrella and \
                    cancer.primary_site != target and not negated(view, sent, m):
                found.append((m, cancer))
        return found

    def _causer_facts(self, view: BlockView, sent: Sentence) -> list[Fact]:
        """"The cancers that most often cause brain metastases are lung, breast and
        melanoma": each cancer listed after the copula spreads to the metastasis's site;
        "tumours that cause malignant effusions include lymphoma": each has the finding."""
        cue = first_cue(view, "causers", sent)
        if cue is None:
            return []
        caused = [m.concept for m in view.in_sentence(sent) if cue[0] <= m.start < cue[1]
                  and (m.concept.type == "Symptom" or (m.concept.type == "Metastasis"
                                                       and m.concept.site is not None))]
        if len(caused) != 1:
            return []
        effect = caused[0]
        relation, target = ("spreadsTo", effect.site) if effect.type == "Metastasis" else (
            "hasSymptom", effect.iri)
        assert target is not None
        return [self._fact(view, sent, m, cancer, relation, target)
                for m, cancer in self._listed_cancers(view, sent, cue[1], target)]

    def _object(self, view: BlockView, sent: Sentence, obj: Mention,
                context_frame: str | None,
                context: list[Concept]) -> tuple[str | None, str | None]:
        """Return the relation and object IRI a mention asserts in its context, if any."""
        frame = self._frame(view, sent, obj, context_frame)
        if frame in SILENT_FRAMES:
            return None, None
        kind = obj.concept.type
        spread = frame in ("spreadsTo", "spreadsVia") or \
            self._spread_before(view, sent, obj.start)
        if kind == "AnatomicalSite":
            spread = spread or self._after_metastases(view, sent, obj) or (
                frame == "hasSymptom" and _is_lymph_node(obj.concept))  # "Virchow's node"
            return ("spreadsTo", obj.concept.iri) if spread else (None, None)
        if kind == "Metastasis" and obj.concept.site is not None:
            before = [m for m in view.in_sentence(sent) if m.start < obj.start
                      and m.concept.type == "CancerType" and not m.concept.umbrella]
            topic = self.topic
            if before or (topic is not None and topic.type == "CancerType" and not topic.umbrella):
                return "spreadsTo", obj.concept.site
            return None, None
        if kind == "SpreadRoute" and not (frame in ("spreadsTo", "spreadsVia") or
                                          first_cue(view, "route", sent)):
            return None, None
        if kind in RELATION_OF:
            return RELATION_OF[kind], obj.concept.iri
        return None, None
