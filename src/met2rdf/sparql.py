"""Read SPARQL text just far enough to explain a syntax error in one line and to give the
columns of ``SELECT *`` in the order the query names them.

Oxigraph parses the queries; this is a tokenizer (strings, IRIs, comments, variables,
prefixed names, words), not a grammar.  Lines and columns are 1-based, as Oxigraph's.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_WORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD",
                          "MOVE", "COPY", "WITH"})
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              |'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$]\w+)
  | (?P<pname>(?:[^\W\d_][\w.-]*)?:(?:[\w:%-]|\\.|\.(?=[\w:%-]))*)
  | (?P<word>[^\W\d][\w-]*)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)
_CLASS = re.compile(r"\[[^\]]*\\u\{[^\]]*\]")  # a Unicode character class Oxigraph lists


@dataclass(frozen=True, slots=True)
class Token:
    """A piece of query text: its kind, its text and where it starts."""

    kind: str
    text: str
    start: int
    line: int
    column: int


def tokens(text: str) -> Iterator[Token]:
    """Yield the tokens of a query, without spaces and comments."""
    line, line_start = 1, 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind not in ("space", "comment"):
            yield Token(kind, match.group(), match.start(), line, match.start() - line_start + 1)
        newlines = match.group().count("\n")
        if newlines:
            line += newlines
            line_start = match.start() + match.group().rindex("\n") + 1


def _body(toks: Sequence[Token]) -> tuple[int, list[str]]:
    """Return where the prologue (BASE and PREFIX declarations) ends and the prefixes it
    declares."""
    i, declared = 0, []
    while i < len(toks) and toks[i].kind == "word" and toks[i].text.upper() in ("BASE",
                                                                               "PREFIX"):
        if toks[i].text.upper() == "PREFIX" and i + 1 < len(toks) and toks[i + 1].kind == "pname":
            declared.append(toks[i + 1].text.partition(":")[0])
            i += 3
        else:
            i += 2
    return i, declared


def explain_syntax_error(text: str, known: Sequence[str],
                         at: tuple[int, int] | None = None) -> tuple[int, int, str] | None:
    """Return (line, column, message) for a query that does not parse, when a plainer cause
    than the parser's is visible: an unknown query form, an update, an undeclared prefix
    (``known`` are the prefixes given with the query; only one before ``at``, the parser's
    position, is blamed).  Return None when none is."""
    toks = list(tokens(text))
    first, declared = _body(toks)
    if first >= len(toks):
        end = toks[-1] if toks else None
        line, column = (end.line, end.column + len(end.text)) if end else (1, 1)
        return line, column, "the query is empty (expected SELECT, ASK, CONSTRUCT or DESCRIBE)"
    head = toks[first]
    word = head.text.upper() if head.kind in ("word", "pname") else ""
    if word in UPDATE_WORDS:
        return (head.line, head.column, ("`query` runs read-only queries (SELECT, ASK, "
                                         f"CONSTRUCT, DESCRIBE); {word} is an update"))
    if word not in QUERY_FORMS:
        return (head.line, head.column,
                f"expected SELECT, ASK, CONSTRUCT or DESCRIBE, not {head.text[:40]!r}")
    names = [*known, *(d for d in declared if d not in known)]
    for tok in toks[first:]:
        prefix = tok.text.partition(":")[0]
        if tok.kind == "pname" and prefix not in names:
            if at is not None and (tok.line, tok.column) > at:
                break
            listed = ", ".join(f"{n}:" for n in names)
            return (tok.line, tok.column,
                    f"unknown prefix '{prefix}:'; declared: {listed} (add PREFIX {prefix}: <...>)")
    return None


def shorten_parser_message(message: str) -> str:
    """Return a parser message with its Unicode character classes said in words."""
    return " ".join(_CLASS.sub("a letter", message).split())


def star_position(text: str) -> int | None:
    """Return where the ``*`` of a ``SELECT *`` query is; None for any other query, and for
    one with ``SERVICE`` (finding its columns would call the service once more)."""
    toks = list(tokens(text))
    if any(t.kind == "word" and t.text.upper() == "SERVICE" for t in toks):
        return None
    i, _ = _body(toks)
    if i >= len(toks) or toks[i].text.upper() != "SELECT":
        return None
    i += 1
    if i < len(toks) and toks[i].text.upper() in ("DISTINCT", "REDUCED"):
        i += 1
    return toks[i].start if i < len(toks) and toks[i].text == "*" else None


def named_order(text: str, start: int, variables: Collection[str]) -> list[str]:
    """Return the variables in the order the query first names them after ``start`` (any
    it does not name after the rest)."""
    order: list[str] = []
    for tok in tokens(text[start:]):
        name = tok.text[1:]
        if tok.kind == "var" and name in variables and name not in order:
            order.append(name)
    return order + [v for v in variables if v not in order]
