"""pyshacl over the shapes -> a report whose results point at the notes' path:line."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pyoxigraph as ox
from pyshacl import validate as shacl_validate
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

from .errors import ShapesError
from .graph import PROV, ontology_triples
from .model import SourceSpan
from .shacl import Check, compile_shapes
from .vocab import MET

_EVIDENCE = URIRef(MET + "evidence")
_LINE = URIRef(MET + "line")
_PATH = URIRef(MET + "path")
_DERIVED = URIRef(PROV + "wasDerivedFrom")


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """One SHACL result, with the note lines the offending triples came from."""

    shape: str
    focus: str
    path: str | None
    value: str | None
    message: str
    spans: tuple[SourceSpan, ...]

    def lines(self) -> list[str]:
        """Return one ``path:line: message`` line per source (or ``graph: ...``)."""
        text = f"{self.message} (focus {self.focus}" + (
            f", path {self.path}" if self.path else "") + ")"
        if not self.spans:
            return [f"graph: {text}"]
        return [f"{span}: {text}" for span in self.spans]


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """The outcome of validating a graph against the met2rdf shapes."""

    conforms: bool
    results: tuple[ValidationResult, ...]

    def lines(self) -> list[str]:
        """Return every result as ``path:line: message`` lines, sorted."""
        return sorted({line for r in self.results for line in r.lines()})


def shapes_dir() -> Path:
    """Return the folder of SHACL shapes (installed with the package, or the source tree's)."""
    installed = resources.files("met2rdf").joinpath("shapes")
    if installed.is_dir():
        return Path(str(installed))
    return Path(__file__).resolve().parents[2] / "shapes"


@lru_cache(maxsize=1)
def load_shapes() -> Graph:
    """Load every ``*.ttl`` file of the shapes folder into one graph."""
    folder = shapes_dir()
    files = sorted(folder.glob("*.ttl"))
    if not files:
        raise ShapesError(f"{folder}: no SHACL shapes found (reinstall met2rdf)")
    shapes = Graph()
    for path in files:
        try:
            shapes.parse(path, format="turtle")
        except Exception as exc:
            raise ShapesError(f"{path}: {exc}") from exc
    return shapes


def to_rdflib(triples: Iterable[ox.Triple]) -> Graph:
    """Copy pyoxigraph triples into an rdflib graph (through N-Triples)."""
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    assert data is not None  # serialize returns bytes when no output is given
    graph = Graph()
    graph.parse(data=data.decode("utf-8"), format="nt")
    return graph


def _spans_of(graph: Graph, focus: URIRef, path: URIRef | None) -> tuple[SourceSpan, ...]:
    """Find the note lines behind the triples a result is about."""
    facts = set()
    for fact in graph.subjects(RDF.subject, focus):
        if path is None or (fact, RDF.predicate, path) in graph:
            facts.add(fact)
    for fact in graph.subjects(RDF.object, focus):
        facts.add(fact)
    evidence = {e for f in facts for e in graph.objects(f, _EVIDENCE)}
    evidence |= {focus} if (focus, _LINE, None) in graph else set()
    evidence |= set(graph.objects(focus, _EVIDENCE))
    spans = set()
    for e in evidence:
        line = graph.value(e, _LINE)
        for note in graph.objects(e, _DERIVED):
            note_path = graph.value(note, _PATH)
            if note_path is not None and line is not None and str(line).isdigit():
                spans.add(SourceSpan(str(note_path), int(str(line))))
    note_path = graph.value(focus, _PATH)
    if note_path is not None:
        spans.add(SourceSpan(str(note_path), 1))
    return tuple(sorted(spans))


def validate_graph(graph: Graph) -> ValidationReport:
    """Validate an rdflib graph (plus the met2rdf ontology) against the shapes."""
    data = graph + to_rdflib(ontology_triples())
    shapes = load_shapes()
    conforms, results, _text = shacl_validate(data, shacl_graph=shapes,
                                              inference="none", advanced=True)
    found = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        focus = results.value(result, SH.focusNode)
        path = results.value(result, SH.resultPath)
        value = results.value(result, SH.value)
        message = results.value(result, SH.resultMessage)
        path_ref = path if isinstance(path, URIRef) else None
        spans = _spans_of(data, focus, path_ref) if isinstance(focus, URIRef) else ()
        shape = results.value(result, SH.sourceShape)
        if not isinstance(shape, URIRef):
            shape = shapes.value(None, SH.property, shape) or shapes.value(None, SH.sparql, shape)
        found.append(ValidationResult(
            shape=str(shape),
            focus=str(focus), path=str(path) if path is not None else None,
            value=str(value) if value is not None else None,
            message=str(message) if message is not None else "SHACL violation",
            spans=spans))
    found.sort(key=lambda r: (r.spans, r.focus, r.path or "", r.message))
    return ValidationReport(conforms=bool(conforms), results=tuple(found))


def validate_triples(triples: Iterable[ox.Triple], turtle: bytes = b"") -> ValidationReport:
    """Validate pyoxigraph triples and a Turtle document (with the ontology) against the
    shapes, in pyoxigraph.  (Parsing Turtle the build wrote anyway is faster than making
    quads of its triples.)"""
    store = ox.Store()
    if turtle:
        store.load(turtle, format=ox.RdfFormat.TURTLE)
    store.extend(ox.Quad(*t) for t in triples)
    store.extend(ox.Quad(*t) for t in ontology_triples())
    return validate_store(store)


@lru_cache(maxsize=1)
def compiled_checks() -> tuple[Check, ...]:
    """The shapes compiled to SPARQL (see :mod:`met2rdf.shacl`)."""
    return compile_shapes(load_shapes())


_SPANS = """
PREFIX met: <https://w3id.org/met2rdf/vocab#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT DISTINCT ?focus ?rel ?path ?line WHERE {
  { ?fact rdf:subject ?focus . OPTIONAL { ?fact rdf:predicate ?p } FILTER(!BOUND(?rel) || ?p = ?rel)
    ?fact met:evidence ?e . }
  UNION { ?fact rdf:object ?focus ; met:evidence ?e . }
  UNION { ?focus met:evidence ?e . }
  UNION { BIND(?focus AS ?e) }
  ?e prov:wasDerivedFrom ?note ; met:line ?line . ?note met:path ?path .
}
"""


def _store_spans(store: ox.Store, focus: ox.NamedNode,
                 path: ox.NamedNode | None) -> tuple[SourceSpan, ...]:
    bindings: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = {"focus": focus}
    if path is not None:
        bindings["rel"] = path
    spans = set()
    for row in _select(store, _SPANS, {ox.Variable(k): v for k, v in bindings.items()}):
        line = _text(row["line"])
        if line.isdigit():
            spans.add(SourceSpan(_text(row["path"]), int(line)))
    for quad in store.quads_for_pattern(focus, ox.NamedNode(MET + "path"), None):
        spans.add(SourceSpan(_text(quad.object), 1))
    return tuple(sorted(spans))


def _select(store: ox.Store, query: str,
            substitutions: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple]
            | None = None) -> ox.QuerySolutions:
    solutions = store.query(query, substitutions=substitutions, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)  # every query here is a SELECT
    return solutions


def _text(term: object) -> str:
    return str(getattr(term, "value", term))


def _format(message: str, focus: str, path: str | None, value: str | None) -> str:
    return (message.replace("{$this}", f"<{focus}>").replace("{?this}", f"<{focus}>")
            .replace("{?path}", f"<{path}>" if path else "").replace("{?value}", value or ""))


def validate_store(store: ox.Store) -> ValidationReport:
    """Validate everything in a pyoxigraph store (all graphs) with the compiled shapes.

    The store must hold the met2rdf ontology (its subclass axioms) as a build's does.
    """
    found = []
    for check in compiled_checks():
        solutions = _select(store, check.query)
        has_path = "path" in {v.value for v in solutions.variables}
        for row in solutions:
            focus = row["this"]
            path = row["path"] if has_path else None
            value = row["value"]
            path_iri = path.value if isinstance(path, ox.NamedNode) else None
            spans = _store_spans(store, focus, path if isinstance(path, ox.NamedNode) else None) \
                if isinstance(focus, ox.NamedNode) else ()
            value_text = _text(value) if value is not None else None
            found.append(ValidationResult(
                shape=check.shape, focus=_text(focus), path=path_iri, value=value_text,
                message=_format(check.message, _text(focus), path_iri, value_text),
                spans=spans))
    found.sort(key=lambda r: (r.spans, r.focus, r.path or "", r.message))
    return ValidationReport(conforms=not found, results=tuple(found))
