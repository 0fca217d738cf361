"""The pipeline: read -> parse -> extract -> build graph -> validate.  The only module
that knows the order of the stages.

The graph is also kept as named graphs, the layout of the store and of ``push``: one
graph per note, named by the note's IRI, and one for the vocabulary and the ontology
(``VOCABULARY_GRAPH``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .extract import extract_facts, find_topic
from .graph import concept_closure, concept_triples, note_triples, ontology_triples
from .iris import BASE, note_iri
from .model import Concept, Fact, Note, Problem, SourceNote
from .parse import parse_note
from .validate import ValidationReport, validate_triples
from .vault import LinkResolver, link_key, read_vault
from .vocab import Vocabulary

VOCABULARY_GRAPH = BASE + "graph/vocabulary"


@dataclass(frozen=True, slots=True)
class NamedGraph:
    """The triples of one named graph: a note's, or the vocabulary and ontology."""

    iri: str
    triples: tuple[ox.Triple, ...]


@dataclass(frozen=True, slots=True)
class BuildResult:
    """Everything a build produced."""

    notes: tuple[Note, ...]
    facts: tuple[Fact, ...]
    triples: tuple[ox.Triple, ...]
    graphs: tuple[NamedGraph, ...]
    problems: tuple[Problem, ...]
    report: ValidationReport | None


def build_notes(sources: Iterable[SourceNote | Problem], vocab: Vocabulary,
                validate: bool = True) -> BuildResult:
    """Build the graph of decoded notes (problems from reading are passed through)."""
    notes: list[Note] = []
    problems: list[Problem] = []
    for source in sources:
        if isinstance(source, Problem):
            problems.append(source)
            continue
        note = parse_note(source)
        notes.append(note)
        problems.extend(note.problems)
    resolver = LinkResolver(n.path for n in notes)
    topics = {n.path: find_topic(n, vocab) for n in notes}
    vocab = vocab.with_labels(alias_labels(notes, topics, vocab))
    link_topics: dict[str, Concept] = {}
    for note in notes:
        for link in note.links:
            path = resolver.resolve(link.target) if link.target else None
            topic = topics.get(path) if path else None
            if topic is not None:
                link_topics[link_key(link.target)] = topic
    graphs: list[NamedGraph] = []
    all_facts: list[Fact] = []
    used: set[str] = set()
    for note in notes:
        facts = extract_facts(note, vocab, link_topics)
        topic = topics[note.path]
        links = [(link.target, resolver.resolve(link.target))
                 for link in note.links if link.target and not _is_attachment(link.target)]
        graphs.append(NamedGraph(note_iri(note.path),
                                 tuple(note_triples(note, facts, topic, links))))
        all_facts.extend(facts)
        used.update(f.subject for f in facts)
        used.update(f.object for f in facts)
        if topic is not None:
            used.add(topic.iri)
    vocabulary = (*ontology_triples(), *concept_triples(concept_closure(used, vocab)))
    graphs.append(NamedGraph(VOCABULARY_GRAPH, vocabulary))
    triples = tuple(t for g in graphs for t in g.triples)
    report = validate_triples(triples) if validate else None
    return BuildResult(notes=tuple(notes), facts=tuple(all_facts), triples=triples,
                       graphs=tuple(graphs), problems=tuple(problems), report=report)


def alias_labels(notes: Iterable[Note], topics: Mapping[str, Concept | None],
                 vocab: Vocabulary) -> dict[str, list[str]]:
    """Return the titles and aliases of notes about a concept, as extra labels for it.

    A name that is already a label of some concept keeps its meaning.
    """
    extra: dict[str, list[str]] = {}
    for note in sorted(notes, key=lambda n: n.path):
        topic = topics.get(note.path)
        if topic is None:
            continue
        for name in (note.title, *note.aliases):
            if vocab.lookup(name) is None and name not in extra.get(topic.iri, ()):
                extra.setdefault(topic.iri, []).append(name)
    return extra


def _is_attachment(target: str) -> bool:
    name = target.rsplit("/", 1)[-1]
    return "." in name and not name.lower().endswith(".md")


def build_vault(path: Path, vocab: Vocabulary, validate: bool = True) -> BuildResult:
    """Build the graph of a vault folder or a single note."""
    return build_notes(read_vault(path), vocab, validate=validate)
