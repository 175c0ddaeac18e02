"""Coordination: memberships, taskings of district partnerships, lead partners, retasking and decisions."""

from __future__ import annotations

from shared.service import ServiceSpec


def _spec() -> ServiceSpec:
    from services.tasking.api import create_app
    from services.tasking.application import TaskingApplication
    from services.tasking.demo import load_demo, load_tables
    from services.tasking.policies import consumers

    return ServiceSpec(name="tasking", application=TaskingApplication, create_api=create_app,
                       consumes=("priorities.events",), consumers=consumers, load_demo=load_demo,
                       load_demo_first=load_tables)


SPEC = _spec()
