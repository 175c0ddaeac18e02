"""No formula reaches a spreadsheet: every CSV goes through ``shared.csv_export``, which neutralises text cells a
spreadsheet would read as a formula (OWASP's CSV injection payloads) by the column's declared kind, and keeps numbers
numbers. End to end, a hostile title and decision go in through the API and come out neutralised in the scrutiny
pack's CSV and the open-data CSV, and as entered in GraphQL and the JSON feeds."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest

from services.projects.bulk import BulkReport, RowOutcome, report_csv
from shared.csv_export import Column, Kind, write_csv
from tests.harness import Harness, wait_until

# OWASP's CSV injection examples, and the same starts in their full-width forms.
PAYLOADS = [
    '=HYPERLINK("http://evil.example/x","click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "=cmd|' /C notepad'!'A1'",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "\uff1d1+1",
    "\uff0b1+1",
    "\uff0d1+1",
    "\uff20SUM(1)",
]


def _read(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_text_cell_that_could_start_a_formula_is_quoted_and_prefixed(payload: str) -> None:
    text = write_csv([Column("title"), Column("note")], [[payload, "plain words"]])
    [row] = _read(text)
    assert row["title"] == "'" + payload  # a spreadsheet shows it as the text it is
    assert row["note"] == "plain words"


def test_numbers_and_dates_stay_what_their_column_declares() -> None:
    columns = [Column("shortfall", Kind.NUMBER), Column("due", Kind.DATE), Column("label"),
               Column("flag", Kind.BOOLEAN), Column("count", Kind.NUMBER)]
    text = write_csv(columns, [[Decimal("-12.50"), date(2013, 4, 1), "-12.5", True, 3],
                               ["-7", "2013-04-01", None, False, "=1+1"]])
    lines = text.split("\r\n")
    assert lines[1] == "-12.5,2013-04-01,\"'-12.5\",true,3"  # the same -12.5 as text is neutralised
    assert lines[2] == "-7,2013-04-01,,false,\"'=1+1\""  # a number column holding a formula is text
    assert text.endswith("\r\n")


def test_a_bulk_upload_report_as_csv_neutralises_what_it_quotes_back() -> None:
    report = BulkReport(upload_id="u", applied=False, accepted=0, refused=1, rows=[
        RowOutcome(row=1, project_id=None, status="refused", reasons=["=HYPERLINK(\"x\") is not a number."])])
    [row] = _read(report_csv(report))
    assert row["reasons"].startswith("'=") and row["row"] == "1"


def test_a_hostile_title_and_decision_come_out_neutralised_in_the_pack_and_open_data_csv_and_as_entered_in_json(
        harness: Harness) -> None:
    h = harness
    title, reason, reference = PAYLOADS[0], PAYLOADS[1] + " because", PAYLOADS[3]
    decision = h.decision("worcestershire-partnership", "2011-05-03", reason, reference)  # at a recorded meeting
    created = h.client.post("/priorities/objectives", headers=h.headers("partnership_officer"),
                            json={"title": title, "level": "scs", "strategy": "Sustainable Community Strategy",
                                  "decision": decision})
    assert created.status_code == 201, created.text
    objective_id = created.json()["id"]

    objectives = wait_until(lambda: [o for o in h.graphql("{ objectives { id title } }")["data"]["objectives"]
                                     if o["id"] == objective_id], what="the objective in the read model")
    assert objectives[0]["title"] == title  # GraphQL: as entered

    pack = h.client.get("/reports/scrutiny", headers=h.headers("scrutiny_member"),
                        params={"from": "2011-04-01", "to": "2011-06-30", "format": "csv",
                                "previous": "2001-01-01T00:00:00Z"})  # a previous pack: its changes are listed
    assert pack.status_code == 200, pack.text
    archive = zipfile.ZipFile(io.BytesIO(pack.content))
    changes = _read(archive.read("changes.csv").decode())
    assert "'" + title in [r["name"] for r in changes], changes
    decisions = _read(archive.read("decisions.csv").decode())
    ours = [d for d in decisions if d["reason"] == "'" + reason]
    assert ours and ours[0]["reference"] == "'" + reference and ours[0]["decided on"] == "2011-05-03"

    feed = h.client.get("/open-data/decisions.csv")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/csv")
    mine = [r for r in _read(feed.text) if r["record_id"] == objective_id]
    assert mine and mine[0]["reason"] == "'" + reason and mine[0]["reference"] == "'" + reference
    assert mine[0]["record_version"] == "1"  # a number column stays a number
    as_json = h.client.get("/open-data/decisions.json").json()["records"]
    [record] = [r for r in as_json if r["record_id"] == objective_id]
    assert (record["reason"], record["reference"]) == (reason, reference)  # JSON: as entered

    for text in [feed.text, *(archive.read(n).decode() for n in archive.namelist())]:
        for row in csv.reader(io.StringIO(text)):
            for cell in row:  # ("-" starts the negative numbers of number columns)
                first = cell.lstrip(" ")[:1]
                assert not (first and first in "=+@\t\r\uff1d\uff0b\uff0d\uff20"), cell
