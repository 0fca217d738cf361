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
