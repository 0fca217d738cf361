"""What a rebuild redoes: the vault-wide names every note's result depends on, and the
plan that keeps each note whose result key is unchanged and makes an :class:`ExtractJob`
of every other one.

When no note came or went and no re-surveyed note changed its names, every note whose text
is unchanged keeps its result without its key being worked out again; when some did, only
the notes a change can reach are looked at (see ``_touched``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ..model import Problem, SourceNote, UnchangedNote
from ..parse import ATTACHMENT
from ..result import NoteEntry, Survey
from ..vault import LinkResolver, link_key
from ..vocab import Vocabulary
from .index import BuildIndex, Notes, kept, source_of
from .jobs import Context, ExtractJob
from .keys import KeyParts, Links, note_key
from .labels import LabelIndex, NoteWords, alias_labels, label_items
from .workers import BATCH


@dataclass(frozen=True, slots=True)
class Names:
    """The vault-wide names: aliases and titles label their note's topic; links name it."""

    surveys: Mapping[str, Survey]  # path -> the note's survey
    extra: Mapping[str, list[str]]  # concept IRI -> labels the notes give it
    items: tuple[str, ...]  # the same as sorted "IRI<TAB>label" items
    labels: LabelIndex  # of the items
    added: LabelIndex  # of the items the last build did not have
    gone: frozenset[str]  # the items the last build had and this one has not
    resolver: LinkResolver
    ambiguities: Sequence[Problem]  # links a shared name cannot reach
    same: bool  # no note came or went, and none changed its names
    todo: Notes  # the notes surveyed anew (the others' surveys are the last build's)
    targets: dict[str, str | None]  # link key -> IRI of the linked note's topic (as met)

    def links(self, survey: Survey) -> Links:
        """The note's links, with the notes they reach (a link to an attachment dropped)."""
        return tuple((t, found) for t in survey.targets
                     if (found := self.resolver.resolve(t)) is not None or not _is_attachment(t))

    def named(self, survey: Survey) -> tuple[str, ...]:
        """"link key=topic IRI" of the note's links that reach a note with a topic."""
        for target in survey.targets:
            key = link_key(target)
            if key not in self.targets:
                path = self.resolver.resolve(target)
                self.targets[key] = self.surveys[path].topic if path else None
        return tuple(sorted({f"{k}={self.targets[k]}" for k in map(link_key, survey.targets)
                             if self.targets[k] is not None}))


def vault_names(notes: Notes, surveys: Mapping[str, Survey], todo: Notes,
                texts: Mapping[str, str], index: BuildIndex) -> Names:
    """The names of the vault, from every note's survey (``todo``: the notes surveyed
    anew, the others' surveys are the last build's)."""
    before = index.before
    ordered = [surveys[n.path] for n in notes]
    same = bool(before) and before.keys() == surveys.keys() and all(
        _names(surveys[n.path]) == _names(before[n.path].survey) for n in todo)
    extra = alias_labels(ordered)
    items = label_items(extra)
    item_set = frozenset(items)
    resolver = LinkResolver(texts)
    if same and "ambiguities" in index.saved:
        ambiguities = index.saved["ambiguities"]
    else:
        ambiguities = resolver.ambiguities(t for s in ordered for t in s.targets)
    return Names(surveys, extra, items, LabelIndex(items),
                 LabelIndex(sorted(item_set - index.labels)), index.labels - item_set,
                 resolver, ambiguities, same, todo, {})


@dataclass(frozen=True, slots=True)
class Plan:
    """The notes a build keeps, and the jobs of those it extracts anew."""

    kept: Mapping[str, NoteEntry]  # path -> the last build's entry
    jobs: tuple[ExtractJob, ...]
    keys: Mapping[str, KeyParts]  # path of a job's note -> what its result key is made of

    def context(self, vocab: Vocabulary, names: Names) -> Context:
        """The extraction's context: the vocabulary labelled with the vault's names (with
        few jobs, only those their notes could hold), the topics of the notes links reach."""
        extra = names.extra
        if len(self.jobs) <= BATCH:
            relevant = {item for job in self.jobs
                        for item in names.labels.labels(NoteWords(job.source.title,
                                                                  job.source.text))}
            extra = {iri: [n for n in labels if f"{iri}\t{n}" in relevant]
                     for iri, labels in extra.items()}
        labelled = vocab.with_labels(extra)
        link_topics = {k: labelled.concepts[iri] for k, iri in names.targets.items()
                       if iri is not None}
        return Context(labelled, link_topics, names.labels, vocab)


def plan(notes: Notes, texts: Mapping[str, str], names: Names, index: BuildIndex) -> Plan:
    """Keep each note whose result key is the last build's; make a job of every other."""
    entries: dict[str, NoteEntry] = {}
    jobs: list[ExtractJob] = []
    keys: dict[str, KeyParts] = {}
    item_set = frozenset(names.items)
    touched = None if names.same else _touched(index.before, names, names.todo)
    for note in notes:
        survey = names.surveys[note.path]
        old = index.before.get(note.path)
        unchanged = old is not None and old.text == texts[note.path] and not old.results
        if unchanged and old is not None and (touched is None or not touched(old)):
            entries[note.path] = kept(old, note)
            continue
        parts = KeyParts(texts[note.path], names.links(survey), names.named(survey))
        if unchanged:
            assert old is not None
            labels = {x for x in old.labels if x in item_set}
            if names.added.items and names.added.maybe(old.bloom):
                labels.update(names.added.labels(NoteWords(survey.title,
                                                           source_of(note).text)))
            if note_key(index.base, parts, sorted(labels)) == old.key:
                entries[note.path] = kept(old, note)
                continue
        jobs.append(ExtractJob(source_of(note), parts.links, survey.topic, survey.new_names))
        keys[note.path] = parts
    return Plan(entries, tuple(jobs), keys)


def _touched(before: Mapping[str, NoteEntry], names: Names,
             todo: Sequence[SourceNote | UnchangedNote]) -> Callable[[NoteEntry], bool]:
    """Tell which unchanged notes may have another key now that notes came, went or
    changed their names: those with a link to a note name that came, went or changed its
    topic, and those that could contain a vault label that came or held one that went.
    Any other note keeps its key (its links reach the same notes, with the same topics)."""
    surveys, added, gone = names.surveys, names.added, names.gone
    topics = set(before.keys() ^ surveys.keys())
    topics.update(n.path for n in todo if n.path in before
                  and before[n.path].survey.topic != surveys[n.path].topic)
    linked = {LinkResolver.name(p) for p in topics}
    memo: dict[str, bool] = {}

    def links_to_changed(target: str) -> bool:
        hit = memo.get(target)
        if hit is None:
            hit = memo[target] = LinkResolver.name(target) in linked
        return hit

    def touched(old: NoteEntry) -> bool:
        return (any(map(links_to_changed, old.survey.targets))
                or (bool(gone) and not gone.isdisjoint(old.labels))
                or (bool(added.items) and added.maybe(old.bloom)))
    return touched


def _names(survey: Survey) -> tuple[object, ...]:
    """What of a note the rest of the vault depends on."""
    return survey.title, survey.aliases, survey.targets, survey.topic, survey.new_names


def _is_attachment(target: str) -> bool:
    """Whether a link that matches no note names a picture, PDF or other attachment."""
    return ATTACHMENT.search(target.rsplit("/", 1)[-1]) is not None
