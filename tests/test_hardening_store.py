"""Hardening, store side: failed loads, a locked store, push faults and injection
(issue 6, cases 10, 11 and 13)."""

from __future__ import annotations

import hashlib
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest
from stores import EXAMPLE_VAULT, build, held_store, met2rdf, serving, store_of

from met2rdf.ask import ask, load_questions
from met2rdf.errors import UnknownConceptError
from met2rdf.iris import note_iri
from met2rdf.push import MANIFEST_GRAPH, GraphStore, push_graphs
from met2rdf.query import run_query

SQL_LIKE = 'x" ) } ; DROP ALL ; #'
IRI_LIKE = "http://e/a> } ; DROP ALL ; <"


def snapshot(store: ox.Store) -> set[ox.Quad]:
    return set(store)


# 10. Store

def test_failed_load_leaves_the_store_unchanged(tmp_path: Path):
    """load of a good file and a bad one writes nothing and names the bad file's line."""
    store_dir = tmp_path / "store"
    good, bad = tmp_path / "good.ttl", tmp_path / "bad.nt"
    good.write_text("<http://e/a> <http://e/p> 1 .\n")
    assert met2rdf("load", str(good), "--store", str(store_dir)).returncode == 0
    before = snapshot(ox.Store.read_only(str(store_dir)))
    other = tmp_path / "other.ttl"
    other.write_text("<http://e/b> <http://e/p> 2 .\n")
    bad.write_text('<http://e/c> <http://e/p> "3" .\n' * 1000 + "<http://e/d> <http://e/p> .\n")
    run = met2rdf("load", str(other), str(bad), "--store", str(store_dir))
    assert run.returncode == 1
    assert run.stderr == (f"met2rdf: {bad}:1001:27: The object of a triple must be an IRI, "
                          "a blank node or a literal\n")
    assert snapshot(ox.Store.read_only(str(store_dir))) == before


def test_locked_store_fails_fast_for_every_writer(tmp_path: Path):
    """While a process holds the store, load and build stop in seconds with one message
    (query and ask read the last complete build: tests/test_snapshot.py)."""
    store_dir = tmp_path / "store"
    assert met2rdf("build", str(EXAMPLE_VAULT), "--out", str(tmp_path), "-q").returncode == 0
    expected = (f"met2rdf: {store_dir}: the store is in use by another process (a build, load, "
                "query or push); wait for it to finish and try again\n")
    with held_store(store_dir):
        ttl = tmp_path / "a.ttl"
        ttl.write_text("<http://e/a> <http://e/p> 1 .\n")
        for args in (["load", str(ttl)], ["build", str(EXAMPLE_VAULT), "--out", str(tmp_path)]):
            started = time.monotonic()
            run = met2rdf(*args, "--store", str(store_dir), timeout=30)
            assert (run.returncode, run.stderr) == (1, expected)
            assert time.monotonic() - started < 10


# 11. Push faults, against a Graph Store test double

class FakeGraphStore(ThreadingHTTPServer):
    """An in-memory Graph Store Protocol server that fails on request."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _FakeHandler)
        self.graphs: dict[str, bytes] = {}
        self.requests: list[tuple[str, str]] = []
        self.faults: dict[tuple[str, str], list[int | float]] = {}  # status, or seconds asleep

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/store"


class _FakeHandler(BaseHTTPRequestHandler):
    server: FakeGraphStore

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _graph(self) -> str:
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)["graph"][0]

    def _answer(self, status: int, body: bytes = b"") -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/n-triples")
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        graph = self._graph()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append((self.command, graph))
        fault = self.server.faults.get((self.command, graph))
        if fault:
            what = fault.pop(0)
            if isinstance(what, float):
                time.sleep(what)
            else:
                return self._answer(what, b"rejected by the test double")
        if self.command == "GET":
            if graph not in self.server.graphs:
                return self._answer(404)
            data = self.server.graphs[graph]
            triples = ox.serialize(ox.parse(data, format=ox.RdfFormat.TURTLE),
                                   format=ox.RdfFormat.N_TRIPLES) or b""
            return self._answer(200, triples)
        if self.command == "PUT":
            self.server.graphs[graph] = body
            return self._answer(204)
        existed = self.server.graphs.pop(graph, None) is not None
        return self._answer(204 if existed else 404)

    do_GET = do_PUT = do_DELETE = _handle


@pytest.fixture
def fake() -> Iterator[FakeGraphStore]:
    """A Graph Store test double on 127.0.0.1, served from a thread."""
    with serving(FakeGraphStore()) as server:
        yield server


def write_vault(root: Path) -> Path:
    vault = root / "vault"
    vault.mkdir()
    for i, site in enumerate(["liver", "bones", "brain"]):
        (vault / f"n{i}.md").write_text(f"- **Breast cancer** spreads to the {site}.\n")
    return vault


def digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_push_faults_are_retried_reported_and_converge(fake: FakeGraphStore, tmp_path: Path):
    """HTTP 500 is retried within bounds, a timeout is retried, a 400 is not; each graph gets
    a line, local files are untouched, and a rerun makes the server whole."""
    vault = write_vault(tmp_path)
    before = digest(tmp_path)
    graphs = build(vault).graphs
    n0, n1, n2 = (note_iri(f"n{i}.md") for i in range(3))
    fake.faults = {("PUT", n0): [500, 503], ("PUT", n1): [2.0], ("PUT", n2): [400]}
    report = push_graphs(GraphStore(fake.url, retries=2, backoff=0.01, timeout=1.0), graphs)
    assert [str(o) for o in report.outcomes if o.graph in (n0, n1, n2)] == [
        f"put <{n0}>: ok", f"put <{n1}>: ok",
        (f"put <{n2}>: FAILED: HTTP 400 Bad Request: rejected by the test double "
        "(after 1 attempt(s))")]
    assert [fake.requests.count(("PUT", g)) for g in (n0, n1, n2)] == [3, 2, 1]
    assert MANIFEST_GRAPH in fake.graphs and n2 not in fake.graphs
    fake.faults = {("PUT", n0): [500, 500, 500, 500]}
    report = push_graphs(GraphStore(fake.url, retries=2, backoff=0.01), graphs)
    assert [str(o) for o in report.failed] == [
        (f"put <{n0}>: FAILED: HTTP 500 Internal Server Error: rejected by the test double "
        "(after 3 attempt(s))")]
    fake.faults = {}
    report = push_graphs(GraphStore(fake.url, retries=2, backoff=0.01), graphs)
    assert report.failed == ()
    expected = {g.iri: {str(t) for t in g.triples} for g in graphs[:-1]}
    pushed = {g: {str(ox.Triple(q.subject, q.predicate, q.object))
                  for q in ox.parse(d, format=ox.RdfFormat.TURTLE)}
              for g, d in fake.graphs.items()}
    assert {g: t for g, t in pushed.items() if g in expected} == expected
    assert set(pushed) == {g.iri for g in graphs} | {MANIFEST_GRAPH}
    assert digest(tmp_path) == before


def test_push_to_a_server_that_is_down_reports_every_graph(tmp_path: Path):
    """With nothing listening, the push stops at once, says so, and writes no local file."""
    vault = write_vault(tmp_path)
    before = digest(tmp_path)
    url = "http://127.0.0.1:9/store"
    run = met2rdf("push", str(vault), "--endpoint", url, "--retries", "1")
    assert run.returncode == 1
    assert run.stderr.startswith(f"met2rdf: {url}: cannot read what was pushed before: "
                                 f"cannot reach {url}")
    assert digest(tmp_path) == before


# 13. Injection

def test_hostile_values_reach_sparql_only_as_bound_terms(tmp_path: Path):
    """A quote-breaking label and an IRI-breaking string, as ask arguments, note text and
    bound values, leave the store unchanged and match nothing."""
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "a.md").write_text(f"---\naliases: ['{SQL_LIKE}']\n---\n[[{SQL_LIKE}]] [[{IRI_LIKE}]]"
                                "\n- **Breast cancer** spreads to the liver.\n")
    store = store_of(vault)
    before = snapshot(store)
    questions = load_questions()
    for text, found in ((SQL_LIKE, [note_iri("a.md")]), (IRI_LIKE, [])):
        with pytest.raises(UnknownConceptError):
            ask(store, questions["spread"], [text])
        rows = run_query(store, "SELECT ?n ?text WHERE { ?n met:alias ?text }",
                         substitutions={"text": ox.Literal(text)})
        assert [r["n"].value for r in rows] == found
    with pytest.raises(ValueError):
        ox.NamedNode(IRI_LIKE)
    answer = ask(store, questions["unresolved-links"], [])
    targets = [IRI_LIKE, 'x" ) } ; DROP ALL ;']  # in a wikilink, '#' starts a heading
    assert sorted(r["link"].value for r in answer.results) == targets
    alias = run_query(store, "SELECT ?text WHERE { ?n met:alias ?text }")
    assert [r["text"].value for r in alias] == [SQL_LIKE]
    assert snapshot(store) == before
    run = met2rdf("ask", "spread", SQL_LIKE, "--data", str(tmp_path / "none.ttl"))
    assert run.returncode == 1
