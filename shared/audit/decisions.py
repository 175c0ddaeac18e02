"""Which state changes must carry a decision reference: the one list the completeness check reads.

The paper (DOMAIN.md): every agreement, tasking, retasking, intervention and closure carries a decision. Some of
these the domain already refuses without one; others (a tasking's completion) it accepts, and the check is how an
auditor finds them.
"""

from __future__ import annotations

from shared.contracts import Fact, contract_type
from shared.contracts import priorities as p
from shared.contracts import projects as d
from shared.contracts import tasking as t

_REQUIRING_A_DECISION: tuple[type[Fact], ...] = (
    # strategy: changes to agreed things
    p.ObjectiveReworded, p.ObjectiveRetired, p.TargetRevised, p.TargetRetired, p.TargetProfiled,
    p.TargetReportingIntervalSet,
    p.PriorityAgreed, p.PriorityRejected, p.PriorityRetired, p.PriorityReconfirmed,
    p.ChapterPriorityAgreed, p.ChapterPriorityRetired, p.ScsReviewOpened, p.ScsReviewClosed,
    # coordination: taskings, retaskings and their ends
    t.TaskingIssued, t.TaskingRetasked, t.TaskingWithdrawn, t.TaskingCompleted, t.ShareProfiled,
    # data protection: erasures and redactions, delegated decisions
    t.PersonalDataErased, t.FreeTextRedacted,
    # scrutiny: a pack published for a committee meeting, a delegated decision
    t.ScrutinyPackPublished,
    # delivery: interventions, deferral, closure, re-pointing
    d.InterventionRecorded, d.ProjectDeferred, d.ProjectResumed, d.ProjectClosed, d.ContributionRepointed,
)

DECISION_REQUIRED: frozenset[str] = frozenset(contract_type(cls) for cls in _REQUIRING_A_DECISION)
"""CloudEvent types (``<service>.<Event>.v<n>``) whose events must carry a decision."""


def requires_decision(type_name: str) -> bool:
    return type_name in DECISION_REQUIRED
