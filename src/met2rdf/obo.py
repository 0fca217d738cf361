"""Read an OBO ontology and turn its terms into SKOS concepts for the vocabulary."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .errors import VocabularyError
from .iris import CONCEPT_BASE, curie_iri
from .vocab import MET, RDF_TYPE, SKOS, TYPES

_SYNONYM = re.compile(r'^"((?:[^"\\]|\\.)*)"\s+(EXACT|BROAD|NARROW|RELATED)\b')
_CURIE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*):([A-Za-z0-9_][A-Za-z0-9_.-]*)$")


@dataclass(frozen=True, slots=True)
class OboTerm:
    """One [Term] stanza: id, name, exact synonyms, is_a parents and where it starts.

    ``scoped`` holds the other synonyms with their scope (``("dizziness", "RELATED")``) and
    ``relations`` the ``relationship:`` lines as (relation, target) pairs.
    """

    id: str
    name: str
    synonyms: tuple[str, ...]
    parents: tuple[str, ...]
    line: int
    scoped: tuple[tuple[str, str], ...] = ()
    relations: tuple[tuple[str, str], ...] = ()


def read_obo(path: Path) -> list[OboTerm]:
    """Read the non-obsolete terms of an OBO file (id, name, EXACT synonyms)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise VocabularyError(f"{path}: cannot read ({exc}); expected an OBO text file") from exc
    terms: list[OboTerm] = []
    stanza: dict[str, list[str]] | None = None
    start = 0

    def close() -> None:
        if stanza is None or "true" in stanza.get("is_obsolete", []):
            return
        ident, name = stanza.get("id", [""])[0], stanza.get("name", [""])[0]
        if not ident:
            raise VocabularyError(f"{path}:{start}: [Term] without an id line")
        if not name:
            return  # a placeholder term (only an id and alt_ids): nothing to match
        if not _CURIE.match(ident):
            raise VocabularyError(f"{path}:{start}: id {ident!r} is not a CURIE like HP:0002094")
        synonyms, scoped = [], []
        for raw in stanza.get("synonym", []):
            m = _SYNONYM.match(raw)
            if m is None:
                continue
            text = m.group(1).replace('\\"', '"')
            if m.group(2) == "EXACT":
                synonyms.append(text)
            else:
                scoped.append((text, m.group(2)))
        parents = tuple(p.split()[0] for p in stanza.get("is_a", []) if p)
        relations = tuple((parts[0], parts[1]) for parts in
                          (r.split() for r in stanza.get("relationship", [])) if len(parts) > 1)
        terms.append(OboTerm(ident, name, tuple(synonyms), parents, start, tuple(scoped),
                             relations))

    for number, line in enumerate(lines, start=1):
        if line.startswith("["):
            close()
            stanza = {} if line.strip() == "[Term]" else None
            start = number
        elif stanza is not None and ":" in line:
            key, _, value = line.partition(":")
            value = re.sub(r"\s+!.*$", "", value.strip())
            stanza.setdefault(key.strip(), []).append(value)
    close()
    if not terms:
        raise VocabularyError(f"{path}: no [Term] stanzas found; expected an OBO ontology")
    return terms


def descendants(terms: list[OboTerm], root: str) -> list[OboTerm]:
    """Return the terms at or below ``root`` in the is_a hierarchy."""
    children: dict[str, list[str]] = {}
    for term in terms:
        for parent in term.parents:
            children.setdefault(parent, []).append(term.id)
    keep, todo = set(), [root]
    while todo:
        ident = todo.pop()
        if ident not in keep:
            keep.add(ident)
            todo.extend(children.get(ident, ()))
    return [t for t in terms if t.id in keep]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "term"


def terms_to_skos(terms: Iterable[OboTerm], concept_type: str,
                  prefixes: Iterable[str] = ()) -> Iterator[ox.Triple]:
    """Yield SKOS triples for OBO terms: one concept each, typed ``met:<concept_type>``.

    Concepts are named after the term's label (``c:bone-pain``), so a term whose label is
    already in the vocabulary adds its id and synonyms to that concept.  ``prefixes``
    keeps only ids with those prefixes (e.g. ``HP``).
    """
    if concept_type not in TYPES:
        raise VocabularyError(f"unknown type {concept_type!r}; expected one of {', '.join(TYPES)}")
    wanted = {p.upper() for p in prefixes}
    seen: set[str] = set()
    for term in terms:
        if wanted and term.id.split(":")[0].upper() not in wanted:
            continue
        node = ox.NamedNode(CONCEPT_BASE + _slug(term.name))
        if node.value in seen:
            continue
        seen.add(node.value)
        yield ox.Triple(node, ox.NamedNode(RDF_TYPE), ox.NamedNode(MET + concept_type))
        yield ox.Triple(node, ox.NamedNode(SKOS + "prefLabel"), ox.Literal(term.name, language="en"))
        for synonym in term.synonyms:
            yield ox.Triple(node, ox.NamedNode(SKOS + "altLabel"),
                            ox.Literal(synonym, language="en"))
        yield ox.Triple(node, ox.NamedNode(SKOS + "exactMatch"), ox.NamedNode(curie_iri(term.id)))
