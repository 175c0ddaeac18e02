"""A scrutiny pack rendered four ways: one self-contained HTML page (inline SVG charts, each with its text
alternative and data table, no scripts), a PDF (fpdf2 with the Noto fonts: a character no font has fails the render
rather than print as "?"; text shaped by HarfBuzz for right-to-left and Indic scripts), CSV files (one per table)
and the pack's canonical JSON (what a published pack's SHA-256 is taken of).

Every rendering opens with the summary (how many are green, amber, red; improving, worsening), then the exceptions
with their corrective action; RAG is told by shape and word as well as colour."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import zipfile
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from fontTools.ttLib import TTCollection, TTFont
from fpdf import FPDF
from fpdf.fonts import FontFace

from services.reporting.charts import direction_arrow, quantity, trajectory_chart
from services.reporting.pack_words import long_date
from services.reporting.packs import IMPROVING, STEADY, WORSENING, ScrutinyPack, Series, TargetPerformance
from shared.csv_export import Column, Kind, write_csv

RENDERER_VERSION = "pack-2"
"""Bumped whenever the same pack would render to other bytes: a published pack records it, and is rebuilt
byte-identical by the renderer of that version."""

# The SVG <title> tooltips (for the HTML page) mean nothing in a PDF: fpdf2 says so once per chart.
logging.getLogger("fpdf.svg").setLevel(logging.ERROR)

RAG_SHAPES = {"green": "\u25cf", "amber": "\u25b2", "red": "\u25a0", "stale": "\u25cb"}
"""Green a circle, amber a triangle, red a square, stale a hollow circle: told apart without colour."""
RAG_WORDS = {"green": "Green: on track", "amber": "Amber: behind", "red": "Red: well behind",
             "stale": "Stale: no recent report"}
DIRECTION_SHAPES = {IMPROVING: "\u2191", WORSENING: "\u2193", STEADY: "\u2192"}

# -- tables (shared by the renderings) ----------------------------------------------------------------------------

Table = tuple[list[str], list[list[str]]]


def _value(value: Any) -> str:
    """Numbers without thousands separators, so the CSV files load as numbers."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def rag_words(rag: str | None) -> str:
    return f"{RAG_SHAPES[rag]} {rag}" if rag in RAG_SHAPES else "not yet due"


def direction_words(direction: str | None) -> str:
    return f"{DIRECTION_SHAPES[direction]} {direction}" if direction in DIRECTION_SHAPES else "no direction yet"


def _who(pack: ScrutinyPack, series: Series) -> str:
    if series.district is not None:
        return series.label
    return "county total" if pack.request.scope.county else "total in scope"


def summary_table(pack: ScrutinyPack) -> Table:
    header = ["what", "green", "amber", "red", "stale", "not yet due", "improving", "steady", "worsening",
              "no direction yet", "forecast to meet", "forecast short", "no forecast"]
    rows = []
    for key, label in (("targets", "targets"), ("shares", "district shares"), ("projects", "open projects")):
        counts = pack.summary[key]
        rows.append([label, *(str(counts[h]) if h in counts else "-" for h in header[1:])])
    return header, rows


def performance_table(pack: ScrutinyPack) -> Table:
    header = ["target", "district", "unit", "actual", "trajectory", "goal", "deadline", "rag", "direction",
              "latest report", "forecast", "forecast method"]
    rows = []
    for perf in pack.performance:
        for series in (perf.total, *perf.shares):
            rows.append([perf.metric, _who(pack, series), series.unit,
                         _value(series.actual), _value(series.expected), _value(series.goal),
                         series.deadline.isoformat(), series.status or "not yet due",
                         series.direction or "no direction yet",
                         series.last_reported_on.isoformat() if series.last_reported_on else "no report yet",
                         _value(series.forecast), series.forecast_method or "no forecast"])
    return header, rows


def performance_notes(perf: TargetPerformance) -> list[str]:
    """What a reader must know before the figures: a target over-allocated, a trajectory that is a profile."""
    notes = []
    if perf.over_allocated_by is not None:
        notes.append(f"Over-allocated: the districts' shares add up to {quantity(perf.over_allocated_by)} more than "
                     "the target asks, as the tasking service recorded it; shown until the theme group retasks.")
    if perf.kind == "ratio":
        summed = (f" ({quantity(perf.parts[0])} of {quantity(perf.parts[1])} in the county)"
                  if perf.parts is not None else "")
        notes.append(f"A ratio: the total is the districts' numerators summed over their denominators summed{summed}, "
                     "never a mean of their ratios; each district is shown against its own ratio.")
    if perf.profiled:
        notes.append("The trajectory is the target's profile (expected values by date, set by a decision), not a "
                     "straight line; a district share without a profile of its own follows it.")
    return notes


def exceptions_table(pack: ScrutinyPack) -> Table:
    header = ["kind", "name", "rag", "direction", "in one line"]
    return header, [[e["kind"], e["name"], e["rag"] or "not yet due", e["direction"], e["line"]]
                    for e in pack.exceptions]


def changes_table(pack: ScrutinyPack) -> Table:
    header = ["decided on", "recorded on", "what", "name", "change", "before", "after", "changed by", "decision"]
    return header, [[c["decided_on"] or "no decision", c["recorded_on"], c["entity"], c["label"], c["kind"],
                     c["before"] or "-", c["after"] or "-", c["changed_by"], "; ".join(c["decisions"]) or "none"]
                    for c in pack.changes]


def decisions_table(pack: ScrutinyPack) -> Table:
    """The decisions taken in the period (by their decision's date), with the day each was entered into the records
    where it differs (history entered later)."""
    header = ["decided on", "body", "meeting", "decision", "reason", "reference", "recorded by", "entered on"]
    return header, [[d["decided_on"], d["body"], d["meeting"], d["sentence"], d["reason"], d["reference"],
                     d["recorded_by"], d.get("entered_on", "")] for d in pack.decisions]


def retaskings_table(pack: ScrutinyPack) -> Table:
    header = ["decided on", "body", "meeting", "retasking", "reason", "reference"]
    return header, [[r["decided_on"], r["body"], r["meeting"], r["summary"], r["reason"], r["reference"]]
                    for r in pack.retaskings]


def red_projects_table(pack: ScrutinyPack) -> Table:
    header = ["project", "district", "lead partner", "shortfall %", "direction", "last report", "interventions"]
    rows = []
    for p in pack.red_projects:
        interventions = "; ".join(
            f"{i['decided_on']} {i['kind']}: {i['description']} (decided by {i['by']}, {i['meeting']}; "
            f"carried out by {i['owner'] or p['lead_partner']}; {i['due']}; {i['moved']})"
            for i in p["interventions"]) or "none yet"
        rows.append([p["title"], p["district"], p["lead_partner"], _value(p["shortfall_percent"]),
                     p["direction"] or "no direction yet", p["last_reported_on"] or "no report yet", interventions])
    return header, rows


def overdue_table(pack: ScrutinyPack) -> Table:
    header = ["due on", "days overdue", "kind", "owner / project", "body / district", "what"]
    rows = [[a["due_on"], str(a["days_overdue"]), "agreed action", a["owner"], a["body"], a["description"]]
            for a in pack.overdue_actions]
    rows += [[m["due_on"], str(m["days_overdue"]), "milestone", f"{m['project']} ({m['lead_partner']})",
              m["district"], m["milestone"]] for m in pack.overdue_milestones]
    rows.sort(key=lambda r: r[0])
    return header, rows


TABLES: dict[str, Callable[[ScrutinyPack], Table]] = {
    "summary": summary_table,
    "exceptions": exceptions_table,
    "performance": performance_table,
    "changes": changes_table,
    "decisions": decisions_table,
    "retaskings": retaskings_table,
    "red_projects": red_projects_table,
    "overdue": overdue_table,
}

TITLES = {
    "summary": "Summary",
    "exceptions": "Exceptions and corrective action",
    "performance": "Performance against target",
    "changes": "What changed since the previous pack",
    "decisions": "Decisions in the period",
    "retaskings": "Retaskings in the period",
    "red_projects": "Red projects and corrective interventions",
    "overdue": "Overdue actions and milestones",
}


# -- canonical JSON -----------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def to_json(pack: ScrutinyPack) -> bytes:
    """The pack's canonical JSON: every figure, sentence and table it shows, keys sorted, no spaces, UTF-8. The
    same history read at the same moment gives the same bytes (a published pack's SHA-256 is of these)."""
    return json.dumps(_plain(pack), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(pack: ScrutinyPack) -> str:
    return hashlib.sha256(to_json(pack)).hexdigest()


# -- CSV ----------------------------------------------------------------------------------------------------------


T, N, D = Kind.TEXT, Kind.NUMBER, Kind.DATE
CSV_KINDS: dict[str, tuple[Kind, ...]] = {
    "summary": (T, N, N, N, N, N, N, N, N, N, N, N, N),
    "exceptions": (T, T, T, T, T),
    "performance": (T, T, T, N, N, N, D, T, T, T, N, T),
    "changes": (T, T, T, T, T, T, T, T, T),
    "decisions": (D, T, T, T, T, T, T, T),
    "retaskings": (D, T, T, T, T, T),
    "red_projects": (T, T, T, N, T, T, T),
    "overdue": (D, N, T, T, T, T),
}
"""What each column of each table holds: text cells are neutralised against formulas, numbers stay numbers."""


def to_csv(pack: ScrutinyPack, table: str) -> str:
    header, rows = TABLES[table](pack)
    return write_csv([Column(name, kind) for name, kind in zip(header, CSV_KINDS[table], strict=True)], rows)


def to_csv_zip(pack: ScrutinyPack) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in TABLES:
            archive.writestr(zipfile.ZipInfo(f"{name}.csv", (1980, 1, 1, 0, 0, 0)), to_csv(pack, name),
                             compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


# -- HTML ---------------------------------------------------------------------------------------------------------

_CSS = """
body { font-family: "Noto Sans", Helvetica, Arial, sans-serif; color: #0b0c0c; margin: 24px auto; max-width: 1120px;
  padding: 0 12px; line-height: 1.4; }
h1 { font-size: 26px; margin-bottom: 4px; } h2 { font-size: 20px; margin-top: 32px; border-bottom: 2px solid #1d70b8; }
h3 { font-size: 16px; margin: 18px 0 6px; }
.meta { color: #484949; font-size: 14px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; margin: 8px 0 16px; }
caption { text-align: left; font-weight: bold; padding: 4px 0; }
th, td { border: 1px solid #b1b4b6; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f3f2f1; }
.wide { overflow-x: auto; } .wide:focus { outline: 3px solid #fd0; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; } figure { margin: 0; max-width: 100%; }
figure svg.chart { max-width: 100%; height: auto; } figcaption { font-size: 14px; max-width: 520px; }
.rag { display: inline-block; padding: 0 8px; border-radius: 4px; color: #fff; font-weight: bold; white-space: nowrap; }
.rag.green { background: #00703c; } .rag.amber { background: #8a4a00; } .rag.red { background: #b10e1e; }
.rag.none, .rag.stale { background: #505a5f; }
.none { color: #484949; font-style: italic; }
ol.decisions li, ul.exceptions li { margin-bottom: 8px; }
@media print { h2 { page-break-before: auto; } figure { page-break-inside: avoid; } }
"""


def _html_table(table: Table, caption: str, cells: Callable[[int, str], str] | None = None) -> str:
    header, rows = table
    if not rows:
        return '<p class="none">Nothing to report.</p>'
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in header)
    body = "".join("<tr>" + "".join(
        f"<td>{cells(i, v) if cells else escape(v)}</td>" for i, v in enumerate(row)) + "</tr>" for row in rows)
    return (f'{_wide(caption)}<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def _wide(label: str) -> str:
    """A table's wrapper that scrolls sideways on a narrow screen, reached by keyboard (a focusable region)."""
    return f'<div class="wide" tabindex="0" role="region" aria-label="{escape(label)}">'



def rag_badge(rag: str | None) -> str:
    """RAG by shape, word and colour."""
    if rag not in RAG_SHAPES:
        return '<span class="rag none">not yet due</span>'
    return (f'<span class="rag {escape(rag)}"><span aria-hidden="true">{RAG_SHAPES[rag]}</span> '
            f"{escape(RAG_WORDS[rag])}</span>")


def direction_text(series_direction: str | None, rag: str | None) -> str:
    if series_direction is None:
        return '<span class="none">no direction yet</span>'
    return (f'<span aria-hidden="true">{direction_arrow(series_direction, rag, standalone=True)}</span> '
            f"{escape(series_direction)}")


def chart_description(series: Series, period_end: date) -> str:
    """The chart in words: its text alternative."""
    reports = ", ".join(f"{quantity(v)} on {long_date(d)}" for d, v in series.points) or "no report yet"
    return (f"{series.label}: actual {quantity(series.actual)} {series.unit} at {long_date(period_end)} against "
            f"a trajectory of {quantity(series.expected)}, on the way to {quantity(series.goal)} by "
            f"{long_date(series.deadline)}; {rag_words(series.status)}, {direction_words(series.direction)}. "
            f"Reports: {reports}.")


def _chart_figure(series: Series, period_end: date, chart_id: str) -> str:
    """The chart, its text alternative (the SVG's title and description) and its data as a table."""
    svg = trajectory_chart(series, period_end, chart_id, description=chart_description(series, period_end))
    rows = [[long_date(d), quantity(v), quantity(series.trajectory_at(d))] for d, v in series.points]
    table = _html_table((["reported on", f"actual ({series.unit})", "trajectory then"], rows),
                        f"Data of the chart: {series.label}")
    return f"<figure>{svg}<figcaption>{escape(chart_description(series, period_end))}</figcaption>{table}</figure>"


def _summary_html(pack: ScrutinyPack) -> list[str]:
    header, rows = summary_table(pack)
    out = [f'<h2 id="summary">{TITLES["summary"]}</h2>']
    shapes = {rag: rag_badge(rag) for rag in RAG_SHAPES}
    head = "".join(f'<th scope="col">{shapes.get(h, escape(h))}</th>' for h in header)
    body = "".join("<tr>" + f'<th scope="row">{escape(row[0])}</th>' + "".join(
        f"<td>{escape(v)}</td>" for v in row[1:]) + "</tr>" for row in rows)
    caption = f"How many are on track, and which way they are going, at {long_date(pack.request.end)}"
    out.append(f'{_wide(caption)}<table class="summary"><caption>{escape(caption)}</caption>'
               f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")
    out.append('<p class="none">A figure is stale when its latest report is older than one reporting interval '
               "(a quarter) at the period's end: shown as stale, not as a colour from old data. Forecasts are of "
               "the out-turn at each deadline, the method named beside each (a project forecasts each of its "
               "outcomes, on its own page).</p>")
    out.append(f'<h3 id="exceptions-list">Exceptions: red, worsening or stale ({len(pack.exceptions)})</h3>')
    if not pack.exceptions:
        out.append('<p class="none">None: nothing is red or worsening.</p>')
    else:
        out.append('<ul class="exceptions">')
        for item in pack.exceptions:
            out.append(f"<li>{rag_badge(item['rag'])} <strong>{escape(item['name'])}</strong> "
                       f"({escape(item['direction'])}): {escape(item['line'])}</li>")
        out.append("</ul>")
    return out


def _exceptions_html(pack: ScrutinyPack) -> list[str]:
    out = [f'<h2 id="exceptions">{TITLES["exceptions"]}</h2>']
    projects = [e["project"] for e in pack.exceptions if e["kind"] == "project"]
    if not projects:
        out.append('<p class="none">No open project is red or worsening.</p>')
    for project in projects:
        out.append(f"<h3>{escape(project['title'])}</h3>")
        out.append(f"<p>{rag_badge(project['rag'])} {escape(project['district'])}, led by "
                   f"{escape(project['lead_partner'])}. Latest report "
                   f"({escape(long_date(project['last_reported_on']))}): \u201c{escape(project['narrative'])}\u201d"
                   "</p>")
        if project["rag_override_reason"]:
            out.append(f"<p>RAG set by hand: {escape(project['rag_override_reason'])}</p>")
        if not project["interventions"]:
            out.append('<p class="none">No corrective intervention recorded yet.</p>')
        for i in project["interventions"]:
            out.append("<dl>"
                       f"<dt>Intervention</dt><dd>{escape(i['kind'])}: {escape(i['description'])}</dd>"
                       f"<dt>Decided by</dt><dd>{escape(i['by'])}, {escape(i['meeting'])} (minute "
                       f"{escape(i['reference'])}), because: {escape(i['reason'])}</dd>"
                       f"<dt>Carried out by</dt><dd>{escape(i['owner'] or project['lead_partner'])}</dd>"
                       f"<dt>Due</dt><dd>{escape(i['due'])}</dd>"
                       f"<dt>Has it worked?</dt><dd>{escape(i['moved'])}</dd></dl>")
    return out


def to_html(pack: ScrutinyPack) -> str:
    request = pack.request
    title = f"{request.committee}: scrutiny pack, {long_date(request.start)} to {long_date(request.end)}"
    out = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>", f"<style>{_CSS}</style></head><body><main>",
        f"<h1>{escape(request.committee)}: scrutiny pack</h1>",
        f'<p class="meta">{escape(pack.partnership)}. Scope: {escape(pack.scope_label)}. Period: '
        f"{escape(long_date(request.start))} to {escape(long_date(request.end))}. Records as they stood at "
        f"{escape(pack.produced_at.isoformat(timespec='seconds'))}.</p>",
    ]
    out += [f'<p class="none">{escape(note)}</p>' for note in pack.notes]
    out += _summary_html(pack)
    out += _exceptions_html(pack)
    out.append(f'<h2 id="performance">{TITLES["performance"]}</h2>')
    for index, perf in enumerate(pack.performance):
        out.append(f"<h3>{escape(perf.metric)}</h3>")
        out += [f'<p class="none">{escape(note)}</p>' for note in performance_notes(perf)]
        header = ["who", "actual", "trajectory now", "goal", "RAG", "direction of travel", "latest report",
                  "forecast at the deadline"]
        rows = []
        for series in (perf.total, *perf.shares):
            rows.append([escape(_who(pack, series)), quantity(series.actual), quantity(series.expected),
                         quantity(series.goal), rag_badge(series.status),
                         direction_text(series.direction, series.rag),
                         escape(long_date(series.last_reported_on)) if series.last_reported_on else
                         '<span class="none">no report yet</span>',
                         f"{quantity(series.forecast)} ({escape(series.forecast_method)})"
                         if series.forecast is not None else '<span class="none">no forecast yet</span>'])
        out.append(_html_table((header, rows), f"{perf.metric}: actual against the trajectory",
                               cells=lambda _, v: v))
        out.append('<div class="charts">')
        out.append(_chart_figure(perf.total, request.end, f"chart-{index}-total"))
        for share_index, series in enumerate(perf.shares):
            out.append(_chart_figure(series, request.end, f"chart-{index}-{share_index}"))
        out.append("</div>")
    out.append(f'<h2 id="decisions">{TITLES["decisions"]}</h2>')
    if pack.decisions:
        rows = [[escape(long_date(d["decided_on"])), escape(d["sentence"]),
                 escape(long_date(d["entered_on"])) if d.get("entered_on") else "the same day"]
                for d in pack.decisions]
        out.append(_html_table((["Decided on", "Decision", "Entered into the records on"], rows),
                               "Decisions taken in the period, by the date of the decision", cells=lambda _, v: v))
    else:
        out.append('<p class="none">No decision in the period.</p>')
    out.append(f'<h2 id="changes">{TITLES["changes"]}</h2>')
    out.append(_html_table(changes_table(pack), TITLES["changes"]))
    out.append(f'<h2 id="overdue">{TITLES["overdue"]}</h2>')
    out.append(_html_table(overdue_table(pack), TITLES["overdue"]))
    out.append("</main></body></html>")
    return "\n".join(out)


# -- PDF ----------------------------------------------------------------------------------------------------------

FONT_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/opentype/noto"))
"""Where Debian's fonts-noto-core and fonts-noto-cjk put the Noto fonts (scripts/ensure-system-packages.sh)."""
MAIN_FONT = ("NotoSans", "NotoSans-Regular.ttf", "NotoSans-Bold.ttf")
FALLBACK_FONTS = (
    ("NotoSansSymbols2", "NotoSansSymbols2-Regular.ttf"),
    ("NotoSansSymbols", "NotoSansSymbols-Regular.ttf"),
    ("NotoSansArabic", "NotoSansArabic-Regular.ttf"),
    ("NotoSansHebrew", "NotoSansHebrew-Regular.ttf"),
    ("NotoSansDevanagari", "NotoSansDevanagari-Regular.ttf"),
    ("NotoSansBengali", "NotoSansBengali-Regular.ttf"),
    ("NotoSansGurmukhi", "NotoSansGurmukhi-Regular.ttf"),
    ("NotoSansGujarati", "NotoSansGujarati-Regular.ttf"),
    ("NotoSansTamil", "NotoSansTamil-Regular.ttf"),
    ("NotoSansThai", "NotoSansThai-Regular.ttf"),
    ("NotoSansCJK", "NotoSansCJK-Regular.ttc"),
)
"""Tried in order for a character the main font lacks: symbols, right-to-left, Indic, Thai, then CJK."""


class MissingGlyphs(ValueError):
    """The pack holds characters no installed font draws: the PDF is refused rather than print them as "?"."""

    def __init__(self, characters: set[str]) -> None:
        self.characters = "".join(sorted(characters))
        super().__init__(
            f"The PDF cannot draw {self.characters!r} (U+{', U+'.join(f'{ord(c):04X}' for c in self.characters)}): "
            "no installed font has them (Debian's fonts-noto-core and fonts-noto-cjk carry the fallbacks).")


def _font_path(name: str) -> Path | None:
    return next((d / name for d in FONT_DIRS if (d / name).exists()), None)


@cache
def _coverage(path: Path) -> frozenset[int]:
    """The code points a font file draws (of a collection: its first face)."""
    collection = path.suffix in {".ttc", ".otc"}
    font = TTCollection(str(path)).fonts[0] if collection else TTFont(str(path), lazy=True)
    return frozenset(font.getBestCmap() or {})


class _Pdf(FPDF):
    def __init__(self, title: str, *, fallback_fonts: bool, strict: bool) -> None:
        super().__init__(orientation="landscape", format="A4")
        self._title = title
        self._strict = strict
        self.set_auto_page_break(auto=True, margin=14)
        self.set_title(title)
        self.set_creator(f"partnership reporting service, renderer {RENDERER_VERSION}")
        family, regular, bold = MAIN_FONT
        regular_path, bold_path = _font_path(regular), _font_path(bold)
        if regular_path is None or bold_path is None:
            raise MissingGlyphs(set(title))  # no main font: nothing would draw
        self.add_font(family, fname=str(regular_path))
        self.add_font(family, style="B", fname=str(bold_path))
        self.add_font(family, style="I", fname=str(regular_path))
        covered = set(_coverage(regular_path))
        fallbacks = []
        for name, file in FALLBACK_FONTS if fallback_fonts else ():
            path = _font_path(file)
            if path is None:
                continue
            self.add_font(name, fname=str(path))
            fallbacks.append(name)
            covered |= _coverage(path)
        if fallbacks:
            self.set_fallback_fonts(fallbacks, exact_match=False)
        self._covered = frozenset(covered)
        self.set_text_shaping(True)  # HarfBuzz: joining and reordering for Arabic, Hebrew, Indic scripts

    def normalize_text(self, text: str) -> str:
        """Every text fpdf2 draws passes here: one with a character no loaded font has is refused (strict)."""
        if self._strict:
            missing = {c for c in text if ord(c) not in self._covered and not c.isspace() and c.isprintable()}
            if missing:
                raise MissingGlyphs(missing)
        return super().normalize_text(text)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(MAIN_FONT[0], size=8)
        self.set_text_color(80)
        self.cell(0, 6, f"{self._title} \u2013 page {self.page_no()}", align="C")


def _pdf_table(pdf: FPDF, table: Table, widths: Sequence[int] | None = None) -> None:
    header, rows = table
    pdf.set_font(MAIN_FONT[0], size=8)
    if not rows:
        pdf.set_font(MAIN_FONT[0], style="I", size=9)
        pdf.cell(0, 6, "Nothing to report.", new_x="LMARGIN", new_y="NEXT")
        return
    heading = FontFace(emphasis="BOLD", fill_color=(243, 242, 241))
    with pdf.table(col_widths=tuple(widths) if widths else None, headings_style=heading, line_height=4.2,
                   text_align="LEFT") as grid:
        grid.row(header)
        for row in rows:
            grid.row(row)
    pdf.ln(2)


def _heading(pdf: FPDF, text: str, size: int = 13) -> None:
    pdf.set_font(MAIN_FONT[0], style="B", size=size)
    pdf.set_text_color(29, 112, 184)
    pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)


def _paragraph(pdf: FPDF, text: str, size: int = 9) -> None:
    pdf.set_font(MAIN_FONT[0], size=size)
    pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")


def _with_rag(table: Table, columns: Sequence[int]) -> Table:
    """RAG columns by shape and word."""
    header, rows = table
    return header, [[rag_words(v) if i in columns and v in RAG_SHAPES else v for i, v in enumerate(row)]
                    for row in rows]


def to_pdf(pack: ScrutinyPack, *, fallback_fonts: bool = True, strict: bool = True) -> bytes:
    """The pack as a PDF. ``fallback_fonts=False, strict=False`` renders with the main font only and lets missing
    characters drop: only for showing what the fallback fonts are for; a served pack is always strict."""
    request = pack.request
    title = f"{request.committee}: scrutiny pack, {long_date(request.start)} to {long_date(request.end)}"
    pdf = _Pdf(title, fallback_fonts=fallback_fonts, strict=strict)
    pdf.set_creation_date(pack.produced_at)  # the records' moment, so a rebuild gives the same bytes
    pdf.add_page()
    pdf.set_font(MAIN_FONT[0], style="B", size=18)
    pdf.multi_cell(0, 10, f"{request.committee}: scrutiny pack", new_x="LMARGIN", new_y="NEXT")
    _paragraph(pdf, f"{pack.partnership}. Scope: {pack.scope_label}. Period: {long_date(request.start)} to "
                    f"{long_date(request.end)}. Records as they stood at "
                    f"{pack.produced_at.isoformat(timespec='seconds')}.")
    for note in pack.notes:
        _paragraph(pdf, note)
    _heading(pdf, TITLES["summary"])
    _pdf_table(pdf, summary_table(pack))
    _paragraph(pdf, "RAG: \u25cf green (on track), \u25b2 amber (behind), \u25a0 red (well behind), \u25cb stale (no "
                    "report within the reporting interval). Forecasts are of the out-turn at each deadline.")
    _heading(pdf, f"Exceptions: red, worsening or stale ({len(pack.exceptions)})", size=11)
    _pdf_table(pdf, _with_rag(exceptions_table(pack), [2]))
    _heading(pdf, TITLES["exceptions"])
    _pdf_table(pdf, red_projects_table(pack))
    _heading(pdf, TITLES["performance"])
    _pdf_table(pdf, _with_rag(performance_table(pack), [7]))
    for index, perf in enumerate(pack.performance):
        series_list = [perf.total, *perf.shares]
        for number, series in enumerate(series_list):
            if number % 2 == 0:
                if pdf.get_y() > pdf.h - 110:
                    pdf.add_page()
                top = pdf.get_y()
            column_x = pdf.l_margin + (number % 2) * 135
            svg = trajectory_chart(series, request.end, f"chart-{index}-{number}")
            pdf.image(io.BytesIO(svg.encode()), x=column_x, y=top, w=130)
            pdf.set_xy(column_x, top + 130 * 240 / 520 + 1)
            pdf.set_font(MAIN_FONT[0], size=7)
            pdf.multi_cell(130, 3.5, chart_description(series, request.end))
            if number % 2 == 1 or number == len(series_list) - 1:
                pdf.set_xy(pdf.l_margin, top + 130 * 240 / 520 + 16)
    for name in ("decisions", "changes", "overdue"):
        if pdf.get_y() > pdf.h - 40:
            pdf.add_page()
        _heading(pdf, TITLES[name])
        if name == "decisions":
            if not pack.decisions:
                _paragraph(pdf, "No decision in the period.")
            for number, decision in enumerate(pack.decisions, start=1):
                entered = decision.get("entered_on")
                _paragraph(pdf, f"{number}. {decision['sentence']}"
                                + (f" Entered into the records on {long_date(entered)}." if entered else ""))
        else:
            _pdf_table(pdf, TABLES[name](pack))
    return bytes(pdf.output())
