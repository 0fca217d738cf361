"""Serve the store as a read-only SPARQL 1.1 Protocol endpoint with the Oxigraph server.

The Oxigraph server (``oxigraph serve-read-only``, from the ``oxigraph`` package) reads a
snapshot of the store taken when it starts, so a build may rewrite the store meanwhile;
restart to see the new graph.  Queries see the union of all named graphs.

Oxigraph listens on a private loopback port behind a small guard, which is what clients
reach.  The guard passes on queries only (``GET`` anywhere, ``POST /query``), refuses
updates and Graph Store writes (403), request bodies over ``MAX_BODY`` bytes (413) and
queries that use ``SERVICE`` (403: the server would fetch other URLs); it gives each request
``timeout`` seconds to be answered in full, after which it answers 503 (or cuts the
response) and restarts Oxigraph, since Oxigraph's own timeout does not stop a query that
is still computing.
"""

from __future__ import annotations

import http.client
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .errors import StoreError
from .store import open_store

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7878
MAX_BODY = 1 << 20  # bytes of a POSTed query
_CHUNK = 1 << 16
# what cannot hide the keyword: strings, IRIs and comments, removed before looking for it
_INERT = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
                    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*')
_SERVICE = re.compile(r"(?<![?$\w:])SERVICE\b", re.IGNORECASE)


def find_oxigraph() -> str:
    """Return the path of the ``oxigraph`` server executable."""
    beside = Path(sys.executable).parent / "oxigraph"
    found = str(beside) if beside.is_file() else shutil.which("oxigraph")
    if found is None:
        raise StoreError("the oxigraph server is not installed; "
                         "install it with: pip install 'met2rdf[serve]'")
    return found


def serve_command(location: Path, host: str, port: int, timeout: float) -> list[str]:
    """Return the command line of a read-only Oxigraph server on a store folder."""
    return [find_oxigraph(), "serve-read-only", "--location", str(location),
            "--bind", f"{host}:{port}", "--union-default-graph",
            "--timeout-s", str(max(1, round(timeout)))]


def uses_service(query: str) -> bool:
    """Whether a SPARQL query has a ``SERVICE`` clause (outside strings, IRIs, comments)."""
    return _SERVICE.search(_INERT.sub(" ", query)) is not None


class _Backend:
    """The Oxigraph process on a private loopback port; restarted to stop a runaway query."""

    def __init__(self, location: Path, timeout: float, wait: float, log: Path) -> None:
        self.location, self.timeout, self.wait, self.log = location, timeout, wait, log
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.lock = threading.Lock()

    def start(self) -> None:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                serve_command(self.location, "127.0.0.1", self.port, self.timeout),
                stdout=output, stderr=subprocess.STDOUT)
        _wait_until_listening(self.process, "127.0.0.1", self.port, self.wait, self.log)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def restart(self, process: subprocess.Popen[bytes] | None) -> None:
        """Restart the server, unless another request already replaced ``process``."""
        with self.lock:
            if self.process is process:
                if process is not None:
                    process.kill()
                    process.wait()
                self.start()


class _Guard(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], backend: _Backend, timeout: float) -> None:
        super().__init__(address, _Handler)
        self.backend = backend
        self.query_timeout = timeout


class _Handler(BaseHTTPRequestHandler):
    server: _Guard
    server_version = "met2rdf"

    def log_message(self, format: str, *args: object) -> None:
        """Keep the terminal quiet."""

    def do_GET(self) -> None:
        params = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        self._forward(None, params.get("query", []), "update" in params)

    def do_POST(self) -> None:
        if urllib.parse.urlsplit(self.path).path != "/query":
            return self._refuse(403, "this endpoint is read-only: only queries, at /query")
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            return self._refuse(411, "a POST needs a Content-Length")
        if int(length) > MAX_BODY:
            return self._refuse(413, f"the request body is over {MAX_BODY} bytes")
        body = self.rfile.read(int(length))
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if kind == "application/sparql-query":
            queries, update = [body.decode("utf-8", "replace")], False
        else:
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            queries, update = form.get("query", []), "update" in form
        self._forward(body, queries, update)

    def _refuse_write(self) -> None:
        self._refuse(403, "this endpoint is read-only")

    do_PUT = do_DELETE = do_PATCH = _refuse_write

    def _refuse(self, status: int, message: str) -> None:
        data = (message + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def _forward(self, body: bytes | None, queries: list[str], update: bool) -> None:
        if update:
            return self._refuse(403, "this endpoint is read-only: updates are refused")
        if any(uses_service(q) for q in queries):
            return self._refuse(403, "SERVICE is not allowed: this endpoint does not fetch "
                                     "other URLs")
        backend = self.server.backend
        process = backend.process
        deadline = time.monotonic() + self.server.query_timeout
        connection = http.client.HTTPConnection("127.0.0.1", backend.port,
                                                timeout=self.server.query_timeout)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() in ("accept", "content-type", "content-length")}
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
        except TimeoutError:
            backend.restart(process)
            return self._refuse(503, f"the query did not finish within "
                                     f"{self.server.query_timeout:g} s")
        except OSError as exc:
            return self._refuse(502, f"the SPARQL server is not answering: {exc}")
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() in ("content-type", "content-length", "vary"):
                self.send_header(key, value)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            while chunk := response.read(_CHUNK):
                self.wfile.write(chunk)
                if time.monotonic() > deadline:
                    backend.restart(process)  # the answer is cut off where it stands
                    break
        except TimeoutError:
            backend.restart(process)
        except OSError:
            pass  # the client went away
        finally:
            connection.close()


class Endpoint:
    """A running endpoint: the guard that clients reach, and Oxigraph behind it."""

    def __init__(self, guard: _Guard, backend: _Backend, thread: threading.Thread) -> None:
        self.guard, self.backend, self.thread = guard, backend, thread

    def wait(self) -> None:
        """Block until the endpoint stops (Ctrl-C or SIGTERM)."""
        while self.thread.is_alive():
            self.thread.join(0.5)


@contextmanager
def serve_store(store: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                timeout: float = 30.0, wait: float = 15.0) -> Iterator[Endpoint]:
    """Run a read-only SPARQL endpoint on a snapshot of the store until the block ends."""
    if _listening(host, port):
        raise StoreError(f"{host}:{port}: something already listens there; use another --port")
    with tempfile.TemporaryDirectory(prefix="met2rdf-serve-") as tmp:
        snapshot = Path(tmp) / "store"
        source = open_store(store)
        try:
            source.backup(str(snapshot))
        finally:
            del source  # closes the store and frees its lock
        backend = _Backend(snapshot, timeout, wait, Path(tmp) / "server.log")
        try:
            backend.start()
            try:
                guard = _Guard((host, port), backend, timeout)
            except OSError as exc:
                raise StoreError(f"{host}:{port}: cannot listen there: {exc.strerror}") from exc
            thread = threading.Thread(target=guard.serve_forever, daemon=True)
            thread.start()
            try:
                yield Endpoint(guard, backend, thread)
            finally:
                guard.shutdown()
                guard.server_close()
        finally:
            backend.stop()


def _wait_until_listening(process: subprocess.Popen[bytes], host: str, port: int,
                          wait: float, log: Path) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = log.read_text(errors="replace").strip().splitlines()
            raise StoreError(f"{host}:{port}: the server stopped at once: "
                             f"{said[-1] if said else f'exit code {process.returncode}'}")
        if _listening(host, port):
            return
        time.sleep(0.05)
    raise StoreError(f"{host}:{port}: the server did not start listening within {wait:.0f} s")


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
