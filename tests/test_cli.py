"""The command line: real commands, exit codes and output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import FIXTURES, REPO


def met2rdf(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "met2rdf", *args], capture_output=True,
                          text=True, check=False, cwd=cwd)


def test_help_lists_commands():
    """--help names every command and the exit codes."""
    run = met2rdf("--help")
    assert run.returncode == 0
    for word in ("build", "validate", "eval", "Exit codes"):
        assert word in run.stdout


def test_no_command_is_a_usage_error():
    """Calling met2rdf without a command exits 2."""
    assert met2rdf().returncode == 2


def test_build_missing_vault_exits_2(tmp_path: Path):
    """A vault path that does not exist is a usage error."""
    run = met2rdf("build", str(tmp_path / "nope"), "--out", str(tmp_path))
    assert run.returncode == 2
    assert "no such vault folder or note" in run.stderr


def write_vault(root: Path) -> Path:
    vault = root / "vault"
    (vault / ".obsidian").mkdir(parents=True)
    (vault / ".obsidian" / "ignored.md").write_text("- **Breast cancer** spreads to bone\n")
    (vault / "good.md").write_text("- **Breast cancer** spreads to the liver.\n")
    (vault / "bad yaml.md").write_text("---\naliases: [x\n---\n- **Lung cancer** spreads to bone.\n")
    (vault / "binary.md").write_bytes(b"ok\n\xff\xfe\n")
    return vault


def test_bad_notes_are_reported_and_the_rest_builds(tmp_path: Path):
    """A note with bad YAML or bytes is reported with path:line; the others still build."""
    vault = write_vault(tmp_path)
    run = met2rdf("build", str(vault), "--out", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    assert "binary.md:2: not UTF-8 at byte 3" in run.stderr
    assert "bad yaml.md:" in run.stderr and "frontmatter is not valid YAML" in run.stderr
    assert run.stdout.startswith("2 notes (0 unchanged), 2 fact statements")
    text = (tmp_path / "out" / "graph.ttl").read_text()
    assert "c:breast-cancer" in text and "c:lung-cancer" in text
    assert "ignored" not in text


def test_strict_makes_problems_fatal(tmp_path: Path):
    """With --strict, a problem note fails the build and nothing is written."""
    vault = write_vault(tmp_path)
    run = met2rdf("build", str(vault), "--out", str(tmp_path / "out"), "--strict")
    assert run.returncode == 1
    assert not (tmp_path / "out" / "graph.ttl").exists()


def test_build_reports_shape_violations_at_note_lines(tmp_path: Path):
    """A non-conforming graph exits 1 with one path:line message per result."""
    extra = FIXTURES / "odd-scan.ttl"
    note = tmp_path / "n.md"
    note.write_text("# Lung cancer\n\nDiagnosed with an odd scan.\n")
    run = met2rdf("build", str(note), "--out", str(tmp_path / "out"), "--vocab", str(extra))
    assert run.returncode == 1
    assert "n.md:3: an ontology id must be an OBO PURL" in run.stderr
    assert not (tmp_path / "out" / "graph.ttl").exists()
    store = tmp_path / "out" / "store"  # loaded while extracting, emptied again
    assert not store.exists() or len(ox.Store(str(store))) == 0


def test_validate_command(tmp_path: Path):
    """validate exits 0 on a conforming file, 1 on a violating or broken one, 2 on none."""
    ok = met2rdf("validate", str(FIXTURES / "shapes" / "SpreadsToRange.ok.ttl"))
    assert ok.returncode == 0 and "conforms" in ok.stdout
    bad = met2rdf("validate", str(FIXTURES / "shapes" / "SpreadsToRange.bad.ttl"))
    assert bad.returncode == 1
    assert "n.md:5: met:spreadsTo must point to an anatomical site" in bad.stderr
    broken = tmp_path / "broken.ttl"
    broken.write_text("<a> <b> .\n")
    assert met2rdf("validate", str(broken)).returncode == 1
    assert met2rdf("validate", str(tmp_path / "missing.ttl")).returncode == 2


def test_eval_seed_is_perfect(shared: Path):
    """met2rdf eval on the seed prints P = R = F1 = 1.00 overall."""
    run = met2rdf("eval", str(REPO / "examples/vault/Mets.md"),
                  str(shared / "corpus/seed/gold.tsv"),
                  "--entities", str(shared / "corpus/seed/entities.tsv"))
    assert run.returncode == 0, run.stderr
    overall = next(line for line in run.stdout.splitlines() if line.startswith("overall"))
    assert overall.split()[1:] == ["34", "34", "34", "34", "1.00", "1.00", "1.00"]
    assert "misses (0):" in run.stdout and "false facts (0):" in run.stdout


def test_eval_dev_prints_scores_and_errors(shared: Path):
    """met2rdf eval on the dev corpus prints a row per relation and each error with path:line."""
    dev = shared / "corpus/dev"
    run = met2rdf("eval", str(dev / "notes"), str(dev / "gold"),
                  "--entities", str(dev / "entities.tsv"))
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    for rel in ("spreadsTo", "hasSymptom", "diagnosedBy", "treatedWith", "spreadsVia", "overall"):
        assert any(line.startswith(rel) for line in lines)
    assert any(line.startswith("  svlmd__Hepatocellular Carcinoma.md:") for line in lines)


def test_eval_missing_gold_file_is_an_error(tmp_path: Path):
    """A note without a gold file is named in the error."""
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "x.md").write_text("text\n")
    (tmp_path / "gold").mkdir()
    run = met2rdf("eval", str(tmp_path / "notes"), str(tmp_path / "gold"))
    assert run.returncode == 1
    assert "x.md: no gold file" in run.stderr


def test_eval_warns_about_note_problems_and_strict_fails(tmp_path: Path, capsys):
    """Problems with a note (here bad frontmatter) are warnings with path:line, as in build;
    with --strict eval still prints the scores, then exits 1 (in-process CLI)."""
    from met2rdf.cli import main

    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "x.md").write_text("---\naliases: [unclosed\n---\n"
                                             "Breast cancer spreads to bone.\n")
    gold = tmp_path / "x.tsv"
    gold.write_text("subject\tpredicate\tobject\tline\nbreast cancer\tspreadsTo\tbone\t4\n")
    assert main(["eval", str(tmp_path / "notes"), str(gold)]) == 0
    out, err = capsys.readouterr()
    assert err.startswith("x.md:2: frontmatter") and err.rstrip().endswith("[warning]")
    assert "overall" in out
    assert main(["eval", str(tmp_path / "notes"), str(gold), "--strict"]) == 1
    out, err = capsys.readouterr()
    assert "overall" in out and "[warning]" not in err
    assert err.splitlines()[-1] == "met2rdf: 1 problem(s) with the notes and --strict"


@pytest.mark.parametrize("args", [["build", "--help"], ["validate", "--help"], ["eval", "--help"]])
def test_subcommand_help(args):
    """Each command has its own help."""
    run = met2rdf(*args)
    assert run.returncode == 0 and "usage: met2rdf" in run.stdout
