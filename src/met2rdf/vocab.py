"""Load the SKOS vocabulary (package data) and find its concepts in text."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import pickle
import re
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pyoxigraph as ox

from .errors import VocabularyError
from .model import Concept, Mention

MET = "https://w3id.org/met2rdf/vocab#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
CONCEPT_BASE = "https://w3id.org/met2rdf/concept/"

TYPES = ("CancerType", "Metastasis", "AnatomicalSite", "Symptom", "DiagnosticModality",
         "Treatment", "SpreadRoute")
SUBJECT_TYPES = frozenset({"CancerType", "Metastasis"})

_IRREGULAR = {
    "metastases": "metastasis", "diagnoses": "diagnosis", "prognoses": "prognosis",
    "vertebrae": "vertebra", "bronchi": "bronchus", "foci": "focus", "nuclei": "nucleus",
    "lymphomata": "lymphoma", "carcinomata": "carcinoma", "metastasize": "metastasise",
}
# words, and a + or - right after one that ends it ("ER+", "HER2-"): a receptor status
_TOKEN = re.compile(r"[^\W_]+|(?<=[^\W_])[+-](?![^\W_])")
_SIGNS = {"+": "positive", "-": "negative"}
_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")


def fold_word(word: str) -> str:
    """Fold one word for matching: lower case, no accents, plural to singular, British
    spellings of medical words to American (haematuria, oedema, diarrhoea, tumour)."""
    return _american(_singular(word.lower()))


def _singular(w: str) -> str:
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    if len(w) < 3 or not w.endswith("s") or w.endswith(("ss", "us", "is")):
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("xes", "shes", "sses")):
        return w[:-2]
    return w[:-1]


_BRITISH = re.compile(r"(?<=[a-z])ae(?=[a-z])|^oe(?=[a-z]{3})|(?<=[cm])oe(?=[a-z])"
                      r"|(?<=[a-z]{2})oea(?=$|[lc])|(?<=[a-z]{3})our$")


_AMERICAN = {"ae": "e", "oe": "e", "oea": "ea", "our": "or"}


def _american(w: str) -> str:
    """"haematuria" -> "hematuria", "oedema" -> "edema", "diarrhoea" -> "diarrhea",
    "tumour" -> "tumor" (in words long enough not to be other words: four, shoe)."""
    if len(w) < 6 or not _BRITISH.search(w):
        return w
    return _BRITISH.sub(lambda m: _AMERICAN[m.group()], w)


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=1 << 16)
def _token(word: str) -> tuple[str, bool]:
    """Fold one word and tell whether it is written in capitals (an acronym's plural too);
    a sign after a word is that word's status ("HER2+": HER2 positive)."""
    if word in _SIGNS:
        return _SIGNS[word], True
    plain = word if word.isascii() else _strip_accents(word)
    caps = plain == plain.upper()
    if not caps and len(plain) > 2 and plain[-1] == "s" and plain[:-1].isupper():
        caps, plain = True, plain[:-1]  # an acronym's plural: MRIs, CTs
    return fold_word(plain), caps


def _words_of(text: str) -> str:
    """The text with possessive endings blanked ("Paget's" reads as "Paget"), offsets kept."""
    return _POSSESSIVE.sub("  ", text) if "'" in text or "’" in text else text


def tokenize(text: str) -> list[tuple[str, bool, int, int]]:
    """Split text into word tokens: (folded form, written in capitals, start, end)."""
    return [(*_token(m.group()), *m.span()) for m in _TOKEN.finditer(_words_of(text))]


def folded_words(text: str) -> list[str]:
    """The folded forms of ``tokenize(text)`` alone (faster: no positions)."""
    return [_token(word)[0] for word in _TOKEN.findall(_words_of(text))]


_NORMALIZED: dict[str, tuple[str, ...]] = {}


def normalize_label(label: str) -> tuple[str, ...]:
    """Return the folded token sequence a label matches (remembered for the process)."""
    found = _NORMALIZED.get(label)
    if found is None:
        found = _NORMALIZED[label] = tuple(folded_words(label))
    return found


def normalized(labels: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The token sequences of some labels, to save (see ``remember_normalized``)."""
    return {label: normalize_label(label) for label in labels}


def remember_normalized(saved: Mapping[str, tuple[str, ...]]) -> None:
    """Take token sequences computed by an earlier process (by this code: the build index
    that holds them is keyed by the code's digest)."""
    _NORMALIZED.update(saved)


def is_acronym(label: str) -> bool:
    """Tell whether a label is written in capitals and so matches case-sensitively."""
    if label.isascii():  # the common case, without a pass per character
        return label.upper() == label and label.lower() != label
    letters = [c for c in label if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


_LOOKUPS_KEPT = 200_000  # exact-label lookups a vocabulary remembers for its lifetime
_SHORT_TEXT = 80  # texts up to this long: their mentions are remembered too


class Vocabulary:
    """Concepts by IRI and a longest-match dictionary of their labels (and the exact-label
    lookups made on it, remembered while it lives: it never changes once built)."""

    def __init__(self, concepts: Iterable[Concept]) -> None:
        self.concepts: dict[str, Concept] = {c.iri: c for c in concepts}
        self._index: dict[tuple[str, ...], list[tuple[Concept, bool]]] = {}
        # per first word, the lengths of the labels starting with it, longest first
        self._lengths: dict[str, tuple[int, ...]] = {}
        for concept in sorted(self.concepts.values(), key=lambda c: c.iri):
            for label in concept.labels:
                key = normalize_label(label)
                if not key:
                    continue
                entries = self._index.setdefault(key, [])
                acronym = is_acronym(label)
                if all(e[0].iri != concept.iri or e[1] != acronym for e in entries):
                    entries.append((concept, acronym))
                self._add_length(key)

        self.metastasis_of: dict[str, Concept] = {}  # site IRI -> its metastasis concept
        self.cancer_of: dict[str, Concept] = {}  # organ IRI -> the cancer that starts there
        for concept in sorted(self.concepts.values(), key=lambda c: (bool(c.broader), c.iri)):
            if concept.type == "Metastasis" and concept.site is not None:
                self.metastasis_of.setdefault(concept.site, concept)
            if concept.type == "CancerType" and concept.primary_site is not None:
                self.cancer_of.setdefault(concept.primary_site, concept)

    def __len__(self) -> int:
        return len(self.concepts)

    def _add_length(self, key: tuple[str, ...]) -> None:
        lengths = self._lengths.get(key[0], ())
        if len(key) not in lengths:
            self._lengths[key[0]] = tuple(sorted((*lengths, len(key)), reverse=True))

    def with_labels(self, extra: Mapping[str, Iterable[str]]) -> Vocabulary:
        """Return a copy where the given concepts carry extra labels (e.g. note aliases).

        Equal to a vocabulary built afresh from the changed concepts, but only the changed
        concepts are indexed again (a vault has thousands of aliases).
        """
        changed: dict[str, Concept] = {}
        for iri, labels in extra.items():
            concept = changed.get(iri, self.concepts[iri])
            new = tuple(dict.fromkeys(lab for lab in labels if lab not in concept.labels))
            if new:
                changed[iri] = replace(concept, labels=concept.labels + new)
        if not changed:
            return self
        copy = Vocabulary.__new__(Vocabulary)
        copy.concepts = {**self.concepts, **changed}
        copy._index = dict(self._index)
        copy._lengths = dict(self._lengths)
        for iri, concept in changed.items():
            old = self.concepts[iri]
            for label in old.labels:
                key = normalize_label(label)
                if key:
                    copy._index[key] = [(concept if c.iri == iri else c, a)
                                        for c, a in copy._index[key]]
            for label in concept.labels[len(old.labels):]:
                key = normalize_label(label)
                if not key:
                    continue
                entries = list(copy._index.get(key, ()))
                if all(e[0].iri != iri or e[1] != is_acronym(label) for e in entries):
                    entries.append((concept, is_acronym(label)))
                    entries.sort(key=lambda e: e[0].iri)  # stable: a concept's labels in order
                copy._index[key] = entries
                copy._add_length(key)
        copy.metastasis_of = {k: copy.concepts[v.iri] for k, v in self.metastasis_of.items()}
        copy.cancer_of = {k: copy.concepts[v.iri] for k, v in self.cancer_of.items()}
        return copy

    def _lookup(self, tokens: Sequence[tuple[str, bool]], i: int, n: int,
                key: tuple[str, ...]) -> Concept | None:
        """The concept labelled ``key``, the folded words of ``tokens[i:i + n]``."""
        for concept, acronym in self._index.get(key, ()):
            if not acronym or all(t[1] for t in tokens[i:i + n]):
                return concept
        return None

    def find(self, text: str) -> list[Mention]:
        """Find concept mentions in text, longest match first, left to right (short texts,
        titles and list items that recur, are remembered like lookups)."""
        if len(text) > _SHORT_TEXT:
            return self._find(text)
        memo = self.__dict__.setdefault("_found", {})
        found = memo.get(text)
        if found is None:
            found = self._find(text)
            if len(memo) < _LOOKUPS_KEPT:
                memo[text] = found
        return list(found)

    def _find(self, text: str) -> list[Mention]:
        # the words of tokenize(text), their positions taken only where a label matches
        spans = list(_TOKEN.finditer(_words_of(text)))
        tokens = [_token(m.group()) for m in spans]
        words = [t[0] for t in tokens]
        mentions: list[Mention] = []
        i, count = 0, len(tokens)
        lengths = self._lengths
        while i < count:
            for n in lengths.get(words[i], ()):  # only lengths some label has
                if n > count - i:
                    continue
                concept = self._lookup(tokens, i, n, tuple(words[i:i + n]))
                if concept is not None:
                    start, end = spans[i].start(), spans[i + n - 1].end()
                    mentions.append(Mention(concept, start, end, text[start:end]))
                    i += n
                    break
            else:
                i += 1
        return mentions

    def is_ambiguous(self, mention: Mention) -> bool:
        """Tell whether a mention was found by a label its concept marks as ambiguous
        (``met:ambiguousLabel``: GBM, ALL, PE), one that names other things in other fields
        and should count only when the note's context supports the concept."""
        key = normalize_label(mention.text)
        return any(normalize_label(label) == key for label in mention.concept.ambiguous)

    def lookup(self, label: str) -> Concept | None:
        """Return the concept whose label is exactly ``label`` (after folding), if any."""
        memo = self.__dict__.setdefault("_looked_up", {})
        if label in memo:
            return memo[label]
        tokens = tokenize(label)
        found = self._lookup(tokens, 0, len(tokens), tuple(t[0] for t in tokens)) \
            if tokens else None
        if len(memo) < _LOOKUPS_KEPT:
            memo[label] = found
        return found

    def __getstate__(self) -> dict[str, object]:
        """Pickle the concepts and indexes, not the lookups this process remembered."""
        return {k: v for k, v in self.__dict__.items() if k not in ("_looked_up", "_found")}


MATCHES = ("closeMatch", "broadMatch", "narrowMatch", "relatedMatch")


def parse_vocabulary(data: bytes, source: str) -> Vocabulary:
    """Build a vocabulary from SKOS Turtle bytes."""
    return Vocabulary(concepts_of([(data, source)]))


def concepts_of(parts: Iterable[tuple[bytes, str]]) -> list[Concept]:
    """Read the concepts that SKOS Turtle files describe together (``(bytes, source)``).

    A later file may add labels and mappings to a concept an earlier one types and names.
    """
    triples = []
    for data, source in parts:
        try:
            triples.extend(ox.parse(data, format=ox.RdfFormat.TURTLE))
        except SyntaxError as exc:
            raise VocabularyError(f"{source}: {exc} (the vocabulary must be valid Turtle)") from exc
    types: dict[str, str] = {}
    pref: dict[str, str] = {}
    labels: dict[str, list[str]] = {}
    ids: dict[str, list[str]] = {}
    matches: dict[str, list[tuple[str, str]]] = {}
    site: dict[str, str] = {}
    broader: dict[str, list[str]] = {}
    umbrella: set[str] = set()
    ambiguous: dict[str, list[str]] = {}
    primary: dict[str, str] = {}
    labels_of = {SKOS + "altLabel": labels, SKOS + "hiddenLabel": labels,
                 MET + "ambiguousLabel": ambiguous}
    matches_of = {SKOS + name: name for name in MATCHES}
    pref_label, exact, met_site = SKOS + "prefLabel", SKOS + "exactMatch", MET + "site"
    broader_of, primary_of, umbrella_of = SKOS + "broader", MET + "primarySite", MET + "umbrellaTerm"
    for t in triples:
        s, p, o = t.subject.value, t.predicate.value, t.object
        if p in labels_of:
            labels_of[p].setdefault(s, []).append(o.value)
        elif p == exact:
            ids.setdefault(s, []).append(o.value)
        elif p == pref_label:
            pref.setdefault(s, o.value)
        elif p == RDF_TYPE and o.value.startswith(MET) and o.value[len(MET):] in TYPES:
            types[s] = o.value[len(MET):]
        elif p in matches_of:
            matches.setdefault(s, []).append((matches_of[p], o.value))
        elif p == broader_of:
            broader.setdefault(s, []).append(o.value)
        elif p == met_site:
            site[s] = o.value
        elif p == primary_of:
            primary[s] = o.value
        elif p == umbrella_of and o.value == "true":
            umbrella.add(s)
    concepts = []
    for iri, kind in types.items():
        if iri not in pref:
            raise VocabularyError(f"{source}: concept <{iri}> has no skos:prefLabel")
        names = {*labels.get(iri, ()), *ambiguous.get(iri, ())} - {pref[iri]}
        concepts.append(Concept(iri=iri, type=kind, pref_label=pref[iri],
                                labels=(pref[iri], *sorted(names)),
                                ids=tuple(sorted(set(ids.get(iri, ())))), site=site.get(iri),
                                broader=tuple(sorted(set(broader.get(iri, ())))),
                                primary_site=primary.get(iri), umbrella=iri in umbrella,
                                matches=tuple(sorted(set(matches.get(iri, ())))),
                                ambiguous=tuple(sorted(set(ambiguous.get(iri, ()))))))
    return concepts


def package_data(name: str) -> bytes:
    """Return the bytes of a data file shipped with the package."""
    return resources.files("met2rdf").joinpath("data").joinpath(name).read_bytes()


SHIPPED = ("vocab.ttl", "terms.ttl")  # the curated layer, then the terms derived from ontologies


@lru_cache(maxsize=1)
def default_vocabulary() -> Vocabulary:
    """Return the vocabulary shipped with met2rdf: the curated concepts of vocab.ttl and
    those derived from standard ontologies in terms.ttl (``python -m met2rdf.lexicon``).

    Parsing its ~20,000 concepts takes about a second, so the parsed vocabulary is kept
    in the user's cache folder (``$XDG_CACHE_HOME/met2rdf`` or ``~/.cache/met2rdf``),
    keyed by the data files and the code that reads them; reading it back takes ~0.1 s.
    A cache that cannot be read or written is passed over.
    """
    data = [package_data(name) for name in SHIPPED]
    key = hashlib.sha256(b"\0".join([*_reader_sources(), *data])).hexdigest()[:32]
    cached = _read_cached(key)
    if cached is not None:
        return cached
    vocab = Vocabulary(concepts_of((part, f"met2rdf/data/{name}")
                                   for part, name in zip(data, SHIPPED, strict=True)))
    _write_cached(key, vocab)
    return vocab


def _reader_sources() -> list[bytes]:
    """The code a pickled vocabulary depends on (its classes), with the Python version."""
    here = Path(__file__).resolve().parent
    return [sys.version.encode(), *((here / name).read_bytes() for name in ("vocab.py",
                                                                            "model.py"))]


def _cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "met2rdf"


def _read_cached(key: str) -> Vocabulary | None:
    try:
        data = (_cache_folder() / f"vocabulary-{key}.pickle").read_bytes()
        gc.disable()  # many small objects: the collector would run again and again
        try:
            vocab = pickle.loads(data)
        finally:
            gc.enable()
    except Exception:  # noqa: BLE001 - any failure of an old or broken cache file
        return None
    return vocab if isinstance(vocab, Vocabulary) else None


def _write_cached(key: str, vocab: Vocabulary) -> None:
    folder = _cache_folder()
    target = folder / f"vocabulary-{key}.pickle"
    tmp = folder / f".{target.name}.{os.getpid()}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(pickle.dumps(vocab, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, target)
        for old in folder.glob("vocabulary-*.pickle"):
            if old != target:
                old.unlink(missing_ok=True)  # a vocabulary of an older release or code
    except OSError:
        with contextlib.suppress(OSError):  # the folder may be a file, or read-only
            tmp.unlink(missing_ok=True)


def load_vocabulary(paths: Iterable[Path] = ()) -> Vocabulary:
    """Return the shipped vocabulary merged with extra SKOS Turtle files."""
    base = default_vocabulary()
    extra = [parse_vocabulary(_read(p), str(p)) for p in paths]
    if not extra:
        return base
    return merge_vocabularies(base, extra)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise VocabularyError(f"{path}: cannot read the vocabulary ({exc.strerror})") from exc


def merge_vocabularies(base: Vocabulary, extra: Iterable[Vocabulary]) -> Vocabulary:
    """Add concepts, labels and ids of extra vocabularies to a base one.

    A concept with the IRI of a base concept adds its labels and ids to it; a label that
    already names another concept keeps its meaning and is dropped from the newcomer.
    """
    concepts = dict(base.concepts)
    taken = {normalize_label(label): c.iri for c in base.concepts.values() for label in c.labels}
    for vocab in extra:
        for iri, new in sorted(vocab.concepts.items()):
            old = concepts.get(iri)
            labels = [lab for lab in new.labels if taken.get(normalize_label(lab), iri) == iri]
            if old is not None:
                concepts[iri] = replace(
                    old, labels=old.labels + tuple(x for x in labels if x not in old.labels),
                    ids=tuple(sorted(set(old.ids) | set(new.ids))),
                    matches=tuple(sorted(set(old.matches) | set(new.matches))))
            elif labels:
                pref = new.pref_label if new.pref_label in labels else labels[0]
                concepts[iri] = replace(new, pref_label=pref,
                                        labels=(pref, *[x for x in labels if x != pref]))
            for label in labels:
                taken.setdefault(normalize_label(label), iri)
    return Vocabulary(concepts.values())
