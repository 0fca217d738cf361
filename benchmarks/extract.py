"""Time parsing and extraction per note, one process, on a seeded synthetic vault.

Prints CPU milliseconds per note for parsing and for extraction (the median of several
rounds; CPU time, so that other work on a shared machine counts less) and the facts found.  To compare two versions side by side on one machine, run
it for each checkout in the same shell command, alternating, with the same vault:

    python benchmarks/extract.py --notes 600 --vault /tmp/v --rounds 5
    PYTHONPATH=../other/src python benchmarks/extract.py --vault /tmp/v --rounds 5

A folder of real notes can be given with ``--vault`` instead (it is read, not written,
when it already holds notes).
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=600)
    parser.add_argument("--vault", type=Path, default=Path("/tmp/met2rdf-extract-bench"))
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from met2rdf import extract
    try:
        from met2rdf.extract.cues import load_cues
        cues = load_cues()
    except ImportError:  # a version before the extract package (757c318): no cue memo
        cues = None
    from met2rdf.model import SourceNote
    from met2rdf.parse import parse_note
    from met2rdf.vocab import default_vocabulary

    if not any(args.vault.glob("*.md")):
        sys.path.insert(0, str(HERE))
        from generate import generate
        generate(args.vault, args.notes, seed=7)
    files = sorted(args.vault.rglob("*.md"))
    sources = [SourceNote(path=f.name, title=f.stem, text=f.read_text(encoding="utf-8"))
               for f in files]
    shipped = pickle.dumps(default_vocabulary())
    parse_ms, extract_ms, facts = [], [], 0
    for _ in range(args.rounds):
        vocab = pickle.loads(shipped)  # a fresh copy: nothing remembered from a round before
        getattr(cues, "frame_memo", {}).clear()  # nor the frames of section labels
        start = time.process_time()
        notes = [parse_note(s) for s in sources]
        middle = time.process_time()
        found = [extract.extract_facts(n, vocab) for n in notes]
        end = time.process_time()
        parse_ms.append((middle - start) * 1000 / len(sources))
        extract_ms.append((end - middle) * 1000 / len(sources))
        facts = sum(len(f) for f in found)
    print(f"{Path(extract.__file__).resolve().parent}: {len(sources)} notes, {facts} facts; "
          f"parse {statistics.median(parse_ms):.2f} ms/note, "
          f"extract {statistics.median(extract_ms):.2f} ms/note "
          f"(median of {args.rounds} rounds)")


if __name__ == "__main__":
    main()
