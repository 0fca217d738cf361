"""Questions in plain words: canned SPARQL shipped as ``queries/*.rq``, their arguments
resolved to concepts through labels and synonyms and bound as a ``VALUES`` block.

Only the IRIs of resolved concepts are bound (an IRI the store holds is valid, so it cannot
break out of ``<...>``), never the words typed.  A ``VALUES`` block at the head of the
``WHERE`` clause lets the query planner start from the concept; values substituted after
planning (SEP-0007) do not, and on a million triples that is seconds instead of
milliseconds.

A question file starts with comment lines: the first is the question, then one
``# param: NAME TYPE...`` line per argument, naming the query variable it binds and the
concept types it accepts.  Adding a question means adding a file.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pyoxigraph as ox

from .errors import QueryError, UnknownConceptError
from .model import Concept
from .query import Results, run_query
from .store import dataset_key
from .vocab import TYPES, Vocabulary, default_vocabulary, normalize_label

_TYPE_WORDS = {
    "CancerType": "cancer type", "Metastasis": "metastasis", "AnatomicalSite": "site",
    "Symptom": "symptom", "DiagnosticModality": "test", "Treatment": "treatment",
    "SpreadRoute": "route",
}
_CONCEPTS = f"""
SELECT ?concept ?class ?pref ?label WHERE {{
  VALUES ?class {{ {" ".join(f"met:{t}" for t in TYPES)} }}
  ?concept a ?class ; skos:prefLabel ?pref .
  OPTIONAL {{ ?concept skos:altLabel|skos:hiddenLabel ?label }}
}}"""


@dataclass(frozen=True, slots=True)
class Param:
    """One argument of a question: the variable it binds and the concept types it accepts."""

    name: str
    types: tuple[str, ...]

    @property
    def kinds(self) -> str:
        """Return the accepted types in words: "cancer type or metastasis"."""
        return " or ".join(_TYPE_WORDS[t] for t in self.types)


@dataclass(frozen=True, slots=True)
class Question:
    """A canned question: its name (the file stem), its wording, arguments and SPARQL."""

    name: str
    title: str
    params: tuple[Param, ...]
    sparql: str

    @property
    def usage(self) -> str:
        """Return how to ask it: ``spread CANCER``."""
        return " ".join([self.name, *(p.name.upper() for p in self.params)])


def parse_question(name: str, text: str) -> Question:
    """Read a question file's header comments and keep its SPARQL."""
    header = [line[1:].strip() for line in text.splitlines() if line.startswith("#")]
    if not header:
        raise QueryError(f"{name}.rq:1: a question file starts with '# the question'")
    if _WHERE.search(text) is None:
        raise QueryError(f"{name}.rq: a question needs a 'WHERE {{' clause to bind its "
                         "arguments in")
    params = []
    for line in header[1:]:
        key, _, value = line.partition(":")
        if key.strip() != "param":
            continue
        var, *types = value.split()
        unknown = [t for t in types if t not in TYPES]
        if not types or unknown:
            raise QueryError(f"{name}.rq: param {var}: types must be among {', '.join(TYPES)}")
        params.append(Param(var, tuple(types)))
    return Question(name, header[0], tuple(params), text)


@lru_cache(maxsize=1)
def load_questions() -> dict[str, Question]:
    """Return the questions shipped with the package, by name."""
    folder = resources.files("met2rdf").joinpath("queries")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".rq")), key=lambda f: f.name)
    return {f.name[:-3]: parse_question(f.name[:-3], f.read_text(encoding="utf-8"))
            for f in files}


def store_concepts(store: ox.Store) -> list[Concept]:
    """Return the concepts described in the store, with all their labels."""
    found: dict[str, tuple[str, str, list[str]]] = {}
    rows = run_query(store, _CONCEPTS)
    assert isinstance(rows, ox.QuerySolutions)
    for row in rows:
        cls = row["class"].value.rsplit("#", 1)[-1]
        if cls not in TYPES:
            continue
        iri = row["concept"].value
        _, _, labels = found.setdefault(iri, (cls, row["pref"].value, []))
        if row["label"] is not None:
            labels.append(row["label"].value)
    return [Concept(iri=iri, type=cls, pref_label=pref, labels=(pref, *sorted(set(labels))))
            for iri, (cls, pref, labels) in sorted(found.items())]


def resolve_concept(text: str, param: Param, concepts: list[Concept]) -> Concept:
    """Return the concept of an accepted type that ``text`` names (case and plurals folded).

    Raises :class:`UnknownConceptError` with close matches when none fits.
    """
    return _resolve(text, param, tuple(concepts))


def _resolve(text: str, param: Param, concepts: tuple[Concept, ...]) -> Concept:
    accepted = [c for c in concepts if c.type in param.types]
    concept = _lookup(_vocabulary(concepts, param.types), text)
    if concept is not None:
        return concept
    other = _lookup(_vocabulary(concepts, None), text)
    if other is not None:
        reason = (f"{text!r} is a {_TYPE_WORDS[other.type]} ({other.pref_label}); "
                  f"{param.name.upper()} must be a {param.kinds}")
    else:
        reason = f"no {param.kinds} is called {text!r}"
    close = close_matches(text, accepted)
    raise UnknownConceptError(reason, close)


@lru_cache(maxsize=16)
def _vocabulary(concepts: tuple[Concept, ...], types: tuple[str, ...] | None) -> Vocabulary:
    """The concepts (of some types) as a vocabulary to look names up in."""
    return Vocabulary(c for c in concepts if types is None or c.type in types)


_KNOWN: dict[str, tuple[Concept, ...]] = {}


def known_concepts(store: ox.Store) -> tuple[Concept, ...]:
    """The packaged vocabulary's concepts, updated by those the store describes.

    Kept for the process by the key of the store's contents (a store made by ``build``), so
    a process that asks many questions reads the concepts once.
    """
    key = dataset_key(store)
    if key is not None and key in _KNOWN:
        return _KNOWN[key]
    known = {c.iri: c for c in default_vocabulary().concepts.values()}
    known.update((c.iri, c) for c in store_concepts(store))
    concepts = tuple(known.values())
    if key is not None:
        _KNOWN.clear()
        _KNOWN[key] = concepts
    return concepts


def _lookup(vocab: Vocabulary, text: str) -> Concept | None:
    """Look a label up; typed in lower case, it may still name an acronym ("crc")."""
    return vocab.lookup(text) or vocab.lookup(text.upper())


def close_matches(text: str, concepts: list[Concept], most: int = 5) -> tuple[str, ...]:
    """Return preferred labels of the concepts whose labels look most like ``text``."""
    wanted = " ".join(normalize_label(text))
    by_label: dict[str, str] = {}
    for c in concepts:
        for label in c.labels:
            by_label.setdefault(" ".join(normalize_label(label)), c.pref_label)
    words = set(wanted.split())
    containing = sorted({pref for label, pref in by_label.items()
                         if words and words <= set(label.split())})
    similar = [by_label[m] for m in difflib.get_close_matches(wanted, by_label, n=most * 3)]
    return tuple(dict.fromkeys([*similar, *containing]))[:most]


@dataclass(frozen=True, slots=True)
class Answer:
    """A question, the concepts its arguments named, and the results."""

    question: Question
    concepts: tuple[Concept, ...]
    results: Results


def group_words(question: Question, words: Sequence[str],
                concepts: Sequence[Concept]) -> tuple[str, ...]:
    """Return a question's arguments from words typed without quotes: ``spread breast
    cancer`` is ``spread 'breast cancer'``.  With several arguments the words are grouped
    the one way whose every group names a concept; none or more than one way raises
    UnknownConceptError asking for quotes."""
    wanted = len(question.params)
    if len(words) == wanted or wanted == 0:
        return tuple(words)
    if wanted == 1:
        return (" ".join(words),)
    known = tuple(concepts)
    fits = []
    for cuts in itertools.combinations(range(1, len(words)), wanted - 1):
        groups = [" ".join(words[a:b]) for a, b in zip((0, *cuts), (*cuts, len(words)))]
        if all(_lookup(_vocabulary(known, p.types), g) is not None
               for p, g in zip(question.params, groups)):
            fits.append(tuple(groups))
    if len(fits) == 1:
        return fits[0]
    how = "no" if not fits else f"{len(fits)}"
    raise UnknownConceptError(
        f"{how} way{'s' if fits else ''} to read {' '.join(words)!r} as "
        f"{' '.join(p.name.upper() for p in question.params)}; quote each name of several "
        f"words: met2rdf ask {question.name} "
        f"{' '.join(repr(p.name.upper()) for p in question.params)}")


def ask(store: ox.Store, question: Question, args: Sequence[str]) -> Answer:
    """Answer a question on the store, its arguments resolved to concepts and bound.

    More words than arguments are grouped into names (:func:`group_words`)."""
    if len(args) < len(question.params) or (args and not question.params):
        raise QueryError(f"{question.name}: expects {len(question.params)} argument(s): "
                         f"met2rdf ask {question.usage}")
    concepts: tuple[Concept, ...] = ()
    if question.params:
        known = known_concepts(store)
        args = group_words(question, args, known)
        concepts = tuple(_resolve(text, p, known) for p, text in zip(question.params, args))
    sparql = bind_values(question.sparql, {p.name: ox.NamedNode(c.iri)
                                           for p, c in zip(question.params, concepts)})
    return Answer(question, concepts, run_query(store, sparql, f"{question.name}.rq"))


_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


_SUBSELECT = re.compile(r"\s*\{\s*SELECT\b[^{}]*", re.IGNORECASE)
_COMMENT = re.compile(r"#[^\n]*")


def bind_values(sparql: str, bound: Mapping[str, ox.NamedNode]) -> str:
    """Bind variables to IRIs with one ``VALUES`` row at the head of the first WHERE, or,
    when that WHERE opens with a sub-SELECT (an answer grouped per row), at the head of the
    sub-SELECT's WHERE, so the grouping starts from the concept too."""
    if not bound:
        return sparql
    matches = list(_WHERE.finditer(sparql))
    assert matches  # parse_question checks
    match = matches[0]
    if len(matches) > 1 and _SUBSELECT.fullmatch(
            _COMMENT.sub("", sparql[match.end():matches[1].start()])):
        match = matches[1]
    names = " ".join(f"?{k}" for k in bound)
    row = " ".join(str(v) for v in bound.values())
    return f"{sparql[:match.end()]} VALUES ({names}) {{ ({row}) }}{sparql[match.end():]}"
