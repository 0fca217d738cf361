"""Portability traps (issue 18): label order that every engine agrees on, one convention for
ontology ids, and a triple count that says what it counts."""

from __future__ import annotations

import re
from importlib.resources import files

import pyoxigraph as ox
from stores import EXAMPLE_VAULT, build, met2rdf

from met2rdf.ask import ask, load_questions
from met2rdf.graph import SKOS
from met2rdf.store import replace_graphs

OBO = "http://purl.obolibrary.org/obo/"
NCIT_OWN = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl#"


def test_questions_order_language_tagged_labels_by_their_text():
    """Every shipped question orders a variable bound to a skos:prefLabel by STR(...)."""
    for rq in files("met2rdf").joinpath("queries").iterdir():
        if not rq.name.endswith(".rq"):
            continue
        text = rq.read_text(encoding="utf-8")
        labels = set(re.findall(r"skos:prefLabel \?(\w+)", text))
        order = text.rsplit("\nORDER BY ", 1)[1]
        for name in labels:
            bare = re.search(rf"(?<!STR\()\?{name}\b", order)
            assert bare is None, f"{rq.name}: ORDER BY ?{name} (a language-tagged label)"


def test_labels_in_two_languages_sort_by_their_text():
    """A site labelled in another language is ordered by its text among the English ones."""
    store = ox.Store()
    replace_graphs(store, build(EXAMPLE_VAULT).graphs)
    pref = ox.NamedNode(SKOS + "prefLabel")
    lung = ox.NamedNode("https://w3id.org/met2rdf/concept/lung")
    graph = ox.NamedNode("https://w3id.org/met2rdf/graph/vocabulary")
    store.remove(ox.Quad(lung, pref, ox.Literal("lung", language="en"), graph))
    store.add(ox.Quad(lung, pref, ox.Literal("Lunge", language="de"), graph))
    answer = ask(store, load_questions()["spread"], ["breast cancer"])
    sites = [row["site"].value for row in answer.results]
    assert sites == sorted(sites) and "Lunge" in sites


def test_ontology_ids_are_obo_purls():
    """No IRI of the built graph is in NCIt's own namespace; the NCIt alignment is an OBO
    PURL like the concepts' ids."""
    triples = build(EXAMPLE_VAULT).triples
    iris = {term.value for t in triples for term in (t.subject, t.predicate, t.object)
            if isinstance(term, ox.NamedNode)}
    assert not [i for i in iris if i.startswith(NCIT_OWN)]
    assert OBO + "NCIT_R102" in iris
    ontology = files("met2rdf").joinpath("data/ontology.ttl").read_text(encoding="utf-8")
    assert "Thesaurus.owl" not in ontology


def test_build_says_it_counts_triple_statements(tmp_path):
    """build prints triple statements, and a triple two notes state is counted twice."""
    vault = tmp_path / "vault"
    vault.mkdir()
    for name in ("a", "b"):
        (vault / f"{name}.md").write_text("- **Breast cancer** spreads to the liver.\n")
    run = met2rdf("build", str(vault), "--out", str(tmp_path / "out"), "--no-store")
    assert run.returncode == 0, run.stderr
    result = build(vault)
    assert f", {result.statements()} triple statements -> " in run.stdout
    assert result.statements() > len(set(result.triples))
