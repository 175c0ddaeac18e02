"""Ids derived from an Idempotency-Key are stored: a retried create finds the first result only while each service
derives exactly the id it derived before. These derivations are pinned."""

from __future__ import annotations

from uuid import UUID

import pytest

from services.priorities.application import IDEMPOTENT_IDS as PRIORITIES
from services.projects.application import IDEMPOTENT_IDS as PROJECTS
from services.tasking.domain import IDEMPOTENT_IDS as TASKING
from shared.contracts import Actor
from shared.eventstore import IdempotentIds

OFFICER = Actor("officer-1", "worcestershire-cc", "partnership_officer")
COORDINATOR = Actor("coord-9", "worcester-city-council", "district_coordinator")
MANAGER = Actor("pm-1", "worcester-city-council", "programme_manager")
WYRE_MANAGER = Actor("pm-2", "wyre-forest-dc", "programme_manager")
SCHEMES: dict[str, IdempotentIds] = {"priorities": PRIORITIES, "tasking": TASKING, "projects": PROJECTS}


def _derived(service: str, kind: str, actor: Actor, key: str) -> UUID:
    derived = SCHEMES[service].id_for(kind, actor, key)
    assert derived is not None
    return derived


@pytest.mark.parametrize(("service", "kind", "actor", "key", "expected"), [
    ("priorities", "objective", OFFICER, "key-1", "ce5bf6b2-7c19-58c7-bed3-21db0562149f"),
    ("priorities", "evidence", COORDINATOR, "2024-06-01/upload", "0c9bd003-8ac1-5ae4-9502-81c022cfafd8"),
    ("tasking", "tasking", OFFICER, "key-1", "d6e1f201-7871-5ff5-ada3-f864edce93f0"),
    ("tasking", "meeting", COORDINATOR, "m-7", "e3e1dc01-8484-5bef-99b5-54dfe6970545"),
    ("projects", "project", MANAGER, "key-1", "31226bb2-12ce-5cd9-9de2-57b1f9f6d602"),
    ("projects", "project", WYRE_MANAGER, "open-42", "4d5bdb9f-698e-5b3f-9053-9afaec7faa18"),
])
def test_an_idempotency_key_derives_the_id_it_always_derived(service: str, kind: str, actor: Actor, key: str,
                                                             expected: str) -> None:
    assert _derived(service, kind, actor, key) == UUID(expected)


@pytest.mark.parametrize("service", sorted(SCHEMES))
def test_a_create_without_a_key_gets_a_fresh_id(service: str) -> None:
    assert SCHEMES[service].id_for("objective", OFFICER, None) is None
    assert SCHEMES[service].id_for("objective", OFFICER, "") is None


def test_priorities_keys_are_per_user_and_tasking_and_projects_keys_per_organisation() -> None:
    colleague = Actor("officer-2", OFFICER.organisation, OFFICER.role)
    assert PRIORITIES.id_for("objective", OFFICER, "k") != PRIORITIES.id_for("objective", colleague, "k")
    assert TASKING.id_for("tasking", OFFICER, "k") == TASKING.id_for("tasking", colleague, "k")
    assert TASKING.id_for("tasking", OFFICER, "k") != TASKING.id_for("meeting", OFFICER, "k")
    assert PROJECTS.id_for("project", MANAGER, "k") == PROJECTS.id_for("project", Actor("pm-3", MANAGER.organisation,
                                                                                          MANAGER.role), "k")
