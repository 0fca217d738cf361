"""The embedded store: build loads it, load adds files, a locked store fails at once."""

from __future__ import annotations

import time
from pathlib import Path

import pyoxigraph as ox
from stores import EXAMPLE_VAULT, build, held_store, met2rdf

from met2rdf.diagnostics import BUILD_GRAPH
from met2rdf.iris import note_iri
from met2rdf.result import VOCABULARY_GRAPH
from met2rdf.store import KEYS_GRAPH


def test_build_loads_named_graphs_into_the_store(tmp_path: Path):
    """build fills DIR/store with one graph per note plus the vocabulary and build graphs."""
    run = met2rdf("build", str(EXAMPLE_VAULT), "--out", str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert f"and {tmp_path / 'store'}" in run.stdout
    store = ox.Store.read_only(str(tmp_path / "store"))
    graphs = {g.value for g in store.named_graphs()}
    assert graphs == {note_iri("Mets.md"), VOCABULARY_GRAPH, BUILD_GRAPH, KEYS_GRAPH}
    expected = {(str(t), g.iri) for g in build(EXAMPLE_VAULT).graphs for t in set(g.triples)}
    got = {(str(ox.Triple(q.subject, q.predicate, q.object)), q.graph_name.value)
           for q in store if q.graph_name.value != KEYS_GRAPH}
    assert got == expected
    keys = {q.subject.value for q in store.quads_for_pattern(None, None, None,
                                                             ox.NamedNode(KEYS_GRAPH))}
    assert keys == {note_iri("Mets.md"), VOCABULARY_GRAPH, BUILD_GRAPH, KEYS_GRAPH}


def test_build_again_replaces_the_store(tmp_path: Path):
    """A second build leaves the same quads, not twice as many, and a deleted note's gone."""
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "a.md").write_text("- **Breast cancer** spreads to the liver.\n")
    (vault / "b.md").write_text("- **Lung cancer** spreads to the brain.\n")
    out = tmp_path / "out"
    assert met2rdf("build", str(vault), "--out", str(out)).returncode == 0
    (vault / "b.md").unlink()
    assert met2rdf("build", str(vault), "--out", str(out)).returncode == 0
    store = ox.Store.read_only(str(out / "store"))
    assert {g.value for g in store.named_graphs()} == {note_iri("a.md"), VOCABULARY_GRAPH,
                                                       BUILD_GRAPH, KEYS_GRAPH}


def test_no_store_skips_it(tmp_path: Path):
    """--no-store writes graph.ttl only."""
    run = met2rdf("build", str(EXAMPLE_VAULT), "--out", str(tmp_path), "--no-store")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "graph.ttl").is_file() and not (tmp_path / "store").exists()


def test_load_any_rdf_file(tmp_path: Path):
    """load adds Turtle to the default graph or to --graph, and N-Quads with their graphs."""
    ttl = tmp_path / "a.ttl"
    ttl.write_text("<http://example.org/a> <http://example.org/p> 1 .\n")
    nq = tmp_path / "b.nq"
    nq.write_text("<http://example.org/b> <http://example.org/p> \"2\" <http://example.org/g> .\n")
    store_dir = tmp_path / "store"
    run = met2rdf("load", str(ttl), str(nq), "--store", str(store_dir))
    assert run.returncode == 0, run.stderr
    assert "holds 2 quads" in run.stdout
    run = met2rdf("load", str(ttl), "--store", str(store_dir), "--graph", "http://example.org/t")
    assert "holds 3 quads" in run.stdout
    graphs = {q.graph_name for q in ox.Store.read_only(str(store_dir))}
    assert graphs == {ox.DefaultGraph(), ox.NamedNode("http://example.org/g"),
                      ox.NamedNode("http://example.org/t")}


def test_load_bad_rdf_gives_path_line_column(tmp_path: Path):
    """A file that does not parse is reported as path:line:column and loads nothing."""
    bad = tmp_path / "bad.ttl"
    bad.write_text("<http://example.org/a> <http://example.org/p> 1 .\n<a> <b>\n")
    run = met2rdf("load", str(bad), "--store", str(tmp_path / "store"))
    assert run.returncode == 1
    assert f"{bad}:2:" in run.stderr
    assert len(ox.Store.read_only(str(tmp_path / "store"))) == 0


def test_load_missing_file_is_a_usage_error(tmp_path: Path):
    """A file that does not exist exits 2."""
    run = met2rdf("load", str(tmp_path / "nope.ttl"), "--store", str(tmp_path / "store"))
    assert run.returncode == 2 and "no such file" in run.stderr


def test_locked_store_fails_fast_with_a_clear_message(tmp_path: Path):
    """While another process holds the store, build fails at once and says why (query reads
    the last complete build instead)."""
    store_dir = tmp_path / "store"
    assert met2rdf("build", str(EXAMPLE_VAULT), "--out", str(tmp_path), "-q").returncode == 0
    with held_store(store_dir):
        started = time.monotonic()
        run = met2rdf("query", "ASK {}", "--store", str(store_dir), timeout=30)
        assert run.returncode == 0 and "reading its last complete build" in run.stderr
        run = met2rdf("build", str(EXAMPLE_VAULT), "--out", str(tmp_path), timeout=30)
        assert run.returncode == 1 and "in use by another process" in run.stderr
        assert time.monotonic() - started < 20


def test_query_on_a_missing_store_says_how_to_make_one(tmp_path: Path):
    """Querying a store that does not exist tells to build or load first."""
    run = met2rdf("query", "ASK {}", "--store", str(tmp_path / "none"))
    assert run.returncode == 1 and "met2rdf build or met2rdf load" in run.stderr
    assert not (tmp_path / "none").exists()
