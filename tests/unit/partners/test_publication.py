"""A period's performance figures are released for public display only by a decision, once the period is over."""

from __future__ import annotations

from datetime import date

import pytest

from services.priorities.publication import PublicationRecord
from shared.contracts import Actor, Decision
from shared.contracts.priorities import PUBLICATION_RECORD_ID
from shared.errors import InvalidCommand, RuleViolated
from shared.eventstore import CommandContext

OFFICER = CommandContext(Actor("officer-1", "worcestershire-cc", "partnership_officer"), "c-1")
TODAY = date(2013, 8, 1)
BOARD = Decision(body="worcestershire-partnership", decided_on=date(2013, 7, 15),
                 reason="Q1 figures checked by the performance team", reference="WPB-2013-07-3")


def _first(starts_on: date = date(2013, 4, 1), ends_on: date = date(2013, 6, 30)) -> PublicationRecord:
    return PublicationRecord.first_release(OFFICER, starts_on=starts_on, ends_on=ends_on, decision=BOARD, today=TODAY)


def test_a_release_records_the_period_and_the_decision() -> None:
    record = _first()
    assert record.id == PUBLICATION_RECORD_ID and record.released == [(date(2013, 4, 1), date(2013, 6, 30))]
    [event] = record.collect_events()
    assert event.decision == BOARD and event.actor == OFFICER.actor


def test_figures_are_released_only_by_a_decision_with_a_reason() -> None:
    with pytest.raises(InvalidCommand, match="which body approved"):
        PublicationRecord.first_release(OFFICER, starts_on=date(2013, 4, 1), ends_on=date(2013, 6, 30),
                                        decision=None, today=TODAY)


def test_a_period_is_released_only_after_it_ends() -> None:
    with pytest.raises(InvalidCommand, match="after the period ends"):
        _first(ends_on=date(2013, 9, 30))


def test_the_release_is_approved_on_final_figures_after_the_period_ends() -> None:
    early = Decision(body="board", decided_on=date(2013, 6, 1), reason="in advance")
    with pytest.raises(InvalidCommand, match="final figures"):
        PublicationRecord.first_release(OFFICER, starts_on=date(2013, 4, 1), ends_on=date(2013, 6, 30),
                                        decision=early, today=TODAY)


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidCommand, match="ends before it starts"):
        _first(starts_on=date(2013, 6, 30), ends_on=date(2013, 4, 1))


def test_released_figures_are_not_released_again() -> None:
    record = _first()
    with pytest.raises(RuleViolated, match="overlaps"):
        record.release(OFFICER, starts_on=date(2013, 6, 1), ends_on=date(2013, 7, 10), decision=BOARD, today=TODAY)
    record.release(OFFICER, starts_on=date(2013, 1, 1), ends_on=date(2013, 3, 31), decision=BOARD, today=TODAY)
    assert len(record.released) == 2
