"""The decision rule: a body of the partnership on the decision's date, a meeting of it recorded as held that day,
quorate by the members of that day, or a scheme of delegation for that body, that kind of decision and that role."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import pytest

from shared.contracts import Decision
from shared.decisions import (
    BodyRule,
    DecisionKind,
    DecisionNotValid,
    MeetingNotYetKnown,
    MeetingRecord,
    Period,
    PerPartner,
    RulesInForce,
    SchemeOfDelegation,
    check_decision,
    problems_of,
)
from shared.partnership import rules

RULES = rules()
MAY = date(2011, 5, 10)
PSTG_PRESENT = ("worcestershire-cc", "chamber-of-commerce", "worcester-college")


@dataclass
class Records(PerPartner):
    """Meetings and memberships as a service knows them (tasking's own, or a copy that may lag)."""

    authoritative: bool = True
    meetings: dict[uuid.UUID, MeetingRecord] = field(default_factory=dict)
    books: dict[str, int] = field(default_factory=dict)
    seats: dict[tuple[str, str], tuple[int, list[Period]]] = field(default_factory=dict)

    def seat(self, body: str, organisation: str, joined_on: date, left_on: date | None = None) -> None:
        version, periods = self.seats.get((body, organisation), (0, []))
        self.seats[(body, organisation)] = (version + 1 + (left_on is not None), [*periods, Period(joined_on, left_on)])

    def hold(self, body: str, held_on: date, present: tuple[str, ...]) -> MeetingRecord:
        entry = self.books.get(body, 0) + 1
        roll = tuple((org, self.membership_version(body, org)) for org in present)
        record = MeetingRecord(uuid.uuid4(), body, held_on, f"{body} meeting", present, entry, roll)
        self.meetings[record.id], self.books[body] = record, entry
        return record

    def minute_book_version(self, body: str) -> int:
        return self.books.get(body, 0)

    def meeting(self, meeting_id: uuid.UUID) -> MeetingRecord | None:
        return self.meetings.get(meeting_id)

    def membership_version(self, body: str, organisation: str) -> int:
        return self.seats.get((body, organisation), (0, []))[0]

    def member_on(self, body: str, organisation: str, day: date) -> bool:
        return any(p.covers(day) for p in self.seats.get((body, organisation), (0, []))[1])


def seated() -> Records:
    records = Records()
    for org in PSTG_PRESENT:
        records.seat("pstg", org, date(2010, 4, 1))
    return records


def at(meeting: MeetingRecord, **changes: object) -> Decision:
    values: dict[str, object] = {"body": meeting.body, "decided_on": meeting.held_on, "reason": "Shares agreed",
                                 "meeting_id": str(meeting.id), "meeting_version": meeting.entry}
    values.update(changes)
    return Decision(**values)  # type: ignore[arg-type]


def check(decision: Decision | None, records: Records, *, bodies: set[str] | None = None,
          kind: DecisionKind = DecisionKind.TASKING, role: str | None = None, rules_: object = RULES) -> Decision:
    return check_decision(decision, what="A tasking", kind=kind, bodies=bodies, rules=rules_,  # type: ignore[arg-type]
                          meetings=records, acting_role=role)


def refusal(decision: Decision | None, records: Records, **kwargs: object) -> DecisionNotValid:
    with pytest.raises(DecisionNotValid) as refused:
        check(decision, records, **kwargs)  # type: ignore[arg-type]
    assert refused.value.status == 422
    return refused.value


def test_a_decision_at_a_quorate_meeting_of_its_body_on_its_date_resolves() -> None:
    records = seated()
    meeting = records.hold("pstg", MAY, PSTG_PRESENT)
    assert check(at(meeting), records, bodies={"pstg"}) == at(meeting)


def test_a_decision_by_a_body_the_partnership_does_not_have_is_refused() -> None:
    records = seated()
    refused = refusal(at(records.hold("pstg", MAY, PSTG_PRESENT), body="no-such-body"), records)
    assert (refused.code, refused.problems[0]["field"]) == ("unknown-body", "decision.body")


def test_a_decision_dated_before_the_partnership_existed_is_refused() -> None:
    records = seated()
    refused = refusal(at(records.hold("pstg", MAY, PSTG_PRESENT), decided_on=date(1900, 1, 1)), records)
    assert refused.code == "unknown-body" and "1900-01-01" in refused.message


def test_a_decision_at_a_meeting_that_was_not_held_is_refused() -> None:
    records = seated()
    records.hold("pstg", MAY, PSTG_PRESENT)
    made_up = Decision("pstg", MAY, "Shares agreed", meeting_id=str(uuid.uuid4()), meeting_version=1)
    refused = refusal(made_up, records)
    assert (refused.code, refused.problems[0]["field"]) == ("meeting-not-held", "decision.meeting_id")


def test_a_malformed_meeting_id_is_refused_as_a_meeting_not_held() -> None:
    refused = refusal(Decision("pstg", MAY, "Shares agreed", meeting_id="bogus", meeting_version=1), seated())
    assert (refused.code, refused.problems[0]["field"]) == ("meeting-not-held", "decision.meeting_id")


def test_a_decision_naming_no_meeting_is_refused() -> None:
    refused = refusal(Decision("pstg", MAY, "Shares agreed"), seated())
    assert refused.code == "meeting-not-held"


def test_a_decision_without_the_meeting_version_is_refused() -> None:
    records = seated()
    refused = refusal(at(records.hold("pstg", MAY, PSTG_PRESENT), meeting_version=None), records)
    assert (refused.code, refused.problems[0]["field"]) == ("meeting-not-held", "decision.meeting_version")


def test_a_decision_at_a_meeting_of_another_body_is_refused() -> None:
    records = seated()
    refused = refusal(at(records.hold("pstg", MAY, PSTG_PRESENT), body="worcester"), records)
    assert refused.code == "meeting-not-held"
    assert "of the Place Shaping Theme Group, not of the Worcester Alliance" in refused.message


def test_a_meeting_that_does_not_match_its_decision_is_named_by_its_body_and_title_not_only_its_id() -> None:
    records = seated()
    meeting = records.hold("pstg", MAY, PSTG_PRESENT)
    wrong_day = refusal(at(meeting, decided_on=date(2011, 5, 17)), records).message
    assert wrong_day.startswith("The meeting 'pstg meeting' of the Place Shaping Theme Group")
    assert "was held on 2011-05-10, not on 2011-05-17" in wrong_day
    wrong_entry = refusal(at(meeting, meeting_version=7), records).message
    assert "'pstg meeting' of the Place Shaping Theme Group" in wrong_entry
    never = refusal(at(meeting, meeting_id=str(uuid.uuid4())), records).message
    assert "of the Place Shaping Theme Group was recorded as held" in never


def test_a_decision_dated_other_than_its_meeting_is_refused() -> None:
    records = seated()
    refused = refusal(at(records.hold("pstg", MAY, PSTG_PRESENT), decided_on=date(2011, 5, 11)), records)
    assert (refused.code, refused.problems[0]["field"]) == ("meeting-not-held", "decision.decided_on")


def test_a_copy_older_than_the_named_meeting_version_answers_retry() -> None:
    tasking = seated()
    meeting = tasking.hold("pstg", MAY, PSTG_PRESENT)
    copy = Records(authoritative=False, seats=dict(tasking.seats))
    with pytest.raises(MeetingNotYetKnown) as retry:
        check(at(meeting), copy)
    assert retry.value.status == 503 and retry.value.details["retry_after"] == 2


def test_a_copy_at_the_named_version_that_lacks_the_meeting_refuses_it() -> None:
    tasking = seated()
    tasking.hold("pstg", MAY, PSTG_PRESENT)
    copy = Records(authoritative=False, seats=dict(tasking.seats), books={"pstg": 1})
    refused = refusal(Decision("pstg", MAY, "x y z", meeting_id=str(uuid.uuid4()), meeting_version=1), copy)
    assert refused.code == "meeting-not-held"


def test_a_copy_that_has_not_heard_of_the_memberships_behind_the_meeting_answers_retry() -> None:
    tasking = seated()
    meeting = tasking.hold("pstg", MAY, PSTG_PRESENT)
    copy = Records(authoritative=False, meetings=dict(tasking.meetings), books=dict(tasking.books))
    with pytest.raises(MeetingNotYetKnown):
        check(at(meeting), copy)
    copy.seats = dict(tasking.seats)
    assert check(at(meeting), copy) == at(meeting)


@dataclass
class AskedCopy(Records):
    """A copy that writes down each time the memberships are asked for (each is a query on a real copy)."""

    asked: list[tuple[str, ...]] = field(default_factory=list)

    def memberships(self, body: str, organisations: Sequence[str], day: date) -> dict[str, tuple[int, bool]]:
        self.asked.append(tuple(organisations))
        return super().memberships(body, organisations, day)


def test_a_copy_reads_the_seats_of_the_roll_and_of_those_present_in_one_ask() -> None:
    tasking = seated()
    tasking.seat("pstg", "late-comer", date(2011, 6, 1))  # present in May, not yet a member: not counted
    meeting = tasking.hold("pstg", MAY, (*PSTG_PRESENT, "late-comer"))
    copy = AskedCopy(authoritative=False, meetings=dict(tasking.meetings), books=dict(tasking.books),
                     seats=dict(tasking.seats))
    assert check(at(meeting), copy) == at(meeting)
    assert copy.asked == [tuple(sorted((*PSTG_PRESENT, "late-comer")))]
    copy.seats.pop(("pstg", "worcester-college"))  # one of three gone from the copy: behind, so retry
    with pytest.raises(MeetingNotYetKnown):
        check(at(meeting), copy)


def test_quorum_counts_the_members_of_the_meeting_date() -> None:
    records = Records()
    records.seat("pstg", "worcestershire-cc", date(2010, 4, 1))
    records.seat("pstg", "chamber-of-commerce", date(2010, 4, 1), left_on=date(2011, 5, 1))  # gone by May
    records.seat("pstg", "worcester-college", date(2011, 6, 1))  # not yet a member in May
    may = records.hold("pstg", MAY, PSTG_PRESENT)
    refused = refusal(at(may), records)
    assert refused.code == "not-quorate" and "1 member(s) present, 3 needed" in refused.message
    april = records.hold("pstg", date(2011, 4, 12), ("worcestershire-cc", "chamber-of-commerce"))
    assert "2 member(s) present" in refusal(at(april), records).message


def test_a_decision_at_an_inquorate_meeting_is_refused() -> None:
    records = seated()
    thin = records.hold("pstg", MAY, PSTG_PRESENT[:2])
    refused = refusal(at(thin), records)
    assert (refused.code, refused.details["quorum"], refused.details["members_present"]) == ("not-quorate", 3, 2)


def test_a_present_partner_that_is_not_a_member_does_not_count_towards_quorum() -> None:
    records = seated()
    meeting = records.hold("pstg", MAY, (*PSTG_PRESENT[:2], "west-mercia-police"))
    assert refusal(at(meeting), records).code == "not-quorate"


def test_a_decision_by_a_body_not_entitled_to_take_it_is_refused() -> None:
    records = seated()
    refused = refusal(at(records.hold("pstg", MAY, PSTG_PRESENT)), records, bodies={"worcester"})
    assert (refused.code, refused.problems[0]["field"]) == ("wrong-body", "decision.body")
    assert "is decided by the Worcester Alliance (Worcester City LSP), not by the Place Shaping Theme Group" \
        in refused.message


def test_a_delegated_decision_needs_a_scheme_of_that_body_for_that_kind_of_decision_and_that_role() -> None:
    delegated = Decision("worcester", MAY, "Business park red", delegation="worcester-programme-manager")
    kind = DecisionKind.PROJECT_INTERVENTION
    assert check(delegated, Records(), kind=kind, role="programme_manager") == delegated
    assert refusal(delegated, Records(), kind=kind, role="partner_officer").code == "not-delegated"
    assert refusal(delegated, Records(), kind=DecisionKind.PROJECT_CLOSURE, role="programme_manager").code \
        == "not-delegated"
    other = Decision("wychavon", MAY, "Business park red", delegation="worcester-programme-manager")
    assert refusal(other, Records(), kind=kind, role="programme_manager").code == "not-delegated"
    unknown = Decision("worcester", MAY, "Business park red", delegation="anyone-may")
    assert refusal(unknown, Records(), kind=kind, role="programme_manager").problems[0]["field"] \
        == "decision.delegation"


class _Dated:
    """Rules that change: the Health theme group exists from 2012 only, with a quorum of 2."""

    class _On:
        def __init__(self, day: date) -> None:
            self.day = day

        def body(self, body_id: str) -> BodyRule | None:
            if body_id == "health-theme-group" and self.day >= date(2012, 1, 1):
                return BodyRule(body_id, "Health and Wellbeing Theme Group", "theme_group", 2)
            return None

        def scheme(self, scheme_id: str) -> SchemeOfDelegation | None:
            return None

    def as_of(self, day: date) -> RulesInForce:
        return self._On(day)


def test_the_rules_checked_are_those_in_force_on_the_decision_date() -> None:
    records = Records()
    for org in ("nhs-worcestershire", "worcestershire-cc"):
        records.seat("health-theme-group", org, date(2010, 4, 1))
    early = records.hold("health-theme-group", MAY, ("nhs-worcestershire", "worcestershire-cc"))
    assert refusal(at(early), records, rules_=_Dated()).code == "unknown-body"
    later = records.hold("health-theme-group", date(2012, 2, 1), ("nhs-worcestershire", "worcestershire-cc"))
    assert check(at(later), records, rules_=_Dated()) == at(later)  # quorum 2 in force then


def test_the_audit_says_why_a_stored_decision_does_not_resolve() -> None:
    records = seated()
    meeting = records.hold("pstg", MAY, PSTG_PRESENT)
    assert problems_of(at(meeting), rules=RULES, meetings=records) == []
    assert "not a meeting id" in problems_of(at(meeting, meeting_id="bogus"), rules=RULES, meetings=records)[0]
    assert problems_of(Decision("no-such-body", date(1900, 1, 1), "x"), rules=RULES, meetings=records)


@dataclass
class ArrivingCopy(Records):
    """A copy whose meeting commits between the rule's first and second read of it."""

    arriving: MeetingRecord | None = None
    reads: int = 0

    def _read(self) -> None:
        self.reads += 1
        if self.reads == 2 and self.arriving is not None:
            self.meetings[self.arriving.id], self.books[self.arriving.body] = self.arriving, self.arriving.entry

    def minute_book_version(self, body: str) -> int:
        self._read()
        return super().minute_book_version(body)

    def meeting(self, meeting_id: uuid.UUID) -> MeetingRecord | None:
        self._read()
        return super().meeting(meeting_id)


def test_a_meeting_arriving_while_the_rule_reads_the_copy_is_never_called_not_held() -> None:
    owner = seated()
    meeting = owner.hold("pstg", MAY, PSTG_PRESENT)
    copy = ArrivingCopy(authoritative=False, seats=dict(owner.seats), arriving=meeting)
    assert check(at(meeting), copy, bodies={"pstg"}) == at(meeting)  # not "no meeting ... recorded as held"
