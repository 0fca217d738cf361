"""met2rdf push against a real Virtuoso (Debian's virtuoso-opensource), the README recipe:
Digest credentials, twice in a row, and the graphs there equal the local ones.  Skipped when
``virtuoso-t`` is not installed (``apt-get install virtuoso-opensource-7-bin``)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from stores import build, free_port, http_query, met2rdf, stop, wait_listening
from test_push_digest import awkward_vault, local

from met2rdf.push import MANIFEST_GRAPH

INI = """[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql}
ServerThreads = 4
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
DirsAllowed = {d}
[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {d}
ServerThreads = 4
[SPARQL]
ResultSetMaxRows = 100000
"""
BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
QUADS = ("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } "
         "FILTER (STRSTARTS(STR(?g), 'https://w3id.org/met2rdf/')) }")


@pytest.fixture
def virtuoso(tmp_path: Path) -> Iterator[str]:
    """A fresh Virtuoso on 127.0.0.1 (SQL and HTTP ports), stopped after the test; its
    base URL."""
    binary = shutil.which("virtuoso-t")
    if binary is None:
        pytest.skip("virtuoso-t is not installed (apt-get install virtuoso-opensource-7-bin)")
    folder = tmp_path / "virtuoso"
    folder.mkdir()
    port = free_port()
    (folder / "virtuoso.ini").write_text(INI.format(d=folder, sql=free_port(), http=port))
    process = subprocess.Popen([binary, "+foreground", "+configfile", str(folder / "virtuoso.ini")],
                               cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, process, seconds=90)  # a new database takes a few seconds
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process, grace=30)


def server_quads(url: str) -> set[ox.Quad]:
    status, body = http_query(url + "/sparql", QUADS, accept="application/sparql-results+json")
    assert status == 200, body
    results = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    assert isinstance(results, ox.QuerySolutions)
    return {ox.Quad(r["s"], r["p"], canonical(r["o"]), r["g"]) for r in results
            if r["g"].value != MANIFEST_GRAPH}


def canonical(term: ox.NamedNode | ox.Literal) -> ox.NamedNode | ox.Literal:
    """Virtuoso stores an xsd:boolean as a number and answers "1"^^xsd:boolean for "true":
    the same value, in its canonical form."""
    if isinstance(term, ox.Literal) and term.datatype.value == BOOLEAN:
        return ox.Literal({"1": "true", "0": "false"}.get(term.value, term.value),
                          datatype=term.datatype)
    return term


def test_push_to_virtuoso_twice_gives_the_local_graphs(virtuoso: str, tmp_path: Path):
    """The README's Virtuoso recipe: push with Digest succeeds twice in a row on a vault
    with subfolders, spaces and non-ASCII in names, and Virtuoso holds the local graphs."""
    vault = awkward_vault(tmp_path)
    for _ in range(2):
        run = met2rdf("push", str(vault), "--endpoint", virtuoso + "/sparql-graph-crud-auth",
                      "--user", "dba", "--password", "dba", "--retries", "1")
        assert run.returncode == 0, run.stdout + run.stderr
    assert server_quads(virtuoso) == local(vault)
    (vault / "Mets.md").unlink()
    run = met2rdf("push", str(vault), "--endpoint", virtuoso + "/sparql-graph-crud-auth",
                  "--user", "dba", "--password", "dba")
    assert run.returncode == 0, run.stdout + run.stderr
    assert server_quads(virtuoso) == local(vault) and build(vault).graphs
