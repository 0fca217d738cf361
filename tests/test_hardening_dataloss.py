"""Hardening, slips of the hand: pushing or building a folder without the notes never
empties a server or a store unless told to (issue 15)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from stores import EXAMPLE_VAULT, http_query, met2rdf, oxigraph_server

from met2rdf.iris import NOTE_BASE

NOTE_GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A real oxigraph serve on 127.0.0.1; its Graph Store URL."""
    with oxigraph_server(tmp_path / "server") as (url, _):
        yield url


def note_graphs(server: str) -> list[str]:
    status, body = http_query(server.removesuffix("/store") + "/query", NOTE_GRAPHS)
    assert status == 200, body
    return [g for g in body.split()[1:] if g.startswith(NOTE_BASE)]


def vault_of(root: Path, notes: int) -> Path:
    root.mkdir()
    for i in range(notes):
        (root / f"note {i}.md").write_text(f"- **Breast cancer** spreads to the liver {i}.\n")
    return root


def test_push_of_a_folder_without_notes_deletes_nothing(server: str, tmp_path: Path):
    """push EMPTY (or out/) refuses with exit 1 and leaves the server's graphs; --allow-empty
    deletes them."""
    store = server + "/store"
    assert met2rdf("push", str(vault_of(tmp_path / "v", 3)), "--endpoint", store).returncode == 0
    before = note_graphs(store)
    assert len(before) == 3
    empty = tmp_path / "empty"
    empty.mkdir()
    run = met2rdf("push", str(empty), "--endpoint", store)
    assert run.returncode == 1
    assert (f"no notes found under {empty}; nothing pushed; use --allow-empty to delete "
            "everything on the server") in run.stderr
    assert note_graphs(store) == before
    run = met2rdf("push", str(empty), "--endpoint", store, "--allow-empty")
    assert run.returncode == 0, run.stderr
    assert note_graphs(store) == []


def test_push_that_deletes_more_than_half_is_refused(server: str, tmp_path: Path):
    """A push that would delete more than half of the server's note graphs refuses unless
    --allow-deletes; half or less goes through."""
    store = server + "/store"
    vault = vault_of(tmp_path / "v", 4)
    assert met2rdf("push", str(vault), "--endpoint", store).returncode == 0
    for i in (1, 2):
        (vault / f"note {i}.md").unlink()
    run = met2rdf("push", str(vault), "--endpoint", store)  # 2 of 4: allowed
    assert run.returncode == 0, run.stderr
    assert len(note_graphs(store)) == 2
    (vault / "note 3.md").unlink()
    (vault / "other.md").write_text("- **Lung cancer** spreads to the brain.\n")
    run = met2rdf("push", str(vault), "--endpoint", store)  # 1 of 2: allowed
    assert run.returncode == 0, run.stderr
    (vault / "other.md").unlink()
    (vault / "note 0.md").unlink()
    (vault / "third.md").write_text("- **Lung cancer** spreads to the bone.\n")
    before = note_graphs(store)
    run = met2rdf("push", str(vault), "--endpoint", store)  # 2 of 2 deleted
    assert run.returncode == 1
    assert "would delete 2 of the 2 note graphs" in run.stderr
    assert "--allow-deletes" in run.stderr
    assert note_graphs(store) == before
    run = met2rdf("push", str(vault), "--endpoint", store, "--allow-deletes")
    assert run.returncode == 0, run.stderr
    assert note_graphs(store) == [NOTE_BASE + "third.md"]


def test_build_of_a_folder_without_notes_keeps_the_store(tmp_path: Path):
    """build EMPTY --out OUT refuses with exit 1 when OUT's store holds notes, and keeps the
    store and graph.ttl; --allow-empty empties them."""
    out = tmp_path / "out"
    assert met2rdf("build", str(EXAMPLE_VAULT), "--out", str(out), "-q").returncode == 0
    graph = (out / "graph.ttl").read_bytes()
    empty = tmp_path / "empty"
    empty.mkdir()
    run = met2rdf("build", str(empty), "--out", str(out))
    assert run.returncode == 1
    assert f"no notes found under {empty}" in run.stderr and "--allow-empty" in run.stderr
    assert (out / "graph.ttl").read_bytes() == graph
    store = ox.Store.read_only(str(out / "store"))
    assert any(g.value.startswith(NOTE_BASE) for g in store.named_graphs())
    del store
    run = met2rdf("build", str(empty), "--out", str(out), "--allow-empty")
    assert run.returncode == 0, run.stderr
    store = ox.Store.read_only(str(out / "store"))
    assert not any(g.value.startswith(NOTE_BASE) for g in store.named_graphs())


def test_first_build_of_an_empty_folder_is_fine(tmp_path: Path):
    """An empty folder into a new --out builds an empty graph: nothing is lost."""
    empty = tmp_path / "empty"
    empty.mkdir()
    run = met2rdf("build", str(empty), "--out", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
