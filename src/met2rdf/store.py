"""The embedded store: a persistent pyoxigraph store that holds the graph as named graphs.

The layout is the one ``build`` makes (see :mod:`met2rdf.build`): one graph per note,
named by the note's IRI, plus the vocabulary graph.  Queries read the union of all graphs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pyoxigraph as ox

from .build import NamedGraph
from .errors import RdfInputError, StoreError

DEFAULT_STORE = Path("out/store")
RDF_EXTENSIONS = ".ttl .nt .nq .trig .rdf .owl .jsonld .n3"


def open_store(path: Path, create: bool = False) -> ox.Store:
    """Open the store in folder ``path``; fail at once when another process holds it."""
    if not create and not path.is_dir():
        raise StoreError(f"{path}: no store here (make one with met2rdf build or met2rdf load)")
    if create:
        path.mkdir(parents=True, exist_ok=True)
    try:
        return ox.Store(str(path))
    except OSError as exc:
        if "lock" in str(exc).lower():
            raise StoreError(f"{path}: the store is in use by another process (a build, load, "
                             "query or push); wait for it to finish and try again") from exc
        raise StoreError(f"{path}: cannot open the store: {exc}") from exc


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


def read_rdf(path: Path) -> ox.Store:
    """Return an in-memory store holding one RDF file."""
    if not path.is_file():
        raise StoreError(f"{path}: no such RDF file")
    store = ox.Store()
    load_file(store, path)
    return store


def _reason(exc: SyntaxError) -> str:
    """Return a parser message without its own position prefix."""
    text = str(exc.msg)
    return text.split(": ", 1)[1] if text.startswith(("Parser error", "error at")) else text
