"""met2rdf serve: a real read-only SPARQL endpoint, asked with a real HTTP client."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from stores import EXAMPLE_VAULT, free_port, http_query, met2rdf, wait_listening

SPREAD = ("PREFIX met: <https://w3id.org/met2rdf/vocab#> SELECT ?site WHERE { "
          "<https://w3id.org/met2rdf/concept/prostate-cancer> met:spreadsTo ?site }")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    """Build the example vault and run met2rdf serve on it with the default host."""
    out = tmp_path_factory.mktemp("out")
    assert met2rdf("build", str(EXAMPLE_VAULT), "--out", str(out), "-q").returncode == 0
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "met2rdf", "serve", "--store",
                                str(out / "store"), "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_listening(port, process)
        assert process.stdout is not None
        yield process.stdout.readline(), port, out
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def test_stopping_serve_stops_the_server(tmp_path: Path):
    """SIGTERM or Ctrl-C to met2rdf serve stops the Oxigraph server under it too."""
    assert met2rdf("build", str(EXAMPLE_VAULT), "--out", str(tmp_path), "-q").returncode == 0
    for stop in (signal.SIGTERM, signal.SIGINT):
        port = free_port()
        process = subprocess.Popen([sys.executable, "-m", "met2rdf", "serve", "--store",
                                    str(tmp_path / "store"), "--port", str(port)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wait_listening(port, process)
        process.send_signal(stop)
        assert process.wait(timeout=15) == 0
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_select_works_over_http(served: tuple[str, int, Path]):
    """A SELECT posted with the SPARQL 1.1 Protocol answers from the store."""
    _, port, _ = served
    status, body = http_query(f"http://127.0.0.1:{port}/query", SPREAD)
    assert status == 200
    assert body.split() == ["site", "https://w3id.org/met2rdf/concept/bone"]


def test_get_query_and_json_results(served: tuple[str, int, Path]):
    """A GET ?query= request gets SPARQL JSON results, as YASGUI and SPARQLWrapper ask."""
    _, port, _ = served
    url = f"http://127.0.0.1:{port}/query?" + urllib.parse.urlencode({"query": SPREAD})
    request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers.get_content_type() == "application/sparql-results+json"
        assert b"concept/bone" in response.read()


def test_update_is_refused(served: tuple[str, int, Path]):
    """An UPDATE and a Graph Store PUT are refused and the data stays."""
    _, port, _ = served
    body = urllib.parse.urlencode({"update": "DROP ALL"}).encode()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/update", data=body, timeout=30)
    assert refused.value.code in (403, 405)
    put = urllib.request.Request(f"http://127.0.0.1:{port}/store?default", method="PUT",
                                 data=b"", headers={"Content-Type": "application/n-triples"})
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(put, timeout=30)
    _, answer = http_query(f"http://127.0.0.1:{port}/query", SPREAD)
    assert "concept/bone" in answer


def test_default_bind_is_loopback(served: tuple[str, int, Path]):
    """With no --host the endpoint is announced and listens on 127.0.0.1 only."""
    banner, port, _ = served
    assert f"http://127.0.0.1:{port}/query" in banner
    tcp = Path("/proc/net/tcp")
    if not tcp.exists():
        pytest.skip("no /proc/net/tcp to read listening sockets from")
    listening = {line.split()[1] for line in tcp.read_text().splitlines()[1:]
                 if line.split()[3] == "0A"}
    assert f"0100007F:{port:04X}" in listening
    assert f"00000000:{port:04X}" not in listening


def test_build_while_serving(served: tuple[str, int, Path]):
    """The server reads a snapshot, so a build can rewrite the store meanwhile."""
    _, port, out = served
    run = met2rdf("build", str(EXAMPLE_VAULT), "--out", str(out), "-q")
    assert run.returncode == 0, run.stderr
    status, _ = http_query(f"http://127.0.0.1:{port}/query", SPREAD)
    assert status == 200


def test_serve_on_a_busy_port_fails_clearly(served: tuple[str, int, Path]):
    """A port something already listens on is reported, not silently shared."""
    _, port, out = served
    run = met2rdf("serve", "--store", str(out / "store"), "--port", str(port), timeout=30)
    assert run.returncode == 1 and "already listens" in run.stderr
