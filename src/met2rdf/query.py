"""Run SPARQL against a store or an endpoint, and render the results as a table or a
SPARQL 1.1 results format."""

from __future__ import annotations

import re
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

import pyoxigraph as ox

from .auth import Challenge, Credentials, parse_challenges
from .errors import EndpointError, QueryError, StoreError
from .graph import PREFIXES
from .sparql import explain_syntax_error, named_order, shorten_parser_message, star_position

Results = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple

RESULT_FORMATS = {
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
}
_POSITION = re.compile(r"^error at (\d+):(\d+): ")
# what can move the cursor, retitle or recolour a terminal, or reorder the text shown
_CONTROLS = re.compile("\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f"
                       "\u202a-\u202e\u2066-\u2069]")
# an Authorization header a server echoes back, in a header dump, JSON or a form
_AUTHORIZATION = re.compile(r"""((?:proxy-)?authorization["']?\s*[:=]\s*["']?)[^"'\r\n,;}<]*""",
                            re.IGNORECASE)
_ACCEPT = ("application/sparql-results+json, application/sparql-results+xml;q=0.9, "
           "application/n-triples;q=0.8, text/turtle;q=0.7")


def run_query(store: ox.Store, sparql: str, source: str = "<query>",
              substitutions: Mapping[str, Term] | None = None) -> Results:
    """Run a query over the union of the store's graphs, binding ``substitutions``.

    Values are bound by pyoxigraph (SPARQL SEP-0007), never pasted into the text.
    """
    bound = {ox.Variable(k): v for k, v in (substitutions or {}).items()}
    try:
        return store.query(_named_columns(sparql, bound), use_default_graph_as_union=True,
                           prefixes=PREFIXES, substitutions=bound or None)
    except SyntaxError as exc:
        raise QueryError(_syntax_message(str(exc), sparql, source)) from exc
    except RuntimeError as exc:  # pyoxigraph's type for a variable it cannot substitute
        raise QueryError(f"{source}: {exc}") from exc


def _named_columns(sparql: str, bound: Mapping[ox.Variable, Term]) -> str:
    """Return a ``SELECT *`` query with its ``*`` replaced by its columns in the order the
    query names them (Oxigraph sorts them by name); other queries as they are.

    The columns are those of the query run on an empty store, which costs nothing."""
    at = star_position(sparql)
    if at is None:
        return sparql
    probe = ox.Store().query(sparql, use_default_graph_as_union=True, prefixes=PREFIXES,
                             substitutions=bound or None)
    assert isinstance(probe, ox.QuerySolutions)
    order = named_order(sparql, at + 1, [v.value for v in probe.variables])
    return sparql[:at] + " ".join(f"?{n}" for n in order) + sparql[at + 1:]


def _syntax_message(text: str, sparql: str, source: str) -> str:
    """Return ``source:line:column: what is wrong`` in one line."""
    match = _POSITION.match(text)
    at = (int(match[1]), int(match[2])) if match else None
    plain = explain_syntax_error(sparql, tuple(PREFIXES), at)
    if plain is not None:
        return f"{source}:{plain[0]}:{plain[1]}: {plain[2]}"
    if match is None:
        return f"{source}: {shorten_parser_message(text)}"
    return f"{source}:{match[1]}:{match[2]}: {shorten_parser_message(text[match.end():])}"


def split_endpoint(url: str) -> tuple[str, str | None, str | None]:
    """Return an http(s) URL without its ``user:password@``, and that user and password.

    Raises EndpointError (which never shows the password) for anything else."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as exc:
        raise EndpointError(f"{redact_url(url)}: not a URL ({exc})") from exc
    if "://" not in url and not url.startswith("//"):
        raise EndpointError(f"{redact_url(url)}: a URL needs its scheme; write "
                            f"http://{redact_url(url)} (or https://)")
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise EndpointError(f"{redact_url(url)}: not an http:// or https:// URL with a host")
    if "@" not in parts.netloc:
        return url, None, None
    bare = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    password = None if parts.password is None else urllib.parse.unquote(parts.password)
    return bare, urllib.parse.unquote(parts.username or ""), password


def redact_url(url: str) -> str:
    """Return a URL with any ``user:password@`` left out, for messages."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url.rpartition("@")[2] if "@" in url else url
    netloc, slash, path = rest.partition("/")
    return f"{scheme}://{netloc.rpartition('@')[2]}{slash}{path}"


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Return a server's text with echoed Authorization values and the given secrets
    replaced by ``[redacted]``."""
    text = _AUTHORIZATION.sub(lambda m: m.group(1) + "[redacted]", text)
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        for form in {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote(secret)}:
            text = text.replace(form, "[redacted]")
    return text


def query_endpoint(url: str, sparql: str, timeout: float = 60.0) -> Results:
    """Run a query against a SPARQL 1.1 Protocol endpoint and parse what it returns.

    The met2rdf prefixes are declared first, on one line, as the embedded store knows them.
    A ``user:password@`` in the URL answers the server's Basic or Digest challenge (sent
    only when asked, as curl --anyauth does), never shown.
    """
    url, user, password = split_endpoint(url)
    prologue = " ".join(f"PREFIX {k}: <{v}>" for k, v in PREFIXES.items())
    body = urllib.parse.urlencode({"query": f"{prologue}\n{sparql}"}).encode()
    credentials = Credentials(user, password) if user is not None else None
    secrets = [password, credentials.basic.split()[1]] if credentials else []
    try:
        media, data = _post(url, body, credentials, timeout)
    except urllib.error.HTTPError as exc:
        detail = redact(exc.read().decode("utf-8", "replace").strip(), secrets)
        if exc.code == 400:
            raise QueryError(f"{url}: the endpoint rejected the query: {detail}") from exc
        if exc.code == 401:
            offered = ", ".join(sorted({c.scheme for c in _challenges(exc)})) or "no challenge"
            hint = ("check the user and password in the URL" if credentials else
                    "give them in the URL: http://USER:PASSWORD@host/...")
            raise StoreError(f"{url}: HTTP 401 {exc.reason} ({offered}); {hint}") from exc
        raise StoreError(f"{url}: HTTP {exc.code} {exc.reason}: {detail}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise StoreError(f"{url}: cannot reach the endpoint: {exc}") from exc
    results_format = ox.QueryResultsFormat.from_media_type(media)
    rdf_format = ox.RdfFormat.from_media_type(media)
    try:
        if results_format is not None:
            results = ox.parse_query_results(data, format=results_format)
            if isinstance(results, ox.QuerySolutions):  # solutions are parsed lazily: read
                for _ in results:  # them all once here, so a cut-off answer fails here
                    pass
                results = ox.parse_query_results(data, format=results_format)
            return results
        if rdf_format is not None:
            store = ox.Store()
            store.load(data, format=rdf_format)
            return store.query("CONSTRUCT WHERE { ?s ?p ?o }")
    except (SyntaxError, ValueError) as exc:
        raise StoreError(f"{url}: the endpoint's answer ({media}) does not parse: {exc}") from exc
    raise StoreError(f"{url}: the endpoint answered with {media}, not SPARQL results")


def _post(url: str, body: bytes, credentials: Credentials | None,
          timeout: float) -> tuple[str, bytes]:
    """POST a query form, answering one challenge (two for a stale Digest nonce); return
    the answer's media type and bytes.  Raises HTTPError for an answer that is no success."""
    parts = urllib.parse.urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    for attempt in range(3):
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Accept": _ACCEPT, "Content-Type": "application/x-www-form-urlencoded"})
        sent = credentials.header("POST", target) if credentials else None
        if sent:
            request.add_unredirected_header("Authorization", sent)  # not to a redirect
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.headers.get_content_type(), response.read()
        except urllib.error.HTTPError as exc:
            if exc.code != 401 or credentials is None or attempt == 2 or not credentials.answer(
                    _challenges(exc), refused=sent is not None):
                raise
            exc.read()
    raise AssertionError("unreachable: a third refusal raises above")


def _challenges(exc: urllib.error.HTTPError) -> tuple[Challenge, ...]:
    return parse_challenges(exc.headers.get_all("WWW-Authenticate") or ())


def to_results(results: Results, fmt: str) -> bytes:
    """Serialize results: a SPARQL results format for SELECT and ASK, Turtle for triples."""
    with _reading_answers():
        if isinstance(results, ox.QueryTriples):
            return to_turtle_text(results).encode()
        data = results.serialize(format=RESULT_FORMATS[fmt])
    assert data is not None  # serialize returns bytes when no output is given
    return data


@contextmanager
def _reading_answers() -> Iterator[None]:
    """Turn an error met while answers are computed (a SERVICE that fails half-way, a
    cut-off answer) into a StoreError."""
    try:
        yield
    except (RuntimeError, OSError, SyntaxError) as exc:
        raise StoreError(f"the query failed while its answers were read: {exc}") from exc


def to_turtle_text(triples: Iterable[ox.Triple]) -> str:
    """Return triples as Turtle with the met2rdf prefixes."""
    data = ox.serialize(list(triples), format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    assert data is not None
    return data.decode()


def to_table(results: Results, hide: Iterable[str] = (), width: int | None = None) -> str:
    """Render results as an aligned text table (IRIs as prefixed names, literals bare).

    Columns are aligned by the width text takes on a terminal (East Asian wide characters
    take two columns, combining marks none).  With ``width``, the widest columns are cut
    (ending in ``…``) until each line fits in it, as far as columns of 10 allow."""
    if isinstance(results, ox.QueryBoolean):
        return "yes\n" if bool(results) else "no\n"
    if isinstance(results, ox.QueryTriples):
        with _reading_answers():
            return to_turtle_text(results)
    hidden = set(hide)
    names = [v.value for v in results.variables if v.value not in hidden]
    with _reading_answers():
        rows = [[show_term(solution[name]) for name in names] for solution in results]
    widths = [max([display_width(name), *(display_width(row[i]) for row in rows)])
              for i, name in enumerate(names)]
    if width is not None:
        cap = _column_cap(widths, width - 2 * (len(widths) - 1))
        widths = [min(w, cap) for w in widths]
    lines = [names, ["-" * w for w in widths], *rows]
    return "".join("  ".join(_fit(cell, w) for cell, w in zip(line, widths)).rstrip() + "\n"
                   for line in lines)


MIN_COLUMN = 10  # a column is not cut narrower than this


def _column_cap(widths: list[int], room: int) -> int:
    """Return the largest width that, given to every wider column, fits them in ``room``."""
    cap = max(widths, default=0)
    while cap > MIN_COLUMN and sum(min(w, cap) for w in widths) > room:
        cap -= 1
    return cap


def display_width(text: str) -> int:
    """Return how many terminal columns text takes: two for East Asian wide and full-width
    characters, none for combining marks and format characters, one for the rest."""
    return sum(0 if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf")
               else 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _fit(text: str, width: int) -> str:
    """Return text padded to ``width`` columns, or cut to them ending in ``…``."""
    used = display_width(text)
    if used <= width:
        return text + " " * (width - used)
    kept, used = [], 0
    for ch in text:
        w = display_width(ch)
        if used + w > width - 1:
            break
        kept.append(ch)
        used += w
    return "".join(kept) + "\u2026" + " " * (width - 1 - used)


def escape_controls(text: str) -> str:
    """Return text with its control characters shown as escapes (``\\x1b``, ``\\u202e``).

    Tabs, newlines and CR LF stay; other C0 controls, DEL, C1 controls and the bidi
    overrides are what let a note's name or text retitle, recolour or rewrite a terminal."""
    return _CONTROLS.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def show_term(term: Term | None) -> str:
    """Return a short readable form of a term: ``c:bone``, a literal's text, or nothing."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        for prefix, base in PREFIXES.items():
            rest = term.value[len(base):]
            if term.value.startswith(base) and rest and "/" not in rest and "#" not in rest:
                return escape_controls(f"{prefix}:{rest}")
        return escape_controls(f"<{term.value}>")
    if isinstance(term, ox.Literal):
        return escape_controls(" ".join(term.value.split()))
    return escape_controls(str(term))
