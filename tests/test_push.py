"""met2rdf push: named graphs to a real Oxigraph server with the Graph Store Protocol."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from stores import EXAMPLE_VAULT, build, free_port, http_query, met2rdf, oxigraph_server

from met2rdf.diagnostics import BUILD_GRAPH
from met2rdf.iris import note_iri
from met2rdf.push import MANIFEST_GRAPH, GraphOutcome, GraphStore, push_graphs
from met2rdf.result import VOCABULARY_GRAPH

QUADS = "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
SPREAD = ("SELECT ?cancer ?site WHERE { ?cancer met:spreadsTo ?site } "
          "ORDER BY ?cancer ?site")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A real oxigraph serve on 127.0.0.1 with its data in a temporary folder."""
    with oxigraph_server(tmp_path / "server") as (url, _):
        yield url


def write_vault(root: Path, notes: int) -> Path:
    vault = root / "vault"
    vault.mkdir(exist_ok=True)
    sites = ["liver", "lungs", "bones", "brain", "adrenal glands"]
    for i in range(notes):
        (vault / f"note {i}.md").write_text(
            f"- **Breast cancer** spreads to the {sites[i % len(sites)]}.\n")
    return vault


def rows(url: str, sparql: str) -> list[str]:
    status, body = http_query(url + "/query", sparql)
    assert status == 200, body
    return body.splitlines()[1:]


def expected_quads(vault: Path) -> set[tuple[str, str, str, str]]:
    return {(g.iri, str(t.subject), str(t.predicate), str(t.object))
            for g in build(vault).graphs for t in g.triples}


def server_quads(url: str) -> set[tuple[str, str, str, str]]:
    status, body = http_query(url + "/query", QUADS, accept="application/sparql-results+json")
    assert status == 200, body
    results = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    assert isinstance(results, ox.QuerySolutions)
    return {(r["g"].value, str(r["s"]), str(r["p"]), str(r["o"])) for r in results
            if r["g"].value != MANIFEST_GRAPH}


def test_push_example_vault_and_query_it(server: str, tmp_path: Path):
    """The pushed graphs hold the same quads as the build, and queries agree with the store."""
    run = met2rdf("push", str(EXAMPLE_VAULT), "--endpoint", server + "/store")
    assert run.returncode == 0, run.stderr
    assert f"put <{note_iri('Mets.md')}>: ok" in run.stdout
    assert "4 graph(s) written, 0 deleted, 0 failed" in run.stdout  # with the manifest
    assert server_quads(server) == expected_quads(EXAMPLE_VAULT)
    assert met2rdf("build", str(EXAMPLE_VAULT), "--out", str(tmp_path), "-q").returncode == 0
    over_http = met2rdf("query", SPREAD, "--endpoint", server + "/query", "--format", "csv")
    embedded = met2rdf("query", SPREAD, "--store", str(tmp_path / "store"), "--format", "csv")
    assert over_http.returncode == 0, over_http.stderr
    assert over_http.stdout == embedded.stdout and "prostate-cancer" in embedded.stdout


def test_push_again_duplicates_nothing(server: str):
    """A second push replaces each graph: the same number of quads and graphs."""
    assert met2rdf("push", str(EXAMPLE_VAULT), "--endpoint", server + "/store").returncode == 0
    first = rows(server, COUNT), rows(server, GRAPHS)
    assert met2rdf("push", str(EXAMPLE_VAULT), "--endpoint", server + "/store").returncode == 0
    assert (rows(server, COUNT), rows(server, GRAPHS)) == first
    assert rows(server, GRAPHS) == sorted([MANIFEST_GRAPH, note_iri("Mets.md"),
                                           VOCABULARY_GRAPH, BUILD_GRAPH])


def test_deleted_note_graph_is_deleted(server: str, tmp_path: Path):
    """A note deleted since the last push loses its graph on the server."""
    vault = write_vault(tmp_path, 3)
    assert met2rdf("push", str(vault), "--endpoint", server + "/store").returncode == 0
    assert note_iri("note 2.md") in rows(server, GRAPHS)
    (vault / "note 2.md").unlink()
    run = met2rdf("push", str(vault), "--endpoint", server + "/store")
    assert run.returncode == 0, run.stderr
    assert f"delete <{note_iri('note 2.md')}>: ok" in run.stdout
    assert note_iri("note 2.md") not in rows(server, GRAPHS)
    assert server_quads(server) == expected_quads(vault)


def test_server_stopped_mid_push_then_rerun(tmp_path: Path):
    """Stopping the server mid-push reports the graphs not sent; a rerun makes it whole."""
    vault = write_vault(tmp_path, 8)
    graphs = build(vault).graphs
    location, port = tmp_path / "server", free_port()
    seen: list[GraphOutcome] = []
    with oxigraph_server(location, port) as (url, process):
        def stop_after_three(outcome: GraphOutcome) -> None:
            seen.append(outcome)
            if len(seen) == 3:
                process.kill()
                process.wait()

        report = push_graphs(GraphStore(url + "/store", retries=1, backoff=0.05), graphs,
                             progress=stop_after_three)
    assert len(report.failed) == len(report.outcomes) - 3
    assert "cannot reach" in report.failed[0].message
    assert all(o.message.startswith("not sent") for o in report.failed[1:])
    with oxigraph_server(location, port) as (url, _):
        report = push_graphs(GraphStore(url + "/store"), graphs)
        assert not report.failed
        assert server_quads(url) == expected_quads(vault)
        pushed = rows(url, GRAPHS)
        assert pushed == sorted([MANIFEST_GRAPH, VOCABULARY_GRAPH, BUILD_GRAPH,
                                 *(note_iri(f"note {i}.md") for i in range(8))])


def test_push_to_nothing_fails_clearly(tmp_path: Path):
    """A push to a port nobody listens on exits 1 and says the endpoint cannot be reached."""
    url = f"http://127.0.0.1:{free_port()}/store"
    run = met2rdf("push", str(EXAMPLE_VAULT), "--endpoint", url, "--retries", "0")
    assert run.returncode == 1
    assert url in run.stderr and "cannot reach" in run.stderr


@pytest.mark.parametrize(("fmt", "rdf_format"), [("nquads", ox.RdfFormat.N_QUADS),
                                                 ("trig", ox.RdfFormat.TRIG)])
def test_export_named_graphs(tmp_path: Path, fmt: str, rdf_format: ox.RdfFormat):
    """--format nquads|trig writes the same named graphs that push sends."""
    out = tmp_path / f"graph.{fmt}"
    run = met2rdf("push", str(EXAMPLE_VAULT), "--format", fmt, "-o", str(out))
    assert run.returncode == 0, run.stderr
    quads = {(q.graph_name.value, str(q.subject), str(q.predicate), str(q.object))
             for q in ox.parse(path=str(out), format=rdf_format)}
    assert quads == expected_quads(EXAMPLE_VAULT)


def test_push_needs_an_endpoint_or_a_format():
    """push without --endpoint or --format, or with both, is a usage error."""
    assert met2rdf("push", str(EXAMPLE_VAULT)).returncode == 2
    assert met2rdf("push", str(EXAMPLE_VAULT), "--endpoint", "http://x", "--format",
                   "trig").returncode == 2
