"""A scrutiny pack rendered three ways: one self-contained HTML page (inline SVG charts, no scripts), a PDF
(fpdf2: pure Python, the same SVG charts as images) and CSV files (one per table)."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Callable, Sequence
from decimal import Decimal
from html import escape
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

from services.reporting.charts import RAG_COLOURS, direction_arrow, quantity, trajectory_chart
from services.reporting.packs import ScrutinyPack, Series
from shared.csv_export import Column, Kind, write_csv

# The SVG <title> tooltips (for the HTML page) mean nothing in a PDF: fpdf2 says so once per chart.
logging.getLogger("fpdf.svg").setLevel(logging.ERROR)

# -- tables (shared by the three renderings) ----------------------------------------------------------------------

Table = tuple[list[str], list[list[str]]]


def _value(value: Any) -> str:
    """Numbers without thousands separators, so the CSV files load as numbers."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def performance_table(pack: ScrutinyPack) -> Table:
    header = ["target", "district", "unit", "actual", "trajectory", "goal", "deadline", "rag", "direction"]
    rows = []
    for perf in pack.performance:
        for series in (perf.total, *perf.shares):
            who = ("county total" if pack.request.scope.county else "total in scope") if series.district is None \
                else series.label
            rows.append([perf.metric, who, series.unit,
                         _value(series.actual), _value(series.expected), _value(series.goal),
                         series.deadline.isoformat(), series.rag or "", series.direction or ""])
    return header, rows


def changes_table(pack: ScrutinyPack) -> Table:
    header = ["when", "what", "name", "change", "fields", "before", "after", "changed by", "decision"]
    rows = []
    for c in pack.changes:
        fields = c["fields"]
        before = "; ".join(f"{k}: {c['before'].get(k)}" for k in fields) if c["before"] else ""
        after = "; ".join(f"{k}: {c['after'].get(k)}" for k in fields) if c["before"] else ""
        who = ", ".join(sorted({f"{s['actor_organisation']} ({s['actor_role']})" for s in c["steps"]}))
        decisions = "; ".join(_decision_text(s["decision"]) for s in c["steps"] if s["decision"])
        rows.append([c["last_changed_at"][:16].replace("T", " "), c["entity"], c["label"], c["kind"],
                     ", ".join(fields) if c["before"] else "", before, after, who, decisions])
    return header, rows


def _decision_text(raw: Any) -> str:
    d = json.loads(raw) if isinstance(raw, str) else raw
    return f"{d['body']} on {d['decided_on']}: {d['reason']}"


def decisions_table(pack: ScrutinyPack) -> Table:
    header = ["decided on", "body", "meeting", "what", "reason", "reference", "recorded by"]
    return header, [[d["decided_on"], d["body"], d["meeting"], d["what"], d["reason"], d["reference"],
                     d["recorded_by"]] for d in pack.decisions]


def retaskings_table(pack: ScrutinyPack) -> Table:
    header = ["decided on", "body", "meeting", "retasking", "reason", "reference"]
    return header, [[r["decided_on"], r["body"], r["meeting"], r["summary"], r["reason"], r["reference"]]
                    for r in pack.retaskings]


def red_projects_table(pack: ScrutinyPack) -> Table:
    header = ["project", "district", "lead partner", "shortfall %", "direction", "last report", "interventions"]
    rows = []
    for p in pack.red_projects:
        interventions = "; ".join(f"{i['decided_on']} {i['kind']}: {i['description']} ({i['reason']})"
                                  for i in p["interventions"]) or "none yet"
        rows.append([p["title"], p["district"], p["lead_partner"], _value(p["shortfall_percent"]),
                     p["direction"] or "", p["last_reported_on"] or "", interventions])
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
    "performance": performance_table,
    "changes": changes_table,
    "decisions": decisions_table,
    "retaskings": retaskings_table,
    "red_projects": red_projects_table,
    "overdue": overdue_table,
}

TITLES = {
    "performance": "Performance against target",
    "changes": "What changed since the previous pack",
    "decisions": "Decisions in the period",
    "retaskings": "Retaskings in the period",
    "red_projects": "Red projects and corrective interventions",
    "overdue": "Overdue actions and milestones",
}


# -- CSV ----------------------------------------------------------------------------------------------------------


T, N, D = Kind.TEXT, Kind.NUMBER, Kind.DATE
CSV_KINDS: dict[str, tuple[Kind, ...]] = {
    "performance": (T, T, T, N, N, N, D, T, T),
    "changes": (T, T, T, T, T, T, T, T, T),
    "decisions": (D, T, T, T, T, T, T),
    "retaskings": (D, T, T, T, T, T),
    "red_projects": (T, T, T, N, T, D, T),
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
            archive.writestr(f"{name}.csv", to_csv(pack, name))
    return buffer.getvalue()


# -- HTML ---------------------------------------------------------------------------------------------------------

_CSS = """
body { font-family: Helvetica, Arial, sans-serif; color: #222; margin: 24px auto; max-width: 1120px; }
h1 { font-size: 24px; margin-bottom: 4px; } h2 { font-size: 19px; margin-top: 32px; border-bottom: 2px solid #1f5fbf; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.meta { color: #555; font-size: 13px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 8px 0 16px; }
th, td { border: 1px solid #d6d6d6; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f1f4f9; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.rag { display: inline-block; padding: 1px 8px; border-radius: 8px; color: #fff; font-size: 12px; }
.rag.green { background: #2e7d32; } .rag.amber { background: #c77700; } .rag.red { background: #c62828; }
.none { color: #777; font-style: italic; }
@media print { h2 { page-break-before: auto; } .charts svg { page-break-inside: avoid; } }
"""


def _html_table(table: Table, cells: Callable[[int, str], str] | None = None) -> str:
    header, rows = table
    if not rows:
        return '<p class="none">Nothing to report.</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(
        f"<td>{cells(i, v) if cells else escape(v)}</td>" for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _rag_badge(rag: str | None) -> str:
    return f'<span class="rag {escape(rag)}">{escape(rag)}</span>' if rag in RAG_COLOURS else ""


def _series_cells(series: Series) -> str:
    return (f"<td>{quantity(series.actual)}</td><td>{quantity(series.expected)}</td><td>{quantity(series.goal)}</td>"
            f"<td>{_rag_badge(series.rag)}</td>"
            f"<td>{direction_arrow(series.direction, series.rag, standalone=True)} {escape(series.direction or '')}"
            "</td>")


def to_html(pack: ScrutinyPack) -> str:
    request = pack.request
    out = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(request.committee)}: scrutiny pack {request.start} to {request.end}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{escape(request.committee)}: scrutiny pack</h1>",
        f'<p class="meta">{escape(pack.partnership)}. Scope: {escape(pack.scope_label)}. Period: {request.start} to '
        f"{request.end}. Records as they stood at {pack.produced_at.isoformat(timespec='seconds')}; changes since "
        f"{request.previous_time().isoformat(timespec='seconds')}.</p>",
    ]
    out += [f'<p class="none">{escape(note)}</p>' for note in pack.notes]
    out.append(f'<h2 id="performance">{TITLES["performance"]}</h2>')
    for index, perf in enumerate(pack.performance):
        out.append(f"<h3>{escape(perf.metric)}</h3>")
        out.append("<table><thead><tr><th>who</th><th>actual</th><th>trajectory now</th><th>goal</th><th>RAG</th>"
                   "<th>direction of travel</th></tr></thead><tbody>")
        for series in (perf.total, *perf.shares):
            who = f"{series.label} (share)" if series.district is not None else \
                "County total" if request.scope.county else "Total in scope"
            out.append(f"<tr><td>{escape(who)}</td>{_series_cells(series)}</tr>")
        out.append("</tbody></table><div class=\"charts\">")
        out.append(trajectory_chart(perf.total, request.end, f"chart-{index}-total"))
        for share_index, series in enumerate(perf.shares):
            out.append(trajectory_chart(series, request.end, f"chart-{index}-{share_index}"))
        out.append("</div>")
    for name in ("changes", "decisions", "retaskings", "red_projects", "overdue"):
        out.append(f'<h2 id="{name}">{TITLES[name]}</h2>')
        out.append(_html_table(TABLES[name](pack)))
    out.append("</body></html>")
    return "\n".join(out)


# -- PDF ----------------------------------------------------------------------------------------------------------

_REPLACEMENTS = {"\u2192": "->", "\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"',
                 "\u201d": '"', "\u2026": "...", "\u00a0": " "}


def _latin1(text: str) -> str:
    """The PDF's built-in fonts cover Latin-1 only: replace what they lack rather than fail."""
    for old, new in _REPLACEMENTS.items():
        text = text.replace(old, new)
    return text.encode("latin-1", "replace").decode("latin-1")


class _Pdf(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="landscape", format="A4")
        self._title = title
        self.set_auto_page_break(auto=True, margin=14)
        self.set_title(title)
        self.set_creator("partnership reporting service")

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("Helvetica", size=8)
        self.set_text_color(110)
        self.cell(0, 6, _latin1(f"{self._title} - page {self.page_no()}"), align="C")


def _pdf_table(pdf: FPDF, table: Table, widths: Sequence[int] | None = None) -> None:
    header, rows = table
    pdf.set_font("Helvetica", size=8)
    if not rows:
        pdf.set_font("Helvetica", style="I", size=9)
        pdf.cell(0, 6, "Nothing to report.", new_x="LMARGIN", new_y="NEXT")
        return
    heading = FontFace(emphasis="BOLD", fill_color=(241, 244, 249))
    with pdf.table(col_widths=tuple(widths) if widths else None, headings_style=heading, line_height=4.2,
                   text_align="LEFT") as grid:
        grid.row([_latin1(h) for h in header])
        for row in rows:
            grid.row([_latin1(v) for v in row])
    pdf.ln(2)


def _heading(pdf: FPDF, text: str, size: int = 13) -> None:
    pdf.set_font("Helvetica", style="B", size=size)
    pdf.set_text_color(31, 95, 191)
    pdf.cell(0, 8, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)


def to_pdf(pack: ScrutinyPack) -> bytes:
    request = pack.request
    pdf = _Pdf(f"{request.committee}: scrutiny pack {request.start} to {request.end}")
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=18)
    pdf.cell(0, 10, _latin1(f"{request.committee}: scrutiny pack"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    pdf.multi_cell(0, 5, _latin1(
        f"{pack.partnership}. Scope: {pack.scope_label}. Period: {request.start} to {request.end}. Records as they "
        f"stood at {pack.produced_at.isoformat(timespec='seconds')}; changes since "
        f"{request.previous_time().isoformat(timespec='seconds')}."), new_x="LMARGIN", new_y="NEXT")
    for note in pack.notes:
        pdf.multi_cell(0, 5, _latin1(note), new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, TITLES["performance"])
    _pdf_table(pdf, performance_table(pack))
    for index, perf in enumerate(pack.performance):
        charts = [trajectory_chart(perf.total, request.end, f"chart-{index}-total")]
        charts += [trajectory_chart(s, request.end, f"chart-{index}-{i}") for i, s in enumerate(perf.shares)]
        for number, svg in enumerate(charts):
            if number % 2 == 0:
                if pdf.get_y() > pdf.h - 95:
                    pdf.add_page()
                top = pdf.get_y()
            column_x = pdf.l_margin + (number % 2) * 135
            pdf.image(io.BytesIO(svg.encode()), x=column_x, y=top, w=130)
            if number % 2 == 1 or number == len(charts) - 1:
                pdf.set_y(top + 130 * 240 / 520 + 4)
    for name in ("changes", "decisions", "retaskings", "red_projects", "overdue"):
        if pdf.get_y() > pdf.h - 40:
            pdf.add_page()
        _heading(pdf, TITLES[name])
        _pdf_table(pdf, TABLES[name](pack))
    return bytes(pdf.output())
