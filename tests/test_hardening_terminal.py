"""Hardening, terminal side: what a vault holds never reaches the terminal as control
characters (issue 15)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from stores import met2rdf, read_terminal

from met2rdf.query import escape_controls

TITLE = "\x1b]0;pwned\x07"  # retitles a terminal
RED = "\x1b[31m"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A vault whose note names, frontmatter and links hold escape sequences; its build's
    stdout and stderr."""
    vault = tmp_path_factory.mktemp("vault")
    (vault / f"{TITLE}Mets.md").write_text(
        f"---\naliases: [unclosed\n---\n# Breast cancer\n\nBreast cancer spreads to bone.\n"
        f"See [[{RED}nowhere\u202e]].\n")
    (vault / f"{RED}\x9b2J.md").write_text("# Lung cancer\n\nLung cancer spreads to the brain.\n")
    out = tmp_path_factory.mktemp("out")
    run = met2rdf("build", str(vault), "--out", str(out))
    assert run.returncode == 0, run.stderr
    return out, run.stdout, run.stderr


def _clean(text: str) -> bool:
    return not any(ch in text for ch in "\x1b\x07\x9b\u202e")


def test_warnings_show_escapes_not_controls(hostile: tuple[Path, str, str]):
    """A warning about a note whose name holds ESC ... BEL prints the name with visible
    escapes."""
    _, stdout, stderr = hostile
    assert "\\x1b]0;pwned\\x07Mets.md:" in stderr
    assert _clean(stdout) and _clean(stderr)


@pytest.mark.parametrize(("command", "shown"), [
    (["query", "SELECT ?path ?label WHERE { ?n met:path ?path ; rdfs:label ?label }"], True),
    (["query", "SELECT ?path WHERE { ?n met:path ?path }", "--format", "tsv"], False),
    (["query", "SELECT ?n ?p ?o WHERE { ?n a met:Note ; ?p ?o }"], True),
    (["ask", "unresolved-links"], False),
    (["ask", "sources", "breast cancer", "bone"], True),
])
def test_tables_show_escapes_not_controls(hostile: tuple[Path, str, str], command: list[str],
                                          shown: bool):
    """Query and ask tables (and results formats on a terminal) show note names, paths and
    links with visible escapes."""
    out, _, _ = hostile
    run = met2rdf(*command, "--store", str(out / "store"))
    assert run.returncode == 0, run.stderr
    assert _clean(run.stderr)
    if "--format" in command:  # a pipe: the data as it is
        assert "\x1b" in run.stdout
        return
    assert _clean(run.stdout)
    assert ("\\x1b" in run.stdout) == shown


def test_results_formats_on_a_terminal_show_escapes(hostile: tuple[Path, str, str]):
    """CSV to a terminal (not a pipe) shows control characters as escapes."""
    out, _, _ = hostile
    main, child = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "met2rdf", "query", ("SELECT ?path WHERE "
                                "{ ?n met:path ?path }"), "--format", "csv", "--store",
                                str(out / "store")], stdout=child, stderr=subprocess.PIPE)
    os.close(child)
    said = read_terminal(main)
    assert process.wait(timeout=60) == 0
    assert b"\x1b" not in said and b"\\x1b]0;pwned\\x07Mets.md" in said


def test_escape_controls_shows_each_kind():
    """C0 (but tab, newline and CR LF), DEL, C1 and bidi overrides become escapes."""
    assert escape_controls("a\x1b[31m\x07\x7f\x85\u202e\r\tb\n") == \
        "a\\x1b[31m\\x07\\x7f\\x85\\u202e\\x0d\tb\n"
