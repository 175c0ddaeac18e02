"""Which recorded decisions resolve, and how a reader sees them: the meeting by its title, date and minute
reference, the body by its name.

Reporting keeps its own copy of tasking's meetings and memberships (``shared.meeting_copy``, the consumer
``reporting-meetings``) and judges each decision with the one rule (``shared.decisions.problems_of``), as the audit
does. A decision that does not resolve (a made-up meeting written straight into a store, or one whose meeting has not
reached this copy yet) is left out of what the public and scrutiny read: open data and the packs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from shared.contracts import Decision
from shared.decisions import problems_of
from shared.meeting_copy import CopiedMeetings
from shared.partnership import PartnershipDefinition
from shared.readstore import ReadStore
from shared.rules_history import DistrictOfRecord, FoundedRules, RulesState


@dataclass(frozen=True)
class ShownMeeting:
    """The meeting a decision was taken at, as its body's minute book records it."""

    title: str
    held_on: date
    body: str
    body_name: str
    quorum_as_minuted: str | None = None
    """The minute reference its quorum rests on, for a historic meeting whose attendance was never minuted."""

    @property
    def quorum(self) -> str:
        """How the meeting's quorum is evidenced, in words: "quorum as minuted (<reference>)", or by attendance."""
        return quorum_in_words(self.quorum_as_minuted)


QUORUM_AS_MINUTED = "quorum as minuted"
"""How every reader shows a meeting whose quorum rests on its minute reference alone (``shared.decisions``)."""


def quorum_in_words(minuted: str | None) -> str:
    """A meeting's quorum evidence as shown: "quorum as minuted (<reference>)", or "attendance recorded"."""
    return f"{QUORUM_AS_MINUTED} ({minuted})" if minuted else "attendance recorded"


def decision_of(raw: str | dict[str, Any]) -> Decision:
    """A decision as it rode on an event (JSON), as the rule reads it."""
    values = json.loads(raw) if isinstance(raw, str) else raw
    return Decision(body=values["body"], decided_on=date.fromisoformat(values["decided_on"]),
                    reason=values.get("reason", ""), meeting_id=values.get("meeting_id"),
                    reference=values.get("reference"), meeting_version=values.get("meeting_version"),
                    delegation=values.get("delegation"))


class Provenance:
    """The decision rule and the partnership's names, on reporting's store."""

    def __init__(self, store: ReadStore, rules: FoundedRules, definition: PartnershipDefinition) -> None:
        self.meetings = CopiedMeetings(store)
        self.rules = self.meetings.rules(rules)  # the rules of record as tasking published them, as of any date
        self.definition = definition

    def problems(self, raw: str | dict[str, Any]) -> list[str]:
        """Why the decision does not resolve (empty when it does)."""
        return problems_of(decision_of(raw), rules=self.rules, meetings=self.meetings)

    def resolves(self, raw: str | dict[str, Any]) -> bool:
        return not self.problems(raw)

    def _today(self) -> RulesState:
        return self.rules.as_of_or_founding(self.definition.calendar()())

    def districts_of_record(self) -> dict[str, DistrictOfRecord]:
        """Every district the partnership has had, by today's name; a retired one by its last name."""
        return self.rules.districts_of_record(self.definition.calendar()())

    def district_of_record(self, district: str) -> DistrictOfRecord | None:
        """The district by today's name, or a retired one by its last name (None: the partnership never had it)."""
        found = self.districts_of_record().get(district)
        if found is not None:
            return found
        defined = self.definition.district(district)  # the definition names one before the founding reached us
        return DistrictOfRecord(defined.id, defined.name, defined.partnership) if defined is not None else None

    def body_name(self, body: str) -> str:
        """A body or district partnership by its name (the id only for one the partnership never had): as the rules
        of record name it today; a district partnership retired since by its last name."""
        of_record = self.rules.body_name(body, self.definition.calendar()())
        if of_record is not None:
            return of_record
        found = self.definition.body(body)  # the definition names one before the founding reached us
        if found is not None:
            return found.name
        district = self.definition.district(body)
        return district.partnership if district is not None else body

    def district_name(self, district: str) -> str:
        """A district by today's name; one retired by its last name (the id only for one the partnership never
        had)."""
        found = self.district_of_record(district)
        return found.name if found is not None else district

    def organisation_name(self, organisation: str) -> str:
        found = self.definition.organisation(organisation)
        return found.name if found is not None else organisation

    def scheme_name(self, scheme: str | None) -> str | None:
        if not scheme:
            return None
        in_force = self._today().scheme(scheme)
        if in_force is not None:
            return in_force.name or in_force.id
        found = next((s for s in self.definition.schemes_of_delegation if s.id == scheme), None)
        return (found.name or found.id) if found is not None else scheme

    def meeting(self, raw: str | dict[str, Any]) -> ShownMeeting | None:
        """The meeting the decision names, when it resolves to it (None under delegation or when it does not)."""
        decision = decision_of(raw)
        if not decision.meeting_id or self.problems(raw):
            return None
        record = self.meetings.meeting(UUID(decision.meeting_id))
        if record is None:
            return None
        return ShownMeeting(record.title, record.held_on, record.body, self.body_name(record.body),
                            record.quorum_as_minuted if record.minuted_quorum else None)

    def shown(self, raw: str | dict[str, Any]) -> dict[str, Any]:
        """The decision as a reader sees it: body by name, meeting by title and date, minute reference, reason."""
        decision = decision_of(raw)
        meeting = self.meeting(raw)
        return {"decided_on": decision.decided_on.isoformat(), "body": self.body_name(decision.body),
                "meeting": meeting.title if meeting else "", "meeting_held_on":
                    meeting.held_on.isoformat() if meeting else "",
                "quorum": meeting.quorum if meeting else "",
                "delegation": self.scheme_name(decision.delegation) or "",
                "reference": decision.reference or "", "reason": decision.reason}
