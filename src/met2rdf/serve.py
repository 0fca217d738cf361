"""Serve the store as a read-only SPARQL 1.1 Protocol endpoint.

A snapshot of the store is taken when the endpoint starts, so a build may rewrite the store
meanwhile; restart to see the new graph.  Queries see the union of all named graphs.

The HTTP side (the guard) is this module's threaded server; queries run in a few worker
processes that each open the snapshot read-only with pyoxigraph and talk to the guard over a
pipe, so nothing but the guard can reach them: there is no port behind it.  The guard
passes on queries only (``GET /query`` or ``/``, ``POST /query``), takes the query from the
URL, a form body or a ``application/sparql-query`` body and hands the worker that text,
never the raw request; it refuses updates and Graph Store writes (403), bodies over
``MAX_BODY`` bytes (413) and queries that call ``SERVICE`` (403, found by tokenizing the
query).  The workers cannot open sockets at all (a seccomp filter on Linux), so a query
that slipped past the guard still reaches nothing.  A query gets ``timeout`` seconds to be
answered in full; past that it answers 503 (or the answer is cut) and that query's worker
is replaced, while the other workers go on.
"""

from __future__ import annotations

import ctypes
import errno
import html
import multiprocessing
import platform
import queue
import re
import struct
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .errors import StoreError
from .store import open_store

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7878
MAX_BODY = 1 << 20  # bytes of a POSTed query
WORKERS = 2
_CHUNK = 1 << 16
SERVICE_REFUSED = "SERVICE is not allowed: this endpoint does not fetch other URLs"

# -- finding SERVICE: a tokenizer of the SPARQL terminals that can hide a word -------------

_BASE = ("A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff"
         "\u200c-\u200d\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd"
         "\U00010000-\U000effff")
_CHARS = _BASE + "_\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_BLANKED = re.compile(
    r"'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''"                 # STRING_LITERAL_LONG1
    r'|"""(?:(?:"|"")?(?:[^"\\]|\\.))*"""'                # STRING_LITERAL_LONG2
    r"|'(?:[^'\\\n\r]|\\.)*'"                             # STRING_LITERAL1
    r'|"(?:[^"\\\n\r]|\\.)*"'                             # STRING_LITERAL2
    r"|#[^\n\r]*"                                         # a comment
    rf"|[?$][{_BASE}_0-9][{_CHARS}]*"                     # a variable
    rf"|:(?:[{_BASE}_0-9:]|{_PLX})(?:(?:[{_CHARS}.:]|{_PLX})*(?:[{_CHARS}:]|{_PLX}))?"
    r"|:",                                                # the local part of a name
    re.DOTALL)
_IRI = re.compile(r'<[^<>"{}|^`\\\x00-\x20]*>')
_WORD = re.compile(r"\w+")
_AFTER_OPERATOR = set("(,=!<>&|+-*/^")  # after these a `<` starts an IRI, not a comparison
_CLOSING = {")": "(", "]": "[", "}": "{"}


def uses_service(query: str) -> bool:
    """Whether a SPARQL query may call ``SERVICE`` (outside strings, IRIs, names, comments).

    ``<`` starts an IRI, or is less-than inside an expression; inside parentheses that may
    hold one (not a VALUES row, a collection or a path), after an operand, it is read both
    ways, and the query is refused if either reading has the keyword."""
    budget = 50 * len(query) + 10_000
    # a state: where, the open brackets ("(" may hold an expression, "t" holds terms only),
    # and what came last: "o" an operand, "t" the end of terms in "()", "{" a brace, "x" other
    todo: list[tuple[int, tuple[str, ...], str]] = [(0, (), "x")]
    seen: set[tuple[int, tuple[str, ...], str]] = set()
    while todo:
        state = todo.pop()
        if state in seen:
            continue
        seen.add(state)
        pos, stack, last = state
        while pos < len(query):
            budget -= 1
            if budget < 0:
                return True  # too tangled to be sure: refuse
            char = query[pos]
            if char.isspace():
                pos += 1
                continue
            if char == "<" and (iri := _IRI.match(query, pos)):
                if stack and stack[-1] == "(" and last in "ot":
                    inside = iri.group()[1:-1]
                    if "service" in inside.lower():
                        return True
                    # read as less-than: text that can reach past the ">" is read again
                    ahead = any(c in inside for c in "#'()[]")
                    todo.append((pos + 1, stack, "x") if ahead else (iri.end(), stack, "x"))
                pos, last = iri.end(), "o"
                continue
            if blanked := _BLANKED.match(query, pos):
                pos, last = blanked.end(), last if blanked.group()[0] == "#" else "o"
                continue
            if word := _WORD.match(query, pos):
                if "service" in word.group().lower():
                    return True
                pos, last = word.end(), "o"
                continue
            pos += 1
            if char == "(":
                terms = (stack and stack[-1] == "t") or last in "{t"
                stack, last = stack + ("t" if terms else "(",), "x"
            elif char in "[{":
                stack, last = stack + (char,), "{" if char == "{" else "x"
            elif char in _CLOSING and stack and _CLOSING[char] == stack[-1].replace("t", "("):
                stack, last = stack[:-1], "t" if stack[-1] == "t" else "o"
            else:
                last = "x" if char in _AFTER_OPERATOR else "o"
    return False


# -- the workers ----------------------------------------------------------------------------

def deny_network() -> bool:
    """Forbid this process to open any socket from now on; whether the system allows that.

    A seccomp filter (Linux on x86-64 or arm64) makes ``socket()`` and ``io_uring_setup()``
    fail with EACCES, so nothing run here can connect anywhere or resolve a name."""
    machine = {"x86_64": (0xC000003E, 41), "aarch64": (0xC00000B7, 198),
               "arm64": (0xC00000B7, 198)}.get(platform.machine())
    if not sys.platform.startswith("linux") or machine is None:
        return False
    arch, socket_call = machine
    load, equal, at_least, give = 0x20, 0x15, 0x35, 0x06
    allow, refuse = 0x7FFF0000, 0x00050000 | 13
    program = [(load, 0, 0, 4), (equal, 1, 0, arch), (give, 0, 0, refuse),
               (load, 0, 0, 0), (at_least, 3, 0, 0x40000000), (equal, 2, 0, socket_call),
               (equal, 1, 0, 425), (give, 0, 0, allow), (give, 0, 0, refuse)]
    code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *step) for step in program))

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        return False
    filter_program = Program(len(program), ctypes.addressof(code))
    return bool(libc.prctl(22, 2, ctypes.byref(filter_program), 0, 0) == 0)  # SECCOMP


class _Chunks:
    """A binary file that sends what is written to the guard, the head with the first chunk."""

    def __init__(self, connection: Connection, media_type: str) -> None:
        self.connection, self.media_type = connection, media_type
        self.buffer = bytearray()
        self.started = False

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) >= _CHUNK:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if not self.started:
            self.connection.send(("head", self.media_type, bytes(self.buffer)))
            self.started = True
        elif self.buffer:
            self.connection.send(("data", bytes(self.buffer)))
        self.buffer.clear()


def _work(connection: Connection, location: str) -> None:
    """Answer the guard's queries on the snapshot until the pipe closes."""
    sandboxed = deny_network()
    import pyoxigraph as ox

    store = ox.Store.read_only(location)
    connection.send(("ready", sandboxed))
    while True:
        try:
            query, default_graphs, named_graphs, accept = connection.recv()
        except EOFError:
            return
        out: _Chunks | None = None
        try:
            options: dict[str, Any] = {"use_default_graph_as_union": not default_graphs}
            if default_graphs:
                options["default_graph"] = [ox.NamedNode(g) for g in default_graphs]
            if named_graphs:
                options["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
            results = store.query(query, **options)
            if isinstance(results, ox.QueryTriples):
                graph_format = _negotiate(accept, _GRAPH_FORMATS, ox.RdfFormat.TURTLE)
                out = _Chunks(connection, graph_format.media_type)
                results.serialize(out, graph_format)
            else:
                result_format = _negotiate(accept, _RESULT_FORMATS, ox.QueryResultsFormat.JSON)
                out = _Chunks(connection, result_format.media_type)
                results.serialize(out, result_format)
            out.flush()
            connection.send(("end",))
        except SyntaxError as exc:
            connection.send(("error", 400, f"the query does not parse: {exc}"))
        except PermissionError:  # the sandbox stopped a connection
            _fail(connection, out, 403, SERVICE_REFUSED)
        except (ValueError, OSError, RuntimeError) as exc:
            _fail(connection, out, 400, f"the query failed: {exc}")


def _fail(connection: Connection, out: _Chunks | None, status: int, message: str) -> None:
    if out is not None and out.started:
        connection.send(("cut", message))
    else:
        connection.send(("error", status, message))


def _formats() -> tuple[dict[str, Any], dict[str, Any]]:
    import pyoxigraph as ox

    results: dict[str, Any] = {f.media_type.split(";")[0]: f for f in (
        ox.QueryResultsFormat.JSON, ox.QueryResultsFormat.XML, ox.QueryResultsFormat.CSV,
        ox.QueryResultsFormat.TSV)}
    results |= {"application/json": ox.QueryResultsFormat.JSON,
                "application/xml": ox.QueryResultsFormat.XML,
                "text/xml": ox.QueryResultsFormat.XML}
    graphs: dict[str, Any] = {f.media_type.split(";")[0]: f for f in (
        ox.RdfFormat.TURTLE, ox.RdfFormat.N_TRIPLES, ox.RdfFormat.RDF_XML, ox.RdfFormat.N3,
        ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG, ox.RdfFormat.JSON_LD)}
    graphs |= {"application/xml": ox.RdfFormat.RDF_XML, "text/plain": ox.RdfFormat.N_TRIPLES}
    return results, graphs


_RESULT_FORMATS, _GRAPH_FORMATS = _formats()


def _negotiate(accept: str, formats: dict[str, Any], default: Any) -> Any:
    """Return the format the Accept header prefers among ``formats``, else ``default``."""
    ranked = []
    for index, part in enumerate(accept.split(",")):
        media, *parameters = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for parameter in parameters:
            if parameter.startswith("q="):
                try:
                    weight = float(parameter[2:])
                except ValueError:
                    weight = 0.0
        if weight > 0:
            ranked.append((-weight, index, media.lower()))
    for _, _, media in sorted(ranked):
        if media in formats:
            return formats[media]
        if media.endswith("/*"):
            return default
    return default


class _Worker:
    def __init__(self, location: Path, wait: float) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_work, args=(child, str(location)), daemon=True)
        self.process.start()
        child.close()
        self.wait, self.sandboxed = wait, False

    def ready(self) -> None:
        message = self.receive(time.monotonic() + self.wait)
        if message is None or message[0] != "ready":
            self.kill()
            raise StoreError("the query worker did not start")
        self.sandboxed = bool(message[1])

    def receive(self, deadline: float) -> tuple[Any, ...] | None:
        """The worker's next message, or None when the deadline passes or the worker died."""
        try:
            if not self.connection.poll(max(0.0, deadline - time.monotonic())):
                return None
            message: tuple[Any, ...] = self.connection.recv()
            return message
        except (EOFError, OSError):
            return None

    def kill(self) -> None:
        self.process.kill()
        self.process.join(10)
        self.connection.close()


class _Pool:
    """Worker processes on the snapshot; one answers one query at a time."""

    def __init__(self, location: Path, size: int, wait: float) -> None:
        self.location, self.wait = location, wait
        self.idle: queue.Queue[_Worker] = queue.Queue()
        self.all: set[_Worker] = set()
        self.lock = threading.Lock()
        self.closed = False
        workers = [_Worker(location, wait) for _ in range(size)]
        self.all.update(workers)
        for worker in workers:
            worker.ready()
            self.idle.put(worker)
        self.sandboxed = all(worker.sandboxed for worker in workers)

    def take(self, deadline: float) -> _Worker | None:
        try:
            return self.idle.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None

    def give(self, worker: _Worker) -> None:
        self.idle.put(worker)

    def replace(self, worker: _Worker) -> None:
        """Kill a worker (a query past its time, a client gone) and start another."""
        worker.kill()
        with self.lock:
            self.all.discard(worker)
            if self.closed:
                return
        threading.Thread(target=self._add, daemon=True).start()

    def _add(self) -> None:
        try:
            worker = _Worker(self.location, self.wait)
            with self.lock:
                self.all.add(worker)
            worker.ready()
        except StoreError:
            return
        self.idle.put(worker)

    def close(self) -> None:
        with self.lock:
            self.closed = True
            workers = list(self.all)
        for worker in workers:
            worker.kill()


# -- the guard ------------------------------------------------------------------------------

_PAGE = """<!doctype html>
<meta charset="utf-8"><title>met2rdf SPARQL endpoint</title>
<h1>met2rdf SPARQL endpoint</h1>
<p>Read-only. Send queries to <code>/query</code> (SPARQL 1.1 Protocol).</p>
<form action="query" method="get">
<textarea name="query" rows="12" cols="90">{query}</textarea><br>
<button>Run</button></form>
"""
_EXAMPLE = "SELECT ?cancer ?site WHERE { ?cancer <https://w3id.org/met2rdf/vocab#spreadsTo> ?site }"


class _Guard(ThreadingHTTPServer):
    daemon_threads = True
    pool: _Pool  # set once the workers are up, before the guard serves

    def __init__(self, address: tuple[str, int], timeout: float) -> None:
        super().__init__(address, _Handler)
        self.query_timeout = timeout


class _Handler(BaseHTTPRequestHandler):
    server: _Guard
    server_version = "met2rdf"
    sys_version = ""

    def setup(self) -> None:
        self.timeout = self.server.query_timeout  # a body slower than that is dropped
        super().setup()

    def log_message(self, format: str, *args: object) -> None:
        """Keep the terminal quiet."""

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path not in ("/", "/query"):
            return self._refuse(404, "nothing here: queries go to /query")
        params = self._params(url.query)
        if params is None:
            return None
        if url.path == "/" and not params:
            return self._page()
        return self._answer(params)

    def do_POST(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/query":
            return self._refuse(403, "this endpoint is read-only: only queries, at /query")
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            return self._refuse(411, "a POST needs a Content-Length")
        if int(length) > MAX_BODY:
            return self._refuse(413, f"the request body is over {MAX_BODY} bytes")
        try:
            body = self.rfile.read(int(length))
        except TimeoutError:
            return self._refuse(408, "the request body did not arrive in time")
        if len(body) < int(length):
            return self._refuse(400, "the request body is shorter than its Content-Length")
        params = self._params(url.query)
        if params is None:
            return None
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if kind == "application/sparql-update":
            return self._refuse(403, "this endpoint is read-only: updates are refused")
        if kind == "application/sparql-query":
            try:
                params.setdefault("query", []).append(body.decode("utf-8"))
            except UnicodeDecodeError:
                return self._refuse(400, "the query is not UTF-8")
        elif kind in ("application/x-www-form-urlencoded", ""):
            form = self._params(body.decode("latin-1"))
            if form is None:
                return None
            for key, values in form.items():
                params.setdefault(key, []).extend(values)
        else:
            return self._refuse(415, "send a query as application/sparql-query or as a form")
        return self._answer(params)

    def _refuse_write(self) -> None:
        self._refuse(403, "this endpoint is read-only")

    do_PUT = do_DELETE = do_PATCH = _refuse_write

    def _params(self, text: str) -> dict[str, list[str]] | None:
        try:
            return urllib.parse.parse_qs(text, keep_blank_values=True, errors="strict")
        except ValueError:
            self._refuse(400, "the parameters are not UTF-8")
            return None

    def _page(self) -> None:
        data = _PAGE.format(query=html.escape(_EXAMPLE)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Security-Policy", "default-src 'none'; form-action 'self'")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _refuse(self, status: int, message: str) -> None:
        data = (message + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def _answer(self, params: dict[str, list[str]]) -> None:
        if {"update", "using-graph-uri", "using-named-graph-uri"} & params.keys():
            return self._refuse(403, "this endpoint is read-only: updates are refused")
        queries = params.get("query", [])
        if len(queries) != 1:
            return self._refuse(400, "give one query (a query parameter or a "
                                     "application/sparql-query body)")
        if uses_service(queries[0]):
            return self._refuse(403, SERVICE_REFUSED)
        job = (queries[0], params.get("default-graph-uri", []),
               params.get("named-graph-uri", []), self.headers.get("Accept") or "*/*")
        pool = self.server.pool
        limit = self.server.query_timeout
        deadline = time.monotonic() + limit
        worker = pool.take(deadline)
        if worker is None:
            return self._refuse(503, f"every worker is busy; no answer within {limit:g} s")
        try:
            worker.connection.send(job)
        except OSError:
            pool.replace(worker)
            return self._refuse(503, "the query worker went away; try again")
        message = worker.receive(deadline)
        if message is None:
            alive = worker.process.is_alive()
            pool.replace(worker)
            if not alive:
                return self._refuse(502, "the query worker stopped (out of memory?); try again")
            return self._refuse(503, f"the query did not finish within {limit:g} s")
        if message[0] == "error":
            pool.give(worker)
            return self._refuse(message[1], message[2])
        self._stream(worker, message, deadline)

    def _stream(self, worker: _Worker, head: tuple[Any, ...], deadline: float) -> None:
        pool = self.server.pool
        self.send_response(200)
        self.send_header("Content-Type", head[1])
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            self.wfile.write(head[2])
            while (message := worker.receive(deadline)) is not None:
                if message[0] == "data":
                    self.wfile.write(message[1])
                else:  # "end", or "cut": an error after the answer started
                    pool.give(worker)
                    return
        except OSError:
            pass  # the client went away; the worker may still be writing
        pool.replace(worker)  # past the deadline: the answer is cut where it stands


class Endpoint:
    """A running endpoint: the guard that clients reach, and the workers behind it."""

    def __init__(self, guard: _Guard, pool: _Pool, thread: threading.Thread) -> None:
        self.guard, self.pool, self.thread = guard, pool, thread

    @property
    def sandboxed(self) -> bool:
        """Whether the workers are barred from the network (seccomp, Linux only)."""
        return self.pool.sandboxed

    def wait(self) -> None:
        """Block until the endpoint stops (Ctrl-C or SIGTERM)."""
        while self.thread.is_alive():
            self.thread.join(0.5)


@contextmanager
def serve_store(store: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                timeout: float = 30.0, wait: float = 15.0,
                workers: int = WORKERS) -> Iterator[Endpoint]:
    """Run a read-only SPARQL endpoint on a snapshot of the store until the block ends."""
    with tempfile.TemporaryDirectory(prefix="met2rdf-serve-") as tmp:
        snapshot = Path(tmp) / "store"
        source = open_store(store)
        try:
            source.backup(str(snapshot))
        finally:
            del source  # closes the store and frees its lock
        try:
            guard = _Guard((host, port), timeout)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise StoreError(f"{host}:{port}: something already listens there; "
                                 "use another --port") from exc
            raise StoreError(f"{host}:{port}: cannot listen there: {exc.strerror}") from exc
        try:
            pool = _Pool(snapshot, workers, wait)
            try:
                guard.pool = pool
                thread = threading.Thread(target=guard.serve_forever, daemon=True)
                thread.start()
                try:
                    yield Endpoint(guard, pool, thread)
                finally:
                    guard.shutdown()
            finally:
                pool.close()
        finally:
            guard.server_close()
