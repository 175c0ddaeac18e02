"""The seed's worked example (Appendix 4B), coordination part: PSTG tasks Worcester with 1,200 of the 6,000 jobs."""

from __future__ import annotations

from uuid import UUID

from services.tasking.application import TaskingApplication
from shared.service import WaitFor


def load_demo(app: TaskingApplication, ids: dict[str, UUID], wait_for: WaitFor) -> None:
    return None
