"""Canned questions: every question on the example vault and on a vault of our own, with
arguments resolved through labels and synonyms, and hostile arguments that change nothing."""

from __future__ import annotations

import csv
from functools import cache

import pyoxigraph as ox
import pytest
from conftest import FIXTURES
from stores import EXAMPLE_VAULT, OWN_VAULT, build, met2rdf, store_of

from met2rdf.ask import ask, bind_values, load_questions
from met2rdf.errors import UnknownConceptError
from met2rdf.query import show_term

VAULTS = {"example": EXAMPLE_VAULT, "own": OWN_VAULT}
HOSTILE = ('} ; DROP ALL ; #', 'x" } ; DROP ALL ; #', "' } DELETE WHERE { ?s ?p ?o } #",
           "<https://w3id.org/met2rdf/concept/bone>", "{", '"""')


def read_cases() -> list[tuple[str, str, tuple[str, ...], str, list[str]]]:
    lines = (FIXTURES / "ask" / "cases.tsv").read_text().splitlines()
    rows = csv.DictReader([line for line in lines if not line.startswith("#")],
                          delimiter="\t", quoting=csv.QUOTE_NONE)
    return [(r["vault"], r["question"], tuple(r["arguments"].split("|")) if r["arguments"]
             else (), r["compare"], [a for a in r["answers"].split("|") if a]) for r in rows]


@cache
def store(vault: str) -> ox.Store:
    return store_of(VAULTS[vault])


def answers(vault: str, name: str, args: tuple[str, ...]) -> list[str]:
    question = load_questions()[name]
    answer = ask(store(vault), question, args)
    params = {p.name for p in question.params}
    column = next(v.value for v in answer.results.variables if v.value not in params)
    return [show_term(row[column]) for row in answer.results]


def test_every_question_has_cases_on_both_vaults():
    """Each shipped question is asked at least once on the example vault and on our own."""
    asked = {(vault, name) for vault, name, *_ in read_cases()}
    for name in load_questions():
        assert ("example", name) in asked and ("own", name) in asked, name


@pytest.mark.parametrize(("vault", "name", "args", "compare", "expected"), read_cases())
def test_question(vault: str, name: str, args: tuple[str, ...], compare: str,
                  expected: list[str]):
    """A question answers what the notes say (exactly, or at least, as the case tells)."""
    got = answers(vault, name, args)
    if compare == "exactly":
        assert sorted(set(got)) == sorted(expected)
    else:
        assert set(expected) <= set(got), got


def test_no_ontology_id_lists_exactly_the_concepts_without_ids():
    """no-ontology-id lists every concept of the example graph that has no exactMatch."""
    triples = build(EXAMPLE_VAULT).triples
    skos = "http://www.w3.org/2004/02/skos/core#"
    concepts = {t.subject for t in triples if t.predicate.value == skos + "prefLabel"}
    with_id = {t.subject for t in triples if t.predicate.value == skos + "exactMatch"}
    expected = sorted(show_term(c) for c in concepts - with_id)
    assert sorted(answers("example", "no-ontology-id", ())) == expected


def test_questions_bind_substitutions_not_text():
    """A question file never pastes its argument into the text: it names a variable."""
    for question in load_questions().values():
        for param in question.params:
            assert f"?{param.name}" in question.sparql
            assert "{" + param.name not in question.sparql.replace("{ ?", "")


@pytest.mark.parametrize("name", [n for n, q in load_questions().items() if q.params])
def test_hostile_arguments_change_nothing(name: str):
    """Quotes, braces and SPARQL updates as arguments match no concept and leave the store."""
    question = load_questions()[name]
    for vault in VAULTS:
        before = sorted(map(str, store(vault)))
        for hostile in HOSTILE:
            for i in range(len(question.params)):
                args = ["lung cancer", "lung"]
                args[i] = hostile
                with pytest.raises(UnknownConceptError):
                    ask(store(vault), question, tuple(args[:len(question.params)]))
        assert sorted(map(str, store(vault))) == before


def test_unknown_argument_names_close_matches():
    """A misspelt argument fails with the close matches of the accepted kind."""
    with pytest.raises(UnknownConceptError) as caught:
        ask(store("example"), load_questions()["spread-to"], ("Livr",))
    assert "no site or metastasis is called 'Livr'" in str(caught.value)
    assert "liver" in caught.value.close


def test_argument_of_the_wrong_kind_says_what_it_is():
    """A site given where a cancer is expected is named as a site, with related cancers."""
    with pytest.raises(UnknownConceptError) as caught:
        ask(store("example"), load_questions()["symptoms"], ("Liver",))
    assert "'Liver' is a site (liver)" in str(caught.value)
    assert "liver metastasis" in caught.value.close


def test_cli_ask_on_a_store(tmp_path):
    """met2rdf ask answers from the store a build made, and says what the argument meant."""
    assert met2rdf("build", str(EXAMPLE_VAULT), "--out", str(tmp_path), "-q").returncode == 0
    run = met2rdf("ask", "spread", "crc", "--store", str(tmp_path / "store"))
    assert run.returncode == 0, run.stderr
    assert "CANCER = colorectal cancer" in run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split() == ["site", "notes", "hedge", "source"]
    assert [line.split()[0] for line in lines[2:]] == ["liver", "lung"]


def test_cli_hostile_argument_changes_nothing(tmp_path):
    """A hostile argument exits 1 with a clear message, and the store keeps every quad."""
    assert met2rdf("build", str(OWN_VAULT), "--out", str(tmp_path), "-q", "--vocab",
                   str(FIXTURES / "ask" / "vocab.ttl")).returncode == 0
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    store_dir = str(tmp_path / "store")
    before = met2rdf("query", count, "--store", store_dir, "--format", "csv").stdout
    run = met2rdf("ask", "sources", "} ; DROP ALL ; #", "lung", "--store", store_dir)
    assert run.returncode == 1
    assert "no cancer type or metastasis is called '} ; DROP ALL ; #'" in run.stderr
    after = met2rdf("query", count, "--store", store_dir, "--format", "csv").stdout
    assert after == before and after.split()[1] != "0"


def test_cli_ask_list_and_usage():
    """--list shows every question; a wrong number of arguments is a usage error."""
    run = met2rdf("ask", "--list")
    assert run.returncode == 0
    for question in load_questions().values():
        assert question.usage in run.stdout and question.title in run.stdout
    assert met2rdf("ask", "sources", "lung cancer").returncode == 2
    assert met2rdf("ask", "nope").returncode == 2


COUNTED = FIXTURES / "ask" / "counted"  # a.md and b.md say breast cancer spreads to bone
CONCEPT = "https://w3id.org/met2rdf/concept/"


@pytest.mark.parametrize("source", ["--store", "--data"])
def test_answers_count_notes_and_name_the_first(tmp_path, source: str):
    """One row per answer: how many notes say it, and the first note's first line and
    hedge; the same from the store and from graph.ttl (split into note graphs on read)."""
    assert met2rdf("build", str(COUNTED), "--out", str(tmp_path), "-q").returncode == 0
    where = str(tmp_path / ("store" if source == "--store" else "graph.ttl"))
    spread = met2rdf("ask", "spread", "breast cancer", source, where, "--format", "csv")
    assert spread.stdout.splitlines() == [
        "cancer,site,notes,hedge,source", f"{CONCEPT}breast-cancer,bone,2,may,a.md:1",
        f"{CONCEPT}breast-cancer,liver,1,often,b.md:3"], spread.stderr
    spread_to = met2rdf("ask", "spread-to", "bones", source, where, "--format", "csv")
    assert spread_to.stdout.splitlines()[1:] == [
        f"{CONCEPT}bone,breast cancer,bone,2,may,a.md:1",
        f"{CONCEPT}bone,prostate cancer,bone,1,commonly,c.md:1"], spread_to.stderr
    sources = met2rdf("ask", "sources", "breast cancer", "bone", source, where, "--format", "csv")
    assert [line.split(",")[2] for line in sources.stdout.splitlines()[1:]] == [
        "a.md:1", "a.md:3", "b.md:3"]


def test_values_go_into_the_grouping_subselect():
    """An answer grouped in a sub-SELECT gets its VALUES row there (the grouping starts from
    the concept); a plain question gets it at the head of its WHERE."""
    bone = ox.NamedNode(CONCEPT + "bone")
    row = f"VALUES (?place) {{ ({bone}) }}"
    grouped = bind_values(load_questions()["spread-to"].sparql, {"place": bone})
    outer, inner = grouped.split("{ SELECT", 1)
    assert row not in outer and inner.index(row) < inner.index("GROUP BY")
    plain = "SELECT ?s WHERE { ?s ?p ?place } ORDER BY ?s"
    assert bind_values(plain, {"place": bone}) == (
        f"SELECT ?s WHERE {{ {row} ?s ?p ?place }} ORDER BY ?s")
