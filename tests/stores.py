"""Helpers for the store tests: stores built from vaults, and real Oxigraph servers."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import HTTPServer
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox
from conftest import FIXTURES, REPO

from met2rdf.build import build_vault
from met2rdf.result import BuildResult, NamedGraph
from met2rdf.store import replace_graphs
from met2rdf.vocab import MET, load_vocabulary

EXAMPLE_VAULT = REPO / "examples" / "vault"
OWN_VAULT = FIXTURES / "ask" / "vault"
OWN_VOCAB = FIXTURES / "ask" / "vocab.ttl"


def build(vault: Path) -> BuildResult:
    """Build a vault (the test vault with its own extra vocabulary)."""
    vocab = [OWN_VOCAB] if vault.resolve().is_relative_to(OWN_VAULT.parent) else []
    return build_vault(vault, load_vocabulary(vocab))


def store_of(vault: Path) -> ox.Store:
    """Return an in-memory store holding a vault's graph in the build's layout."""
    store = ox.Store()
    replace_graphs(store, build(vault).graphs)
    return store


def note_links(graph: NamedGraph) -> list[tuple[str, str]]:
    """The links of one note's graph: ("linksTo", "<note IRI>") for a resolved one,
    ("unresolvedLink", "target@line,line") for one to no note."""
    by = {}
    for t in graph.triples:
        by.setdefault(t.subject.value, []).append(t)
    found = []
    for t in graph.triples:
        if t.predicate.value == MET + "linksTo":
            found.append(("linksTo", str(t.object)))
        elif t.predicate.value == MET + "unresolvedLink":
            node = by[t.object.value]
            target = next(x.object.value for x in node if x.predicate.value == MET + "target")
            lines = sorted(int(x.object.value) for x in node if x.predicate.value == MET + "line")
            found.append(("unresolvedLink", f"{target}@{','.join(map(str, lines))}"))
    return sorted(found)


def met2rdf(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real met2rdf command."""
    return subprocess.run([sys.executable, "-m", "met2rdf", *args], capture_output=True,
                          text=True, check=False, timeout=timeout)


def build_and_report(vault: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """Build a vault into ``out`` and report its store to ``out/report.html``, with the real
    commands; return the report command's outcome."""
    assert met2rdf("build", str(vault), "--out", str(out), "-q").returncode == 0
    return met2rdf("report", "--store", str(out / "store"), "--out", str(out / "report.html"))


@contextmanager
def held_store(location: Path) -> Iterator[None]:
    """Hold the store at ``location`` open in another process until the block ends."""
    hold = ("import sys, pyoxigraph; s = pyoxigraph.Store(sys.argv[1]); "
            "print('open', flush=True); sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(location)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        yield
    finally:
        holder.communicate("", timeout=10)


def read_terminal(main: int) -> bytes:
    """Read what a child wrote to a pseudo-terminal (``main``, its other end closed here)
    until it closes it."""
    said = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        said += chunk
    os.close(main)
    return said


def store_locked(location: Path) -> bool:
    """Whether a process holds the store at ``location`` (its LOCK file in /proc/locks,
    read without taking the lock)."""
    try:
        inode = (location / "LOCK").stat().st_ino
        locks = Path("/proc/locks").read_text()
    except OSError:
        return False
    return any(field.endswith(f":{inode}") for line in locks.splitlines()
               for field in line.split())


def generate_vault(folder: Path, notes: int) -> Path:
    """Write a synthetic vault of ``notes`` notes (benchmarks/generate.py, seed 7)."""
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "generate.py"), str(folder),
                    "--notes", str(notes), "--seed", "7"], check=True, capture_output=True)
    return folder


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def oxigraph() -> str:
    """Return the oxigraph server executable (the test extra installs it)."""
    beside = Path(sys.executable).parent / "oxigraph"
    found = str(beside) if beside.is_file() else shutil.which("oxigraph")
    assert found, "the oxigraph server is missing: pip install -e '.[test]'"
    return found


def wait_listening(port: int, process: subprocess.Popen[bytes], seconds: float = 15) -> None:
    """Wait, a bounded time, until something accepts connections on the port."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


def stop(process: subprocess.Popen[bytes], grace: float = 10) -> None:
    """End a server a test started: ask it to stop, and kill it if it does not in time."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def oxigraph_server(location: Path, port: int | None = None
                    ) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run ``oxigraph serve`` (read-write) on 127.0.0.1; yield its base URL and process."""
    port = port or free_port()
    process = subprocess.Popen([oxigraph(), "serve", "--location", str(location), "--bind",
                                f"127.0.0.1:{port}", "--union-default-graph"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, process)
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.kill()
        process.wait(timeout=10)


def http_query(url: str, sparql: str, accept: str = "text/csv") -> tuple[int, str]:
    """POST a query with the SPARQL 1.1 Protocol; return the status and the body."""
    body = urllib.parse.urlencode({"query": sparql}).encode()
    request = urllib.request.Request(url, data=body, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


Server = TypeVar("Server", bound=HTTPServer)


@contextmanager
def serving(server: Server) -> Iterator[Server]:
    """Serve an HTTP test double (bound to 127.0.0.1) from a thread until the block ends."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
