"""Benchmark met2rdf on synthetic vaults and print a table of figures.

For each vault size: the same-run baseline (markdown-it-py alone parsing the same files in
one process), a clean full build (survey, extract + validate, write Turtle, load the
store) with notes/s, MB/s and peak RSS, rebuilds after editing, deleting and renaming one
note, and the latency of every canned question on the built store.

    python benchmarks/run.py --notes 1000 10000
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, workers


def child_build(vault: Path, out: Path) -> None:
    """Build like `met2rdf build` does, timing each stage; print JSON (run in a child)."""
    from met2rdf.build import build_and_write
    from met2rdf.incremental.vocabulary import cached_vocabulary
    from met2rdf.result import BuildResult
    from met2rdf.store import open_store

    marks: dict[str, float] = {}
    started = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        marks[stage] = time.perf_counter()

    def accept(result: BuildResult) -> bool:
        marks["built"] = time.perf_counter()
        marks["rss_built"] = _rss_mb()[0]
        assert result.report is not None and result.report.conforms, result.report
        return True

    vocab = cached_vocabulary([], out / ".cache")
    loaded = time.perf_counter()
    store = open_store(out / "store", create=True)
    # as the CLI: a first build loads the store while it extracts
    outcome = build_and_write(vault, vocab, out / "graph.ttl", store, accept,
                              cache_dir=out / ".cache", progress=progress)
    stored = time.perf_counter()
    result, built, rss_built = outcome.result, marks["built"], marks["rss_built"]
    finished = built + outcome.finish_seconds
    write_seconds, store_seconds = outcome.write_seconds, outcome.store_seconds
    survey_end = marks.get("survey", loaded)
    own, workers = _rss_mb()
    print(json.dumps({
        "vocabulary": loaded - started,
        "survey": survey_end - loaded,
        "extract+validate": built - survey_end,
        "finish streamed store": finished - built,
        "write turtle": write_seconds, "load store": store_seconds,
        "write and store": stored - finished,
        "total": stored - started,
        "notes": len(result.entries), "reused": result.reused,
        "facts": result.fact_count, "triples": result.statements(),
        "rss_main_mb": own, "rss_worker_mb": workers,
        "rss_after_build_mb": rss_built,
    }))


def child_floor(store_dir: Path, folder: Path) -> None:
    """Bulk-load the built store's quads (dumped to N-Quads first, not timed) into a new
    on-disk store and compact it, as pyoxigraph alone would; print the seconds as JSON (run
    in a child: the loader takes memory)."""
    import pyoxigraph as ox

    folder.mkdir(parents=True)
    dump = folder / "dump.nq"
    ox.Store.read_only(str(store_dir)).dump(str(dump), format=ox.RdfFormat.N_QUADS)
    started = time.perf_counter()
    store = ox.Store(str(folder / "store"))
    store.bulk_load(path=str(dump), format=ox.RdfFormat.N_QUADS)
    store.flush()
    loaded = time.perf_counter()
    store.optimize()
    print(json.dumps({"load": loaded - started, "compact": time.perf_counter() - loaded}))


def _in_child(mode: str, *paths: Path) -> dict:
    """Run this script as ``--child``/``--floor`` in a new process; its last line of JSON."""
    proc = subprocess.run([sys.executable, __file__, mode, *map(str, paths)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.splitlines()[-1])


def run_floor(store_dir: Path, folder: Path) -> dict:
    found = _in_child("--floor", store_dir, folder)
    shutil.rmtree(folder, ignore_errors=True)
    return found


def run_child(vault: Path, out: Path) -> dict:
    return _in_child("--child", vault, out)


def baseline(files: list[Path]) -> float:
    """Seconds for markdown-it-py alone to parse the files in one process."""
    from markdown_it import MarkdownIt

    texts = [f.read_text(encoding="utf-8") for f in files]
    md = MarkdownIt("commonmark").enable("table")
    started = time.perf_counter()
    for text in texts:
        md.parse(text)
    return time.perf_counter() - started


def ask_latency(store_dir: Path) -> dict[str, tuple[float, int, str]]:
    """For each canned question, the slowest of its argument kinds (a cancer type and a
    metastasis, ...): median of 5 runs in milliseconds, its answer's rows, the arguments."""
    from met2rdf.ask import ask, load_questions
    from met2rdf.store import open_store

    args = {"CancerType": "breast cancer", "Metastasis": "liver metastasis",
            "AnatomicalSite": "liver", "Symptom": "jaundice",
            "DiagnosticModality": "CT", "Treatment": "chemotherapy", "SpreadRoute": "lymphatic"}
    store = open_store(store_dir)
    out: dict[str, tuple[float, int, str]] = {}
    for name, question in load_questions().items():
        for kinds in itertools.product(*(p.types for p in question.params)):
            values = [args[kind] for kind in kinds]
            runs = []
            for _ in range(5):
                started = time.perf_counter()
                answer = ask(store, question, values)
                rows = list(answer.results)  # every answer row, as `ask` prints them
                runs.append((time.perf_counter() - started) * 1000)
            measured = (statistics.median(runs), len(rows), " ".join(values))
            out[name] = max(out.get(name, measured), measured)
    return out


def bench(size: int, root: Path) -> list[str]:
    sys.path.insert(0, str(HERE))
    from generate import generate

    vault, out = root / f"vault{size}", root / f"out{size}"
    files = generate(vault, size, seed=7)
    megabytes = sum(f.stat().st_size for f in files) / 1e6
    base = baseline(files)
    full = run_child(vault, out)
    rows = [f"### {size:,} notes ({megabytes:.1f} MB)", "",
            "| figure | value | vs. baseline |", "| --- | --- | --- |",
            (f"| baseline: markdown-it-py alone, one process | {base:.2f} s "
             f"({size / base:,.0f} notes/s, {megabytes / base:.1f} MB/s) | 1.00× |")]
    rows.append(f"| full build: vocabulary | {full['vocabulary']:.2f} s | |")
    rows.append(f"| full build: survey | {full['survey']:.2f} s | |")
    rows.append(f"| full build: extract+validate, the store loading the notes meanwhile | "
                f"{full['extract+validate']:.2f} s | |")
    rows.append(f"| full build: the store's last loads, keys and compaction | "
                f"{full['finish streamed store']:.2f} s | |")
    rows.append(f"| full build: write Turtle and load the rest of the store, at the same time | "
                f"{full['write and store']:.2f} s (write {full['write turtle']:.2f} s, "
                f"store {full['load store']:.2f} s) | |")
    rows.append(f"| **full build, total** | **{full['total']:.2f} s** ({size / full['total']:,.0f}"
                f" notes/s, {megabytes / full['total']:.1f} MB/s) | "
                f"**{full['total'] / base:.2f}×** |")
    floor = run_floor(out / "store", root / f"floor{size}")
    floor_total = floor["load"] + floor["compact"]
    rows.append(f"| for scale: pyoxigraph alone bulk-loading the store's quads (from N-Quads) "
                f"into a new store and compacting it | {floor_total:.2f} s (load "
                f"{floor['load']:.2f} s, compact {floor['compact']:.2f} s) | "
                f"{floor_total / base:.2f}× |")
    rows.append(f"| facts / triples | {full['facts']:,} / {full['triples']:,} | |")
    rows.append(f"| peak RSS: main process / largest worker | {full['rss_main_mb']:.0f} MB / "
                f"{full['rss_worker_mb']:.0f} MB | |")
    edited = files[size // 2]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n- It often spreads to the skin.\n",
                      encoding="utf-8")
    edit = run_child(vault, out)
    files[1].unlink()
    delete = run_child(vault, out)
    files[2].rename(files[2].with_name("renamed note.md"))
    rename = run_child(vault, out)
    for label, run in (("edit", edit), ("delete", delete), ("rename", rename)):
        rows.append(f"| rebuild after one {label} ({run['reused']:,} notes reused) | "
                    f"{run['total']:.2f} s (build {run['survey'] + run['extract+validate']:.2f} s"
                    f", then write {run['write turtle']:.2f} s and store "
                    f"{run['load store']:.2f} s at the same time) | |")
    latency = ask_latency(out / "store")
    rows.append(f"| `ask` on {full['triples']:,} triples, median of 5: "
                + ", ".join(f"{k} {ms:.0f} ms ({n:,} rows{', ' + a if a else ''})"
                            for k, (ms, n, a) in sorted(latency.items()))
                + f" | max {max(ms for ms, _, _ in latency.values()):.0f} ms | |")
    return rows


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child_build(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    if len(sys.argv) == 4 and sys.argv[1] == "--floor":
        child_floor(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="met2rdf-bench-"))
    try:
        print(f"machine: {platform.machine()}, {platform.python_implementation()} "
              f"{platform.python_version()}, {len(__import__('os').sched_getaffinity(0))} cores")
        for size in args.notes:
            print("\n".join(["", *bench(size, root)]), flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
