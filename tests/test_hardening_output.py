"""Hardening, output side: IRIs and literals from any text, files that re-parse, atomic
writes (issue 6, cases 7 and 9)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import SHARED
from stores import EXAMPLE_VAULT, met2rdf

from met2rdf.build import build_notes
from met2rdf.errors import OutputError
from met2rdf.iris import encode_segment, note_iri
from met2rdf.model import SourceNote
from met2rdf.vocab import default_vocabulary
from met2rdf.write import to_dataset, write_atomic

HOSTILE = ['q"uote', "x>y", "{}", "|", "^", "`", "back\\slash", "tab\there", "new\nline",
           "nul\x00", "%41", "../x", "a" * 2000, "🦀 emoji", "日本語", "Ελληνικά", "עברית",
           "'single'", '"""', "\r", "\u2028", "\u00e9", "e\u0301"]  # é composed and decomposed
W3C = SHARED / "w3c" / "rdf" / "rdf11"


def reparse(data: bytes, fmt: ox.RdfFormat) -> set[ox.Quad]:
    return set(ox.parse(data, format=fmt))


def build_hostile() -> tuple:
    """Notes whose paths, titles, aliases, tags and links are hostile labels."""
    notes = []
    for i, label in enumerate(HOSTILE):
        alias = label.replace("\n", " ").replace('"', "'")
        text = (f"---\naliases: [\"{alias.encode('unicode_escape').decode()}\"]\n---\n"
                f"[[{label.replace(chr(10), ' ')}]] Breast cancer spreads to the liver.\n")
        notes.append(SourceNote(f"d{i}/{label}.md", label, text))
    return build_notes(notes, default_vocabulary(), validate=True, jobs=1)


def test_any_label_mints_a_valid_distinct_iri_and_literals_round_trip():
    """Hostile labels as note paths give valid, distinct IRIs, and titles come back exactly."""
    iris = [note_iri(f"{label}.md") for label in HOSTILE]
    for iri in iris:
        ox.NamedNode(iri)
    assert len(set(iris)) == len(HOSTILE)
    result = build_hostile()
    assert result.report is not None and result.report.conforms
    parsed = reparse(result.turtle(), ox.RdfFormat.TURTLE)
    titles = {q.object.value for q in parsed
              if q.predicate.value == "http://www.w3.org/2000/01/rdf-schema#label"
              and q.subject.value.startswith(note_iri(""))}
    assert titles == set(HOSTILE)


def test_every_written_file_re_parses_strictly_and_equals_the_graph():
    """graph.ttl, N-Quads and TriG re-parse with pyoxigraph into the in-memory graph."""
    result = build_hostile()
    triples = {ox.Quad(t.subject, t.predicate, t.object) for t in result.triples}
    assert reparse(result.turtle(), ox.RdfFormat.TURTLE) == triples
    quads = {ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g.iri))
             for g in result.graphs for t in g.triples}
    assert reparse(to_dataset(result.graphs, "nquads"), ox.RdfFormat.N_QUADS) == quads
    assert reparse(to_dataset(result.graphs, "trig"), ox.RdfFormat.TRIG) == quads


def w3c_terms() -> tuple[list[str], list[str]]:
    """The IRIs and literal texts of every W3C Turtle and N-Triples test that parses."""
    if not W3C.is_dir():
        pytest.skip("the W3C RDF suites are not in ../shared/w3c")
    iris: set[str] = set()
    literals: set[str] = set()
    for path in sorted(W3C.glob("rdf-*/*.nt")) + sorted(W3C.glob("rdf-*/*.ttl")):
        fmt = ox.RdfFormat.N_TRIPLES if path.suffix == ".nt" else ox.RdfFormat.TURTLE
        try:
            quads = list(ox.parse(path=str(path), format=fmt, base_iri="http://example/base/"))
        except SyntaxError:
            continue  # a negative syntax test
        for q in quads:
            for term in (q.subject, q.predicate, q.object):
                if isinstance(term, ox.NamedNode):
                    iris.add(term.value)
                elif isinstance(term, ox.Literal):
                    literals.add(term.value)
    return sorted(iris), sorted(literals)


def test_w3c_suite_terms_survive_minting_and_escaping():
    """The W3C suites' hardest IRIs and literals mint valid IRIs and round-trip as titles."""
    iris, literals = w3c_terms()
    assert len(iris) > 100 and len(literals) > 50
    segments = {encode_segment(text) for text in iris + literals}
    for segment in segments:
        ox.NamedNode(note_iri(segment))
    assert len(segments) == len(set(iris + literals))
    notes = [SourceNote(f"{i}.md", text, "x\n") for i, text in enumerate(literals)]
    result = build_notes(notes, default_vocabulary(), validate=False, jobs=1)
    for data, fmt in ((result.turtle(), ox.RdfFormat.TURTLE),
                      (to_dataset(result.graphs, "nquads"), ox.RdfFormat.N_QUADS)):
        titles = {q.object.value for q in reparse(data, fmt)
                  if q.predicate.value == "http://www.w3.org/2000/01/rdf-schema#label"}
        assert set(literals) <= titles


def test_write_killed_mid_write_keeps_the_old_file_and_the_next_write_cleans_up(
        tmp_path: Path):
    """SIGKILL during a 300 MB write leaves the old file whole; the next write removes the
    stale temporary file."""
    target = tmp_path / "graph.ttl"
    write_atomic(target, b"old\n")
    child = subprocess.Popen([sys.executable, "-c",
                              ("import sys; from pathlib import Path; "
                              "from met2rdf.write import write_atomic; "
                              "write_atomic(Path(sys.argv[1]), b'x' * (300 << 20))"),
                              str(target)])
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob(".graph.ttl.*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    assert target.read_bytes() == b"old\n"
    assert len(list(tmp_path.glob(".graph.ttl.*.tmp"))) == 1
    write_atomic(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.ttl"]


def test_build_killed_then_rerun_is_byte_identical(tmp_path: Path):
    """Builds killed at several points leave graph.ttl whole; a rerun gives the same bytes
    and no temporary files."""
    clean = tmp_path / "clean"
    assert met2rdf("build", str(EXAMPLE_VAULT), "--out", str(clean), "-q",
                   "--no-store").returncode == 0
    expected = (clean / "graph.ttl").read_bytes()
    out = tmp_path / "out"
    assert met2rdf("build", str(EXAMPLE_VAULT), "--out", str(out), "-q").returncode == 0
    for delay in (0.3, 0.8, 1.3, 1.8):
        process = subprocess.Popen([sys.executable, "-m", "met2rdf", "build", str(EXAMPLE_VAULT),
                                    "--out", str(out), "-q", "--no-cache"])
        time.sleep(delay)
        process.kill()
        process.wait(timeout=10)
        assert (out / "graph.ttl").read_bytes() == expected
    run = met2rdf("build", str(EXAMPLE_VAULT), "--out", str(out), "-q")
    assert run.returncode == 0, run.stderr
    assert (out / "graph.ttl").read_bytes() == expected
    assert not [p for p in out.rglob("*.tmp")]


def test_full_disk_keeps_the_old_file(tmp_path: Path):
    """A write that fails for lack of space raises OutputError and keeps the old file."""
    target = tmp_path / "graph.ttl"
    write_atomic(target, b"old\n")
    script = ("import resource, signal, sys; from pathlib import Path; "
              "from met2rdf.write import write_atomic; from met2rdf.errors import OutputError\n"
              "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
              "resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))\n"
              "try:\n    write_atomic(Path(sys.argv[1]), b'x' * 5000)\n"
              "except OutputError as exc:\n    print(exc)\n")
    run = subprocess.run([sys.executable, "-c", script, str(target)], capture_output=True,
                         text=True, timeout=60, check=False)
    assert run.stdout == (f"{target}: cannot write: File too large; the previous file is "
                          "kept\n"), run.stderr
    assert target.read_bytes() == b"old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.ttl"]
    assert issubclass(OutputError, Exception)
