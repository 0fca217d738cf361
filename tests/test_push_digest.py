"""met2rdf push against a Graph Store on 127.0.0.1 that requires Digest, as Virtuoso's
``sparql-graph-crud-auth`` does: credentials only when asked, N-Triples bodies, one kept-alive
connection."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox
import pytest
from stores import build, met2rdf, serving

from met2rdf.auth import Challenge, Credentials, digest_header, parse_challenges
from met2rdf.push import MANIFEST_GRAPH, GraphStore, push_graphs

USER, PASSWORD, REALM = "dba", "p@ss w:rd", "Virtuoso"


@dataclass
class Log:
    """What the server saw."""

    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, auth, type
    bodies: list[bytes] = field(default_factory=list)
    connections: int = 0
    unauthorized: int = 0


class DigestStore(ThreadingHTTPServer):
    """A Graph Store Protocol server (PUT, GET, DELETE ``?graph=``) that requires Digest
    with ``qop=auth`` and answers anything else, Basic included, with 401."""

    daemon_threads = True

    def __init__(self, algorithm: str, stale_after: int = 0, hang_up: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.algorithm = algorithm
        self.hang_up = hang_up  # close each connection after one answer, without saying so
        self.graphs: dict[str, bytes] = {}
        self.log = Log()
        self.nonces: dict[str, int] = {}  # nonce -> highest nonce count seen
        self.stale_after = stale_after  # a nonce goes stale after this many uses (0: never)

    def challenge(self, stale: bool = False) -> str:
        nonce = os.urandom(12).hex()
        self.nonces[nonce] = 0
        return (f'Digest realm="{REALM}", nonce="{nonce}", qop="auth", '
                f'algorithm={self.algorithm}, opaque="op-1"' + (", stale=true" if stale else ""))

    def check(self, method: str, header: str) -> str:
        """Return "ok", "stale" or "no" for an Authorization value."""
        found = parse_challenges([header])
        if not found or found[0].scheme != "digest":
            return "no"
        given = found[0]
        nonce = given.get("nonce")
        if nonce not in self.nonces or given.get("opaque") != "op-1":
            return "no"
        h = hashlib.md5 if self.algorithm.startswith("MD5") else hashlib.sha256

        def hx(text: str) -> str:
            return h(text.encode()).hexdigest()

        ha1 = hx(f"{USER}:{REALM}:{PASSWORD}")
        if self.algorithm.endswith("-sess"):
            ha1 = hx(f"{ha1}:{nonce}:{given.get('cnonce')}")
        ha2 = hx(f"{method}:{given.get('uri')}")
        nc = given.get("nc")
        expected = hx(f"{ha1}:{nonce}:{nc}:{given.get('cnonce')}:auth:{ha2}")
        if given.get("response") != expected or given.get("username") != USER:
            return "no"
        count = int(nc, 16)
        if count <= self.nonces[nonce]:
            return "no"  # a replayed nonce count
        self.nonces[nonce] = count
        if self.stale_after and count > self.stale_after:
            return "stale"
        return "ok"


class _Handler(BaseHTTPRequestHandler):
    server: DigestStore
    protocol_version = "HTTP/1.1"  # keep-alive

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def setup(self) -> None:
        super().setup()
        self.server.log.connections += 1

    def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None
               ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.server.hang_up:  # as a server whose keep-alive timeout has passed
            self.close_connection = True

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth = self.headers.get("Authorization", "")
        log = self.server.log
        log.requests.append((self.command, auth, self.headers.get("Content-Type", "")))
        verdict = self.server.check(self.command, auth) if auth else "no"
        if verdict != "ok":
            log.unauthorized += 1
            if auth.startswith("Basic"):  # Virtuoso: a bare 401 to pre-emptive Basic
                return self._reply(401)
            return self._reply(401, b"", {"WWW-Authenticate":
                                          self.server.challenge(stale=verdict == "stale")})
        if self.command == "POST":  # a SPARQL query: one row
            return self._reply(200, _ONE_ROW, {"Content-Type": "application/sparql-results+json"})
        graph = parse_qs(urlsplit(self.path).query)["graph"][0]
        if self.command == "PUT":
            log.bodies.append(body)
            ox.parse(body, format=ox.RdfFormat.N_TRIPLES)  # the body is N-Triples
            self.server.graphs[graph] = body
            return self._reply(201)
        if self.command == "DELETE":
            return self._reply(200 if self.server.graphs.pop(graph, None) is not None else 404)
        if graph not in self.server.graphs:
            return self._reply(404)
        return self._reply(200, self.server.graphs[graph],
                           {"Content-Type": "application/n-triples"})

    do_GET = do_PUT = do_DELETE = do_POST = _answer


_ONE_ROW = b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"uri","value":"http://x/1"}}]}}'


@contextmanager
def digest_store(algorithm: str = "MD5", stale_after: int = 0, hang_up: bool = False
                 ) -> Iterator[DigestStore]:
    """Run a Digest-protected Graph Store on 127.0.0.1 until the block ends."""
    with serving(DigestStore(algorithm, stale_after, hang_up)) as server:
        yield server


def awkward_vault(root: Path) -> Path:
    """A vault with a subfolder and spaces, percent signs and non-ASCII in note names."""
    vault = root / "vault"
    (vault / "part 000" / "sub").mkdir(parents=True)
    (vault / "part 000" / "note 00239.md").write_text("- **Breast cancer** spreads to the liver.\n")
    (vault / "part 000" / "sub" / "100% café.md").write_text(
        "- **Lung cancer** often spreads to the brain.\n")
    (vault / "Mets.md").write_text("Prostate cancer spreads to bone.\n")
    return vault


def stored(server: DigestStore) -> set[ox.Quad]:
    return {ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g))
            for g, body in server.graphs.items() if g != MANIFEST_GRAPH
            for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)}


def local(vault: Path) -> set[ox.Quad]:
    return {ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g.iri))
            for g in build(vault).graphs for t in g.triples}


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256", "MD5-sess"])
def test_push_answers_a_digest_challenge_twice_in_a_row(tmp_path: Path, algorithm: str):
    """push with --user/--password to a Digest-only server succeeds twice in a row on a vault
    with subfolders and spaces in names, and the server holds exactly the local graphs."""
    vault = awkward_vault(tmp_path)
    with digest_store(algorithm) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/sparql-graph-crud-auth"
        for _ in range(2):
            run = met2rdf("push", str(vault), "--endpoint", url, "--user", USER,
                          "--password", PASSWORD, "--retries", "0")
            assert run.returncode == 0, run.stdout + run.stderr
        assert stored(server) == local(vault)
        assert not any(auth.startswith("Basic") for _, auth, _ in server.log.requests)
        assert server.log.unauthorized == 2  # one challenge per push, not one per graph
        assert server.log.connections == 2  # one kept-alive connection per push
        assert {kind for method, _, kind in server.log.requests if method == "PUT"} == {
            "text/turtle; charset=utf-8"}
        assert PASSWORD not in run.stdout + run.stderr


def test_a_stale_nonce_is_answered_again(tmp_path: Path):
    """A server that marks its nonce stale after three uses gets a fresh answer each time,
    and the push succeeds."""
    vault = awkward_vault(tmp_path)
    with digest_store(stale_after=3) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/crud"
        with GraphStore(url, user=USER, password=PASSWORD, retries=0) as store:
            report = push_graphs(store, build(vault).graphs)
        assert not report.failed, report.failed
        assert stored(server) == local(vault)


def test_a_connection_the_server_closed_is_opened_again(tmp_path: Path):
    """A server that closes kept-alive connections without a word gets each request on a
    new connection, without a retry or a failure."""
    vault = awkward_vault(tmp_path)
    with digest_store(hang_up=True) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/crud"
        with GraphStore(url, user=USER, password=PASSWORD, retries=0) as store:
            report = push_graphs(store, build(vault).graphs)
        assert not report.failed, report.failed
        assert stored(server) == local(vault)
        assert server.log.connections == len(server.log.requests) == store.connections


def test_a_wrong_password_is_one_clear_failure(tmp_path: Path):
    """A wrong password fails with exit 1 and a message after one answered challenge per
    request, never a loop, and without printing the password."""
    vault = awkward_vault(tmp_path)
    with digest_store() as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/crud"
        run = met2rdf("push", str(vault), "--endpoint", url, "--user", USER,
                      "--password", "wrong-secret", "--retries", "0")
        assert run.returncode == 1
        assert "credentials refused; the server offers digest" in run.stderr
        assert "wrong-secret" not in run.stdout + run.stderr
        assert len(server.log.requests) == 2 and server.graphs == {}


def test_no_credentials_for_a_server_that_asks_says_how():
    """A push without credentials to a server that asks for them names the options."""
    with digest_store() as server:
        store = GraphStore(f"http://127.0.0.1:{server.server_address[1]}/crud", retries=0)
        with pytest.raises(Exception, match="give --user and --password or --token"):
            push_graphs(store, ())


def test_challenges_parse_with_several_schemes_in_one_header():
    """A header offering Digest and Basic yields both, with quoted commas and escapes kept."""
    found = parse_challenges([('Digest realm="a, b", nonce="n\\"1", qop="auth,auth-int", '
                              'algorithm=SHA-256, Basic realm="x"'), "Negotiate abc=="])
    assert [c.scheme for c in found] == ["digest", "basic", "negotiate"]
    assert found[0].get("realm") == "a, b" and found[0].get("nonce") == 'n"1'
    assert found[1].get("realm") == "x"


def test_digest_header_matches_rfc_7616_example():
    """The answer to RFC 7616's SHA-256 example challenge is the RFC's response."""
    challenge = Challenge("digest", (
        ("realm", "http-auth@example.org"), ("qop", "auth, auth-int"),
        ("algorithm", "SHA-256"), ("nonce", "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"),
        ("opaque", "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")))
    header = digest_header(challenge, "Mufasa", "Circle of Life", "GET", "/dir/index.html",
                           1, "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")
    assert 'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"' in header
    assert "nc=00000001" in header and "qop=auth" in header


def test_digest_is_preferred_to_basic():
    """Credentials offered both schemes answer with Digest."""
    credentials = Credentials("u", "p")
    assert credentials.answer(parse_challenges(['Basic realm="r"', 'Digest realm="r", nonce="n"']))
    assert (credentials.header("GET", "/") or "").startswith("Digest ")


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_query_endpoint_answers_a_digest_challenge(algorithm: str):
    """query --endpoint with user:password@ sends nothing secret until the server asks, then
    answers its Digest challenge (a pre-emptive Basic gets Virtuoso's bare 401)."""
    from urllib.parse import quote

    from met2rdf.query import query_endpoint

    with digest_store(algorithm) as server:
        port = server.server_address[1]
        url = f"http://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1:{port}/sparql"
        rows = list(query_endpoint(url, "SELECT ?s WHERE { ?s ?p ?o }"))
    assert [r["s"].value for r in rows] == ["http://x/1"]
    auth = [a for _, a, _ in server.log.requests]
    assert auth[0] == "" and auth[1].startswith("Digest ") and len(auth) == 2


def test_query_endpoint_without_credentials_says_what_to_give():
    """A 401 to a query without credentials is a message naming the challenge offered and
    how to give credentials."""
    from met2rdf.errors import StoreError
    from met2rdf.query import query_endpoint

    with digest_store() as server:
        port = server.server_address[1]
        with pytest.raises(StoreError) as caught:
            query_endpoint(f"http://127.0.0.1:{port}/sparql", "ASK {}")
    assert "HTTP 401" in str(caught.value) and "(digest)" in str(caught.value)
    assert "give them in the URL" in str(caught.value)

