"""met2rdf query: SPARQL on the store or an RDF file, as a table or a results format."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from stores import EXAMPLE_VAULT, met2rdf, store_of

from met2rdf.errors import QueryError
from met2rdf.query import run_query, to_table

SPREAD = "SELECT ?site WHERE { c:breast-cancer met:spreadsTo ?site } ORDER BY ?site"
SITES = ["bone", "brain", "liver", "lung"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    assert met2rdf("build", str(EXAMPLE_VAULT), "--out", str(out), "-q").returncode == 0
    return out


def test_table_aligns_columns_and_shortens_iris():
    """The table has a header, a rule, prefixed names and padded columns."""
    store = store_of(EXAMPLE_VAULT)
    text = to_table(run_query(store, "SELECT ?site ?label WHERE { c:breast-cancer "
                                     "met:spreadsTo ?site . ?site skos:prefLabel ?label } "
                                     "ORDER BY ?label"))
    lines = text.splitlines()
    assert lines[0] == "site     label"
    assert lines[1] == "-------  -----"
    assert lines[2] == "c:bone   bone"
    assert len(lines) == 6


def test_ask_query_is_yes_or_no():
    """An ASK query gives yes or no in a table."""
    store = store_of(EXAMPLE_VAULT)
    assert to_table(run_query(store, "ASK { c:prostate-cancer met:spreadsTo c:bone }")) == "yes\n"
    assert to_table(run_query(store, "ASK { c:prostate-cancer met:spreadsTo c:brain }")) == "no\n"


def test_syntax_error_has_line_and_column():
    """A query that does not parse raises QueryError starting source:line:column."""
    with pytest.raises(QueryError, match=r"^q\.rq:3:22: "):
        run_query(store_of(EXAMPLE_VAULT), "SELECT *\nWHERE {\n  ?s ?p ?o . ?s ] ?o }\nLIMIT 1",
                  "q.rq")


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "xml"])
def test_results_formats_from_the_store(built: Path, fmt: str):
    """--format csv|tsv|json|xml gives SPARQL 1.1 results with the same rows."""
    run = met2rdf("query", SPREAD, "--store", str(built / "store"), "--format", fmt)
    assert run.returncode == 0, run.stderr
    base = "https://w3id.org/met2rdf/concept/"
    if fmt == "csv":
        rows = [r[0] for r in csv.reader(io.StringIO(run.stdout))][1:]
    elif fmt == "tsv":
        rows = [line.strip("<>") for line in run.stdout.splitlines()[1:]]
    elif fmt == "json":
        rows = [b["site"]["value"] for b in json.loads(run.stdout)["results"]["bindings"]]
    else:
        ns = "{http://www.w3.org/2005/sparql-results#}"
        rows = [u.text or "" for u in ET.fromstring(run.stdout).iter(ns + "uri")]
    assert rows == [base + s for s in SITES]


def test_query_file_and_rdf_file(built: Path, tmp_path: Path):
    """-f reads the query from a file; --data queries an RDF file instead of the store."""
    rq = tmp_path / "spread.rq"
    rq.write_text(SPREAD)
    run = met2rdf("query", "-f", str(rq), "--data", str(built / "graph.ttl"))
    assert run.returncode == 0, run.stderr
    assert [line.split()[0] for line in run.stdout.splitlines()[2:]] == [f"c:{s}" for s in SITES]


def test_cli_syntax_error_points_into_the_file(built: Path, tmp_path: Path):
    """A bad query file is reported as file:line:column and exits 1."""
    rq = tmp_path / "bad.rq"
    rq.write_text("SELECT ?s\nWHERE { ?s ?p ?o\n")
    run = met2rdf("query", "-f", str(rq), "--store", str(built / "store"))
    assert run.returncode == 1
    assert f"{rq}:3:1: " in run.stderr


def test_query_needs_exactly_one_query():
    """Neither or both of an inline query and -f is a usage error."""
    assert met2rdf("query").returncode == 2
    assert met2rdf("query", "ASK {}", "-f", "x.rq").returncode == 2
