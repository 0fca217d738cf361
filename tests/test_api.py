"""The Python API: the README's example runs as shown, and everything it names is exported."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO

import met2rdf
from met2rdf.build import build_notes, build_vault
from met2rdf.vocab import default_vocabulary


def readme_example() -> str:
    """Return the README's Python API example (the first ```python block)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"## Python API\n.*?```python\n(.*?)```", text, re.DOTALL)
    assert match, "README.md has no Python API example"
    return match.group(1)


def test_readme_example_runs_and_prints_every_fact():
    """The example, run from the repository, prints one line per fact of the example vault."""
    code = readme_example()
    assert len(code.strip().splitlines()) <= 6
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=False, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    expected = build_vault(REPO / "examples" / "vault", default_vocabulary()).facts
    assert len(lines) == len(expected) == 34
    assert lines[0] == " ".join(str(x) for x in (expected[0].span, expected[0].subject,
                                                   expected[0].predicate, expected[0].object,
                                                   expected[0].hedge))
    shown = (REPO / "README.md").read_text(encoding="utf-8").split(code, 1)[1]
    assert lines[0] in shown.split("```text\n", 1)[1].split("```", 1)[0]


def test_everything_the_readme_names_is_exported():
    """Each name the README's API section uses is in met2rdf.__all__ and importable."""
    for name in ("build_vault", "build_notes", "default_vocabulary", "load_vocabulary",
                 "SourceNote", "SourceSpan", "Fact", "BuildResult", "ValidationReport",
                 "read_vault", "parse_note", "extract_facts", "validate_graph", "to_export",
                 "EXPORT_FORMATS", "to_turtle", "write_turtle", "push_graphs", "GraphStore",
                 "Met2RdfError"):
        assert name in met2rdf.__all__ and hasattr(met2rdf, name), name
    assert all(hasattr(met2rdf, name) for name in met2rdf.__all__)


def test_notes_given_as_records_build_without_a_folder():
    """build_notes takes SourceNote records and finds their facts with lines."""
    note = met2rdf.SourceNote("Mets.md", "Mets", "Breast cancer often spreads to the bones.\n")
    [fact] = build_notes([note], met2rdf.default_vocabulary()).facts
    assert (fact.predicate, fact.object.rsplit("/", 1)[1], str(fact.span), fact.hedge) == (
        "spreadsTo", "bone", "Mets.md:1", "often")
