"""Count, per concept type, how many of the concepts that facts use carry an ontology id.

Each note below each NOTES folder (or a single note) is built on its own, as `met2rdf eval`
does; a concept counts once however many facts use it.  "exact" is a skos:exactMatch,
"any" also counts closeMatch/broadMatch/narrowMatch.

    python benchmarks/ids.py NOTES... [--missing]
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from met2rdf.build import build_notes
from met2rdf.vault import find_note_files, read_vault
from met2rdf.vocab import TYPES, default_vocabulary


def main() -> None:
    """Print one row per type and, with --missing, the concepts without an id."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notes", type=Path, nargs="+")
    parser.add_argument("--missing", action="store_true")
    args = parser.parse_args()
    vocab = default_vocabulary()
    used: set[str] = set()
    for folder in args.notes:
        _, files = find_note_files(folder)
        for path in files:
            result = build_notes(read_vault(path), vocab, validate=False)
            for fact in result.facts:
                used.update((fact.subject, fact.object))
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    missing = []
    for iri in sorted(used):
        concept = vocab.concepts.get(iri)
        if concept is None:
            continue
        row = rows[concept.type]
        row[0] += 1
        row[1] += bool(concept.ids)
        row[2] += bool(concept.ids or getattr(concept, "matches", ()))
        if not concept.ids:
            matches = getattr(concept, "matches", ())
            near = f"  ({matches[0][0]} {matches[0][1].rsplit('/', 1)[-1]})" if matches else ""
            missing.append(f"  {concept.type:<18} {concept.pref_label}{near}")
    print(f"{'type':<18} {'used':>5} {'exact':>6} {'any':>6}")
    total = [0, 0, 0]
    for kind in TYPES:
        row = rows.get(kind, [0, 0, 0])
        total = [a + b for a, b in zip(total, row, strict=True)]
        print(f"{kind:<18} {row[0]:>5} {row[1]:>6} {row[2]:>6}")
    print(f"{'all':<18} {total[0]:>5} {total[1]:>6} {total[2]:>6}  "
          f"({total[1] / max(total[0], 1):.0%} exact, {total[2] / max(total[0], 1):.0%} any)")
    if args.missing:
        print("without an exactMatch:")
        print("\n".join(missing))


if __name__ == "__main__":
    main()
