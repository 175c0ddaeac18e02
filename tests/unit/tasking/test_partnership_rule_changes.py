"""The partnership's other rules as history (#23): districts added, renamed and retired, schemes of delegation
replaced, the RAG thresholds and the limit on agreed priorities changed, each by a decision of the right body, from
the decision's date. A decision is judged by the rules in force on its own date: one dated before a change stands,
one dated on or after it meets the new rule."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from services.tasking.application import TaskingApplication
from shared.contracts import Actor, Decision
from shared.contracts.tasking import DelegationScheme
from shared.decisions import DecisionKind, DecisionNotValid, check_decision, problems_of
from shared.errors import InvalidCommand
from shared.eventstore import CommandContext
from tests.harness import settings_for

OFFICER = CommandContext(Actor("officer-1", "worcestershire-cc", "partnership_officer"), "corr-rules")
MANAGER = CommandContext(Actor("pm-1", "wychavon-dc", "programme_manager"), "corr-pm")
BOARD = "worcestershire-partnership"
BOARD_MEMBERS = ["worcestershire-cc", "worcester-city-council", "bromsgrove-dc", "nhs-worcestershire",
                 "west-mercia-police"]
PSTG_THREE = ["worcestershire-cc", "wychavon-dc", "chamber-of-commerce"]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[TaskingApplication]:
    application = TaskingApplication(settings_for(data_dir=tmp_path))
    for organisation in BOARD_MEMBERS:
        application.join(OFFICER, body=BOARD, organisation=organisation, joined_on=date(2010, 1, 1))
    for organisation in PSTG_THREE:
        application.join(OFFICER, body="pstg", organisation=organisation, joined_on=date(2010, 1, 1))
    yield application
    application.close()


def _board(app: TaskingApplication, on: date, reason: str = "The board decides") -> Decision:
    meeting = app.hold_meeting(OFFICER, body=BOARD, held_on=on, present=BOARD_MEMBERS, title=reason)
    return Decision(body=BOARD, decided_on=on, reason=reason, meeting_id=str(meeting.id),
                    meeting_version=app.meeting_version(meeting))


def _pstg(app: TaskingApplication, on: date) -> Decision:
    meeting = app.hold_meeting(OFFICER, body="pstg", held_on=on, present=PSTG_THREE, title="PSTG")
    return Decision(body="pstg", decided_on=on, reason="The PSTG decides", meeting_id=str(meeting.id),
                    meeting_version=app.meeting_version(meeting))


def _delegated(body: str, scheme: str, on: date) -> Decision:
    return Decision(body=body, decided_on=on, reason="Under delegation", delegation=scheme)


def _check(app: TaskingApplication, decision: Decision, kind: DecisionKind, role: str) -> Decision:
    return check_decision(decision, what="The decision", kind=kind, bodies=None, rules=app.rules,
                          meetings=app.meetings, acting_role=role)


def test_a_district_added_by_the_board_exists_from_the_decisions_date_not_before(app: TaskingApplication) -> None:
    partnership = app.add_district(OFFICER, district="pershore", name="Pershore", partnership="Pershore Partnership",
                                   quorum=2, decision=_board(app, date(2012, 4, 1)))
    assert partnership.version == 2
    assert app.rules.as_of(date(2012, 3, 31)).district("pershore") is None  # type: ignore[union-attr]
    added = app.rules.as_of(date(2012, 4, 1))
    assert added is not None and added.district("pershore").name == "Pershore"  # type: ignore[union-attr]
    assert added.body("pershore").quorum == 2 and added.body("pershore").kind == "district_partnership"  # type: ignore[union-attr]
    # A district's id names it for ever: adding it again is refused.
    with pytest.raises(InvalidCommand, match="already names"):
        app.add_district(OFFICER, district="wychavon", name="W", partnership="W P", quorum=3,
                         decision=_board(app, date(2012, 5, 1)))


def test_a_renamed_district_keeps_its_old_name_on_the_days_before_the_renaming(app: TaskingApplication) -> None:
    app.rename_district(OFFICER, district="worcester", name="City of Worcester", partnership="Worcester Alliance",
                        decision=_board(app, date(2013, 1, 10)))
    before, after = app.rules.as_of(date(2013, 1, 9)), app.rules.as_of(date(2013, 1, 10))
    assert before is not None and after is not None
    assert before.district("worcester").name == "Worcester"  # type: ignore[union-attr]
    assert after.district("worcester").name == "City of Worcester"  # type: ignore[union-attr]
    assert after.body("worcester").name == "Worcester Alliance"  # type: ignore[union-attr]
    assert app.partnership().changes[-1].decided_on == date(2013, 1, 10)


def test_a_retired_district_partnership_decides_nothing_dated_after_its_retirement(app: TaskingApplication) -> None:
    before = _delegated("wychavon", "wychavon-programme-manager", date(2014, 3, 31))
    app.retire_district(OFFICER, district="wychavon", decision=_board(app, date(2014, 4, 1)))
    assert _check(app, before, DecisionKind.PROJECT_INTERVENTION, "programme_manager") == before
    after = _delegated("wychavon", "wychavon-programme-manager", date(2014, 4, 1))
    with pytest.raises(DecisionNotValid, match="No body 'wychavon'"):
        _check(app, after, DecisionKind.PROJECT_INTERVENTION, "programme_manager")
    assert problems_of(before, rules=app.rules, meetings=app.meetings) == []
    assert problems_of(after, rules=app.rules, meetings=app.meetings)
    with pytest.raises(InvalidCommand, match="not a district"):
        app.rename_district(OFFICER, district="wychavon", name="X", partnership="Y",
                            decision=_board(app, date(2014, 5, 1)))


def test_schemes_replaced_by_a_decision_delegate_from_its_date(app: TaskingApplication) -> None:
    # Wychavon's programme manager loses RAG overrides from 1 June 2015: a decision under the scheme before stands.
    scheme = DelegationScheme("wychavon-programme-manager", "wychavon", "programme_manager",
                              ["project.intervention"], "Programme manager: interventions only")
    app.change_schemes(OFFICER, body="wychavon", schemes=[scheme], decision=_board(app, date(2015, 6, 1)))
    may = _delegated("wychavon", "wychavon-programme-manager", date(2015, 5, 31))
    june = _delegated("wychavon", "wychavon-programme-manager", date(2015, 6, 1))
    assert _check(app, may, DecisionKind.RAG_OVERRIDE, "programme_manager") == may
    with pytest.raises(DecisionNotValid, match="does not delegate"):
        _check(app, june, DecisionKind.RAG_OVERRIDE, "programme_manager")
    assert _check(app, june, DecisionKind.PROJECT_INTERVENTION, "programme_manager") == june


def test_a_scheme_that_names_another_body_or_an_unknown_decision_is_refused(app: TaskingApplication) -> None:
    decision = _board(app, date(2015, 6, 1))
    with pytest.raises(InvalidCommand, match="delegates for 'redditch'"):
        app.change_schemes(OFFICER, body="wychavon", decision=decision, schemes=[
            DelegationScheme("x", "redditch", "programme_manager", ["project.intervention"])])
    with pytest.raises(InvalidCommand, match="unknown"):
        app.change_schemes(OFFICER, body="wychavon", decision=decision, schemes=[
            DelegationScheme("x", "wychavon", "programme_manager", ["project.teleport"])])
    with pytest.raises(InvalidCommand, match="already used"):
        app.change_schemes(OFFICER, body="wychavon", decision=decision, schemes=[
            DelegationScheme("redditch-programme-manager", "wychavon", "programme_manager", ["project.deferral"])])
    assert app.partnership().version == 1


def test_rag_thresholds_and_the_priority_limit_change_from_the_decisions_date(app: TaskingApplication) -> None:
    app.change_rag_thresholds(OFFICER, green_within_percent=5, amber_within_percent=20,
                              decision=_board(app, date(2012, 4, 1)))
    app.change_priority_limit(OFFICER, limit=4, decision=_board(app, date(2012, 9, 1)))
    march, april, september = (app.rules.as_of(d) for d in (date(2012, 3, 31), date(2012, 4, 1), date(2012, 9, 1)))
    assert march is not None and april is not None and september is not None
    assert (march.rag.green_within_percent, march.rag.amber_within_percent) == (10, 25)
    assert (april.rag.green_within_percent, april.rag.amber_within_percent) == (5, 20)
    assert (april.priority_limit, september.priority_limit) == (5, 4)
    with pytest.raises(InvalidCommand, match="already 4"):
        app.change_priority_limit(OFFICER, limit=4, decision=_board(app, date(2013, 1, 1)))
    with pytest.raises(InvalidCommand, match="green_within_percent <= amber"):
        app.change_rag_thresholds(OFFICER, green_within_percent=30, amber_within_percent=20,
                                  decision=_board(app, date(2013, 1, 1)))


def test_a_back_dated_change_is_checked_against_the_rules_on_its_own_date(app: TaskingApplication) -> None:
    app.change_priority_limit(OFFICER, limit=3, decision=_board(app, date(2013, 1, 1)))
    # Recorded later, decided earlier: it says what the limit was on its date (5), not the latest (3).
    partnership = app.change_priority_limit(OFFICER, limit=4, decision=_board(app, date(2012, 6, 1)))
    assert partnership.changes[-1].decided_on == date(2012, 6, 1)
    assert [app.rules.as_of(d).priority_limit for d in  # type: ignore[union-attr]
            (date(2012, 5, 31), date(2012, 6, 1), date(2013, 1, 1))] == [5, 4, 3]


def test_a_rule_change_is_the_boards_decision_not_a_theme_groups(app: TaskingApplication) -> None:
    by_the_board = "decided by the Worcestershire Partnership Board, not by the Place Shaping Theme Group"
    with pytest.raises(DecisionNotValid, match=by_the_board):
        app.change_priority_limit(OFFICER, limit=4, decision=_pstg(app, date(2012, 6, 1)))
    with pytest.raises(DecisionNotValid, match="decided by"):
        app.add_district(OFFICER, district="pershore", name="Pershore", partnership="P", quorum=3,
                         decision=_pstg(app, date(2012, 6, 1)))
    assert app.partnership().version == 1


def test_tasking_knows_a_district_from_the_day_it_was_added_until_the_day_it_was_retired(
        app: TaskingApplication) -> None:
    app.add_district(OFFICER, district="pershore", name="Pershore", partnership="Pershore Partnership", quorum=2,
                     decision=_board(app, date(2012, 4, 1)))
    with pytest.raises(InvalidCommand, match="No body 'pershore'"):
        app.join(OFFICER, body="pershore", organisation="wychavon-dc", joined_on=date(2012, 3, 31))
    assert app.join(OFFICER, body="pershore", organisation="wychavon-dc", joined_on=date(2012, 4, 1)).is_member
    app.retire_district(OFFICER, district="pershore", decision=_board(app, date(2014, 4, 1)))
    assert app.hold_meeting(OFFICER, body="pershore", held_on=date(2014, 3, 31), present=["wychavon-dc"]) is not None
    with pytest.raises(InvalidCommand, match="No body 'pershore'"):
        app.hold_meeting(OFFICER, body="pershore", held_on=date(2014, 4, 1), present=["wychavon-dc"])
