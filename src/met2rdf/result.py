"""What a build produces: each note's output and build index entry, and the
:class:`BuildResult` that the writer, the store and ``push`` take.

The graph is kept as named graphs, the layout of the store and of ``push``: one graph per
note, named by the note's IRI, one for the vocabulary and the ontology
(``VOCABULARY_GRAPH``) and one for the build's problems and SHACL report (``BUILD_GRAPH``,
see :mod:`met2rdf.diagnostics`; not in ``graph.ttl``).  ``graph.ttl`` is the notes' Turtle
chunks in path order, then the vocabulary's: the same vault always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from operator import attrgetter
from pathlib import Path

import pyoxigraph as ox

from .cache import Cache, digest
from .diagnostics import BUILD_GRAPH, diagnostic_triples
from .errors import OutputError
from .iris import BASE, note_iri
from .model import Fact, Problem
from .turtle import TURTLE_HEADER, parse_chunk, prefix_lines, turtle_chunk
from .validate import ValidationReport, ValidationResult

VOCABULARY_GRAPH = BASE + "graph/vocabulary"


@dataclass(frozen=True, slots=True)
class NamedGraph:
    """The triples of one named graph: a note's, or the vocabulary and ontology."""

    iri: str
    triples: tuple[ox.Triple, ...]


@dataclass(frozen=True, slots=True)
class Survey:
    """What the rest of the vault needs to know about one note."""

    path: str
    title: str
    aliases: tuple[str, ...]
    targets: tuple[str, ...]  # wikilink targets
    topic: str | None  # IRI of the concept the note is about
    problems: tuple[Problem, ...]
    new_names: tuple[str, ...] = ()  # its title and aliases the vocabulary does not know

    def __reduce__(self) -> tuple[object, ...]:  # pickles as a tuple: the build index holds thousands
        return (Survey, _SURVEY_FIELDS(self))


@dataclass(frozen=True, slots=True)
class NoteOutput:
    """One note's share of the build: its facts and its named graph as a Turtle chunk."""

    path: str
    facts: tuple[Fact, ...]
    used: tuple[str, ...]  # concept IRIs the graph names
    turtle: bytes  # the note's graph: sorted, unique triples, Turtle without prefix lines
    statements: int  # the number of triples in it
    labels: tuple[str, ...] = ()  # the vault names its text could contain (LabelIndex)
    bloom: int = 0  # its words (NoteWords.bloom)
    results: tuple[ValidationResult, ...] = ()

    @property
    def graph(self) -> NamedGraph:
        """The note's named graph."""
        return NamedGraph(note_iri(self.path), parse_chunk(self.turtle))


@dataclass(frozen=True, slots=True)
class NoteEntry:
    """What the build index keeps of a note between builds: enough to reuse it unread."""

    path: str
    text: str  # digest of the note's path and text
    survey: Survey
    key: str  # cache key of its NoteOutput
    labels: tuple[str, ...]
    facts: int
    statements: int
    used: tuple[str, ...]
    results: tuple[ValidationResult, ...]
    signature: tuple[int, ...] = ()  # the file's size, time and inode (see read_vault)
    bloom: int = 0  # its words (NoteWords.bloom)

    def __reduce__(self) -> tuple[object, ...]:  # pickles as a tuple: the build index holds thousands
        return (NoteEntry, _ENTRY_FIELDS(self))


_SURVEY_FIELDS = attrgetter(*Survey.__slots__)
_ENTRY_FIELDS = attrgetter(*NoteEntry.__slots__)


@dataclass(frozen=True)
class BuildResult:
    """Everything a build produced.

    The notes' outputs are read on demand: a rebuild that reuses most notes never loads
    their chunks (``write_graph`` copies them from the previous graph.ttl and the store
    keeps their graphs).
    """

    entries: tuple[NoteEntry, ...]
    problems: tuple[Problem, ...]
    report: ValidationReport | None
    reused: int = 0  # notes whose results came from the cache
    fresh: Mapping[str, NoteOutput] = field(default_factory=dict)  # path -> output
    cache: Cache | None = None
    vocabulary_turtle: bytes = b""  # the vocabulary and ontology graph as a Turtle chunk
    vocabulary_statements: int = 0
    cache_dir: Path | None = None

    def output(self, entry: NoteEntry) -> NoteOutput:
        """The full output of one note (from this build, else from the cache)."""
        found = self.fresh.get(entry.path)
        if found is None and self.cache is not None:
            hit = self.cache.get(entry.key)
            found = hit if isinstance(hit, NoteOutput) else None
        if found is None:
            raise OutputError(f"{entry.path}: its cached result is gone; build again with "
                             "--no-cache")
        return found

    @property
    def vocabulary(self) -> tuple[ox.Triple, ...]:
        """The vocabulary and ontology graph: the concepts the notes name, with the sites
        and broader concepts they point to, and the ontology."""
        return parse_chunk(self.vocabulary_turtle)

    @property
    def notes(self) -> tuple[NoteOutput, ...]:
        """Every note's output, in path order."""
        return tuple(self.output(e) for e in self.entries)

    @property
    def facts(self) -> tuple[Fact, ...]:
        """Every fact statement, note by note."""
        return tuple(f for n in self.notes for f in n.facts)

    @property
    def fact_count(self) -> int:
        """The number of fact statements (without reading the notes' outputs)."""
        return sum(e.facts for e in self.entries)

    @property
    def graphs(self) -> tuple[NamedGraph, ...]:
        """The named graphs: one per note, the build's problems and SHACL report, then the
        vocabulary and ontology."""
        return (*(n.graph for n in self.notes),
                NamedGraph(BUILD_GRAPH, diagnostic_triples(self.problems, self.report)),
                NamedGraph(VOCABULARY_GRAPH, self.vocabulary))

    @property
    def triples(self) -> tuple[ox.Triple, ...]:
        """Every triple of graph.ttl: the notes' graphs and the vocabulary's, not the build
        graph (a triple asserted by two notes appears twice)."""
        return tuple(t for g in self.graphs if g.iri != BUILD_GRAPH for t in g.triples)

    def chunks(self, build_graph: bool = False) -> Iterator[tuple[str, str, Callable[[], bytes]]]:
        """(graph IRI, key, Turtle chunk reader) of the notes' graphs, then (with
        ``build_graph``, for the store) the build graph, then the vocabulary's."""
        for entry in self.entries:
            yield note_iri(entry.path), entry.key, partial(_chunk_of, self, entry)
        if build_graph:
            build = turtle_chunk(diagnostic_triples(self.problems, self.report))
            yield BUILD_GRAPH, digest(build), lambda: build
        yield VOCABULARY_GRAPH, digest(self.vocabulary_turtle), lambda: self.vocabulary_turtle

    def turtle(self) -> bytes:
        """The whole graph as Turtle: notes in path order, then the vocabulary."""
        return b"".join([TURTLE_HEADER, prefix_lines(), *(c() for _, _, c in self.chunks())])

    def statements(self) -> int:
        """The number of triple statements written (per note, then the vocabulary)."""
        return sum(e.statements for e in self.entries) + self.vocabulary_statements


def _chunk_of(result: BuildResult, entry: NoteEntry) -> bytes:
    return result.output(entry).turtle
