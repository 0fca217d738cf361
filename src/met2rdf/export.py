"""A build's graph in the formats other tools read: N-Triples, N-Quads, TriG, JSON-LD, and
its facts as CSV for spreadsheets.  Every format gives the same bytes for the same vault."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

import pyoxigraph as ox

from .graph import PREFIXES, sort_key
from .model import Fact
from .result import BuildResult
from .write import to_dataset

EXPORT_FORMATS = ("ntriples", "nquads", "trig", "jsonld", "facts")
FACT_COLUMNS = ("subject", "relation", "object", "note", "line", "hedge", "quote")
JSONLD_CONTEXT: dict[str, str] = dict(sorted(PREFIXES.items()))


def to_export(result: BuildResult, fmt: str) -> bytes:
    """Return a build in one of :data:`EXPORT_FORMATS`.

    ``ntriples`` and ``jsonld`` hold the triples of ``graph.ttl`` (each once); ``nquads``
    and ``trig`` the named graphs of the store; ``facts`` one CSV row per fact statement."""
    if fmt in ("nquads", "trig"):
        return to_dataset(result.graphs, fmt)
    if fmt == "ntriples":
        return ox.serialize(sorted(set(result.triples), key=sort_key),
                            format=ox.RdfFormat.N_TRIPLES) or b""
    if fmt == "jsonld":
        return to_jsonld(result.triples)
    if fmt == "facts":
        return to_facts_csv(result.facts)
    raise ValueError(f"unknown export format {fmt!r}; one of {', '.join(EXPORT_FORMATS)}")


def to_jsonld(triples: Iterable[ox.Triple]) -> bytes:
    """Return unique triples as JSON-LD: ``{"@context": prefixes, "@graph": nodes}``, with
    IRIs as compact IRIs (``c:bone``, ``skos:prefLabel``) where a prefix of
    :data:`JSONLD_CONTEXT` covers them; one node object per subject, in IRI order."""
    expanded = ox.serialize(sorted(set(triples), key=sort_key), format=ox.RdfFormat.JSON_LD)
    nodes = json.loads(expanded or b"[]")
    document = {"@context": JSONLD_CONTEXT, "@graph": [_compact(n) for n in nodes]}
    return (json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


_KEEP = ("@value", "@language")  # literals' text and tags are not IRIs


def _compact(value: Any) -> Any:
    if isinstance(value, list):
        return [_compact(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = key if key.startswith("@") else compact_iri(key)
        if key in ("@id", "@type"):
            item = [compact_iri(v) for v in item] if isinstance(item, list) else compact_iri(item)
        elif key not in _KEEP:
            item = _compact(item)
        out[name] = item
    return out


def compact_iri(iri: str) -> str:
    """Return ``prefix:rest`` for an IRI a prefix of the context covers, else the IRI."""
    for prefix, base in PREFIXES.items():
        rest = iri[len(base):]
        if iri.startswith(base) and rest and not rest.startswith("//"):
            return f"{prefix}:{rest}"
    return iri


def to_facts_csv(facts: Sequence[Fact]) -> bytes:
    """Return fact statements as CSV (RFC 4180, UTF-8, a header row of
    :data:`FACT_COLUMNS`): subject and object as compact IRIs (``c:breast-cancer``), the
    relation's name, the note's vault path, the 1-based line, the hedge word and the
    sentence; ordered by note, line, subject, relation and object."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(FACT_COLUMNS)
    for fact in sorted(facts, key=lambda f: (f.span.path, f.span.line, f.subject, f.predicate,
                                             f.object, f.hedge or "", f.text)):
        writer.writerow(fact_row(fact))
    return buffer.getvalue().encode()


def fact_row(fact: Fact) -> tuple[str, ...]:
    """Return the CSV cells of one fact statement; a note path or sentence that a
    spreadsheet would run as a formula (starting with =, +, -, @, tab or CR) is kept as
    text with a leading apostrophe, as OWASP advises for CSV exports."""
    return (compact_iri(fact.subject), fact.predicate, compact_iri(fact.object),
            _as_text(fact.span.path), str(fact.span.line), fact.hedge or "",
            _as_text(fact.text))


def _as_text(cell: str) -> str:
    return "'" + cell if cell.startswith(("=", "+", "-", "@", "\t", "\r")) else cell
