"""The scrutiny pack in words a committee reads: organisations, bodies and districts by name (never their ids),
people by role and organisation, dates as "14 June 2011", and each decision of the period once, as a sentence that
names the body, the meeting (title and date) or the scheme of delegation, the minute reference and the reason.

Pure functions over what the read models hold (the event log's payloads, the partnership's definition): no query
here, so a rebuilt pack words everything as the live one did.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from services.reporting.provenance import Provenance

NOTHING = "not set"
"""What a value that was never given reads as (never Python's ``None``)."""


def long_date(value: str | date | None) -> str:
    """14 June 2011; "no date" when there is none."""
    if not value:
        return "no date"
    day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return f"{day.day} {day:%B %Y}"


def quantity(value: Any) -> str:
    """1,200; 1,000.5; "not set"."""
    if value is None or value == "":
        return NOTHING
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    text = f"{amount:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def role_words(role: str | None) -> str:
    return (role or "").replace("_", " ")


@dataclass(frozen=True)
class Namer:
    """Ids the partnership has had, given as their names (``Provenance``), remembered for the one pack it words: a
    pack names the same few districts and bodies thousands of times, and reads the records at one moment."""

    provenance: Provenance
    _known: dict[tuple[str, str, bool], str] = field(default_factory=dict, compare=False, repr=False)
    _ids: dict[bool, dict[str, str]] = field(default_factory=dict, compare=False, repr=False)

    def _remembered(self, kind: str, key: str, districts: bool, name: Callable[[], str]) -> str:
        if (kind, key, districts) not in self._known:
            self._known[(kind, key, districts)] = name()
        return self._known[(kind, key, districts)]

    def organisation(self, key: str | None) -> str:
        return self.provenance.organisation_name(key) if key else NOTHING

    def body(self, key: str | None) -> str:
        return self._remembered("body", key, False, lambda: self.provenance.body_name(key)) if key else NOTHING

    def district(self, key: str | None) -> str:
        return self._remembered("district", key, True, lambda: self.provenance.district_name(key)) if key \
            else NOTHING

    def person(self, organisation: str | None, role: str | None) -> str:
        """A person by role and organisation (no personal name: packs are published)."""
        who = self.organisation(organisation)
        return f"{who}'s {role_words(role)}" if role else who

    def district_listed(self, key: str | None, on: date) -> str:
        """A district in a list of the districts of ``on``: by its name, marked when it was retired by then."""
        found = self.provenance.district_of_record(key) if key else None
        if found is None:
            return self.district(key)
        return f"{found.name} (retired {long_date(found.retired_on)})" if found.retired_on and \
            found.retired_on <= on else found.name

    def ids(self, districts: bool = True) -> dict[str, str]:
        """Every id the partnership names, with its name as records give it (``Provenance``): a district's id names
        the district (a retired one by its last name), or with ``districts=False`` its district partnership (the body
        of the same id)."""
        cached = self._ids.get(districts)
        if cached is None:
            definition = self.provenance.definition
            cached = {o.id: o.name for o in definition.organisations}
            cached.update({b.id: self.body(b.id) for b in definition.bodies})
            cached.update({d.id: d.name if districts else d.partnership
                           for d in self.provenance.districts_of_record().values()})
            self._ids[districts] = cached
        return cached

    def text(self, text: str | None, districts: bool = True) -> str:
        """A label the read models composed from ids ("nhs-worcestershire at pstg") with each id as its name; a
        district's id as the district's (``districts``) or its district partnership's."""
        if text is None:
            return NOTHING
        names = self.ids(districts)
        return re.sub(r"(?<![\w-])[a-z0-9][a-z0-9_-]*(?![\w-])", lambda m: names.get(m.group(0), m.group(0)), text)


DISTRICT_LABELS = frozenset({"tasking", "district chapter"})
"""The tracked entities whose label (``services.reporting.changes``) names a district: there a district's id is the
district; in the others (a membership "at" a body, an agreed action) it is its district partnership."""

BODY_FIELDS = frozenset({"body", "nominated_by", "theme_group"})
"""Fields whose value is a body's id: a district's id there is its district partnership."""


def label_words(namer: Namer, entity: str, label: str) -> str:
    """A tracked entity's label in words: each id as its name, a district's as the entity's label means it."""
    return namer.text(label, districts=entity in DISTRICT_LABELS)


def value_words(namer: Namer, field: str, value: Any) -> str:
    """One field's value in words: an organisation, body or district by its name, a date in full, a figure with its
    thousands, nothing given as "not set"."""
    if value is None or value == "" or value == []:
        return NOTHING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return namer.text(json.dumps(value, sort_keys=True), districts=field not in BODY_FIELDS)
    text = str(value)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return long_date(text)
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return quantity(text)
    return namer.text(text, districts=field not in BODY_FIELDS)


def field_words(field: str) -> str:
    return field.replace("_", " ")


# -- decisions as sentences ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What a decision's sentence needs beyond its own event: the targets' metrics and units, the taskings' shares
    and the projects' titles (by id), as the read models hold them; ``tasking_at``: a tasking as it stood when an
    event was recorded (an acceptance names the share it accepted, not the share a later retasking left)."""

    targets: dict[str, dict[str, Any]]
    taskings: dict[str, dict[str, Any]]
    projects: dict[str, dict[str, Any]]
    tasking_at: Callable[[str, str], dict[str, Any] | None]

    def unit_of(self, target_id: str | None) -> str:
        found = self.targets.get(target_id or "")
        return found["unit"] if found else ""


def _what(kind: str, data: dict[str, Any], subject: str, namer: Namer, context: Context, time: str) -> str:
    """What was decided, as the predicate of a sentence whose subject is the deciding body."""
    tasking = context.tasking_at(subject, time) or context.taskings.get(subject, {})
    unit = data.get("unit") or tasking.get("unit") or context.unit_of(data.get("target_id") or tasking.get("target_id"))
    if kind == "TaskingRetasked":
        moved = Decimal(str(data["previous_share"])) - Decimal(str(data["share"]))
        before = f"{namer.district(data['previous_district'])}'s {quantity(data['previous_share'])} {unit}".strip()
        return (f"retasked {before}: {namer.district(data['district'])} keeps {quantity(data['share'])} "
                f"(led by {namer.organisation(data['lead_partner'])}) and the other {quantity(moved)} are tasked "
                "to another district")
    if kind == "TaskingIssued":
        return (f"tasked {namer.district(data.get('district'))} with {quantity(data.get('share'))} {unit}, led by "
                f"{namer.organisation(data.get('lead_partner'))}, by {long_date(data.get('deadline'))}")
    if kind in {"TaskingAccepted", "TaskingDeclined", "TaskingWithdrawn", "TaskingCompleted", "TaskingDeferred"}:
        verb = kind.removeprefix("Tasking").lower()
        share = f"{quantity(tasking.get('share'))} {unit}".strip() if tasking else "its share"
        where = namer.district(tasking.get("district")) if tasking else "the district"
        return f"{verb} {where}'s tasking of {share}"
    if kind == "TargetSet" or kind == "TargetRevised":
        verb = "set" if kind == "TargetSet" else "revised"
        return (f"{verb} the target of {quantity(data.get('target_value'))} {data.get('unit', '')} "
                f"({data.get('metric', '')}) by {long_date(data.get('deadline'))}")
    if kind == "ObjectiveAdded":
        return f"added the objective \u201c{data.get('title', '')}\u201d to the {data.get('strategy', 'strategy')}"
    if kind in {"ChapterPriorityAgreed", "PriorityAgreed"}:
        title = data.get("title")
        return f"agreed the priority \u201c{title}\u201d" if title else \
            f"agreed {namer.district(data.get('district'))}'s priority"
    if kind == "EvidenceAccepted":
        return "accepted evidence into the evidence base"
    if kind == "ProjectOpened":
        return (f"opened the project \u201c{data.get('title', '')}\u201d in {namer.district(data.get('district'))}, "
                f"led by {namer.organisation(data.get('lead_partner'))}")
    if kind == "InterventionRecorded":
        project = context.projects.get(subject, {})
        return (f"decided an intervention on \u201c{project.get('title', 'the project')}\u201d: "
                f"{data.get('description', '')}")
    if kind == "ScrutinyPackPublished":
        return (f"published the scrutiny pack for {data.get('committee', 'the committee')}'s meeting on "
                f"{long_date(data.get('meeting_on'))}")
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in kind).strip()
    return f"decided: {words}"


RANK = {"TaskingRetasked": 0, "ChapterPriorityAgreed": 1}
"""Of the events one decision made, the one whose words say it best (a retasking issues the new share too)."""


def decision_key(raw: str | dict[str, Any]) -> str:
    """One decision however many events it made: its body, date, meeting, minute, reason and scheme."""
    decision = json.loads(raw) if isinstance(raw, str) else raw
    return json.dumps({k: decision.get(k) for k in ("body", "decided_on", "meeting_id", "reference", "reason",
                                                   "delegation")}, sort_keys=True)


def decisions_in_words(rows: list[dict[str, Any]], namer: Namer, provenance: Provenance,
                       context: Context) -> list[dict[str, Any]]:
    """Each decision once (the events it made grouped by the decision they carry), as a sentence; ``rows``: the
    event log's rows of the period, in order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(decision_key(row["decision"]), []).append(row)
    found = []
    for group in groups.values():
        kinds = [(r["type"].split(".")[1] if r["type"].count(".") >= 2 else r["type"]) for r in group]
        order = sorted(range(len(group)), key=lambda i: (RANK.get(kinds[i], 9), i))
        seen: list[str] = []
        for i in order:  # one clause per distinct predicate: a retasking's issue is said by the retasking
            if kinds[i] == "TaskingIssued" and "TaskingRetasked" in kinds:
                continue
            if kinds[i] == "PriorityAgreed" and "ChapterPriorityAgreed" in kinds:
                continue
            clause = _what(kinds[i], json.loads(group[i]["data"]), group[i]["subject"], namer, context,
                           group[i]["time"])
            if clause not in seen:
                seen.append(clause)
        if "TaskingRetasked" in kinds:  # name the district the moved share went to
            retasked = {group[i]["subject"] for i in range(len(group)) if kinds[i] == "TaskingRetasked"}
            issued = [json.loads(group[i]["data"]) for i in range(len(group))
                      if kinds[i] == "TaskingIssued" and group[i]["subject"] not in retasked]
            if issued:
                seen[0] = seen[0].replace(
                    "tasked to another district",
                    "tasked to " + " and ".join(namer.district(d.get("district")) for d in issued))
        decision = json.loads(group[0]["decision"])
        said = sentence(decision, "; and ".join(seen), namer, provenance,
                        recorded_by=namer.person(group[0]["actor_organisation"], group[0]["actor_role"]))
        entered = min(r["time"] for r in group)[:10]  # the day it was entered into the records (UTC)
        said["entered_on"] = "" if entered == said["decided_on"] else entered
        found.append(said)
    found.sort(key=lambda d: (d["decided_on"], d["body"], d["sentence"]))
    return found


def sentence(decision: dict[str, Any], what: str, namer: Namer, provenance: Provenance,
             recorded_by: str) -> dict[str, Any]:
    """The decision as a sentence and its parts: who decided, where (meeting title and date, or the scheme of
    delegation), the minute reference and the reason."""
    body = namer.body(decision.get("body"))
    meeting = provenance.meeting(decision)
    scheme = provenance.scheme_name(decision.get("delegation"))
    on = long_date(decision.get("decided_on"))
    if meeting is not None:
        where = f"at its meeting \u201c{meeting.title}\u201d on {long_date(meeting.held_on)}"
        meeting_text = f"{meeting.title}, {long_date(meeting.held_on)}"
        if meeting.quorum_as_minuted:  # a historic meeting without its attendance: the minutes' word for its quorum
            where += f", {meeting.quorum}"
            meeting_text += f", {meeting.quorum}"
    elif scheme:
        where = f"on {on}, under the scheme of delegation \u201c{scheme}\u201d (decided by {recorded_by})"
        meeting_text = f"no meeting: the scheme of delegation \u201c{scheme}\u201d"
    else:
        where, meeting_text = f"on {on}", "no meeting recorded"
    reference = decision.get("reference") or ""
    minute = f" (minute {reference})" if reference else ""
    reason = decision.get("reason") or ""
    text = f"{body} {what} {where}{minute}" + (f", because: {reason.rstrip('.')}." if reason else ".")
    return {"decided_on": decision.get("decided_on") or "", "body": body, "meeting": meeting_text,
            "reference": reference or "none given", "reason": reason or "none given", "what": what,
            "sentence": text, "recorded_by": recorded_by}
