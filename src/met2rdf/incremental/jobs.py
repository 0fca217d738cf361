"""The work a worker process does, and the typed records that cross to it and back.

A process is given a :class:`Context` once per stage, then batches of notes to survey
(``survey_notes``: :class:`~met2rdf.model.SourceNote` in, :class:`~met2rdf.result.Survey`
out) or :class:`ExtractJob` records to extract, turn into a graph, serialise and validate
(``extract_notes``: :class:`~met2rdf.result.NoteOutput` out).  A note that a process
surveyed stays parsed in it until it is extracted (``_PARSED``, emptied by the pool at the
start and end of a build).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from operator import attrgetter

from ..extract import extract_facts, find_topic
from ..graph import concept_closure, concept_triples, note_triples, sort_key
from ..model import Concept, Note, SourceNote
from ..parse import parse_note
from ..result import NoteOutput, Survey
from ..turtle import prefix_lines, turtle_chunk
from ..validate import validate_triples
from ..vocab import Vocabulary
from .keys import Links
from .labels import LabelIndex, NoteWords


@dataclass(frozen=True, slots=True)
class Context:
    """What every job of a stage needs, sent to each process once."""

    vocab: Vocabulary  # with the vault's labels (for the extraction)
    link_topics: Mapping[str, Concept]  # link key -> the topic of the note it reaches
    labels: LabelIndex | None = None  # the vault's labels, to tell which a note could hold
    base: Vocabulary | None = None  # without them (for the shapes); None: ``vocab``


@dataclass(frozen=True, slots=True)
class ExtractJob:
    """One note to extract, with what the survey and the vault's names found for it."""

    source: SourceNote
    links: Links
    topic: str | None  # IRI of the concept the note is about
    names: tuple[str, ...]  # its title and aliases the vocabulary does not know

    @property
    def path(self) -> str:
        return self.source.path

    def __reduce__(self) -> tuple[object, ...]:  # pickles as a tuple
        return (ExtractJob, _JOB_FIELDS(self))


_JOB_FIELDS = attrgetter(*ExtractJob.__slots__)

_CONTEXT: list[Context] = []  # this process's context (set by ``start``)
_PARSED: dict[str, Note] = {}  # notes this process parsed in the survey, for extraction


def start(context: Context) -> None:
    """Give this process the context of the stage's jobs."""
    _CONTEXT[:] = [context]


def forget_parsed() -> None:
    """Drop the notes this process keeps parsed."""
    _PARSED.clear()


def survey_notes(sources: Sequence[SourceNote]) -> list[Survey]:
    """Parse notes and find their topics, titles, aliases and links."""
    vocab = _CONTEXT[0].vocab
    out = []
    for source in sources:
        note = _PARSED[source.path] = parse_note(source)
        topic = find_topic(note, vocab)
        names = tuple(n for n in dict.fromkeys((note.title, *note.aliases))
                      if vocab.lookup(n) is None)
        out.append(Survey(note.path, note.title, note.aliases,
                          tuple(link.target for link in note.links if link.target),
                          topic.iri if topic else None, note.problems, names))
    return out


def extract_notes(jobs: Sequence[ExtractJob], validate: bool) -> list[NoteOutput]:
    """Extract notes' facts, make their graphs and Turtle chunks, and validate them."""
    context = _CONTEXT[0]
    vocab, label_index = context.vocab, context.labels
    assert label_index is not None
    outputs: list[NoteOutput] = []
    for job in jobs:
        source = job.source
        note = _PARSED.pop(source.path, None) or parse_note(source)
        facts = extract_facts(note, vocab, context.link_topics)
        topic = vocab.concepts[job.topic] if job.topic else None  # found by the survey
        triples = sorted(set(note_triples(note, facts, topic, job.links, job.names)),
                         key=sort_key)
        used = sorted({f.subject for f in facts} | {f.object for f in facts} |
                      ({topic.iri} if topic else set()))
        words = NoteWords(note.title, source.text)
        outputs.append(NoteOutput(note.path, facts, tuple(used),
                                  turtle_chunk(triples, ordered=True), len(triples),
                                  label_index.labels(words), words.bloom()))
    if not validate:
        return outputs
    # the concepts as the shapes see them, without the vault's aliases (the vocabulary
    # graph, aliases and all, is validated once per build): a batch's size stays the same
    # however many notes name a concept
    base = context.base or vocab
    results = validate_triples(
        concept_triples(concept_closure({i for o in outputs for i in o.used}, base)),
        prefix_lines() + b"".join(o.turtle for o in outputs)).results
    return [replace(o, results=tuple(r for r in results if any(s.path == o.path
                                                                for s in r.spans)))
            for o in outputs]
