"""Hardening, server side: nothing sent to met2rdf serve makes it reach out, and nothing but
its guard can reach the SPARQL engine behind it (issue 15)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from stores import EXAMPLE_VAULT, free_port, met2rdf, wait_listening

from met2rdf.serve import uses_service


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections made to it."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.socket.settimeout(0.2)
        self.port = int(self.socket.getsockname()[1])
        self.connections = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self.socket.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(5)
        self.socket.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """met2rdf serve on the example vault."""
    out = tmp_path_factory.mktemp("out")
    assert met2rdf("build", str(EXAMPLE_VAULT), "--out", str(out), "-q").returncode == 0
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "met2rdf", "serve", "--store",
                                str(out / "store"), "--port", str(port), "--timeout", "5"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, process)
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


@pytest.fixture()
def listener() -> Iterator[Listener]:
    """A listener that a query could try to reach."""
    listening = Listener()
    try:
        yield listening
    finally:
        listening.close()


def send(method: str, url: str, body: bytes | None = None,
         kind: str | None = None) -> tuple[int, str]:
    headers = {"Accept": "text/csv"}
    if kind:
        headers["Content-Type"] = kind
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def services(port: int) -> list[str]:
    """SERVICE calls to a port on this machine, in the spellings a parser accepts."""
    target = f"<http://127.0.0.1:{port}/sparql>"
    return [
        f"SELECT * WHERE {{ SERVICE {target} {{ ?s ?p ?o }} }}",
        f"select * where {{ sErViCe\t{target}{{?s ?p ?o}} }}",
        f"SELECT * WHERE {{ SERVICE# a comment\n{target} {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT {target} {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE{target}{{?s ?p ?o}} }}",
        f"PREFIX : <http://127.0.0.1:{port}/> SELECT * WHERE {{ SERVICE:sparql {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ BIND({target} AS ?u) SERVICE ?u {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ FILTER(1<2) SERVICE {target} {{ ?s ?p ?o }} }}",
        f"ASK {{ ?s ?p ?o FILTER EXISTS {{ SERVICE {target} {{ ?s ?p ?o }} }} }}",
    ]


@pytest.mark.parametrize("channel", ["get", "post-url", "post-form", "post-body",
                                     "post-url-and-form"])
def test_service_is_refused_however_the_query_arrives(
        served: tuple[str, subprocess.Popen[bytes]], listener: Listener, channel: str):
    """SERVICE in the URL of a GET or a POST, a form body or a sparql-query body, in any case,
    spacing or with comments, is refused and no connection is opened."""
    endpoint, _ = served
    for query in services(listener.port):
        encoded = urllib.parse.urlencode({"query": query})
        if channel == "get":
            answer = send("GET", f"{endpoint}/query?{encoded}")
        elif channel == "post-url":
            answer = send("POST", f"{endpoint}/query?{encoded}", b"",
                          "application/x-www-form-urlencoded")
        elif channel == "post-form":
            answer = send("POST", f"{endpoint}/query", encoded.encode(),
                          "application/x-www-form-urlencoded")
        elif channel == "post-body":
            answer = send("POST", f"{endpoint}/query", query.encode(),
                          "application/sparql-query")
        else:
            harmless = urllib.parse.urlencode({"query": "ASK {}"})
            answer = send("POST", f"{endpoint}/query?{encoded}", harmless.encode(),
                          "application/x-www-form-urlencoded")
        assert answer[0] in (400, 403), (query, answer)
    assert listener.connections == 0


def test_the_engine_cannot_reach_out_even_past_the_guard(listener: Listener):
    """The query engine's processes are sandboxed: a SERVICE the guard did not see fails
    without opening a connection."""
    if sys.platform != "linux":
        pytest.skip("the network sandbox is Linux's seccomp")
    code = ("import sys, pyoxigraph; from met2rdf.serve import deny_network; "
            "assert deny_network(); "
            "q = 'SELECT * WHERE { SERVICE <http://127.0.0.1:%s/sparql> { ?s ?p ?o } }'; "
            "list(pyoxigraph.Store().query(q % sys.argv[1]))")
    run = subprocess.run([sys.executable, "-c", code, str(listener.port)],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 1 and "Permission denied" in run.stderr, run.stderr
    assert listener.connections == 0


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _tree(pid: int) -> list[int]:
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            pids.extend(_tree(int(child)))
    return pids


def test_only_the_guard_listens(served: tuple[str, subprocess.Popen[bytes]]):
    """met2rdf serve and every process under it listen on one TCP port: the guard's."""
    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc to read sockets from")
    endpoint, process = served
    assert send("GET", endpoint + "/query?" + urllib.parse.urlencode({"query": "ASK {}"}))[0] \
        == 200
    inodes = set().union(*(_socket_inodes(pid) for pid in _tree(process.pid)))
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                listening.add(int(fields[1].split(":")[1], 16))
    assert listening == {int(endpoint.rsplit(":", 1)[1])}


def test_answers_name_no_other_port(served: tuple[str, subprocess.Popen[bytes]]):
    """Answers and refusals name no address or port but the endpoint's own."""
    endpoint, _ = served
    port = endpoint.rsplit(":", 1)[1]
    for method, path, body in (("GET", "/query?query=SELEC", None),
                               ("GET", "/query?query=ASK%7B%7D", None),
                               ("POST", "/query", b"query=ASK+%7B%7D"),
                               ("GET", "/", None), ("GET", "/nothing", None)):
        request = urllib.request.Request(endpoint + path, data=body, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                said = str(response.headers) + response.read().decode()
        except urllib.error.HTTPError as exc:
            said = str(exc.headers) + exc.read().decode()
        assert set(re.findall(r"(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)", said)) <= {port}


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { ?s ?p ?o FILTER(?a<?b&&'>'=\"x\") SERVICE <http://e/> { ?s ?p ?o } }",
    "SELECT * WHERE { FILTER(?a<?b#>\n) SERVICE <http://e/> { ?s ?p ?o } }",
    "SELECT * WHERE { FILTER(?a<?b)SERVICE?u#>\n{ ?s ?p ?o } }",
    "SELECT * WHERE { ?s ex:a\\#b ?o . SERVICE <http://e/> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ex:a\\'b ?o . SERVICE <http://e/> { ?s ?p ?o } } #'",
    "SELECT * WHERE { ?s ?p '''a\\''' . SERVICE <http://e/> {} }",
    "PREFIX service: <http://e/> SELECT * WHERE { service:x {} }",
    "SELECT * WHERE { ServiceSilent <http://e/> {} }",
])
def test_service_detection_is_not_fooled_by_lookalike_tokens(query: str):
    """SERVICE is found where a tokenizer that took an operator for an IRI, or an escape for a
    quote or a comment, would miss it."""
    assert uses_service(query)


@pytest.mark.parametrize("query", [
    'SELECT ?service { ?s ex:service "SERVICE" ; <http://x/SERVICE> ?o } # SERVICE',
    "PREFIX sd: <http://www.w3.org/ns/sparql-service-description#> SELECT * { ?s a sd:Service }",
    "SELECT * { ?s ?p ?o FILTER(?p = <http://x/service#a>) }",
    "SELECT * { VALUES (?a ?b) { (<http://x#a> <http://x#b>) } ?a ?p ?b }",
    "SELECT * { ?s ?p 'a service' , \"\"\"SERVICE\n\"\"\" , _:service }",
])
def test_service_detection_lets_names_strings_and_iris_be(query: str):
    """The word inside strings, IRIs, names, comments and blank nodes is not a SERVICE call."""
    assert not uses_service(query)


def test_a_slow_query_or_body_stops_no_other_query(served: tuple[str, subprocess.Popen[bytes]]):
    """While one query runs out its time and one client never finishes its body, other
    queries are answered."""
    endpoint, _ = served
    host, port = endpoint.removeprefix("http://").split(":")
    stalled = socket.create_connection((host, int(port)), timeout=30)
    stalled.sendall(b"POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query"
                    b"\r\nContent-Length: 100\r\n\r\nASK")
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    answers: list[tuple[int, str]] = []
    thread = threading.Thread(target=lambda: answers.append(
        send("GET", endpoint + "/query?" + urllib.parse.urlencode({"query": slow}))))
    thread.start()
    try:
        time.sleep(0.5)
        for _ in range(3):
            started = time.monotonic()
            status, _ = send("GET", endpoint + "/query?query=ASK%7B%7D")
            assert status == 200 and time.monotonic() - started < 3
    finally:
        thread.join(30)
        stalled.close()
    assert answers[0][0] == 503


def test_service_detection_stays_fast_on_big_queries():
    """2,000 VALUES rows and 2,000 filters of fragment IRIs are read in well under a second,
    and not refused."""
    rows = "\n".join(f"(<http://x/a#{i}> <http://x/b#{i}>)" for i in range(2000))
    filters = "\n".join(f"FILTER(?a = <http://x/a#{i}> || ?b < <http://x/b#{i}>)"
                        for i in range(2000))
    started = time.monotonic()
    assert not uses_service(f"SELECT * {{ VALUES (?a ?b) {{\n{rows}\n}} ?a ?p ?b\n{filters} }}")
    assert time.monotonic() - started < 1
