"""Generate a realistic synthetic vault of notes on cancers and metastases (seeded).

Each note has YAML frontmatter (aliases, tags), headings, nested lists with bold lead
terms, wikilinks to other notes, a table, prose paragraphs with hedges and negations,
and vocabulary terms drawn at random so that extraction does real work.

    python benchmarks/generate.py DIR --notes 1000 --seed 7
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from met2rdf.vocab import default_vocabulary

HEDGES = ["often", "commonly", "rarely", "typically", "sometimes", "frequently"]
FILLER = [
    "Management is individualised and discussed at the multidisciplinary meeting.",
    "Survival depends on stage, performance status and response to treatment.",
    "See the local guideline for referral pathways and follow-up intervals.",
    "Incidence rises with age and the condition is slightly more common in men.",
    "Patients should be counselled about prognosis and goals of care early.",
]


def _labels(vocab, kind: str) -> list[str]:
    return sorted(c.pref_label for c in vocab.concepts.values()
                  if c.type == kind and not c.umbrella)


def _pick(rng: random.Random, items: list[str], k: int) -> list[str]:
    return rng.sample(items, min(k, len(items)))


def _coordinate(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def make_note(rng: random.Random, index: int, titles: list[str], pools: dict) -> str:
    """Return the text of one synthetic note (about 3 KB)."""
    cancer = rng.choice(pools["CancerType"])
    met = rng.choice(pools["Metastasis"])
    links = _pick(rng, titles, 3)
    lines = ["---", "aliases:", f"  - {cancer} note {index}", f"tags: [oncology, batch{index % 10}]",
             "---", f"# {cancer.capitalize()}", "",
             f"{cancer.capitalize()} is discussed with [[{links[0]}]] and [[{links[1]}|a related note]]. "
             + rng.choice(FILLER), "", "## Spread", ""]
    for _ in range(2):
        other = rng.choice(pools["CancerType"])
        sites = _pick(rng, pools["AnatomicalSite"], rng.randint(2, 4))
        lines.append(f"- **{other.capitalize()}** {rng.choice(HEDGES)} spreads to the "
                     f"{_coordinate(sites)}.")
        lines.append(f"  - via the {rng.choice(pools['SpreadRoute'])}; see [[{links[2]}]]")
    lines += ["", "## Symptoms", "", f"1. **{met.capitalize()}**:"]
    for symptom in _pick(rng, pools["Symptom"], 4):
        lines.append(f"   - {symptom}")
    lines += [f"2. It does not cause {rng.choice(pools['Symptom'])}.", "",
              "## Diagnosis", "",
              f"{cancer.capitalize()} is {rng.choice(HEDGES)} diagnosed with "
              f"{_coordinate(_pick(rng, pools['DiagnosticModality'], 3))}. "
              + rng.choice(FILLER), "",
              "| Cancer | Sites of spread |", "| --- | --- |"]
    for _ in range(3):
        lines.append(f"| {rng.choice(pools['CancerType'])} | "
                     f"{', '.join(_pick(rng, pools['AnatomicalSite'], 2))} |")
    lines += ["", "## Treatment", ""]
    for treatment in _pick(rng, pools["Treatment"], 3):
        lines.append(f"- {treatment}: {rng.choice(FILLER)}")
    lines += ["", "## Risk factors", "", f"- {rng.choice(pools['Symptom'])} in the family",
              "", "## Notes", ""]
    lines += [rng.choice(FILLER) for _ in range(8)]
    lines += ["", "## Discussion", "",
              f"In practice {rng.choice(pools['Metastasis'])} may present with "
              f"{_coordinate(_pick(rng, pools['Symptom'], 2))}, and "
              f"{rng.choice(pools['Treatment'])} is usually offered. "
              + " ".join(rng.choice(FILLER) for _ in range(4)),
              "", " ".join(rng.choice(FILLER) for _ in range(6))]
    return "\n".join(lines) + "\n"


def generate(folder: Path, notes: int, seed: int) -> list[Path]:
    """Write ``notes`` synthetic notes under ``folder`` (in subfolders of 500)."""
    rng = random.Random(seed)
    vocab = default_vocabulary()
    pools = {kind: _labels(vocab, kind) for kind in
             ("CancerType", "AnatomicalSite", "Metastasis", "Symptom", "DiagnosticModality",
              "Treatment", "SpreadRoute")}
    titles = [f"note {i:05d}" for i in range(notes)]
    paths = []
    for i, title in enumerate(titles):
        path = folder / f"part{i // 500:03d}" / f"{title}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make_note(rng, i, titles, pools), encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    paths = generate(args.folder, args.notes, args.seed)
    size = sum(p.stat().st_size for p in paths)
    print(f"{len(paths)} notes, {size / 1e6:.1f} MB -> {args.folder}")


if __name__ == "__main__":
    main()
