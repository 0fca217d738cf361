"""The store -> a report of what the vault says: every number and list from SPARQL.

The report runs the queries in ``queries/report/*.rq`` (and the questions
``no-ontology-id`` and ``unresolved-links`` of ``met2rdf ask``) over the union of the
store's graphs, and keeps their rows as records; it computes nothing the queries do not
say.  Anyone can run the same queries with ``met2rdf query -f``.  :mod:`met2rdf.render`
turns the records into a page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import groupby

import pyoxigraph as ox

from .ask import load_questions
from .query import run_query

Row = dict[str, str]


@dataclass(frozen=True, slots=True)
class Source:
    """One place a fact is stated: a note's path and line, its hedge and sentence."""

    path: str
    line: int
    hedge: str = ""
    quote: str = ""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class Edge:
    """A line of the network: from one concept to another, with the notes saying so."""

    start: str  # concept IRI
    start_label: str
    end: str
    end_label: str
    notes: int  # distinct notes that assert it
    sources: tuple[Source, ...]


@dataclass(frozen=True, slots=True)
class Statement:
    """One fact about a cancer type or metastasis: relation, object and its sources."""

    relation: str  # local name: spreadsTo, hasSymptom, ...
    object: str
    label: str
    notes: int
    sources: tuple[Source, ...]


@dataclass(frozen=True, slots=True)
class Subject:
    """A cancer type or metastasis with its ontology ids, its site and its facts."""

    iri: str
    type: str  # CancerType or Metastasis
    label: str
    site: str  # the site's label, for a site-specific metastasis
    ids: tuple[str, ...]
    statements: tuple[Statement, ...]


@dataclass(frozen=True, slots=True)
class NoteProblem:
    """A problem the build found in one note; ``skipped`` when the note is not in the graph."""

    path: str
    line: int
    skipped: bool
    message: str


@dataclass(frozen=True, slots=True)
class ShaclResult:
    """A SHACL result of the build, with the note lines behind it."""

    focus: str
    path: str
    value: str
    message: str
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Health:
    """What the graph holds and what went wrong in the build that made it."""

    notes: int
    facts: int
    statements: int  # fact statements: one per note line asserting a fact
    concepts: int
    recorded: bool  # the graph holds a build record (problems and SHACL report)
    problems: tuple[NoteProblem, ...]
    conforms: bool | None  # None: no SHACL report recorded
    results: tuple[ShaclResult, ...]
    unresolved: tuple[tuple[str, str, int], ...]  # (link target, note path, first line)
    unidentified: tuple[tuple[str, str, str], ...]  # (concept IRI, type, label)

    @property
    def skipped(self) -> tuple[str, ...]:
        """The paths of the notes that were skipped."""
        return tuple(dict.fromkeys(p.path for p in self.problems if p.skipped))


@dataclass(frozen=True, slots=True)
class Report:
    """Everything the page shows."""

    spread: tuple[Edge, ...]  # cancer type -> site
    symptoms: tuple[Edge, ...]  # site (of a metastasis) -> symptom
    subjects: tuple[Subject, ...]
    health: Health


@cache
def report_query(name: str) -> str:
    """Return the text of ``queries/report/NAME.rq``."""
    folder = resources.files("met2rdf").joinpath("queries").joinpath("report")
    return folder.joinpath(f"{name}.rq").read_text(encoding="utf-8")


def _value(term: object) -> str:
    return "" if term is None else str(getattr(term, "value", term))


def select(store: ox.Store, sparql: str, source: str) -> list[Row]:
    """Run a SELECT query; return its rows as texts (an unbound variable is "")."""
    results = run_query(store, sparql, source)
    assert isinstance(results, ox.QuerySolutions), f"{source}: not a SELECT query"
    names = [v.value for v in results.variables]
    return [{name: _value(row[name]) for name in names} for row in results]


_ORDER = re.compile(r"\nORDER BY ((?:\?\w+\s*)+)$")
_NUMERIC = frozenset({"line", "notes"})


def _rows(store: ox.Store, name: str) -> list[Row]:
    """A report query's rows in its ORDER BY order.

    A plain ``ORDER BY ?a ?b ...`` is done here, on the texts (numbers as numbers), not by
    Oxigraph, which takes as long to sort tens of thousands of rows as to find them.
    """
    sparql, source = report_query(name), f"queries/report/{name}.rq"
    order = _ORDER.search(sparql.rstrip() + "\n")
    if order is None:
        return select(store, sparql, source)
    keys = [k.lstrip("?") for k in order[1].split()]
    rows = select(store, sparql[:order.start()] + "\n", source)
    rows.sort(key=lambda r: tuple((int(r[k]) if r[k] else -1) if k in _NUMERIC else r[k]
                                  for k in keys))
    return rows


def _sources(rows: list[Row]) -> tuple[Source, ...]:
    found = (Source(r["path"], int(r["line"]), r.get("hedge", ""), r.get("quote", ""))
             for r in rows)
    return tuple(dict.fromkeys(found))


def _edges(rows: list[Row], start: str, end: str) -> Iterator[Edge]:
    """Group rows (one per source, ordered by edge) into edges."""
    for (a, b), group in groupby(rows, key=lambda r: (r[start], r[end])):
        members = list(group)
        first = members[0]
        yield Edge(a, first[start + "Label"], b, first[end + "Label"], int(first["notes"]),
                   _sources(members))


def _subjects(store: ox.Store) -> Iterator[Subject]:
    facts: dict[str, list[Row]] = {}
    for row in _rows(store, "facts"):
        facts.setdefault(row["subject"], []).append(row)
    for row in _rows(store, "malignancies"):
        statements = []
        for (relation, obj), group in groupby(facts.get(row["subject"], []),
                                              key=lambda r: (r["relation"], r["object"])):
            members = list(group)
            statements.append(Statement(relation, obj, members[0]["objectLabel"],
                                        int(members[0]["notes"]), _sources(members)))
        yield Subject(row["subject"], row["type"], row["label"], row["siteLabel"],
                      tuple(sorted(row["ids"].split())), tuple(statements))


def _results(rows: list[Row]) -> Iterator[ShaclResult]:
    by_result: dict[str, list[Row]] = {}
    for row in rows:
        if row["result"]:
            by_result.setdefault(row["result"], []).append(row)
    for members in by_result.values():
        first = members[0]
        yield ShaclResult(first["focus"], first["path"], first["value"], first["message"],
                          tuple(dict.fromkeys(r["source"] for r in members if r["source"])))


def _health(store: ox.Store) -> Health:
    counts = _rows(store, "counts")[0]
    questions = load_questions()
    validation = _rows(store, "validation")
    problems = tuple(NoteProblem(r["path"], int(r["line"]), r["skipped"] == "true", r["message"])
                     for r in _rows(store, "problems"))
    unresolved = select(store, questions["unresolved-links"].sparql, "unresolved-links.rq")
    unidentified = select(store, questions["no-ontology-id"].sparql, "no-ontology-id.rq")
    return Health(
        notes=int(counts["notes"]), facts=int(counts["facts"]),
        statements=int(counts["statements"]), concepts=int(counts["concepts"]),
        recorded=int(counts["builds"]) > 0, problems=problems,
        conforms=validation[0]["conforms"] == "true" if validation else None,
        results=tuple(_results(validation)),
        unresolved=tuple((r["link"], r["note"], int(r["line"])) for r in unresolved),
        unidentified=tuple((r["concept"], r["type"], r["label"]) for r in unidentified))


def report_store(store: ox.Store) -> Report:
    """Query the store for everything the report shows."""
    return Report(
        spread=tuple(_edges(_rows(store, "spread"), "cancer", "site")),
        symptoms=tuple(_edges(_rows(store, "site-symptoms"), "site", "symptom")),
        subjects=tuple(_subjects(store)),
        health=_health(store))
