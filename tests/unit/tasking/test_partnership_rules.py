"""The partnership's rules as history (#23): tasking's ``Partnership`` aggregate is founded once from the definition,
a board decision raises a quorum from its date, and every decision is judged by the rules in force on its own date:
a later decision at a meeting of the old size is refused, an earlier one at the same size stays valid and is shown
so. A definition that differs from the record is reported at start-up, not applied."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import yaml

from services.tasking.application import PARTNERSHIP_ID, TaskingApplication
from services.tasking.partnership import Partnership
from shared.contracts import Actor, Decision
from shared.decisions import DecisionNotValid, problems_of
from shared.eventstore import CommandContext
from shared.partnership import DEFAULT_FILE
from tests.harness import settings_for

OFFICER = CommandContext(Actor("officer-1", "worcestershire-cc", "partnership_officer"), "corr-rules")
BOARD = "worcestershire-partnership"
BOARD_MEMBERS = ["worcestershire-cc", "worcester-city-council", "bromsgrove-dc", "nhs-worcestershire",
                 "west-mercia-police"]
PSTG_THREE = ["worcestershire-cc", "wychavon-dc", "chamber-of-commerce"]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[TaskingApplication]:
    application = TaskingApplication(settings_for(data_dir=tmp_path))
    yield application
    application.close()


def _seat(app: TaskingApplication) -> None:
    for organisation in BOARD_MEMBERS:
        app.join(OFFICER, body=BOARD, organisation=organisation, joined_on=date(2010, 1, 1))
    for organisation in [*PSTG_THREE, "worcester-college"]:
        app.join(OFFICER, body="pstg", organisation=organisation, joined_on=date(2010, 1, 1))


def _decided_at(app: TaskingApplication, body: str, on: date, present: list[str], reason: str) -> Decision:
    meeting = app.hold_meeting(OFFICER, body=body, held_on=on, present=present, title=reason)
    return Decision(body=body, decided_on=on, reason=reason, meeting_id=str(meeting.id),
                    meeting_version=app.meeting_version(meeting))


def test_the_partnership_is_founded_once_from_its_definition(app: TaskingApplication, tmp_path: Path) -> None:
    founded = app.partnership()
    assert founded.version == 1 and app.partnership_differences == []
    assert {b.body: b.quorum for b in founded.founding.bodies}["pstg"] == 3
    assert founded.founding.max_agreed_priorities_per_district == app.definition.max_agreed_priorities_per_district
    again = TaskingApplication(settings_for(data_dir=tmp_path))  # a second start founds nothing more
    try:
        assert again.partnership().version == 1 and again.partnership_differences == []
    finally:
        again.close()


def test_a_quorum_raised_by_a_board_decision_refuses_a_later_decision_at_a_small_meeting_and_keeps_an_earlier_one(
        app: TaskingApplication) -> None:
    _seat(app)
    may = _decided_at(app, "pstg", date(2011, 5, 10), PSTG_THREE, "Worcester's share")
    raised = _decided_at(app, BOARD, date(2011, 6, 1), BOARD_MEMBERS, "Theme groups decide with four")
    partnership = app.change_quorum(OFFICER, body="pstg", quorum=4, decision=raised)
    assert partnership.quorums["pstg"] == 4 and partnership.version == 2
    june = _decided_at(app, "pstg", date(2011, 6, 14), PSTG_THREE, "200 to Wychavon")

    # The later decision, at a meeting of three, is refused: four are needed from 1 June 2011.
    with pytest.raises(DecisionNotValid, match="4 needed"):
        app.join(OFFICER, body="pstg", organisation="vcs-alliance", decision=june)
    assert app.membership("pstg", "vcs-alliance") is None
    # The earlier one, at a meeting of the same size, stands: on 10 May 2011 three were the quorum.
    joined = app.join(OFFICER, body="pstg", organisation="hw-fire", decision=may)
    assert joined.is_member
    assert problems_of(may, rules=app.rules, meetings=app.meetings) == []
    assert [p for p in problems_of(june, rules=app.rules, meetings=app.meetings) if "quorum" in p.lower()
            or "needed" in p]
    # The rule as of each day.
    assert app.rules.as_of(date(2011, 5, 31)).body("pstg").quorum == 3  # type: ignore[union-attr]
    assert app.rules.as_of(date(2011, 6, 1)).body("pstg").quorum == 4  # type: ignore[union-attr]


def test_a_quorum_change_is_itself_judged_by_the_rules_in_force_on_its_date(app: TaskingApplication) -> None:
    _seat(app)
    small_board = _decided_at(app, BOARD, date(2011, 6, 1), BOARD_MEMBERS[:3], "too few")
    with pytest.raises(DecisionNotValid, match="5 needed"):
        app.change_quorum(OFFICER, body="pstg", quorum=4, decision=small_board)
    assert app.partnership().version == 1


def test_a_definition_that_differs_from_the_record_is_reported_at_start_up_not_applied(
        app: TaskingApplication, tmp_path: Path) -> None:
    changed = yaml.safe_load(DEFAULT_FILE.read_text())
    changed["bodies"][1]["quorum"] = 2  # pstg
    changed["max_agreed_priorities_per_district"] = 9
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(changed))
    restarted = TaskingApplication(settings_for(data_dir=tmp_path, partnership_file=edited))
    try:
        said = restarted.partnership_differences
        assert any("pstg: quorum 2 in the definition, 3 founded" in s for s in said), said
        assert any(s.startswith("max_agreed_priorities_per_district: 9") for s in said), said
        record = restarted.repository.get(PARTNERSHIP_ID)
        assert isinstance(record, Partnership) and record.quorums["pstg"] == 3  # not applied
        assert restarted.rules.as_of(date(2012, 1, 1)).body("pstg").quorum == 3  # type: ignore[union-attr]
    finally:
        restarted.close()


def test_the_rules_are_loaded_once_until_the_record_moves_in_any_process(app: TaskingApplication,
                                                                           tmp_path: Path) -> None:
    loads: list[int] = []
    load = app.partnership

    def counted() -> Partnership:
        found = load()
        loads.append(found.version)
        return found

    app.partnership = counted  # type: ignore[method-assign]  # a spy: every call still loads the record
    _seat(app)
    assert app.rules.as_of(date(2011, 6, 1)).body("pstg").quorum == 3  # type: ignore[union-attr]
    assert app.rules.as_of(date(2011, 6, 2)).body("pstg").quorum == 3  # type: ignore[union-attr]
    assert loads == [1]  # asked twice, loaded once
    other = TaskingApplication(settings_for(data_dir=tmp_path))  # another process on the same store
    try:
        raised = _decided_at(other, BOARD, date(2011, 6, 1), BOARD_MEMBERS, "Theme groups decide with four")
        other.change_quorum(OFFICER, body="pstg", quorum=4, decision=raised)
    finally:
        other.close()
    assert app.rules.as_of(date(2011, 6, 2)).body("pstg").quorum == 4  # type: ignore[union-attr]
    assert loads == [1, 2]
