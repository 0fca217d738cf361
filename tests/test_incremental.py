"""Incremental builds (cached per note) give exactly the bytes of a clean build."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

import met2rdf.store as store_module
import met2rdf.vault as vault_module
from met2rdf.build import build_vault
from met2rdf.cache import Cache
from met2rdf.incremental.labels import (
    LabelIndex,
    NoteWords,
    alias_labels,
    bloom_may_contain,
    label_items,
)
from met2rdf.store import (
    BULK,
    KEYS_GRAPH,
    StreamLoader,
    replace_graphs,
    stored_keys,
    sync_store,
)
from met2rdf.vocab import load_vocabulary
from met2rdf.write import write_graph

NOTES = {
    "Breast cancer.md": "---\naliases: [BrCa-notes]\n---\n## Spread\n- bones, [[Liver]] and lungs\n",
    "Liver.md": "# Liver\nThe [[Breast cancer|main one]] often spreads to the liver.\n",
    "cards/Bone mets.md": "Symptoms: bone pain, hypercalcaemia\nTests: bone scan\n",
    "Prostate cancer.md": "- **Prostate cancer** -> bone mets (ribs, spine)\n- dx: PSA, MRI\n",
    "misc.md": "- BrCa-notes may cause jaundice.\n- see [[Nowhere]]\n",
    "Lung cancer.md": "Extrathoracic metastases: brain, bone, adrenal\n",
}


def write_vault(root: Path, notes: dict[str, str] | None = None) -> Path:
    for name, text in (NOTES if notes is None else notes).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def turtle(vault: Path, cache: Path | None, extra: list[Path] | None = None, jobs: int = 1):
    result = build_vault(vault, load_vocabulary(extra or []), cache_dir=cache, jobs=jobs)
    assert result.report is not None and result.report.conforms
    return result.turtle(), result.reused


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return write_vault(tmp_path / "vault")


def test_rebuild_without_changes_reuses_every_note(vault: Path, tmp_path: Path):
    """A second build reuses every note and writes the same bytes."""
    cache = tmp_path / "cache"
    first, reused = turtle(vault, cache)
    assert reused == 0
    again, reused = turtle(vault, cache)
    assert (again, reused) == (first, len(NOTES))


def test_edit_delete_rename_and_vocabulary_change_match_clean_builds(vault: Path, tmp_path: Path):
    """After each change, the cached build equals a clean build byte for byte."""
    cache = tmp_path / "cache"
    turtle(vault, cache)
    (vault / "Liver.md").write_text("# Liver\nThe [[Breast cancer]] rarely spreads to skin.\n")
    edited, reused = turtle(vault, cache)
    assert edited == turtle(vault, None)[0] and reused == len(NOTES) - 1
    (vault / "misc.md").unlink()
    deleted, _ = turtle(vault, cache)
    assert deleted == turtle(vault, None)[0] and b"misc.md" not in deleted
    shutil.move(vault / "cards" / "Bone mets.md", vault / "Bone mets.md")
    renamed, _ = turtle(vault, cache)
    assert renamed == turtle(vault, None)[0] and b"cards/Bone" not in renamed
    (vault / "Breast cancer.md").write_text(
        "---\naliases: [Mammary notes]\n---\n## Spread\n- bones and lungs\n")
    aliased, _ = turtle(vault, cache)
    assert aliased == turtle(vault, None)[0]
    extra = tmp_path / "extra.ttl"
    extra.write_text("@prefix met: <https://w3id.org/met2rdf/vocab#> .\n"
                     "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
                     "<https://w3id.org/met2rdf/concept/skin> a met:AnatomicalSite ;\n"
                     "  skos:prefLabel \"skin\"@en ; skos:altLabel \"cutis\"@en .\n")
    (vault / "Liver.md").write_text("# Liver\nThe [[Breast cancer]] rarely spreads to cutis.\n")
    vocab_changed, _ = turtle(vault, cache, [extra])
    assert vocab_changed == turtle(vault, None, [extra])[0]
    assert b"c:skin" in vocab_changed


def test_parallel_build_equals_serial_build(vault: Path):
    """Two worker processes give the same bytes as one."""
    assert turtle(vault, None, jobs=2)[0] == turtle(vault, None, jobs=1)[0]


def test_a_broken_cache_entry_is_rebuilt(vault: Path, tmp_path: Path):
    """A truncated cache file is ignored and the note is built again."""
    cache = tmp_path / "cache"
    first, _ = turtle(vault, cache)
    for entry in cache.rglob("*"):
        if entry.is_file():
            entry.write_bytes(entry.read_bytes()[:10])
    again, reused = turtle(vault, cache)
    assert again == first and reused == 0


def quads(store: ox.Store) -> set[str]:
    """The store's quads outside the build's own bookkeeping graph."""
    return {str(q) for q in store if q.graph_name != ox.NamedNode(KEYS_GRAPH)}


def clean_store(vault: Path) -> set[str]:
    store = ox.Store()
    replace_graphs(store, build_vault(vault, load_vocabulary([]), jobs=1).graphs)
    return quads(store)


@pytest.mark.parametrize("remember", [False, True], ids=["keys from the store",
                                                       "keys remembered"])
@pytest.mark.parametrize(("bulk", "patch"), [(BULK, store_module.PATCH_BYTES), (BULK, 0),
                                              (1, store_module.PATCH_BYTES)],
                         ids=["transaction", "transaction patching", "bulk loader"])
def test_store_sync_loads_only_what_changed(vault: Path, tmp_path: Path, bulk: int, patch: int,
                                            remember: bool, monkeypatch: pytest.MonkeyPatch):
    """The store is updated graph by graph and ends equal to a clean load after each change;
    graphs and default-graph triples that no build made are dropped.  Keys remembered in a
    file are used only while the store's dataset key says they are the store's.  With
    ``patch`` 0 every changed graph is patched by its difference instead of reloaded."""
    monkeypatch.setattr(store_module, "BULK", bulk)
    monkeypatch.setattr(store_module, "PATCH_BYTES", patch)
    monkeypatch.setattr(store_module, "BULK_SLICE", 2)  # several bulk_load calls
    monkeypatch.setattr(store_module, "BULK_DROP", 1 if bulk == 1 else store_module.BULK_DROP)
    cache, store = tmp_path / "cache", ox.Store()

    def sync(remembered: bool = remember) -> int:
        return sync_store(store, build_vault(vault, load_vocabulary([]), cache_dir=cache,
                                             jobs=1).chunks(build_graph=True),
                          remember=tmp_path / "keys" if remembered else None)

    assert sync() == len(NOTES) + 2  # the notes, the build and vocabulary graphs
    dataset = stored_keys(store)[KEYS_GRAPH]
    assert sync() == 0 and quads(store) == clean_store(vault)
    assert stored_keys(store)[KEYS_GRAPH] == dataset  # nothing changed, nor its key
    (vault / "misc.md").write_text("- BrCa-notes may cause jaundice and fatigue.\n")
    assert 1 <= sync() <= 2 and quads(store) == clean_store(vault)
    assert stored_keys(store)[KEYS_GRAPH] != dataset
    (vault / "Liver.md").unlink()
    shutil.move(vault / "cards" / "Bone mets.md", vault / "Bone mets.md")
    sync()
    assert quads(store) == clean_store(vault)
    stray = ox.NamedNode("http://example.org/s")
    store.add(ox.Quad(stray, stray, stray))
    store.add(ox.Quad(stray, stray, stray, ox.NamedNode("http://example.org/g")))
    assert sync() == 0 and quads(store) == clean_store(vault)
    (vault / "misc.md").write_text("- BrCa-notes may cause headache.\n")
    assert sync(remembered=False) >= 1  # the remembered keys are now those of an older store
    (vault / "misc.md").write_text("- BrCa-notes may cause seizures.\n")
    sync()
    assert quads(store) == clean_store(vault)
    notes = sorted(vault.rglob("*.md"))
    for note in notes:  # every note's graph changes: the store is cleared and loaded anew
        note.write_text(note.read_text() + "\n- It may cause fatigue.\n")
    assert sync() == len(notes) + 2 and quads(store) == clean_store(vault)
    for graph in list(store.named_graphs()):  # graphs gone by hand, their keys left
        if graph != ox.NamedNode(KEYS_GRAPH):
            store.remove_graph(graph)
    assert sync() == len(notes) + 2 and quads(store) == clean_store(vault)


def test_graph_file_copies_unchanged_chunks_and_survives_hand_edits(vault: Path,
                                                                    tmp_path: Path):
    """write_graph gives result.turtle()'s bytes whether chunks are copied from the previous
    file or not, and ignores a previous file someone changed."""
    cache, out = tmp_path / "cache", tmp_path / "graph.ttl"

    def write() -> bytes:
        result = build_vault(vault, load_vocabulary([]), cache_dir=cache, jobs=1)
        write_graph(out, result)
        return result.turtle()

    first = write()
    assert out.read_bytes() == first
    (vault / "Liver.md").write_text("# Liver\nThe [[Breast cancer]] rarely spreads to skin.\n")
    expected = write()
    assert out.read_bytes() == expected == turtle(vault, None)[0]
    (vault / "misc.md").unlink()
    with out.open("r+b") as f:  # a hand edit of the same size: the layout no longer holds
        f.seek(200)
        f.write(b"#")
    expected = write()
    assert out.read_bytes() == expected == turtle(vault, None)[0]


def test_files_unchanged_on_disk_are_not_read(vault: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch):
    """A note whose size, time and inode are as before is not read again; an edited one is,
    and the result is still a clean build's."""
    cache = tmp_path / "cache"
    past = time.time() - 60
    for note in vault.rglob("*.md"):
        os.utime(note, (past, past))
    first, _ = turtle(vault, cache)
    reads: list[str] = []
    real = vault_module.read_note

    def counting(rel: str, path: Path | str):
        reads.append(rel)
        return real(rel, path)

    monkeypatch.setattr(vault_module, "read_note", counting)
    again, reused = turtle(vault, cache)
    assert (again, reused, reads) == (first, len(NOTES), [])
    (vault / "Liver.md").write_text("# Liver\nThe [[Breast cancer]] rarely spreads to skin.\n")
    os.utime(vault / "Liver.md", (past + 1, past + 1))
    edited, reused = turtle(vault, cache)
    assert reads == ["Liver.md"] and reused == len(NOTES) - 1
    assert edited == turtle(vault, None)[0]


def test_a_note_could_contain_a_label_in_one_run_of_words_or_two():
    """Labels count for a note when extraction could find them: as one run of its words, or
    two (a shared modifier, "urinary frequency, urgency"; a table cell + "cancer")."""
    words = NoteWords("Liver", "Mets: urinary frequency, urgency. See breast cancer note 17.\n"
                               "| Site |\n|---|\n| Mammary |\n")
    index = LabelIndex(["a\turinary urgency", "b\tbreast cancer note 2", "c\tliver",
                        "d\tcancer note 17", "e\tmammary cancer", "f\tfrequency liver mets",
                        "g\tnote 17 breast"])
    expected = ("a\turinary urgency", "c\tliver", "d\tcancer note 17", "e\tmammary cancer",
                "g\tnote 17 breast")
    assert index.labels(words) == expected and "by_word" not in vars(index)  # checked one by one
    index.scans = LabelIndex.SCANS
    assert index.labels(words) == expected and "by_word" in vars(index)  # filed by word
    assert bloom_may_contain(words.bloom(), ("urinary", "urgency", "cancer"))
    assert not bloom_may_contain(words.bloom(), ("pancreas", "urgency"))
    assert index.maybe(words.bloom()) and not LabelIndex(["x\tpancreas"]).maybe(words.bloom())


def many_notes(vault: Path, count: int = 150) -> Path:
    cancers = ["Breast cancer", "Lung cancer", "Prostate cancer", "Colorectal cancer"]
    sites = ["liver", "bone", "brain", "lung", "adrenal gland"]
    for i in range(count):
        note = vault / f"part{i % 3}" / f"note {i:03}.md"
        note.parent.mkdir(parents=True, exist_ok=True)
        note.write_text(f"---\naliases: [{cancers[i % 4].lower()} note {i}]\n---\n"
                        f"# {cancers[i % 4]}\n- often spreads to the {sites[i % 5]} and "
                        f"{sites[(i + 2) % 5]}; see [[note {(i * 7) % count:03}]]\n"
                        f"- **Symptoms**: bone pain, jaundice\n", encoding="utf-8")
    return vault


def test_worker_processes_give_the_bytes_of_one_process(tmp_path: Path):
    """Past one batch of notes, surveys and extraction run in worker processes (each keeps
    the notes it parsed): the graph is the one a single process builds."""
    vault = many_notes(tmp_path / "many")
    vocab = load_vocabulary([])
    parallel = build_vault(vault, vocab, jobs=2)
    serial = build_vault(vault, vocab, jobs=1)
    assert len(parallel.entries) == 150 and parallel.fact_count > 300
    assert parallel.turtle() == serial.turtle() and parallel.report == serial.report


def test_results_of_an_older_vocabulary_are_removed(vault: Path, tmp_path: Path):
    """When the vocabulary (or the code) changes, every note is built again and the cache
    keeps only the new results, not a second copy per change."""
    cache = tmp_path / "cache"

    def files() -> set[str]:
        return {p.name for p in cache.glob("??/*")}

    turtle(vault, cache)
    first = files()
    extra = tmp_path / "extra.ttl"
    extra.write_text("@prefix met: <https://w3id.org/met2rdf/vocab#> .\n"
                     "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
                     "<https://w3id.org/met2rdf/concept/skin> a met:AnatomicalSite ;\n"
                     "  skos:prefLabel \"skin\"@en ; skos:altLabel \"cutis\"@en .\n")
    changed, reused = turtle(vault, cache, [extra])
    assert reused == 0 and changed == turtle(vault, None, [extra])[0]
    assert files() and not files() & first


def test_index_saves_small_changes_beside_it_and_reads_them_back(tmp_path: Path):
    """A saved index is rewritten whole only when its changes grow past an eighth of it;
    smaller changes go to a delta file that is read back only for the file it was made
    against."""
    folder = tmp_path / "cache"
    mapping = {"entries": {f"n{i}.md": (i, "text") for i in range(100)},
               "labels": tuple(f"label {i}" for i in range(20)), "flag": 1}
    Cache(folder).save_index("index", "v1", mapping, previous={})
    base = (folder / "index").read_bytes()
    for step in range(3):  # a note edited, one deleted, one added, a field changed
        cache = Cache(folder)
        loaded = cache.index("index", "v1")
        assert loaded == mapping
        mapping = {**loaded, "entries": {**loaded["entries"], "n5.md": (step, "edited")},
                   "flag": step}
        del mapping["entries"][f"n{10 + step}.md"]
        mapping["entries"][f"new{step}.md"] = (step, "new")
        cache.save_index("index", "v1", mapping, previous=loaded)
        assert (folder / "index").read_bytes() == base and (folder / "index.delta").exists()
    loaded = Cache(folder).index("index", "v1")
    Cache(folder).save_index("index", "v2", loaded, previous=loaded)  # a new version only
    assert Cache(folder).index("index", "v2") == mapping
    assert Cache(folder).index("index", "v1") == {}  # the version is the delta's
    assert (folder / "index").read_bytes() == base
    loaded = Cache(folder).index("index", "v2")
    many = {**loaded, "entries": {f"m{i}.md": (i, "other") for i in range(100)}}
    Cache(folder).save_index("index", "v2", many, previous=loaded)
    assert not (folder / "index.delta").exists() and Cache(folder).index("index", "v2") == many
    stale = (folder / "index.delta")
    loaded = Cache(folder).index("index", "v2")
    Cache(folder).save_index("index", "v2", {**loaded, "flag": 9}, previous=loaded)
    kept = stale.read_bytes()
    os.replace(folder / "index", folder / "old")  # another file under the same name:
    shutil.copy(folder / "old", folder / "index")  # the delta was made for the old one
    stale.write_bytes(kept)
    assert Cache(folder).index("index", "v2") == many


def test_notes_coming_and_going_redo_only_what_they_reach(tmp_path: Path):
    """When notes come, go or change their names or topics, an unchanged note is redone if a
    link of its reaches a note name that changed or a vault label it could hold came or
    went; the result equals a clean build each time, and a note out of reach is reused."""
    vault, cache = tmp_path / "links", tmp_path / "cache"
    for name, text in {
        "Breast cancer.md": "Breast cancer often spreads to [[Hepar notes]] and [[Lung]].\n",
        "Lung.md": "# Lung\nSee [[Breast cancer]].\n",
        "Hepar notes.md": "---\naliases: [liver]\n---\nLiver things.\n",
        "Mentions.md": "Colon cancer may spread to the hepatic organ.\n",
        "Other.md": "Prostate cancer spreads to bone.\n",
    }.items():
        (vault / name).parent.mkdir(parents=True, exist_ok=True)
        (vault / name).write_text(text)
    turtle(vault, cache)

    def same_as_clean(expect_reused: int) -> bytes:
        built, reused = turtle(vault, cache)
        assert built == turtle(vault, None)[0]
        assert reused >= expect_reused  # at least Other.md
        return built

    (vault / "deep").mkdir()
    (vault / "deep" / "Lung.md").write_text("# Deep lung\n")  # [[Lung]] still reaches Lung.md
    same_as_clean(3)
    (vault / "Lung.md").unlink()  # now it reaches deep/Lung.md
    assert b"deep/Lung.md" in same_as_clean(1)
    (vault / "Hepar notes.md").write_text("---\naliases: [bone]\n---\nBone things.\n")  # topic
    same_as_clean(1)
    (vault / "Hepar notes.md").write_text("---\naliases: [bone, hepatic organ]\n---\n")  # label
    assert b"c:colon-cancer met:spreadsTo c:bone" in same_as_clean(1)
    shutil.move(vault / "deep" / "Lung.md", vault / "deep" / "Pulmo.md")  # [[Lung]] reaches none
    same_as_clean(1)
    (vault / "Hepar notes.md").unlink()
    assert b"colon-cancer met:spreadsTo" not in same_as_clean(1)


def test_the_labels_a_rebuild_keeps_are_those_a_clean_build_finds(tmp_path: Path):
    """Every note's labels after a rebuild (kept, or found again from the labels that came
    and went) are the labels a clean look at its words finds: a note's result key never
    rests on labels that differ from those its text could hold."""
    vault = write_vault(tmp_path / "labels", {
        "Hepar notes.md": "---\naliases: [liver]\n---\nLiver things.\n",
        "Mentions.md": "Colon cancer may spread to the hepatic organ and the bony quarter.\n",
        "Other.md": "Prostate cancer spreads to [[Hepar notes]].\n",
    })
    cache, vocab = tmp_path / "cache", load_vocabulary([])

    def check() -> tuple[str, ...]:
        result = build_vault(vault, vocab, cache_dir=cache)
        index = LabelIndex(label_items(alias_labels(e.survey for e in result.entries)))
        for entry in result.entries:
            words = NoteWords(entry.survey.title, (vault / entry.path).read_text())
            assert entry.labels == index.labels(words), entry.path
        return next(e.labels for e in result.entries if e.path == "Mentions.md")

    assert check() == ()
    (vault / "Hepar notes.md").write_text("---\naliases: [liver, hepatic organ]\n---\n")  # came
    assert len(check()) == 1
    (vault / "Bone notes.md").write_text("---\naliases: [bone, bony quarter]\n---\n")
    assert len(check()) == 2
    (vault / "Hepar notes.md").unlink()  # its labels went
    assert len(check()) == 1


class _CountingStore:
    """A store that counts its compactions."""

    def __init__(self) -> None:
        self.store, self.compactions = ox.Store(), 0

    def optimize(self) -> None:
        self.compactions += 1
        self.store.optimize()

    def __getattr__(self, name: str):
        return getattr(self.store, name)


def test_store_is_compacted_after_some_builds_that_wrote_to_it(vault: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch):
    """Each build that writes adds files every lookup reads until the store is compacted:
    with its keys remembered, the store is compacted every COMPACT_AFTER writing builds."""
    monkeypatch.setattr(store_module, "COMPACT_AFTER", 2)
    store, cache = _CountingStore(), tmp_path / "cache"

    def sync() -> None:
        result = build_vault(vault, load_vocabulary([]), cache_dir=cache, jobs=1)
        sync_store(store, result.chunks(build_graph=True), remember=cache / "keys")  # type: ignore[arg-type]

    sync()  # a first load of a few graphs (by transaction): one write
    sync()  # nothing changed: no write
    assert store.compactions == 0
    (vault / "misc.md").write_text("- BrCa-notes may cause headache.\n")
    sync()  # the second write
    assert store.compactions == 1
    (vault / "misc.md").write_text("- BrCa-notes may cause seizures.\n")
    sync()
    assert store.compactions == 1 and quads(store.store) == clean_store(vault)


@pytest.mark.parametrize("jobs", [1, 2], ids=["one process", "worker processes"])
def test_first_build_loads_the_store_while_extracting(tmp_path: Path, jobs: int,
                                                      monkeypatch: pytest.MonkeyPatch):
    """Into an empty store, notes are loaded as they are extracted; once keyed, the store
    sync only loads what is left and the store equals a clean load.  A build that is not
    kept leaves the store empty."""
    monkeypatch.setattr(store_module, "BULK_SLICE", 16)  # several bulk loads
    vault, store = many_notes(tmp_path / "many"), ox.Store()
    loader = StreamLoader.into(store)
    assert loader is not None
    result = build_vault(vault, load_vocabulary([]), jobs=jobs, sink=loader.add)
    assert loader.finish(result) == 150
    assert sync_store(store, result.chunks(build_graph=True)) == 2  # build, vocabulary
    assert quads(store) == clean_store(vault)
    assert StreamLoader.into(store) is None  # not empty any more
    other = ox.Store()
    loader = StreamLoader.into(other)
    assert loader is not None
    build_vault(vault, load_vocabulary([]), jobs=jobs, sink=loader.add)
    loader.abort()
    assert len(other) == 0
