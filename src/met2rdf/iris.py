"""Mint deterministic, valid IRIs from stable names (note paths, concept IRIs)."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote

BASE = "https://w3id.org/met2rdf/"
NOTE_BASE = BASE + "note/"
FACT_BASE = BASE + "fact/"
EVIDENCE_BASE = BASE + "evidence/"
CONCEPT_BASE = BASE + "concept/"
OBO = "http://purl.obolibrary.org/obo/"  # OBO Foundry PURLs: obo:HP_0002094


_PLAIN = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=@ -]*")  # what quote keeps, and spaces


def encode_segment(text: str) -> str:
    """Percent-encode text for one IRI path segment (any text, injective)."""
    if _PLAIN.fullmatch(text):  # the common case, without urllib's work per character
        encoded = text.replace(" ", "%20")
    else:
        encoded = quote(text, safe="-_~!$&'()*+,;=@")
    if encoded in (".", ".."):
        encoded = encoded.replace(".", "%2E")
    return encoded


@lru_cache(maxsize=1 << 14)
def encode_path(path: str) -> str:
    """Percent-encode a vault-relative path, keeping its ``/`` separators."""
    return "/".join(encode_segment(part) for part in path.split("/"))


def note_iri(path: str) -> str:
    """Return the IRI of the note at a vault-relative path."""
    return NOTE_BASE + encode_path(path)


@lru_cache(maxsize=1 << 14)
def local_name(iri: str) -> str:
    """Return a readable, IRI-safe local name for a concept IRI."""
    if iri.startswith(CONCEPT_BASE):
        return iri[len(CONCEPT_BASE):]
    return encode_segment(iri)


def fact_iri(subject: str, predicate: str, obj: str, path: str) -> str:
    """Return the IRI of the reified fact (subject, predicate, object) as one note states it.

    One node per note, so every triple about it lies in that note's graph only: queries
    over the union of the graphs see each once.
    """
    return f"{FACT_BASE}{local_name(subject)}.{predicate}.{local_name(obj)}/{encode_path(path)}"


def evidence_iri(subject: str, predicate: str, obj: str, path: str, line: int) -> str:
    """Return the IRI of one piece of evidence: a fact stated at path:line."""
    return (f"{EVIDENCE_BASE}{local_name(subject)}.{predicate}.{local_name(obj)}/"
            f"{encode_path(path)}/L{line}")


def curie_iri(curie: str) -> str:
    """Return the OBO PURL of a CURIE (``HP:0002094`` or ``hp:0002094`` ->
    ``http://purl.obolibrary.org/obo/HP_0002094``: OBO id spaces are upper case in PURLs)."""
    prefix, _, local = curie.strip().partition(":")
    return f"{OBO}{prefix.upper()}_{local}"


def curie_of(iri: str) -> str:
    """Return the CURIE of an OBO PURL (``.../obo/HP_0002094`` -> ``HP:0002094``); any
    other IRI as it is."""
    if iri.startswith(OBO) and "_" in iri:
        return iri[len(OBO):].replace("_", ":", 1)
    return iri
