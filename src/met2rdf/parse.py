"""Frontmatter + markdown-it tokens -> Note (blocks with file line numbers, links, metadata)."""

from __future__ import annotations

import re
from typing import Any

import yaml
from frontmatter import YAMLHandler
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from .model import Block, Note, Problem, SourceNote, SourceSpan, WikiLink

_FENCE = re.compile(r"^(-{3,})[ \t]*$")
_CLOSE = re.compile(r"^(-{3,}|\.\.\.)[ \t]*$")
_LOGSEQ_PROP = re.compile(r"^([A-Za-z][\w-]*)::[ \t]*(.*)$")
_COMMENT = re.compile(r"%%.*?%%", re.DOTALL)
_BULLET = re.compile(r"^([ \t]*)[•●▪◦]([ \t])", re.MULTILINE)
_CALLOUT = re.compile(r"^\[![\w-]+\][+-]?\s*")
_INLINE_TAG = re.compile(r"(?<![\w&/#])#([A-Za-z_][\w/-]*)")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_WIKILINK = re.compile(r"(!?)\[\[([^\[\]\n]+?)\]\]")
_ATTACHMENT = re.compile(r"\.(png|jpe?g|gif|svg|webp|bmp|pdf|mp3|mp4|webm|wav|ogg|mov|canvas)$", re.IGNORECASE)


class _TextLoader(yaml.SafeLoader):
    """A safe YAML loader that keeps scalars as the text the user wrote.

    YAML 1.1 turns ``NO`` into false, ``12:30`` into 750 and ``010`` into 8; notes mean
    the text.  Only ``true``/``false`` and empty values keep their YAML meaning.
    """


def _construct_scalar(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    value = loader.construct_scalar(node)
    if node.style is None:
        if value in ("", "~", "null", "Null", "NULL"):
            return None
        if value in ("true", "false"):
            return value == "true"
    return value


_TextLoader.yaml_implicit_resolvers = {}
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


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    md.inline.ruler.before("link", "wikilink", _wikilink_rule)
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


def _front_matter(lines: list[str], path: str) -> tuple[dict[str, Any], list[Problem]]:
    """Read and blank out YAML frontmatter or leading Logseq ``key:: value`` lines."""
    problems: list[Problem] = []
    if lines and _FENCE.match(lines[0]):
        for end in range(1, len(lines)):
            if _CLOSE.match(lines[end]):
                break
        else:
            problems.append(Problem(SourceSpan(path, 1),
                                    "frontmatter is not closed (expected a '---' line); "
                                    "the note is read without frontmatter"))
            return {}, problems
        text = "\n".join(lines[1:end])
        _blank(lines, 0, end + 1)
        try:
            data = YAMLHandler().load(text, Loader=_TextLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 2 if mark is not None else 1
            reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            problems.append(Problem(SourceSpan(path, line),
                                    f"frontmatter is not valid YAML ({reason}); "
                                    "fix it to keep aliases and tags"))
            return {}, problems
        if data is None:
            return {}, problems
        if not isinstance(data, dict):
            problems.append(Problem(SourceSpan(path, 2),
                                    f"frontmatter is a {type(data).__name__}, not a mapping of "
                                    "keys to values; ignored"))
            return {}, problems
        return {str(k): v for k, v in data.items()}, problems
    props: dict[str, Any] = {}
    end = 0
    while end < len(lines) and (m := _LOGSEQ_PROP.match(lines[end])):
        props[m.group(1).lower()] = m.group(2).strip() or None
        end += 1
    _blank(lines, 0, end)
    return props, problems


def _as_list(value: Any) -> list[str]:
    """Normalise an alias/tag value: a list, a comma string, a scalar or null."""
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    out: list[str] = []
    for item in items:
        if item is None or isinstance(item, (dict, list)):
            continue
        text = str(item).strip()
        for link in _WIKILINK.finditer(text):
            text = split_link(link.group(2))[0]
        text = text.strip().strip('"').strip()
        if text:
            out.append(text)
    return out


def _tags(value: Any) -> list[str]:
    """Normalise tags: strip ``#``, split strings on commas and spaces, keep ``a/b`` nesting."""
    out: list[str] = []
    for item in _as_list(value):
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
        for tok in tokens:
            if skip:
                skip += {"image": 0}.get(tok.type, 0)
                continue
            kind = tok.type
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


def _strip_callout(text: str) -> str:
    match = _CALLOUT.match(text)
    return text[match.end():] if match else text


def _prepare(source: SourceNote) -> tuple[list[str], dict[str, Any], list[Problem]]:
    lines = source.text.split("\n")
    meta, problems = _front_matter(lines, source.path)
    body = "\n".join(lines)
    body = _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), body)
    body = _BULLET.sub(r"\1-\2", body)
    return body.split("\n"), meta, problems


def parse_note(source: SourceNote) -> Note:
    """Parse a decoded note into blocks, links, aliases and tags, with file line numbers."""
    lines, meta, problems = _prepare(source)
    tokens = _MD.parse("\n".join(lines))
    blocks: list[Block] = []
    links: list[WikiLink] = []
    stack: list[int | None] = []  # enclosing list items (block index or None until filled)
    headings: list[tuple[int, int]] = []  # (level, block index)
    row_parent: int | None = None
    pending_row: list[Token] = []
    inline_tags: list[str] = []
    in_table = False

    def context() -> int | None:
        for item in reversed(stack):
            if item is not None:
                return item
        return headings[-1][1] if headings else None

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
                while headings and headings[-1][0] >= level:
                    headings.pop()
                parent = headings[-1][1] if headings else None
                headings.append((level, add_block("heading", flat, level, parent)))
            i += 3
            continue
        elif kind == "inline" and tok.map is not None and not in_table:
            flat = _InlineText(source.path, tok.map[0] + 1)
            children = list(tok.children or [])
            if children and children[0].type == "text":
                children[0] = children[0].copy(content=_strip_callout(children[0].content))
            flat.feed(children)
            if stack and stack[-1] is None:
                depth = len(stack)
                stack[-1] = add_block("item", flat, depth, context())
            elif flat.text.strip():
                add_block("paragraph", flat, 0, context())
        elif kind == "table_open":
            in_table = True
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

    aliases = _as_list(meta.get("aliases")) + _as_list(meta.get("alias"))
    title_meta = meta.get("title")
    if isinstance(title_meta, str) and title_meta.strip() and title_meta.strip() != source.title:
        aliases.append(title_meta.strip())
    tags = _tags(meta.get("tags")) + _tags(meta.get("tag")) + inline_tags
    return Note(path=source.path, title=source.title, aliases=_unique(aliases),
                tags=_unique(tags), links=tuple(links), blocks=tuple(blocks),
                problems=tuple(problems))
