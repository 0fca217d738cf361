"""The met2rdf command line: thin commands over the library; the only place that prints."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import partial
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from . import __version__
from .ask import Answer, ask, load_questions
from .build import build_and_write, build_vault
from .errors import EndpointError, Met2RdfError, StoreInUseError, UnknownConceptError
from .evaluate import evaluate, format_evaluation
from .export import EXPORT_FORMATS, to_export
from .incremental.vocabulary import cached_vocabulary
from .obo import descendants, read_obo, terms_to_skos
from .push import GraphStore, push_graphs
from .query import (
    RESULT_FORMATS,
    Results,
    escape_controls,
    query_endpoint,
    run_query,
    split_endpoint,
    to_results,
    to_table,
)
from .render import to_html
from .report import report_store
from .result import BuildResult
from .serve import DEFAULT_HOST, DEFAULT_PORT, serve_store
from .settings import default_store, find_settings
from .snapshot import open_for_reading, publish_snapshot
from .store import (
    DEFAULT_STORE,
    holds_notes,
    load_files,
    open_store,
    read_rdf,
    read_triples,
)
from .validate import to_rdflib, validate_graph
from .vocab import TYPES, Vocabulary, load_vocabulary
from .watch import compare, ledger_of, vault_saves
from .write import DATASET_FORMATS, to_dataset, write_atomic, write_turtle

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2


def _err(message: str) -> None:
    print(escape_controls(message), file=sys.stderr)


def _out(message: str, end: str = "\n") -> None:
    """Print text (never data of a results format) with its control characters escaped."""
    print(escape_controls(message), end=end, flush=True)


class _ProgressBar:
    """Notes done, notes/s and ETA on stderr; silent when stderr is not a terminal."""

    def __init__(self, quiet: bool) -> None:
        self.on = not quiet and sys.stderr.isatty()
        self.started = time.perf_counter()
        self.shown = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.on or total < 50:
            return
        rate = done / max(time.perf_counter() - self.started, 1e-9)
        eta = (total - done) / rate if rate else 0.0
        sys.stderr.write(f"\r{stage}: {done}/{total} notes, {rate:,.0f} notes/s, "
                         f"ETA {eta:,.0f} s   ")
        sys.stderr.flush()
        self.shown = True
        if done == total:
            self.started = time.perf_counter()

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            self.shown = False


def _build(args: argparse.Namespace, target: str) -> BuildResult | int:
    """Build the vault at args.path; report problems; return the result or an exit code."""
    if not args.path.exists():
        _err(f"met2rdf: {args.path}: no such vault folder or note")
        return EXIT_USAGE
    bar = _ProgressBar(getattr(args, "quiet", False))
    try:
        vocab = cached_vocabulary(args.vocab, None)
        result = build_vault(args.path, vocab, jobs=getattr(args, "jobs", None), progress=bar)
    finally:
        bar.close()
    return _verdict(args, result, target) or result


def _verdict(args: argparse.Namespace, result: BuildResult, target: str) -> int:
    """Report a build's problems; EXIT_OK if its result may be written to ``target``."""
    for problem in result.problems:
        _err(f"{problem} [warning]" if not args.strict else str(problem))
    if result.report is not None and not result.report.conforms:
        for line in result.report.lines():
            _err(line)
        _err(f"met2rdf: the graph does not conform to the shapes; {target} was not written")
        return EXIT_DATA
    if args.strict and result.problems:
        _err(f"met2rdf: {len(result.problems)} problem(s) and --strict; {target} was not written")
        return EXIT_DATA
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    """Build the knowledge graph of a vault, validate it, write DIR/graph.ttl and load the
    store."""
    started = time.perf_counter()
    result = _build_into(args)
    if not isinstance(result, BuildResult):
        return result
    if not args.quiet:
        _out(f"{len(result.entries)} notes ({result.reused} unchanged), {result.fact_count} fact "
             f"statements, {result.statements()} triple statements -> {_targets(args)} "
             f"({time.perf_counter() - started:.2f} s)")
    return EXIT_OK


def _store_dir(args: argparse.Namespace) -> Path | None:
    return None if args.no_store else (args.store or args.out / "store")


def _targets(args: argparse.Namespace) -> str:
    store_dir = _store_dir(args)
    out = args.out / "graph.ttl"
    return f"{out} and {store_dir}" if store_dir else str(out)


def _build_into(args: argparse.Namespace,
                writing: Callable[[], AbstractContextManager[object]] = nullcontext,
                vocab: Vocabulary | None = None) -> BuildResult | int:
    """Build the vault into args.out and the store (as ``build`` does), then publish the
    store's snapshot for readers; ``writing`` wraps the writes.  Returns the result or an
    exit code."""
    out = args.out / "graph.ttl"
    store_dir = _store_dir(args)
    for folder in (args.out, store_dir):
        if folder is not None and folder.exists() and not folder.is_dir():
            _err(f"met2rdf {args.command}: {folder}: not a folder (--out and --store name "
                 "folders)")
            return EXIT_USAGE
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _err(f"met2rdf {args.command}: {args.out}: cannot make the folder: {exc.strerror}")
        return EXIT_DATA
    store = open_store(store_dir, create=True) if store_dir else None
    cache_dir = None if args.no_cache else args.out / ".cache"
    if not args.path.exists():
        _err(f"met2rdf: {args.path}: no such vault folder or note")
        return EXIT_USAGE
    bar = _ProgressBar(args.quiet)
    verdict = EXIT_OK

    def accept(result: BuildResult) -> bool:
        nonlocal verdict
        bar.close()
        verdict = _verdict(args, result, str(out))
        if (verdict == EXIT_OK and not result.entries and not args.allow_empty and store is not None
                and holds_notes(store)):
            _err(f"met2rdf: no notes found under {args.path}; {store_dir} holds notes' graphs, "
                 f"and it and {out} were left as they were; use --allow-empty to empty them")
            verdict = EXIT_DATA
        return verdict == EXIT_OK

    def publish(written: ox.Store) -> None:  # readers read the snapshot while a build runs
        assert store_dir is not None
        publish_snapshot(written, store_dir)

    try:
        if vocab is None:
            vocab = cached_vocabulary(args.vocab, cache_dir)
        outcome = build_and_write(args.path, vocab, out, store, accept, cache_dir=cache_dir,
                                  jobs=args.jobs, progress=bar, writing=writing,
                                  publish=publish)
    finally:
        bar.close()
    return outcome.result if outcome.written else verdict


def cmd_load(args: argparse.Namespace) -> int:
    """Load RDF files (Turtle, N-Triples, N-Quads, TriG, RDF/XML, JSON-LD) into the store."""
    missing = [f for f in args.files if not f.is_file()]
    if missing:
        _err(f"met2rdf: {missing[0]}: no such file")
        return EXIT_USAGE
    if args.graph is not None:
        try:
            ox.NamedNode(args.graph)
        except ValueError as exc:
            _err(f"met2rdf load: --graph {args.graph}: not an absolute IRI ({exc})")
            return EXIT_USAGE
    store = open_store(args.store, create=True)
    load_files(store, args.files, args.graph)
    publish_snapshot(store, args.store)
    _out(f"{len(args.files)} file(s) loaded; {args.store} holds {len(store)} quads")
    return EXIT_OK


def _open_source(args: argparse.Namespace) -> ox.Store:
    """Open what a query reads: the RDF file of --data, else the store of --store."""
    if args.data is not None:
        return read_rdf(args.data)
    return _read_store(args, args.store)


def _read_store(args: argparse.Namespace, path: Path) -> ox.Store:
    """Open a store to read it, never waiting for a writer (then its last complete build,
    said on stderr)."""
    reading = open_for_reading(path)
    if reading.reason:
        _err(f"met2rdf: {reading.reason}")
    args.reading = reading  # held for the command: it keeps a snapshot from being retired
    return reading.store


def _table_width() -> int | None:
    """The width a table is cut to: $COLUMNS, else the terminal's; none for a pipe."""
    if os.environ.get("COLUMNS", "").isdigit() or sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def _print_results(results: Results, fmt: str, hide: Sequence[str] = ()) -> None:
    if fmt == "table":
        text = to_table(results, hide, _table_width())
        _out(text, end="")
        if text.count("\n") == 2 and "---" in text:
            _err("met2rdf: no answers")
        return
    data = to_results(results, fmt)
    if sys.stdout.isatty():  # a terminal, not a pipe: show its control characters
        data = escape_controls(data.decode("utf-8", "replace")).encode()
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def cmd_query(args: argparse.Namespace) -> int:
    """Run a SPARQL query on the store, an RDF file or an endpoint."""
    if (args.sparql is None) == (args.file is None):
        _err("met2rdf query: give a query inline or with -f FILE.rq (not both)")
        return EXIT_USAGE
    if args.file is not None and not args.file.is_file():
        _err(f"met2rdf: {args.file}: no such file")
        return EXIT_USAGE
    sparql = args.sparql if args.file is None else args.file.read_text(encoding="utf-8")
    source = "<query>" if args.file is None else str(args.file)
    if args.endpoint:
        try:
            results = query_endpoint(args.endpoint, sparql, timeout=args.timeout)
        except EndpointError as exc:
            _err(f"met2rdf query: {exc}")
            return EXIT_USAGE
    else:
        results = run_query(_open_source(args), sparql, source)
    _print_results(results, args.format)
    return EXIT_OK


def cmd_ask(args: argparse.Namespace) -> int:
    """Ask a question in plain words; --list shows them."""
    questions = load_questions()
    if args.list or args.name is None:
        for q in questions.values():
            _out(f"{q.usage:<32}  {q.title}")
        return EXIT_OK if args.list else EXIT_USAGE
    if args.name not in questions:
        _err(f"met2rdf ask: no question called {args.name!r}; "
             f"one of: {', '.join(questions)} (met2rdf ask --list)")
        return EXIT_USAGE
    question = questions[args.name]
    if len(args.args) < len(question.params) or (args.args and not question.params):
        _err(f"met2rdf ask: usage: met2rdf ask {question.usage}")
        return EXIT_USAGE
    try:
        answer: Answer = ask(_open_source(args), question, args.args)
    except UnknownConceptError as exc:
        _err(f"met2rdf ask {args.name}: {exc}")
        if exc.close:
            _err(f"  close matches: {', '.join(exc.close)}")
        return EXIT_DATA
    for param, concept in zip(answer.question.params, answer.concepts):
        _err(f"{param.name.upper()} = {concept.pref_label} <{concept.iri}>")
    _print_results(answer.results, args.format, [p.name for p in answer.question.params])
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """Write one self-contained HTML page of what the vault says: which cancers spread where
    and what each site's metastases cause (a network and tables, each fact with its note and
    line), and the vault's health; all from SPARQL over the store or an RDF file."""
    if args.graph is not None and args.store is not None:
        _err("met2rdf report: give --store DIR or GRAPH, not both")
        return EXIT_USAGE
    if args.graph is not None and not args.graph.is_file():
        _err(f"met2rdf: {args.graph}: no such file")
        return EXIT_USAGE
    source = read_rdf(args.graph) if args.graph else _read_store(args, args.store or DEFAULT_STORE)
    report = report_store(source)
    write_atomic(args.out, to_html(report))
    _out(f"{report.health.notes} notes, {report.health.facts} facts, "
         f"{len(report.spread)} cancer-site and {len(report.symptoms)} site-symptom edges "
         f"-> {args.out}")
    return EXIT_OK


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the store as a read-only SPARQL 1.1 Protocol endpoint until interrupted."""
    signal.signal(signal.SIGTERM, _interrupt)  # stop the server on kill as on Ctrl-C
    try:
        with serve_store(args.store, args.host, args.port, args.timeout) as server:
            _out(f"SPARQL endpoint http://{args.host}:{args.port}/query (read-only, "
                 f"a snapshot of {args.store}, queries stopped after {args.timeout:g} s; "
                 "Ctrl-C stops it)")
            if not server.sandboxed:
                _err("met2rdf: warning: this system cannot bar the query workers from the "
                     "network (seccomp, Linux); SERVICE is refused by the guard alone")
            server.wait()
    except KeyboardInterrupt:
        _err("met2rdf: server stopped")
        return EXIT_OK
    _err("met2rdf: the server stopped")
    return EXIT_DATA


_REFUSAL = {  # what to check when the endpoint refuses a push, by HTTP status
    0: "see the server's message",
    401: "check --user and --password, or --token",
    403: "check that the account may write to the endpoint",
    404: "check that --endpoint is the server's Graph Store endpoint (Oxigraph: "
         "http://HOST:7878/store; Fuseki: http://HOST:3030/DATASET/data)",
    405: "check that --endpoint is the server's Graph Store endpoint and that it takes writes",
}


def cmd_watch(args: argparse.Namespace) -> int:
    """Build a vault, then rebuild it (as build does, with its cache) whenever notes are
    saved, added, removed or renamed, printing one line per rebuild, until Ctrl-C."""
    if not args.path.exists():
        _err(f"met2rdf: {args.path}: no such vault folder or note")
        return EXIT_USAGE
    signal.signal(signal.SIGTERM, _interrupt)  # stop on kill as on Ctrl-C
    stop, building = threading.Event(), threading.Event()
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, partial(_interrupt_watch, stop, building))
    sys.unraisablehook = partial(_stop_on_lost_interrupt, stop, sys.unraisablehook)
    saves = vault_saves(args.path, tuple(p for p in (args.out, _store_dir(args)) if p), stop)
    try:
        next(saves)  # watching from now: a save during the first build is not lost
        started = time.perf_counter()
        vocab = cached_vocabulary(args.vocab, None if args.no_cache else args.out / ".cache")
        result = _watched_build(args, vocab, building)
        if stop.is_set():
            raise KeyboardInterrupt
        ledger = ledger_of(result, {}) if isinstance(result, BuildResult) else {}
        if isinstance(result, BuildResult):
            _out(f"{_clock()} {len(result.entries)} notes, {result.fact_count} fact statements, "
                 f"{len(result.problems)} problems -> {_targets(args)} "
                 f"({time.perf_counter() - started:.2f} s)")
        _err(f"met2rdf: watching {args.path} (Ctrl-C stops)")
        for _ in saves:
            started = time.perf_counter()
            result = _watched_build(args, vocab, building)
            if stop.is_set():
                raise KeyboardInterrupt
            if isinstance(result, BuildResult):
                after = ledger_of(result, ledger)
                change = compare(ledger, after, len(result.problems))
                ledger = after
                _out(f"{_clock()} {change} -> {_targets(args)} "
                     f"({time.perf_counter() - started:.2f} s)")
    except KeyboardInterrupt:
        pass
    _err("met2rdf: stopped watching")
    return EXIT_OK


def _stop_on_lost_interrupt(stop: threading.Event, hook: Callable[[Any], object],
                            unraisable: Any) -> None:
    """A Ctrl-C that lands in a finalizer (a worker pool's) cannot be raised: stop after the
    build instead of printing it as an ignored exception."""
    if issubclass(unraisable.exc_type, KeyboardInterrupt):
        stop.set()
    else:
        hook(unraisable)


def _clock() -> str:
    return time.strftime("%H:%M:%S")


def _interrupt_watch(stop: threading.Event, building: threading.Event, signum: int,
                     frame: object) -> None:
    """Ctrl-C while watch waits stops it; during a build, the first one lets the build end
    (an interrupt inside the worker pools' machinery can hang them), a second stops at once."""
    if building.is_set() and not stop.is_set():
        stop.set()
        os.write(2, b"met2rdf: stopping after this build (Ctrl-C again stops at once)\n")
        return
    raise KeyboardInterrupt


def _watched_build(args: argparse.Namespace, vocab: Vocabulary,
                   building: threading.Event) -> BuildResult | int:
    """One build of ``watch``: wait for a store another process holds, report failures and
    go on (a bad note, a graph that does not conform never stop the watching)."""
    building.set()
    try:
        return _watched_build_once(args, vocab)
    finally:
        building.clear()


def _watched_build_once(args: argparse.Namespace, vocab: Vocabulary) -> BuildResult | int:
    waited = 0.0
    while True:
        try:
            return _build_into(args, _interrupts_deferred, vocab)
        except StoreInUseError as exc:
            if waited >= STORE_WAIT:
                _err(f"met2rdf: {exc}; the next save tries again")
                return EXIT_DATA
            time.sleep(0.25)
            waited += 0.25
        except Met2RdfError as exc:
            _err(f"met2rdf: {exc}; still watching")
            return EXIT_DATA


STORE_WAIT = 60.0  # seconds watch waits for a store a reader or another build holds


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back while the build writes its outputs, so that an interrupt
    leaves graph.ttl, the store and its snapshot complete (delivered on leaving)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    signals = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def cmd_push(args: argparse.Namespace) -> int:
    """Push the graph of a vault to a Graph Store endpoint, or export its named graphs."""
    if (args.endpoint is None) == (args.format is None):
        _err("met2rdf push: give --endpoint URL, or --format nquads|trig to export")
        return EXIT_USAGE
    endpoint, url_user = "", None
    if args.endpoint is not None:
        try:
            endpoint, url_user, _ = split_endpoint(args.endpoint)
        except EndpointError as exc:
            _err(f"met2rdf push: {exc}")
            return EXIT_USAGE
        if url_user is not None and (args.user or args.password or args.token):
            _err(f"met2rdf push: {endpoint}: credentials in the URL and as options; give "
                 "them one way, not both")
            return EXIT_USAGE
    target = endpoint if args.endpoint else str(args.output or "stdout")
    result = _build(args, target)
    if not isinstance(result, BuildResult):
        return result
    if args.format is not None:
        _write_data(to_dataset(result.graphs, args.format), args.output)
        return EXIT_OK
    if not result.entries and not args.allow_empty:
        _err(f"met2rdf: no notes found under {args.path}; nothing pushed; use --allow-empty "
             "to delete everything on the server")
        return EXIT_DATA
    env: Mapping[str, str] = os.environ if url_user is None else {}  # the URL's come first
    with GraphStore(args.endpoint, user=args.user or env.get("MET2RDF_USER"),
                    password=args.password or env.get("MET2RDF_PASSWORD"),
                    token=args.token or env.get("MET2RDF_TOKEN"), retries=args.retries) as store:
        report = push_graphs(store, result.graphs, progress=lambda outcome: _out(str(outcome)),
                             allow_deletes=args.allow_deletes or args.allow_empty)
    puts = sum(o.ok and o.action == "put" for o in report.outcomes)
    deletes = sum(o.ok and o.action == "delete" for o in report.outcomes)
    _out(f"{puts} graph(s) written, {deletes} deleted, {len(report.failed)} failed "
         f"-> {store.endpoint}")
    if report.refused is not None:
        _err(f"met2rdf: {store.endpoint} refused the push ({report.refused.message}); running "
             f"it again will not help: {_REFUSAL.get(report.refused.status, _REFUSAL[0])}")
        return EXIT_DATA
    if report.failed:
        _err(f"met2rdf: {len(report.failed)} graph(s) failed; the server may hold a mix of "
             "old and new graphs until a push succeeds (run it again)")
        return EXIT_DATA
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """Build a vault and write its graph as N-Triples, N-Quads, TriG or JSON-LD, or its
    facts as CSV, to a file (atomically) or stdout."""
    result = _build(args, str(args.output or "stdout"))
    if not isinstance(result, BuildResult):
        return result
    _write_data(to_export(result, args.format), args.output)
    return EXIT_OK


def _write_data(data: bytes, output: Path | None) -> None:
    """Write data to a file atomically, or to stdout."""
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        write_atomic(output, data)


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate any RDF file against the met2rdf shapes."""
    if not args.file.is_file():
        _err(f"met2rdf: {args.file}: no such file")
        return EXIT_USAGE
    graph = to_rdflib(read_triples(args.file))  # parsed strictly, as load does
    report = validate_graph(graph)
    for line in report.lines():
        _err(line)
    if report.conforms:
        _out(f"{args.file}: conforms ({len(graph)} triples)")
        return EXIT_OK
    _out(f"{args.file}: does not conform ({len(report.results)} result(s))")
    return EXIT_DATA


def cmd_vocab_import(args: argparse.Namespace) -> int:
    """Turn an OBO ontology's terms (names, exact synonyms, ids) into a SKOS vocabulary file
    for --vocab."""
    if not args.file.is_file():
        _err(f"met2rdf: {args.file}: no such file")
        return EXIT_USAGE
    terms = read_obo(args.file)
    if args.under:
        terms = descendants(terms, args.under)
        if not terms:
            _err(f"met2rdf: {args.file}: no term {args.under}; --under takes an id of the file")
            return EXIT_DATA
    triples = list(terms_to_skos(terms, args.type, args.prefix))
    write_turtle(args.output, triples)
    concepts = sum(1 for t in triples if t.predicate.value.endswith("#type"))
    _out(f"{concepts} {args.type} concepts from {args.file} -> {args.output}; "
         f"use it with: met2rdf build VAULT --vocab {args.output}")
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    """Build each note on its own and score its facts against gold facts."""
    for path in (args.notes, args.gold):
        if not path.exists():
            _err(f"met2rdf: {path}: no such file or folder")
            return EXIT_USAGE
    result = evaluate(args.notes, args.gold, args.entities, load_vocabulary(args.vocab))
    for problem in result.problems:
        _err(f"{problem} [warning]" if not args.strict else str(problem))
    _out(format_evaluation(result))
    if args.strict and result.problems:
        _err(f"met2rdf: {len(result.problems)} problem(s) with the notes and --strict")
        return EXIT_DATA
    return EXIT_OK


QUERY_HELP = """
Queries see the union of all graphs, where a triple comes once per note that
states it: ask for DISTINCT answers, and count notes with COUNT(DISTINCT ?note)
over GRAPH ?note."""
QUERY_EXAMPLES = """examples:
  met2rdf query 'SELECT DISTINCT ?site WHERE { c:breast-cancer met:spreadsTo ?site } ORDER BY ?site'
  met2rdf query 'SELECT ?site (COUNT(DISTINCT ?note) AS ?notes) WHERE {
      GRAPH ?note { c:breast-cancer met:spreadsTo ?site } } GROUP BY ?site
      ORDER BY DESC(?notes) ?site'
"""


STORE_HELP = (f"the embedded store (default: $MET2RDF_STORE, else store of met2rdf.toml, "
              f"else {DEFAULT_STORE})")


def make_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the met2rdf command."""
    parser = argparse.ArgumentParser(
        prog="met2rdf",
        description="Turn a vault of Markdown notes on cancer and metastases into an "
                    "ontology-linked, SHACL-validated RDF knowledge graph.",
        epilog="Exit codes: 0 ok, 1 bad data or non-conforming graph, 2 bad invocation.")
    parser.add_argument("--version", action="version", version=f"met2rdf {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    vault = argparse.ArgumentParser(add_help=False)
    vault.add_argument("--vocab", type=Path, action="append", default=[], metavar="FILE.ttl",
                       help="extra SKOS vocabulary in Turtle (repeatable; default: vocab of "
                            "met2rdf.toml)")
    vault.add_argument("--strict", action="store_true",
                       help="treat problems with notes (bad frontmatter, unreadable files) as "
                            "errors")
    store = argparse.ArgumentParser(add_help=False)
    store.add_argument("--store", type=Path, metavar="DIR", help=STORE_HELP)
    source = argparse.ArgumentParser(add_help=False, parents=[store])
    source.add_argument("--data", type=Path, metavar="FILE",
                        help="query an RDF file (Turtle, N-Triples, ...) instead of the store")
    results = argparse.ArgumentParser(add_help=False)
    results.add_argument("--format", choices=("table", *RESULT_FORMATS), default="table",
                         help="an aligned table (default) or a SPARQL 1.1 results format; "
                              "CONSTRUCT and DESCRIBE give Turtle")

    p = sub.add_parser("build", parents=[vault], help=cmd_build.__doc__,
                       description=cmd_build.__doc__)
    p.add_argument("path", type=Path, help="a vault folder or a single note")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="output folder (default: out of met2rdf.toml, else out)")
    p.add_argument("--store", type=Path, metavar="DIR",
                   help="the embedded store to load (default: DIR/store when --out is given, "
                        "else $MET2RDF_STORE, else store of met2rdf.toml, else DIR/store)")
    p.add_argument("--no-store", action="store_true", help="do not load the embedded store")
    p.add_argument("--no-cache", action="store_true",
                   help="rebuild every note (default: reuse unchanged notes' results from "
                        "DIR/.cache)")
    p.add_argument("-j", "--jobs", type=int, metavar="N",
                   help="worker processes (default: one per core)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print nothing on success (no progress bar either)")
    p.add_argument("--allow-empty", action="store_true",
                   help="build even when PATH holds no notes and the store holds notes' "
                        "graphs (empties the store)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("load", parents=[store], help=cmd_load.__doc__,
                       description=cmd_load.__doc__)
    p.add_argument("files", type=Path, nargs="+", metavar="FILE", help="RDF files")
    p.add_argument("--graph", metavar="IRI",
                   help="put the triples in this named graph (default: the default graph)")
    p.set_defaults(func=cmd_load)

    p = sub.add_parser("query", parents=[source, results], help=cmd_query.__doc__,
                       description=f"{cmd_query.__doc__}{QUERY_HELP}",
                       epilog=QUERY_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sparql", nargs="?", help="the query text")
    p.add_argument("-f", "--file", type=Path, metavar="FILE.rq", help="read the query from a file")
    p.add_argument("--endpoint", metavar="URL",
                   help="a SPARQL 1.1 Protocol endpoint to query (http://user:pass@host/... "
                        "sends Basic credentials)")
    p.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                   help="give up on the endpoint after this long (default: 60)")
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("ask", parents=[source, results], help=cmd_ask.__doc__,
                       description=cmd_ask.__doc__)
    p.add_argument("name", nargs="?", help="the question (see --list)")
    p.add_argument("args", nargs="*", metavar="ARG",
                   help="what it is about: a label or synonym ('crc', 'bone mets', 'Liver')")
    p.add_argument("--list", action="store_true", help="list the questions")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("report", help="write an HTML report of what the vault says",
                       description=cmd_report.__doc__)
    p.add_argument("graph", type=Path, nargs="?", metavar="GRAPH",
                   help="report an RDF file (graph.ttl, or N-Quads from push --format) instead "
                        "of the store")
    p.add_argument("--store", type=Path, metavar="DIR", help=STORE_HELP)
    p.add_argument("-o", "--out", type=Path, metavar="FILE",
                   help="the HTML file to write (default: report.html beside the store or "
                        "GRAPH it reads, e.g. out/report.html for out/store)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("serve", parents=[store], help=cmd_serve.__doc__,
                       description=cmd_serve.__doc__)
    p.add_argument("--host", default=DEFAULT_HOST,
                   help=f"address to listen on (default: {DEFAULT_HOST}, this machine only)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"port (default: {DEFAULT_PORT})")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                   help="stop a query after this long (default: 30)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("watch", parents=[vault], help=cmd_watch.__doc__,
                       description=f"{cmd_watch.__doc__} Files not ending in .md, dot-folders "
                       "and the output folder are passed over; --vocab files are read once "
                       "(restart it after changing them).")
    p.add_argument("path", type=Path, help="a vault folder or a single note")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="output folder (default: out of met2rdf.toml, else out)")
    p.add_argument("--store", type=Path, metavar="DIR",
                   help="the embedded store to load (default: DIR/store of --out)")
    p.add_argument("-j", "--jobs", type=int, metavar="N",
                   help="worker processes (default: one per core)")
    p.set_defaults(func=cmd_watch, no_store=False, no_cache=False, allow_empty=False,
                   quiet=False)

    p = sub.add_parser("push", parents=[vault], help=cmd_push.__doc__,
                       description=f"{cmd_push.__doc__} One named graph per note (the note's "
                       "IRI) plus one for the vocabulary and ontology.")
    p.add_argument("path", type=Path, help="a vault folder or a single note")
    p.add_argument("--endpoint", metavar="URL",
                   help="a SPARQL 1.1 Graph Store HTTP Protocol endpoint, e.g. "
                        "http://localhost:7878/store (http://user:pass@host/... gives the "
                        "credentials)")
    p.add_argument("--format", choices=DATASET_FORMATS,
                   help="write the named graphs as N-Quads or TriG instead (for bulk loaders)")
    p.add_argument("-o", "--output", type=Path, metavar="FILE",
                   help="with --format: the file to write (default: stdout)")
    p.add_argument("--user", help="user name (default: $MET2RDF_USER)")
    p.add_argument("--password", help="password (default: $MET2RDF_PASSWORD)")
    p.add_argument("--token", help="bearer token (default: $MET2RDF_TOKEN)")
    p.add_argument("--retries", type=int, default=3,
                   help="tries again on transient failures this many times (default: 3)")
    p.add_argument("--allow-empty", action="store_true",
                   help="push even when PATH holds no notes (deletes every note graph pushed "
                        "before)")
    p.add_argument("--allow-deletes", action="store_true",
                   help="push even when it deletes more than half of the note graphs pushed "
                        "before")
    p.set_defaults(func=cmd_push)

    p = sub.add_parser("export", parents=[vault], help=cmd_export.__doc__,
                       description=cmd_export.__doc__)
    p.add_argument("path", type=Path, help="a vault folder or a single note")
    p.add_argument("--format", choices=EXPORT_FORMATS, required=True,
                   help="ntriples or jsonld: the triples of graph.ttl; nquads or trig: the "
                        "named graphs; facts: one CSV row per fact statement (subject, "
                        "relation, object, note, line, hedge, quote)")
    p.add_argument("-o", "--output", type=Path, metavar="FILE",
                   help="the file to write (default: stdout)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("validate", help=cmd_validate.__doc__, description=cmd_validate.__doc__)
    p.add_argument("file", type=Path, help="an RDF file (Turtle, N-Triples, RDF/XML, ...)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("vocab", help="manage vocabularies",
                       description="Manage vocabularies: import an OBO ontology.")
    vocab_sub = p.add_subparsers(dest="vocab_command", required=True, metavar="COMMAND")
    p = vocab_sub.add_parser("import", help=cmd_vocab_import.__doc__,
                             description=cmd_vocab_import.__doc__)
    p.add_argument("file", type=Path, metavar="FILE.obo", help="an OBO ontology")
    p.add_argument("--type", required=True, choices=TYPES,
                   help="the concept type its terms get (e.g. Symptom for HPO)")
    p.add_argument("--under", metavar="ID",
                   help="only this term and its is_a descendants (e.g. HP:0000118)")
    p.add_argument("--prefix", action="append", default=[], metavar="PREFIX",
                   help="only ids with this prefix, e.g. HP (repeatable)")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.ttl",
                   help="the SKOS Turtle file to write")
    p.set_defaults(func=cmd_vocab_import)

    p = sub.add_parser("eval", parents=[vault], help=cmd_eval.__doc__,
                       description=cmd_eval.__doc__)
    p.add_argument("notes", type=Path, help="a folder of notes or a single note")
    p.add_argument("gold", type=Path,
                   help="a folder of gold TSVs named after the notes, or one TSV for one note")
    p.add_argument("--entities", type=Path, metavar="ENTITIES.tsv",
                   help="gold names with synonyms and ids")
    p.set_defaults(func=cmd_eval)
    return parser


def _settle(args: argparse.Namespace) -> None:
    """Fill in the out, store and vocab no flag gave: $MET2RDF_STORE (the store), then the
    met2rdf.toml of the vault (build, watch, push, export, eval) or the working folder, then
    the built-in defaults."""
    if args.command in ("validate", "vocab"):
        return
    vault = getattr(args, "path", None) or getattr(args, "notes", None)
    folders = [Path(".")]
    if vault is not None:
        folders.insert(0, vault if vault.is_dir() else vault.parent)
    settings = find_settings(folders)
    if getattr(args, "vocab", None) == []:
        args.vocab = list(settings.vocab)
    store = default_store(settings, os.environ)
    if args.command in ("build", "watch"):
        if args.store is None and args.out is None:
            args.store = store
        args.out = args.out or settings.out or Path("out")
    elif args.command == "report":
        if args.graph is None:
            args.store = args.store or store or DEFAULT_STORE
        args.out = args.out or (args.graph or args.store).parent / "report.html"
    elif "store" in vars(args) and args.store is None:
        args.store = store or DEFAULT_STORE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the met2rdf command line."""
    args = make_parser().parse_args(argv)
    try:
        _settle(args)
        return int(args.func(args))
    except Met2RdfError as exc:
        _err(f"met2rdf: {exc}")
        return EXIT_DATA
    except KeyboardInterrupt:
        _err("met2rdf: interrupted")
        return 130
