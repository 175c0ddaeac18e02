"""The history file: a partnership's past decisions as rows, one per command, in the order they happened.

One JSON document (``{"format": ..., "rows": [...]}``) or a folder of CSV files, one per kind of row
(``meetings.csv``, ``taskings.csv``, ...), each with a ``seq`` column giving the row's place in the whole history.
In a CSV cell, a list or object field holds JSON (``["worcestershire-cc", "hw-fire"]``); an empty cell is no value.

Every row has its own ``key`` (a string unique within its kind): what later rows cite it by (a decision's
``meeting``, a tasking's ``target``), and what makes re-importing the same file change nothing. The JSON Schemas of
the rows are published under contracts/history/ (``partnership contracts``)."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

FORMAT: Literal["partnership-history/1"] = "partnership-history/1"


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActingFor(_Row):
    """Who acted, as the records say: the organisation and the role of the person who did it. The event's actor is
    the importer acting for them (the domain's rules on who may do what apply to them, e.g. only a project's lead
    partner reports its progress); by default the importer's own organisation and role."""

    organisation: str
    role: str


class _Command(_Row):
    by: ActingFor | None = None


class DecisionRow(_Row):
    """The decision a row carries out: at a meeting of this file (``meeting``, its key), or under a scheme of
    delegation (``delegation``)."""

    body: str
    decided_on: date
    reason: str
    meeting: str | None = None
    reference: str | None = None
    delegation: str | None = None


class Body(_Command):
    """A body of the partnership (its board, a theme group, a district partnership), as the file knows it. Bodies
    are the partnership definition's (the partnership file), not commands: the row is checked against it (kind,
    name, quorum) and refused when they differ, so a history is never imported into a partnership it does not fit."""

    kind: Literal["body"] = "body"
    key: str
    """The body's id."""
    name: str
    body_kind: str
    quorum: int


class MembershipEnded(_Command):
    """A partner left a body's table on ``left_on``."""

    kind: Literal["membership_ended"] = "membership_ended"
    key: str
    body: str
    organisation: str
    left_on: date
    reason: str
    decision: DecisionRow | None = None


class Membership(_Command):
    kind: Literal["membership"] = "membership"
    key: str
    body: str
    organisation: str
    joined_on: date
    nominated_by: str | None = None
    decision: DecisionRow | None = None


class Commitment(_Command):
    kind: Literal["commitment"] = "commitment"
    key: str
    organisation: str
    districts: list[str]


class Meeting(_Command):
    kind: Literal["meeting"] = "meeting"
    key: str
    body: str
    held_on: date
    title: str = ""
    present: list[str] = []
    quorum_as_minuted: str | None = None
    """For a historic meeting whose attendance was never minuted: the minute reference recording it as quorate
    (instead of ``present``). Its decisions are shown, and audited, as resting on a "quorum as minuted"."""


class Objective(_Command):
    kind: Literal["objective"] = "objective"
    key: str
    title: str
    level: str
    strategy: str
    parent: str | None = None
    decision: DecisionRow | None = None


class Target(_Command):
    """A target's terms (its profile, the path year by year, is a ``target_profile`` row)."""

    kind: Literal["target"] = "target"
    key: str
    objective: str
    metric: str
    unit: str
    baseline_value: Decimal
    baseline_date: date
    target_value: Decimal
    deadline: date
    data_source: str
    owner_organisation: str
    decision: DecisionRow | None = None
    reporting_interval: str | None = None
    """How often the figure is reported (monthly, quarterly, half_yearly, annual) from the baseline date; empty:
    quarterly. A later change is a ``reporting_interval`` row."""


class Priority(_Command):
    """A district priority proposed, and agreed when ``agreed`` names the decision."""

    kind: Literal["priority"] = "priority"
    key: str
    district: str
    title: str
    rationale: str
    objective: str
    evidence_refs: list[str] = []
    agreed: DecisionRow | None = None
    agreed_by: ActingFor | None = None


class EvidenceFigure(_Row):
    label: str
    value: Decimal
    unit: str


class Contact(_Row):
    """Who to ask about a piece of evidence. ``person_id`` is an opaque id (no personal data); the name, e-mail and
    phone are personal data, sealed under the person's key in the target's vault as the REST API seals them. An
    export never writes them (no read of the system shows them): it writes ``person_id`` alone, and ``erased``
    when the person's details were erased, so the target refuses their details for good as well."""

    person_id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    erased: bool = False


class Evidence(_Command):
    """Evidence submitted, and taken into the evidence base when ``accepted`` names the decision, or noted without
    being taken in when ``noted`` does (with ``noted_reason``)."""

    kind: Literal["evidence"] = "evidence"
    key: str
    district: str
    title: str
    summary: str
    source: str
    evidence_date: date
    figures: list[EvidenceFigure] = []
    objectives: list[str] = []
    priorities: list[str] = []
    accepted: DecisionRow | None = None
    accepted_by: ActingFor | None = None
    noted: DecisionRow | None = None
    noted_reason: str | None = None
    noted_by: ActingFor | None = None
    contact: Contact | None = None


class Tasking(_Command):
    kind: Literal["tasking"] = "tasking"
    key: str
    target: str
    theme_group: str
    district: str
    share: Decimal
    deadline: date
    lead_partner: str
    commissioning_level: str
    decision: DecisionRow | None = None
    sector: str | None = None
    """The sector the share is tasked in, where the theme group named one."""


TaskingStep = Literal["accept", "decline", "start_delivery", "complete", "withdraw"]


class TaskingAnswer(_Command):
    """A step of a tasking after its issue: accepted, declined, delivery started, completed or withdrawn."""

    kind: Literal["tasking_step"] = "tasking_step"
    key: str
    tasking: str
    step: TaskingStep
    reason: str | None = None
    achieved: Decimal | None = None
    decision: DecisionRow | None = None


class Transfer(_Command):
    """A retasking moving part of a tasking's share to another district: ``key`` is the new tasking's."""

    kind: Literal["transfer"] = "transfer"
    key: str
    tasking: str
    district: str
    lead_partner: str
    share: Decimal
    deadline: date | None = None
    decision: DecisionRow


class Retasking(_Command):
    """A retasking of the tasking itself (its district, lead partner, share or deadline changed)."""

    kind: Literal["retasking"] = "retasking"
    key: str
    tasking: str
    district: str | None = None
    lead_partner: str | None = None
    share: Decimal | None = None
    deadline: date | None = None
    decision: DecisionRow


class Action(_Command):
    """An action agreed at a meeting of this file, and done when ``done_on`` is given."""

    kind: Literal["action"] = "action"
    key: str
    meeting: str
    owner: str
    due_on: date
    description: str
    done_on: date | None = None
    note: str = ""
    done_by: ActingFor | None = None


class Outcome(_Row):
    id: str
    tasking: str
    metric: str
    unit: str
    baseline_value: Decimal
    baseline_date: date
    target_value: Decimal
    target_date: date
    weight: Decimal = Decimal(1)


class Milestone(_Row):
    id: str
    title: str
    due_on: date


class Resource(_Row):
    organisation: str
    money_gbp: Decimal
    staff_days: Decimal
    note: str = ""


class Risk(_Row):
    id: str
    description: str
    likelihood: int
    impact: int
    owner: str
    mitigation: str


class Project(_Command):
    kind: Literal["project"] = "project"
    key: str
    district: str
    title: str
    lead_partner: str
    project_manager: str
    taskings: list[str]
    outcomes: list[Outcome]
    milestones: list[Milestone] = []
    resources: list[Resource] = []
    risks: list[Risk] = []
    decision: DecisionRow | None = None


class MilestoneAchieved(_Command):
    kind: Literal["milestone_achieved"] = "milestone_achieved"
    key: str
    project: str
    milestone: str
    achieved_on: date


class Progress(_Command):
    kind: Literal["progress"] = "progress"
    key: str
    project: str
    reported_on: date
    values: dict[str, Decimal]
    narrative: str


class Intervention(_Command):
    kind: Literal["intervention"] = "intervention"
    key: str
    project: str
    intervention: str
    description: str
    decision: DecisionRow | None = None
    due_on: date | None = None
    """By when it is to have worked (after the decision's date); empty when no date was set."""
    owner: str | None = None
    """The partner organisation that carries it out; empty: the project's lead partner."""


class TargetRevision(_Command):
    """A target re-baselined or changed by a decision: its terms as they stand after the revision, whole."""

    kind: Literal["target_revision"] = "target_revision"
    key: str
    target: str
    metric: str
    unit: str
    baseline_value: Decimal
    baseline_date: date
    target_value: Decimal
    deadline: date
    data_source: str
    owner_organisation: str
    decision: DecisionRow


Retired = Literal["objective", "target", "priority"]


class Retirement(_Command):
    """An objective, a target or an agreed district priority retired by a decision (never deleted)."""

    kind: Literal["retirement"] = "retirement"
    key: str
    retires: Retired
    """What kind of row it retires."""
    item: str
    """The key of the row it retires (an ``objective``, ``target`` or ``priority`` row of the file)."""
    decision: DecisionRow


class Correction(_Command):
    """A progress report superseded by a correction, with a reason: the report dated ``corrected_report_on`` no
    longer stands, and the corrected values stand at ``reported_on``."""

    kind: Literal["correction"] = "correction"
    key: str
    project: str
    corrected_report_on: date
    reported_on: date
    values: dict[str, Decimal]
    narrative: str
    reason: str


class ReportWithdrawal(_Command):
    """A progress report withdrawn as a mistake, with a reason (a tasking is withdrawn by a ``tasking_step``)."""

    kind: Literal["report_withdrawal"] = "report_withdrawal"
    key: str
    project: str
    reported_on: date
    reason: str


class RagOverride(_Command):
    """A project's derived RAG overridden by hand, with a reason (and the decision, where one was taken)."""

    kind: Literal["rag_override"] = "rag_override"
    key: str
    project: str
    rag: str
    reason: str
    decision: DecisionRow | None = None


class Deferral(_Command):
    """A project deferred, or resumed after a deferral, by a decision."""

    kind: Literal["deferral"] = "deferral"
    key: str
    project: str
    step: Literal["defer", "resume"]
    decision: DecisionRow


class Closure(_Command):
    """A project closed by a decision, with the outcome achieved and the lessons learnt."""

    kind: Literal["closure"] = "closure"
    key: str
    project: str
    outcome_achieved: str
    lessons: str
    decision: DecisionRow


class ProfilePoint(_Row):
    on: date
    value: Decimal


class TargetProfile(_Command):
    """A target given a profile (the value expected at dates between its baseline and its deadline, in the target's
    own scale), or its profile removed (``profile`` empty: the straight line again), by a decision."""

    kind: Literal["target_profile"] = "target_profile"
    key: str
    target: str
    profile: list[ProfilePoint] = []
    decision: DecisionRow


class ShareProfile(_Command):
    """A district's share given a profile (the part of the share delivered by each date), or its profile removed,
    by a decision of the theme group."""

    kind: Literal["share_profile"] = "share_profile"
    key: str
    tasking: str
    profile: list[ProfilePoint] = []
    decision: DecisionRow


class ReportingIntervalChange(_Command):
    """A target's reporting interval changed from a date, by a decision."""

    kind: Literal["reporting_interval"] = "reporting_interval"
    key: str
    target: str
    reporting_interval: str
    in_force_from: date
    decision: DecisionRow


class ObjectiveReword(_Command):
    """An objective reworded by a decision (its old title stays in the history)."""

    kind: Literal["objective_reword"] = "objective_reword"
    key: str
    objective: str
    title: str
    decision: DecisionRow


class PriorityRejection(_Command):
    """A proposed district priority rejected by the district partnership's decision."""

    kind: Literal["priority_rejection"] = "priority_rejection"
    key: str
    priority: str
    decision: DecisionRow


class MilestoneAdded(_Command):
    """A milestone added to a project after it opened (a re-plan)."""

    kind: Literal["milestone_added"] = "milestone_added"
    key: str
    project: str
    milestone: Milestone


class ResourcesCommitted(_Command):
    """Resources a partner committed to a project after it opened."""

    kind: Literal["resources"] = "resources"
    key: str
    project: str
    commitment: Resource


class RiskRecorded(_Command):
    """A risk recorded on a project after it opened, or re-assessed (the same ``risk.id``)."""

    kind: Literal["risk"] = "risk"
    key: str
    project: str
    risk: Risk


class OutcomeProfile(_Command):
    """A project outcome given a profile (values expected at dates), or its profile removed (``profile`` empty)."""

    kind: Literal["outcome_profile"] = "outcome_profile"
    key: str
    project: str
    outcome: str
    profile: list[ProfilePoint] = []


class ContributionRepoint(_Command):
    """A project's outcomes for one tasking re-pointed to another accepted tasking of its district, by a decision
    (the programme manager's command; a re-pointing that follows a retasking upstream is the project's own reaction
    to the ``retasking`` row, not a row)."""

    kind: Literal["contribution_repoint"] = "contribution_repoint"
    key: str
    project: str
    from_tasking: str
    to_tasking: str
    reason: str
    decision: DecisionRow | None = None


class ScsReview(_Command):
    """An SCS review opened, by the board's decision: every priority agreed then is to be re-confirmed (a
    ``reconfirmation`` row) or retired (a ``retirement`` row) in it. ``number`` is the review's (1 for the first)."""

    kind: Literal["scs_review"] = "scs_review"
    key: str
    number: int
    decision: DecisionRow | None = None


class ScsReviewClosed(_Command):
    """An SCS review (``review``, its row's key) closed by the board's decision, once every priority under it was
    re-confirmed or retired."""

    kind: Literal["scs_review_closed"] = "scs_review_closed"
    key: str
    review: str
    decision: DecisionRow | None = None


class Reconfirmation(_Command):
    """An agreed priority re-confirmed in the open SCS review, by its district partnership's decision."""

    kind: Literal["reconfirmation"] = "reconfirmation"
    key: str
    priority: str
    decision: DecisionRow | None = None


class PerformanceRelease(_Command):
    """A period's performance figures released for public display (the open-data feed), by the board's decision."""

    kind: Literal["performance_release"] = "performance_release"
    key: str
    starts_on: date
    ends_on: date
    decision: DecisionRow


class QuorumChange(_Command):
    """A decision changed a body's quorum from the decision's date (the partnership's rules are history)."""

    kind: Literal["quorum_change"] = "quorum_change"
    key: str
    body: str
    quorum: int
    decision: DecisionRow


class DistrictAdded(_Command):
    """A board decision added a district, with its district partnership and its quorum, from the decision's date."""

    kind: Literal["district_added"] = "district_added"
    key: str
    district: str
    name: str
    partnership: str
    quorum: int
    decision: DecisionRow


class DistrictRenamed(_Command):
    """A board decision renamed a district or its district partnership from the decision's date."""

    kind: Literal["district_renamed"] = "district_renamed"
    key: str
    district: str
    name: str
    partnership: str
    decision: DecisionRow


class DistrictRetired(_Command):
    """A board decision retired a district from the decision's date."""

    kind: Literal["district_retired"] = "district_retired"
    key: str
    district: str
    decision: DecisionRow


class DelegationScheme(_Row):
    id: str
    role: str
    decisions: list[str]
    name: str = ""


class SchemesOfDelegation(_Command):
    """A decision replaced a body's schemes of delegation (all of them, ``schemes``; empty: none) from its date."""

    kind: Literal["schemes_of_delegation"] = "schemes_of_delegation"
    key: str
    body: str
    schemes: list[DelegationScheme] = []
    decision: DecisionRow


class RagThresholds(_Command):
    """A board decision changed the RAG thresholds from the decision's date."""

    kind: Literal["rag_thresholds"] = "rag_thresholds"
    key: str
    green_within_percent: float
    amber_within_percent: float
    decision: DecisionRow


class PriorityLimit(_Command):
    """A board decision changed the limit on agreed priorities in one district from the decision's date."""

    kind: Literal["priority_limit"] = "priority_limit"
    key: str
    max_agreed_priorities_per_district: int
    decision: DecisionRow


HistoryRow = Annotated[
    Body | Membership | MembershipEnded | Commitment | Meeting | Objective | Target | Priority | Evidence | Tasking
    | TaskingAnswer | Transfer | Retasking | Action | Project | MilestoneAchieved | Progress | Intervention
    | TargetRevision | Retirement | Correction | ReportWithdrawal | RagOverride | Deferral | Closure | TargetProfile
    | ShareProfile | ReportingIntervalChange | ObjectiveReword | PriorityRejection | MilestoneAdded | ResourcesCommitted
    | RiskRecorded | OutcomeProfile | ContributionRepoint | ScsReview | ScsReviewClosed | Reconfirmation
    | PerformanceRelease | QuorumChange | DistrictAdded | DistrictRenamed | DistrictRetired | SchemesOfDelegation
    | RagThresholds | PriorityLimit,
    Field(discriminator="kind"),
]
ROW_TYPES: dict[str, type[_Row]] = {get_args(cls.model_fields["kind"].annotation)[0]: cls
                                    for cls in get_args(get_args(HistoryRow)[0])}
"""Each kind of row, by its ``kind``: also the CSV file it is written to (``<kind>.csv``)."""

_ROW = TypeAdapter(HistoryRow)


class HistoryDocument(BaseModel):
    """A whole history file."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["partnership-history/1"] = FORMAT
    partnership: str
    rows: list[HistoryRow]


class FormatProblem(ValueError):
    """Rows that are not rows of the format: each with where it is and what is wrong, all at once."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(problems)} row(s) are not in the history format")
        self.problems = problems


def _problems(where: str, error: ValidationError) -> list[dict[str, Any]]:
    return [{"row": where, "outcome": "refused", "status": 422, "code": "invalid-command",
             "title": "The command is not valid",
             "detail": f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"} for e in error.errors()]


def row_ref(row: _Row) -> str:
    """How a report names a row: its kind and key (``meeting board_march_2011``)."""
    return f"{row.kind} {row.key}"  # type: ignore[attr-defined]


class HistoryFile:
    """A parsed history file and the SHA-256 of what was read (the events name it)."""

    def __init__(self, document: HistoryDocument, sha256: str, name: str, places: list[str] | None = None) -> None:
        self.document = document
        self.sha256 = sha256
        self.name = name
        self.places = places or [f"rows[{index}]" for index in range(len(document.rows))]
        """Where each row is in what was read (``rows[3]``, ``meeting.csv line 2``): what a report names."""

    @property
    def rows(self) -> list[HistoryRow]:
        return self.document.rows


def read(path: Path) -> HistoryFile:
    """A history file: a JSON document or a folder of CSV files. Raises ``FormatProblem`` naming every bad row."""
    if path.is_dir():
        return _read_csv_folder(path)
    raw = path.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    try:
        data = json.loads(raw)
    except ValueError as error:
        raise FormatProblem([{"row": path.name, "outcome": "refused", "status": 422, "code": "invalid-command",
                              "title": "The command is not valid", "detail": f"Not JSON: {error}"}]) from error
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        raise FormatProblem([{"row": path.name, "outcome": "refused", "status": 422, "code": "invalid-command",
                              "title": "The command is not valid",
                              "detail": "Expected an object with 'format', 'partnership' and 'rows'."}])
    problems: list[dict[str, Any]] = []
    rows: list[Any] = []
    for index, item in enumerate(data["rows"]):
        where = f"rows[{index}]" + (f" ({item.get('kind')} {item.get('key')})" if isinstance(item, dict) else "")
        try:
            rows.append(_ROW.validate_python(item))
        except ValidationError as error:
            problems.extend(_problems(where, error))
    try:
        document = HistoryDocument.model_validate({**data, "rows": []})
    except ValidationError as error:
        problems.extend(_problems(path.name, error))
    if problems:
        raise FormatProblem(problems)
    document.rows = rows
    return HistoryFile(document, sha, path.name, [f"rows[{index}]" for index in range(len(rows))])


def _csv_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.csv"))


def _read_csv_folder(folder: Path) -> HistoryFile:
    digest = hashlib.sha256()
    problems: list[dict[str, Any]] = []
    ordered: list[tuple[int, Any, str]] = []
    partnership = ""
    meta = folder / "history.json"
    if meta.exists():
        raw_meta = meta.read_bytes()
        digest.update(b"history.json\0" + raw_meta + b"\0")
        partnership = str(json.loads(raw_meta).get("partnership", ""))
    for path in _csv_files(folder):
        raw = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + raw + b"\0")
        kind = path.stem
        cls = ROW_TYPES.get(kind)
        if cls is None:
            problems.append({"row": path.name, "outcome": "refused", "status": 422, "code": "invalid-command",
                             "title": "The command is not valid",
                             "detail": f"No kind of row is called '{kind}' (one of {', '.join(ROW_TYPES)})."})
            continue
        for line, record in enumerate(csv.DictReader(raw.decode("utf-8-sig").splitlines()), start=2):
            where = f"{path.name} line {line}" + (f" ({kind} {record.get('key')})" if record.get("key") else "")
            try:
                seq = int(record.pop("seq", "") or "")
            except ValueError:
                problems.append({"row": where, "outcome": "refused", "status": 422, "code": "invalid-command",
                                 "title": "The command is not valid", "detail": "seq: a whole number is required"})
                continue
            try:
                item = {name: _cell(cls, name, value) for name, value in record.items() if value not in ("", None)}
                ordered.append((seq, cls.model_validate({**item, "kind": kind}), f"{path.name} line {line}"))
            except ValueError as error:  # ValidationError is one
                problems.extend(_problems(where, error) if isinstance(error, ValidationError) else [{
                    "row": where, "outcome": "refused", "status": 422, "code": "invalid-command",
                    "title": "The command is not valid", "detail": str(error)}])
    if problems:
        raise FormatProblem(problems)
    ordered.sort(key=lambda item: item[0])
    document = HistoryDocument(partnership=partnership, rows=[row for _, row, _ in ordered])
    return HistoryFile(document, digest.hexdigest(), folder.name, [place for _, _, place in ordered])


def _structured(cls: type[_Row], name: str) -> bool:
    field = cls.model_fields.get(name)
    if field is None:
        return False
    text = str(field.annotation)
    if any(marker in text for marker in ("list", "dict")):
        return True
    types = (field.annotation, *get_args(field.annotation))
    return any(isinstance(t, type) and issubclass(t, BaseModel) for t in types)  # a decision, who acted, a risk


def _cell(cls: type[_Row], name: str, value: str) -> Any:
    if _structured(cls, name):
        try:
            return json.loads(value)
        except ValueError as error:
            raise ValueError(f"{name}: a list or object is written as JSON in its cell ({error})") from error
    return value


def to_json(document: HistoryDocument) -> str:
    return document.model_dump_json(indent=2, exclude_none=True) + "\n"


def write(document: HistoryDocument, path: Path) -> None:
    """Write a history as one JSON document (``*.json``) or as a folder of CSV files (any other path)."""
    if path.suffix == ".json":
        path.write_text(to_json(document))
        return
    path.mkdir(parents=True, exist_ok=True)
    (path / "history.json").write_text(json.dumps({"format": FORMAT, "partnership": document.partnership}) + "\n")
    by_kind: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for seq, row in enumerate(document.rows, start=1):
        data = row.model_dump(mode="json", exclude_none=True)
        data.pop("kind")
        by_kind.setdefault(row.kind, []).append((seq, data))
    for kind, items in by_kind.items():
        cls = ROW_TYPES[kind]
        columns = ["seq", *[name for name in cls.model_fields if name != "kind"]]
        with (path / f"{kind}.csv").open("w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=columns)
            writer.writeheader()
            for seq, data in items:
                writer.writerow({"seq": seq, **{name: json.dumps(value) if _structured(cls, name) else value
                                                for name, value in data.items()}})


def json_schemas() -> dict[str, dict[str, Any]]:
    """The published JSON Schemas: the whole document, and one per kind of row (a CSV file's rows)."""
    schemas = {"history.schema.json": HistoryDocument.model_json_schema()}
    for kind, cls in ROW_TYPES.items():
        schemas[f"{kind}.schema.json"] = cls.model_json_schema()
    return schemas
