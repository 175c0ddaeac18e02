"""The data-protection register (#16): an erasure or a redaction is a delegated decision of the partnership officer,
recorded as a fact in tasking's chained log; the decision rule refuses any other way of taking it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from services.tasking.application import TaskingApplication
from services.tasking.domain import DATA_PROTECTION_REGISTER_ID
from shared.contracts import Actor, Decision
from shared.decisions import DecisionNotValid
from shared.errors import InvalidCommand
from shared.eventstore import CommandContext
from tests.harness import settings_for

OFFICER = CommandContext(Actor("dpo-1", "worcestershire-cc", "partnership_officer"), "corr-dpo")
MANAGER = CommandContext(Actor("pm-1", "wychavon-dc", "programme_manager", scope="wychavon"), "corr-pm")
DELEGATED = Decision(body="worcestershire-partnership", decided_on=date(2026, 11, 30), reason="erasure request DP-9",
                     delegation="county-officer-data-protection", reference="DP-9")


@pytest.fixture
def app(tmp_path: Path) -> TaskingApplication:
    application = TaskingApplication(settings_for(data_dir=tmp_path))
    yield application  # type: ignore[misc]
    application.close()


def test_an_erasure_is_recorded_as_a_delegated_decision_of_the_partnership_officer(app: TaskingApplication) -> None:
    register = app.record_erasure(OFFICER, decision=DELEGATED, pseudonyms=["person:b", "person:a"],
                                  redacted_texts=3, contact_details_in=["priorities"])
    assert register.id == DATA_PROTECTION_REGISTER_ID and register.erasures == 1
    again = app.record_redaction(OFFICER, decision=DELEGATED, record_id="some-record", record_version=None, keys=2)
    assert (again.version, again.erasures, again.redactions) == (2, 1, 1)
    events = list(app.repository.event_store.get(DATA_PROTECTION_REGISTER_ID))
    assert [type(e).__name__ for e in events] == ["Erased", "RedactedAgain"]
    assert events[0].pseudonyms == ["person:a", "person:b"]  # type: ignore[attr-defined]
    assert events[0].decision.delegation == "county-officer-data-protection"  # type: ignore[attr-defined]


def test_an_erasure_is_not_decided_by_an_officer_the_scheme_does_not_delegate_to(app: TaskingApplication) -> None:
    with pytest.raises(DecisionNotValid, match="delegates to the partnership_officer"):
        app.check_erasure(MANAGER, DELEGATED)
    assert app.register() is None


def test_an_erasure_needs_a_scheme_that_delegates_erasures(app: TaskingApplication) -> None:
    releasing = Decision(body="worcestershire-partnership", decided_on=date(2026, 11, 30), reason="DP-9",
                         delegation="county-officer-evidence-and-release")
    with pytest.raises(DecisionNotValid, match="does not delegate this decision"):
        app.check_erasure(OFFICER, releasing)
    with pytest.raises(DecisionNotValid):  # nor without a meeting or a scheme at all
        app.check_erasure(OFFICER, Decision(body="worcestershire-partnership", decided_on=date(2026, 11, 30),
                                            reason="DP-9"))


def test_an_erasure_that_erased_nothing_is_not_recorded(app: TaskingApplication) -> None:
    with pytest.raises(InvalidCommand, match="Nothing of the person was erased"):
        app.record_erasure(OFFICER, decision=DELEGATED, pseudonyms=[], redacted_texts=0, contact_details_in=[])
    with pytest.raises(InvalidCommand, match="no redaction to record"):
        app.record_redaction(OFFICER, decision=DELEGATED, record_id="r", record_version=1, keys=0)
    assert app.register() is None
