"""The report in a real browser: headless Chromium opens the example vault's report, with
no console error and no request, draws the nodes and edges the graph holds, and shows an
edge's sources on click.  Skipped without Chromium, except in CI (CI=1), where it fails."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pyoxigraph as ox
import pytest
from browser import chromium_page, find_chromium
from conftest import SHARED
from stores import EXAMPLE_VAULT, build_and_report

from met2rdf.graph import PREFIXES

# One node per cancer type and site with a spread fact; one edge per (cancer, site).  The
# relation triples themselves, not the reified facts and evidence the report reads.
SPREAD = """SELECT (COUNT(DISTINCT ?cancer) + COUNT(DISTINCT ?site) AS ?nodes)
                   (COUNT(DISTINCT CONCAT(STR(?cancer), " ", STR(?site))) AS ?edges)
WHERE { ?cancer a met:CancerType ; met:spreadsTo ?site }"""
SYMPTOMS = """SELECT (COUNT(DISTINCT ?site) + COUNT(DISTINCT ?symptom) AS ?nodes)
                     (COUNT(DISTINCT CONCAT(STR(?site), " ", STR(?symptom))) AS ?edges)
WHERE { ?metastasis met:site ?site ; met:hasSymptom ?symptom }"""
DRAWN = ("({nodes: document.querySelectorAll('#graph .node').length,"
         " edges: document.querySelectorAll('#graph .edge').length})")


@pytest.fixture(scope="module")
def chromium() -> str:
    """Return Chromium; skip without it, but fail in CI, which must run this test."""
    found = find_chromium()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: .ci/run installs Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Path:
    """Build and report the example vault with the real commands."""
    out = tmp_path_factory.mktemp("out")
    run = build_and_report(EXAMPLE_VAULT, out)
    assert run.returncode == 0, run.stderr
    return out


def expected(store: Path, sparql: str) -> dict[str, int]:
    """Count nodes and edges in the store, independently of the report's queries."""
    solutions = ox.Store.read_only(str(store)).query(sparql, use_default_graph_as_union=True,
                                                    prefixes=PREFIXES)
    assert isinstance(solutions, ox.QuerySolutions)
    row = next(iter(solutions))
    return {"nodes": int(row["nodes"].value), "edges": int(row["edges"].value)}


def test_counts_agree_with_the_seed_gold(example: Path):
    """The expected counts are those of the seed's gold facts: 4 cancers, 5 sites, 11 edges;
    4 sites, 10 symptoms, 10 edges."""
    if not (SHARED / "corpus/seed/gold.tsv").is_file():
        pytest.skip("../shared/corpus/seed is absent")
    with (SHARED / "corpus/seed/gold.tsv").open() as f:
        gold = list(csv.DictReader(f, delimiter="\t"))
    spread = {(r["subject"], r["object"]) for r in gold if r["predicate"] == "spreadsTo"}
    symptoms = {(r["subject"].removesuffix(" metastasis"), r["object"]) for r in gold
                if r["predicate"] == "hasSymptom" and r["subject"].endswith(" metastasis")}
    for edges, sparql in ((spread, SPREAD), (symptoms, SYMPTOMS)):
        nodes = len({a for a, _ in edges}) + len({b for _, b in edges})
        assert expected(example / "store", sparql) == {"nodes": nodes, "edges": len(edges)}


def test_report_renders_in_headless_chromium(chromium: str, example: Path, tmp_path: Path):
    """Both views draw one node per concept and one edge per fact, hovering shows sources,
    clicking lists them; no console error, no exception, no request but the file."""
    url = (example / "report.html").resolve().as_uri()
    with chromium_page(chromium) as page:
        page.open(url, "document.documentElement.dataset.rendered === 'spread'")
        assert page.evaluate(DRAWN) == expected(example / "store", SPREAD)
        tip = page.evaluate("[...document.querySelectorAll('#graph .edge title')]"
                            ".map(t => t.textContent).join('\\n')")
        assert "breast cancer \u2192 liver: 1 note\nMets.md:16 (often)" in tip
        page.evaluate("document.querySelector('#graph .edge').dispatchEvent("
                      "new MouseEvent('click', {bubbles: true}))")
        panel = page.evaluate("document.getElementById('panel').textContent")
        assert "1 note, 1 statement" in panel and "Mets.md:" in panel
        page.screenshot(tmp_path / "report.png")
        page.evaluate("document.querySelector('[data-view=symptoms]').click()")
        assert page.evaluate("document.documentElement.dataset.rendered") == "symptoms"
        assert page.evaluate(DRAWN) == expected(example / "store", SYMPTOMS)
        assert page.errors() == []
        assert page.requests() == [url]
    shot = (tmp_path / "report.png").read_bytes()
    assert shot.startswith(b"\x89PNG") and len(shot) > 20_000
    print(f"screenshot: {tmp_path / 'report.png'}")
