"""Push named graphs to any SPARQL 1.1 Graph Store HTTP Protocol endpoint.

Each graph is sent with PUT (``?graph=IRI``), so a rerun replaces instead of duplicating.
The server keeps a list of what was pushed in its own graph, ``MANIFEST_GRAPH``
(``<manifest> dcterms:hasPart <graph>``); graphs listed there that the vault no longer
has are deleted.  The order keeps the server consistent when a push stops half-way:

1. read the manifest;
2. write the manifest as old + new graphs (so a graph is listed before it exists);
3. PUT every graph;
4. DELETE the graphs of notes that are gone;
5. write the manifest as the new graphs (only when everything above succeeded).
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from .build import NamedGraph
from .errors import EndpointError, RefusedError, StoreError
from .graph import PREFIXES, sort_key
from .iris import BASE, NOTE_BASE
from .query import basic_credentials, redact, split_endpoint

MANIFEST_GRAPH = BASE + "graph/manifest"
_HAS_PART = "http://purl.org/dc/terms/hasPart"
_TRANSIENT = {408, 429, 500, 502, 503, 504}
_IDEMPOTENT = {"GET", "PUT", "DELETE"}  # the only requests tried again


@dataclass(frozen=True, slots=True)
class GraphOutcome:
    """What happened to one graph: ``put`` or ``delete``, and how it ended."""

    graph: str
    action: str
    ok: bool
    message: str = ""

    def __str__(self) -> str:
        status = "ok" if self.ok else f"FAILED: {self.message}"
        return f"{self.action} <{self.graph}>: {status}"


@dataclass(frozen=True, slots=True)
class PushReport:
    """One outcome per graph written or deleted."""

    outcomes: tuple[GraphOutcome, ...]

    @property
    def failed(self) -> tuple[GraphOutcome, ...]:
        """Return the outcomes that did not succeed."""
        return tuple(o for o in self.outcomes if not o.ok)


class _TransferError(Exception):
    """One request failed; ``transient`` tells whether trying again may help."""

    def __init__(self, message: str, transient: bool, reachable: bool = True) -> None:
        super().__init__(message)
        self.transient = transient
        self.reachable = reachable


class GraphStore:
    """A client of one Graph Store Protocol endpoint, with credentials and bounded retries."""

    def __init__(self, endpoint: str, user: str | None = None, password: str | None = None,
                 token: str | None = None, retries: int = 3, backoff: float = 0.5,
                 timeout: float = 60.0) -> None:
        endpoint, url_user, url_password = split_endpoint(endpoint)
        if url_user is not None:
            if user is not None or token:
                raise EndpointError(f"{endpoint}: credentials in the URL and as options; "
                                    "give them one way, not both")
            user, password = url_user, url_password
        self.endpoint = endpoint  # without any user:password@
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self._auth: str | None = None
        self._secrets: tuple[str, ...] = ()
        handlers: list[urllib.request.BaseHandler] = []
        if token:
            self._auth = f"Bearer {token}"
            self._secrets = (token,)
        elif user is not None:
            self._auth = basic_credentials(user, password)
            self._secrets = tuple(s for s in (password, self._auth.split()[1]) if s)
            manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            manager.add_password(None, endpoint, user, password or "")
            handlers.append(urllib.request.HTTPDigestAuthHandler(manager))  # Virtuoso
        self._opener = urllib.request.build_opener(*handlers)

    def url(self, graph: str) -> str:
        """Return the URL that names ``graph`` (indirect identification, ``?graph=``)."""
        joiner = "&" if "?" in self.endpoint else "?"
        return f"{self.endpoint}{joiner}{urllib.parse.urlencode({'graph': graph})}"

    def get(self, graph: str) -> list[ox.Triple]:
        """Return the triples of a graph (none when the server does not have it)."""
        data = self._retry("GET", graph, None)
        try:
            return list(ox.parse(data, format=ox.RdfFormat.N_TRIPLES)) if data else []
        except SyntaxError as exc:
            raise _TransferError(f"the answer is not N-Triples: {exc}", transient=False) from exc

    def put(self, graph: str, triples: Iterable[ox.Triple]) -> None:
        """Replace a graph with the given triples."""
        body = ox.serialize(sorted(set(triples), key=sort_key),
                            format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
        self._retry("PUT", graph, body or b"")

    def delete(self, graph: str) -> None:
        """Delete a graph (already gone counts as done)."""
        self._retry("DELETE", graph, None)

    def _retry(self, method: str, graph: str, body: bytes | None) -> bytes:
        """Send a request; an idempotent one is tried again, a bounded number of times,
        after a timeout, a refused connection or HTTP 408, 429 or 5xx."""
        attempt = 1
        while True:
            try:
                return self._send(method, graph, body, missing_ok=method in ("GET", "DELETE"))
            except _TransferError as exc:
                if not exc.transient or method not in _IDEMPOTENT or attempt > self.retries:
                    raise _TransferError(f"{exc} (after {attempt} attempt(s))", exc.transient,
                                         exc.reachable) from exc
            time.sleep(self.backoff * 2 ** (attempt - 1))
            attempt += 1

    def _send(self, method: str, graph: str, body: bytes | None, missing_ok: bool) -> bytes:
        request = urllib.request.Request(self.url(graph), data=body, method=method)
        if body is not None:
            request.add_header("Content-Type", "text/turtle; charset=utf-8")
        if method == "GET":
            request.add_header("Accept", "application/n-triples")
        if self._auth:
            request.add_unredirected_header("Authorization", self._auth)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and missing_ok:
                return b""
            detail = redact(exc.read().decode("utf-8", "replace"), self._secrets).strip()[:200]
            reason = redact(str(exc.reason), self._secrets)
            raise _TransferError(f"HTTP {exc.code} {reason}" + (f": {detail}" if detail
                                                                      else ""),
                                transient=exc.code in _TRANSIENT) from exc
        except http.client.HTTPException as exc:  # a cut-off body, a garbage status line
            what = ("a cut-off body" if isinstance(exc, http.client.IncompleteRead)
                    else f"not HTTP: {redact(str(exc), self._secrets).strip()[:100]}")
            raise _TransferError(f"{self.endpoint} sent a broken answer ({what})",
                                 transient=True) from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):
                raise _TransferError(f"no answer from {self.endpoint} within {self.timeout:g} s",
                                     transient=True, reachable=False) from exc
            raise _TransferError(f"cannot reach {self.endpoint}: {reason}", transient=True,
                                reachable=False) from exc


def _manifest(graphs: Iterable[str]) -> list[ox.Triple]:
    node = ox.NamedNode(MANIFEST_GRAPH)
    part = ox.NamedNode(_HAS_PART)
    return [ox.Triple(node, part, ox.NamedNode(g)) for g in sorted(set(graphs))]


def pushed_graphs(store: GraphStore) -> set[str]:
    """Return the graphs the endpoint's manifest lists as pushed before."""
    try:
        return {t.object.value for t in store.get(MANIFEST_GRAPH)
                if t.predicate.value == _HAS_PART and isinstance(t.object, ox.NamedNode)}
    except _TransferError as exc:
        raise StoreError(f"{store.endpoint}: cannot read what was pushed before: {exc}") from exc


def push_graphs(store: GraphStore, graphs: Sequence[NamedGraph],
                progress: Callable[[GraphOutcome], None] | None = None,
                allow_deletes: bool = False) -> PushReport:
    """Push graphs, delete those of notes gone since the last push, and report each one.

    Once the endpoint stops answering, the remaining graphs are reported as not sent.  A
    push that would delete more than half of the note graphs pushed before raises
    RefusedError before sending anything, unless ``allow_deletes``.
    """
    before = pushed_graphs(store)
    now = {g.iri for g in graphs}
    notes_before = {g for g in before if g.startswith(NOTE_BASE)}
    notes_gone = notes_before - now
    if len(notes_gone) * 2 > len(notes_before) and not allow_deletes:
        raise RefusedError(f"{store.endpoint}: this push would delete {len(notes_gone)} of the "
                           f"{len(notes_before)} note graphs pushed before (more than half); "
                           "nothing pushed; use --allow-deletes if those notes are meant to go")
    steps: list[tuple[str, str, Sequence[ox.Triple]]] = [
        ("put", MANIFEST_GRAPH, _manifest(before | now)),
        *(("put", g.iri, g.triples) for g in sorted(graphs, key=lambda g: g.iri)),
        *(("delete", iri, ()) for iri in sorted(before - now))]
    outcomes: list[GraphOutcome] = []
    down = ""
    for action, iri, triples in steps:
        if down:
            outcome = GraphOutcome(iri, action, False, f"not sent: {down}")
        else:
            try:
                if action == "put":
                    store.put(iri, triples)
                else:
                    store.delete(iri)
                outcome = GraphOutcome(iri, action, True)
            except _TransferError as exc:
                outcome = GraphOutcome(iri, action, False, str(exc))
                if not exc.reachable:
                    down = str(exc)
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
    if not any(not o.ok for o in outcomes):
        try:
            store.put(MANIFEST_GRAPH, _manifest(now))
        except _TransferError as exc:
            outcomes.append(GraphOutcome(MANIFEST_GRAPH, "put", False, str(exc)))
    return PushReport(tuple(outcomes))
