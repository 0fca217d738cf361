"""A build's problems and SHACL report -> the triples of the build graph (``BUILD_GRAPH``).

The build graph is what the store needs to say about the vault's health besides the
notes' own graphs: every problem with a single note (``met:Problem``: its path, line and
message; a note with no ``met:Note`` of that path was skipped) and the SHACL report in the
SHACL vocabulary (``sh:ValidationReport``, one ``sh:ValidationResult`` per result, with
the ``path:line`` sources as ``met:source``).  Its terms are declared in
``data/build.ttl``, which the graph carries.  IRIs are digests of what they describe.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from functools import lru_cache

import pyoxigraph as ox

from .graph import RDF, XSD
from .iris import BASE
from .model import Problem
from .validate import ValidationReport, ValidationResult
from .vocab import MET, package_data

BUILD_GRAPH = BASE + "graph/build"
BUILD = BASE + "build"
SH = "http://www.w3.org/ns/shacl#"

_TYPE = ox.NamedNode(RDF + "type")


def _met(name: str) -> ox.NamedNode:
    return ox.NamedNode(MET + name)


def _sh(name: str) -> ox.NamedNode:
    return ox.NamedNode(SH + name)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:20]


def _term(text: str) -> ox.NamedNode | ox.Literal:
    """An IRI where the text is one, else the text as a literal (a blank node's id)."""
    try:
        return ox.NamedNode(text)
    except ValueError:
        return ox.Literal(text)


@lru_cache(maxsize=1)
def build_terms() -> tuple[ox.Triple, ...]:
    """Return the declarations of the build record's terms (``data/build.ttl``)."""
    return tuple(q.triple for q in ox.parse(package_data("build.ttl"),
                                            format=ox.RdfFormat.TURTLE))


def problem_triples(problems: Iterable[Problem]) -> Iterator[ox.Triple]:
    """Yield one ``met:Problem`` per problem, linked from the build node."""
    build = ox.NamedNode(BUILD)
    for problem in problems:
        span = problem.span
        node = ox.NamedNode(f"{BUILD}/problem/"
                            f"{_digest(span.path, str(span.line), problem.message)}")
        yield ox.Triple(build, _met("problem"), node)
        yield ox.Triple(node, _TYPE, _met("Problem"))
        yield ox.Triple(node, _met("notePath"), ox.Literal(span.path))
        yield ox.Triple(node, _met("noteLine"),
                        ox.Literal(str(span.line), datatype=ox.NamedNode(XSD + "integer")))
        yield ox.Triple(node, _met("message"), ox.Literal(problem.message))


def result_triples(report: ValidationReport) -> Iterator[ox.Triple]:
    """Yield the SHACL report and its results, linked from the build node."""
    node = ox.NamedNode(f"{BUILD}/validation")
    yield ox.Triple(ox.NamedNode(BUILD), _met("validation"), node)
    yield ox.Triple(node, _TYPE, _sh("ValidationReport"))
    yield ox.Triple(node, _sh("conforms"), ox.Literal(
        "true" if report.conforms else "false", datatype=ox.NamedNode(XSD + "boolean")))
    for result in report.results:
        yield from _result(node, result)


def _result(report: ox.NamedNode, result: ValidationResult) -> Iterator[ox.Triple]:
    node = ox.NamedNode(f"{BUILD}/result/" + _digest(
        result.shape, result.focus, result.path or "", result.value or "", result.message,
        *map(str, result.spans)))
    yield ox.Triple(report, _sh("result"), node)
    yield ox.Triple(node, _TYPE, _sh("ValidationResult"))
    yield ox.Triple(node, _sh("resultSeverity"), _sh("Violation"))
    yield ox.Triple(node, _sh("sourceShape"), _term(result.shape))
    yield ox.Triple(node, _sh("focusNode"), _term(result.focus))
    if result.path is not None:
        yield ox.Triple(node, _sh("resultPath"), _term(result.path))
    if result.value is not None:
        yield ox.Triple(node, _sh("value"), ox.Literal(result.value))
    yield ox.Triple(node, _sh("resultMessage"), ox.Literal(result.message))
    for span in result.spans:
        yield ox.Triple(node, _met("source"), ox.Literal(str(span)))


def diagnostic_triples(problems: Iterable[Problem],
                       report: ValidationReport | None) -> tuple[ox.Triple, ...]:
    """Return the build graph: the build node, its problems and its SHACL report."""
    triples = [ox.Triple(ox.NamedNode(BUILD), _TYPE, _met("Build")), *build_terms(),
               *problem_triples(problems)]
    if report is not None:
        triples.extend(result_triples(report))
    return tuple(triples)
