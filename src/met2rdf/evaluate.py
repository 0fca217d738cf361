"""Score extraction against gold facts with the corpus matching rule.

A graph node matches a gold name when one of its labels (skos:prefLabel, altLabel,
hiddenLabel, rdfs:label), normalised (lower case, whitespace collapsed, hyphens as
spaces, plurals folded), equals the name or one of its synonyms, or when one of its
skos:exactMatch ids equals one of the name's ids.  Scores are micro-averaged over notes,
each note built on its own.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .build import build_notes
from .errors import GoldError
from .extract import RELATIONS
from .graph import RDFS
from .iris import curie_iri
from .model import Problem, SourceSpan
from .vault import find_note_files, read_vault
from .vocab import MET, SKOS, Vocabulary, normalize_label

_LABELS = {SKOS + "prefLabel", SKOS + "altLabel", SKOS + "hiddenLabel", RDFS + "label"}


def norm(text: str) -> str:
    """Normalise a name for matching."""
    return " ".join(normalize_label(text))


@dataclass(frozen=True, slots=True)
class GoldFact:
    """One annotated fact."""

    subject: str
    predicate: str
    object: str
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Entities:
    """Gold names with their synonyms and ids."""

    by_label: dict[str, frozenset[str]]
    by_id: dict[str, frozenset[str]]

    def names_for(self, labels: Iterable[str], ids: Iterable[str]) -> set[str]:
        """Return the gold names a node with these labels and ids matches."""
        names: set[str] = set()
        for label in labels:
            key = norm(label)
            names |= self.by_label.get(key, frozenset())
            names.add(key)
        for ident in ids:
            names |= self.by_id.get(ident, frozenset())
        return names


def read_entities(path: Path | None) -> Entities:
    """Read ``entities.tsv`` (name, type, synonyms, ids)."""
    by_label: dict[str, set[str]] = defaultdict(set)
    by_id: dict[str, set[str]] = defaultdict(set)
    if path is not None:
        with path.open(encoding="utf-8", newline="") as handle:
            for n, row in enumerate(csv.DictReader(handle, delimiter="\t"), start=2):
                if not row.get("name"):
                    raise GoldError(f"{path}:{n}: row has no name (expected name, type, "
                                    "synonyms, ids separated by tabs)")
                name = norm(row["name"])
                by_label[name].add(name)
                for syn in (row.get("synonyms") or "").split("|"):
                    if syn.strip():
                        by_label[norm(syn)].add(name)
                for ident in (row.get("ids") or "").split("|"):
                    if ident.strip():
                        by_id[curie_iri(ident)].add(name)
    return Entities({k: frozenset(v) for k, v in by_label.items()},
                    {k: frozenset(v) for k, v in by_id.items()})


def read_gold(path: Path, note_path: str) -> list[GoldFact]:
    """Read one gold TSV (subject, predicate, object, line)."""
    facts = []
    with path.open(encoding="utf-8", newline="") as handle:
        for n, row in enumerate(csv.DictReader(handle, delimiter="\t"), start=2):
            try:
                facts.append(GoldFact(norm(row["subject"]), row["predicate"].strip(),
                                      norm(row["object"]),
                                      SourceSpan(note_path, int(row["line"]))))
            except (KeyError, TypeError, ValueError) as exc:
                raise GoldError(f"{path}:{n}: bad gold row ({exc}); expected subject, "
                                "predicate, object, line") from exc
    return facts


@dataclass(frozen=True, slots=True)
class Scored:
    """An extracted or gold fact with whether it matched."""

    subject: str
    predicate: str
    object: str
    span: SourceSpan
    matched: bool


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Scores of a run."""

    extracted: tuple[Scored, ...]
    gold: tuple[Scored, ...]
    problems: tuple[Problem, ...] = ()  # problems with the notes (bad frontmatter, ...)

    def counts(self, relation: str | None = None) -> tuple[int, int, int, int]:
        """Return (extracted, correct, gold, found) for one relation or all."""
        ext = [e for e in self.extracted if relation in (None, e.predicate)]
        gold = [g for g in self.gold if relation in (None, g.predicate)]
        return (len(ext), sum(e.matched for e in ext), len(gold), sum(g.matched for g in gold))

    def scores(self, relation: str | None = None) -> tuple[float, float, float]:
        """Return (precision, recall, F1)."""
        ext, correct, gold, found = self.counts(relation)
        p = correct / ext if ext else (1.0 if not gold else 0.0)
        r = found / gold if gold else (1.0 if not ext else 0.0)
        f = 2 * p * r / (p + r) if p + r else 0.0
        return p, r, f


def _value(term: object) -> str:
    return str(getattr(term, "value", term))


def _node_names(triples: list[ox.Triple], entities: Entities) -> dict[str, set[str]]:
    labels: dict[str, list[str]] = defaultdict(list)
    ids: dict[str, list[str]] = defaultdict(list)
    for t in triples:
        p = t.predicate.value
        if p in _LABELS:
            labels[_value(t.subject)].append(_value(t.object))
        elif p == SKOS + "exactMatch":
            ids[_value(t.subject)].append(_value(t.object))
    nodes = set(labels) | set(ids)
    return {n: entities.names_for(labels[n], ids[n]) for n in nodes}


def score_note(triples: list[ox.Triple], gold: list[GoldFact], entities: Entities,
               lines: dict[tuple[str, str, str], SourceSpan]) -> tuple[list[Scored], list[Scored]]:
    """Score the relation triples of one note's graph against its gold facts."""
    names = _node_names(triples, entities)
    extracted = sorted({(_value(t.subject), t.predicate.value[len(MET):], _value(t.object))
                        for t in triples if t.predicate.value.startswith(MET)
                        and t.predicate.value[len(MET):] in RELATIONS})
    gold_hit = [False] * len(gold)
    out_ext = []
    for s, p, o in extracted:
        s_names, o_names = names.get(s, set()), names.get(o, set())
        hit = False
        for i, g in enumerate(gold):
            if g.predicate == p and g.subject in s_names and g.object in o_names:
                gold_hit[i] = True
                hit = True
        label_s = min(s_names, key=lambda x: (len(x), x)) if s_names else s
        label_o = min(o_names, key=lambda x: (len(x), x)) if o_names else o
        out_ext.append(Scored(label_s, p, label_o, lines[(s, p, o)], hit))
    out_gold = [Scored(g.subject, g.predicate, g.object, g.span, hit)
                for g, hit in zip(gold, gold_hit, strict=True)]
    return out_ext, out_gold


def evaluate(notes: Path, gold: Path, entities_path: Path | None,
             vocab: Vocabulary) -> Evaluation:
    """Build each note on its own and score it against its gold file."""
    entities = read_entities(entities_path)
    base, files = find_note_files(notes)
    all_ext: list[Scored] = []
    all_gold: list[Scored] = []
    problems: list[Problem] = []
    for path in files:
        rel = path.relative_to(base).as_posix()
        gold_file = gold if gold.is_file() else gold / (path.name[:-3] + ".tsv")
        if not gold_file.is_file():
            raise GoldError(f"{rel}: no gold file {gold_file} (name it after the note)")
        result = build_notes(read_vault(path), vocab, validate=False)
        problems.extend(result.problems)
        lines: dict[tuple[str, str, str], SourceSpan] = {}
        for fact in result.facts:
            lines.setdefault((fact.subject, fact.predicate, fact.object), fact.span)
        ext, gold_scored = score_note(list(result.triples), read_gold(gold_file, rel),
                                      entities, lines)
        all_ext.extend(ext)
        all_gold.extend(gold_scored)
    return Evaluation(tuple(all_ext), tuple(all_gold), tuple(problems))


def format_evaluation(ev: Evaluation) -> str:
    """Return the score table, then every miss and false fact with path:line."""
    header = (f"{'relation':<12} {'gold':>5} {'found':>6} {'extracted':>9} {'correct':>8} "
              f"{'P':>5} {'R':>5} {'F1':>5}")
    rows = [header]
    for rel in (*RELATIONS, None):
        ext, correct, gold, found = ev.counts(rel)
        p, r, f = ev.scores(rel)
        rows.append(f"{rel or 'overall':<12} {gold:>5} {found:>6} {ext:>9} {correct:>8} "
                    f"{p:>5.2f} {r:>5.2f} {f:>5.2f}")
    misses = [g for g in ev.gold if not g.matched]
    false = [e for e in ev.extracted if not e.matched]
    rows.append(f"\nmisses ({len(misses)}):")
    rows += [f"  {g.span}: {g.subject} {g.predicate} {g.object}" for g in misses]
    rows.append(f"\nfalse facts ({len(false)}):")
    rows += [f"  {e.span}: {e.subject} {e.predicate} {e.object}" for e in false]
    return "\n".join(rows)
