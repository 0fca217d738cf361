"""What a new user trips over (issue 19, items 3-8): queries that answer what a reader
expects, errors in one plain line, tables that fit a terminal, defaults from the
environment and met2rdf.toml, notes with stray NUL bytes, and push failing fast."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st
from stores import EXAMPLE_VAULT, read_terminal, serving

from met2rdf.sparql import explain_syntax_error, star_position


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real met2rdf command, in cwd, with env added to (and MET2RDF_STORE removed
    from) the environment."""
    environ = {k: v for k, v in os.environ.items() if k != "MET2RDF_STORE"}
    environ["PYTHONPATH"] = str(REPO / "src")
    return subprocess.run([sys.executable, "-m", "met2rdf", *args], capture_output=True,
                          text=True, check=False, timeout=timeout, cwd=cwd,
                          env={**environ, **(env or {})})


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example vault built into a fresh folder."""
    folder = tmp_path_factory.mktemp("out")
    assert run("build", str(EXAMPLE_VAULT), "--out", str(folder), "-q").returncode == 0
    return folder


@pytest.mark.parametrize(("sparql", "message"), [
    ("SELEC ?x WHERE { ?x ?y ?z }",
     "<query>:1:1: expected SELECT, ASK, CONSTRUCT or DESCRIBE, not 'SELEC'"),
    ("INSERT DATA { c:a c:b c:c }",
     ("<query>:1:1: `query` runs read-only queries (SELECT, ASK, CONSTRUCT, DESCRIBE); "
      "INSERT is an update")),
    ("PREFIX x: <http://x/>\n  delete WHERE { ?s ?p ?o }",
     ("<query>:2:3: `query` runs read-only queries (SELECT, ASK, CONSTRUCT, DESCRIBE); "
      "DELETE is an update")),
    ("SELECT ?x WHERE { ?x nope:a ?z }",
     "<query>:1:22: unknown prefix 'nope:'; declared: met:, c:, note:, fact:, ev:, skos:, "),
    ("# a comment with nope:x\nPREFIX my: <http://my/>\nSELECT ?x { ?x my:a \"nope:b\", nope:c }",
     "<query>:3:31: unknown prefix 'nope:'; declared: met:, c:, "),
])
def test_syntax_errors_say_what_is_wrong_in_one_line(out: Path, sparql: str, message: str):
    """An unknown keyword, an update and an undeclared prefix each get one plain line with
    its line and column, not the parser's "expected CONSTRUCT" or its character classes."""
    result = run("query", sparql, "--store", str(out / "store"))
    assert result.returncode == 1
    assert result.stderr.startswith(f"met2rdf: {message}")
    assert result.stderr.count("\n") == 1 and "\\u{" not in result.stderr
    if "PREFIX my:" in sparql:  # the query's own prefixes are listed too
        assert "dcterms:, my: (add PREFIX nope: <...>)" in result.stderr


def test_other_syntax_errors_name_letters_in_words(out: Path):
    """The parser's own message stays, with its Unicode character classes said in words."""
    result = run("query", "DESCRIBE", "--store", str(out / "store"))
    assert result.returncode == 1
    assert result.stderr.startswith("met2rdf: <query>:1:9: expected one of ")
    assert "a letter" in result.stderr and "\\u{" not in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_select_star_keeps_the_query_order_of_columns(out: Path, fmt: str):
    """SELECT * gives its columns in the order the query names them, in every format."""
    sparql = ("SELECT * WHERE { ?subject met:spreadsTo ?site . ?site skos:prefLabel ?label }"
              " ORDER BY ?subject ?site LIMIT 2")
    result = run("query", sparql, "--store", str(out / "store"), "--format", fmt)
    assert result.returncode == 0, result.stderr
    if fmt == "json":
        assert json.loads(result.stdout)["head"]["vars"] == ["subject", "site", "label"]
    else:
        assert re.split(r"[ ,]+", result.stdout.splitlines()[0].strip()) == [
            "subject", "site", "label"]


def test_stray_nul_bytes_are_warnings_and_the_note_is_read(tmp_path: Path):
    """A note ending in NULs or with a few NULs in UTF-8 text is read without them, with a
    path:line warning on every build; a binary file is still skipped."""
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "end.md").write_bytes(b"# Breast cancer\n\nIt spreads to the liver.\n\x00")
    (vault / "mid.md").write_bytes(b"Lung cancer\x00 spreads to\x00 bone.\n")
    (vault / "image.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (vault / "many.md").write_bytes(b"text\n" + b"a\x00" * 9 + b"\n")
    for note in vault.iterdir():
        os.utime(note, (1_700_000_000, 1_700_000_000))  # settled: trusted when unchanged
    for _ in range(2):
        result = run("build", str(vault), "--out", str(tmp_path / "out"))
        assert result.returncode == 0, result.stderr
        assert result.stderr.splitlines() == [
            ("end.md:4: a NUL byte at byte 42 left out, the rest read; re-save the note "
             "without them [warning]"),
            "image.md:3: binary data (NUL byte at byte 8); not a Markdown note, skipped [warning]",
            "many.md:2: binary data (NUL byte at byte 6); not a Markdown note, skipped [warning]",
            ("mid.md:1: 2 NUL bytes from byte 11 left out, the rest read; re-save the note "
             "without them [warning]")]
    turtle = (tmp_path / "out" / "graph.ttl").read_text()
    assert "ev:breast-cancer.spreadsTo.liver\\/end.md\\/L3 a met:Evidence" in turtle
    assert "ev:lung-cancer.spreadsTo.bone\\/mid.md\\/L1 a met:Evidence" in turtle
    assert "\x00" not in turtle
    strict = run("build", str(vault), "--out", str(tmp_path / "strict"), "--strict")
    assert strict.returncode == 1 and "end.md:4: a NUL byte" in strict.stderr


LONG = ("Breast cancer often spreads to the bones, lungs, liver or brain, " * 14).strip()
WIDE = """@prefix ex: <http://example.org/> .
ex:a ex:label "乳癌" ; ex:site "bone" .
ex:b ex:label "cafe\u0301 au lait" ; ex:site "肝臓" .
ex:c ex:label "plain" ; ex:site "x" .
ex:d ex:label "LONG" ; ex:site "liver" .
""".replace("LONG", LONG)
WIDE_QUERY = ("SELECT ?label ?site WHERE { ?s <http://example.org/label> ?label ; "
              "<http://example.org/site> ?site } ORDER BY ?s")


@pytest.fixture
def wide_data(tmp_path: Path) -> Path:
    data = tmp_path / "wide.ttl"
    data.write_text(WIDE, encoding="utf-8")
    return data


def _second_column(line: str) -> int:
    """Return the terminal column where a two-column table line's second cell starts."""
    cell = line[:line.index("  ")]
    rest = line[len(cell):]
    pad = len(rest) - len(rest.lstrip(" "))
    return sum(0 if unicodedata.combining(ch) else
               2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in cell) + pad


def test_table_cuts_cells_to_columns_and_aligns_wide_characters(wide_data: Path):
    """With $COLUMNS a table's lines fit it, long cells end in …; wide and combining
    characters keep the columns aligned; CSV keeps the full text."""
    result = run("query", WIDE_QUERY, "--data", str(wide_data), env={"COLUMNS": "60"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 6 and all(len(line) <= 60 for line in lines)
    assert lines[5].startswith("Breast cancer often spreads") and "\u2026  liver" in lines[5]
    assert lines[2].startswith("乳癌 ") and lines[3].startswith("cafe\u0301 au lait ")
    assert len({_second_column(line) for line in lines}) == 1
    full = run("query", WIDE_QUERY, "--data", str(wide_data), "--format", "csv",
               env={"COLUMNS": "60"})
    assert LONG in full.stdout


def test_table_to_a_pipe_keeps_whole_cells(wide_data: Path):
    """Without $COLUMNS and not on a terminal, cells are not cut (a pipe gets all)."""
    result = run("query", WIDE_QUERY, "--data", str(wide_data))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[5].startswith(LONG + "  liver")


def test_table_on_a_terminal_fits_its_width(wide_data: Path):
    """On a terminal 50 columns wide, every line of the table fits in 50 columns."""
    import fcntl
    import pty
    import struct
    import termios
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 50, 0, 0))
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen([sys.executable, "-m", "met2rdf", "query", WIDE_QUERY, "--data",
                                str(wide_data)], stdout=child, stderr=subprocess.PIPE,
                               env={**environ, "PYTHONPATH": str(REPO / "src")})
    os.close(child)
    said = read_terminal(main)
    assert process.wait(timeout=60) == 0
    lines = said.decode().splitlines()
    assert len(lines) == 6 and max(map(len, lines)) == 50 and "\u2026" in lines[5]


class _Answering(BaseHTTPRequestHandler):
    """A Graph Store double: GET finds nothing, every other request gets one status."""

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append(self.command)  # type: ignore[attr-defined]
        status = 404 if self.command == "GET" else self.server.status  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_PUT = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(("status", "advice"), [
    (404, "check that --endpoint is the server's Graph Store endpoint (Oxigraph: "),
    (403, "check that the account may write to the endpoint"),
    (400, "see the server's message"),
])
def test_push_stops_at_once_when_the_server_refuses(status: int, advice: str):
    """An HTTP 4xx that a rerun cannot change stops the push after one request, says so and
    what to check, instead of trying every graph and saying "run it again"."""
    server = HTTPServer(("127.0.0.1", 0), _Answering)
    server.seen, server.status = [], status  # type: ignore[attr-defined]
    with serving(server):
        result = run("push", str(EXAMPLE_VAULT), "--endpoint",
                     f"http://127.0.0.1:{server.server_port}/nope", "--retries", "3")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert server.seen == ["GET", "PUT"]  # type: ignore[attr-defined]
    assert f"refused the push (HTTP {status} " in result.stderr
    assert f"running it again will not help: {advice}" in result.stderr
    assert "run it again" not in result.stderr
    assert result.stdout.count(": FAILED: not sent: HTTP") == 3


def test_push_retries_what_may_pass_later():
    """HTTP 429 is still tried again --retries times, and ends with "run it again"."""
    server = HTTPServer(("127.0.0.1", 0), _Answering)
    server.seen, server.status = [], 429  # type: ignore[attr-defined]
    with serving(server):
        result = run("push", str(EXAMPLE_VAULT), "--endpoint",
                     f"http://127.0.0.1:{server.server_port}/store", "--retries", "1")
    assert result.returncode == 1
    assert server.seen.count("PUT") == 2 * 4  # type: ignore[attr-defined]
    assert "(run it again)" in result.stderr


@pytest.mark.parametrize("command", ["push", "query"])
def test_an_endpoint_without_scheme_fails_at_once(command: str):
    """An endpoint written without http:// is a usage error naming the URL to write."""
    args = [str(EXAMPLE_VAULT)] if command == "push" else ["ASK {}"]
    result = run(command, *args, "--endpoint", "localhost:7878/store", timeout=20)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (f"met2rdf {command}: localhost:7878/store: a URL needs its scheme; "
                             "write http://localhost:7878/store (or https://)\n")


def _readme_queries() -> list[tuple[str, list[str]]]:
    """Return each query example of the README (```sparql blocks, `met2rdf query '...'`
    lines and the curl example) and of `met2rdf query --help`: its text and options."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    found = [(block, []) for block in re.findall(r"```sparql\n(.*?)```", readme, re.DOTALL)]
    for sparql, rest in re.findall(r"^met2rdf query '([^']+)'(.*)$", readme, re.MULTILINE):
        found.append((sparql, ["--data"] if "--data" in rest else []))
    found += [(q, []) for q in re.findall(r"--data-urlencode 'query=([^']+)'", readme)]
    helped = run("query", "--help").stdout
    found += [(q, []) for q in re.findall(r"^  met2rdf query '([^']+)'", helped, re.MULTILINE)]
    return found


def test_query_examples_are_found():
    """The README and --help query examples are where the example test looks for them."""
    queries = _readme_queries()
    assert len(queries) >= 7
    assert sum("COUNT(DISTINCT ?note)" in q for q, _ in queries) >= 2


@pytest.fixture(scope="module")
def twice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output folder of a vault of two notes that say the same things."""
    root = tmp_path_factory.mktemp("twice")
    vault = root / "vault"
    vault.mkdir()
    for name in ("Mets.md", "Mets again.md"):
        (vault / name).write_bytes((EXAMPLE_VAULT / "Mets.md").read_bytes())
    assert run("build", str(vault), "--out", str(root / "out"), "-q").returncode == 0
    return root / "out"


@pytest.mark.parametrize(("sparql", "options"), _readme_queries())
def test_query_examples_answer_what_a_reader_expects(twice: Path, sparql: str,
                                                     options: list[str]):
    """Every query example of the README and --help runs on a vault where two notes say the
    same things, and gives each answer once (and, counting notes, counts both)."""
    source = ["--data", str(twice / "graph.ttl")] if options else ["--store",
                                                                     str(twice / "store")]
    result = run("query", sparql, *source, "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()[1:]
    assert rows and len(rows) == len(set(rows))
    if "COUNT(DISTINCT ?note)" in sparql:
        assert {row.rsplit(",", 1)[1] for row in rows} == {"2"}


def test_readme_shows_the_count_query_as_it_answers(out: Path):
    """The README's counting example shows what it prints on the example vault."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"```text\n\$ met2rdf query '([^']+)'\n(.*?)```", readme, re.DOTALL)
    assert shown is not None and "COUNT(DISTINCT ?note)" in shown[1]
    result = run("query", shown[1], "--store", str(out / "store"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == shown[2]


def test_store_comes_from_flag_then_environment_then_settings(out: Path, tmp_path: Path):
    """query reads --store, else $MET2RDF_STORE, else the store of met2rdf.toml in the
    working folder (relative to it), else out/store."""
    work = tmp_path / "work"
    work.mkdir()
    ask = "ASK { c:breast-cancer met:spreadsTo c:liver }"
    nowhere = run("query", ask, cwd=work)
    assert nowhere.returncode == 1 and "out/store: no store here" in nowhere.stderr
    (work / "met2rdf.toml").write_text(f'store = "{os.path.relpath(out / "store", work)}"\n')
    assert run("query", ask, cwd=work).stdout == "yes\n"
    wrong = {"MET2RDF_STORE": str(tmp_path / "elsewhere")}
    env = run("query", ask, cwd=work, env=wrong)
    assert env.returncode == 1 and f"{tmp_path / 'elsewhere'}: no store here" in env.stderr
    flag = run("query", ask, "--store", str(out / "store"), cwd=work, env=wrong)
    assert flag.returncode == 0 and flag.stdout == "yes\n"
    (work / "met2rdf.toml").unlink()
    assert run("query", ask, cwd=work, env={"MET2RDF_STORE": str(out / "store")}).stdout == \
        "yes\n"


def test_build_reads_the_settings_of_its_vault(tmp_path: Path):
    """build takes out and vocab from the vault's met2rdf.toml (paths relative to it), and
    commands run where --out points find the store through their own met2rdf.toml."""
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "Zebra cancer.md").write_bytes(
        (REPO / "tests/fixtures/ask/vault/Zebra cancer.md").read_bytes())
    (tmp_path / "zebra.ttl").write_bytes((REPO / "tests/fixtures/ask/vocab.ttl").read_bytes())
    (vault / "met2rdf.toml").write_text('out = "../built"\nvocab = ["../zebra.ttl"]\n')
    built = run("build", "vault", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith("1 notes (0 unchanged), 1 fact statements")
    assert "-> built/graph.ttl and built/store (" in built.stdout
    assert not (tmp_path / "out").exists()
    answer = run("ask", "spread", "zebra", "cancer", cwd=tmp_path,
                 env={"MET2RDF_STORE": "built/store"})
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.splitlines()[2].startswith("spleen")


def test_a_broken_settings_file_is_one_message(tmp_path: Path):
    """A met2rdf.toml that is not TOML, has an unknown key or a value that is no path is
    one path:line message and exit 1."""
    for text, said in [('\n\nstore = \n', ":3: not TOML: "),
                       ('out = "x"\nstor = "y"\n',
                        ":2: unknown key 'stor' (known: out, store, vocab)"),
                       ('store = 3\n', ':1: store must be a path in quotes (store = "...")')]:
        (tmp_path / "met2rdf.toml").write_text(text)
        result = run("query", "ASK {}", cwd=tmp_path)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert result.stderr.startswith("met2rdf: met2rdf.toml" + said), result.stderr


def test_report_is_written_beside_the_store_it_reads(out: Path, tmp_path: Path):
    """report without --out writes report.html beside the store (or GRAPH) it reads, not
    into out/ of the working folder."""
    work = tmp_path / "work"
    work.mkdir()
    (out / "report.html").unlink(missing_ok=True)
    result = run("report", "--store", str(out / "store"), cwd=work)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(f"-> {out / 'report.html'}\n")
    assert (out / "report.html").read_bytes().startswith(b"<!DOCTYPE html>")
    assert not (work / "out").exists()
    graph = run("report", str(out / "graph.ttl"), cwd=work)
    assert graph.returncode == 0 and graph.stdout.endswith(f"-> {out / 'report.html'}\n")


def test_ask_joins_the_words_of_a_name(out: Path):
    """ask spread breast cancer (no quotes) answers as ask spread 'breast cancer'; words of
    two names are grouped the one way that names two concepts, else quotes are asked for."""
    store = ["--store", str(out / "store")]
    quoted = run("ask", "spread", "breast cancer", *store)
    joined = run("ask", "spread", "breast", "cancer", *store)
    assert joined.returncode == 0 and joined.stdout == quoted.stdout and quoted.stdout
    sources = run("ask", "sources", "breast", "cancer", "liver", *store)
    assert sources.returncode == 0, sources.stderr
    assert "OBJECT = liver" in sources.stderr and "Mets.md:16" in sources.stdout
    unclear = run("ask", "sources", "breast", "cancr", "liver", *store)
    assert unclear.returncode == 1 and unclear.stderr == (
        "met2rdf ask sources: no way to read 'breast cancr liver' as SUBJECT OBJECT; quote "
        "each name of several words: met2rdf ask sources 'SUBJECT' 'OBJECT'\n")
    assert run("ask", "sources", "liver", *store).returncode == 2


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("SELECT ?x*{}<>\"'#:\n\\ nope:a PREFIX "))))
def test_reading_any_query_text_never_fails(text: str):
    """Explaining a syntax error and finding SELECT * work on any text, and every position
    they give is inside it (1-based line and column)."""
    explained = explain_syntax_error(text, ("met", "c"))
    if explained is not None:
        line, column, message = explained
        lines = text.split("\n") or [""]
        assert 1 <= line <= len(lines) and 1 <= column <= len(lines[line - 1]) + 1
        assert "\n" not in message
    at = star_position(text)
    assert at is None or text[at] == "*"
