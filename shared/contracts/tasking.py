"""Contracts of the tasking service (``tasking.events``): taskings of district partnerships and their changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import ConfigDict

from shared.contracts import Fact, contract, superseded
from shared.contracts.projects import ProfilePoint

SERVICE = "tasking"


class CommissioningLevel(StrEnum):
    COUNTY = "county"
    DISTRICT = "district"


class TaskingStatus(StrEnum):
    """Where a tasking stands: issued to a district, accepted, declined, in delivery, completed or withdrawn."""

    ISSUED = "issued"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    IN_DELIVERY = "in_delivery"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


COUNTED_STATUSES = frozenset({TaskingStatus.ISSUED, TaskingStatus.ACCEPTED, TaskingStatus.IN_DELIVERY,
                              TaskingStatus.COMPLETED})
"""Tasking's rule, published with its events: the taskings whose shares count against the target (declined and
withdrawn ones free their share). Tasking allocates by it and reporting rolls up by it; no one else writes it."""


def counts_against_target(status: str) -> bool:
    """Whether a tasking in ``status`` counts against its target (``COUNTED_STATUSES``)."""
    return status in COUNTED_STATUSES


@contract(SERVICE, version=2, release=2)
@dataclass(frozen=True, kw_only=True)
class TaskingIssued(Fact):
    """A theme group tasked a district partnership with a share of a county target, one lead partner responsible.

    ``retasked_from`` names the tasking whose share this one took over, when it was issued by a retasking.
    """

    target_id: UUID
    """The id of the county target the share is of."""
    theme_group: str
    """The theme group that issued the tasking."""
    district: str
    """The district partnership's place (its name, e.g. Northtown), as in every service."""
    share: Decimal
    """The part of the county target this tasking is to deliver, in the target's unit."""
    unit: str
    """The unit of the measure's values, e.g. people or percent."""
    deadline: date
    """The date by which the share is to be delivered."""
    lead_partner: str
    """The partner organisation responsible for delivery."""
    commissioning_level: CommissioningLevel
    """Whether it was commissioned at county or district level."""
    counts_against_target: bool
    """Whether the tasking's share counts against the target now (tasking's rule, ``COUNTED_STATUSES``): declined
    and withdrawn ones free their share. Said here so that no reader re-derives it."""
    retasked_from: UUID | None = None
    """The tasking whose share this one took over; None unless issued by a retasking."""
    sector: str | None = None
    """The UK SIC 2007 section (A to U) the share is to be delivered in, e.g. C (manufacturing); None: any."""


@contract(SERVICE, version=2, release=2)
@dataclass(frozen=True, kw_only=True)
class TaskingAccepted(Fact):
    """The district partnership accepted the tasking: delivery can be planned against it."""
    counts_against_target: bool
    """Whether the tasking's share counts against the target now (tasking's rule, ``COUNTED_STATUSES``): declined
    and withdrawn ones free their share. Said here so that no reader re-derives it."""


@contract(SERVICE, version=2, release=2)
@dataclass(frozen=True, kw_only=True)
class TaskingDeclined(Fact):
    """The district partnership declined the tasking, with its reason."""

    reason: str
    """Why, in the words of whoever decided or recorded it."""
    counts_against_target: bool
    """Whether the tasking's share counts against the target now (tasking's rule, ``COUNTED_STATUSES``): declined
    and withdrawn ones free their share. Said here so that no reader re-derives it."""


@contract(SERVICE, version=3, release=2)
@dataclass(frozen=True, kw_only=True)
class TaskingRetasked(Fact):
    """A decision changed the tasking's district, lead partner, share or deadline; the previous values stay in
    history and are repeated here so that a reader needs no earlier event to show the change, and what the change
    leaves (``issued_again``) is said, not left to each reader to work out."""

    district: str
    """The district partnership tasked now."""
    lead_partner: str
    """The lead partner now."""
    share: Decimal
    """The share now, in the target's unit."""
    deadline: date
    """The deadline now."""
    previous_district: str
    """The district partnership tasked before."""
    previous_lead_partner: str
    """The lead partner before."""
    previous_share: Decimal
    """The share before."""
    previous_deadline: date
    """The deadline before."""
    reason: str
    """Why, in the words of whoever decided or recorded it."""
    issued_again: bool
    """Whether the tasking is issued again: retasked to another district partnership, it waits for that district's
    acceptance (its status is ``issued``); otherwise its status is unchanged. Tasking's rule, so no reader
    re-derives it."""
    counts_against_target: bool
    """Whether the tasking's share counts against the target now (tasking's rule, ``COUNTED_STATUSES``): declined
    and withdrawn ones free their share. Said here so that no reader re-derives it."""


@contract(SERVICE, version=2, release=2)
@dataclass(frozen=True, kw_only=True)
class TaskingWithdrawn(Fact):
    """The tasking was withdrawn by a decision; projects delivering it must be re-pointed or closed."""

    reason: str
    """Why, in the words of whoever decided or recorded it."""
    counts_against_target: bool
    """Whether the tasking's share counts against the target now (tasking's rule, ``COUNTED_STATUSES``): declined
    and withdrawn ones free their share. Said here so that no reader re-derives it."""


@contract(SERVICE, version=2, release=2)
@dataclass(frozen=True, kw_only=True)
class TaskingCompleted(Fact):
    """The tasking's share was delivered (or its delivery period ended) and it was closed."""

    achieved: Decimal
    """What was delivered, in the target's unit."""
    counts_against_target: bool
    """Whether the tasking's share counts against the target now (tasking's rule, ``COUNTED_STATUSES``): declined
    and withdrawn ones free their share. Said here so that no reader re-derives it."""


@contract(SERVICE, version=2, release=2)
@dataclass(frozen=True, kw_only=True)
class TaskingDeliveryStarted(Fact):
    """The district partnership started delivering an accepted tasking (projects may now deliver against it)."""
    counts_against_target: bool
    """Whether the tasking's share counts against the target now (tasking's rule, ``COUNTED_STATUSES``): declined
    and withdrawn ones free their share. Said here so that no reader re-derives it."""


@contract(SERVICE, release=2)
@dataclass(frozen=True, kw_only=True)
class ShareProfiled(Fact):
    """A tasking's share was given a profile by a decision of the theme group (expected values at dates: the
    district's delivery is not a straight line), or had it removed (``profile`` empty: the target's profile, or
    the straight line, again). The district's figure is judged against it, and so is a project outcome delivering
    the share that has no profile of its own (``shared.performance``: the most specific profile available)."""

    profile: tuple[ProfilePoint, ...]
    """The part of the share expected delivered by each date (in the target's unit: for a count, the improvement
    credited so far; for a level, the district's level then), up to the share's deadline; empty: none."""
    previous_profile: tuple[ProfilePoint, ...]
    """The profile before; empty: there was none."""
    share: Decimal
    """The share the profile is of, in the target's unit (a reader carries its shape onto what delivers it)."""


@contract(SERVICE, release=2)
@dataclass(frozen=True, kw_only=True)
class TargetOverAllocated(Fact):
    """The shares of a target that count add up to more than its improvement (target minus baseline): a revision
    of the target raced past a tasking (priorities refuses a revision below the tasked total it knows, but its copy
    can be behind). Recorded by tasking when it learns of it; it stands until a retasking, a withdrawal or a
    revision clears it (``TargetOverAllocationCleared``). The aggregate is the target's allocation."""

    target_id: UUID
    """The id of the county target."""
    metric: str
    """What the target measures."""
    unit: str
    """The unit of the measure's values."""
    target_value: Decimal
    """The target's value as revised."""
    baseline_value: Decimal
    """The target's baseline value."""
    improvement: Decimal
    """What the target asks to change (target minus baseline): what the shares may add up to."""
    tasked: Decimal
    """What the shares that count add up to."""
    over_by: Decimal
    """How far they exceed the improvement (tasked minus improvement)."""


@contract(SERVICE, release=2)
@dataclass(frozen=True, kw_only=True)
class TargetOverAllocationCleared(Fact):
    """A target recorded over-allocated is so no more: its shares that count add up to its improvement or less,
    after a retasking, a withdrawal, a decline or a revision of the target. The aggregate is the target's
    allocation."""

    target_id: UUID
    """The id of the county target."""
    target_value: Decimal
    """The target's value now."""
    improvement: Decimal
    """What the target asks to change (target minus baseline)."""
    tasked: Decimal
    """What the shares that count add up to now."""
    cleared_by: UUID | None = None
    """The tasking whose retasking, withdrawal or decline cleared it; None when a revision of the target did."""


# -- memberships: who sits at which table ------------------------------------------------------------------------


class BodyKind(StrEnum):
    """The tables partners sit at: the partnership board, a theme group, a district partnership."""

    PARTNERSHIP_BOARD = "partnership_board"
    THEME_GROUP = "theme_group"
    DISTRICT_PARTNERSHIP = "district_partnership"


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class PartnerJoined(Fact):
    """A partner organisation joined a body (a district partnership's id is its district's id).

    ``nominated_by`` names the theme group whose representative the partner is, when a theme group supplied it
    to a district partnership. ``joined_on`` is the day the membership came into force (a quorum on a date counts
    the members of that date); it is None only on memberships recorded before dates were kept, which are in force
    from the day they were recorded (the event's time).
    """

    body: str
    """The id of the body (partnership board, theme group or district partnership)."""
    body_kind: BodyKind
    """Which kind of body it is."""
    organisation: str
    """The partner organisation that joined."""
    nominated_by: str | None = None
    """The theme group whose representative it is; None when none."""
    joined_on: date | None = None
    """The day the membership came into force; None on memberships recorded before dates were kept."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class PartnerLeft(Fact):
    """A partner organisation left a body; its membership stays in the history.

    ``left_on`` is the first day it was no longer a member; None only on departures recorded before dates were
    kept (the day they were recorded, the event's time).
    """

    body: str
    """The id of the body (partnership board, theme group or district partnership)."""
    organisation: str
    """The partner organisation that left."""
    reason: str
    """Why, in the words of whoever decided or recorded it."""
    left_on: date | None = None
    """The first day it was no longer a member; None on departures recorded before dates were kept."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class DistrictsCommitted(Fact):
    """A county-wide partner declared the districts it commits to (the full list, replacing the previous one)."""

    organisation: str
    """The county-wide partner organisation."""
    districts: list[str]
    """Every district it commits to (the full list)."""


# -- meetings, decisions and agreed actions ----------------------------------------------------------------------


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class MeetingHeld(Fact):
    """A body met on a date with these partner organisations present; decisions taken there reference it."""

    body: str
    """The id of the body (partnership board, theme group or district partnership)."""
    body_kind: BodyKind
    """Which kind of body it is."""
    held_on: date
    """The date the meeting was held."""
    present: list[str]
    """The partner organisations present (their ids)."""
    title: str = ""
    """The meeting's title; empty when none was given."""


@dataclass(frozen=True)
class MembershipVersion:
    """The version of one partner's membership of a body, as tasking knew it when a meeting was recorded."""

    organisation: str
    """The partner organisation."""
    version: int
    """The version of its membership of the body."""


@contract(SERVICE, release=2)
@dataclass(frozen=True, kw_only=True)
class MeetingEntered(Fact):
    """A meeting was entered in its body's minute book (one aggregate per body: its version is the number of
    meetings recorded, the ``meeting_version`` decisions name). Carries what the decision rule needs: the
    meeting, its date and who was present, and ``roll``: the version of each present partner's membership of the
    body at the time, so that a service keeping a copy knows when it has heard of them."""

    meeting_id: UUID
    """The id of the meeting."""
    body: str
    """The id of the body (partnership board, theme group or district partnership)."""
    held_on: date
    """The date the meeting was held."""
    title: str
    """The meeting's title."""
    present: list[str]
    """The partner organisations present (their ids)."""
    roll: list[MembershipVersion]
    """The version of each present partner's membership of the body at the time."""
    quorum_as_minuted: str | None = None
    """For a historic meeting whose attendance was never minuted (``present`` empty): the minute reference that
    records it as quorate, its quorum's only evidence ("quorum as minuted"); None when ``present`` says who came."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ActionAgreed(Fact):
    """An action agreed at a meeting: what, who owns it, by when."""

    meeting_id: UUID
    """The meeting at which it was agreed."""
    body: str
    """The body that met."""
    description: str
    """What is to be done."""
    owner: str
    """Who is to do it."""
    due_on: date
    """By when."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ActionDone(Fact):
    """The owner reported an agreed action done."""

    done_on: date
    """The date it was done."""
    note: str = ""
    """What the owner said; empty when nothing."""


@contract(SERVICE, release=2)
@dataclass(frozen=True, kw_only=True)
class PersonalDataErased(Fact):
    """A person's personal data was erased in every service, under a decision (an erasure request, UK GDPR article
    17): their pseudonyms were unlinked from their identity-provider subject and name, the keys of every text they
    wrote were destroyed, and their contact details erased where a service held them. Names only pseudonyms: the
    person's acts stay accountable by pseudonym, role and organisation."""

    pseudonyms: list[str]
    """The pseudonyms the person acted under (``person:<id>``), now linked to no one."""
    redacted_texts: int
    """How many sealed texts they wrote were made unreadable (their keys destroyed)."""
    contact_details_in: list[str]
    """The services whose contact details of the person were erased; empty when none held any."""


@contract(SERVICE, release=2)
@dataclass(frozen=True, kw_only=True)
class FreeTextRedacted(Fact):
    """A record's free text (reasons, narratives) was redacted under a decision, its keys destroyed: for text that
    names someone other than its author. The record's events and their hashes stay; reads show ``[redacted]``."""

    record_id: str
    """The id of the record (aggregate) whose texts were redacted."""
    record_version: int | None
    """Only this version's texts; None: every version's."""
    keys: int
    """How many keys were destroyed."""


@dataclass(frozen=True)
class TopicPosition:
    """How far into one service's events a read went: the events of that topic it had applied."""

    topic: str
    """The topic (``tasking.events``, ...)."""
    events: int
    """How many of its events had been applied."""


# -- the partnership's rules, as history ------------------------------------------------------------------------


@dataclass(frozen=True)
class BodyQuorum:
    """A body of the partnership (board, theme group, district partnership) and its quorum."""

    body: str
    """The body's id."""
    kind: str
    """partnership_board, theme_group or district_partnership."""
    name: str
    """The body's name (a district partnership's own name)."""
    quorum: int
    """How many members present make a meeting of it quorate."""


@dataclass(frozen=True)
class DelegationScheme:
    """A scheme of delegation: the body lets an officer role take these kinds of decision without a meeting."""

    id: str
    """The scheme's id (a decision under delegation names it)."""
    body: str
    """The body that delegates."""
    role: str
    """The officer role it delegates to."""
    decisions: list[str]
    """The kinds of decision it delegates (``shared.decisions.DecisionKind``)."""
    name: str = ""
    """Its name; empty when none."""


@dataclass(frozen=True)
class DistrictName:
    """A district of the partnership and its name (its district partnership is a ``BodyQuorum``)."""

    district: str
    """The district's id (its district partnership's body id too)."""
    name: str
    """The district's name, e.g. "Wychavon"."""


@contract(SERVICE, release=2)
@dataclass(frozen=True, kw_only=True)
class ScrutinyPackPublished(Fact):
    """A scrutiny pack was published for a committee's meeting, under a decision (the partnership officer's, by the
    scheme of delegation): which pack, read from which positions of the history, and the SHA-256 of its canonical
    JSON, so anyone can rebuild it from the history and check it is the one the committee read."""

    committee: str
    """The committee's name, as the pack is headed."""
    meeting_on: date
    """The date of the committee's meeting the pack is published for."""
    starts_on: date
    """The first day of the period the pack covers."""
    ends_on: date
    """The last day of the period the pack covers."""
    districts: list[str]
    """The districts in scope; with ``theme_groups`` empty too, the whole county."""
    theme_groups: list[str]
    """The theme groups in scope."""
    records_as_of: str
    """The moment the records were read at (ISO 8601 date-time with its offset): the pack as it stood then."""
    positions: list[TopicPosition]
    """The topic positions the pack was built from."""
    sha256: str
    """The SHA-256 (hex) of the pack's canonical JSON."""
    renderer_version: str
    """The version of the renderer that drew it: the same bytes again from that version."""
    papers_public: bool
    """Whether the committee's papers are public: then anyone may read the pack at its URL without signing in."""


@contract(SERVICE, release=2)
@dataclass(frozen=True, kw_only=True)
class PartnershipFounded(Fact):
    """The partnership's founding rules, loaded once from its definition into an empty store: its bodies and
    quorums, districts, schemes of delegation, RAG thresholds and the limit on agreed priorities. Changes after it
    are decisions of their own (``QuorumChanged``)."""

    partnership: str
    """The partnership's id."""
    founded_on: date | None
    """From when its bodies exist; None: no earliest date."""
    bodies: list[BodyQuorum]
    """Every body that may decide, district partnerships included."""
    districts: list[str]
    """The districts' ids."""
    schemes_of_delegation: list[DelegationScheme]
    """The schemes of delegation."""
    green_within_percent: float
    """RAG: green while the shortfall is within this percent of the trajectory."""
    amber_within_percent: float
    """RAG: amber while within this percent; red beyond."""
    max_agreed_priorities_per_district: int
    """The limit on agreed priorities in one district."""
    district_names: list[DistrictName] | None = None
    """The districts' names; None in a founding recorded before it carried them (the definition's names stand)."""


@contract(SERVICE, release=2)
@dataclass(frozen=True, kw_only=True)
class QuorumChanged(Fact):
    """A decision changed a body's quorum, from the decision's date: decisions dated before it are judged on the
    quorum before, decisions dated on or after it on this one."""

    body: str
    """The body whose quorum changed."""
    quorum: int
    """Its quorum from the decision's date."""
    previous_quorum: int
    """Its quorum before."""


@contract(SERVICE, release=2)
@dataclass(frozen=True, kw_only=True)
class DistrictAdded(Fact):
    """A board decision added a district to the partnership, with its district partnership, from the decision's
    date: before it no decision may name the district."""

    district: str
    """The new district's id (its district partnership's body id too)."""
    name: str
    """The district's name."""
    partnership: str
    """Its district partnership's name."""
    quorum: int
    """How many members present make a meeting of its district partnership quorate."""


@contract(SERVICE, release=2)
@dataclass(frozen=True, kw_only=True)
class DistrictRenamed(Fact):
    """A board decision renamed a district or its district partnership, from the decision's date."""

    district: str
    """The district's id (unchanged: records keep naming it)."""
    name: str
    """Its name from the decision's date."""
    partnership: str
    """Its district partnership's name from the decision's date."""
    previous_name: str
    """Its name before."""
    previous_partnership: str
    """Its district partnership's name before."""


@contract(SERVICE, release=2)
@dataclass(frozen=True, kw_only=True)
class DistrictRetired(Fact):
    """A board decision retired a district from the decision's date: decisions dated before it stand, none dated
    on or after it may name the district or its district partnership."""

    district: str
    """The retired district's id."""
    name: str
    """Its name when retired."""


@contract(SERVICE, release=2)
@dataclass(frozen=True, kw_only=True)
class SchemesOfDelegationChanged(Fact):
    """A decision replaced a body's schemes of delegation, from the decision's date: delegated decisions dated
    before it are judged on the schemes before."""

    body: str
    """The body whose schemes these are."""
    schemes: list[DelegationScheme]
    """All its schemes from the decision's date (empty: none, every decision of it at a meeting)."""
    previous_schemes: list[DelegationScheme]
    """Its schemes before."""


@contract(SERVICE, release=2)
@dataclass(frozen=True, kw_only=True)
class RagThresholdsChanged(Fact):
    """A board decision changed the RAG thresholds, from the decision's date: a report dated before it is judged on
    the thresholds before."""

    green_within_percent: float
    """Green while the shortfall is within this percent of the trajectory."""
    amber_within_percent: float
    """Amber while within this percent; red beyond."""
    previous_green_within_percent: float
    """The green threshold before."""
    previous_amber_within_percent: float
    """The amber threshold before."""


@contract(SERVICE, release=2)
@dataclass(frozen=True, kw_only=True)
class PriorityLimitChanged(Fact):
    """A board decision changed the limit on agreed priorities in one district, from the decision's date:
    priorities agreed before it stay agreed; an agreement dated on or after it is held to the new limit."""

    max_agreed_priorities_per_district: int
    """The limit from the decision's date."""
    previous_max_agreed_priorities_per_district: int
    """The limit before."""


# -- superseded versions, frozen as published (their schemas stay in contracts/events) ------------------------------


def tasking_retasked_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Before v2 the event left readers to work out what a retasking leaves: moved to another district, the tasking
    is issued again."""
    return {**data, "issued_again": data["district"] != data["previous_district"]}


RETASKED_IN_PLACE = (TaskingStatus.ISSUED, TaskingStatus.ACCEPTED, TaskingStatus.IN_DELIVERY)
"""The statuses a tasking can be retasked in: a declined one only to another district, which issues it again."""


def counts_after_retasking(issued_again: bool) -> bool:
    """Whether a retasked tasking counts: issued again, as an issued one; otherwise its status is unchanged, one of
    ``RETASKED_IN_PLACE``, which all count or all do not (checked where the rule is tested)."""
    return counts_against_target(TaskingStatus.ISSUED if issued_again else RETASKED_IN_PLACE[0])


def _counted_after(status: TaskingStatus) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The upcast of a version before the event said whether the share counts: the status the event leaves, by the
    one rule."""
    def upcast(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "counts_against_target": counts_against_target(status)}
    return upcast


def tasking_retasked_v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """Before v3 the event left readers to work out whether the retasked share counts."""
    return {**data, "counts_against_target": counts_after_retasking(bool(data["issued_again"]))}


def tasking_retasked_v1_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """The published v1 read as v3: v2 was never published (contract release 2 dropped it), so both steps at once.
    The domain keeps the two steps for stored events, some of which were stored as v2."""
    return tasking_retasked_v2_to_v3(tasking_retasked_v1_to_v2(data))


@superseded(SERVICE, "TaskingRetasked", version=1, upcast=tasking_retasked_v1_to_v3, next_version=3)
@dataclass(frozen=True, kw_only=True)
class TaskingRetaskedV1(Fact):
    """A decision changed the tasking's district, lead partner, share or deadline; the previous values stay in
    history and are repeated here so that a reader needs no earlier event to show the change."""

    district: str
    """The district partnership tasked now."""
    lead_partner: str
    """The lead partner now."""
    share: Decimal
    """The share now, in the target's unit."""
    deadline: date
    """The deadline now."""
    previous_district: str
    """The district partnership tasked before."""
    previous_lead_partner: str
    """The lead partner before."""
    previous_share: Decimal
    """The share before."""
    previous_deadline: date
    """The deadline before."""
    reason: str
    """Why, in the words of whoever decided or recorded it."""

    __pydantic_config__ = ConfigDict(title="TaskingRetasked")  # the title it was published with


@superseded(SERVICE, "TaskingIssued", version=1, upcast=_counted_after(TaskingStatus.ISSUED))
@dataclass(frozen=True, kw_only=True)
class TaskingIssuedV1(Fact):
    """A theme group tasked a district partnership with a share of a county target, one lead partner responsible.

    ``retasked_from`` names the tasking whose share this one took over, when it was issued by a retasking.
    """

    target_id: UUID
    """The id of the county target the share is of."""
    theme_group: str
    """The theme group that issued the tasking."""
    district: str
    """The district partnership's place (its name, e.g. Northtown), as in every service."""
    share: Decimal
    """The part of the county target this tasking is to deliver, in the target's unit."""
    unit: str
    """The unit of the measure's values, e.g. people or percent."""
    deadline: date
    """The date by which the share is to be delivered."""
    lead_partner: str
    """The partner organisation responsible for delivery."""
    commissioning_level: CommissioningLevel
    """Whether it was commissioned at county or district level."""
    retasked_from: UUID | None = None
    """The tasking whose share this one took over; None unless issued by a retasking."""

    __pydantic_config__ = ConfigDict(title="TaskingIssued")  # the title it was published with


@superseded(SERVICE, "TaskingAccepted", version=1, upcast=_counted_after(TaskingStatus.ACCEPTED))
@dataclass(frozen=True, kw_only=True)
class TaskingAcceptedV1(Fact):
    """The district partnership accepted the tasking: delivery can be planned against it."""

    __pydantic_config__ = ConfigDict(title="TaskingAccepted")  # the title it was published with


@superseded(SERVICE, "TaskingDeclined", version=1, upcast=_counted_after(TaskingStatus.DECLINED))
@dataclass(frozen=True, kw_only=True)
class TaskingDeclinedV1(Fact):
    """The district partnership declined the tasking, with its reason."""

    reason: str
    """Why, in the words of whoever decided or recorded it."""

    __pydantic_config__ = ConfigDict(title="TaskingDeclined")  # the title it was published with


@superseded(SERVICE, "TaskingWithdrawn", version=1, upcast=_counted_after(TaskingStatus.WITHDRAWN))
@dataclass(frozen=True, kw_only=True)
class TaskingWithdrawnV1(Fact):
    """The tasking was withdrawn by a decision; projects delivering it must be re-pointed or closed."""

    reason: str
    """Why, in the words of whoever decided or recorded it."""

    __pydantic_config__ = ConfigDict(title="TaskingWithdrawn")  # the title it was published with


@superseded(SERVICE, "TaskingCompleted", version=1, upcast=_counted_after(TaskingStatus.COMPLETED))
@dataclass(frozen=True, kw_only=True)
class TaskingCompletedV1(Fact):
    """The tasking's share was delivered (or its delivery period ended) and it was closed."""

    achieved: Decimal
    """What was delivered, in the target's unit."""

    __pydantic_config__ = ConfigDict(title="TaskingCompleted")  # the title it was published with


@superseded(SERVICE, "TaskingDeliveryStarted", version=1, upcast=_counted_after(TaskingStatus.IN_DELIVERY))
@dataclass(frozen=True, kw_only=True)
class TaskingDeliveryStartedV1(Fact):
    """The district partnership started delivering an accepted tasking (projects may now deliver against it)."""

    __pydantic_config__ = ConfigDict(title="TaskingDeliveryStarted")  # the title it was published with
