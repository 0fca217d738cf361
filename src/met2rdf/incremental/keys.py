"""The keys of a build's results: what a cached result depends on, digested.

A note's result key (:func:`note_key`) is made of the base key (the code, the data files,
the vocabulary and whether the build validates), the note's text, its links and the topics
they reach, and the vault names its text could contain.  It is worked out here and nowhere
else: for a note the build only checks, and for one it extracts anew.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ..cache import digest
from ..vocab import Vocabulary, package_data

Links = tuple[tuple[str, str | None], ...]  # (wikilink target, the note it resolves to)


@dataclass(frozen=True, slots=True)
class KeyParts:
    """What a note's result key is made of, besides the base key and its labels."""

    text: str  # digest of the note's path and text
    links: Links
    named: tuple[str, ...]  # "link key=topic IRI" of the links that reach a note's topic


def note_key(base: str, parts: KeyParts, labels: Sequence[str]) -> str:
    """The cache key of a note's result, given the vault labels its text could contain."""
    return digest("note", base, parts.text, repr(parts.links), *parts.named, "\0labels",
                  *labels)


def base_key(vocab: Vocabulary, validate: bool) -> str:
    """The part of every key that is the same for the whole build."""
    return digest(code_version(), vocabulary_digest(vocab), str(validate))


@lru_cache(maxsize=1)
def code_version() -> str:
    """What, besides the vocabulary, a cached result depends on: code and data files."""
    try:
        release = version("met2rdf")
    except PackageNotFoundError:
        release = "source"
    here = Path(__file__).resolve().parent.parent  # the package
    sources = b"".join(p.relative_to(here).as_posix().encode() + b"\0" + p.read_bytes()
                       for p in sorted(here.rglob("*.py")))  # subpackages too
    return digest(release, sources, package_data("cues.toml"), package_data("ontology.ttl"),
                  *(p.read_bytes() for p in _shape_files()))


def _shape_files() -> list[Path]:
    from ..validate import shapes_dir

    return sorted(shapes_dir().glob("*.ttl"))


def vocabulary_digest(vocab: Vocabulary) -> str:
    """A digest of every concept, label and id of a vocabulary."""
    return digest(*(repr(vocab.concepts[iri]) for iri in sorted(vocab.concepts)))
