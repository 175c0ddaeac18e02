"""Feeding a service's copy of tasking's meetings and memberships as tasking's events would (for unit tests of a
service's decisions at entry, without a tasking service or a transport)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from shared.contracts import Actor, Decision, Fact, contract_type
from shared.contracts.tasking import BodyKind, MeetingEntered, MembershipVersion, PartnerJoined, PartnerLeft
from shared.decisions import minute_book_id
from shared.envelope import Envelope
from shared.meeting_copy import MeetingsCopy
from shared.readstore import ReadStore

OFFICER = Actor("officer-1", "worcestershire-cc", "partnership_officer")
_KINDS = {"worcestershire-partnership": BodyKind.PARTNERSHIP_BOARD, "pstg": BodyKind.THEME_GROUP}


@dataclass
class TaskingFeed:
    """What tasking would publish: memberships and minute-book entries, applied to ``store``'s copy."""

    store: ReadStore
    seats: dict[tuple[str, str], int] = field(default_factory=dict)
    books: dict[str, int] = field(default_factory=dict)

    def _apply(self, subject: uuid.UUID, version: int, fact: Fact) -> None:
        envelope = Envelope(id=f"{subject}:{version}", source="tasking", type=contract_type(type(fact)),
                            subject=str(subject), time=datetime(2011, 1, 1, tzinfo=UTC), sequence=version, data={},
                            actor=OFFICER.user_id, actororganisation=OFFICER.organisation, actorrole=OFFICER.role,
                            correlationid="feed", parsed=fact)
        with self.store.transaction() as tx:
            MeetingsCopy().apply(tx, envelope)

    def seat(self, body: str, organisation: str, joined_on: date = date(2010, 4, 1),
             left_on: date | None = None) -> None:
        subject = uuid.uuid5(uuid.NAMESPACE_URL, f"{body}/{organisation}")
        version = self.seats.get((body, organisation), 0) + 1
        self._apply(subject, version, PartnerJoined(
            actor=OFFICER, correlation_id="feed", body=body, body_kind=_KINDS.get(body, BodyKind.DISTRICT_PARTNERSHIP),
            organisation=organisation, joined_on=joined_on))
        if left_on is not None:
            version += 1
            self._apply(subject, version, PartnerLeft(actor=OFFICER, correlation_id="feed", body=body,
                                                      organisation=organisation, reason="left", left_on=left_on))
        self.seats[(body, organisation)] = version

    def meeting(self, body: str, held_on: date, present: list[str], reason: str = "Decided at the meeting",
                **changes: Any) -> dict[str, Any]:
        """Enter a meeting in the copy; the decision taken at it (as a Decision's fields)."""
        meeting_id = uuid.uuid4()
        entry = self.books.get(body, 0) + 1
        roll = [MembershipVersion(org, self.seats.get((body, org), 0)) for org in present]
        self._apply(minute_book_id(body), entry, MeetingEntered(
            actor=OFFICER, correlation_id="feed", meeting_id=meeting_id, body=body, held_on=held_on,
            title=f"{body} meeting", present=present, roll=roll))
        self.books[body] = entry
        return {"body": body, "decided_on": held_on, "reason": reason, "meeting_id": str(meeting_id),
                "meeting_version": entry, **changes}

    def partnership_change(self, version: int, fact: Fact) -> None:
        """A change of the partnership's rules as tasking publishes it (``version``: the partnership record's; the
        founding is 1), with the contract's data as it travels."""
        from shared.contracts import to_data

        type_name, data = to_data(fact)
        envelope = Envelope(id=f"partnership:{version}", source="tasking", type=type_name, subject="partnership",
                            time=datetime(2011, 1, 1, tzinfo=UTC), sequence=version, data=data,
                            actor=OFFICER.user_id, actororganisation=OFFICER.organisation, actorrole=OFFICER.role,
                            correlationid="feed")
        with self.store.transaction() as tx:
            MeetingsCopy().apply(tx, envelope)

    def decision_json(self, body: str, held_on: date, present: list[str], reason: str = "Decided at the meeting",
                      **changes: Any) -> dict[str, Any]:
        """As ``meeting``, as a command's JSON ``decision`` field."""
        fields = self.meeting(body, held_on, present, reason, **changes)
        return {**fields, "decided_on": held_on.isoformat()}


BOARD_TABLE = ["worcestershire-cc", "nhs-worcestershire", "west-mercia-police", "hw-fire", "chamber-of-commerce"]


def board_decision(store: ReadStore, held_on: date, reason: str) -> dict[str, Any]:
    """A decision of the partnership board at a quorate meeting, fed straight into ``store``'s copy."""
    feed = TaskingFeed(store)
    for organisation in BOARD_TABLE:
        feed.seat("worcestershire-partnership", organisation)
    return feed.decision_json("worcestershire-partnership", held_on, BOARD_TABLE, reason)


def board_meeting(store: ReadStore, held_on: date, reason: str, reference: str | None = None) -> Decision:
    """As ``board_decision``, as the Decision an application is handed."""
    fields = board_decision(store, held_on, reason)
    return Decision(**{**fields, "decided_on": held_on, "reference": reference})


def decision_in_copy(store: ReadStore, body: str, held_on: date, reason: str) -> dict[str, Any]:
    """A decision of ``body`` at a quorate meeting, fed straight into ``store``'s copy (JSON, for a command)."""
    from tests.harness import quorate_table

    feed = TaskingFeed(store)
    present = quorate_table(body)
    for organisation in present:
        feed.seat(body, organisation)
    return feed.decision_json(body, held_on, present, reason)
