"""Hardening, broken servers: a cut-off body, a garbage status line or a manifest that is not
N-Triples is a message, never a traceback (issue 15)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from stores import EXAMPLE_VAULT, met2rdf

ANSWERS = {
    "cut-off": b"HTTP/1.1 200 OK\r\nContent-Type: application/n-triples\r\n"
               b"Content-Length: 100\r\n\r\n<a:b> <a:c",
    "garbage": b"HELLO THERE\r\n\r\n",
    "not-n-triples": b"HTTP/1.1 200 OK\r\nContent-Type: application/n-triples\r\n"
                     b"Content-Length: 21\r\n\r\nthis is not n-triples",
    "cut-off-results": b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                       b"Content-Length: 1000\r\n\r\n"
                       b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"uri",'
                       b'"value":"http://a/"}},',
}


@contextmanager
def broken(answer: bytes) -> Iterator[int]:
    """A server on 127.0.0.1 that answers every request with the same bytes; its port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            with connection:
                connection.settimeout(5)
                try:
                    connection.recv(1 << 16)
                    connection.sendall(answer)
                except OSError:
                    pass

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(5)
        listener.close()


@pytest.mark.parametrize(("answer", "said"), [
    ("cut-off", "sent a broken answer (a cut-off body)"),
    ("garbage", "sent a broken answer (not HTTP: HELLO THERE)"),
    ("not-n-triples", "the answer is not N-Triples"),
])
def test_push_to_a_broken_server_is_a_message(answer: str, said: str):
    """push exits 1 with a message when the server's answers are broken."""
    with broken(ANSWERS[answer]) as port:
        run = met2rdf("push", str(EXAMPLE_VAULT), "--endpoint",
                      f"http://127.0.0.1:{port}/store", "--retries", "1")
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 1 and said in run.stderr


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_a_service_that_fails_half_way_is_a_message(tmp_path: Path, fmt: str):
    """query --data with a SERVICE whose answer is cut off exits 1 with a message."""
    data = tmp_path / "d.nt"
    data.write_text('<http://a/s> <http://a/p> "o" .\n')
    with broken(ANSWERS["cut-off-results"]) as port:
        run = met2rdf("query", f"SELECT * {{ SERVICE <http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}",
                      "--data", str(data), "--format", fmt)
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 1
    assert "the query failed while its answers were read" in run.stderr
