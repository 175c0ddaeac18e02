"""Strategy: SCS and county-strategy objectives, SMART targets, district priorities and local evidence."""

from __future__ import annotations

from shared.service import ServiceSpec


def _spec() -> ServiceSpec:
    from services.priorities.api import create_app
    from services.priorities.application import PrioritiesApplication
    from services.priorities.demo import load_demo
    from services.priorities.meetings import consumers

    return ServiceSpec(name="priorities", application=PrioritiesApplication, create_api=create_app,
                       consumes=("tasking.events",), consumers=consumers, load_demo=load_demo)


SPEC = _spec()
