"""Hardening, server side: met2rdf serve is loopback, read-only and bounded (issue 6, case 12)."""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from stores import EXAMPLE_VAULT, free_port, http_query, met2rdf, wait_listening

from met2rdf.serve import MAX_BODY, uses_service

TIMEOUT = 2


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """met2rdf serve on the example vault with default host and a 2 s query timeout."""
    out = tmp_path_factory.mktemp("out")
    assert met2rdf("build", str(EXAMPLE_VAULT), "--out", str(out), "-q").returncode == 0
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "met2rdf", "serve", "--store",
                                str(out / "store"), "--port", str(port), "--timeout",
                                str(TIMEOUT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_listening(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def request(url: str, method: str, body: bytes = b"", kind: str = "text/plain") -> tuple[int,
                                                                                       str]:
    req = urllib.request.Request(url, data=body or None, method=method,
                                 headers={"Content-Type": kind})
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_writes_are_refused(endpoint: str):
    """UPDATE (form or body) and Graph Store PUT, POST and DELETE get 403; the data stays."""
    refused = [
        request(endpoint + "/update", "POST", b"update=DROP+ALL",
                "application/x-www-form-urlencoded"),
        request(endpoint + "/query", "POST", b"update=DROP+ALL",
                "application/x-www-form-urlencoded"),
        request(endpoint + "/update", "POST", b"DROP ALL", "application/sparql-update"),
        request(endpoint + "/store?default", "PUT", b"<a:b> <a:c> <a:d> .",
                "application/n-triples"),
        request(endpoint + "/store?default", "POST", b"<a:b> <a:c> <a:d> .",
                "application/n-triples"),
        request(endpoint + "/store?default", "DELETE"),
    ]
    assert [status for status, _ in refused] == [403] * 6
    status, body = http_query(endpoint + "/query", "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")
    assert status == 200 and int(body.split()[1]) > 900


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }",
    ("SELECT (COUNT(*) AS ?n) WHERE { ?s (<http://e/p>|!<http://e/p>)* ?o . "
    "?x (<http://e/p>|!<http://e/p>)* ?y }"),
])
def test_query_timeout_holds(endpoint: str, query: str):
    """A cartesian join or a (<p>|!<p>)* path ends within the timeout, and the server answers
    the next query."""
    started = time.monotonic()
    status, body = http_query(endpoint + "/query", query)
    elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT + 8
    if status != 200:  # not streaming yet: refused; streaming: cut off at the deadline
        assert (status, body) == (503, f"the query did not finish within {TIMEOUT} s\n")
    assert http_query(endpoint + "/query", "ASK {}")[0] == 200


def test_huge_request_body_is_refused(endpoint: str):
    """A 200 MB POST is refused with 413 after at most a few MB are sent."""
    host, port = endpoint.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("POST", "/query")
    connection.putheader("Content-Type", "application/sparql-query")
    connection.putheader("Content-Length", str(200 << 20))
    connection.endheaders()
    sent = 0
    try:
        while sent < 200 << 20:
            connection.send(b"#" * (1 << 20))
            sent += 1 << 20
    except OSError:
        pass
    response = connection.getresponse()
    assert (response.status, response.read()) == (
        413, f"the request body is over {MAX_BODY} bytes\n".encode())
    assert sent < 50 << 20


def test_service_and_from_file_reach_neither_network_nor_disk(endpoint: str, tmp_path: Path):
    """SERVICE is refused before any connection is made; FROM <file:...> reads no file."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(3)
    hits: list[bytes] = []

    def accept() -> None:
        try:
            connection, _ = listener.accept()
            hits.append(connection.recv(100))
            connection.close()
        except OSError:
            pass

    thread = threading.Thread(target=accept)
    thread.start()
    port = listener.getsockname()[1]
    status, body = http_query(endpoint + "/query", f"SELECT * WHERE {{ SERVICE "
                              f"<http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}")
    thread.join()
    listener.close()
    assert (status, body, hits) == (
        403, "SERVICE is not allowed: this endpoint does not fetch other URLs\n", [])
    secret = tmp_path / "secret.ttl"
    secret.write_text("<http://secret.example/s> <http://secret.example/p> 1 .\n")
    for query in (f"SELECT * FROM <{secret.as_uri()}> WHERE {{ ?s ?p ?o }}",
                  f"SELECT * WHERE {{ GRAPH <{secret.as_uri()}> {{ ?s ?p ?o }} }}"):
        status, body = http_query(endpoint + "/query", query)
        assert status == 200 and "secret.example" not in body


def test_service_detection_ignores_strings_iris_and_names():
    """SERVICE counts as a keyword only outside strings, IRIs, comments and names."""
    assert uses_service("SELECT * { service <http://x/> { ?s ?p ?o } }")
    assert not uses_service('SELECT ?service { ?s ex:service "SERVICE" ; '
                            '<http://x/SERVICE> ?o } # SERVICE')
