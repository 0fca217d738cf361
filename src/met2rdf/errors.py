"""The met2rdf exception tree.

::

    Met2RdfError                      base of everything met2rdf raises
    ├── NoteError(ValueError)         one note cannot be read or parsed (path:line)
    ├── VocabularyError(ValueError)   a vocabulary or ontology file is malformed
    ├── ShapesError(ValueError)       the SHACL shapes cannot be loaded
    ├── RdfInputError(ValueError)     an RDF file given on the command line does not parse
    ├── GoldError(ValueError)         an evaluation gold or entities file is malformed
    ├── QueryError(ValueError)        a SPARQL query does not parse (path:line:column)
    ├── UnknownConceptError(ValueError)  a question's argument names no concept
    ├── EndpointError(ValueError)     an endpoint URL is not http(s), or has credentials twice
    ├── SettingsError(ValueError)     a met2rdf.toml is malformed (path:line)
    ├── StoreError                    a store or server cannot be used (in use, missing)
    │   └── StoreInUseError           another process holds the store (a writer)
    ├── RefusedError                  a step would delete much and was not told it may
    └── OutputError                   an output file cannot be written (disk full, no permission)
"""

from __future__ import annotations


class Met2RdfError(Exception):
    """Base class of all errors raised by met2rdf."""


class NoteError(Met2RdfError, ValueError):
    """A note cannot be read or parsed; the message starts with ``path:line``."""


class VocabularyError(Met2RdfError, ValueError):
    """A vocabulary file is malformed."""


class ShapesError(Met2RdfError, ValueError):
    """The SHACL shapes cannot be loaded."""


class RdfInputError(Met2RdfError, ValueError):
    """An RDF input file does not parse."""


class GoldError(Met2RdfError, ValueError):
    """An evaluation file is malformed."""


class QueryError(Met2RdfError, ValueError):
    """A SPARQL query does not parse; the message starts with ``source:line:column``."""


class UnknownConceptError(Met2RdfError, ValueError):
    """A question's argument matches no concept label; ``close`` holds close matches."""

    def __init__(self, message: str, close: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.close = close


class EndpointError(Met2RdfError, ValueError):
    """An endpoint URL cannot be used as given (not http or https, credentials twice)."""


class SettingsError(Met2RdfError, ValueError):
    """A met2rdf.toml is not TOML or holds a key or value met2rdf does not take."""


class StoreError(Met2RdfError):
    """A store cannot be opened or served (missing, in use by another process)."""


class StoreInUseError(StoreError):
    """Another process holds the store open (a build, load or push writing it)."""


class RefusedError(Met2RdfError):
    """A step would delete most of what a server or store holds and was not told it may."""


class OutputError(Met2RdfError):
    """An output file cannot be written; the previous file is kept."""
