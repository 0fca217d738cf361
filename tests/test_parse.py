"""Parsing: frontmatter, wikilinks, lists, tables and 1-based file line numbers."""

from __future__ import annotations

import pytest

from met2rdf.model import SourceNote
from met2rdf.parse import parse_note, split_link
from met2rdf.vault import decode_note


def parse(text: str, path: str = "n.md"):
    return parse_note(SourceNote(path=path, title=path[:-3], text=text))


def block_at(note, line: int):
    return next(b for b in note.blocks if b.line_starts[0][1] == line)


@pytest.mark.parametrize("raw, expected", [
    ("Liver", ("Liver", None, None)),
    ("Liver|the liver", ("Liver", None, "the liver")),
    ("Liver\\|the liver", ("Liver", None, "the liver")),
    ("Liver#Anatomy", ("Liver", "Anatomy", None)),
    ("Liver#^block1", ("Liver", "block1", None)),
    ("folder/Liver.md|alias", ("folder/Liver.md", None, "alias")),
])
def test_split_link(raw, expected):
    """The inside of [[...]] splits into target, heading and shown text."""
    assert split_link(raw) == expected


def test_wikilink_forms_and_shown_text():
    """Each wikilink form is recorded with its line; the block text shows what a reader sees."""
    note = parse("a [[Liver]] b [[Lung|lungs]] c [[Bone#Marrow]] d ![[scan.png]] e\n"
                 "second [[Brain]] line\n")
    targets = [(link.target, link.heading, link.shown, link.embed, link.span.line)
               for link in note.links]
    assert targets == [("Liver", None, None, False, 1), ("Lung", None, "lungs", False, 1),
                       ("Bone", "Marrow", None, False, 1), ("scan.png", None, None, True, 1),
                       ("Brain", None, None, False, 2)]
    block = note.blocks[0]
    assert block.text == "a Liver b lungs c Bone d  e\nsecond Brain line"
    assert block.line_at(block.text.index("Brain")) == 2


def test_escaped_pipe_link_in_table():
    """[[a\\|b]] inside a table cell keeps the cell intact and shows b."""
    note = parse("| cancer | sites |\n| --- | --- |\n| [[Breast cancer\\|BC]] | bone |\n")
    row = note.blocks[-1]
    assert row.kind == "row" and row.text == "BC | bone"
    assert note.links[0].target == "Breast cancer" and note.links[0].span.line == 3


@pytest.mark.parametrize("front, aliases, tags", [
    ("aliases:\n  - mets\n  - secondaries\ntags:\n  - onc\n  - a/b\n",
     ("mets", "secondaries"), ("onc", "a/b")),
    ("aliases: mets, secondaries\ntags: onc a/b\n", ("mets", "secondaries"), ("onc", "a/b")),
    ("aliases: mets\ntags: '#onc'\n", ("mets",), ("onc",)),
    ("aliases:\ntags:\n", (), ()),
    ("alias: [mets]\ntag: [onc]\n", ("mets",), ("onc",)),
])
def test_frontmatter_forms(front, aliases, tags):
    """Aliases and tags come as lists, strings, comma strings or null."""
    note = parse(f"---\n{front}---\nbody\n")
    assert note.aliases == aliases
    assert note.tags == tags
    assert note.problems == ()


def test_yaml_keeps_the_text_the_user_wrote():
    """YAML 1.1 surprises (NO, 12:30, 010) stay the text that was written."""
    note = parse("---\naliases: [NO, '12:30', 010]\n---\nx\n")
    assert note.aliases == ("NO", "12:30", "010")


def test_line_numbers_count_frontmatter():
    """Block lines are 1-based lines of the file, frontmatter included."""
    note = parse("---\naliases:\n  - x\n---\n# Title\n\n- item one\n  - nested\n")
    assert [(b.kind, b.line_starts[0][1], b.text) for b in note.blocks] == [
        ("heading", 5, "Title"), ("item", 7, "item one"), ("item", 8, "nested")]


def test_nested_lists_know_their_parents():
    """List items point at their enclosing item, top-level items at their heading."""
    note = parse("## Symptoms\n1. **Bone**:\n   - pain\n     - deep\n2. other\n")
    heading, bone, pain, deep, other = note.blocks
    assert (bone.parent, pain.parent, deep.parent, other.parent) == (
        heading.index, bone.index, pain.index, heading.index)
    assert (bone.level, pain.level, deep.level) == (1, 2, 3)
    assert bone.bold == ((0, 4),)


def test_headings_nest_by_level():
    """A heading's parent is the nearest heading of a higher level."""
    note = parse("# A\n## B\n### C\n## D\n")
    a, b, c, d = note.blocks
    assert (a.parent, b.parent, c.parent, d.parent) == (None, a.index, b.index, a.index)


def test_bold_spans_and_callouts():
    """Bold spans are recorded; a callout's title heads its body and is not glued to it."""
    note = parse("> [!info] Note\n> **Breast cancer** spreads\n\nAfter.\n")
    title, block, after = note.blocks
    assert (title.kind, title.text, title.line_at(0)) == ("heading", "Note", 1)
    assert (block.kind, block.text, block.line_at(0), block.parent) == (
        "paragraph", "Breast cancer spreads", 2, title.index)
    start, end = block.bold[0]
    assert block.text[start:end] == "Breast cancer"
    assert after.parent is None  # the callout's title heads only the callout


def test_bold_lines_and_lead_ins_head_what_follows():
    """A line all in bold acts as a heading until its sibling; a lead-in line (a short one,
    or one ending in ":") is the parent of the list right after it."""
    note = parse("## Types\n\n**Ductal**\n- a\n\n**Lobular**\n- b\n\n"
                 "Sites of spread:\n- bone\n\nA sentence.\n\n- c\n")
    by_text = {b.text: b for b in note.blocks}
    types, ductal, lobular = by_text["Types"], by_text["Ductal"], by_text["Lobular"]
    assert (ductal.kind, ductal.level, ductal.parent) == ("heading", 3, types.index)
    assert lobular.parent == types.index  # a sibling, not a child of "Ductal"
    assert by_text["a"].parent == ductal.index and by_text["b"].parent == lobular.index
    lead = by_text["Sites of spread:"]
    assert (lead.kind, by_text["bone"].parent) == ("paragraph", lead.index)
    assert by_text["c"].parent == lobular.index  # after a full sentence: no lead-in


def test_comments_and_code_are_not_links():
    """%%comments%% and code spans hold no wikilinks; lines after a comment keep their number."""
    note = parse("%%hidden [[A]]\nstill hidden%%\nvisible [[B]] `[[C]]`\n")
    assert [link.target for link in note.links] == ["B"]
    assert note.links[0].span.line == 3


def test_logseq_properties_and_bullets():
    """Logseq `alias::` and `tags::` lines are metadata; • bullets are list items."""
    note = parse("alias:: HCC\ntags:: [[Disease]], [[Cancer]]\n\n• first\n• second\n")
    assert note.aliases == ("HCC",)
    assert note.tags == ("Disease", "Cancer")
    assert [(b.kind, b.text, b.line_starts[0][1]) for b in note.blocks] == [
        ("item", "first", 4), ("item", "second", 5)]


def test_inline_tags_are_collected():
    """Inline #tags become note tags."""
    note = parse("text #oncology and #a/b but not a#b or &#39;\n")
    assert note.tags == ("oncology", "a/b")


def test_unclosed_frontmatter_is_reported():
    """Frontmatter without a closing --- gives a problem, not silence."""
    note = parse("---\naliases: x\nbody\n")
    expected = ("n.md:1: frontmatter is not closed (expected a '---' line); "
                "the note is read without frontmatter")
    assert [str(p) for p in note.problems] == [expected]


def test_bad_yaml_names_the_line():
    """Invalid YAML is reported with its file line and the rest of the note still parses."""
    note = parse("---\naliases: [a\ntags: b\n---\nbody text\n")
    assert len(note.problems) == 1
    assert str(note.problems[0]).startswith("n.md:")
    assert "frontmatter is not valid YAML" in str(note.problems[0])
    assert note.blocks[-1].text == "body text"


def test_non_mapping_frontmatter_is_reported():
    """A list as frontmatter is reported and ignored."""
    note = parse("---\n- a\n- b\n---\nbody\n")
    assert "not a mapping" in str(note.problems[0])


def test_decode_bom_crlf_and_bad_bytes():
    """BOM and CRLF decode to the same text; invalid UTF-8 and NUL bytes are problems."""
    plain = decode_note(b"a\nb\n", "n.md")
    assert decode_note(b"\xef\xbb\xbfa\r\nb\r\n", "n.md") == plain
    bad = decode_note(b"ok\n\xff\n", "x.md")
    assert str(bad) == "x.md:2: not UTF-8 at byte 3; re-save the note as UTF-8, skipped"
    binary = decode_note(b"\x89PNG\x00\x00", "img.md")
    assert "NUL byte at byte 4" in str(binary)


def test_table_cells_are_only_rows():
    """A table gives one block per row (cells recorded), not a paragraph per cell."""
    note = parse("| a | b |\n| --- | --- |\n| c | d |\n")
    assert [(b.kind, b.text, b.cells) for b in note.blocks] == [
        ("header_row", "a | b", ((0, 1), (4, 5))), ("row", "c | d", ((0, 1), (4, 5)))]
    assert note.blocks[1].parent == note.blocks[0].index
