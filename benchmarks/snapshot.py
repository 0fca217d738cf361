"""What the store's snapshots for readers cost: time to publish one, disk they hold.

Builds a synthetic vault, then times ``publish_snapshot`` on its store (median of 5), the
disk the snapshots hold beyond the store's own files (hard links cost nothing until the
store rewrites the files they share), the same after a rebuild of one edited note and
after a compaction, and a question read from the live store and from the snapshot.

    python benchmarks/snapshot.py --notes 10000
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _sizes(folder: Path) -> dict[int, int]:
    """inode -> size of the files below ``folder``."""
    return {p.stat().st_ino: p.stat().st_size for p in folder.rglob("*") if p.is_file()}


def held(store_dir: Path) -> tuple[float, float]:
    """MB of the live store's files, MB more the snapshots hold (files not shared)."""
    from met2rdf.snapshot import SNAPSHOTS

    live = {p.stat().st_ino: p.stat().st_size for p in store_dir.iterdir() if p.is_file()}
    extra = {i: s for i, s in _sizes(store_dir / SNAPSHOTS).items() if i not in live}
    return sum(live.values()) / 1e6, sum(extra.values()) / 1e6


def _met2rdf(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "met2rdf", *args], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def bench(size: int, root: Path) -> list[str]:
    sys.path.insert(0, str(HERE))
    from generate import generate

    from met2rdf.snapshot import open_for_reading, publish_snapshot
    from met2rdf.store import open_store

    vault, out = root / f"vault{size}", root / f"out{size}"
    files = generate(vault, size, seed=7)
    store_dir = out / "store"
    build = _met2rdf("build", str(vault), "--out", str(out), "-q")
    rows = [f"### {size:,} notes", "", "| figure | value |", "| --- | --- |",
            f"| full build (publishes a snapshot at the end) | {build:.1f} s |"]
    store = open_store(store_dir)
    quads = len(store)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        publish_snapshot(store, store_dir)
        times.append(time.perf_counter() - started)
    live, extra = held(store_dir)
    rows.append(f"| publish a snapshot of {quads:,} quads, median of 5 | "
                f"{1000 * statistics.median(times):.0f} ms (max {1000 * max(times):.0f} ms) |")
    rows.append(f"| disk: the store / more held by its 2 snapshots | {live:.0f} MB / "
                f"{extra:.1f} MB |")
    del store
    edited = files[size // 2]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n- It often spreads to the skin.\n",
                      encoding="utf-8")
    rebuild = _met2rdf("build", str(vault), "--out", str(out), "-q")
    live, extra = held(store_dir)
    rows.append(f"| rebuild after one edit, snapshot included | {rebuild:.2f} s |")
    rows.append(f"| disk after it: the store / more held by the snapshots | {live:.0f} MB / "
                f"{extra:.1f} MB |")
    store = open_store(store_dir)
    store.optimize()  # what every 16th build does: files rewritten, the snapshots keep theirs
    publish_snapshot(store, store_dir)
    del store
    live, extra = held(store_dir)
    rows.append(f"| disk after a compaction and a snapshot: the store / more held by the "
                f"snapshots | {live:.0f} MB / {extra:.0f} MB |")
    question = ("SELECT (COUNT(*) AS ?n) WHERE { ?f a "
                "<https://w3id.org/met2rdf/vocab#Fact> }")
    timings = {}
    for label, holder in (("live store", None), ("snapshot", store_dir)):
        blocker = open_store(holder) if holder else None  # held: the reader takes the snapshot
        started = time.perf_counter()
        reading = open_for_reading(store_dir)
        list(reading.store.query(question, use_default_graph_as_union=True))
        timings[label] = time.perf_counter() - started
        del reading, blocker
    rows.append("| open and count the facts: live store / snapshot | "
                f"{1000 * timings['live store']:.0f} ms / {1000 * timings['snapshot']:.0f} ms |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, nargs="+", default=[10000])
    args = parser.parse_args()
    print(f"{len(os.sched_getaffinity(0))} cores")
    with tempfile.TemporaryDirectory(prefix="met2rdf-bench-") as root:
        for size in args.notes:
            print("\n".join(["", *bench(size, Path(root))]), flush=True)


if __name__ == "__main__":
    main()
