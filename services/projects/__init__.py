"""Delivery: programmes, projects, milestones, progress, RAG, interventions and agreed actions."""

from __future__ import annotations

from shared.service import ServiceSpec


def _spec() -> ServiceSpec:
    from services.projects.api import create_app
    from services.projects.application import ProjectsApplication
    from services.projects.demo import load_demo
    from services.projects.policies import consumers

    return ServiceSpec(name="projects", application=ProjectsApplication, create_api=create_app,
                       consumes=("tasking.events",), consumers=consumers, load_demo=load_demo)


SPEC = _spec()
