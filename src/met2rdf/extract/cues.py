"""The cue words of extraction (``data/cues.toml``), compiled, and the frames of labels."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from ..vocab import package_data

RELATION_OF = {
    "AnatomicalSite": "spreadsTo",
    "Symptom": "hasSymptom",
    "DiagnosticModality": "diagnosedBy",
    "Treatment": "treatedWith",
    "SpreadRoute": "spreadsVia",
}
RELATIONS = tuple(RELATION_OF.values())


@dataclass(frozen=True, slots=True)
class Cues:
    """Compiled cue patterns from ``data/cues.toml``."""

    frames: tuple[tuple[str, re.Pattern[str]], ...]
    spread: re.Pattern[str]
    negation: re.Pattern[str]
    contrast: re.Pattern[str]
    hedge: re.Pattern[str]
    examples: re.Pattern[str]
    sources: re.Pattern[str]
    causers: re.Pattern[str]  # "cancers that cause X are A, B": X is said of A and B
    cause: re.Pattern[str]
    modifier: re.Pattern[str]
    route: re.Pattern[str]
    oncology: re.Pattern[str]
    aside: re.Pattern[str]
    noun_negation: re.Pattern[str]  # negations that govern only their own noun phrases
    tied: re.Pattern[str]  # the words between an object and the subject it is said of
    anaphor: re.Pattern[str]
    other_side: re.Pattern[str]  # "to the other lung": no spread within one organ
    primary: re.Pattern[str]  # a table's first column of primary cancers
    node_findings: tuple[str, ...]  # findings of enlarged nodes ("... lymphadenopathy")
    # per kind of scanned cue, a fast test that a text may hold one (None: always scan)
    prefilters: Mapping[str, re.Pattern[str] | None] = field(default_factory=dict)
    # the frame of each section label read so far (labels recur: "Symptoms", "Treatment");
    # lives as long as these cues, one set per process, and holds at most FRAMES_KEPT labels
    frame_memo: dict[str, str | None] = field(default_factory=dict, compare=False)


def any_of(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def lower_keeping_offsets(text: str) -> str:
    """Lower-case text keeping every offset (cue patterns match lower-cased text)."""
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


SCANNED = ("negation", "contrast", "route", "sources", "aside", "causers")


@lru_cache(maxsize=1)
def load_cues() -> Cues:
    """Load the cue patterns shipped with the package."""
    data = tomllib.loads(package_data("cues.toml").decode("utf-8"))
    return Cues(
        frames=tuple((f["frame"], any_of(f["patterns"])) for f in data["frames"]),
        spread=any_of(data["spread"]["patterns"]),
        negation=any_of(data["negation"]["patterns"]),
        contrast=any_of(data["negation"]["contrast"]),
        hedge=re.compile(r"\b(" + "|".join(map(re.escape, data["hedge"]["patterns"])) + r")\b"),
        examples=any_of(data["examples"]["patterns"]),
        sources=any_of(data["sources"]["patterns"]),
        causers=any_of(data["causers"]["patterns"]),
        cause=any_of(data["cause"]["patterns"]),
        modifier=any_of(data["modifier"]["patterns"]),
        route=any_of(data["route"]["patterns"]),
        oncology=any_of(data["oncology"]["patterns"]),
        aside=any_of(data["aside"]["patterns"]),
        noun_negation=any_of(data["negation"]["noun"]),
        tied=re.compile(r"[^.;:,()]{0,40}?\b(?:" + any_of(data["tied"]["links"]).pattern
                        + r")\s+(?:(?:" + any_of(data["tied"]["modifiers"]).pattern
                        + r")\s+)*"),
        anaphor=any_of(data["anaphor"]["patterns"]),
        other_side=re.compile(r"\b(?:" + "|".join(data["spread"]["other_side"]) + r")\s+$"),
        primary=any_of(data["tables"]["primary"]),
        node_findings=tuple(data["nodes"]["findings"]),
        prefilters={name: _prefilter(_scanned_patterns(data, name)) for name in SCANNED},
    )


_SPECIAL = set("\\.^$*+?{}[]()|")


def _scanned_patterns(data: dict, name: str) -> list[str]:
    return data["negation"]["contrast"] if name == "contrast" else data[name]["patterns"]


def _prefilter(patterns: list[str]) -> re.Pattern[str] | None:
    """A pattern of the literal texts every cue pattern starts with ("side[- ]effects?" ->
    "side", "(?:seen|commoner) in" -> "seen in", "commoner in"), which the regex engine
    finds fast; None when one of them has no such start.  A text the prefilter does not
    match holds none of the cues."""
    prefixes: set[str] = set()
    for pattern in patterns:
        starts = _literal_starts(_ZERO_WIDTH.sub("", pattern, count=1))
        if not starts:
            return None
        prefixes.update(starts)
    return re.compile("|".join(sorted(map(re.escape, prefixes))))


# what a pattern may open with that matches no text: "\\b", "^", a look-behind "(?<![^\\n])"
_ZERO_WIDTH = re.compile(r"^(?:\\b|\^|\(\?<[=!][^()]*\))+")
_MOST_STARTS = 32


def _literal_starts(body: str) -> list[str]:
    """The literal texts a regex starts with, as far as literals and groups of literal
    alternatives reach ("at (?:higher|increased) risk" -> "at higher risk", "at increased
    risk"); [] when it may start otherwise."""
    starts, i = [""], 0
    while i < len(body) and len(starts) <= _MOST_STARTS:
        if body.startswith("(?:", i):
            close = body.find(")", i)
            branches = body[i + 3:close].split("|") if close != -1 else []
            if not branches or any("(" in b for b in branches):
                break
            heads = [_literal_start(b) for b in branches]
            if not all(heads) or body[close + 1:close + 2] in ("?", "*", "{"):
                break  # an optional group, or a branch that starts otherwise
            starts = [s + h for s in starts for h in heads]
            if heads != branches:
                break  # a branch went on past its literal start
            i = close + 1
            continue
        head = _literal_start(body[i:])
        if not head:
            break
        starts = [s + head for s in starts]
        i += len(head)
        if not body.startswith("(?:", i):
            break  # a special that is not a group of alternatives
    return starts if all(starts) else []


def _literal_start(body: str) -> str:
    end = 0
    while end < len(body) and body[end] not in _SPECIAL:
        end += 1
    if end < len(body) and body[end] in "?*{":
        end -= 1  # "factors?": the last letter is optional
    return body[:max(end, 0)]


_JOINED = re.compile(r"\band\b|&|,|/")  # "Etiology and ...", not "Side effects of treatment"
SILENT_FRAMES = frozenset({"none", "causes"})  # frames in which no object is a fact


FRAMES_KEPT = 1 << 14


def frame_of(label: str, cues: Cues) -> str | None:
    """Return the frame a section label sets, or None."""
    memo = cues.frame_memo
    if label in memo:
        return memo[label]
    frame = _frame_of(label.lower(), cues)
    if len(memo) < FRAMES_KEPT:
        memo[label] = frame
    return frame


def _frame_of(label: str, cues: Cues) -> str | None:
    found = [frame for frame, pattern in cues.frames if pattern.search(label)]
    if len(found) > 1 and found[0] in SILENT_FRAMES and _JOINED.search(label):
        return found[1]  # "Etiology and clinical manifestations": the part to read
    return found[0] if found else None
