"""SHACL shapes: each has a conforming and a violating graph under fixtures/shapes/."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES
from rdflib import Graph
from rdflib.namespace import RDF, SH

from met2rdf.validate import load_shapes, validate_graph

SHAPES_NS = "https://w3id.org/met2rdf/shapes#"
PREFIXES = {
    "c:": "https://w3id.org/met2rdf/concept/",
    "note:": "https://w3id.org/met2rdf/note/",
    "ev:": "https://w3id.org/met2rdf/evidence/",
}
CASES = sorted((FIXTURES / "shapes").glob("*.ttl"))


def expand(curie: str) -> str:
    for prefix, ns in PREFIXES.items():
        if curie.startswith(prefix):
            return ns + curie[len(prefix):]
    return curie


def test_every_shape_has_both_fixtures():
    """Every node shape of shapes/ has a .ok and a .bad fixture graph."""
    shapes = load_shapes()
    names = {str(s)[len(SHAPES_NS):] for s in shapes.subjects(RDF.type, SH.NodeShape)
             if str(s).startswith(SHAPES_NS)}
    fixtures = {p.name.split(".")[0] for p in CASES}
    assert names == fixtures
    for name in names:
        assert (FIXTURES / "shapes" / f"{name}.ok.ttl").is_file()
        assert (FIXTURES / "shapes" / f"{name}.bad.ttl").is_file()


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_shape_fixture(case: Path):
    """A .ok graph conforms; a .bad graph violates its shape at the expected focus and line."""
    expect = case.read_text(encoding="utf-8").splitlines()[0].removeprefix("# expect:").split()
    report = validate_graph(Graph().parse(case, format="turtle"))
    if expect == ["conforms"]:
        assert report.conforms, report.lines()
        return
    assert not report.conforms
    shape = SHAPES_NS + case.name.split(".")[0]
    mine = [r for r in report.results if r.shape == shape]
    assert mine, f"no result from {shape}: {report.lines()}"
    assert {r.focus for r in mine} == {expand(expect[0])}
    for span in expect[1:]:
        assert any(line.startswith(f"{span}: ") for r in mine for line in r.lines()), report.lines()
