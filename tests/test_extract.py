"""Extraction patterns, as data: each fixtures/extract/NAME.md has its facts in NAME.tsv."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import FIXTURES

from met2rdf.build import build_vault
from met2rdf.evaluate import norm
from met2rdf.vocab import default_vocabulary

CASES = sorted((FIXTURES / "extract").glob("*.md"))


def expected_facts(path: Path) -> set[tuple[str, str, str, int, str]]:
    with path.with_suffix(".tsv").open(encoding="utf-8", newline="") as handle:
        return {(norm(r["subject"]), r["predicate"], norm(r["object"]), int(r["line"]),
                 r.get("hedge") or "")
                for r in csv.DictReader(handle, delimiter="\t")}


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_extraction_fixture(case: Path):
    """The note yields exactly the facts (with lines and hedges) of its .tsv file."""
    vocab = default_vocabulary()
    result = build_vault(case, vocab, validate=False)
    label = {iri: norm(c.pref_label) for iri, c in vocab.concepts.items()}
    got = {(label[f.subject], f.predicate, label[f.object], f.span.line, f.hedge or "")
           for f in result.facts}
    assert got == expected_facts(case)
    assert all(f.span.path == case.name for f in result.facts)


def test_every_fixture_has_expectations():
    """Each extraction fixture note has its facts file."""
    assert CASES
    for case in CASES:
        assert case.with_suffix(".tsv").is_file(), case


def test_aliases_and_links_name_the_topic(tmp_path: Path):
    """A note's title and aliases name its topic vault-wide; a wikilink to it is a mention."""
    (tmp_path / "Liver primary.md").write_text(
        "---\naliases: [hepatocellular carcinoma, Hepatoma-X]\n---\nA note.\n")
    (tmp_path / "other.md").write_text(
        "- [[Liver primary|this tumour]] spreads to the lungs.\n"
        "- Hepatoma-X often spreads to bone.\n"
        "- Liver primary may cause jaundice.\n")
    vocab = default_vocabulary()
    result = build_vault(tmp_path, vocab, validate=False)
    got = {(vocab.concepts[f.subject].pref_label, f.predicate,
            vocab.concepts[f.object].pref_label, f.span.line) for f in result.facts}
    assert got == {("hepatocellular carcinoma", "spreadsTo", "lung", 1),
                   ("hepatocellular carcinoma", "spreadsTo", "bone", 2),
                   ("hepatocellular carcinoma", "hasSymptom", "jaundice", 3)}


def test_an_alias_never_steals_a_label(tmp_path: Path):
    """An alias that is already a vocabulary label keeps its vocabulary meaning."""
    (tmp_path / "Melanoma.md").write_text("---\naliases: [lung cancer]\n---\nx\n")
    (tmp_path / "b.md").write_text("- **Lung cancer** spreads to the brain.\n")
    vocab = default_vocabulary()
    result = build_vault(tmp_path, vocab, validate=False)
    assert {vocab.concepts[f.subject].pref_label for f in result.facts} == {"lung cancer"}
