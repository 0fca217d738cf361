"""The package's layering: the pipeline's stages never import the store, the servers, the
report or the command line (they can be used, and tested, without them)."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "src" / "met2rdf"
# the stages of the pipeline and what they are made of: notes in, facts and graphs out
STAGES = {"model", "errors", "iris", "vocab", "obo", "lexicon", "vault", "parse", "extract",
          "graph", "shacl", "validate", "diagnostics", "cache", "turtle", "result"}
# what runs the stages in order (and scores them)
PIPELINE = {"build", "incremental", "evaluate"}
# what reads, serves or sends the built graph, and the command line
USERS = {"store", "write", "export", "query", "sparql", "ask", "report", "render", "serve",
         "push", "auth", "settings", "snapshot", "watch", "cli", "__main__"}


def _module(path: Path) -> list[str]:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def imported(path: Path) -> set[str]:
    """The top-level modules of met2rdf that one source file imports."""
    here = _module(path)
    package = here if path.name == "__init__.py" else here[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1]
            target = [*base, *(node.module.split(".") if node.module else [])]
            if not target:  # "from . import x" in the package itself
                target = [alias.name for alias in node.names][:1]
            found.add(target[0])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("met2rdf."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names
                         if a.name.startswith("met2rdf."))
    return found


def test_every_module_is_placed_in_a_layer():
    """A new module must be put in a layer, so the rule below covers it."""
    modules = {_module(p)[0] for p in PACKAGE.rglob("*.py") if _module(p)}
    assert modules - {"__init__"} <= STAGES | PIPELINE | USERS, modules - STAGES - USERS


def test_stages_never_import_the_pipeline_store_servers_report_or_cli():
    """parse, extract, graph, validate and the rest import only each other."""
    bad = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module(path)
        if module and module[0] in STAGES:
            wrong = imported(path) & (PIPELINE | USERS)
            if wrong:
                bad[path.relative_to(PACKAGE).as_posix()] = sorted(wrong)
    assert bad == {}


def test_the_rule_sees_relative_and_absolute_imports():
    """The import reader finds both forms (a check that cannot fail is no check)."""
    sample = PACKAGE / "extract" / "note.py"
    assert {"model", "vocab", "extract"} <= imported(sample)
    assert "store" in imported(PACKAGE / "write.py")
