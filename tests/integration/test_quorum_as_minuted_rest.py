"""A historic meeting whose attendance was never minuted, entered over REST (#26) as the history import enters it:
``POST /tasking/meetings`` takes ``quorum_as_minuted`` (the minute reference) instead of ``present``, a decision
taken there passes the decision rule, ``GET`` shows it, and a meeting with both, or neither, is refused as a 422
problem in the very words the import reports for the same row."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from services.history import format as fmt
from services.history.runner import import_history
from shared.contracts import Actor
from tests.harness import running_system, settings_for

BOARD = "worcestershire-partnership"
BOARD_MEMBERS = ["worcestershire-cc", "nhs-worcestershire", "west-mercia-police", "hw-fire", "chamber-of-commerce"]
IMPORTER = Actor("history-importer", "worcestershire-cc", "partnership_officer")


def _import_detail(tmp_path: Path, name: str, meeting: fmt.Meeting) -> str | None:
    rows: list[Any] = [fmt.Membership(key=f"board/{org}", body=BOARD, organisation=org, joined_on=date(2008, 4, 1))
                       for org in BOARD_MEMBERS]
    (tmp_path / f"{name}.json").write_text(fmt.to_json(fmt.HistoryDocument(partnership="worcestershire",
                                                                           rows=[*rows, meeting])))
    with running_system(settings_for(data_dir=tmp_path / name)) as h:
        report = import_history(fmt.read(tmp_path / f"{name}.json"), h.system.applications, IMPORTER,
                                h.system.settings)
    assert [r.row for r in report.refused] == [f"meeting {meeting.key}"]
    return report.refused[0].detail


def test_a_meeting_quorate_as_minuted_is_entered_over_rest_and_refused_as_the_import_refuses_it(
        tmp_path: Path) -> None:
    with running_system(settings_for(data_dir=tmp_path / "rest"), services=("tasking",)) as h:
        officer = h.headers("partnership_officer")
        for organisation in BOARD_MEMBERS:
            h.seat(BOARD, organisation, joined_on=date(2008, 4, 1))
        held = h.client.post("/tasking/meetings", headers=officer, json={
            "body": BOARD, "held_on": "2009-03-03", "title": "Board: the SCS", "quorum_as_minuted": "WP/2009/03"})
        assert held.status_code == 201, held.text
        meeting = held.json()
        shown = h.client.get(f"/tasking/meetings/{meeting['id']}", headers=officer).json()
        assert (shown["present"], shown["quorum_as_minuted"]) == ([], "WP/2009/03")

        # A decision at it passes the rule without counting attendance: the board raises PSTG's quorum.
        raised = h.client.post("/tasking/partnership/quorums", headers=officer, json={
            "body": "pstg", "quorum": 4, "decision": {
                "body": BOARD, "decided_on": "2009-03-03", "reason": "PSTG grows", "meeting_id": meeting["id"],
                "meeting_version": meeting["meeting_version"], "reference": "WP/2009/03/4"}})
        assert raised.status_code == 200, raised.text
        assert raised.json()["quorums"]["pstg"] == 4

        both = h.client.post("/tasking/meetings", headers=officer, json={
            "body": BOARD, "held_on": "2009-04-07", "present": BOARD_MEMBERS, "quorum_as_minuted": "WP/2009/04"})
        neither = h.client.post("/tasking/meetings", headers=officer, json={"body": BOARD, "held_on": "2009-04-07"})
        blank = h.client.post("/tasking/meetings", headers=officer, json={
            "body": BOARD, "held_on": "2009-04-07", "quorum_as_minuted": "  "})
        for refused, field in ((both, "quorum_as_minuted"), (neither, "present"), (blank, "quorum_as_minuted")):
            assert refused.status_code == 422, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert [e["field"] for e in refused.json()["errors"]] == [field]

    # The import says the same, in the same words.
    assert _import_detail(tmp_path, "both", fmt.Meeting(
        key="m", body=BOARD, held_on=date(2009, 4, 7), present=BOARD_MEMBERS, quorum_as_minuted="WP/2009/04",
    )) == both.json()["detail"]
    assert _import_detail(tmp_path, "neither", fmt.Meeting(key="m", body=BOARD, held_on=date(2009, 4, 7))) == \
        neither.json()["detail"]
