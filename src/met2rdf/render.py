"""A report -> one self-contained HTML page: tables, the vault's health and a network
picture drawn by a small inlined script (``data/report/``).

The page loads nothing: its style and script are inlined, and a Content-Security-Policy
allows only those two (by hash), so no text from a note can run or fetch anything.  Note
text is escaped in the HTML and in the JSON the script reads.  The same report gives the
same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from html import escape
from string import Template

from .iris import curie_of, local_name
from .report import Edge, Health, Report, Source, Subject
from .vocab import package_data

# relation -> (the word for its objects, the phrase in a picture's caption)
RELATIONS = {
    "spreadsTo": ("sites", "spreads to"),
    "hasSymptom": ("symptoms", "has symptom"),
    "diagnosedBy": ("tests", "diagnosed by"),
    "treatedWith": ("treatments", "treated with"),
    "spreadsVia": ("routes", "spreads via"),
}
# the relations counted in a subject's summary, even when it has none
SUMMARY = {"CancerType": ("spreadsTo", "hasSymptom", "diagnosedBy", "treatedWith"),
           "Metastasis": ("hasSymptom", "diagnosedBy", "treatedWith")}
VIEWS = (("spread", "Cancer types \u2192 sites"), ("symptoms", "Sites \u2192 symptoms"))


def _asset(name: str) -> str:
    return package_data(f"report/{name}").decode("utf-8")


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def anchor(iri: str) -> str:
    """Return the HTML id of a concept's table."""
    return "c-" + local_name(iri)


def _sources(sources: Iterable[Source]) -> str:
    items = "".join(f"<li>{_e(s)}" + (f" <i>{_e(s.hedge)}</i>" if s.hedge else "") + "</li>"
                    for s in sources)
    return f'<ul class="srcs">{items}</ul>'


def _subject(subject: Subject) -> str:
    by_relation: dict[str, list[str]] = {}
    for st in subject.statements:
        by_relation.setdefault(st.relation, []).append(
            f'<tr><td class="concept">{_e(st.label)}</td><td class="n">{st.notes:,}</td>'
            f"<td>{_sources(st.sources)}</td></tr>")
    counted = SUMMARY.get(subject.type, ())
    counted += tuple(r for r in RELATIONS if r in by_relation and r not in counted)
    counts = " &#183; ".join(_plural(len(by_relation.get(r, ())), RELATIONS[r][0][:-1])
                             for r in counted)
    ids = "".join(f'<a href="{_e(i)}" rel="noreferrer">{_e(curie_of(i))}</a>' for i in subject.ids)
    site = f"site: {_e(subject.site)}" if subject.site else (
        "at any site" if subject.type == "Metastasis" else "")
    site = f' <span class="counts">{site}</span>' if site else ""
    tables = "".join(
        f"<h3>{RELATIONS[r][0]}</h3><table><thead><tr><th>{RELATIONS[r][0][:-1]}</th>"
        f'<th class="n">notes</th><th>sources (note:line, hedge)</th></tr></thead>'
        f"<tbody>{''.join(by_relation[r])}</tbody></table>"
        for r in RELATIONS if r in by_relation)
    return (f'<details class="subject" id="{_e(anchor(subject.iri))}"><summary>'
            f'<span class="name">{_e(subject.label)}</span>{site}<span class="ids">{ids}</span>'
            f'<span class="counts">{counts}</span></summary>{tables}</details>\n')


def _subjects(subjects: Iterable[Subject], kind: str, empty: str) -> str:
    parts = [_subject(s) for s in subjects if s.type == kind]
    return "".join(parts) if parts else f'<p class="none">{empty}</p>'


def _figure(name: str, value: str, mood: str = "") -> str:
    cls = f' class="{mood}"' if mood else ""
    return f"<div{cls}><dt>{_e(name)}</dt><dd>{_e(value)}</dd></div>"


def _shacl(health: Health) -> tuple[str, str]:
    if health.conforms is None:
        return "not recorded", ""
    if health.conforms:
        return "conforms", "good"
    return _plural(len(health.results), "result"), "bad"


def _table(headings: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headings)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _list(title: str, count: int, table: str) -> str:
    if not count:
        return ""
    return f'<details class="list"><summary>{_e(title)} ({count:,})</summary>{table}</details>\n'


def _health(health: Health) -> str:
    shacl, mood = _shacl(health)
    unknown = "not recorded"
    figures = [
        _figure("notes in the graph", f"{health.notes:,}"),
        _figure("notes skipped", f"{len(health.skipped):,}" if health.recorded else unknown,
                "bad" if health.skipped else ""),
        _figure("problems with notes", f"{len(health.problems):,}" if health.recorded
                else unknown, "bad" if health.problems else ""),
        _figure("facts", f"{health.facts:,}"),
        _figure("fact statements", f"{health.statements:,}"),
        _figure("concepts", f"{health.concepts:,}"),
        _figure("concepts without ontology id", f"{len(health.unidentified):,}",
                "bad" if health.unidentified else ""),
        _figure("unresolved wikilinks", f"{len(health.unresolved):,}",
                "bad" if health.unresolved else ""),
        _figure("SHACL", shacl, mood),
    ]
    parts = [f'<dl class="figures">{"".join(figures)}</dl>\n']
    if not health.recorded:
        parts.append('<p class="warn">This graph holds no build record (met2rdf build writes one '
                     "into the store), so the notes skipped, the problems and the SHACL results "
                     "are not known here.</p>\n")
    parts.append(_list("Notes skipped and problems with notes", len(health.problems), _table(
        ("where", "skipped", "problem"),
        ((f'<span class="path">{_e(p.path)}:{p.line}</span>', "skipped" if p.skipped else "",
          _e(p.message)) for p in health.problems))))
    parts.append(_list("SHACL results", len(health.results), _table(
        ("sources", "focus", "path", "value", "message"),
        ((_sources_text(r.sources), f"<code>{_e(r.focus)}</code>", f"<code>{_e(r.path)}</code>",
          _e(r.value), _e(r.message)) for r in health.results))))
    parts.append(_list("Unresolved wikilinks", len(health.unresolved), _table(
        ("link", "in note"),
        ((f"[[{_e(link)}]]", f'<span class="path">{_e(note)}:{line}</span>')
         for link, note, line in health.unresolved))))
    parts.append(_list("Concepts without ontology id", len(health.unidentified), _table(
        ("concept", "type", "IRI"),
        ((_e(label), _e(kind), f"<code>{_e(iri)}</code>")
         for iri, kind, label in health.unidentified))))
    return "".join(parts)


def _sources_text(sources: Iterable[str]) -> str:
    return "<br>".join(f'<span class="path">{_e(s)}</span>' for s in sources)


class _Pool:
    """Strings stored once in the JSON and named by their index."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        return self.index.setdefault(text, len(self.index))

    def items(self) -> list[str]:
        return list(self.index)


def _view(key: str, from_: str, to: str, relation: str, edges: Iterable[Edge],
          anchors: set[str], paths: _Pool, quotes: _Pool) -> dict[str, object]:
    starts: dict[str, int] = {}
    ends: dict[str, int] = {}
    start_nodes: list[list[str]] = []
    end_nodes: list[list[str]] = []
    rows = []
    for edge in edges:
        for iri, name, index, nodes in ((edge.start, edge.start_label, starts, start_nodes),
                                        (edge.end, edge.end_label, ends, end_nodes)):
            if iri not in index:
                index[iri] = len(nodes)
                nodes.append([name, anchor(iri) if iri in anchors else ""])
        rows.append([starts[edge.start], ends[edge.end], edge.notes,
                     [[paths(s.path), s.line, s.hedge, quotes(s.quote) if s.quote else -1]
                      for s in edge.sources]])
    return {"id": key, "from": from_, "to": to, "relation": relation,
            "starts": start_nodes, "ends": end_nodes, "edges": rows}


def _data(report: Report) -> str:
    """The JSON the script reads, safe inside a <script> element."""
    paths, quotes = _Pool(), _Pool()
    anchors = {s.iri for s in report.subjects}
    views = [
        _view("spread", "cancer type", "site", "spreads to", report.spread, anchors, paths,
              quotes),
        _view("symptoms", "site", "symptom", "symptom of metastasis", report.symptoms, anchors,
              paths, quotes),
    ]
    text = json.dumps({"views": views, "paths": paths.items(), "quotes": quotes.items()},
                      ensure_ascii=False, separators=(",", ":"))
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _buttons() -> str:
    return "\n".join(f'<button type="button" data-view="{key}" aria-pressed="false">{_e(label)}'
                     "</button>" for key, label in VIEWS)


def to_html(report: Report) -> bytes:
    """Return the report as one self-contained HTML page."""
    style, script = _asset("report.css"), _asset("report.js")
    policy = (f"default-src 'none'; script-src {_hash(script)}; style-src {_hash(style)}; "
              "img-src data:; base-uri 'none'; form-action 'none'")
    health = report.health
    shacl, mood = _shacl(health)
    figures = "".join([
        _figure("notes", f"{health.notes:,}"),
        _figure("facts", f"{health.facts:,}"),
        _figure("fact statements", f"{health.statements:,}"),
        _figure("notes skipped", f"{len(health.skipped):,}" if health.recorded
                else "not recorded", "bad" if health.skipped else ""),
        _figure("SHACL", shacl, mood)])
    page = Template(_asset("page.html")).substitute(
        policy=policy, style=style, script=script,
        figures=f'<dl class="figures">{figures}</dl>',
        buttons=_buttons(),
        cancers=_subjects(report.subjects, "CancerType", "No facts about cancer types."),
        metastases=_subjects(report.subjects, "Metastasis", "No facts about metastases."),
        health=_health(health), data=_data(report))
    return page.encode("utf-8")
