"""met2rdf report: the page shows what the store says (edges, tables, health), from the
shipped queries, escaped, byte for byte the same each time, and out/report.html is current."""

from __future__ import annotations

import html
import json
import re
import shutil
from collections import defaultdict
from functools import cache
from importlib import resources
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import FIXTURES, REPO
from stores import EXAMPLE_VAULT, build_and_report, met2rdf

from met2rdf.build import build_vault
from met2rdf.diagnostics import BUILD_GRAPH
from met2rdf.render import to_html
from met2rdf.report import Edge, Report, report_store
from met2rdf.result import BuildResult
from met2rdf.store import read_rdf, replace_graphs
from met2rdf.vocab import default_vocabulary, load_vocabulary

VAULT = FIXTURES / "report" / "vault"
HOSTILE = '</script><script>alert("x")</script><!-- & <b>'
HOSTILE_NAME = '<img src=x onerror=alert(1)> & <b>"q"'  # a file name: no slash


@cache
def built(vault: Path) -> tuple[BuildResult, Report]:
    """Build a vault, load it into a store as build does, and report the store."""
    result = build_vault(vault, default_vocabulary(), jobs=1)
    store = ox.Store()
    replace_graphs(store, result.graphs)
    return result, report_store(store)


def expected_edges(result: BuildResult, relation: str, kind: str) -> dict:
    """Edges computed from the build's own facts, not from SPARQL: (start, end) -> spans.

    ``kind`` "cancer" keys facts of cancer types by subject; "site" keys facts of
    site-specific metastases by the metastasis's site.
    """
    concepts = default_vocabulary().concepts
    edges: dict[tuple[str, str], set[tuple[str, int]]] = defaultdict(set)
    for fact in result.facts:
        subject = concepts[fact.subject]
        if fact.predicate != relation:
            continue
        if kind == "cancer" and subject.type == "CancerType":
            edges[fact.subject, fact.object].add((fact.span.path, fact.span.line))
        elif kind == "site" and subject.site:
            edges[subject.site, fact.object].add((fact.span.path, fact.span.line))
    return dict(edges)


def got_edges(edges: tuple[Edge, ...]) -> dict:
    return {(e.start, e.end): {(s.path, s.line) for s in e.sources} for e in edges}


@pytest.mark.parametrize("vault", [EXAMPLE_VAULT, VAULT], ids=["example", "fixture"])
def test_edges_are_the_facts_with_their_sources_and_note_counts(vault: Path):
    """Each edge is one cancer->site or site->symptom fact with every line stating it, and
    its width is the number of distinct notes among them."""
    result, report = built(vault)
    assert got_edges(report.spread) == expected_edges(result, "spreadsTo", "cancer")
    assert got_edges(report.symptoms) == expected_edges(result, "hasSymptom", "site")
    for edge in (*report.spread, *report.symptoms):
        assert edge.notes == len({s.path for s in edge.sources}) >= 1


def test_an_edge_stated_in_two_notes_counts_two():
    """Lung cancer -> brain is said in two notes of the fixture vault: width 2, both lines."""
    _, report = built(VAULT)
    edge = next(e for e in report.spread if (e.start_label, e.end_label) == ("lung cancer",
                                                                             "brain"))
    assert edge.notes == 2
    assert [str(s) for s in edge.sources] == ["Breast cancer.md:8", "Lung cancer.md:6"]
    assert edge.sources[1].hedge == "often" and "adrenal glands" in edge.sources[1].quote


def test_subject_tables_hold_every_fact_of_cancers_and_metastases():
    """Per cancer type and metastasis: every fact of the build, grouped by relation."""
    result, report = built(EXAMPLE_VAULT)
    got = {(s.iri, st.relation, st.object, str(src)) for s in report.subjects
           for st in s.statements for src in st.sources}
    assert got == {(f.subject, f.predicate, f.object, str(f.span)) for f in result.facts}
    breast = next(s for s in report.subjects if s.label == "breast cancer")
    assert breast.type == "CancerType" and breast.ids == ("http://purl.obolibrary.org/obo/DOID_1612",)
    assert [st.label for st in breast.statements] == ["bone", "brain", "liver", "lung"]
    bone = next(s for s in report.subjects if s.label == "bone metastasis")
    assert bone.type == "Metastasis" and bone.site == "bone"


def test_health_of_the_example_vault():
    """The example vault: one note, 34 statements, 3 unresolved links, conforming; the
    concepts without id are those of the no-ontology-id question."""
    result, report = built(EXAMPLE_VAULT)
    health = report.health
    assert (health.notes, health.statements, health.recorded, health.conforms) == (
        1, len(result.facts), True, True)
    assert health.facts == len({(f.subject, f.predicate, f.object) for f in result.facts})
    assert health.problems == () and health.results == ()
    assert len(health.unresolved) == 3 and {note for _, note, _ in health.unresolved} == {"Mets.md"}
    skos = "http://www.w3.org/2004/02/skos/core#"
    named = {t.subject.value for t in result.triples if t.predicate.value == skos + "prefLabel"}
    with_id = {t.subject.value for t in result.triples if t.predicate.value == skos + "exactMatch"}
    assert {iri for iri, _, _ in health.unidentified} == named - with_id


def test_health_names_skipped_notes_problems_and_unresolved_links(tmp_path: Path):
    """A binary note is skipped, bad frontmatter is a problem of a note that still builds,
    and a link to no note is listed with its line; the page shows each with path:line."""
    vault = tmp_path / "vault"
    shutil.copytree(VAULT, vault)
    (vault / "image.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    _, report = built(vault)
    health = report.health
    assert [(p.path, p.line, p.skipped) for p in health.problems] == [
        ("image.md", 3, True), ("Breast cancer.md", 2, False)]
    assert health.skipped == ("image.md",) and health.notes == 3
    line = next(n for n, text in enumerate((vault / "Brain mets.md").read_text().splitlines(), 1)
                if "[[Nowhere to be found" in text)
    assert ("Nowhere to be found", "Brain mets.md", line) in health.unresolved
    page = to_html(report).decode()
    assert f"Brain mets.md:{line}</span>" in page
    assert "image.md:3</span></td><td>skipped</td><td>binary data" in page
    assert "Breast cancer.md:2</span></td><td></td><td>frontmatter &#x27;aliases&#x27;" in page
    assert "[[Nowhere to be found]]" in page


def test_shacl_results_are_shown_with_their_note_lines(tmp_path: Path):
    """A graph that fails the shapes (stored through the library, as build refuses to write
    it) shows each SHACL result with the note line behind it."""
    extra = FIXTURES / "odd-scan.ttl"
    note = tmp_path / "n.md"
    note.write_text("# Lung cancer\n\nDiagnosed with an odd scan.\n")
    result = build_vault(note, load_vocabulary([extra]), jobs=1)
    assert result.report is not None and not result.report.conforms
    store = ox.Store()
    replace_graphs(store, result.graphs)
    health = report_store(store).health
    assert health.conforms is False and len(health.results) == len(result.report.results)
    assert any("n.md:3" in r.sources and "OBO PURL" in r.message for r in health.results)
    page = to_html(report_store(store)).decode()
    assert "SHACL results (" in page and "n.md:3" in page


def test_hostile_note_text_is_escaped_everywhere(tmp_path: Path):
    """Markup in note names, sentences and links is text on the page: no element, no script,
    and the JSON the script reads round-trips it."""
    (tmp_path / f"{HOSTILE_NAME}.md").write_text(
        f"# Lung cancer\n\nLung cancer spreads to the bone {HOSTILE}. See [[{HOSTILE}x]].\n")
    _, report = built(tmp_path)
    page = to_html(report).decode()
    assert page.count("<script") == 2 and page.count("</script>") == 2
    assert "<b>" not in page and "<img" not in page
    data = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page,
                     re.DOTALL)
    assert data is not None
    parsed = json.loads(data[1])
    assert f"{HOSTILE_NAME}.md" in parsed["paths"]
    assert any(HOSTILE in quote for quote in parsed["quotes"])
    assert html.escape(f"{HOSTILE_NAME}.md") in page  # the tables show the path, escaped
    assert html.escape(f"[[{HOSTILE}x]]") in page


def test_page_loads_nothing_and_allows_only_its_own_script_and_style():
    """The page has no URL to load, and its Content-Security-Policy allows only the inlined
    script and style (by hash)."""
    page = to_html(built(EXAMPLE_VAULT)[1]).decode()
    assert not re.search(r'\b(src|href)="(?!#|http://purl\.obolibrary\.org/)', page)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None and policy[1].startswith("default-src 'none'; script-src 'sha256-")
    assert "unsafe" not in policy[1]


def test_every_report_query_runs_with_met2rdf_query(tmp_path: Path):
    """The report's queries are the ones a user can run: each starts with its question and
    runs with met2rdf query -f on a built store."""
    assert met2rdf("build", str(EXAMPLE_VAULT), "--out", str(tmp_path), "-q").returncode == 0
    folder = resources.files("met2rdf").joinpath("queries").joinpath("report")
    files = sorted(f.name for f in folder.iterdir() if f.name.endswith(".rq"))
    assert len(files) >= 7
    for name in files:
        text = folder.joinpath(name).read_text(encoding="utf-8")
        assert text.startswith("# ") and text.splitlines()[0].endswith("?"), name
        path = tmp_path / name
        path.write_text(text)
        run = met2rdf("query", "-f", str(path), "--store", str(tmp_path / "store"))
        assert run.returncode == 0, (name, run.stderr)


@pytest.fixture(scope="module")
def example_report(tmp_path_factory) -> Path:
    """Build the example vault and report it with the real commands."""
    out = tmp_path_factory.mktemp("out")
    run = build_and_report(EXAMPLE_VAULT, out)
    assert run.returncode == 0, run.stderr
    assert run.stdout == (f"1 notes, 34 facts, 11 cancer-site and 10 site-symptom edges -> "
                          f"{out / 'report.html'}\n")
    return out / "report.html"


def test_committed_report_is_current(example_report: Path):
    """out/report.html in the repository is byte-identical to a fresh report."""
    assert (REPO / "out/report.html").read_bytes() == example_report.read_bytes()


def test_report_again_is_byte_identical(example_report: Path, tmp_path: Path):
    """Reporting twice gives the same bytes."""
    store = example_report.parent / "store"
    run = met2rdf("report", "--store", str(store), "--out", str(tmp_path / "again.html"))
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "again.html").read_bytes() == example_report.read_bytes()


def test_report_of_a_graph_file_says_it_has_no_build_record(example_report: Path,
                                                            tmp_path: Path):
    """GRAPH instead of --store: the same facts, and the health section says that skipped
    notes and SHACL results are not recorded in a Turtle file."""
    graph = example_report.parent / "graph.ttl"
    run = met2rdf("report", str(graph), "--out", str(tmp_path / "r.html"))
    assert run.returncode == 0, run.stderr
    page = (tmp_path / "r.html").read_text()
    assert "holds no build record" in page
    from_file = report_store(read_rdf(graph))
    _, from_store = built(EXAMPLE_VAULT)
    assert (from_file.spread, from_file.symptoms, from_file.subjects) == (
        from_store.spread, from_store.symptoms, from_store.subjects)
    assert from_file.health.recorded is False and from_file.health.conforms is None


def test_report_of_an_nquads_export_has_the_build_record(tmp_path: Path):
    """push --format nquads carries the build graph, so its report knows the health."""
    nq = tmp_path / "graph.nq"
    assert met2rdf("push", str(EXAMPLE_VAULT), "--format", "nquads", "-o", str(nq)).returncode == 0
    assert BUILD_GRAPH in nq.read_text()
    health = report_store(read_rdf(nq)).health
    assert health.recorded and health.conforms is True


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--store", "s", "g.ttl"], 2, "give --store DIR or GRAPH, not both"),
    (["missing.ttl"], 2, "missing.ttl: no such file"),
    (["--store", "no-store-here"], 1, "no-store-here: no store here"),
])
def test_report_errors_are_clean(tmp_path: Path, args: list[str], code: int, message: str,
                                 monkeypatch: pytest.MonkeyPatch):
    """Bad invocations exit 2, a missing store exits 1; one line, no traceback."""
    monkeypatch.chdir(tmp_path)
    run = met2rdf("report", *args, "--out", str(tmp_path / "r.html"))
    assert run.returncode == code
    assert message in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "r.html").exists()


def test_report_help_names_the_sources_and_output():
    """--help tells GRAPH, --store and --out with their defaults."""
    run = met2rdf("report", "--help")
    assert run.returncode == 0
    text = " ".join(run.stdout.split())
    assert "GRAPH" in text and "--store DIR" in text
    assert "default: report.html beside the store or GRAPH it reads" in text
