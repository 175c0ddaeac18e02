"""The seed's worked example (Appendix 4B), strategy part: SCS objective -> County Economic Strategy objective."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from services.priorities.application import PrioritiesApplication
from shared.contracts import Actor, Decision
from shared.contracts.priorities import StrategyLevel
from shared.eventstore import CommandContext
from shared.service import WaitFor

DEMO_OFFICER = Actor(user_id="demo-loader", organisation="worcestershire-cc", role="partnership_officer")


def load_demo(app: PrioritiesApplication, ids: dict[str, UUID], wait_for: WaitFor) -> None:
    context = CommandContext(DEMO_OFFICER, "demo-data")
    board = Decision(body="worcestershire-partnership", decided_on=date(2011, 3, 1),
                     reason="Sustainable Community Strategy agreed by the partnership board")
    scs = app.add_objective(context, title="A skilled and prosperous economy", level=StrategyLevel.SCS,
                            strategy="Sustainable Community Strategy", decision=board)
    ids["scs_objective"] = scs.id
    economic = Decision(body="pstg", decided_on=date(2011, 4, 12),
                        reason="County Economic Strategy refines the SCS economic objective")
    county = app.add_objective(
        context, title="Enhance employability levels, removing barriers to employment and improving skills",
        level=StrategyLevel.COUNTY_STRATEGY, strategy="County Economic Strategy", parent_id=scs.id,
        decision=economic)
    ids["county_objective"] = county.id
