"""met2rdf: notes on cancer and metastases -> an ontology-linked RDF knowledge graph."""

from .build import build_notes, build_vault
from .errors import Met2RdfError, NoteError, RdfInputError, ShapesError, VocabularyError
from .export import EXPORT_FORMATS, to_export
from .extract import extract_facts
from .model import Concept, Fact, Note, SourceNote, SourceSpan
from .parse import parse_note
from .push import GraphStore, push_graphs
from .result import BuildResult
from .validate import ValidationReport, validate_graph
from .vault import read_vault
from .vocab import Vocabulary, default_vocabulary, load_vocabulary
from .write import to_turtle, write_turtle

__version__ = "0.1.0"

__all__ = [
    "EXPORT_FORMATS",
    "BuildResult",
    "Concept",
    "Fact",
    "GraphStore",
    "Met2RdfError",
    "Note",
    "NoteError",
    "RdfInputError",
    "ShapesError",
    "SourceNote",
    "SourceSpan",
    "ValidationReport",
    "Vocabulary",
    "VocabularyError",
    "__version__",
    "build_notes",
    "build_vault",
    "default_vocabulary",
    "extract_facts",
    "load_vocabulary",
    "parse_note",
    "push_graphs",
    "read_vault",
    "to_export",
    "to_turtle",
    "validate_graph",
    "write_turtle",
]
