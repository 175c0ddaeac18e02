"""Priorities' upstream copy: the meetings and memberships of ``tasking.events`` its decisions stand on.

Strategy decisions (agreeing priorities, setting targets, SCS reviews, releases) are taken at meetings tasking
records; priorities keeps its own copy (``shared.meeting_copy``) and reads nothing else of tasking's.
"""

from __future__ import annotations

from services.priorities.application import PrioritiesApplication
from shared.consumer import ConsumerRunner
from shared.meeting_copy import meetings_consumer
from shared.settings import Settings
from shared.transport import Transport


def consumers(app: PrioritiesApplication, settings: Settings, transport: Transport) -> list[ConsumerRunner]:
    return [meetings_consumer("priorities", app.local, settings, transport)]
