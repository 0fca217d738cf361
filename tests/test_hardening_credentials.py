"""Hardening, credentials: a password in an endpoint URL authenticates and is never printed,
nor is an Authorization header a server echoes back (issue 15)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from stores import EXAMPLE_VAULT, free_port, met2rdf, serving

SECRET = "s3cr:et@/x"  # a password that needs percent-encoding in a URL
QUOTED = "s3cr%3Aet%40%2Fx"
BASIC = base64.b64encode(f"alice:{SECRET}".encode()).decode()


class Recorder(ThreadingHTTPServer):
    """A Graph Store and SPARQL endpoint that records Authorization headers and asks for
    Basic credentials when a request has none; ``fail`` makes it answer 500 with a body that
    echoes the request's headers."""

    daemon_threads = True

    def __init__(self, fail: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fail = fail
        self.auth: list[str] = []


class _Handler(BaseHTTPRequestHandler):
    server: Recorder

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def _answer(self) -> None:
        self.server.auth.append(self.headers.get("Authorization", ""))
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if not self.headers.get("Authorization"):
            body = b""
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="met"')
        elif self.server.fail:
            body = f"bad request; you sent:\n{self.headers}".encode()
            self.send_response(500)
        elif self.command == "GET" or "query" in self.path:
            body = b"" if self.command == "GET" else b"?s\n"
            self.send_response(404 if self.command == "GET" else 200)
        else:
            body = b""
            self.send_response(204)
        self.send_header("Content-Type", "text/tab-separated-values" if body else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = _answer


@contextmanager
def recording(fail: bool) -> Iterator[Recorder]:
    """Run a recording server on 127.0.0.1 until the block ends."""
    with serving(Recorder(fail)) as server:
        yield server


@pytest.fixture(params=[False, True], ids=["ok", "echoing-500"])
def recorder(request: pytest.FixtureRequest) -> Iterator[Recorder]:
    """A recording server that succeeds, or fails echoing the headers."""
    with recording(request.param) as server:
        yield server


def _leaks(text: str) -> list[str]:
    return [s for s in (SECRET, QUOTED, BASIC, "s3cr") if s in text]


def test_push_takes_the_password_from_the_url_and_never_prints_it(recorder: Recorder):
    """push to http://user:pass@host/ answers the server's Basic challenge, then sends the
    credentials with every request, and prints neither the password nor the header a
    failing server echoes."""
    url = f"http://alice:{QUOTED}@127.0.0.1:{recorder.server_address[1]}/store"
    run = met2rdf("push", str(EXAMPLE_VAULT), "--endpoint", url, "--retries", "1")
    assert run.returncode == (1 if recorder.fail else 0), run.stderr
    assert recorder.auth[0] == "" and set(recorder.auth[1:]) == {f"Basic {BASIC}"}
    assert _leaks(run.stdout + run.stderr) == []
    assert f"127.0.0.1:{recorder.server_address[1]}/store" in run.stdout + run.stderr
    if recorder.fail:
        assert "Authorization: [redacted]" in run.stdout + run.stderr


def test_query_takes_the_password_from_the_url_and_never_prints_it(recorder: Recorder):
    """query --endpoint http://user:pass@host/ authenticates and prints no secret."""
    url = f"http://alice:{QUOTED}@127.0.0.1:{recorder.server_address[1]}/query"
    run = met2rdf("query", "SELECT ?s WHERE { ?s ?p ?o }", "--endpoint", url)
    assert run.returncode == (1 if recorder.fail else 0), run.stderr
    assert recorder.auth == ["", f"Basic {BASIC}"]  # sent when the server asks for it
    assert _leaks(run.stdout + run.stderr) == []


def test_a_token_echoed_back_is_not_printed():
    """A --token the server echoes in its error body is redacted."""
    with recording(fail=True) as recorder:
        url = f"http://127.0.0.1:{recorder.server_address[1]}/store"
        run = met2rdf("push", str(EXAMPLE_VAULT), "--endpoint", url, "--retries", "0",
                      "--token", "tok-s3cr-123")
    assert run.returncode == 1
    assert "tok-s3cr-123" not in run.stdout + run.stderr


def test_an_unreachable_endpoint_with_a_password_is_reported_without_it():
    """Refused connections and retries name the endpoint without its password."""
    url = f"http://alice:{QUOTED}@127.0.0.1:{free_port()}/store"
    run = met2rdf("push", str(EXAMPLE_VAULT), "--endpoint", url, "--retries", "1")
    assert run.returncode == 1 and "cannot reach" in run.stderr + run.stdout
    assert _leaks(run.stdout + run.stderr) == []


def test_credentials_in_the_url_and_as_options_are_refused():
    """A password in the URL and --user or --token too is refused, without printing it."""
    url = f"http://alice:{QUOTED}@127.0.0.1:{free_port()}/store"
    run = met2rdf("push", str(EXAMPLE_VAULT), "--endpoint", url, "--user", "bob",
                  "--password", "other")
    assert run.returncode == 2 and "not both" in run.stderr
    assert _leaks(run.stdout + run.stderr) == []
