"""The history file's format: JSON and CSV say the same, and a row that is not a row of the format is named with
where it is, every one at once, before anything is run."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from services.history import format as fmt

ROWS = [
    fmt.Meeting(key="board", body="worcestershire-partnership", held_on=date(2011, 3, 1),
                present=["worcestershire-cc", "hw-fire"], title="Board, with a comma, and \"quotes\""),
    fmt.Objective(key="scs", title="A skilled economy", level="scs", strategy="SCS",
                  decision=fmt.DecisionRow(body="worcestershire-partnership", decided_on=date(2011, 3, 1),
                                           reason="Agreed", meeting="board", reference="WP/1"),
                  by=fmt.ActingFor(organisation="worcestershire-cc", role="partnership_officer")),
    fmt.Meeting(key="board-2", body="worcestershire-partnership", held_on=date(2011, 4, 1),
                present=["worcestershire-cc"]),
]


def test_json_and_csv_hold_the_same_rows_in_the_same_order(tmp_path: Path) -> None:
    document = fmt.HistoryDocument(partnership="worcestershire", rows=ROWS)
    fmt.write(document, tmp_path / "h.json")
    fmt.write(document, tmp_path / "csv")
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == ["history.json", "meeting.csv", "objective.csv"]
    from_json, from_csv = fmt.read(tmp_path / "h.json"), fmt.read(tmp_path / "csv")
    assert from_json.rows == from_csv.rows == ROWS
    assert from_csv.document.partnership == "worcestershire"
    assert len(from_json.sha256) == len(from_csv.sha256) == 64


def test_every_bad_row_is_named_at_once(tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    fmt.write(fmt.HistoryDocument(partnership="worcestershire", rows=ROWS), folder)
    meetings = (folder / "meeting.csv").read_text().replace("2011-04-01", "the first of April")
    (folder / "meeting.csv").write_text(meetings)
    (folder / "objectives.csv").write_text("seq,key\n9,x\n")
    with pytest.raises(fmt.FormatProblem) as raised:
        fmt.read(folder)
    found = {(p["row"], p["detail"].split(":")[0]) for p in raised.value.problems}
    assert ("meeting.csv line 3 (meeting board-2)", "held_on") in found
    assert any(row == "objectives.csv" for row, _ in found)

    (tmp_path / "h.json").write_text(json.dumps({"partnership": "w", "rows": [{"kind": "meeting", "key": "m"}]}))
    with pytest.raises(fmt.FormatProblem) as raised:
        fmt.read(tmp_path / "h.json")
    assert {p["detail"].split(":")[0] for p in raised.value.problems} >= {"meeting.body", "meeting.held_on"}


def test_the_published_schemas_are_the_format() -> None:
    published = Path(__file__).parents[3] / "contracts" / "history"
    for name, schema in fmt.json_schemas().items():
        assert json.loads((published / name).read_text()) == schema, name
