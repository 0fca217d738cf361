"""The pipeline: read -> parse -> extract -> build graph -> validate.  The only module
that knows the order of the stages.

A build runs in two passes over the notes, both spread over worker processes and both
cached per note (by the note's bytes and everything its result depends on):

1. *survey*: parse each note and find its topic, title, aliases and links;
2. *extract*: with the vault-wide names (aliases, links to notes about a concept), find
   each note's facts, turn them into its named graph, serialise it and validate it
   (in batches, with the shapes compiled to SPARQL).

The graph is kept as named graphs, the layout of the store and of ``push``: one graph per
note, named by the note's IRI, one for the vocabulary and the ontology
(``VOCABULARY_GRAPH``) and one for the build's problems and SHACL report (``BUILD_GRAPH``,
see :mod:`met2rdf.diagnostics`; not in ``graph.ttl``).  ``graph.ttl`` is the notes' Turtle
chunks in path order, then the vocabulary's: the same vault always gives the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pyoxigraph as ox

from .diagnostics import BUILD_GRAPH, diagnostic_triples
from .extract import extract_facts, find_topic
from .graph import (
    PREFIXES,
    concept_closure,
    concept_triples,
    note_triples,
    ontology_triples,
    sort_key,
)
from .iris import BASE, note_iri
from .model import Concept, Fact, Note, Problem, SourceNote
from .parse import parse_note
from .validate import ValidationReport, ValidationResult, validate_triples
from .vault import LinkResolver, link_key, read_vault
from .vocab import Vocabulary, package_data

VOCABULARY_GRAPH = BASE + "graph/vocabulary"
BATCH = 64  # notes per worker task
Progress = Callable[[str, int, int], None]


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


@dataclass(frozen=True, slots=True)
class NoteOutput:
    """One note's share of the build: facts, its named graph (N-Triples), Turtle chunk."""

    path: str
    facts: tuple[Fact, ...]
    used: tuple[str, ...]  # concept IRIs the graph names
    ntriples: bytes
    turtle: bytes
    results: tuple[ValidationResult, ...] = ()

    @property
    def graph(self) -> NamedGraph:
        """The note's named graph."""
        return NamedGraph(note_iri(self.path), tuple(
            ox.parse(self.ntriples, format=ox.RdfFormat.N_TRIPLES)))


@dataclass(frozen=True, slots=True)
class BuildResult:
    """Everything a build produced."""

    notes: tuple[NoteOutput, ...]
    vocabulary: tuple[ox.Triple, ...]
    problems: tuple[Problem, ...]
    report: ValidationReport | None
    reused: int = 0  # notes whose results came from the cache

    @property
    def facts(self) -> tuple[Fact, ...]:
        """Every fact statement, note by note."""
        return tuple(f for n in self.notes for f in n.facts)

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

    def turtle(self) -> bytes:
        """The whole graph as Turtle: notes in path order, then the vocabulary."""
        from .write import HEADER  # write.py imports NamedGraph from here

        vocabulary = _turtle_chunk(self.vocabulary)
        return b"".join([HEADER, _prefix_lines(), *(n.turtle for n in self.notes), vocabulary])

    def statements(self) -> int:
        """The number of triple statements written (per note, then the vocabulary)."""
        return sum(n.ntriples.count(b"\n") for n in self.notes) + len(self.vocabulary)


@lru_cache(maxsize=1)
def _prefix_lines() -> bytes:
    return b"".join(f"@prefix {k}: <{v}> .\n".encode() for k, v in PREFIXES.items())


def _turtle_chunk(triples: Iterable[ox.Triple]) -> bytes:
    """Turtle of some triples without the prefix lines (sorted, so deterministic)."""
    unique = sorted(set(triples), key=sort_key)
    data = ox.serialize(unique, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES) or b""
    return b"".join(line + b"\n" for line in data.split(b"\n")
                    if line and not line.startswith(b"@prefix "))


# --- cache keys ---------------------------------------------------------------------------

def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


@lru_cache(maxsize=1)
def code_version() -> str:
    """What, besides the vocabulary, a cached result depends on: code and data files."""
    try:
        release = version("met2rdf")
    except PackageNotFoundError:
        release = "source"
    here = Path(__file__).resolve().parent
    sources = b"".join(p.read_bytes() for p in sorted(here.glob("*.py")))
    return _digest(release, sources, package_data("cues.toml"), package_data("ontology.ttl"),
                   *(p.read_bytes() for p in _shape_files()))


def _shape_files() -> list[Path]:
    from .validate import shapes_dir

    return sorted(shapes_dir().glob("*.ttl"))


def vocabulary_digest(vocab: Vocabulary) -> str:
    """A digest of every concept, label and id of a vocabulary."""
    return _digest(*(repr(vocab.concepts[iri]) for iri in sorted(vocab.concepts)))


class Cache:
    """Per-note results on disk, one file per key (written atomically)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def get(self, key: str) -> object | None:
        if self.folder is None:
            return None
        try:
            return pickle.loads((self.folder / key[:2] / key).read_bytes())
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
            return None

    def put(self, key: str, value: object) -> None:
        if self.folder is None:
            return
        folder = self.folder / key[:2]
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{key}.{os.getpid()}.tmp"
        tmp.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, folder / key)


# --- the work a process does ---------------------------------------------------------------

_WORKER: dict[str, object] = {}


def _init_worker(vocab: Vocabulary, link_topics: Mapping[str, Concept]) -> None:
    _WORKER["vocab"] = vocab
    _WORKER["links"] = link_topics


def _survey(sources: Sequence[SourceNote]) -> list[tuple[Survey, Note]]:
    vocab = _WORKER["vocab"]
    assert isinstance(vocab, Vocabulary)
    out = []
    for source in sources:
        note = parse_note(source)
        topic = find_topic(note, vocab)
        out.append((Survey(note.path, note.title, note.aliases,
                           tuple(link.target for link in note.links if link.target),
                           topic.iri if topic else None, note.problems), note))
    return out


def _extract(jobs: Sequence[tuple[Note | SourceNote, tuple[tuple[str, str | None], ...],
                                  str | None]],
             validate: bool) -> list[NoteOutput]:
    vocab, link_topics = _WORKER["vocab"], _WORKER["links"]
    assert isinstance(vocab, Vocabulary) and isinstance(link_topics, Mapping)
    outputs: list[NoteOutput] = []
    for item, links, topic_iri in jobs:
        note = item if isinstance(item, Note) else parse_note(item)
        facts = extract_facts(note, vocab, link_topics)
        topic = vocab.concepts[topic_iri] if topic_iri else None  # found by the survey
        triples = list(note_triples(note, facts, topic, links))
        used = sorted({f.subject for f in facts} | {f.object for f in facts} |
                      ({topic.iri} if topic else set()))
        ntriples = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        outputs.append(NoteOutput(note.path, facts, tuple(used), ntriples,
                                  _turtle_chunk(triples)))
    if not validate:
        return outputs
    batch = [t for o in outputs for t in ox.parse(o.ntriples, format=ox.RdfFormat.N_TRIPLES)]
    batch += concept_triples(concept_closure({i for o in outputs for i in o.used}, vocab))
    results = validate_triples(batch).results
    return [replace(o, results=tuple(r for r in results if any(s.path == o.path
                                                                for s in r.spans)))
            for o in outputs]


def _batches(items: Sequence, size: int = BATCH) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _run(function: Callable, tasks: list, jobs: int, initargs: tuple,
         progress: Progress | None, stage: str, total: int, extra: tuple = ()) -> list:
    """Run ``function(task, *extra)`` over tasks in worker processes (or inline for one job)."""
    done, results = 0, []
    if jobs <= 1 or len(tasks) <= 1:
        _init_worker(*initargs)
        for task in tasks:
            results.extend(function(task, *extra))
            done += len(task)
            if progress:
                progress(stage, done, total)
        return results
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker,
                             initargs=initargs) as pool:
        futures = {pool.submit(function, task, *extra): len(task) for task in tasks}
        for future in as_completed(futures):
            results.extend(future.result())
            done += futures[future]
            if progress:
                progress(stage, done, total)
    return results


# --- the pipeline ----------------------------------------------------------------------------

def build_notes(sources: Iterable[SourceNote | Problem], vocab: Vocabulary,
                validate: bool = True, cache_dir: Path | None = None, jobs: int | None = None,
                progress: Progress | None = None) -> BuildResult:
    """Build the graph of decoded notes (problems from reading are passed through)."""
    jobs = jobs or min(os.cpu_count() or 1, 8)
    cache = Cache(cache_dir)
    problems: list[Problem] = []
    notes: list[SourceNote] = []
    for source in sources:
        if isinstance(source, Problem):
            problems.append(source)
        else:
            notes.append(source)
    notes.sort(key=lambda n: n.path)
    texts = {n.path: _digest(n.path, n.text) for n in notes}

    # 1. survey: topics, names and links of every note
    base_key = _digest(code_version(), vocabulary_digest(vocab))
    surveys: dict[str, Survey] = {}
    parsed: dict[str, Note] = {}
    todo = []
    for note in notes:
        hit = cache.get(_digest("survey", base_key, texts[note.path]))
        if isinstance(hit, Survey):
            surveys[note.path] = hit
        else:
            todo.append(note)
    for survey, note in _run(_survey, list(_batches(todo)), jobs, (vocab, {}), progress,
                             "survey", len(todo)):
        surveys[survey.path] = survey
        parsed[survey.path] = note
        cache.put(_digest("survey", base_key, texts[survey.path]), survey)
    for note in notes:
        problems.extend(surveys[note.path].problems)

    # 2. vault-wide names: aliases and titles label their note's topic; links name it too
    ordered = [surveys[n.path] for n in notes]
    vocab = vocab.with_labels(alias_labels(ordered, vocab))
    resolver = LinkResolver(texts)
    problems.extend(resolver.ambiguities(t for s in ordered for t in s.targets))
    link_topics: dict[str, Concept] = {}
    for survey in ordered:
        for target in survey.targets:
            path = resolver.resolve(target)
            topic = surveys[path].topic if path else None
            if topic is not None:
                link_topics[link_key(target)] = vocab.concepts[topic]
    vocab_key = _digest(code_version(), vocabulary_digest(vocab), str(validate))

    # 3. extract, graph, serialise and validate each note
    outputs: dict[str, NoteOutput] = {}
    keys: dict[str, str] = {}
    work = []
    for note in notes:
        survey = surveys[note.path]
        links = tuple((t, resolver.resolve(t)) for t in survey.targets if not _is_attachment(t))
        named = sorted(f"{k}={link_topics[k].iri}" for k in map(link_key, survey.targets)
                       if k in link_topics)
        keys[note.path] = key = _digest("note", vocab_key, texts[note.path], repr(links), *named)
        hit = cache.get(key)
        if isinstance(hit, NoteOutput):
            outputs[note.path] = hit
        else:
            work.append((parsed.get(note.path, note), links, survey.topic))
    for output in _run(_extract, list(_batches(work)), jobs, (vocab, link_topics), progress,
                       "extract", len(work), (validate,)):
        outputs[output.path] = output
        if not output.results:
            cache.put(keys[output.path], output)

    # 4. the vocabulary and ontology graph, validated with the rest
    ordered_outputs = tuple(outputs[n.path] for n in notes)
    used = {iri for o in ordered_outputs for iri in o.used}
    vocabulary = (*ontology_triples(), *concept_triples(concept_closure(used, vocab)))
    report = None
    if validate:
        results = [r for o in ordered_outputs for r in o.results]
        results += validate_triples(vocabulary).results
        unique = sorted(set(results), key=lambda r: (r.spans, r.focus, r.path or "", r.message))
        report = ValidationReport(conforms=not unique, results=tuple(unique))
    return BuildResult(notes=ordered_outputs, vocabulary=vocabulary, problems=tuple(problems),
                       report=report, reused=len(notes) - len(work))


def alias_labels(surveys: Iterable[Survey], vocab: Vocabulary) -> dict[str, list[str]]:
    """Return the titles and aliases of notes about a concept, as extra labels for it.

    A name that is already a label of some concept keeps its meaning.
    """
    extra: dict[str, list[str]] = {}
    for survey in sorted(surveys, key=lambda s: s.path):
        if survey.topic is None:
            continue
        for name in (survey.title, *survey.aliases):
            if vocab.lookup(name) is None and name not in extra.get(survey.topic, ()):
                extra.setdefault(survey.topic, []).append(name)
    return extra


def _is_attachment(target: str) -> bool:
    name = target.rsplit("/", 1)[-1]
    return "." in name and not name.lower().endswith(".md")


def build_vault(path: Path, vocab: Vocabulary, validate: bool = True,
                cache_dir: Path | None = None, jobs: int | None = None,
                progress: Progress | None = None) -> BuildResult:
    """Build the graph of a vault folder or a single note."""
    return build_notes(read_vault(path), vocab, validate=validate, cache_dir=cache_dir,
                       jobs=jobs, progress=progress)
