"""Tables: which column holds the cancers, the subject of a row, the frame of a cell."""

from __future__ import annotations

from ..model import Block, Concept, Mention
from ..vocab import Vocabulary
from .blocks import BlockView, is_subject
from .cues import Cues, frame_of


class Tables:
    """The tables of one note, read row by row in order (a row with an empty first cell
    goes on with the row above)."""

    def __init__(self, views: list[BlockView], vocab: Vocabulary, cues: Cues,
                 oncology: bool) -> None:
        self.views, self.vocab, self.cues, self.oncology = views, vocab, cues, oncology
        self._row_subjects: dict[int, Concept | None] = {}  # by row, a table at a time
        self._subject_columns: dict[int | None, bool] = {}
        self._rows: dict[int | None, list[BlockView]] = {}
        for view in views:
            if view.block.kind == "row" and view.block.cells:
                self._rows.setdefault(view.block.parent, []).append(view)

    def header(self, view: BlockView) -> BlockView | None:
        parent = view.block.parent
        if parent is not None and self.views[parent].block.kind == "header_row":
            return self.views[parent]
        return None

    @staticmethod
    def cell_index(block: Block, pos: int) -> int | None:
        for i, (s, e) in enumerate(block.cells):
            if s <= pos <= e:
                return i
        return None

    def column_subject(self, view: BlockView, obj: Mention) -> Concept | None:
        """The cancer a table column is about, named in its header cell."""
        header = self.header(view) if view.block.kind == "row" else None
        cell = self.cell_index(view.block, obj.start) if header is not None else None
        if header is None or cell is None or cell == 0 or cell >= len(header.block.cells):
            return None
        s, e = header.block.cells[cell]
        return next((m.concept for m in header.mentions
                     if s <= m.start < e and is_subject(m.concept) and not m.concept.umbrella),
                    None)

    def row_subject(self, view: BlockView) -> Concept | None:
        """The cancer a table row is about: named in its first cell, or that cell's organ;
        a row whose first cell is empty goes on with the row above."""
        if not view.block.cells:
            return None
        if view.block.index not in self._row_subjects:
            self._read_rows(view.block.parent)
        return self._row_subjects.get(view.block.index)

    def _read_rows(self, table: int | None) -> None:
        """Work out the subject of every row of a table, in order."""
        last: Concept | None = None
        for row in self._rows.get(table, ()):
            s, e = row.block.cells[0]
            if row.block.text[s:e].strip():
                last = self.first_cell_subject(row, s, e)
            self._row_subjects[row.block.index] = last

    def names_other_subject(self, view: BlockView) -> bool:
        """Tell whether a row's first cell names something unknown in a column of cancers
        (headed "Tumour type" or "Primary", or where another row names a cancer), and this
        cell is no aspect label ("Symptoms") but words of its own ("Insulinoma" when the
        vocabulary lacks it)."""
        s, e = view.block.cells[0]
        cell = view.block.text[s:e].strip()
        if not cell or frame_of(cell, self.cues) is not None:
            return False
        if any(s <= m.start < e for m in view.mentions):
            return False
        table = view.block.parent
        if table not in self._subject_columns:
            self._subject_columns[table] = self.primary_column(view) or any(
                self.first_cell_subject(other, *other.block.cells[0]) is not None
                for other in self._rows.get(table, ()))
        return self._subject_columns[table]

    def primary_column(self, view: BlockView) -> bool:
        """Tell whether a row's table heads its first column as cancers ("Primary")."""
        header = self.header(view)
        if header is None or not header.block.cells:
            return False
        s, e = header.block.cells[0]
        title = header.block.text[s:e].lower()
        return bool(self.cues.oncology.search(title) or self.cues.primary.search(title))

    def first_cell_subject(self, view: BlockView, s: int, e: int) -> Concept | None:
        first = [m for m in view.mentions if s <= m.start < e]
        for m in first:
            if is_subject(m.concept):
                return m.concept
        cell = view.block.text[s:e].strip()
        if not self.oncology and not self.primary_column(view):
            return None  # an organ names its cancer only where the table or note is on cancer
        if 0 < len(cell.split()) <= 3:
            for name in (f"{cell} cancer", f"{cell} carcinoma"):
                concept = self.vocab.lookup(name)
                if concept is not None and concept.type == "CancerType":
                    return concept
        for m in first:
            if m.concept.type == "AnatomicalSite" and m.concept.iri in self.vocab.cancer_of:
                return self.vocab.cancer_of[m.concept.iri]
        return None
