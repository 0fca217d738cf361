"""met2rdf export: N-Triples, JSON-LD and the facts CSV read back to what the build made."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic
from stores import EXAMPLE_VAULT, build, met2rdf

from met2rdf.export import FACT_COLUMNS, JSONLD_CONTEXT, fact_row, to_export


def awkward_vault(root: Path) -> Path:
    """A vault with a subfolder, spaces, a percent sign and non-ASCII in names and text."""
    vault = root / "vault"
    (vault / "part 000").mkdir(parents=True)
    (vault / "part 000" / "100% café.md").write_text(
        '- **Lung cancer** often spreads to the brain ("quoted", naïve).\n')
    (vault / "Mets.md").write_text((EXAMPLE_VAULT / "Mets.md").read_text())
    return vault


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory):
    """The build of the example note with an awkwardly named note beside it."""
    return build(awkward_vault(tmp_path_factory.mktemp("export")))


def test_jsonld_reads_back_through_pyoxigraph_to_the_same_graph(result):
    """The JSON-LD export, parsed by pyoxigraph, is the set of graph.ttl's triples."""
    data = to_export(result, "jsonld")
    read = {q.triple for q in ox.parse(data, format=ox.RdfFormat.JSON_LD)}
    assert read == set(result.triples)


def test_jsonld_reads_back_through_rdflib_to_the_same_graph(result):
    """rdflib's JSON-LD parser reads a graph isomorphic to graph.ttl's."""
    ours = rdflib.Graph().parse(data=to_export(result, "jsonld"), format="json-ld")
    turtle = rdflib.Graph().parse(data=result.turtle(), format="turtle")
    assert isomorphic(ours, turtle)


def test_jsonld_has_a_context_and_compact_iris(result):
    """The document's context names met:, c:, skos: and prov:, and IRIs use them."""
    document = json.loads(to_export(result, "jsonld"))
    for prefix in ("met", "c", "skos", "prov"):
        assert prefix in JSONLD_CONTEXT and document["@context"][prefix] == JSONLD_CONTEXT[prefix]
    node = next(n for n in document["@graph"] if n["@id"] == "c:breast-cancer")
    assert {"@id": "c:liver"} in node["met:spreadsTo"]


def test_ntriples_reads_back_to_the_same_graph(result):
    """The N-Triples export holds each triple of graph.ttl once, sorted."""
    data = to_export(result, "ntriples")
    triples = [q.triple for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)]
    assert set(triples) == set(result.triples) and len(triples) == len(set(result.triples))


def test_facts_csv_rows_are_the_facts(result):
    """The facts CSV has the header and one row per fact statement, equal to the facts."""
    rows = list(csv.reader(io.StringIO(to_export(result, "facts").decode(), newline="")))
    assert tuple(rows[0]) == FACT_COLUMNS
    assert sorted(tuple(r) for r in rows[1:]) == sorted(fact_row(f) for f in result.facts)
    assert len(rows) - 1 == result.fact_count
    lung = next(r for r in rows if r[3] == "part 000/100% café.md")
    assert lung[:3] == ["c:lung-cancer", "spreadsTo", "c:brain"] and lung[4:6] == ["1", "often"]
    assert '"quoted", naïve' in lung[6]


@pytest.mark.parametrize("fmt", ["ntriples", "jsonld", "facts", "nquads"])
def test_export_command_writes_the_same_bytes_every_time(tmp_path: Path, fmt: str):
    """met2rdf export -o FILE writes the library's bytes, atomically, identical on a second
    run."""
    out = tmp_path / f"graph.{fmt}"
    first = met2rdf("export", str(EXAMPLE_VAULT), "--format", fmt, "-o", str(out))
    assert first.returncode == 0, first.stderr
    data = out.read_bytes()
    assert data == to_export(build(EXAMPLE_VAULT), fmt)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left
    again = met2rdf("export", str(EXAMPLE_VAULT), "--format", fmt, "-o", str(out))
    assert again.returncode == 0 and out.read_bytes() == data


def test_export_needs_a_format_and_a_vault(tmp_path: Path):
    """export without --format, or of a missing folder, is a bad invocation (exit 2)."""
    assert met2rdf("export", str(EXAMPLE_VAULT)).returncode == 2
    run = met2rdf("export", str(tmp_path / "none"), "--format", "facts")
    assert run.returncode == 2 and "no such vault" in run.stderr


def test_facts_csv_keeps_formula_like_cells_as_text():
    """A sentence or note path that a spreadsheet would run as a formula is written with a
    leading apostrophe; other cells are written as they are."""
    from met2rdf.export import fact_row
    from met2rdf.model import Fact, SourceSpan

    fact = Fact("https://w3id.org/met2rdf/concept/breast-cancer", "spreadsTo",
                "https://w3id.org/met2rdf/concept/bone", SourceSpan("=cmd.md", 3),
                text="=HYPERLINK(\"http://example.org\") spreads to bone")
    row = fact_row(fact)
    assert row[3] == "'=cmd.md" and row[6].startswith("'=HYPERLINK")
    plain = Fact(fact.subject, fact.predicate, fact.object, SourceSpan("a.md", 1), text="x")
    assert fact_row(plain)[3:] == ("a.md", "1", "", "x")
