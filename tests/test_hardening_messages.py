"""Hardening, mistakes on the command line: each is a message and an exit code, never a
traceback (issue 15)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from stores import EXAMPLE_VAULT, met2rdf


@pytest.fixture
def places(tmp_path: Path) -> Path:
    """A folder with an N-Triples file and a plain file where folders are expected."""
    (tmp_path / "f.nt").write_text('<http://a/s> <http://a/p> "o" .\n')
    (tmp_path / "afile").write_text("not a folder\n")
    return tmp_path


@pytest.mark.parametrize(("args", "code", "said"), [
    (["load", "{t}/f.nt", "--store", "{t}/st", "--graph", "notaniri"], 2,
     "--graph notaniri: not an absolute IRI"),
    (["load", "{t}/f.nt", "--store", "{t}/st", "--graph", "http://a b"], 2,
     "--graph http://a b: not an absolute IRI"),
    (["build", str(EXAMPLE_VAULT), "--out", "{t}/afile"], 2, "{t}/afile: not a folder"),
    (["build", str(EXAMPLE_VAULT), "--out", "{t}/afile", "--no-store"], 2,
     "{t}/afile: not a folder"),
    (["build", str(EXAMPLE_VAULT), "--out", "{t}/o", "--store", "{t}/afile"], 2,
     "{t}/afile: not a folder"),
    (["build", str(EXAMPLE_VAULT), "--out", "{t}/afile/sub"], 1,
     "{t}/afile/sub: cannot make the folder"),
    (["push", str(EXAMPLE_VAULT), "--endpoint", "notaurl"], 2,
     "notaurl: a URL needs its scheme; write http://notaurl (or https://)"),
    (["push", str(EXAMPLE_VAULT), "--endpoint", "http://127.0.0.1:notaport/x"], 2,
     "not a URL"),
    (["query", "ASK {}", "--endpoint", "ftp://example.org/q"], 2,
     "not an http:// or https:// URL"),
])
def test_mistakes_are_messages(places: Path, args: list[str], code: int, said: str):
    """A bad --graph, an --out or --store that is a file, a URL that is not http(s): one
    message on stderr, exit 1 or 2, no traceback."""
    run = met2rdf(*(a.replace("{t}", str(places)) for a in args))
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == code, run.stderr
    assert said.replace("{t}", str(places)) in run.stderr


class _Garbage(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"head": {"vars": ["s"]}, "results": {"bindings": [{"s": '
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_an_endpoint_answer_that_does_not_parse_is_a_message():
    """query --endpoint on a server that sends cut-off JSON results exits 1 with a message."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Garbage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        run = met2rdf("query", "SELECT ?s { ?s ?p ?o }", "--endpoint",
                      f"http://127.0.0.1:{server.server_address[1]}/query")
    finally:
        server.shutdown()
        server.server_close()
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 1 and "does not parse" in run.stderr
