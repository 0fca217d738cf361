"""Bring your own ontology: OBO terms become vocabulary concepts."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from met2rdf.build import build_vault
from met2rdf.errors import VocabularyError
from met2rdf.obo import curie_iri, descendants, read_obo, terms_to_skos
from met2rdf.vocab import default_vocabulary, merge_vocabularies, parse_vocabulary

OBO = """format-version: 1.2

[Term]
id: XX:0000001
name: root finding

[Term]
id: XX:0000002
name: purple toe sign
synonym: "violaceous toe" EXACT []
synonym: "toe colour change" RELATED []
is_a: XX:0000001 ! root finding

[Term]
id: XX:0000003
name: jaundice
synonym: "headache" EXACT []
is_a: XX:0000001

[Term]
id: XX:0000004
name: old thing
is_obsolete: true

[Typedef]
id: part_of
name: part of
"""


def write(tmp_path: Path, text: str = OBO) -> Path:
    path = tmp_path / "x.obo"
    path.write_text(text)
    return path


def to_vocab(terms, kind="Symptom"):
    data = ox.serialize(terms_to_skos(terms, kind), format=ox.RdfFormat.TURTLE)
    return parse_vocabulary(data, "import")


def test_read_obo_keeps_live_terms_and_exact_synonyms(tmp_path: Path):
    """Obsolete terms and non-EXACT synonyms are left out; is_a parents are kept."""
    terms = read_obo(write(tmp_path))
    assert [(t.id, t.name, t.synonyms, t.parents) for t in terms] == [
        ("XX:0000001", "root finding", (), ()),
        ("XX:0000002", "purple toe sign", ("violaceous toe",), ("XX:0000001",)),
        ("XX:0000003", "jaundice", ("headache",), ("XX:0000001",))]


def test_descendants_limit_to_a_subtree(tmp_path: Path):
    """--under keeps a term and everything below it."""
    terms = read_obo(write(tmp_path))
    assert [t.id for t in descendants(terms, "XX:0000002")] == ["XX:0000002"]
    assert len(descendants(terms, "XX:0000001")) == 3


def test_imported_terms_extend_the_vocabulary(tmp_path: Path):
    """New terms become concepts; a known label adds its id; a taken synonym is dropped."""
    base = default_vocabulary()
    merged = merge_vocabularies(base, [to_vocab(read_obo(write(tmp_path)))])
    toe = merged.lookup("violaceous toes")
    assert toe is not None and toe.pref_label == "purple toe sign"
    assert toe.ids == ("http://purl.obolibrary.org/obo/XX_0000002",)
    jaundice = merged.lookup("jaundice")
    assert "http://purl.obolibrary.org/obo/XX_0000003" in jaundice.ids
    assert merged.lookup("headache").iri == base.lookup("headache").iri


def test_imported_vocabulary_drives_extraction(tmp_path: Path):
    """A vault built with the imported terms finds them as symptoms."""
    vault = tmp_path / "v"
    vault.mkdir()
    (vault / "Melanoma.md").write_text("## Symptoms\n- purple toe sign\n")
    extra = tmp_path / "extra.ttl"
    extra.write_bytes(ox.serialize(terms_to_skos(read_obo(write(tmp_path)), "Symptom"),
                                   format=ox.RdfFormat.TURTLE))
    vocab = merge_vocabularies(default_vocabulary(), [parse_vocabulary(extra.read_bytes(), "x")])
    facts = build_vault(vault, vocab, validate=False).facts
    assert [(f.subject.rsplit("/", 1)[1], f.predicate, f.object.rsplit("/", 1)[1])
            for f in facts] == [("melanoma", "hasSymptom", "purple-toe-sign")]


def test_bad_obo_files_are_clear_errors(tmp_path: Path):
    """A file without terms, or a term id that is not a CURIE, names the file and line."""
    with pytest.raises(VocabularyError, match="no \\[Term\\] stanzas"):
        read_obo(write(tmp_path, "format-version: 1.2\n"))
    with pytest.raises(VocabularyError, match=r"x.obo:1: id 'nope' is not a CURIE"):
        read_obo(write(tmp_path, "[Term]\nid: nope\nname: n\n"))
    with pytest.raises(VocabularyError, match="unknown type"):
        list(terms_to_skos(read_obo(write(tmp_path)), "Disease"))


@pytest.mark.parametrize("name, kind, prefix, root", [
    ("hp_import.obo", "Symptom", "HP", "HP:0000118"),
    ("DO_cancer_slim.obo", "CancerType", "DOID", None),
    ("uberon_import.obo", "AnatomicalSite", "UBERON", None),
])
def test_import_shared_ontologies(shared: Path, name, kind, prefix, root):
    """The reference ontologies import into a vocabulary that still finds its own labels."""
    terms = read_obo(shared / "ontologies" / name)
    if root:
        terms = descendants(terms, root)
    vocab = merge_vocabularies(default_vocabulary(), [to_vocab(terms, kind)])
    assert len(vocab) > len(default_vocabulary())
    assert vocab.lookup("bone").type == "AnatomicalSite"
    base = default_vocabulary()
    new = next(t for t in terms if t.id.startswith(prefix) and base.lookup(t.name) is None
               and vocab.lookup(t.name) is not None)
    assert curie_iri(new.id) in vocab.lookup(new.name).ids
    assert vocab.lookup(new.name).type == kind


def test_vocab_import_command(tmp_path: Path):
    """met2rdf vocab import writes a vocabulary that build --vocab uses."""
    import subprocess
    import sys

    obo, out = write(tmp_path), tmp_path / "extra.ttl"
    run = subprocess.run([sys.executable, "-m", "met2rdf", "vocab", "import", str(obo),
                          "--type", "Symptom", "--under", "XX:0000002", "-o", str(out)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("1 Symptom concepts from")
    note = tmp_path / "Melanoma.md"
    note.write_text("## Symptoms\n- violaceous toes\n")
    build = subprocess.run([sys.executable, "-m", "met2rdf", "build", str(note), "--out",
                            str(tmp_path / "o"), "--no-store", "--vocab", str(out)],
                           capture_output=True, text=True, check=False)
    assert build.returncode == 0, build.stderr
    assert "c:purple-toe-sign" in (tmp_path / "o" / "graph.ttl").read_text()
    bad = subprocess.run([sys.executable, "-m", "met2rdf", "vocab", "import", str(obo),
                          "--type", "Disease", "-o", str(out)], capture_output=True, text=True,
                         check=False)
    assert bad.returncode == 2


def test_ids_may_hold_hyphens_and_dots(tmp_path: Path):
    """Protein Ontology ids such as PR:P01258-1 (imported by MAxO) are read, not refused."""
    terms = read_obo(write(tmp_path, "[Term]\nid: PR:P01258-1\nname: calcitonin isoform\n"))
    assert [t.id for t in terms] == ["PR:P01258-1"]
