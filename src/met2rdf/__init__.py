"""met2rdf: notes on cancer and metastases -> an ontology-linked RDF knowledge graph."""

from .build import BuildResult, build_notes, build_vault
from .errors import Met2RdfError, NoteError, RdfInputError, ShapesError, VocabularyError
from .extract import extract_facts
from .model import Concept, Fact, Note, SourceSpan
from .parse import parse_note
from .validate import ValidationReport, validate_graph
from .vault import read_vault
from .vocab import Vocabulary, load_vocabulary
from .write import to_turtle, write_turtle

__version__ = "0.1.0"

__all__ = [
    "BuildResult",
    "Concept",
    "Fact",
    "Met2RdfError",
    "Note",
    "NoteError",
    "RdfInputError",
    "ShapesError",
    "SourceSpan",
    "ValidationReport",
    "Vocabulary",
    "VocabularyError",
    "__version__",
    "build_notes",
    "build_vault",
    "extract_facts",
    "load_vocabulary",
    "parse_note",
    "read_vault",
    "to_turtle",
    "validate_graph",
    "write_turtle",
]
