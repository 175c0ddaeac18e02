"""Names, never ids, on every page: the partnership's organisations, bodies and districts by name (from GraphQL's
``partnership``, today's names; a district retired since by its last name, from ``formerDistricts``), meetings by
title and date."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from services.reporting.pack_words import DISTRICT_LABELS

NAMES_QUERY = """
partnership { name organisations { organisationId name kind } bodies { bodyId name kind }
              districts { districtId name partnership } formerDistricts { districtId name partnership retiredOn } }
meetings { id body heldOn title present quorum quorumAsMinuted }
"""
"""Selected by every page that names anything: put inside the page's own query."""


@dataclass
class Names:
    partnership: str
    organisations: dict[str, str]
    bodies: dict[str, str]
    districts: dict[str, str]
    """Today's districts, the ones a person may choose."""
    meetings: dict[str, dict[str, Any]] = field(default_factory=dict)
    retired: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The districts retired since, by id: their last name, district partnership and ``retiredOn``."""

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Names:
        found = data["partnership"]
        bodies = {b["bodyId"]: b["name"] for b in found["bodies"]}
        former = found.get("formerDistricts") or []
        for district in [*found["districts"], *former]:  # a district's body is its district partnership
            bodies.setdefault(district["districtId"], district["partnership"])
        return cls(found["name"], {o["organisationId"]: o["name"] for o in found["organisations"]}, bodies,
                   {d["districtId"]: d["name"] for d in found["districts"]},
                   {m["id"]: m for m in data.get("meetings") or []}, {d["districtId"]: d for d in former})

    def organisation(self, key: str | None) -> str:
        return self.organisations.get(key or "", _readable(key))

    def body(self, key: str | None) -> str:
        return self.bodies.get(key or "", _readable(key))

    def district(self, key: str | None) -> str:
        """A district by today's name; one retired since by its last name."""
        if key in self.retired:
            return str(self.retired[key]["name"])
        return self.districts.get(key or "", _readable(key))

    def district_listed(self, key: str | None) -> str:
        """A district where a page lists the districts of today (shares, roll-ups): a retired one says so."""
        found = self.retired.get(key or "")
        if found is None:
            return self.district(key)
        return f"{found['name']} (retired {long_date(found['retiredOn'])})"

    def label(self, text: str, entity: str | None = None) -> str:
        """A label the API composed from ids ("nhs-worcestershire at pstg"): each id that names an organisation, a
        body or a district given as its name; a district's id as the district where the ``entity``'s label names
        one (a tasking's), else as its district partnership (a membership "at" it)."""
        def named(key: str) -> str:
            district = self.district(key) if key in self.districts or key in self.retired else None
            if district is not None and entity in DISTRICT_LABELS:
                return district
            return self.organisations.get(key) or self.bodies.get(key) or district or key

        return re.sub(r"[a-z0-9][a-z0-9_-]*", lambda m: named(m.group(0)), text)

    def meeting(self, key: str | None) -> str | None:
        """The meeting a decision was taken at, as "its title, held on its date", or None when none is recorded."""
        found = self.meetings.get(key or "")
        if found is None:
            return None
        return f"{found['title']}, {long_date(found['heldOn'])}"


def _readable(key: str | None) -> str:
    """An id the partnership file does not name (a body of another definition): its words, not its hyphens."""
    return (key or "").replace("-", " ").replace("_", " ").capitalize()


def long_date(value: str | date | None) -> str:
    """GOV.UK style: 14 June 2011."""
    if value is None:
        return ""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.day} {day:%B %Y}"


def number(value: str | Decimal | float | int | None) -> str:
    """Figures with thousands separators, no trailing zeros: 6,000; 1,000.5."""
    if value is None:
        return ""
    amount = Decimal(str(value))
    text = f"{amount:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


EVENT_NAMES = {
    "TaskingIssued": "Tasking issued", "TaskingAccepted": "Tasking accepted", "TaskingDeclined": "Tasking declined",
    "TaskingRetasked": "Tasking retasked", "TaskingDeferred": "Tasking deferred", "TaskingClosed": "Tasking closed",
    "MembershipGranted": "Member seated", "MembershipEnded": "Member left the table",
}


def event_name(event_type: str) -> str:
    """``tasking.TaskingRetasked.v1`` -> "Tasking retasked" (a known kind) or its words."""
    name = event_type.split(".")[1] if event_type.count(".") >= 1 else event_type
    if name in EVENT_NAMES:
        return EVENT_NAMES[name]
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
    return words[:1].upper() + words[1:]
