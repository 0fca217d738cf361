"""IRIs: any label or path mints a valid, distinct IRI."""

from __future__ import annotations

import pyoxigraph as ox
from hypothesis import given
from hypothesis import strategies as st

from met2rdf.iris import encode_path, encode_segment, evidence_iri, fact_iri, note_iri

HARD = ["a b", 'q"uote', "x>y", "{}", "|", "^", "`", "back\\slash", "tab\t", "new\nline",
        "nul\x00", "%41", "../x", "..", ".", "é", "日本語", "🦀", "a" * 2000, "", "A", "%2541"]


def test_hard_labels_mint_valid_distinct_iris():
    """Each hard label gives a valid IRI, and different labels give different IRIs."""
    iris = [note_iri(label) for label in HARD]
    for iri in iris:
        ox.NamedNode(iri)
    assert len(set(iris)) == len(HARD)


@given(st.text())
def test_any_text_gives_a_valid_iri(text):
    """Any text encodes to a valid IRI segment."""
    ox.NamedNode("https://w3id.org/met2rdf/note/" + encode_segment(text))


@given(st.text(), st.text())
def test_encoding_is_injective(a, b):
    """Two different texts never encode to the same segment."""
    if a != b:
        assert encode_segment(a) != encode_segment(b)


def test_paths_keep_folders():
    """A vault path keeps its folders as IRI path segments."""
    assert encode_path("cancers/Breast cancer.md") == "cancers/Breast%20cancer.md"


def test_fact_and_evidence_iris_are_readable_and_valid():
    """Fact IRIs use concept local names and the note path; evidence IRIs add the line."""
    c = "https://w3id.org/met2rdf/concept/"
    assert fact_iri(c + "breast-cancer", "spreadsTo", c + "bone", "a b.md") == (
        "https://w3id.org/met2rdf/fact/breast-cancer.spreadsTo.bone/a%20b.md")
    ev = evidence_iri(c + "breast-cancer", "spreadsTo", "http://other.org/x y", "a b.md", 7)
    ox.NamedNode(ev)
    assert ev.endswith("/a%20b.md/L7")


def test_one_conversion_between_curies_and_obo_purls():
    """A CURIE becomes its OBO PURL with the id space in upper case (as entities files may
    write it in lower case), and back; IRIs outside the OBO PURLs have no CURIE."""
    from met2rdf.iris import OBO, curie_iri, curie_of

    assert curie_iri("HP:0002094") == curie_iri(" hp:0002094") == OBO + "HP_0002094"
    assert curie_of(OBO + "UBERON_0002107") == "UBERON:0002107"
    assert curie_of("https://w3id.org/met2rdf/concept/liver") == (
        "https://w3id.org/met2rdf/concept/liver")
