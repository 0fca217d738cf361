"""Compile SHACL shapes into SPARQL queries that list violations, for fast validation.

pySHACL is the reference engine (``met2rdf validate``); builds of large vaults run the
same shapes as SPARQL inside pyoxigraph.  The compiler reads the shapes graph and
supports the SHACL Core components the met2rdf shapes use (targets by class, subjects
and objects of a property; ``sh:class``; property shapes with an IRI path and
``sh:minCount``, ``sh:maxCount``, ``sh:class``, ``sh:datatype``, ``sh:nodeKind``,
``sh:pattern``, ``sh:minInclusive``, ``sh:uniqueLang``, ``sh:qualifiedValueShape`` with
``sh:languageIn``) plus SHACL-SPARQL ``sh:sparql`` SELECT constraints.  Anything else
raises :class:`ShapesError`, so a shape is never silently skipped; tests check that both
engines report the same results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH, XSD
from rdflib.term import Node

from .errors import ShapesError

_TYPE_OF = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>/" \
           "<http://www.w3.org/2000/01/rdf-schema#subClassOf>*"
_NODE_KEYS = {SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH["class"],
              SH.property, SH.sparql, SH.message, RDF.type, SH.name, SH.description,
              SH.severity, SH.deactivated}
_CASTS = {str(XSD[name]) for name in (  # XSD datatypes SPARQL can cast a string to
    "string", "boolean", "integer", "decimal", "float", "double", "dateTime", "date", "time",
    "duration", "yearMonthDuration", "dayTimeDuration")}
_PROPERTY_KEYS = {SH.path, SH.minCount, SH.maxCount, SH["class"], SH.datatype, SH.nodeKind,
                  SH.pattern, SH.minInclusive, SH.uniqueLang, SH.qualifiedValueShape,
                  SH.qualifiedMinCount, SH.qualifiedMaxCount, SH.message, SH.name,
                  SH.description, SH.severity}
_NODE_KINDS = {str(SH.IRI): "isIRI(?value)", str(SH.Literal): "isLiteral(?value)",
               str(SH.BlankNode): "isBlank(?value)"}


@dataclass(frozen=True, slots=True)
class Check:
    """One compiled constraint: a SELECT of ?this (?value, ?path) per violation."""

    shape: str
    message: str
    query: str


def _iri(term: object) -> str:
    if not isinstance(term, URIRef):
        raise ShapesError(f"expected an IRI in the shapes, found {term!r}")
    return f"<{term}>"


def _literal(term: object) -> str:
    if not isinstance(term, Literal):
        raise ShapesError(f"expected a literal in the shapes, found {term!r}")
    return term.n3()


def _targets(shapes: Graph, shape: URIRef | BNode) -> str:
    parts = [f"{{ ?this {_TYPE_OF} {_iri(c)} . }}" for c in shapes.objects(shape, SH.targetClass)]
    parts += [f"{{ ?this {_iri(p)} ?t_ . }}" for p in shapes.objects(shape, SH.targetSubjectsOf)]
    parts += [f"{{ ?t_ {_iri(p)} ?this . }}" for p in shapes.objects(shape, SH.targetObjectsOf)]
    if not parts:
        raise ShapesError(f"shape {shape} has no target this compiler understands")
    return "{ SELECT DISTINCT ?this WHERE { " + " UNION ".join(parts) + " } }"


def _check(shape: URIRef | BNode, message: str, focus: str, body: str,
           path: str | None = None) -> Check:
    path_var = f"({path} AS ?path)" if path else ""
    query = f"SELECT DISTINCT ?this ?value {path_var} WHERE {{ {focus} {body} }}"
    return Check(str(shape), message, query)


def _count(path: str, condition: str = "") -> str:
    return (f"{{ SELECT ?this (COUNT(DISTINCT ?v_) AS ?n_) WHERE {{ ?this {path} ?v_ . "
            f"{condition} }} GROUP BY ?this }}")


def _property_checks(shapes: Graph, node: URIRef, prop: Node,
                     focus: str) -> list[Check]:
    unknown = set(shapes.predicates(prop)) - _PROPERTY_KEYS
    if unknown:
        raise ShapesError(f"property shape of {node} uses {sorted(map(str, unknown))}, not compiled")
    path = _iri(shapes.value(prop, SH.path))
    message = str(shapes.value(prop, SH.message) or shapes.value(node, SH.message) or
                  "SHACL violation")
    checks: list[Check] = []

    def add(body: str) -> None:
        checks.append(_check(node, message, focus, body, path))

    values = f"?this {path} ?value ."
    for n in shapes.objects(prop, SH.minCount):
        add(f"OPTIONAL {{ {_count(path)} }} FILTER(COALESCE(?n_, 0) < {int(str(n))})")
    for n in shapes.objects(prop, SH.maxCount):
        add(f"{_count(path)} FILTER(?n_ > {int(str(n))})")
    for cls in shapes.objects(prop, SH["class"]):
        add(f"{values} FILTER NOT EXISTS {{ ?value {_TYPE_OF} {_iri(cls)} }}")
    for dt in shapes.objects(prop, SH.datatype):
        # an ill-formed literal ("abc"^^xsd:integer) has the datatype but not a value of it,
        # which pySHACL reports: the cast to it fails
        ill_formed = (f" || !COALESCE(isLiteral({_iri(dt)}(str(?value))), false)"
                      if str(dt) in _CASTS else "")
        add(f"{values} FILTER(!isLiteral(?value) || datatype(?value) != {_iri(dt)}"
            f"{ill_formed})")
    for kind in shapes.objects(prop, SH.nodeKind):
        if str(kind) not in _NODE_KINDS:
            raise ShapesError(f"sh:nodeKind {kind} is not compiled")
        add(f"{values} FILTER(!{_NODE_KINDS[str(kind)]})")
    for pattern in shapes.objects(prop, SH.pattern):
        add(f"{values} FILTER(isBlank(?value) || !regex(str(?value), {_literal(pattern)}))")
    for low in shapes.objects(prop, SH.minInclusive):
        add(f"{values} FILTER(!(?value >= {_literal(low)}))")
    for unique in shapes.objects(prop, SH.uniqueLang):
        if str(unique).lower() == "true":
            add(f"?this {path} ?value, ?b_ . FILTER(?value != ?b_ && lang(?value) != \"\" "
                f"&& lang(?value) = lang(?b_))")
    for qualified in shapes.objects(prop, SH.qualifiedValueShape):
        add_qualified = _qualified(shapes, prop, qualified, path)
        for body in add_qualified:
            add(body)
    return checks


def _qualified(shapes: Graph, prop: Node, qualified: Node, path: str) -> list[str]:
    keys = set(shapes.predicates(qualified))
    if keys != {SH.languageIn}:
        raise ShapesError(f"sh:qualifiedValueShape with {sorted(map(str, keys))} is not compiled")
    head = shapes.value(qualified, SH.languageIn)
    langs = list(Collection(shapes, head)) if isinstance(head, (BNode, URIRef)) else []
    test = " || ".join(f"langMatches(lang(?v_), {_literal(lang)})" for lang in langs)
    counted = _count(path, f"FILTER({test})")
    bodies = []
    for n in shapes.objects(prop, SH.qualifiedMinCount):
        bodies.append(f"OPTIONAL {{ {counted} }} FILTER(COALESCE(?n_, 0) < {int(str(n))})")
    for n in shapes.objects(prop, SH.qualifiedMaxCount):
        bodies.append(f"{counted} FILTER(?n_ > {int(str(n))})")
    return bodies


def _prefixes(shapes: Graph, constraint: Node) -> str:
    lines = []
    for owner in shapes.objects(constraint, SH.prefixes):
        for decl in shapes.objects(owner, SH.declare):
            prefix, namespace = shapes.value(decl, SH.prefix), shapes.value(decl, SH.namespace)
            lines.append(f"PREFIX {prefix}: <{namespace}>")
    return "\n".join(lines)


def _sparql_checks(shapes: Graph, node: URIRef, focus: str) -> list[Check]:
    checks = []
    for constraint in shapes.objects(node, SH.sparql):
        select = shapes.value(constraint, SH.select)
        if select is None:
            raise ShapesError(f"sh:sparql of {node} has no sh:select")
        message = str(shapes.value(constraint, SH.message) or "SHACL violation")
        inner = re.sub(r"\$this\b", "?this", str(select))
        prefixes = _prefixes(shapes, constraint)
        query = (f"{prefixes}\nSELECT DISTINCT ?this ?path ?value WHERE {{ {focus} "
                 f"{{ {inner} }} }}")
        checks.append(Check(str(node), message, query))
    return checks


def compile_shapes(shapes: Graph) -> tuple[Check, ...]:
    """Compile every node shape of a shapes graph into violation queries."""
    checks: list[Check] = []
    for node in sorted(set(shapes.subjects(RDF.type, SH.NodeShape)), key=str):  # type: ignore[arg-type]
        if not isinstance(node, URIRef):
            raise ShapesError("node shapes must be IRIs to be compiled")
        if shapes.value(node, SH.deactivated) is not None:
            continue
        unknown = set(shapes.predicates(node)) - _NODE_KEYS
        if unknown:
            raise ShapesError(f"shape {node} uses {sorted(map(str, unknown))}, not compiled")
        focus = _targets(shapes, node)
        message = str(shapes.value(node, SH.message) or "SHACL violation")
        for cls in shapes.objects(node, SH["class"]):
            checks.append(_check(node, message, focus,
                                 f"BIND(?this AS ?value) FILTER NOT EXISTS "
                                 f"{{ ?this {_TYPE_OF} {_iri(cls)} }}"))
        for prop in shapes.objects(node, SH.property):
            checks.extend(_property_checks(shapes, node, prop, focus))
        checks.extend(_sparql_checks(shapes, node, focus))
    return tuple(checks)
