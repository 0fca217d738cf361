"""The example vault (the seed note "Mets") builds to exactly its 34 facts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import REPO
from rdflib import Graph
from rdflib.compare import to_isomorphic

# (subject, relation, object, line) by prefLabel: this test's own copy of the seed's facts.
EXPECTED = {
    ("metastasis", "spreadsVia", "hematogenous spread", 11),
    ("metastasis", "spreadsVia", "lymphatic system", 11),
    ("breast cancer", "spreadsTo", "bone", 16),
    ("breast cancer", "spreadsTo", "lung", 16),
    ("breast cancer", "spreadsTo", "liver", 16),
    ("breast cancer", "spreadsTo", "brain", 16),
    ("prostate cancer", "spreadsTo", "bone", 17),
    ("lung cancer", "spreadsTo", "brain", 18),
    ("lung cancer", "spreadsTo", "bone", 18),
    ("lung cancer", "spreadsTo", "liver", 18),
    ("lung cancer", "spreadsTo", "adrenal gland", 18),
    ("colorectal cancer", "spreadsTo", "liver", 19),
    ("colorectal cancer", "spreadsTo", "lung", 19),
    ("bone metastasis", "hasSymptom", "pain", 23),
    ("bone metastasis", "hasSymptom", "pathologic fracture", 23),
    ("brain metastasis", "hasSymptom", "headache", 24),
    ("brain metastasis", "hasSymptom", "seizure", 24),
    ("brain metastasis", "hasSymptom", "neurological deficit", 24),
    ("liver metastasis", "hasSymptom", "jaundice", 25),
    ("liver metastasis", "hasSymptom", "upper abdominal pain", 25),
    ("liver metastasis", "hasSymptom", "fatigue", 25),
    ("lung metastasis", "hasSymptom", "dyspnea", 26),
    ("lung metastasis", "hasSymptom", "chest pain", 26),
    ("metastasis", "diagnosedBy", "CT", 29),
    ("metastasis", "diagnosedBy", "MRI", 29),
    ("metastasis", "diagnosedBy", "PET", 29),
    ("metastasis", "diagnosedBy", "bone scan", 29),
    ("metastasis", "diagnosedBy", "biopsy", 29),
    ("metastasis", "treatedWith", "chemotherapy", 32),
    ("metastasis", "treatedWith", "targeted therapy", 32),
    ("metastasis", "treatedWith", "immunotherapy", 32),
    ("metastasis", "treatedWith", "hormone therapy", 32),
    ("metastasis", "treatedWith", "radiotherapy", 32),
    ("metastasis", "treatedWith", "surgery", 32),
}

FACTS_WITH_SOURCES = """
PREFIX met: <https://w3id.org/met2rdf/vocab#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?s ?p ?o ?path ?line WHERE {
    ?p a met:FactRelation .
    ?sc ?p ?oc .
    ?sc skos:prefLabel ?s . ?oc skos:prefLabel ?o .
    OPTIONAL {
        ?fact rdf:subject ?sc ; rdf:predicate ?p ; rdf:object ?oc ; met:evidence ?e .
        ?e prov:wasDerivedFrom ?note ; met:line ?line .
        ?note met:path ?path .
    }
}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """Build the example vault with the real command into a temporary folder."""
    out = tmp_path_factory.mktemp("out")
    run = subprocess.run([sys.executable, "-m", "met2rdf", "build", str(REPO / "examples/vault"),
                          "--out", str(out)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("1 notes (0 unchanged), 34 fact statements")
    return out / "graph.ttl"


def test_seed_facts_exactly(built: Path):
    """The written graph holds the 34 seed facts, each traced to Mets.md and its line."""
    graph = Graph().parse(built, format="turtle")
    rows = list(graph.query(FACTS_WITH_SOURCES))
    pred = "https://w3id.org/met2rdf/vocab#"
    got = {(str(s), str(p)[len(pred):], str(o), int(line)) for s, p, o, path, line in rows}
    assert got == EXPECTED
    assert {str(path) for *_, path, _line in rows} == {"Mets.md"}


def test_example_vault_is_the_seed():
    """examples/vault/Mets.md is the seed note byte for byte."""
    seed = REPO.parent / "shared" / "seeds" / "000_8d2d522a565fcd27.txt"
    if not seed.is_file():
        pytest.skip("../shared/seeds is absent")
    assert (REPO / "examples/vault/Mets.md").read_bytes() == seed.read_bytes()


def test_committed_output_is_current(built: Path):
    """out/graph.ttl in the repository is byte-identical to a fresh build."""
    assert (REPO / "out/graph.ttl").read_bytes() == built.read_bytes()


def test_rebuild_is_byte_identical(built: Path, tmp_path: Path):
    """Building twice gives the same bytes."""
    subprocess.run([sys.executable, "-m", "met2rdf", "build", str(REPO / "examples/vault"),
                    "--out", str(tmp_path), "-q"], check=True)
    assert (tmp_path / "graph.ttl").read_bytes() == built.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".cache", "graph.ttl", "store"]


def test_turtle_reparses_with_both_libraries(built: Path):
    """graph.ttl parses with rdflib and pyoxigraph to the same graph."""
    data = built.read_bytes()
    ours = Graph().parse(data=data, format="turtle")
    nt = ox.serialize(ox.parse(data, format=ox.RdfFormat.TURTLE), format=ox.RdfFormat.N_TRIPLES)
    theirs = Graph().parse(data=nt.decode("utf-8"), format="nt")
    assert to_isomorphic(ours) == to_isomorphic(theirs)
    assert len(ours) > 300


def test_graph_has_no_blank_nodes(built: Path):
    """Every node of the output graph is an IRI or a literal."""
    triples = list(ox.parse(built.read_bytes(), format=ox.RdfFormat.TURTLE))
    assert not any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)
                   for t in triples)
