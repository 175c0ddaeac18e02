"""Old versions of an event keep working: a stored v1 event and a published v1 message are both read as v2."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

from services.projects.domain import Project
from shared.contracts import Actor, contract_of, contract_type, to_data
from shared.contracts.projects import (
    OutcomeValue,
    ProgressReported,
    ProgressReportedV1,
    Rag,
    Submission,
)
from shared.envelope import Envelope, decode, encode
from shared.eventstore import AccountableAggregate

COLLEGE = Actor("client:college-mis", "worcester-college", "partner_officer")


def _v1_message() -> bytes:
    fact = ProgressReportedV1(actor=COLLEGE, correlation_id="c-1", reported_on=date(2013, 4, 1),
                              values=(OutcomeValue("jobs", Decimal(150)),),
                              actuals=(OutcomeValue("jobs", Decimal(150)),), narrative="Cohort 1 placed",
                              rag=Rag.RED, shortfall_percent=Decimal("38.5"))
    type_name, data = to_data(fact)
    assert type_name == "projects.ProgressReported.v1"
    return encode(Envelope(id="x:2", source="/services/projects", type=type_name, subject=str(uuid4()),
                           time=datetime(2013, 4, 1, tzinfo=UTC), sequence=2, data=data, actor=COLLEGE.user_id,
                           actororganisation=COLLEGE.organisation, actorrole=COLLEGE.role, correlationid="c-1"))


def test_a_published_v1_message_is_read_as_the_current_version() -> None:
    envelope = decode(_v1_message())
    assert envelope.type == "projects.ProgressReported.v3"  # handlers keyed by the current type apply it
    fact = envelope.fact()
    assert isinstance(fact, ProgressReported)
    assert fact.submitted_via == Submission.API and fact.narrative == "Cohort 1 placed"
    assert fact.parts == ()  # v1 -> v2 -> v3: no ratio could be reported then


def test_a_stored_v1_event_is_upcast_by_the_domain_event_class() -> None:
    state: dict[str, Any] = json.loads('{"narrative": "Cohort 1 placed"}')
    Project.ProgressReported.upcast_v1_v2(state)
    Project.ProgressReported.upcast_v2_v3(state)
    assert state["submitted_via"] == "api" and state["parts"] == []
    assert Project.ProgressReported.class_version == 3
    assert contract_type(ProgressReported) == "projects.ProgressReported.v3"


def _event_classes(cls: type) -> list[type]:
    return [cls, *(c for sub in cls.__subclasses__() for c in _event_classes(sub))]


def test_each_stored_event_class_is_at_its_contracts_version_with_an_upcaster_per_step() -> None:
    """Bumping a contract's version without ``class_version`` and ``upcast_vN_vN+1`` would leave old stored
    events unreadable; this finds it before a store does."""
    import services.priorities.domain
    import services.tasking.domain  # noqa: F401  (the domain event classes register as subclasses)

    checked = 0
    for event_class in _event_classes(AccountableAggregate.Event):
        try:
            contract = contract_of(event_class)
        except TypeError:
            continue
        version = int(contract_type(contract).rsplit(".v", 1)[1])
        assert getattr(event_class, "class_version", 1) == version, event_class.__qualname__
        for step in range(1, version):
            assert callable(getattr(event_class, f"upcast_v{step}_v{step + 1}", None)), event_class.__qualname__
        checked += 1
    assert checked > 30
