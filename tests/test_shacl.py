"""The shapes compiled to SPARQL report exactly what pySHACL reports."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import FIXTURES, REPO
from rdflib import Graph

from met2rdf.errors import ShapesError
from met2rdf.graph import ontology_triples
from met2rdf.shacl import compile_shapes
from met2rdf.validate import validate_graph, validate_store

CASES = sorted((FIXTURES / "shapes").glob("*.ttl"))


def store_of(path: Path) -> ox.Store:
    store = ox.Store()
    store.load(path.read_bytes(), format=ox.RdfFormat.TURTLE)
    store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in ontology_triples())
    return store


def summary(report) -> set[tuple[str, str, str | None, tuple[str, ...]]]:
    return {(r.shape, r.focus, r.path, tuple(map(str, r.spans))) for r in report.results}


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_same_results_as_pyshacl(case: Path):
    """Both engines agree on conformance, shapes, focus nodes, paths and note lines."""
    reference = validate_graph(Graph().parse(case, format="turtle"))
    fast = validate_store(store_of(case))
    assert fast.conforms == reference.conforms
    assert summary(fast) == summary(reference)


def test_seed_output_conforms_in_both(tmp_path: Path):
    """The committed graph of the example vault conforms for both engines."""
    graph = REPO / "out" / "graph.ttl"
    assert validate_store(store_of(graph)).conforms
    assert validate_graph(Graph().parse(graph, format="turtle")).conforms


def test_unsupported_components_are_refused():
    """A shape using a component the compiler does not know is an error, not a skip."""
    shapes = Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:s> a sh:NodeShape ; sh:targetClass <urn:C> ; sh:closed true .
    """, format="turtle")
    with pytest.raises(ShapesError, match="not compiled"):
        compile_shapes(shapes)
