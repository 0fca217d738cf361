"""Frontmatter + markdown-it tokens -> Note (blocks with file line numbers, links, metadata)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import yaml  # type: ignore[import-untyped]
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from .model import Block, Note, Problem, SourceNote, SourceSpan, WikiLink
from .vault import MAX_NOTE_BYTES, too_large

MAX_BLOCK_CHARS = 20_000  # a longer paragraph, item, heading or cell is cut (warned)
MAX_BLOCKS = 10_000  # blocks of one note that are read for facts (a 1 MiB note can hold 70k)
MAX_NESTING = 100  # markdown-it's token nesting: about 50 levels of lists or quotes
MAX_YAML_ALIASES = 10  # YAML aliases (*name) allowed in frontmatter: caps alias bombs

_FENCE = re.compile(r"^(-{3,})[ \t]*$")
_CLOSE = re.compile(r"^(-{3,}|\.\.\.)[ \t]*$")
_LOGSEQ_PROP = re.compile(r"^([A-Za-z][\w-]*)::[ \t]*(.*)$")
# Obsidian and HTML comments (not one that a code span opens: "`<!--`")
_COMMENT = re.compile(r"%%.*?%%|<!--(?:(?!`).)*?-->", re.DOTALL)
_BULLET = re.compile(r"^([ \t]*)[•●▪◦]([ \t])", re.MULTILINE)
_CALLOUT = re.compile(r"^\[![\w-]+\][+-]?\s*")
_INLINE_TAG = re.compile(r"(?<![\w&/#])#([A-Za-z_][\w/-]*)")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_WIKILINK = re.compile(r"(!?)\[\[([^\[\]\n]+?)\]\]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# what Obsidian opens as an attachment rather than a note: "[[Dr. Smith]]" is a note
ATTACHMENT = re.compile(r"\.(png|jpe?g|gif|svg|webp|avif|bmp|tiff?|pdf|mp3|m4a|flac|mp4|webm|"
                        r"mkv|wav|ogg|ogv|mov|3gp|canvas|excalidraw|docx?|xlsx?|pptx?|zip)$",
                        re.IGNORECASE)


class _TextLoader(yaml.SafeLoader):
    """A safe YAML loader that keeps scalars as the text the user wrote.

    YAML 1.1 turns ``NO`` into false, ``12:30`` into 750, ``010`` into 8 and
    ``2024-01-01`` into a date; notes mean the text.  Only ``true``/``false`` and empty
    values keep their YAML meaning.  It counts aliases (``*name``) and refuses more than
    ``MAX_YAML_ALIASES``, and records keys that appear twice in a mapping.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases = 0
        self.duplicates: list[tuple[str, int, int]] = []  # key, first line, later line

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_YAML_ALIASES:
                raise _Refused(f"frontmatter uses more than {MAX_YAML_ALIASES} YAML aliases "
                               "(*name); ignored", self.peek_event().start_mark.line)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):  # "!!map abc"
            raise _Refused(f"frontmatter value tagged {_short_tag(node.tag)} is not a mapping; "
                           "remove the tag, frontmatter ignored", node.start_mark.line)
        seen: dict[str, int] = {}
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    self.duplicates.append((key.value, seen[key.value], key.start_mark.line))
                seen.setdefault(key.value, key.start_mark.line)
        return super().construct_mapping(node, deep)


class _Refused(Exception):
    """Frontmatter met2rdf will not read: a message and its 0-based line in the YAML."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def _construct_scalar(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    value = loader.construct_scalar(node)
    if _SURROGATE.search(value):
        raise _Refused(f"frontmatter value {value[:40]!a} holds a lone surrogate (a YAML "
                       "escape such as \\ud800 that is no character); remove it, frontmatter "
                       "ignored", node.start_mark.line)
    if node.style is None:
        if value in ("", "~", "null", "Null", "NULL"):
            return None
        if value in ("true", "false"):
            return value == "true"
    return value


def _construct_checked(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """An explicit ``!!int``, ``!!float``, ``!!bool`` or ``!!timestamp``: its value, or
    a refusal when the text is not one (``!!int abc``)."""
    try:
        return _SAFE[node.tag](loader, node)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError, IndexError):
        raise _Refused(f"frontmatter value {str(node.value)[:40]!r} is not a valid "
                       f"{_short_tag(node.tag)}; remove the tag or fix "
                       "the value, frontmatter ignored", node.start_mark.line) from None


_YAML = "tag:yaml.org,2002:"
_SAFE = {_YAML + t: yaml.SafeLoader.yaml_constructors[_YAML + t]
         for t in ("int", "float", "bool", "timestamp")}
_TextLoader.yaml_implicit_resolvers = {}
# !!binary, !!set, !!omap and !!pairs make bytes, sets and pairs, no names: refused as tags
_TextLoader.yaml_constructors = {
    tag: make for tag, make in yaml.SafeLoader.yaml_constructors.items()
    if tag not in {_YAML + t for t in ("binary", "set", "omap", "pairs")}}
for _tag in _SAFE:
    _TextLoader.add_constructor(_tag, _construct_checked)
_TextLoader.add_constructor("tag:yaml.org,2002:str", _construct_scalar)


def _wikilink_rule(state: StateInline, silent: bool) -> bool:
    """Inline rule for ``[[target#heading|shown]]`` and ``![[embed]]``."""
    match = _WIKILINK.match(state.src, state.pos)
    if match is None:
        return False
    if not silent:
        token = state.push("wikilink", "", 0)
        token.meta = {"embed": bool(match.group(1)), "raw": match.group(2)}
    state.pos = match.end()
    return True


def _cut_long_blocks(state: StateCore) -> None:
    """Core rule: cut the text of a block over ``MAX_BLOCK_CHARS`` at a space, noting where."""
    for token in state.tokens:
        if token.type == "inline" and len(token.content) > MAX_BLOCK_CHARS:
            cut = token.content.rfind(" ", 0, MAX_BLOCK_CHARS)
            size = len(token.content)
            token.content = token.content[:cut if cut > 0 else MAX_BLOCK_CHARS]
            state.env.setdefault("cut", []).append(((token.map or [0])[0], size))


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "maxNesting": MAX_NESTING})
    md.enable(["table", "strikethrough"])
    md.inline.ruler.before("link", "wikilink", _wikilink_rule)
    md.core.ruler.before("inline", "cut_long_blocks", _cut_long_blocks)
    return md


_MD = _markdown()


def split_link(raw: str) -> tuple[str, str | None, str | None]:
    """Split the inside of ``[[...]]`` into (target, heading, shown)."""
    shown: str | None = None
    for sep in ("\\|", "|"):
        if sep in raw:
            raw, shown = raw.split(sep, 1)
            shown = shown.strip() or None
            break
    heading: str | None = None
    if "#" in raw:
        raw, heading = raw.split("#", 1)
        heading = heading.lstrip("^").strip() or None
    return raw.strip(), heading, shown


def _blank(lines: list[str], start: int, end: int) -> None:
    for i in range(start, end):
        lines[i] = ""


Meta = tuple[dict[str, Any], dict[str, int]]  # frontmatter values, and each key's file line


def _front_matter(lines: list[str], path: str) -> tuple[Meta, list[Problem]]:
    """Read and blank out the frontmatter: YAML between ``---`` lines, a JSON object
    between ``{`` and ``}`` lines, or leading Logseq ``key:: value`` lines."""
    if lines and _FENCE.match(lines[0]):
        for end in range(1, len(lines)):
            if _CLOSE.match(lines[end]):
                break
        else:
            return ({}, {}), [Problem(SourceSpan(path, 1),
                                      "frontmatter is not closed (expected a '---' line); "
                                      "the note is read without frontmatter")]
        text = "\n".join(lines[1:end])
        _blank(lines, 0, end + 1)
        return _read_yaml(text, path)
    if lines and lines[0].strip() == "{":
        return _read_json(lines, path)
    props: dict[str, Any] = {}
    end = 0
    while end < len(lines) and (m := _LOGSEQ_PROP.match(lines[end])):
        props[m.group(1).lower()] = m.group(2).strip() or None
        end += 1
    _blank(lines, 0, end)
    return (props, {}), []


def _read_yaml(text: str, path: str) -> tuple[Meta, list[Problem]]:
    """Load YAML frontmatter (which starts on line 2 of the file) into a mapping."""
    try:
        loader = _TextLoader(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 2
        return ({}, {}), [Problem(SourceSpan(path, line),
                                  f"frontmatter holds the control character U+{exc.character:04X}, "
                                  "which YAML does not allow; remove it, frontmatter ignored")]
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except _Refused as exc:
        return ({}, {}), [Problem(SourceSpan(path, exc.line + 2), str(exc))]
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line = mark.line + 2 if mark is not None else 2
        tag = (exc.problem or "").rpartition("tag ")[2].strip("'")
        if "constructor for the tag" not in (exc.problem or ""):
            return ({}, {}), [_invalid_yaml(path, line, exc.problem or str(exc))]
        return ({}, {}), [Problem(SourceSpan(path, line),
                                  f"frontmatter uses the YAML tag {_short_tag(tag)}, which "
                                  "met2rdf does not run (only plain values are read); frontmatter "
                                  "ignored")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 2
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return ({}, {}), [_invalid_yaml(path, line, reason)]
    except RecursionError:
        return ({}, {}), [Problem(SourceSpan(path, 2), "frontmatter is nested too deeply to "
                                                       "read; ignored")]
    finally:
        loader.dispose()
    problems = [Problem(SourceSpan(path, later + 2),
                        f"frontmatter key {key!r} appears twice (lines {first + 2} and "
                        f"{later + 2}); the value at line {later + 2} is used")
                for key, first, later in loader.duplicates]
    if data is None:
        return ({}, {}), problems
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        assert node is not None
        problems.append(Problem(SourceSpan(path, node.start_mark.line + 2),
                                f"frontmatter is {kind}, not a mapping of keys to values; "
                                "ignored"))
        return ({}, {}), problems
    assert isinstance(node, yaml.MappingNode)
    lines = {str(k.value): k.start_mark.line + 2 for k, _ in node.value}
    return ({str(k): v for k, v in data.items()}, lines), problems


def _read_json(lines: list[str], path: str) -> tuple[Meta, list[Problem]]:
    """Read a JSON object between a ``{`` line and a ``}`` line (python-frontmatter's form)."""
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "}"), None)
    if end is None:
        return ({}, {}), []
    try:
        data = json.loads("\n".join(lines[:end + 1]))
    except (ValueError, RecursionError) as exc:
        return ({}, {}), [Problem(SourceSpan(path, 1),
                                  "the note starts like JSON frontmatter but it is not valid "
                                  f"JSON ({str(exc).split(':')[0]}); read as text")]
    warning = Problem(SourceSpan(path, 1), "JSON frontmatter: read, but Obsidian reads only "
                                           "YAML between '---' lines")
    if not isinstance(data, dict):
        return ({}, {}), []
    _blank(lines, 0, end + 1)
    return ({str(k): v for k, v in data.items()}, {}), [warning]


def _invalid_yaml(path: str, line: int, reason: str) -> Problem:
    return Problem(SourceSpan(path, line),
                   f"frontmatter is not valid YAML ({reason}); fix it to keep aliases and tags")


def _short_tag(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:"):] if tag.startswith("tag:yaml.org,2002:") else tag


def _names(meta: Meta, key: str, path: str,
           problems: list[Problem]) -> list[str]:
    """Return the aliases (or tags) under ``key``, by the one rule of the README.

    A list of values, or one string split at commas; null or empty is none; ``true`` and
    ``false`` stay words; ``[[X|Y]]`` gives X; surrounding quotes are trimmed.  A mapping,
    or a list or mapping inside the list, is reported and left out.
    """
    value = meta[0].get(key)
    if value is None:
        return []
    line = meta[1].get(key, 1)
    if isinstance(value, dict):
        problems.append(Problem(SourceSpan(path, line),
                                f"frontmatter {key!r} is a mapping, not a list of names; "
                                "ignored"))
        return []
    items = value if isinstance(value, list) else str(_word(value)).split(",")
    out: list[str] = []
    for item in items:
        if isinstance(item, (dict, list)):
            problems.append(Problem(SourceSpan(path, line),
                                    f"frontmatter {key!r} holds a nested "
                                    f"{'mapping' if isinstance(item, dict) else 'list'}; "
                                    "left out"))
            continue
        if item is None:
            continue
        text = str(_word(item)).strip()
        for link in _WIKILINK.finditer(text):
            text = split_link(link.group(2))[0]
        text = text.strip().strip('"').strip()
        if text:
            out.append(text)
    return out


_NAME_KEYS = ("aliases", "alias", "tags", "tag", "title")


def _property_links(meta: Meta, path: str, problems: list[Problem]) -> list[WikiLink]:
    """Return the wikilinks in frontmatter properties (``related: "[[X]]"``, or a list of
    them), at their key's line; an unquoted ``[[X]]``, which YAML reads as a nested list,
    is reported and left out."""
    links: list[WikiLink] = []
    for key, value in meta[0].items():
        if key.lower() in _NAME_KEYS:
            continue
        span = SourceSpan(path, meta[1].get(key, 1))
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                for match in _WIKILINK.finditer(item):
                    target, heading, shown = split_link(match.group(2))
                    if target:
                        links.append(WikiLink(target, heading, shown, bool(match.group(1)),
                                              span))
            elif isinstance(item, list):
                problems.append(Problem(span, f"frontmatter {key!r} holds a nested list, as "
                                              "YAML reads an unquoted [[link]]; write links "
                                              "in quotes (\"[[X]]\"), left out"))
    return links


def _word(value: Any) -> Any:
    """``true`` and ``false`` as the user wrote them (YAML made them booleans)."""
    return ("true" if value else "false") if isinstance(value, bool) else value


def _tags(names: list[str]) -> list[str]:
    """Split tag names at spaces and commas and drop their leading ``#`` (``a/b`` stays)."""
    out: list[str] = []
    for item in names:
        out.extend(t.lstrip("#") for t in re.split(r"[\s,]+", item) if t.lstrip("#"))
    return out


def _unique(items: list[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(item.casefold(), item)
    return tuple(seen.values())


class _InlineText:
    """Flatten one inline token into plain text with line and bold offsets."""

    def __init__(self, path: str, line: int) -> None:
        self.path = path
        self.parts: list[str] = []
        self.size = 0
        self.line = line
        self.line_starts: list[tuple[int, int]] = [(0, line)]
        self.bold: list[tuple[int, int]] = []
        self.links: list[tuple[int, int, str]] = []
        self.wikilinks: list[WikiLink] = []
        self._bold_open: list[int] = []

    def add(self, text: str) -> None:
        text = _BR.sub("; ", text)
        self.parts.append(text)
        self.size += len(text)

    def newline(self) -> None:
        self.add("\n")
        self.line += 1
        self.line_starts.append((self.size, self.line))

    def feed(self, tokens: list[Token]) -> None:
        skip = 0
        struck = 0  # inside ~~struck-out~~ text: not said
        for tok in tokens:
            if skip:
                skip += {"image": 0}.get(tok.type, 0)
                continue
            kind = tok.type
            if kind in ("s_open", "s_close"):
                struck = max(0, struck + (1 if kind == "s_open" else -1))
            elif struck and kind not in ("softbreak", "hardbreak"):
                continue
            if kind in ("text", "code_inline"):
                self.add(tok.content)
            elif kind in ("softbreak", "hardbreak"):
                self.newline()
            elif kind == "strong_open":
                self._bold_open.append(self.size)
            elif kind == "strong_close" and self._bold_open:
                self.bold.append((self._bold_open.pop(), self.size))
            elif kind == "wikilink":
                self._wikilink(tok)

    def _wikilink(self, tok: Token) -> None:
        target, heading, shown = split_link(tok.meta["raw"])
        embed = tok.meta["embed"]
        self.wikilinks.append(WikiLink(target, heading, shown, embed,
                                       SourceSpan(self.path, self.line)))
        if embed or not target and not shown:
            return
        label = shown or target.rsplit("/", 1)[-1]
        if label.lower().endswith(".md"):
            label = label[:-3]
        start = self.size
        self.add(label)
        self.links.append((start, self.size, target))

    @property
    def text(self) -> str:
        return "".join(self.parts)


def _budget_problems(tokens: list[Token], env: dict[str, Any], path: str) -> list[Problem]:
    """Report blocks cut at ``MAX_BLOCK_CHARS`` and nesting markdown-it stopped reading."""
    problems = [Problem(SourceSpan(path, line + 1),
                        f"a block of {size:,} characters, over the limit of "
                        f"{MAX_BLOCK_CHARS:,}; the rest of it is skipped")
                for line, size in env.get("cut", [])]
    deep = next((t for t in tokens if t.level >= MAX_NESTING - 1), None)
    if deep is not None:
        line = next((t.map[0] for t in reversed(tokens[:tokens.index(deep) + 1]) if t.map), 0)
        problems.append(Problem(SourceSpan(path, line + 1),
                                f"lists or block quotes nested more than {MAX_NESTING // 2} "
                                "levels deep; the note is read only up to here"))
    return problems


def _strip_callout(text: str) -> str:
    match = _CALLOUT.match(text)
    return text[match.end():] if match else text


_LEAD_IN_WORDS = 8


def _strip_first(children: list[Token]) -> list[Token]:
    """Drop a callout marker that starts an inline (a callout inside a list item)."""
    if children and children[0].type == "text":
        children[0] = children[0].copy(content=_strip_callout(children[0].content))
    return children


def _acts_as_heading(flat: _InlineText) -> bool:
    """A short line that is all bold ("**Inflammatory breast cancer**") heads what follows."""
    text = flat.text.strip()
    if not text or "\n" in text or len(text.split()) > _LEAD_IN_WORDS or text.endswith("."):
        return False
    covered = sum(e - s for s, e in flat.bold)
    return covered >= len(text.strip("*_ :")) > 0 and len(flat.bold) <= 2


def _pseudo_level(headings: list[tuple[int, int, bool]]) -> int:
    """The level of a line acting as a heading: one below the real heading it is under."""
    real = [level for level, _, pseudo in headings if not pseudo]
    return (real[-1] if real else 0) + 1


def _is_lead_in(text: str, tokens: list[Token], i: int) -> bool:
    """A short paragraph, or one ending in ":", right before a list introduces its items."""
    following = next((t.type for t in tokens[i + 1:i + 3] if t.type != "paragraph_close"), "")
    if following not in ("bullet_list_open", "ordered_list_open"):
        return False
    text = text.strip()
    return text.endswith(":") or (len(text.split()) <= _LEAD_IN_WORDS and "\n" not in text
                                  and not text.endswith((".", "!", "?")))


def _callout_title(children: list[Token], flat: _InlineText,
                   add_heading: Callable[[_InlineText, int, bool], int]) -> list[Token]:
    """Read a callout's title (``> [!info] Metastatic spread``) as a heading for its body;
    return the inline tokens of the body."""
    first = children[0].copy(content=_strip_callout(children[0].content))
    rest = [first, *children[1:]]
    cut = next((n for n, t in enumerate(rest) if t.type in ("softbreak", "hardbreak")),
               len(rest))
    title, body = rest[:cut], rest[cut + 1:]
    heading = _InlineText(flat.path, flat.line)
    heading.feed(title)
    if heading.text.strip():
        add_heading(heading, 7, True)  # below every real heading; closed with the callout
    flat.line += 1 if cut < len(rest) else 0
    return body


def _prepare(source: SourceNote) -> tuple[list[str], Meta, list[Problem]]:
    lines = source.text.removeprefix("\ufeff").split("\n")
    meta, problems = _front_matter(lines, source.path)
    body = "\n".join(lines)
    body = _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), body)
    body = _BULLET.sub(r"\1-\2", body)
    return body.split("\n"), meta, problems


def parse_note(source: SourceNote) -> Note:
    """Parse a decoded note into blocks, links, aliases and tags, with file line numbers."""
    if len(source.text) > MAX_NOTE_BYTES // 4 and (
            len(source.text.encode("utf-8", "surrogatepass")) > MAX_NOTE_BYTES):
        return Note(path=source.path, title=source.title, aliases=(), tags=(), links=(),
                    blocks=(), problems=(too_large(source.path, len(source.text.encode(
                        "utf-8", "surrogatepass"))),))
    lines, meta, problems = _prepare(source)
    env: dict[str, Any] = {}
    tokens = _MD.parse("\n".join(lines), env)
    problems.extend(_budget_problems(tokens, env, source.path))
    blocks: list[Block] = []
    links: list[WikiLink] = []
    stack: list[int | None] = []  # enclosing list items (block index or None until filled)
    headings: list[tuple[int, int, bool]] = []  # (level, block index, a line acting as one)
    lead: int | None = None  # a lead-in paragraph right before the list being read
    row_parent: int | None = None
    pending_row: list[Token] = []
    inline_tags: list[str] = []
    in_table = False

    def context() -> int | None:
        for item in reversed(stack):
            if item is not None:
                return item
        if stack and lead is not None:
            return lead  # a list under its lead-in line ("Sites of spread:")
        return headings[-1][1] if headings else None

    def add_heading(flat: _InlineText, level: int, pseudo: bool = False) -> int:
        """A heading, or a line that acts as one (a bold line, a callout title): it closes
        the sections of its level and below and opens its own."""
        while headings and headings[-1][0] >= level:
            headings.pop()
        parent = headings[-1][1] if headings else None
        index = add_block("heading", flat, level, parent)
        headings.append((level, index, pseudo))
        return index

    def add_block(kind: str, flat: _InlineText, level: int, parent: int | None,
                  cells: tuple[tuple[int, int], ...] = ()) -> int:
        text = flat.text
        links.extend(flat.wikilinks)
        if kind != "heading":
            inline_tags.extend(m.group(1) for m in _INLINE_TAG.finditer(text))
        index = len(blocks)
        blocks.append(Block(index=index, kind=kind, text=text,
                            line_starts=tuple(flat.line_starts), level=level, parent=parent,
                            bold=tuple(sorted(flat.bold)), links=tuple(flat.links), cells=cells))
        return index

    i = 0
    while i < len(tokens):
        tok = tokens[i]
        kind = tok.type
        if kind == "list_item_open":
            stack.append(None)
        elif kind == "list_item_close":
            stack.pop()
        elif kind == "heading_open":
            inline = tokens[i + 1]
            level = int(tok.tag[1:])
            flat = _InlineText(source.path, inline.map[0] + 1 if inline.map else 1)
            flat.feed(inline.children or [])
            if stack and stack[-1] is None:
                # a heading that opens a list item (Logseq "- # Title"): the item's own text
                stack[-1] = add_block("heading", flat, level, context())
            else:
                lead = None
                add_heading(flat, level)
            i += 3
            continue
        elif kind == "inline" and tok.map is not None and not in_table:
            flat = _InlineText(source.path, tok.map[0] + 1)
            children = list(tok.children or [])
            if not stack and children and children[0].type == "text" and \
                    _CALLOUT.match(children[0].content):
                children = _callout_title(children, flat, add_heading)
                flat = _InlineText(source.path, flat.line)
            else:
                children = _strip_first(children)
            flat.feed(children)
            if stack and stack[-1] is None:
                depth = len(stack)
                stack[-1] = add_block("item", flat, depth, context())
            elif not stack and _acts_as_heading(flat):
                lead = None
                add_heading(flat, _pseudo_level(headings), pseudo=True)
            elif flat.text.strip():
                index = add_block("paragraph", flat, 0, context())
                if not stack:
                    lead = index if _is_lead_in(flat.text, tokens, i) else None
        elif kind in ("bullet_list_close", "ordered_list_close") and not stack:
            lead = None
        elif kind == "blockquote_close":
            while headings and headings[-1][2] and headings[-1][0] > 6:
                headings.pop()  # a callout's title heads only the callout
        elif kind == "table_open":
            in_table = True
            lead = None
        elif kind == "tr_open":
            pending_row = []
        elif kind in ("th_open", "td_open"):
            pending_row.append(tokens[i + 1])
        elif kind == "tr_close":
            header = tokens[i - 1].type == "th_close"
            row_line = (pending_row[0].map[0] + 1) if pending_row and pending_row[0].map else 1
            flat = _InlineText(source.path, row_line)
            cells: list[tuple[int, int]] = []
            for n, cell in enumerate(pending_row):
                if n:
                    flat.add(" | ")
                start = flat.size
                flat.feed(cell.children or [])
                cells.append((start, flat.size))
            if header:
                row_parent = add_block("header_row", flat, 0, context(), tuple(cells))
            else:
                add_block("row", flat, 0, row_parent if row_parent is not None else context(),
                          tuple(cells))
        elif kind == "table_close":
            row_parent = None
            in_table = False
        i += 1

    aliases = _names(meta, "aliases", source.path, problems) + _names(meta, "alias",
                                                                        source.path, problems)
    title_meta = meta[0].get("title")
    if isinstance(title_meta, str) and title_meta.strip() and title_meta.strip() != source.title:
        aliases.append(title_meta.strip())
    tags = _tags(_names(meta, "tags", source.path, problems)
                 + _names(meta, "tag", source.path, problems)) + inline_tags
    links = _property_links(meta, source.path, problems) + links
    if len(blocks) > MAX_BLOCKS:
        cut = SourceSpan(source.path, blocks[MAX_BLOCKS].line_at(0))
        problems.append(Problem(cut, f"more than {MAX_BLOCKS:,} headings, "
                                "list items, paragraphs and table rows; facts are read only up "
                                "to here (its links from all of it); split the note"))
        del blocks[MAX_BLOCKS:]
    return Note(path=source.path, title=source.title, aliases=_unique(aliases),
                tags=_unique(tags), links=tuple(links), blocks=tuple(blocks),
                problems=tuple(problems))
