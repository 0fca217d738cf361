"""Hardening, input side: hostile YAML, encodings, frontmatter forms, pathological Markdown,
vault walking and wikilink resolution (issue 6, cases 1-6 and 8)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stores import note_links

from met2rdf.build import build_notes, build_vault
from met2rdf.errors import Met2RdfError
from met2rdf.iris import note_iri
from met2rdf.model import Problem, SourceNote
from met2rdf.parse import MAX_BLOCK_CHARS, parse_note
from met2rdf.vault import MAX_NOTE_BYTES, LinkResolver, decode_note, find_note_files, read_vault
from met2rdf.vocab import default_vocabulary

MET_NOTE = "- **Breast cancer** often spreads to the liver.\n- Lung cancer may spread to bone.\n"


def parse(text: str, path: str = "n.md"):
    return parse_note(SourceNote(path=path, title=path[:-3], text=text))


def problems(text: str) -> list[str]:
    return [str(p) for p in parse(text).problems]


def facts_of(note: SourceNote) -> list[tuple[str, str, str, int]]:
    result = build_notes([note], default_vocabulary(), validate=False, jobs=1)
    return sorted((f.subject, f.predicate, f.object, f.span.line) for f in result.facts)


# 1. YAML

def test_unsafe_yaml_tag_is_refused():
    """A !!python/object/apply tag is not run; the frontmatter is ignored with its line."""
    note = parse("---\ntags: x\nrun: !!python/object/apply:os.system ['touch /tmp/pwned']\n"
                 "---\nbody\n")
    assert [str(p) for p in note.problems] == [
        ("n.md:3: frontmatter uses the YAML tag !!python/object/apply:os.system, which met2rdf "
        "does not run (only plain values are read); frontmatter ignored")]
    assert note.tags == () and not Path("/tmp/pwned").exists()


def test_yaml_alias_bomb_is_capped():
    """A billion-laughs frontmatter stops at the 11th alias, quickly, with its line."""
    levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for n in range(1, 9):
        prev, name = chr(ord("a") + n - 1), chr(ord("a") + n)
        levels.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    started = time.monotonic()
    found = problems("---\n" + "\n".join(levels) + "\naliases: *i\n---\nbody\n")
    assert found == ["n.md:4: frontmatter uses more than 10 YAML aliases (*name); ignored"]
    assert time.monotonic() - started < 2


def test_duplicate_yaml_keys_name_both_lines():
    """A key written twice is reported with both lines and the later value wins."""
    note = parse("---\ntags: a\naliases: x\ntags: b\n---\nbody\n")
    assert [str(p) for p in note.problems] == [
        ("n.md:4: frontmatter key 'tags' appears twice (lines 2 and 4); the value at line 4 "
        "is used")]
    assert note.tags == ("b",)


def test_yaml_1_1_surprises_keep_the_text():
    """NO, 12:30, 010, dates, yes, 1e3 and 0x1F stay as written; true stays the word."""
    note = parse("---\naliases: [NO, 12:30, 010, 2024-01-01, yes, 1e3, 0x1F, true, ~]\n---\n")
    assert note.aliases == ("NO", "12:30", "010", "2024-01-01", "yes", "1e3", "0x1F", "true")
    assert note.problems == ()


# 2. Encodings

def test_bom_crlf_lf_and_cr_give_the_same_facts_and_lines():
    """The same note with LF, CRLF, CR and a BOM gives the same facts at the same lines."""
    text = "---\naliases: [BC]\n---\n# Breast cancer\n\n" + MET_NOTE
    variants = [text.encode(), text.replace("\n", "\r\n").encode(),
                text.replace("\n", "\r").encode(), b"\xef\xbb\xbf" + text.encode()]
    results = []
    for data in variants:
        source = decode_note(data, "n.md")
        assert isinstance(source, SourceNote)
        results.append((parse_note(source).aliases, facts_of(source)))
    assert results[0][1] and [r[1][0][3] for r in results] == [6, 6, 6, 6]
    assert all(r == results[0] for r in results)


def test_bad_bytes_are_reported_and_the_rest_builds(tmp_path: Path):
    """Invalid UTF-8, UTF-16 and a PNG named .md are skipped, each with path:line; a stray
    NUL byte in text is a warning and its note is read; the good note still builds."""
    (tmp_path / "good.md").write_text(MET_NOTE)
    (tmp_path / "latin1.md").write_bytes("ok\ncafé\n".encode("latin-1"))
    (tmp_path / "nul.md").write_bytes(b"text\nmore\x00\n")
    (tmp_path / "utf16.md").write_bytes("# Title\n".encode("utf-16"))
    (tmp_path / "image.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = build_vault(tmp_path, default_vocabulary(), jobs=1)
    assert [str(p) for p in result.problems] == [
        "image.md:3: binary data (NUL byte at byte 8); not a Markdown note, skipped",
        "latin1.md:2: not UTF-8 at byte 6; re-save the note as UTF-8, skipped",
        "nul.md:2: a NUL byte at byte 9 left out, the rest read; re-save the note without them",
        ("utf16.md:1: not UTF-8 at byte 0 (a UTF-16 byte order mark); re-save the note as "
        "UTF-8, skipped")]
    assert [n.path for n in result.notes] == ["good.md", "nul.md"] and len(result.facts) == 2


# 3. Frontmatter forms

@pytest.mark.parametrize(("text", "expected"), [
    ("---\n- a\n- b\n---\nbody\n",
     "n.md:2: frontmatter is a list, not a mapping of keys to values; ignored"),
    ("---\njust words\n---\nbody\n",
     "n.md:2: frontmatter is a single value, not a mapping of keys to values; ignored"),
    ("---\naliases: x\nbody\n",
     ("n.md:1: frontmatter is not closed (expected a '---' line); the note is read without "
     "frontmatter")),
    ('{\n  "aliases": ["BC"]\n}\nbody\n',
     "n.md:1: JSON frontmatter: read, but Obsidian reads only YAML between '---' lines"),
    ('{\n  "aliases": ["BC",\n}\nbody\n',
     ("n.md:1: the note starts like JSON frontmatter but it is not valid JSON (Expecting "
     "value); read as text")),
    ("---\naliases: {a: 1}\n---\nbody\n",
     "n.md:2: frontmatter 'aliases' is a mapping, not a list of names; ignored"),
])
def test_odd_frontmatter_gives_an_explicit_warning(text: str, expected: str):
    """A list, a scalar, unclosed, JSON or a mapping of aliases is a warning, never silence."""
    assert problems(text) == [expected]


@pytest.mark.parametrize(("front", "aliases", "tags"), [
    ("aliases: [a, b]\ntags: [x, y]", ("a", "b"), ("x", "y")),
    ("aliases: a\ntags: x", ("a",), ("x",)),
    ("aliases: a, b\ntags: 'x, #y z'", ("a", "b"), ("x", "y", "z")),
    ("aliases:\ntags: null", (), ()),
    ("aliases: ['[[Target|shown]]', '\"q\"']\ntags: ['#x', a/b, '#a/b/c', X]",
     ("Target", "q"), ("x", "a/b", "a/b/c")),
    ('{"aliases": "a", "tags": ["#x"]}', ("a",), ("x",)),
])
def test_tags_and_aliases_follow_one_rule(front: str, aliases: tuple, tags: tuple):
    """Lists, strings, comma strings, null, #tags and nested a/b normalise one way."""
    note = parse(f"---\n{front}\n---\nbody\n")
    assert (note.aliases, note.tags, note.problems) == (aliases, tags, ())


# 4. Pathological Markdown

PATHOLOGICAL = {
    "50k [": "[" * 50_000,
    "20k *_": "*_" * 20_000,
    "10k >": ">" * 10_000 + " deep\n\nafter\n",
    "50k [[": "[[a|" * 12_500,
    "2,000-deep list": "- " * 2_000 + "x\n",
    "40k %%": "%%a\n" * 10_000,
    "5,000 nested brackets in YAML": "---\naliases: " + "[" * 5_000 + "\n---\nbody\n",
}


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_pathological_markdown_finishes_within_budget(name: str):
    """Each pathological note parses and builds in under 10 s, with no RecursionError."""
    started = time.monotonic()
    result = build_notes([SourceNote("n.md", "n", PATHOLOGICAL[name])], default_vocabulary(),
                         validate=False, jobs=1)
    assert time.monotonic() - started < 10
    assert [n.path for n in result.notes] == ["n.md"]


def test_deep_nesting_is_reported_and_the_shallow_part_kept():
    """Lists nested past 50 levels are a warning at their line; shallower items stay."""
    text = "- top\n" + "".join("  " * i + "- x\n" for i in range(1, 60)) + "\nafter\n"
    note = parse(text)
    assert [str(p) for p in note.problems] == [
        ("n.md:49: lists or block quotes nested more than 50 levels deep; the note is read "
        "only up to here")]
    assert [b.level for b in note.blocks] == list(range(1, 50))


def test_long_block_is_cut_with_a_warning():
    """A paragraph over the block limit is cut at a space, with a warning at its line."""
    text = "intro\n\n" + "Breast cancer spreads to the liver. " * 1_000
    note = parse(text)
    assert [str(p) for p in note.problems] == [
        (f"n.md:3: a block of {len(text.rstrip()) - 7:,} characters, over the limit of "
        f"{MAX_BLOCK_CHARS:,}; the rest of it is skipped")]
    assert len(note.blocks[1].text) <= MAX_BLOCK_CHARS


def test_huge_note_is_refused_before_reading(tmp_path: Path):
    """A 50 MB note is refused with its size and skipped; the rest of the vault builds."""
    with (tmp_path / "huge.md").open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    (tmp_path / "ok.md").write_text(MET_NOTE)
    started = time.monotonic()
    found = list(read_vault(tmp_path))
    assert time.monotonic() - started < 2
    assert str(found[0]) == (f"huge.md:1: 52,428,800 bytes, over the limit of "
                             f"{MAX_NOTE_BYTES:,} bytes for one note; split it, skipped")
    assert isinstance(found[1], SourceNote)
    big = parse("x" * (MAX_NOTE_BYTES + 1))
    assert big.blocks == () and "over the limit" in str(big.problems[0])


# 5. Vault walking

def test_vault_walk_skips_loops_outside_links_and_non_notes(tmp_path: Path):
    """Symlink loops end, links out of the vault and non-notes are skipped; a FIFO never
    blocks."""
    vault, outside = tmp_path / "vault", tmp_path / "outside"
    (vault / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.md").write_text("secret")
    (vault / "a.md").write_text("a")
    (vault / "sub" / "b.MD").write_text("b")
    (vault / "sub" / "loop").symlink_to(vault, target_is_directory=True)
    (vault / "out").symlink_to(outside, target_is_directory=True)
    (vault / "secret.md").symlink_to(outside / "secret.md")
    (vault / "inside.md").symlink_to(vault / "a.md")
    (vault / "self.md").symlink_to(vault / "self.md")
    (vault / "dangling.md").symlink_to(vault / "gone.md")
    os.mkfifo(vault / "pipe.md")
    for hidden in (".obsidian", ".trash"):
        (vault / hidden).mkdir()
        (vault / hidden / "x.md").write_text("x")
    (vault / "image.png").write_bytes(b"\x89PNG")
    (vault / "notes.txt").write_text("t")
    root, files = find_note_files(vault)
    assert [f.relative_to(root).as_posix() for f in files] == ["a.md", "inside.md", "sub/b.MD"]


def test_links_in_code_and_comments_are_ignored():
    """Wikilinks in fenced and indented code, code spans and %%comments%% are not links."""
    note = parse("```\n[[Fenced]]\n```\n\n    [[Indented]]\n\n`[[Span]]` %%[[Hidden]]%%\n"
                 "%%\n[[Block comment]]\n%%\n[[Real]]\n")
    assert [(link.target, link.span.line) for link in note.links] == [("Real", 11)]


# 6. Wikilink resolution

def test_wikilink_forms_resolve_as_documented():
    """Each wikilink form resolves to the note Obsidian opens, case and .md ignored."""
    paths = ["Liver.md", "organs/Bone.md", "a/Brain.md", "b/Brain.md", "x/y/Lung.md"]
    resolver = LinkResolver(paths)
    note = parse("[[Liver]] [[liver.md]] [[organs/Bone]] [[Bone#Marrow]] [[Liver#^b1]] "
                 "[[LIVER|the liver]] ![[Bone]] [[Brain]] [[b/Brain]] [[y/Lung]] [[../Liver]] "
                 "[[Nowhere]] [[Bone\\|B]]\n")
    resolved = [(link.target, resolver.resolve(link.target)) for link in note.links]
    assert resolved == [
        ("Liver", "Liver.md"), ("liver.md", "Liver.md"), ("organs/Bone", "organs/Bone.md"),
        ("Bone", "organs/Bone.md"), ("Liver", "Liver.md"), ("LIVER", "Liver.md"),
        ("Bone", "organs/Bone.md"), ("Brain", "a/Brain.md"), ("b/Brain", "b/Brain.md"),
        ("y/Lung", "x/y/Lung.md"), ("../Liver", "Liver.md"), ("Nowhere", None),
        ("Bone", "organs/Bone.md")]
    assert [(link.heading, link.shown, link.embed) for link in note.links[3:7]] == [
        ("Marrow", None, False), ("b1", None, False), (None, "the liver", False),
        (None, None, True)]


def test_same_name_in_two_folders_warns_and_unresolved_links_stay():
    """Two notes called Brain: [[Brain]] goes to the shallower one with a warning; an
    unresolved link is kept as met:unresolvedLink."""
    notes = [SourceNote("a/Brain.md", "Brain", "brain a"), SourceNote("b/c/Brain.md", "Brain",
                                                                       "brain b"),
             SourceNote("n.md", "n", "see [[Brain]] and [[Nowhere]]\n")]
    result = build_notes(notes, default_vocabulary(), validate=False, jobs=1)
    assert [str(p) for p in result.problems] == [
        ("b/c/Brain.md:1: [[Brain]] matches this note and a/Brain.md, and links to a/Brain.md; "
        "write the folder in links to choose")]
    graph = next(g for g in result.graphs if g.iri == note_iri("n.md"))
    assert note_links(graph) == [("linksTo", f"<{note_iri('a/Brain.md')}>"),
                                 ("unresolvedLink", "Nowhere@1")]


# 8. Properties

NOTE_TEXT = st.lists(st.sampled_from(
    list("-*_[]#>|`%!:\\{}()\n\t ,.") + ["\r\n", "---\n", "[[", "]]", "%%", "![[", "- [ ] ",
                                          "| a | b |\n|---|---|\n", "aliases: ", "tags: ",
                                          "&a ", "*a ", "Breast cancer", " spreads to ",
                                          "liver", "bone mets", "é", "日本", "🦀", "\x00",
                                          "\u2028", "\ufeff", "\x0b", "\x7f", "\x84",
                                          "\ufffe", "\x1b", "!!int ", "!!binary ", "!!set ",
                                          "!!timestamp ", '"\\ud800"', "related: ",
                                          "[[Dr. Smith]]"]), max_size=80).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(NOTE_TEXT, st.sampled_from(["n.md", "a b/\"q\" <x>.md", "日本/🦀 %41.md"]))
def test_any_note_builds_and_re_parses(text: str, path: str):
    """For any note text, parse and build raise only met2rdf errors and the output re-parses."""
    source = decode_note(text.encode("utf-8"), path)
    sources: list[SourceNote | Problem] = [source] if isinstance(source, Problem) else [
        source, SourceNote(path, path[:-3], text)]
    for item in sources:
        try:
            result = build_notes([item], default_vocabulary(), validate=True, jobs=1)
        except Met2RdfError:
            continue
        turtle = result.turtle()
        parsed = {q.triple for q in ox.parse(turtle, format=ox.RdfFormat.TURTLE)}
        assert parsed == set(result.triples)
