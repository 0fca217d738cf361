"""The pipeline: read -> parse -> extract -> build graph -> validate -> write.  The only
module that knows the order of the stages.

A build runs in two passes over the notes, spread over worker processes (one per shard
of the notes, so a note parsed in the first pass is still parsed in the second):

1. *survey*: parse each note and find its topic, title, aliases and links;
2. *names*: the vault-wide names (aliases and titles of notes about a concept, the notes
   links reach), and the plan of what to redo;
3. *extract*: with those names, find each note's facts, turn them into its named graph,
   serialise it and validate it (in batches, with the shapes compiled to SPARQL);
4. *vocabulary*: the vocabulary and ontology graph, validated with the rest;
5. *outputs*: ``graph.ttl`` and the store (:func:`build_and_write`), or neither when the
   result is not accepted.

With a cache folder, a rebuild redoes only what changed: how it knows is
:mod:`met2rdf.incremental`.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .incremental.index import (
    gather,
    kept_surveys,
    new_entries,
    open_index,
    save_index,
    saved_index,
)
from .incremental.jobs import Context, extract_notes, survey_notes
from .incremental.plan import plan, vault_names
from .incremental.vocabulary import validate_vocabulary, vocabulary_graph
from .incremental.workers import Progress, Sink, Workers
from .model import Problem, SourceNote, UnchangedNote
from .result import BuildResult
from .store import StreamLoader
from .validate import ValidationReport, ValidationResult
from .vault import read_vault
from .vocab import Vocabulary
from .write import write_outputs

__all__ = ["Outcome", "Progress", "Sink", "build_and_write", "build_notes", "build_vault"]


def build_notes(sources: Iterable[SourceNote | UnchangedNote | Problem], vocab: Vocabulary,
                validate: bool = True, cache_dir: Path | None = None, jobs: int | None = None,
                progress: Progress | None = None, saved: dict[str, Any] | None = None,
                sink: Sink | None = None) -> BuildResult:
    """Build the graph of decoded notes (problems from reading are passed through).

    ``sink`` gets the notes extracted anew, a batch at a time, while the build goes on.

    With ``cache_dir``, a note is reused unread when its text, the code, the vocabulary
    and the vault names it could contain (link targets' topics, aliases) are unchanged.
    """
    with _collector_frozen():
        index = open_index(cache_dir, vocab, validate, saved)
        notes, texts, problems = gather(sources, index)
        with Workers(jobs or min(os.cpu_count() or 1, 8)) as workers:
            surveys, todo = kept_surveys(notes, texts, index)  # 1. survey
            for survey in workers.run(survey_notes, todo, Context(vocab, {}), progress,
                                      "survey"):
                surveys[survey.path] = survey
            problems.extend(p for n in notes for p in surveys[n.path].problems)
            names = vault_names(notes, surveys, todo, texts, index)  # 2. names
            problems.extend(names.ambiguities)
            work = plan(notes, texts, names, index)
            outputs = workers.run(extract_notes, work.jobs, work.context(vocab, names),  # 3.
                                  progress, "extract", (validate,), sink)
        entries = {**work.kept, **new_entries(outputs, work.keys, surveys, notes, index)}
        ordered = tuple(entries[n.path] for n in notes)
        save_index(index, ordered, names.items, names.ambiguities)
        turtle, statements = vocabulary_graph(  # 4. vocabulary
            (iri for e in ordered for iri in e.used), vocab, index.cache, index.base)
        report = None
        if validate:
            report = _report([r for e in ordered for r in e.results],
                             validate_vocabulary(index.cache, index.base, turtle))
    return BuildResult(entries=ordered, problems=tuple(problems), report=report,
                       reused=len(notes) - len(work.jobs),
                       fresh={o.path: o for o in outputs},
                       cache=index.cache if cache_dir else None, vocabulary_turtle=turtle,
                       vocabulary_statements=statements, cache_dir=cache_dir)


def build_vault(path: Path, vocab: Vocabulary, validate: bool = True,
                cache_dir: Path | None = None, jobs: int | None = None,
                progress: Progress | None = None, sink: Sink | None = None) -> BuildResult:
    """Build the graph of a vault folder or a single note (see :func:`build_notes`)."""
    saved = saved_index(cache_dir, vocab, validate)
    known = {p: e.signature for p, e in saved.get("entries", {}).items() if e.signature}
    return build_notes(read_vault(path, known), vocab, validate=validate, cache_dir=cache_dir,
                       jobs=jobs, progress=progress, saved=saved, sink=sink)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A build and what became of it: written (``graph.ttl``, the store) or left out."""

    result: BuildResult
    written: bool
    build_seconds: float = 0.0
    finish_seconds: float = 0.0  # the store's last loads of what was streamed to it
    write_seconds: float = 0.0
    store_seconds: float = 0.0


def build_and_write(path: Path, vocab: Vocabulary, graph: Path, store: ox.Store | None,
                    accept: Callable[[BuildResult], bool], cache_dir: Path | None = None,
                    jobs: int | None = None, progress: Progress | None = None,
                    writing: Callable[[], AbstractContextManager[object]] = nullcontext,
                    publish: Callable[[ox.Store], None] | None = None) -> Outcome:
    """Build the vault at ``path``; if ``accept(result)``, write ``graph``, bring the store
    up to date and ``publish`` it (a snapshot for readers), else leave all as they were.
    ``writing`` wraps the writes (watch holds interrupts back there).

    An empty store is loaded while the build extracts; it is emptied again when the build
    fails or its result is not accepted.
    """
    started = time.perf_counter()
    loader = StreamLoader.into(store)  # a first build loads the store while it extracts
    try:
        result = build_vault(path, vocab, cache_dir=cache_dir, jobs=jobs, progress=progress,
                             sink=loader.add if loader else None)
        built = time.perf_counter()
        accepted = accept(result)
    except BaseException:
        if loader:
            loader.abort()
        raise
    if not accepted:
        if loader:
            loader.abort()
        return Outcome(result, False, built - started)
    with writing():
        if loader:
            loader.finish(result)
        finished = time.perf_counter()
        write_seconds, store_seconds = write_outputs(result, graph, store)
        if store is not None and publish is not None:
            publish(store)
    return Outcome(result, True, built - started, finished - built, write_seconds,
                   store_seconds)


def _report(notes: Sequence[ValidationResult],
            vocabulary: Sequence[ValidationResult]) -> ValidationReport:
    """The SHACL report of the notes' and the vocabulary's results."""
    unique = sorted({*notes, *vocabulary},
                    key=lambda r: (r.spans, r.focus, r.path or "", r.message))
    return ValidationReport(conforms=not unique, results=tuple(unique))


@contextmanager
def _collector_frozen() -> Iterator[None]:
    """Leave the objects that exist now (the build index, the vocabulary) out of garbage
    collection: full collections would walk them again and again while a build makes new
    objects."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
