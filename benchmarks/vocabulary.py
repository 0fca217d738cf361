"""Time the vocabulary: labels, load time (parse + index) and matching time per note.

Compares the curated layer alone (data/vocab.ttl, the vocabulary shipped before the
derived terms) with the shipped vocabulary (vocab.ttl + terms.ttl), matching every block
of the notes below NOTES (median of several runs).

    python benchmarks/vocabulary.py NOTES [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from met2rdf.parse import parse_note
from met2rdf.vault import read_vault
from met2rdf.vocab import SHIPPED, Vocabulary, concepts_of, package_data


def _load(names: tuple[str, ...]) -> tuple[Vocabulary, float, float]:
    started = time.perf_counter()
    concepts = concepts_of((package_data(n), n) for n in names)
    parsed = time.perf_counter()
    vocab = Vocabulary(concepts)
    return vocab, parsed - started, time.perf_counter() - parsed


def main() -> None:
    """Print one row per vocabulary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notes", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    notes = [parse_note(n) for n in read_vault(args.notes) if not isinstance(n, str)
             and hasattr(n, "text")]
    texts = [[b.text for b in note.blocks] for note in notes]
    words = sum(len(t.split()) for blocks in texts for t in blocks)
    print(f"{len(notes)} notes, {words} words")
    print(f"{'vocabulary':<22} {'concepts':>8} {'labels':>7} {'parse s':>8} {'index s':>8} "
          f"{'find ms/note':>12} {'mentions':>8}")
    for name, files in (("curated (vocab.ttl)", SHIPPED[:1]), ("shipped (+terms.ttl)", SHIPPED)):
        loads = [_load(files) for _ in range(args.runs)]
        vocab = loads[0][0]
        finds, mentions = [], 0
        for _ in range(args.runs):
            started = time.perf_counter()
            mentions = sum(len(vocab.find(t)) for blocks in texts for t in blocks)
            finds.append((time.perf_counter() - started) / len(notes) * 1000)
        labels = sum(len(c.labels) for c in vocab.concepts.values())
        print(f"{name:<22} {len(vocab):>8} {labels:>7} "
              f"{statistics.median(x[1] for x in loads):>8.3f} "
              f"{statistics.median(x[2] for x in loads):>8.3f} "
              f"{statistics.median(finds):>12.3f} {mentions:>8}")


if __name__ == "__main__":
    main()
