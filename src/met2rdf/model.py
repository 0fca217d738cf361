"""Frozen records passed between the pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, order=True)
class SourceSpan:
    """Where something came from: a vault-relative path and a 1-based line in the file."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class Problem:
    """A non-fatal problem found in one note (reported, the rest of the vault still builds)."""

    span: SourceSpan
    message: str

    def __str__(self) -> str:
        return f"{self.span}: {self.message}"


@dataclass(frozen=True, slots=True)
class SourceNote:
    """A note file found in a vault, decoded to text."""

    path: str  # vault-relative, POSIX separators
    title: str  # file name without .md
    text: str
    signature: tuple[int, ...] = ()  # size, mtime and inode when read (empty: not to trust)
    problems: tuple[Problem, ...] = ()  # what was wrong with its bytes but read past (NULs)


@dataclass(frozen=True, slots=True)
class UnchangedNote:
    """A note file whose size, time and inode match the previous build's: not read unless
    its text is needed (``read_note``)."""

    path: str  # vault-relative
    file: str  # where it is
    signature: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class WikiLink:
    """An Obsidian wikilink ``[[target#heading|shown]]`` or embed ``![[target]]``."""

    target: str
    heading: str | None
    shown: str | None
    embed: bool
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Block:
    """One unit of text in a note: a heading, list item, paragraph or table row.

    ``text`` is the plain inline text (wikilinks replaced by their shown text, markup
    removed); ``line_starts`` gives, for each line of the block, the offset in ``text``
    where it begins and its 1-based line in the file.  ``bold`` lists ``(start, end)``
    offsets of bold spans, ``links`` those of wikilink texts with their targets; ``parent`` is the index of the enclosing list item or heading.
    """

    index: int
    kind: str  # "heading" | "item" | "paragraph" | "row" | "header_row"
    text: str
    line_starts: tuple[tuple[int, int], ...]
    level: int  # heading level, or list depth (1-based) for items, 0 otherwise
    parent: int | None
    bold: tuple[tuple[int, int], ...] = ()
    links: tuple[tuple[int, int, str], ...] = ()  # (start, end, target) of each wikilink
    cells: tuple[tuple[int, int], ...] = ()  # table rows: (start, end) of each cell

    def line_at(self, offset: int) -> int:
        """Return the 1-based file line of the character at ``offset``."""
        line = self.line_starts[0][1]
        for start, number in self.line_starts:
            if start > offset:
                break
            line = number
        return line


@dataclass(frozen=True, slots=True)
class Note:
    """A parsed note: metadata, links and text blocks with file line numbers."""

    path: str
    title: str
    aliases: tuple[str, ...]
    tags: tuple[str, ...]
    links: tuple[WikiLink, ...]
    blocks: tuple[Block, ...]
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class Concept:
    """A vocabulary concept."""

    iri: str
    type: str  # local name of the met: class, e.g. "CancerType"
    pref_label: str
    labels: tuple[str, ...]  # prefLabel first, then alt and hidden labels
    ids: tuple[str, ...] = ()  # exactMatch IRIs
    site: str | None = None  # for Metastasis concepts: the AnatomicalSite IRI
    broader: tuple[str, ...] = ()
    primary_site: str | None = None  # for cancer types: the organ it starts in
    umbrella: bool = False  # a broad term: a weak subject, no fact when it introduces examples
    # other SKOS mappings: (closeMatch | broadMatch | narrowMatch | relatedMatch, IRI), sorted
    matches: tuple[tuple[str, str], ...] = ()
    ambiguous: tuple[str, ...] = ()  # labels that name other things in other fields (GBM)


@dataclass(frozen=True, slots=True)
class Mention:
    """A vocabulary concept found in a block of text."""

    concept: Concept
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True, order=True)
class Fact:
    """One asserted relation between two concepts, with where it came from."""

    subject: str  # concept IRI
    predicate: str  # local name: spreadsTo, hasSymptom, diagnosedBy, treatedWith, spreadsVia
    object: str  # concept IRI
    span: SourceSpan
    hedge: str | None = None
    text: str = field(default="", compare=False)
