"""The met2rdf command line: thin commands over the library; the only place that prints."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .build import build_vault
from .errors import Met2RdfError
from .evaluate import evaluate, format_evaluation
from .validate import validate_graph
from .vocab import load_vocabulary
from .write import write_turtle

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def cmd_build(args: argparse.Namespace) -> int:
    """Build the knowledge graph of a vault, validate it and write DIR/graph.ttl."""
    if not args.path.exists():
        _err(f"met2rdf: {args.path}: no such vault folder or note")
        return EXIT_USAGE
    started = time.perf_counter()
    result = build_vault(args.path, load_vocabulary(args.vocab))
    for problem in result.problems:
        _err(f"{problem} [warning]" if not args.strict else str(problem))
    out = args.out / "graph.ttl"
    if result.report is not None and not result.report.conforms:
        for line in result.report.lines():
            _err(line)
        _err(f"met2rdf: the graph does not conform to the shapes; {out} was not written")
        return EXIT_DATA
    if args.strict and result.problems:
        _err(f"met2rdf: {len(result.problems)} problem(s) and --strict; {out} was not written")
        return EXIT_DATA
    write_turtle(out, result.triples)
    elapsed = time.perf_counter() - started
    if not args.quiet:
        print(f"{len(result.notes)} notes, {len(result.facts)} fact statements, "
              f"{len(set(result.triples))} triples -> {out} ({elapsed:.2f} s)")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate any RDF file against the met2rdf shapes."""
    from rdflib import Graph

    graph = Graph()
    try:
        graph.parse(args.file)
    except FileNotFoundError:
        _err(f"met2rdf: {args.file}: no such file")
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - rdflib raises many unrelated types on bad input
        _err(f"{args.file}: cannot parse as RDF: {exc}")
        return EXIT_DATA
    report = validate_graph(graph)
    for line in report.lines():
        _err(line)
    if report.conforms:
        print(f"{args.file}: conforms ({len(graph)} triples)")
        return EXIT_OK
    print(f"{args.file}: does not conform ({len(report.results)} result(s))")
    return EXIT_DATA


def cmd_eval(args: argparse.Namespace) -> int:
    """Build each note on its own and score its facts against gold facts."""
    for path in (args.notes, args.gold):
        if not path.exists():
            _err(f"met2rdf: {path}: no such file or folder")
            return EXIT_USAGE
    result = evaluate(args.notes, args.gold, args.entities, load_vocabulary(args.vocab))
    print(format_evaluation(result))
    return EXIT_OK


def make_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the met2rdf command."""
    parser = argparse.ArgumentParser(
        prog="met2rdf",
        description="Turn a vault of Markdown notes on cancer and metastases into an "
                    "ontology-linked, SHACL-validated RDF knowledge graph.",
        epilog="Exit codes: 0 ok, 1 bad data or non-conforming graph, 2 bad invocation.")
    parser.add_argument("--version", action="version", version=f"met2rdf {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    vocab = argparse.ArgumentParser(add_help=False)
    vocab.add_argument("--vocab", type=Path, action="append", default=[], metavar="FILE.ttl",
                       help="extra SKOS vocabulary in Turtle (repeatable)")

    p = sub.add_parser("build", parents=[vocab], help=cmd_build.__doc__,
                       description=cmd_build.__doc__)
    p.add_argument("path", type=Path, help="a vault folder or a single note")
    p.add_argument("--out", type=Path, default=Path("out"), metavar="DIR",
                   help="output folder (default: out)")
    p.add_argument("--strict", action="store_true",
                   help="treat problems with notes (bad frontmatter, unreadable files) as errors")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("validate", help=cmd_validate.__doc__, description=cmd_validate.__doc__)
    p.add_argument("file", type=Path, help="an RDF file (Turtle, N-Triples, RDF/XML, ...)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("eval", parents=[vocab], help=cmd_eval.__doc__,
                       description=cmd_eval.__doc__)
    p.add_argument("notes", type=Path, help="a folder of notes or a single note")
    p.add_argument("gold", type=Path,
                   help="a folder of gold TSVs named after the notes, or one TSV for one note")
    p.add_argument("--entities", type=Path, metavar="ENTITIES.tsv",
                   help="gold names with synonyms and ids")
    p.set_defaults(func=cmd_eval)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the met2rdf command line."""
    args = make_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except Met2RdfError as exc:
        _err(f"met2rdf: {exc}")
        return EXIT_DATA
    except KeyboardInterrupt:
        _err("met2rdf: interrupted")
        return 130
