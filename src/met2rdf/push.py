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
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Self

import pyoxigraph as ox

from .auth import Challenge, Credentials, parse_challenges
from .errors import EndpointError, RefusedError, StoreError
from .graph import sort_key
from .iris import BASE, NOTE_BASE
from .query import redact, split_endpoint
from .result import NamedGraph

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
    status: int = 0  # the HTTP status of a failure, when the server answered

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

    @property
    def refused(self) -> GraphOutcome | None:
        """Return the failure that stopped the push because running it again would not help
        (an HTTP 4xx other than 408 and 429), if any."""
        return next((o for o in self.outcomes if refuses(o.status)), None)


def refuses(status: int) -> bool:
    """Whether an HTTP status says the request is wrong, so sending it again is no use."""
    return 400 <= status < 500 and status not in _TRANSIENT


class _TransferError(Exception):
    """One request failed; ``transient`` tells whether trying again may help."""

    def __init__(self, message: str, transient: bool, reachable: bool = True,
                 status: int = 0) -> None:
        super().__init__(message)
        self.transient = transient
        self.reachable = reachable
        self.status = status


class GraphStore:
    """A client of one Graph Store Protocol endpoint, with credentials and bounded retries.

    Requests go over one kept-alive connection (opened again when the server closes it).
    A user and password are sent only when the server asks, as Basic or Digest, whichever
    it offers (:mod:`met2rdf.auth`); a token is sent as Bearer with every request.
    """

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
        self._token = token or None
        self._credentials = Credentials(user, password) if user is not None and not token \
            else None
        self._secrets = tuple(s for s in (token, password, self._credentials
                                          and self._credentials.basic.split()[1]) if s)
        self._parts = urllib.parse.urlsplit(endpoint)
        self._connection: http.client.HTTPConnection | None = None
        self.connections = 0  # how many connections were opened (keep-alive keeps it at 1)

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
        """Replace a graph with the given triples.

        The body is N-Triples (sent as ``text/turtle``, of which it is a subset): full IRIs
        only, so no server's reading of prefixed names' escapes can change an IRI."""
        self._retry("PUT", graph, to_ntriples(triples))

    def delete(self, graph: str) -> None:
        """Delete a graph (already gone counts as done)."""
        self._retry("DELETE", graph, None)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the kept-alive connection, if any."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

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
                                         exc.reachable, exc.status) from exc
            time.sleep(self.backoff * 2 ** (attempt - 1))
            attempt += 1

    def _send(self, method: str, graph: str, body: bytes | None, missing_ok: bool) -> bytes:
        parts = urllib.parse.urlsplit(self.url(graph))
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        headers = {"Accept": "application/n-triples"} if method == "GET" else {}
        if body is not None:
            headers["Content-Type"] = "text/turtle; charset=utf-8"
        try:
            status, reason, challenges, data = self._authenticated(method, target, body, headers)
        except http.client.HTTPException as exc:  # a cut-off body, a garbage status line
            self.close()
            what = ("a cut-off body" if isinstance(exc, http.client.IncompleteRead)
                    else f"not HTTP: {redact(str(exc), self._secrets).strip()[:100]}")
            raise _TransferError(f"{self.endpoint} sent a broken answer ({what})",
                                 transient=True) from exc
        except OSError as exc:
            self.close()
            if isinstance(exc, TimeoutError):
                raise _TransferError(f"no answer from {self.endpoint} within {self.timeout:g} s",
                                     transient=True, reachable=False) from exc
            raise _TransferError(f"cannot reach {self.endpoint}: {exc}", transient=True,
                                reachable=False) from exc
        if 200 <= status < 300 or (status == 404 and missing_ok):
            return data if status != 404 else b""
        detail = redact(data.decode("utf-8", "replace"), self._secrets).strip()[:200]
        reason = redact(reason, self._secrets)
        if status == 401:
            offered = ", ".join(sorted({c.scheme for c in challenges})) or "no challenge"
            reason += (f" (credentials refused; the server offers {offered})"
                       if self._credentials or self._token
                       else f" (the server asks for credentials: {offered}; give --user "
                            "and --password or --token)")
        raise _TransferError(f"HTTP {status} {reason}" + (f": {detail}" if detail else ""),
                            transient=status in _TRANSIENT, status=status)

    def _authenticated(self, method: str, target: str, body: bytes | None,
                       headers: dict[str, str]) -> tuple[int, str, tuple[Challenge, ...], bytes]:
        """Send a request, answering the server's challenge once when it asks for
        credentials (and once more for a stale Digest nonce)."""
        for _ in range(3):
            sent = dict(headers)
            if self._token:
                sent["Authorization"] = f"Bearer {self._token}"
            elif self._credentials and (value := self._credentials.header(method, target)):
                sent["Authorization"] = value
            status, reason, challenges, data = self._exchange(method, target, body, sent)
            if status != 401 or self._credentials is None or not self._credentials.answer(
                    challenges, refused="Authorization" in sent):
                break
        return status, reason, challenges, data

    def _exchange(self, method: str, target: str, body: bytes | None, headers: dict[str, str]
                  ) -> tuple[int, str, tuple[Challenge, ...], bytes]:
        """One request and its whole answer over the kept-alive connection; a connection
        the server closed while idle is opened again once (every request here is
        idempotent)."""
        for fresh in (False, True):
            reused = self._connection is not None
            connection = self._open()
            try:
                connection.request(method, target, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if reused and not fresh:
                    continue
                raise
            except BaseException:
                self.close()
                raise
            if response.will_close:
                self.close()
            challenges = parse_challenges(response.headers.get_all("WWW-Authenticate") or ())
            return response.status, response.reason, challenges, data
        raise AssertionError("unreachable")

    def _open(self) -> http.client.HTTPConnection:
        if self._connection is None:
            kind = (http.client.HTTPSConnection if self._parts.scheme.lower() == "https"
                    else http.client.HTTPConnection)
            port = self._parts.port or (443 if kind is http.client.HTTPSConnection else 80)
            self._connection = kind(self._parts.hostname or "", port, timeout=self.timeout)
            self.connections += 1
        return self._connection


def to_ntriples(triples: Iterable[ox.Triple]) -> bytes:
    """Return unique triples as sorted N-Triples."""
    return ox.serialize(sorted(set(triples), key=sort_key), format=ox.RdfFormat.N_TRIPLES) \
        or b""


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

    Once the endpoint stops answering, or refuses a request with an HTTP 4xx that a retry
    would not change (not 408 or 429), the remaining graphs are reported as not sent.  A
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
                outcome = GraphOutcome(iri, action, False, str(exc), exc.status)
                if not exc.reachable or refuses(exc.status):
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
