"""Watching a vault: which saves matter to a build, and what each rebuild changed.

The rebuild itself is the build's (the command line runs the one ``build`` runs, with its
cache); this module only says when to run it and how to sum it up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from threading import Event

import watchfiles

from .result import BuildResult

DEBOUNCE_MS = 1600  # the longest a burst of saves is gathered into one rebuild
STEP_MS = 100  # a burst ends after this long without a change (an editor's save and rename)
WAKE_MS = 200  # how often the watching wakes without changes (for a stop or Ctrl-C)

Statement = tuple[str, str, str]  # subject IRI, relation, object IRI: a fact a note states
Ledger = Mapping[str, tuple[str, frozenset[Statement]]]  # note path -> (its key, its facts)


@dataclass(frozen=True, slots=True)
class Rebuild:
    """What a rebuild changed: notes changed, new and gone; fact statements added and
    removed; the problems with notes the build reported."""

    changed: int
    new: int
    gone: int
    facts_added: int
    facts_removed: int
    problems: int

    def __str__(self) -> str:
        notes = f"{self.changed} note{'s' * (self.changed != 1)} changed"
        if self.new or self.gone:
            notes += f" ({self.new} new, {self.gone} gone)"
        problems = f"{self.problems} problem{'s' * (self.problems != 1)}"
        return f"{notes}, facts +{self.facts_added} -{self.facts_removed}, {problems}"


def ledger_of(result: BuildResult, previous: Ledger) -> dict[str, tuple[str, frozenset[Statement]]]:
    """The facts of each note of a build, read again only for notes whose key changed."""
    ledger = {}
    for entry in result.entries:
        old = previous.get(entry.path)
        if old is not None and old[0] == entry.key:
            ledger[entry.path] = old
        else:
            facts = result.output(entry).facts
            ledger[entry.path] = (entry.key, frozenset((f.subject, f.predicate, f.object)
                                                       for f in facts))
    return ledger


def compare(before: Ledger, after: Ledger, problems: int) -> Rebuild:
    """Sum up the change from one build's ledger to the next's."""
    added = removed = changed = 0
    for path in before.keys() | after.keys():
        old = before.get(path, ("", frozenset()))
        new = after.get(path, ("", frozenset()))
        if old[0] != new[0]:
            changed += 1
            added += len(new[1] - old[1])
            removed += len(old[1] - new[1])
    return Rebuild(changed, len(after.keys() - before.keys()), len(before.keys() - after.keys()),
                   added, removed, problems)


def note_filter(vault: Path, ignore: tuple[Path, ...]) -> Callable[[watchfiles.Change, str], bool]:
    """Whether a change concerns the build: a ``.md`` file, or a folder (renamed, removed),
    below ``vault``, not in a dot-folder nor in one of the folders ``ignore`` (the output)."""
    root = vault.resolve()
    skip = tuple(p.resolve() for p in ignore)

    def wanted(change: watchfiles.Change, name: str) -> bool:
        path = Path(name)
        if path.suffix.lower() != ".md" and path.suffix and not path.is_dir():
            return False
        if any(path == s or path.is_relative_to(s) for s in skip):
            return False
        try:
            parts = path.relative_to(root).parts
        except ValueError:
            return False
        return not any(part.startswith(".") for part in parts)

    return wanted


def vault_saves(vault: Path, ignore: tuple[Path, ...], stop: Event | None = None,
                debounce_ms: int = DEBOUNCE_MS, step_ms: int = STEP_MS) -> Iterator[int]:
    """Yield 0 once the watching has started, then, for each burst of saves that concern the
    build, how many paths it touched (saves made while the caller builds are kept for the
    next); end when ``stop`` is set (a KeyboardInterrupt goes through)."""
    folder = vault if vault.is_dir() else vault.parent
    wanted = note_filter(folder, ignore)
    if not vault.is_dir():  # one note: only its own saves
        target = vault.resolve()
        wanted = (lambda change, name, inner=wanted: Path(name) == target and inner(change, name))
    started = False
    for changes in watchfiles.watch(folder.resolve(), watch_filter=wanted, debounce=debounce_ms,
                                    step=step_ms, stop_event=stop, rust_timeout=WAKE_MS,
                                    yield_on_timeout=True):
        if changes or not started:
            started = True
            yield len({name for _, name in changes})
