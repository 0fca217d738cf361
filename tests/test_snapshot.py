"""Readers never wait for a writer: they read the snapshot of the last complete write."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from stores import EXAMPLE_VAULT, generate_vault, held_store, met2rdf, store_locked

from met2rdf.errors import StoreInUseError
from met2rdf.snapshot import SNAPSHOTS, open_for_reading, publish_snapshot
from met2rdf.store import KEYS_GRAPH, open_store

NOTES = """PREFIX met: <https://w3id.org/met2rdf/vocab#>
SELECT (COUNT(DISTINCT ?n) AS ?notes) WHERE { ?n a met:Note }"""
LAST_BUILD = "reading its last complete build"


def _quad(i: int) -> ox.Quad:
    return ox.Quad(ox.NamedNode(f"http://e/s{i}"), ox.NamedNode("http://e/p"), ox.Literal(i),
                   ox.NamedNode("http://e/g"))


def _reader(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "met2rdf", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


BIG = pytest.mark.skipif(not os.environ.get("MET2RDF_BIG_TESTS"), reason="takes ~65 s; "
                         "set MET2RDF_BIG_TESTS=1 to run it")


@pytest.mark.parametrize("notes", [200, pytest.param(2000, marks=BIG)])
def test_readers_answer_from_the_last_build_while_a_rebuild_runs(tmp_path: Path, notes: int):
    """While a real build rewrites the store of a synthetic vault (200 notes, all edited;
    2,000, a quarter edited, with MET2RDF_BIG_TESTS=1), ask and query answer at once from the
    last complete build (saying so on stderr only), and the build succeeds."""
    vault = generate_vault(tmp_path / "vault", notes)
    (vault / "anchor.md").write_text("- **Breast cancer** spreads to the liver.\n")
    out, store_dir = tmp_path / "out", tmp_path / "out" / "store"
    assert met2rdf("build", str(vault), "--out", str(out), "-q", timeout=300).returncode == 0
    ask = ["ask", "spread", "breast cancer", "--store", str(store_dir), "--format", "csv"]
    query = ["query", NOTES, "--store", str(store_dir), "--format", "csv"]
    before_ask, before_query = met2rdf(*ask), met2rdf(*query)
    assert before_query.stdout.splitlines() == ["notes", str(notes + 1)]
    assert before_ask.returncode == 0 and before_ask.stdout.count("\n") > 1
    for i in range(0, notes, 1 if notes < 1000 else 4):  # a rebuild that reads them again
        note = vault / f"part{i // 500:03d}" / f"note {i:05d}.md"
        note.write_text(note.read_text() + "\nBreast cancer often spreads to the spleen.\n")
    for i in range(20):
        (vault / f"new {i}.md").write_text("- **Breast cancer** spreads to the spleen.\n")
    build = subprocess.Popen([sys.executable, "-m", "met2rdf", "build", str(vault), "--out",
                              str(out), "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        deadline = time.monotonic() + 60
        while not store_locked(store_dir):
            assert build.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        readers = [_reader(*ask), _reader(*query)]
        answers = [r.communicate(timeout=60) for r in readers]
        assert build.poll() is None, "the rebuild ended before the readers opened the store"
    finally:
        _, errors = build.communicate(timeout=300)
    assert build.returncode == 0, errors
    for reader, (stdout, stderr), before in zip(readers, answers, (before_ask, before_query)):
        assert reader.returncode == 0, stderr
        assert stdout == before.stdout  # the last complete build's answer, whole
        assert f"met2rdf: {store_dir} is held by another process" in stderr
        assert LAST_BUILD in stderr
    after = met2rdf(*query)
    assert after.stdout.splitlines() == ["notes", str(notes + 21)] and LAST_BUILD not in after.stderr
    assert met2rdf(*ask).stdout != before_ask.stdout


def test_a_store_held_by_another_process_is_read_from_its_snapshot(tmp_path: Path):
    """query, ask and report read a held store's snapshot; load, a writer, still stops."""
    store_dir = tmp_path / "store"
    assert met2rdf("build", str(EXAMPLE_VAULT), "--out", str(tmp_path), "-q").returncode == 0
    expected = met2rdf("query", NOTES, "--store", str(store_dir), "--format", "csv").stdout
    with held_store(store_dir):
        run = met2rdf("query", NOTES, "--store", str(store_dir), "--format", "csv")
        assert (run.returncode, run.stdout) == (0, expected)
        assert run.stderr == (f"met2rdf: {store_dir} is held by another process (a build, "
                              "load or query); reading its last complete build\n")
        run = met2rdf("report", "--store", str(store_dir), "--out", str(tmp_path / "r.html"))
        assert run.returncode == 0 and (tmp_path / "r.html").is_file()
        ttl = tmp_path / "a.ttl"
        ttl.write_text("<http://e/a> <http://e/p> 1 .\n")
        run = met2rdf("load", str(ttl), "--store", str(store_dir))
        assert run.returncode == 1 and "in use by another process" in run.stderr


def test_a_store_without_a_snapshot_still_says_it_is_in_use(tmp_path: Path):
    """A held store that no writer of this version published (no snapshot) fails as before."""
    store_dir = tmp_path / "store"
    assert met2rdf("build", str(EXAMPLE_VAULT), "--out", str(tmp_path), "-q").returncode == 0
    shutil.rmtree(store_dir / SNAPSHOTS)
    with held_store(store_dir):
        run = met2rdf("query", NOTES, "--store", str(store_dir))
        assert run.returncode == 1 and "the store is in use by another process" in run.stderr


def test_a_half_written_store_is_read_from_its_snapshot(tmp_path: Path):
    """A store a build left half-written (graphs dropped, no dataset key yet) is read as the
    last complete build left it."""
    store_dir = tmp_path / "store"
    assert met2rdf("build", str(EXAMPLE_VAULT), "--out", str(tmp_path), "-q").returncode == 0
    expected = met2rdf("query", NOTES, "--store", str(store_dir), "--format", "csv").stdout
    assert expected.splitlines() == ["notes", "1"]
    store = open_store(store_dir)  # what a build killed between its transactions leaves
    store.update(f"DROP GRAPH <{KEYS_GRAPH}> ; DROP GRAPH <https://w3id.org/met2rdf/note/Mets.md>")
    store.add(_quad(1))
    del store
    run = met2rdf("query", NOTES, "--store", str(store_dir), "--format", "csv")
    assert (run.returncode, run.stdout) == (0, expected)
    assert "left half-written by a build that stopped" in run.stderr
    assert met2rdf("build", str(EXAMPLE_VAULT), "--out", str(tmp_path), "-q").returncode == 0
    run = met2rdf("query", NOTES, "--store", str(store_dir), "--format", "csv")
    assert (run.stdout, run.stderr) == (expected, "")


def test_publishing_keeps_two_generations_and_spares_pinned_ones(tmp_path: Path):
    """Each publish adds a generation and retires all but the one before, unless a reader
    holds it; then the next publish after the reader is done retires it."""
    store_dir = tmp_path / "store"
    store = open_store(store_dir, create=True)
    folder = store_dir / SNAPSHOTS
    for i in range(1, 4):
        store.add(_quad(i))
        assert publish_snapshot(store, store_dir) == i
    assert sorted(p.name for p in folder.iterdir()) == ["2", "2.pin", "3", "3.pin", "current"]
    reading = open_for_reading(store_dir)  # held by this process: the snapshot, pinned
    assert (reading.generation, len(reading.store)) == (3, 3)
    for i in range(4, 7):
        store.add(_quad(i))
        publish_snapshot(store, store_dir)
    assert sorted(p.name for p in folder.iterdir() if not p.name.endswith(".pin")) == [
        "3", "5", "6", "current"]
    assert len(reading.store) == 3 and len(set(reading.store)) == 3  # still whole
    del reading
    store.add(_quad(7))
    publish_snapshot(store, store_dir)
    assert sorted(p.name for p in folder.iterdir()) == ["6", "6.pin", "7", "7.pin", "current"]


def test_readers_see_whole_writes_while_snapshots_come_and_go(tmp_path: Path):
    """Readers opening snapshots while a writer publishes and retires them in a loop always
    open one (retrying with the new pointer) and see a whole write."""
    store_dir = tmp_path / "store"
    store = open_store(store_dir, create=True)
    store.extend(_quad(i) for i in range(10))
    publish_snapshot(store, store_dir)
    done = threading.Event()

    def write() -> None:
        for round_ in range(1, 40):
            store.extend(_quad(1000 * round_ + i) for i in range(10))  # ten at a time
            publish_snapshot(store, store_dir)
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    seen = set()
    while not done.is_set():
        reading = open_for_reading(store_dir)
        assert reading.generation is not None
        count = len(reading.store)
        assert count % 10 == 0
        seen.add(count)
        del reading
    writer.join()
    assert len(seen) > 1


def test_the_live_store_is_read_when_no_one_holds_it(tmp_path: Path):
    """With the store free, a reader opens the live store (and holds it while it reads)."""
    store_dir = tmp_path / "store"
    store = open_store(store_dir, create=True)
    store.add(_quad(1))
    publish_snapshot(store, store_dir)
    store.add(_quad(2))  # written after the snapshot, not published
    del store
    reading = open_for_reading(store_dir)
    assert (reading.generation, reading.reason, len(reading.store)) == (None, "", 2)
    with pytest.raises(StoreInUseError):
        open_store(store_dir)


def test_publishing_removes_what_killed_writers_left(tmp_path: Path):
    """A checkpoint a killed writer left half made (N.tmp) and a pointer it did not rename go
    with the next publish."""
    store_dir = tmp_path / "store"
    store = open_store(store_dir, create=True)
    store.add(_quad(1))
    publish_snapshot(store, store_dir)
    folder = store_dir / SNAPSHOTS
    (folder / "2.tmp").mkdir()
    (folder / "2.tmp" / "000001.sst").write_bytes(b"half")
    (folder / ".current.999.tmp").write_text("2\n")
    assert publish_snapshot(store, store_dir) == 2
    assert sorted(p.name for p in folder.iterdir()) == ["1", "1.pin", "2", "2.pin", "current"]
