"""Local evidence: submitted by a district for its place, sifted once by the county (accepted or noted)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from services.priorities.domain import Evidence, EvidenceStatus
from shared.contracts.priorities import EvidenceFigure
from shared.errors import InvalidCommand, RuleViolated
from tests.unit.priorities.builders import OFFICER, WORCESTER


def _submit(**changes: object) -> Evidence:
    values: dict[str, object] = dict(
        district="worcester", title="Jobseekers in Worcester",
        summary="Claimant count rose by a third since 2008", source="ONS claimant count",
        evidence_date=date(2011, 5, 1), figures=[EvidenceFigure("claimants", Decimal(2300), "people")],
        objective_ids=[uuid4()],
    )
    values.update(changes)
    return Evidence.submit(WORCESTER, **values)  # type: ignore[arg-type]


def test_submitted_evidence_awaits_the_sift() -> None:
    # Who may submit for which district is ``services.priorities.permissions`` (test_permissions.py).
    assert _submit().status == EvidenceStatus.SUBMITTED


def test_evidence_is_attached_to_an_objective_or_a_priority() -> None:
    with pytest.raises(InvalidCommand) as refused:
        _submit(objective_ids=[], priority_ids=[])
    assert refused.value.problems[0]["field"] == "objective_ids"
    assert _submit(objective_ids=[], priority_ids=[uuid4()]).status == EvidenceStatus.SUBMITTED


def test_evidence_needs_a_title_a_summary_and_a_source() -> None:
    with pytest.raises(InvalidCommand) as refused:
        _submit(title="", summary=" ", source="")
    assert sorted(p["field"] for p in refused.value.problems) == ["source", "summary", "title"]


def test_the_county_accepts_or_notes_evidence_once() -> None:
    accepted = _submit()
    accepted.accept(OFFICER)
    assert accepted.status == EvidenceStatus.ACCEPTED
    with pytest.raises(RuleViolated):
        accepted.note(OFFICER, reason="Too late")


def test_noting_evidence_needs_a_reason() -> None:
    evidence = _submit()
    with pytest.raises(InvalidCommand):
        evidence.note(OFFICER, reason="  ")
    evidence.note(OFFICER, reason="Covered by the county's own survey")
    assert evidence.status == EvidenceStatus.NOTED
    assert evidence.collect_events()[-1].reason == "Covered by the county's own survey"  # type: ignore[attr-defined]
