"""Projects' upstream copy: the meetings and memberships of ``tasking.events`` its decisions stand on.

Interventions, deferrals, closures, re-pointings and RAG overrides are decisions of the district partnership (or
of its programme manager under a scheme of delegation); projects keeps its own copy (``shared.meeting_copy``),
beside the taskings it knows, and reads nothing else of tasking's for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.consumer import ConsumerRunner
from shared.meeting_copy import meetings_consumer
from shared.settings import Settings
from shared.transport import Transport

if TYPE_CHECKING:
    from services.projects.application import ProjectsApplication


def meetings(app: ProjectsApplication, settings: Settings, transport: Transport) -> ConsumerRunner:
    return meetings_consumer("projects", app.known_taskings.store, settings, transport)
