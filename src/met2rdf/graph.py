"""Notes and facts -> RDF triples (pyoxigraph terms), deterministic IRIs, PROV-O provenance.

Provenance is RDF reification: every relation triple ``s p o`` has a ``met:Fact`` node
(``rdf:subject``/``rdf:predicate``/``rdf:object``) whose ``met:evidence`` nodes each name
the note (``prov:wasDerivedFrom``), the line (``met:line``), the hedge (``met:hedge``) and
the sentence (``met:quote``).  A wikilink to no note is a ``met:UnresolvedLink`` node
with its ``met:target`` and the ``met:line`` of each link to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

import pyoxigraph as ox

from .iris import OBO, encode_segment, evidence_iri, fact_iri, note_iri
from .model import Concept, Fact, Note
from .vocab import MET, SKOS, Vocabulary

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
PROV = "http://www.w3.org/ns/prov#"
XSD = "http://www.w3.org/2001/XMLSchema#"

PREFIXES = {
    "met": MET,
    "c": "https://w3id.org/met2rdf/concept/",
    "note": "https://w3id.org/met2rdf/note/",
    "fact": "https://w3id.org/met2rdf/fact/",
    "ev": "https://w3id.org/met2rdf/evidence/",
    "skos": SKOS,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": "http://www.w3.org/2002/07/owl#",
    "prov": PROV,
    "xsd": XSD,
    "obo": OBO,
    "ncit": "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl#",
    "dcterms": "http://purl.org/dc/terms/",
}

_TYPE = ox.NamedNode(RDF + "type")
_LABEL = ox.NamedNode(RDFS + "label")


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


@lru_cache(maxsize=256)  # the vocabulary's own terms: a few dozen
def _met(name: str) -> ox.NamedNode:
    return ox.NamedNode(MET + name)


@lru_cache(maxsize=1 << 14)
def _concept(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


_XSD_INTEGER = ox.NamedNode(XSD + "integer")
_STATEMENT = ox.NamedNode(RDF + "Statement")
_SUBJECT = ox.NamedNode(RDF + "subject")
_PREDICATE = ox.NamedNode(RDF + "predicate")
_OBJECT = ox.NamedNode(RDF + "object")
_DERIVED = ox.NamedNode(PROV + "wasDerivedFrom")


def _text(value: str) -> ox.Literal:
    return ox.Literal(value)


def _en(value: str) -> ox.Literal:
    return ox.Literal(value, language="en")


def note_triples(note: Note, facts: Iterable[Fact], topic: Concept | None,
                 links: Iterable[tuple[str, str | None]],
                 names: Iterable[str] = ()) -> Iterator[ox.Triple]:
    """Yield the triples of one note: the note node, its facts and their evidence.

    ``names``: the note's title and aliases that become labels of its topic
    (``skos:altLabel``; they live in the note's graph, so the vocabulary graph does not
    change when a note is renamed or its aliases are edited).

    ``links`` pairs each wikilink target with the vault path it resolves to (or None).
    """
    node = _n(note_iri(note.path))
    yield ox.Triple(node, _TYPE, _met("Note"))
    yield ox.Triple(node, _LABEL, _text(note.title))
    yield ox.Triple(node, _met("path"), _text(note.path))
    for alias in note.aliases:
        yield ox.Triple(node, _met("alias"), _text(alias))
    for tag in note.tags:
        yield ox.Triple(node, _met("tag"), _text(tag))
    if topic is not None:
        yield ox.Triple(node, _met("about"), _n(topic.iri))
        for name in names:
            yield ox.Triple(_n(topic.iri), _n(SKOS + "altLabel"), _en(name))
    for target, path in links:
        if path is None:
            yield from _unresolved_link(node, note, target)
        elif path != note.path:
            yield ox.Triple(node, _met("linksTo"), _n(note_iri(path)))
    fact_type, evidence_type = _met("Fact"), _met("Evidence")
    has_evidence, has_line, has_hedge, has_quote = (
        _met("evidence"), _met("line"), _met("hedge"), _met("quote"))
    for fact in facts:
        s, o = _concept(fact.subject), _concept(fact.object)
        p = _met(fact.predicate)
        yield ox.Triple(s, p, o)
        f = _n(fact_iri(fact.subject, fact.predicate, fact.object, note.path))
        yield ox.Triple(f, _TYPE, fact_type)
        yield ox.Triple(f, _TYPE, _STATEMENT)
        yield ox.Triple(f, _SUBJECT, s)
        yield ox.Triple(f, _PREDICATE, p)
        yield ox.Triple(f, _OBJECT, o)
        e = _n(evidence_iri(fact.subject, fact.predicate, fact.object, note.path, fact.span.line))
        yield ox.Triple(f, has_evidence, e)
        yield ox.Triple(e, _TYPE, evidence_type)
        yield ox.Triple(e, _DERIVED, node)
        yield ox.Triple(e, has_line, ox.Literal(str(fact.span.line), datatype=_XSD_INTEGER))
        if fact.hedge:
            yield ox.Triple(e, has_hedge, _text(fact.hedge))
        if fact.text:
            yield ox.Triple(e, has_quote, _text(fact.text))


def _unresolved_link(node: ox.NamedNode, note: Note, target: str) -> Iterator[ox.Triple]:
    """Yield an unresolved wikilink: a node of the note with its target and every line
    that links to it (one node per target, ``<note IRI>#link-<target>``)."""
    link = _n(f"{node.value}#link-{encode_segment(target)}")
    yield ox.Triple(node, _met("unresolvedLink"), link)
    yield ox.Triple(link, _TYPE, _met("UnresolvedLink"))
    yield ox.Triple(link, _met("target"), _text(target))
    for line in sorted({w.span.line for w in note.links if w.target == target}):
        yield ox.Triple(link, _met("line"), ox.Literal(str(line), datatype=_XSD_INTEGER))


def concept_closure(iris: Iterable[str], vocab: Vocabulary) -> list[Concept]:
    """Return the concepts named, plus the sites and broader concepts they point to."""
    todo = sorted(set(iris))
    seen: dict[str, Concept] = {}
    while todo:
        iri = todo.pop()
        if iri in seen or iri not in vocab.concepts:
            continue
        concept = vocab.concepts[iri]
        seen[iri] = concept
        todo.extend(x for x in (concept.site, concept.primary_site, *concept.broader) if x)
    return [seen[k] for k in sorted(seen)]


def concept_triples(concepts: Iterable[Concept]) -> Iterator[ox.Triple]:
    """Yield the SKOS description of concepts: type, labels, ids, site, broader."""
    for c in concepts:
        node = _n(c.iri)
        yield ox.Triple(node, _TYPE, _met(c.type))
        yield ox.Triple(node, _n(SKOS + "prefLabel"), _en(c.pref_label))
        for label in c.labels[1:]:
            yield ox.Triple(node, _n(SKOS + "altLabel"), _en(label))
        for ident in c.ids:
            yield ox.Triple(node, _n(SKOS + "exactMatch"), _n(ident))
        for prop, ident in c.matches:
            yield ox.Triple(node, _n(SKOS + prop), _n(ident))
        if c.site:
            yield ox.Triple(node, _met("site"), _n(c.site))
        for parent in c.broader:
            yield ox.Triple(node, _n(SKOS + "broader"), _n(parent))
        if c.primary_site:
            yield ox.Triple(node, _met("primarySite"), _n(c.primary_site))
        if c.umbrella:
            yield ox.Triple(node, _met("umbrellaTerm"),
                            ox.Literal("true", datatype=_n(XSD + "boolean")))


@lru_cache(maxsize=1)
def ontology_triples() -> tuple[ox.Triple, ...]:
    """Return the met2rdf ontology shipped with the package (parsed once per process)."""
    from .vocab import package_data

    return tuple(q.triple for q in ox.parse(package_data("ontology.ttl"),
                                            format=ox.RdfFormat.TURTLE))


def sort_key(t: ox.Triple) -> tuple[str, str, str]:
    """Order triples by subject IRI, predicate IRI, then the object's N-Triples form, for
    byte-identical output (subjects and predicates are always IRIs here)."""
    subject = t.subject
    return (str(subject) if isinstance(subject, ox.Triple) else subject.value,
            t.predicate.value, str(t.object))
