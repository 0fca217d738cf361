"""The embedded store: a persistent pyoxigraph store that holds the graph as named graphs.

The layout is the one ``build`` makes (see :mod:`met2rdf.result`): one graph per note,
named by the note's IRI, plus the vocabulary graph.  Queries read the union of all graphs.
"""

from __future__ import annotations

import hashlib
import io
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .cache import Cache
from .errors import RdfInputError, StoreError, StoreInUseError
from .iris import BASE, NOTE_BASE, note_iri
from .result import BuildResult, NamedGraph, NoteOutput
from .turtle import parse_chunk, prefix_lines
from .vocab import MET

DEFAULT_STORE = Path("out/store")
RDF_EXTENSIONS = ".ttl .nt .nq .trig .rdf .owl .jsonld .n3"


def open_store(path: Path, create: bool = False) -> ox.Store:
    """Open the store in folder ``path``; fail at once when another process holds it."""
    if not create and not path.is_dir():
        raise StoreError(f"{path}: no store here (make one with met2rdf build or met2rdf load)")
    try:
        if create:
            path.mkdir(parents=True, exist_ok=True)
        return ox.Store(str(path))
    except OSError as exc:
        if "lock" in str(exc).lower():
            raise StoreInUseError(f"{path}: the store is in use by another process (a build, load, "
                             "query or push); wait for it to finish and try again") from exc
        raise StoreError(f"{path}: cannot open the store: {exc}") from exc


def holds_notes(store: ox.Store) -> bool:
    """Whether the store holds the graph of any note."""
    return any(g.value.startswith(NOTE_BASE) for g in store.named_graphs()
               if isinstance(g, ox.NamedNode))


def dataset_quads(graphs: Iterable[NamedGraph]) -> Iterator[ox.Quad]:
    """Yield the triples of named graphs as quads."""
    for graph in graphs:
        name = ox.NamedNode(graph.iri)
        for t in graph.triples:
            yield ox.Quad(t.subject, t.predicate, t.object, name)


def replace_graphs(store: ox.Store, graphs: Iterable[NamedGraph]) -> None:
    """Replace everything in the store with the given named graphs."""
    store.clear()
    store.extend(dataset_quads(graphs))
    store.flush()


KEYS_GRAPH = BASE + "graph/keys"
STORE_KEYS = "store-keys"  # the file in the build's cache that remembers them
BUILD_KEY = MET + "buildKey"
BULK = 32  # graphs to load at once from which the bulk loader is used (a transaction
# loads about 20k triples/s, the bulk loader 100k)
# Builds that wrote to the store (remembering its keys) after which it is compacted: the
# files each build adds are read by every lookup until then (10,000 notes: a question
# took 33 ms after a compaction, 41 ms 3 builds later, 54 ms 13 builds later; compacting
# takes ~12 s there, so ~0.75 s per build).
COMPACT_AFTER = 16
WRITES = "#writes since compaction"  # where the remembered keys count them
BULK_DROP = 256  # graphs and keys to drop in one update, past which they go one by one
PATCH_BYTES = 1 << 18  # a changed graph bigger than this (the vocabulary's) is patched, not
# dropped and loaded again
BULK_SLICE = 128  # graphs per bulk_load call: 1,000 notes in one call take 330 MB, in 128s 60
Chunk = tuple[str, str, Callable[[], bytes]]  # graph IRI, key of its content, Turtle chunk


def sync_store(store: ox.Store, chunks: Iterable[Chunk], remember: Path | None = None) -> int:
    """Make the store hold exactly the given named graphs, loading only those that changed.

    Each chunk is a graph in the build's Turtle (its prefixes).  The store remembers the key
    of every graph it holds (``<graph> met:buildKey "key"`` in ``KEYS_GRAPH``); a graph
    whose key is unchanged is left alone, other graphs (and the default graph) are dropped.
    Stale graphs and their keys go in one transaction; the new graphs and their keys come
    in a second (``BULK`` graphs or more through the bulk loader, keys last), so a build
    that stops half-way leaves graphs without keys, which the next build drops and
    reloads.  When half the graphs or more are stale (a new code version or vocabulary),
    the store is cleared and every graph loaded again; else past ``BULK_DROP`` stale graphs
    every key is dropped first, then the graphs one by one.  When the bulk loader brought
    in most of the store, the store is compacted; with ``remember``, also after
    ``COMPACT_AFTER`` syncs that wrote to it.  Returns the number of graphs loaded.

    With ``remember`` (a file), the keys are also kept there and read back instead of from
    the store when the store's dataset key says they are its keys.
    """
    cache = Cache(remember.parent if remember is not None else None)
    name = remember.name if remember is not None else ""
    known = cache.index(name, dataset_key(store) or "")
    have = dict(known) if known else stored_keys(store)
    writes = have.pop(WRITES, 0)
    dataset_before = have.pop(KEYS_GRAPH, "")
    wanted = list(chunks)
    want = {iri: key for iri, key, _ in wanted}
    dataset = _digest_keys(want)
    present = _named_graphs(store, have if known else None)
    try:
        loaded = _sync(store, wanted, want, dataset, have, dataset_before, present)
    except OSError as exc:  # a full disk, a read-only folder: the next build loads again
        raise StoreError(f"cannot write the store: {exc}; make room and build again (the "
                         "graphs not loaded are loaded by the next build)") from None
    if 2 * loaded >= len(want) and loaded >= BULK:  # mostly new: compact the bulk loader's
        store.optimize()  # files (10,000 notes: 11 s, then lookups take half the time)
        writes = 0
    elif dataset != dataset_before and remember is not None:
        writes = writes + 1 if isinstance(writes, int) else 1
        if writes >= COMPACT_AFTER:  # each build's writes are files every lookup reads
            store.optimize()  # until they are compacted
            writes = 0
    if (known.get(KEYS_GRAPH), known.get(WRITES, 0)) != (dataset, writes):
        cache.save_index(name, dataset, {**want, KEYS_GRAPH: dataset, WRITES: writes},
                         previous=known)
    return loaded


_COUNT_GRAPHS = "SELECT (COUNT(*) AS ?graphs) WHERE { GRAPH ?g {} }"


def _named_graphs(store: ox.Store, remembered: dict[str, str] | None) -> set[str]:
    """The store's named graphs but the keys graph: when keys were remembered for it, those
    graphs if it holds as many (counting them takes milliseconds, listing 10,000 ~0.1 s)."""
    if remembered is not None:
        solutions = store.query(_COUNT_GRAPHS)
        assert isinstance(solutions, ox.QuerySolutions)
        count = next(solutions)["graphs"]
        if isinstance(count, ox.Literal) and int(count.value) == len(remembered) + 1:
            return set(remembered)
    return {g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)} - {KEYS_GRAPH}


def _sync(store: ox.Store, wanted: list[Chunk], want: dict[str, str], dataset: str,
          have: dict[str, str], dataset_before: str, present: set[str]) -> int:
    stale = sorted(g for g in present if g not in want or have.get(g) != want[g])
    if (present or have) and 2 * len(stale) >= len(present):  # mostly stale (new code or
        store.clear()  # vocabulary; or keys of graphs gone): graph by graph takes ~7 ms each
        present, stale, have = set(), [], {}
    load = [c for c in wanted if c[0] not in present or have.get(c[0]) != c[1]]
    forget = sorted(g for g in have if want.get(g) != have[g] or g not in present)
    default = next(store.quads_for_pattern(None, None, None, ox.DefaultGraph()), None)
    if not (stale or load or forget or default is not None):
        return 0
    forget.append(KEYS_GRAPH)  # the dataset's key goes first and comes back last
    have[KEYS_GRAPH] = dataset_before
    small = len(load) < BULK
    big = {c[0]: data for c in load if small and c[0] in stale
           and len(data := c[2]()) > PATCH_BYTES}  # changed, to patch rather than drop
    patched = [c for c in load if c[0] in big]
    stale = [g for g in stale if g not in big]
    if len(stale) + len(forget) <= BULK_DROP:
        store.update(_drop(stale, forget, have, default is not None))
    else:  # a big change (one update would hold it all in memory): keys first, all of them
        store.clear_graph(ox.NamedNode(KEYS_GRAPH))
        for graph in stale:
            store.remove_graph(ox.NamedNode(graph))
        store.clear_graph(ox.DefaultGraph())
        store.extend(_key_quads((iri, key) for iri, key, _ in wanted
                                if iri in present and iri not in stale))
    if small:  # one transaction: the graphs and their keys
        for chunk in list(patched):  # its key is gone: a stop half-way reloads it next time
            if not _patch(store, chunk[0], big[chunk[0]]):
                store.remove_graph(ox.NamedNode(chunk[0]))
                patched.remove(chunk)
        load = [c for c in load if c not in patched]
        keys = (prefix_lines() + b"GRAPH <" + KEYS_GRAPH.encode() + b"> {\n"
                + b"".join(f"<{iri}> <{BUILD_KEY}> {_string(key)} .\n".encode()
                           for iri, key in [*((i, k) for i, k, _ in load + patched),
                                            (KEYS_GRAPH, dataset)]) + b"}\n")
        store.load(_TrigReader(load).read() + keys, format=ox.RdfFormat.TRIG)
        return len(load) + len(patched)
    for start in range(0, len(load), BULK_SLICE):  # the loader's memory grows with its input
        store.bulk_load(io.BufferedReader(_TrigReader(load[start:start + BULK_SLICE])),
                        format=ox.RdfFormat.TRIG)
    store.extend(_key_quads([*((iri, key) for iri, key, _ in load), (KEYS_GRAPH, dataset)]))
    store.flush()
    return len(load)


class StreamLoader:
    """Load the notes' graphs into an empty store while the build is still extracting
    (a thread runs the bulk loader, which leaves the interpreter to the build; on two cores
    this overlaps the store's load with extraction instead of following it).

    ``add`` is the build's sink.  After a build that is kept, ``finish`` gives the loaded
    graphs their keys and compacts the store, so that :func:`sync_store` only loads what
    is left (reused notes, the build and vocabulary graphs); after any other, ``abort``
    empties the store again.
    """

    def __init__(self, store: ox.Store) -> None:
        self.store = store
        self.loaded: list[str] = []
        self._queue: queue.SimpleQueue[tuple[str, bytes] | None] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="met2rdf-store", daemon=True)
        self._thread.start()

    @classmethod
    def into(cls, store: ox.Store | None) -> StreamLoader | None:
        """A loader for ``store`` if it holds nothing yet (a first build), else None."""
        if store is None or next(iter(store), None) is not None:
            return None
        return cls(store)

    def add(self, outputs: Sequence[NoteOutput]) -> None:
        for output in outputs:
            self._queue.put((note_iri(output.path), output.turtle))

    def _run(self) -> None:
        batch: list[tuple[str, bytes]] = []
        done = False
        while not done:
            item = self._queue.get()
            done = item is None
            if item is not None:
                batch.append(item)
            if batch and (done or len(batch) >= BULK_SLICE):
                if self._error is None:
                    try:
                        self._load(batch)
                    except Exception as exc:  # noqa: BLE001 -- raised again by finish
                        self._error = exc
                batch = []

    def _load(self, batch: list[tuple[str, bytes]]) -> None:
        data = prefix_lines() + b"".join(b"GRAPH <" + iri.encode("utf-8") + b"> {\n" + turtle
                                         + b"}\n" for iri, turtle in batch)
        self.store.bulk_load(data, format=ox.RdfFormat.TRIG)
        self.loaded.extend(iri for iri, _ in batch)

    def _join(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def finish(self, result: BuildResult) -> int:
        """Wait for the loads, key the graphs loaded and compact; return their number."""
        self._join()
        if self._error is not None:
            self.abort()
            raise self._error
        keys = {note_iri(e.path): e.key for e in result.entries}
        self.store.extend(_key_quads((iri, keys[iri]) for iri in self.loaded if iri in keys))
        self.store.flush()
        if len(self.loaded) >= BULK:
            self.store.optimize()
        return len(self.loaded)

    def abort(self) -> None:
        """Stop and leave the store empty, as it was."""
        if self._thread.is_alive():
            self._join()
        self.store.clear()


def _key_quads(keys: Iterable[tuple[str, str]]) -> Iterator[ox.Quad]:
    graph, predicate = ox.NamedNode(KEYS_GRAPH), ox.NamedNode(BUILD_KEY)
    for iri, key in keys:
        yield ox.Quad(ox.NamedNode(iri), predicate, ox.Literal(key), graph)


def dataset_key(store: ox.Store) -> str | None:
    """The key of everything a build put in the store (None for a store no build made)."""
    found = next(store.quads_for_pattern(ox.NamedNode(KEYS_GRAPH), ox.NamedNode(BUILD_KEY),
                                         None, ox.NamedNode(KEYS_GRAPH)), None)
    return found.object.value if found is not None and isinstance(found.object,
                                                                   ox.Literal) else None


def stored_keys(store: ox.Store) -> dict[str, str]:
    """The keys the store holds: graph IRI -> key (and ``KEYS_GRAPH`` -> the dataset's key,
    which changes whenever a graph does)."""
    keys = {}
    for quad in store.quads_for_pattern(None, ox.NamedNode(BUILD_KEY), None,
                                        ox.NamedNode(KEYS_GRAPH)):
        if isinstance(quad.subject, ox.NamedNode) and isinstance(quad.object, ox.Literal):
            keys[quad.subject.value] = quad.object.value
    return keys


def _digest_keys(keys: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for iri in sorted(keys):
        digest.update(f"{iri}\t{keys[iri]}\n".encode())
    return digest.hexdigest()


def _patch(store: ox.Store, iri: str, turtle: bytes) -> bool:
    """Bring one big graph to its new content by its difference (the vocabulary graph,
    42,000 triples at 1,000 notes, loses a few concepts when a note goes: dropping and
    loading it took 1.3 s); False, with nothing changed, when it has blank nodes (a
    difference cannot tell them apart)."""
    name = ox.NamedNode(iri)
    new = {ox.Quad(t.subject, t.predicate, t.object, name) for t in parse_chunk(turtle)}
    old = set(store.quads_for_pattern(None, None, None, name))
    if any(isinstance(t, ox.BlankNode) for q in (*new, *old) for t in (q.subject, q.object)):
        return False
    for quad in old - new:
        store.remove(quad)
    store.extend(new - old)
    return True


def _drop(stale: Sequence[str], forget: Sequence[str], have: dict[str, str],
          clear_default: bool) -> str:
    """One SPARQL update forgetting keys, then dropping the stale graphs (keys first)."""
    keys = "".join(f"<{g}> <{BUILD_KEY}> {_string(have[g])} .\n" for g in forget)
    ops = [f"DELETE DATA {{ GRAPH <{KEYS_GRAPH}> {{\n{keys}}} }}"] if keys else []
    ops += [f"DROP SILENT GRAPH <{g}>" for g in stale]
    if clear_default:
        ops.append("CLEAR SILENT DEFAULT")
    return ";\n".join(ops)


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _TrigReader(io.RawIOBase):
    """The chunks as one TriG document, read on demand (for the bulk loader)."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self._parts = self._generate(chunks)
        self._buffer = b""

    @staticmethod
    def _generate(chunks: Sequence[Chunk]) -> Iterator[bytes]:
        yield prefix_lines()
        for iri, _, read in chunks:
            yield b"GRAPH <" + iri.encode("utf-8") + b"> {\n" + read() + b"}\n"

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._buffer:
            part = next(self._parts, None)
            if part is None:
                return 0
            self._buffer = part
        size = min(len(buffer), len(self._buffer))
        buffer[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def load_file(store: ox.Store, path: Path, graph: str | None = None) -> None:
    """Load one RDF file (format from its extension) into the store, all or nothing."""
    load_files(store, [path], graph)


def load_files(store: ox.Store, paths: Sequence[Path], graph: str | None = None) -> int:
    """Load RDF files (format from each extension) into the store in one transaction.

    Every file is parsed before anything is written, so a file that does not parse leaves
    the store as it was.  Triples go to the named graph ``graph`` if given, else to the
    default graph; quads keep their graphs.  Returns the number of quads read.
    """
    target = ox.NamedNode(graph) if graph else ox.DefaultGraph()
    quads: list[ox.Quad] = []
    for path in paths:
        fmt = ox.RdfFormat.from_extension(path.suffix.lstrip("."))
        if fmt is None:
            raise RdfInputError(f"{path}: cannot tell the RDF format from the extension "
                                f"(expected one of {RDF_EXTENSIONS})")
        try:
            for quad in ox.parse(path=str(path), format=fmt):
                if isinstance(quad.graph_name, ox.DefaultGraph) and graph:
                    quad = ox.Quad(quad.subject, quad.predicate, quad.object, target)
                quads.append(quad)
        except SyntaxError as exc:
            raise RdfInputError(f"{path}:{exc.lineno}:{exc.offset}: {_reason(exc)}") from exc
        except OSError as exc:
            raise RdfInputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    store.extend(quads)
    store.flush()
    return len(quads)


_NOTE_GRAPHS = """
PREFIX met: <https://w3id.org/met2rdf/vocab#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX prov: <http://www.w3.org/ns/prov#>
DELETE { ?s ?p ?o . ?fact ?fp ?fo } INSERT { GRAPH ?note { ?s ?p ?o . ?fact ?fp ?fo } }
WHERE {
  ?fact a met:Fact ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ;
        met:evidence/prov:wasDerivedFrom ?note ; ?fp ?fo .
} ;
DELETE { ?e ?ep ?eo } INSERT { GRAPH ?note { ?e ?ep ?eo } } WHERE {
  ?e a met:Evidence ; prov:wasDerivedFrom ?note ; ?ep ?eo .
}"""


def read_rdf(path: Path) -> ox.Store:
    """Return an in-memory store holding one RDF file.

    A file without named graphs (``graph.ttl``) gets the layout of a built store as far
    as the questions need it: each fact's statement, fact node and evidence move into the
    graph of the note they are derived from, so "in how many notes" counts the same
    either way.
    """
    if not path.is_file():
        raise StoreError(f"{path}: no such RDF file")
    store = ox.Store()
    load_file(store, path)
    if next(store.named_graphs(), None) is None:
        store.update(_NOTE_GRAPHS)
    return store


def read_triples(path: Path) -> set[ox.Triple]:
    """Read an RDF file strictly, as ``load`` reads it: its triples, those of every named
    graph of an N-Quads or TriG file included."""
    store = ox.Store()
    load_file(store, path)
    return {quad.triple for quad in store}


def _reason(exc: SyntaxError) -> str:
    """Return a parser message without its own position prefix."""
    text = str(exc.msg)
    return text.split(": ", 1)[1] if text.startswith(("Parser error", "error at")) else text
