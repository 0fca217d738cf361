"""The pipeline: read -> parse -> extract -> build graph -> validate.  The only module
that knows the order of the stages.

A build runs in two passes over the notes, spread over worker processes (one per shard
of the notes, so a note parsed in the first pass is still parsed in the second):

1. *survey*: parse each note and find its topic, title, aliases and links;
2. *extract*: with the vault-wide names (aliases, links to notes about a concept), find
   each note's facts, turn them into its named graph, serialise it and validate it
   (in batches, with the shapes compiled to SPARQL).

With a cache folder, the *build index* keeps each note's survey and the key of its result
(the note's bytes, the code, the vocabulary, the topics of the notes it links to and the
vault names it could contain); the results themselves are files named by key.  A note
whose file is unchanged (size, time, inode) is not read, and when no note's names
changed, a note whose text is unchanged is not looked at further; when some did, only the
notes a change can reach are (see ``_touched``).  The cache itself is
:mod:`met2rdf.cache`.

The graph is kept as named graphs, the layout of the store and of ``push``: one graph per
note, named by the note's IRI, one for the vocabulary and the ontology
(``VOCABULARY_GRAPH``) and one for the build's problems and SHACL report (``BUILD_GRAPH``,
see :mod:`met2rdf.diagnostics`; not in ``graph.ttl``).  ``graph.ttl`` is the notes' Turtle
chunks in path order, then the vocabulary's: the same vault always gives the same bytes.
"""

from __future__ import annotations

import gc
import os
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from functools import cached_property, lru_cache, wraps
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Self

from .cache import Cache, digest
from .errors import NoteError
from .extract import extract_facts, find_topic
from .graph import (
    concept_closure,
    concept_triples,
    note_triples,
    ontology_triples,
    sort_key,
)
from .model import Concept, Note, Problem, SourceNote, UnchangedNote
from .parse import ATTACHMENT, parse_note
from .result import BuildResult, NoteEntry, NoteOutput, Survey
from .turtle import parse_chunk, prefix_lines, turtle_chunk
from .validate import ValidationReport, ValidationResult, validate_triples
from .vault import LinkResolver, link_key, read_note, read_vault
from .vocab import (
    SHIPPED,
    Vocabulary,
    fold_word,
    folded_words,
    load_vocabulary,
    normalize_label,
    normalized,
    package_data,
    remember_normalized,
)

BATCH = 64  # notes per worker task
Progress = Callable[[str, int, int], None]
Sink = Callable[[Sequence["NoteOutput"]], None]  # takes notes' outputs as they are made


# --- cache keys ---------------------------------------------------------------------------

@lru_cache(maxsize=1)
def code_version() -> str:
    """What, besides the vocabulary, a cached result depends on: code and data files."""
    try:
        release = version("met2rdf")
    except PackageNotFoundError:
        release = "source"
    here = Path(__file__).resolve().parent
    sources = b"".join(p.relative_to(here).as_posix().encode() + b"\0" + p.read_bytes()
                       for p in sorted(here.rglob("*.py")))  # subpackages too
    return digest(release, sources, package_data("cues.toml"), package_data("ontology.ttl"),
                   *(p.read_bytes() for p in _shape_files()))


def _shape_files() -> list[Path]:
    from .validate import shapes_dir

    return sorted(shapes_dir().glob("*.ttl"))


def vocabularydigest(vocab: Vocabulary) -> str:
    """A digest of every concept, label and id of a vocabulary."""
    return digest(*(repr(vocab.concepts[iri]) for iri in sorted(vocab.concepts)))


def _collector_frozen(function: Callable) -> Callable:
    """Run ``function`` with the objects that exist when it starts (the build index, the
    vocabulary) left out of garbage collection: full collections would walk them again
    and again while a build makes new objects."""
    @wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        gc.freeze()
        try:
            return function(*args, **kwargs)
        finally:
            gc.unfreeze()
    return run


# --- the vault's own names ------------------------------------------------------------------

# Words that extraction adds to a note's own words before looking a name up
# ("breast" in a table's cell -> "breast cancer").
_COMPOSED = frozenset(fold_word(w) for w in ("cancer", "carcinoma"))


def label_items(extra: Mapping[str, Iterable[str]]) -> tuple[str, ...]:
    """Return the vault's extra labels as sorted "IRI<TAB>label" items."""
    return tuple(sorted(f"{iri}\t{label}" for iri, labels in extra.items() for label in labels))


class NoteWords:
    """A note's folded words in order (its title, then its text), to tell which vault
    labels it could contain."""

    def __init__(self, title: str, text: str) -> None:
        self.runs = (folded_words(title), folded_words(text))
        self.words = {*self.runs[0], *self.runs[1], *_COMPOSED}
        self._at: dict[str, list[tuple[int, int]]] = {}
        for r, run in enumerate(self.runs):
            for i, word in enumerate(run):
                self._at.setdefault(word, []).append((r, i))

    def contiguous(self, words: Sequence[str]) -> bool:
        """Whether the words occur one after another (a composed word alone always does)."""
        if not words or (len(words) == 1 and words[0] in _COMPOSED):
            return True
        n = len(words)
        return any(self.runs[r][i:i + n] == list(words) for r, i in self._at.get(words[0], ()))

    def could_contain(self, label: Sequence[str]) -> bool:
        """Whether extraction could find ``label`` here: all its words occur, and it is one
        run of the note's words or two (a modifier shared over a list, "urinary frequency,
        urgency": "urinary" + "urgency"; a table cell + "cancer")."""
        return all(w in self.words for w in label) and any(
            self.contiguous(label[:k]) and self.contiguous(label[k:])
            for k in range(len(label), 0, -1))

    def bloom(self) -> int:
        """A Bloom filter of the words (2,048 bits, two hashes), kept in the build index so
        a new label can be tested against a note without reading it."""
        return _bloom(self.words)


def _hashes(word: str) -> tuple[int, int]:
    data = word.encode("utf-8", "surrogatepass")
    return zlib.crc32(data) & 2047, zlib.crc32(data, 0x5BD1E995) & 2047


def _bloom(words: Iterable[str]) -> int:
    bits = 0
    for word in words:
        for h in _hashes(word):
            bits |= 1 << h
    return bits


def label_mask(label: Sequence[str]) -> int:
    """The Bloom bits a note's filter has if the note could contain the label (the words
    extraction adds itself do not count)."""
    return _bloom(w for w in label if w not in _COMPOSED)


def bloom_may_contain(bloom: int, label: Sequence[str]) -> bool:
    """False when a note whose words gave ``bloom`` cannot contain all of the label's words."""
    mask = label_mask(label)
    return bloom & mask == mask


class LabelIndex:
    """The vault's extra labels, filed under their rarest word, to find those a note could
    contain (``NoteWords.could_contain``).  The first few notes are checked against every
    label instead: filing 20,000 labels takes as long as checking fifty notes that way."""

    SCANS = 32

    def __init__(self, items: Iterable[str]) -> None:
        self.items = [(item, normalize_label(item.split("\t", 1)[1])) for item in items]
        self.scans = 0

    @cached_property
    def bags(self) -> list[frozenset[str]]:
        return [frozenset(words) for _, words in self.items]

    @cached_property
    def by_word(self) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
        count: dict[str, int] = {}
        for _, words in self.items:
            for word in set(words):
                count[word] = count.get(word, 0) + 1
        by_word: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for item, words in self.items:  # filed under its rarest word: few to test per word
            if words:
                rarest = min(words, key=count.__getitem__)  # any of them would do
                by_word.setdefault(rarest, []).append((item, words))
        return by_word

    def labels(self, note: NoteWords) -> tuple[str, ...]:
        if "by_word" not in self.__dict__ and self.scans < self.SCANS:
            self.scans += 1
            words = note.words
            return tuple(sorted(item for (item, label), bag in zip(self.items, self.bags)
                                if bag <= words and label and note.could_contain(label)))
        found = {item for word in note.words for item, label in self.by_word.get(word, ())
                 if note.could_contain(label)}
        return tuple(sorted(found))

    def maybe(self, bloom: int) -> bool:
        """Whether a note with this Bloom filter could contain any of the labels."""
        return any(bloom & mask == mask for mask in self.masks)

    @cached_property
    def masks(self) -> frozenset[int]:
        """The labels' Bloom masks (``label_mask``)."""
        return frozenset(label_mask(label) for _, label in self.items)


def _note_key(base: str, text: str, links: tuple, named: Sequence[str],
              labels: Sequence[str]) -> str:
    return digest("note", base, text, repr(links), *named, "\0labels", *labels)


# --- the work a process does ---------------------------------------------------------------

_WORKER: dict[str, object] = {}


def _init_worker(vocab: Vocabulary, link_topics: Mapping[str, Concept],
                 labels: LabelIndex | None = None, base: Vocabulary | None = None) -> None:
    _WORKER["vocab"] = vocab
    _WORKER["links"] = link_topics
    _WORKER["labels"] = labels
    _WORKER["base"] = base or vocab


_PARSED: dict[str, Note] = {}  # notes this process parsed in the survey, for extraction


def _survey(sources: Sequence[SourceNote]) -> list[Survey]:
    vocab = _WORKER["vocab"]
    assert isinstance(vocab, Vocabulary)
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


def _extract(jobs: Sequence[tuple[SourceNote, tuple[tuple[str, str | None], ...],
                                  str | None, tuple[str, ...]]],
             validate: bool) -> list[NoteOutput]:
    vocab, link_topics, label_index = _WORKER["vocab"], _WORKER["links"], _WORKER["labels"]
    assert isinstance(vocab, Vocabulary) and isinstance(link_topics, Mapping)
    assert isinstance(label_index, LabelIndex)
    outputs: list[NoteOutput] = []
    for source, links, topic_iri, names in jobs:
        note = _PARSED.pop(source.path, None) or parse_note(source)
        facts = extract_facts(note, vocab, link_topics)
        topic = vocab.concepts[topic_iri] if topic_iri else None  # found by the survey
        triples = sorted(set(note_triples(note, facts, topic, links, names)), key=sort_key)
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
    base = _WORKER["base"]
    assert isinstance(base, Vocabulary)
    results = validate_triples(
        concept_triples(concept_closure({i for o in outputs for i in o.used}, base)),
        prefix_lines() + b"".join(o.turtle for o in outputs)).results
    return [replace(o, results=tuple(r for r in results if any(s.path == o.path
                                                                for s in r.spans)))
            for o in outputs]


def _batches(items: Sequence, size: int = BATCH) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class _Workers:
    """Worker processes, one per shard of the notes (by a hash of the path), kept for the
    whole build: a note is surveyed and extracted by the same process, which keeps it
    parsed in between instead of sending it back and forth."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.pools: list[ProcessPoolExecutor] = []

    def __enter__(self) -> Self:
        _PARSED.clear()
        return self

    def __exit__(self, *exc: object) -> None:
        _PARSED.clear()
        for pool in self.pools:
            pool.shutdown(cancel_futures=True)

    def run(self, function: Callable, items: Sequence, path: Callable[[Any], str],
            initargs: tuple, progress: Progress | None, stage: str,
            extra: tuple = (), sink: Sink | None = None) -> list:
        """Run ``function(batch, *extra)`` over batches of items (inline when few), giving
        each batch's results to ``sink`` as they come."""
        done, results, total = 0, [], len(items)
        if self.jobs <= 1 or total <= BATCH:
            _init_worker(*initargs)
            for batch in _batches(items):
                found = function(batch, *extra)
                results.extend(found)
                if sink:
                    sink(found)
                done += len(batch)
                if progress:
                    progress(stage, done, total)
            return results
        if not self.pools:
            self.pools = [ProcessPoolExecutor(max_workers=1) for _ in range(self.jobs)]
        shards: list[list] = [[] for _ in self.pools]
        for item in items:
            shards[zlib.crc32(path(item).encode("utf-8", "surrogatepass")) % self.jobs].append(
                item)
        futures = {}
        for pool, shard in zip(self.pools, shards):
            pool.submit(_init_worker, *initargs)  # one process per pool: runs first
            for batch in _batches(shard):
                futures[pool.submit(function, batch, *extra)] = len(batch)
        for future in as_completed(futures):
            found = future.result()
            results.extend(found)
            if sink:
                sink(found)
            done += futures[future]
            if progress:
                progress(stage, done, total)
        return results


# --- the pipeline ----------------------------------------------------------------------------

INDEX = "index"


@_collector_frozen
def build_notes(sources: Iterable[SourceNote | UnchangedNote | Problem], vocab: Vocabulary,
                validate: bool = True, cache_dir: Path | None = None, jobs: int | None = None,
                progress: Progress | None = None, saved: dict | None = None,
                sink: Sink | None = None) -> BuildResult:
    """Build the graph of decoded notes (problems from reading are passed through).

    ``sink`` gets the notes extracted anew, a batch at a time, while the build goes on.

    With ``cache_dir``, a note is reused unread when its text, the code, the vocabulary
    and the vault names it could contain (link targets' topics, aliases) are unchanged.
    """
    jobs = jobs or min(os.cpu_count() or 1, 8)
    cache = Cache(cache_dir)
    cache.remove_leftovers()
    base_key = _base_key(vocab, validate)
    if saved is None:
        saved = cache.index(INDEX, base_key)
    before: dict[str, NoteEntry] = saved.get("entries", {})
    remember_normalized(saved.get("normalized", {}))
    problems: list[Problem] = []
    notes: list[SourceNote | UnchangedNote] = []
    for source in sources:
        if isinstance(source, UnchangedNote):
            old = before.get(source.path)
            if old is None or old.signature != source.signature:
                source = read_note(source.path, source.file)
        if isinstance(source, Problem):
            problems.append(source)
        else:
            if isinstance(source, SourceNote):
                problems.extend(source.problems)
            notes.append(source)
    notes.sort(key=lambda n: n.path)
    texts = {n.path: before[n.path].text if isinstance(n, UnchangedNote)
             else digest(n.path, n.text) for n in notes}
    before_labels: frozenset[str] = frozenset(saved.get("labels", ()))

    with _Workers(jobs) as workers:
        # 1. survey: topics, names and links of every note
        surveys: dict[str, Survey] = {}
        todo = []
        for note in notes:
            old = before.get(note.path)
            if old is not None and old.text == texts[note.path]:
                surveys[note.path] = old.survey
            else:
                todo.append(note)
        for survey in workers.run(_survey, todo, _path, (vocab, {}), progress, "survey"):
            surveys[survey.path] = survey
        for note in notes:
            problems.extend(surveys[note.path].problems)

        # 2. vault-wide names: aliases and titles label their note's topic; links name it too.
        # When no note came or went and no re-surveyed note changed its names, every note
        # whose text is unchanged keeps its result without its key being worked out again.
        ordered = [surveys[n.path] for n in notes]
        same_names = bool(before) and before.keys() == surveys.keys() and all(
            _names(surveys[n.path]) == _names(before[n.path].survey) for n in todo)
        extra = alias_labels(ordered)
        items = label_items(extra)
        label_index = LabelIndex(items)
        item_set = frozenset(items)
        added = LabelIndex(sorted(item_set - before_labels))
        resolver = LinkResolver(texts)
        if same_names and "ambiguities" in saved:
            ambiguities = saved["ambiguities"]
        else:
            ambiguities = resolver.ambiguities(t for s in ordered for t in s.targets)
        problems.extend(ambiguities)
        targets: dict[str, str | None] = {}  # link key -> IRI of the linked note's topic

        def named_of(survey: Survey) -> list[str]:
            for target in survey.targets:
                key = link_key(target)
                if key not in targets:
                    path = resolver.resolve(target)
                    targets[key] = surveys[path].topic if path else None
            return sorted({f"{k}={targets[k]}" for k in map(link_key, survey.targets)
                           if targets[k] is not None})

        # 3. extract, graph, serialise and validate each note not reused
        entries: dict[str, NoteEntry] = {}
        work = []
        touched = None if same_names else _touched(before, surveys, todo, added,
                                                   before_labels - item_set)
        for note in notes:
            survey = surveys[note.path]
            old = before.get(note.path)
            unchanged = old is not None and old.text == texts[note.path] and not old.results
            if unchanged and old is not None and (touched is None or not touched(old)):
                entries[note.path] = _kept(old, note)
                continue
            links = tuple((t, found) for t in survey.targets
                          if (found := resolver.resolve(t)) is not None or not _is_attachment(t))
            named = named_of(survey)
            if unchanged:
                assert old is not None
                labels = {x for x in old.labels if x in item_set}
                if added.items and added.maybe(old.bloom):
                    labels.update(added.labels(NoteWords(survey.title, _source(note).text)))
                key = _note_key(base_key, texts[note.path], links, named, sorted(labels))
                if key == old.key:
                    entries[note.path] = _kept(old, note)
                    continue
            source = _source(note)
            work.append(((source, links, survey.topic, survey.new_names),
                         (texts[note.path], links, named)))
        if len(work) <= BATCH:  # few notes: label the vocabulary only with names they could hold
            relevant = {item for (source, *_), _ in work
                        for item in label_index.labels(NoteWords(source.title, source.text))}
            extra = {iri: [n for n in names if f"{iri}\t{n}" in relevant]
                     for iri, names in extra.items()}
        base_vocab, vocab = vocab, vocab.with_labels(extra)
        link_topics = {k: vocab.concepts[iri] for k, iri in targets.items() if iri is not None}
        fresh: dict[str, NoteOutput] = {}
        outputs = workers.run(_extract, [w[0] for w in work], _job_path,
                              (vocab, link_topics, label_index, base_vocab), progress, "extract",
                              (validate,), sink)
        key_parts = {w[0][0].path: w[1] for w in work}
        signatures = {n.path: n.signature for n in notes}
        for output in outputs:
            text, links, named = key_parts[output.path]
            key = _note_key(base_key, text, links, named, output.labels)
            fresh[output.path] = output
            if not output.results:
                cache.put(key, output)
            entries[output.path] = NoteEntry(output.path, text, surveys[output.path], key,
                                             _interned(output.labels), len(output.facts),
                                             output.statements, _interned(output.used),
                                             output.results, signatures[output.path],
                                             output.bloom)
    ordered_entries = tuple(entries[n.path] for n in notes)
    cache.save_index(INDEX, base_key, {
        "labels": dict.fromkeys(items),  # (a mapping: the index saves the items that change)
        "entries": {e.path: e for e in ordered_entries if not e.results},
        "normalized": saved["normalized"] if "normalized" in saved and item_set == before_labels
        else normalized(item.split("\t", 1)[1] for item in items),
        "ambiguities": ambiguities}, previous=saved)
    if not before:  # a first build, or the code or vocabulary changed: older results go
        cache.prune({e.key for e in ordered_entries})

    # 4. the vocabulary and ontology graph, validated with the rest
    used = {iri for e in ordered_entries for iri in e.used}
    closure = concept_closure(used, base_vocab)  # the vault's names are in the notes' graphs
    vocabulary_key = digest("vocabulary", base_key, *map(repr, closure))
    hit = cache.get(vocabulary_key)
    if isinstance(hit, tuple):
        vocabulary_turtle, vocabulary_statements = hit
    else:
        triples = {*ontology_triples(), *concept_triples(closure)}
        vocabulary_turtle, vocabulary_statements = turtle_chunk(triples), len(triples)
        cache.put(vocabulary_key, (vocabulary_turtle, vocabulary_statements))
    report = None
    if validate:
        results = [r for e in ordered_entries for r in e.results]
        results += _validate_vocabulary(cache, base_key, vocabulary_turtle)
        unique = sorted(set(results), key=lambda r: (r.spans, r.focus, r.path or "", r.message))
        report = ValidationReport(conforms=not unique, results=tuple(unique))
    return BuildResult(entries=ordered_entries,
                       problems=tuple(problems), report=report, reused=len(notes) - len(work),
                       fresh=fresh, cache=cache if cache_dir else None,
                       vocabulary_turtle=vocabulary_turtle,
                       vocabulary_statements=vocabulary_statements, cache_dir=cache_dir)


def _path(source: SourceNote) -> str:
    return source.path


def _job_path(job: tuple) -> str:
    return str(job[0].path)


def _interned(strings: tuple[str, ...]) -> tuple[str, ...]:
    """The same strings, one object each across the index (pickled once, then referenced)."""
    return tuple(map(sys.intern, strings))


def _kept(old: NoteEntry, note: SourceNote | UnchangedNote) -> NoteEntry:
    """A reused entry, with the file signature it has now."""
    return old if old.signature == note.signature else replace(old, signature=note.signature)


def _touched(before: Mapping[str, NoteEntry], surveys: Mapping[str, Survey],
             todo: Sequence[SourceNote | UnchangedNote], added: LabelIndex,
             gone: frozenset[str]) -> Callable[[NoteEntry], bool]:
    """Tell which unchanged notes may have another key now that notes came, went or
    changed their names: those with a link to a note name that came, went or changed its
    topic, and those that could contain a vault label that came or held one that went.
    Any other note keeps its key (its links reach the same notes, with the same topics)."""
    topics = set(before.keys() ^ surveys.keys())
    topics.update(n.path for n in todo if n.path in before
                  and before[n.path].survey.topic != surveys[n.path].topic)
    names = {LinkResolver.name(p) for p in topics}
    memo: dict[str, bool] = {}

    def links_to_changed(target: str) -> bool:
        hit = memo.get(target)
        if hit is None:
            hit = memo[target] = LinkResolver.name(target) in names
        return hit

    def touched(old: NoteEntry) -> bool:
        return (any(map(links_to_changed, old.survey.targets))
                or (bool(gone) and not gone.isdisjoint(old.labels))
                or (bool(added.items) and added.maybe(old.bloom)))
    return touched


def _names(survey: Survey) -> tuple:
    """What of a note the rest of the vault depends on."""
    return survey.title, survey.aliases, survey.targets, survey.topic, survey.new_names


def _base_key(vocab: Vocabulary, validate: bool) -> str:
    return digest(code_version(), vocabularydigest(vocab), str(validate))


def _source(note: SourceNote | UnchangedNote) -> SourceNote:
    """The note's text: read now for a note the build had not read (it was unchanged)."""
    if isinstance(note, SourceNote):
        return note
    found = read_note(note.path, note.file)
    if isinstance(found, Problem):
        raise NoteError(f"{found} (it changed during the build; build again)")
    return found


def _validate_vocabulary(cache: Cache, base_key: str,
                         turtle: bytes) -> tuple[ValidationResult, ...]:
    """Validate the vocabulary graph (its results cached by its content)."""
    key = digest("vocabulary", base_key, turtle)
    hit = cache.get(key)
    if isinstance(hit, tuple):
        return hit
    results = validate_triples(parse_chunk(turtle)).results
    cache.put(key, results)
    return results


def alias_labels(surveys: Iterable[Survey]) -> dict[str, list[str]]:
    """Return the titles and aliases of notes about a concept, as extra labels for it.

    A name that is already a label of some concept keeps its meaning (the survey leaves
    those out of ``new_names``).
    """
    extra: dict[str, dict[str, None]] = {}
    for survey in sorted(surveys, key=lambda s: s.path):
        if survey.topic is not None and survey.new_names:
            extra.setdefault(survey.topic, {}).update(dict.fromkeys(survey.new_names))
    return {topic: list(names) for topic, names in extra.items()}


def _is_attachment(target: str) -> bool:
    """Whether a link that matches no note names a picture, PDF or other attachment."""
    return ATTACHMENT.search(target.rsplit("/", 1)[-1]) is not None


def build_vault(path: Path, vocab: Vocabulary, validate: bool = True,
                cache_dir: Path | None = None, jobs: int | None = None,
                progress: Progress | None = None, sink: Sink | None = None) -> BuildResult:
    """Build the graph of a vault folder or a single note (see :func:`build_notes`)."""
    saved = Cache(cache_dir).index(INDEX, _base_key(vocab, validate))
    known = {p: e.signature for p, e in saved.get("entries", {}).items() if e.signature}
    return build_notes(read_vault(path, known), vocab, validate=validate, cache_dir=cache_dir,
                       jobs=jobs, progress=progress, saved=saved, sink=sink)


VOCABULARY = "vocabulary"


def cached_vocabulary(paths: Sequence[Path], cache_dir: Path | None) -> Vocabulary:
    """``load_vocabulary(paths)``, kept in the build cache while the code and the files are
    the same (parsing the shipped vocabulary takes ~0.1 s, reading it back ~0.01 s)."""
    try:
        parts = [*(package_data(name) for name in SHIPPED),  # every shipped layer
                 *(f"{p}\0".encode() + p.read_bytes() for p in paths)]
    except OSError:  # load_vocabulary says what cannot be read
        return load_vocabulary(paths)
    cache, version = Cache(cache_dir), digest("vocabulary", code_version(), *parts)
    hit = cache.index(VOCABULARY, version).get(VOCABULARY)
    if isinstance(hit, Vocabulary):
        return hit
    vocab = load_vocabulary(paths)
    cache.save_index(VOCABULARY, version, {VOCABULARY: vocab})
    return vocab
