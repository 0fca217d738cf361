"""Benchmark met2rdf report on a synthetic vault: the time to write the page and the time
headless Chromium takes to render it, and print a table of figures.

For each vault size: generate it (seeded, ``generate.py``), build it, time ``met2rdf
report`` and the page's size, then open it 5 times in a fresh headless Chromium and take
the median of: navigation to drawn picture (wall clock, what a reader waits), the page's
own clock at the load event and when the picture is drawn, and redrawing with every edge
shown (``at least 1 note``).

    python benchmarks/report.py --notes 1000 [--keep DIR] [--screenshot FILE.png]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TIMING = ("({load: performance.getEntriesByType('navigation')[0].loadEventEnd,"
          " drawn: window.met2rdfRenderedAt,"
          " nodes: document.querySelectorAll('#graph .node').length,"
          " edges: document.querySelectorAll('#graph .edge').length,"
          " shown: document.getElementById('shown').textContent})")
DRAW_ALL = ("(() => { const input = document.getElementById('min-notes');"
            " const started = performance.now(); input.value = 1;"
            " input.dispatchEvent(new Event('change'));"
            " return {ms: performance.now() - started,"
            " edges: document.querySelectorAll('#graph .edge').length}; })()")


def met2rdf(*args: str) -> float:
    """Run the met2rdf command; return its wall-clock seconds."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "met2rdf", *args], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def render(page_path: Path, runs: int, screenshot: Path | None) -> dict:
    """Open the page ``runs`` times in headless Chromium; return median timings."""
    sys.path.insert(0, str(HERE.parent / "tests"))
    from browser import chromium_page, find_chromium

    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    url = page_path.resolve().as_uri()
    walls, loads, drawn, redraws = [], [], [], []
    with chromium_page(chromium) as page:
        for _ in range(runs):
            walls.append(page.open(url, "document.documentElement.dataset.rendered"))
            figures = page.evaluate(TIMING)
            loads.append(figures["load"] / 1000)
            drawn.append(figures["drawn"] / 1000)
            assert page.errors() == [], page.errors()
            if screenshot is not None and len(walls) == 1:
                page.screenshot(screenshot, whole=False)
            everything = page.evaluate(DRAW_ALL)
            redraws.append(everything["ms"] / 1000)
    return {"wall": statistics.median(walls), "load": statistics.median(loads),
            "drawn": statistics.median(drawn), "redraw": statistics.median(redraws),
            "all_edges": everything["edges"], "shown": figures["shown"]}


def bench(size: int, root: Path, screenshot: Path | None) -> list[str]:
    sys.path.insert(0, str(HERE))
    from generate import generate

    vault, out = root / f"vault{size}", root / f"out{size}"
    if not vault.is_dir():
        generate(vault, size, seed=7)
    build = met2rdf("build", str(vault), "--out", str(out), "-q")
    page = out / "report.html"
    report = met2rdf("report", "--store", str(out / "store"), "--out", str(page))
    figures = render(page, 5, screenshot)
    return [f"### report of {size:,} notes", "",
            "| figure | value |", "| --- | --- |",
            f"| build (for the store; cached notes reused) | {build:.2f} s |",
            f"| `met2rdf report` (SPARQL + page) | {report:.2f} s |",
            f"| page size | {page.stat().st_size / 1e6:.1f} MB |",
            (f"| **Chromium: navigation to drawn picture, median of 5** | "
             f"**{figures['wall']:.2f} s** |"),
            (f"| page clock: load event / picture drawn | {figures['load']:.2f} s / "
             f"{figures['drawn']:.2f} s |"),
            f"| picture at first | {figures['shown']} |",
            f"| redraw with all {figures['all_edges']:,} edges | {figures['redraw']:.2f} s |"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, nargs="+", default=[1000])
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--screenshot", type=Path, help="save the first view of the last size")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="met2rdf-report-bench-"))
    try:
        for size in args.notes:
            print("\n".join(["", *bench(size, root, args.screenshot)]), flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
