"""Publication of performance: a period's figures reach the open-data feed only after a release decision.

The release is a command, so it belongs to a service that records decisions, not to reporting (the read side).
It lives in priorities because the figures released are performance against the partnership's targets, and the
body that releases them is the county partnership that sets those targets (partnership officers); it needs no
state of another service, and no new deployable, database or topic.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel

from services.priorities.application import PrioritiesApplication
from shared.auth import Principal, Role
from shared.contracts import Actor, Decision
from shared.contracts.priorities import PUBLICATION_RECORD_ID, PerformanceReleased
from shared.decisions import DecisionKind
from shared.errors import ConcurrentChange, InvalidCommand, RuleViolated
from shared.eventstore import AccountableAggregate, CommandContext
from shared.fields import Day
from shared.web import DecisionIn, StrictModel, correlation_id, require_role


def _check_release(starts_on: date, ends_on: date, decision: Decision | None, today: date,
                   released: list[tuple[date, date]]) -> Decision:
    problems = []
    if ends_on < starts_on:
        problems.append({"field": "ends_on", "message": "The period ends before it starts."})
    if ends_on >= today:
        problems.append({"field": "ends_on", "message": "A period's figures are released after the period ends."})
    if decision is None or not decision.reason.strip():
        problems.append({"field": "decision", "message": "Say which body approved the release, when and why."})
    elif decision.decided_on < ends_on:
        problems.append({"field": "decision.decided_on",
                         "message": "The release is approved after the period ends, on its final figures."})
    if problems:
        raise InvalidCommand("The figures cannot be released: " + " ".join(p["message"] for p in problems), problems)
    for start, end in released:
        if starts_on <= end and start <= ends_on:
            raise RuleViolated(f"The period overlaps one already released ({start.isoformat()} to "
                               f"{end.isoformat()}): released figures are not released again.")
    assert decision is not None
    return decision


class PublicationRecord(AccountableAggregate):
    """The partnership's releases of performance figures for public display, in the order decided."""

    class FirstReleased(AccountableAggregate.Created, PerformanceReleased):
        pass

    class Released(AccountableAggregate.Event, PerformanceReleased):
        def apply(self, aggregate: Any) -> None:
            aggregate.released.append((self.starts_on, self.ends_on))

    def __init__(self, *, starts_on: date, ends_on: date, actor: Actor, correlation_id: str,
                 decision: Decision | None) -> None:
        self.released: list[tuple[date, date]] = [(starts_on, ends_on)]

    @classmethod
    def first_release(cls, context: CommandContext, *, starts_on: date, ends_on: date, decision: Decision | None,
                      today: date) -> PublicationRecord:
        decision = _check_release(starts_on, ends_on, decision, today, [])
        return cls._create(cls.FirstReleased, id=PUBLICATION_RECORD_ID, actor=context.actor,
                           correlation_id=context.correlation_id, decision=decision, starts_on=starts_on,
                           ends_on=ends_on)

    def release(self, context: CommandContext, *, starts_on: date, ends_on: date, decision: Decision | None,
                today: date) -> None:
        decision = _check_release(starts_on, ends_on, decision, today, self.released)
        self._happened(self.Released, context, decision=decision, starts_on=starts_on, ends_on=ends_on)


def release_performance(application: PrioritiesApplication, context: CommandContext, *, starts_on: date,
                        ends_on: date, decision: Decision | None, today: date | None = None) -> PublicationRecord:
    """Record the release of a period's figures (the record is created with the first release), by a decision of
    the partnership board (at a meeting, or by its officer under a scheme of delegation)."""
    today = today or date.today()
    if decision is not None:
        decision = application.decided(decision, what="Releasing performance figures",
                                       kind=DecisionKind.PERFORMANCE_RELEASE, bodies=application.boards,
                                       context=context)
    for _attempt in range(3):
        try:
            record: PublicationRecord = application.repository.get(PUBLICATION_RECORD_ID)
            record.release(context, starts_on=starts_on, ends_on=ends_on, decision=decision, today=today)
        except AggregateNotFoundError:
            record = PublicationRecord.first_release(context, starts_on=starts_on, ends_on=ends_on,
                                                     decision=decision, today=today)
        try:
            application.save(record)
        except IntegrityError:
            continue  # another release was recorded at the same time: check against it
        return record
    raise ConcurrentChange("Releases were being recorded at the same time; send it again.")


class ReleasePerformance(StrictModel):
    starts_on: Day
    ends_on: Day
    decision: DecisionIn


class ReleaseOut(BaseModel):
    starts_on: date
    ends_on: date
    version: int


router = APIRouter()


@router.post("/performance-releases", status_code=status.HTTP_201_CREATED, response_model=ReleaseOut,
             tags=["open data"], summary="Release a period's performance figures for public display, by a decision")
def release(body: ReleasePerformance, request: Request,
            principal: Annotated[Principal, Depends(require_role(Role.PARTNERSHIP_OFFICER))]) -> Any:
    application: PrioritiesApplication = request.app.state.application
    record = release_performance(application, CommandContext(principal.actor(Role.PARTNERSHIP_OFFICER),
                                                             correlation_id(request)),
                                 starts_on=body.starts_on, ends_on=body.ends_on, decision=body.decision.to_decision())
    return ReleaseOut(starts_on=body.starts_on, ends_on=body.ends_on, version=record.version)
