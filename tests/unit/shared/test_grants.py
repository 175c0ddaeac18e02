"""Grants: a role in a scope, mapped from an identity provider's claims through configuration; one rule authorizes."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.runtime import make_tokens
from shared.auth import Grant, Principal, Role, authorize, map_grants
from shared.errors import NotPermitted
from shared.settings import IssuerConfig, Settings

KEY = "unit-test-signing-key-0123456789-abcdefghij"
ENTRA = IssuerConfig.model_validate({
    "issuer": "https://login.microsoftonline.com/7f0c2a4e-0000-4000-8000-000000000000/v2.0",
    "audience": "api://partnership", "subject_claim": "oid", "client_id_claim": "azp",
    "organisation": "wychavon-dc",
    "grants": [
        {"claim": "roles", "match": r"ProgrammeManager\.(?P<scope>[a-z-]+)", "role": "programme_manager"},
        {"claim": "roles", "value": "Partnership.Officer", "role": "partnership_officer"},
        {"claim": "groups", "value": "3b3a4c55-0000-4000-8000-00000000c00d", "role": "district_coordinator",
         "scope": "worcester"},
        {"claim": "roles", "match": r"(?P<role>auditor|scrutiny_member)"},
    ]})
KEYCLOAK = IssuerConfig.model_validate({
    "issuer": "https://sso.example.org/realms/partnership", "audience": "partnership-api",
    "organisation_claim": "groups", "organisation_match": "^/organisations/(?P<organisation>[^/]+)$",
    "grants": [{"claim": "groups", "match": "^/districts/(?P<scope>[^/]+)/programme-managers$",
                "role": "programme_manager"},
               {"claim": "resource_access.partnership-api.roles", "value": "lead-pstg", "role": "theme_group_lead",
                "scope": "pstg"},
               {"claim": "realm_access.roles", "value": "partner-officer", "role": "partner_officer"}]})


def test_entra_app_roles_and_groups_map_to_grants_each_in_its_scope() -> None:
    claims = {"roles": ["ProgrammeManager.wychavon", "Reader", "auditor"],
              "groups": ["3b3a4c55-0000-4000-8000-00000000c00d", "unrelated-group"]}
    assert map_grants(ENTRA, claims, "wychavon-dc") == {
        Grant(Role.PROGRAMME_MANAGER, "wychavon"), Grant(Role.DISTRICT_COORDINATOR, "worcester"),
        Grant(Role.AUDITOR)}


def test_keycloak_groups_and_client_roles_map_to_grants() -> None:
    claims = {"groups": ["/organisations/worcester-college", "/districts/redditch/programme-managers"],
              "resource_access": {"partnership-api": {"roles": ["lead-pstg"]}},
              "realm_access": {"roles": ["partner-officer", "offline_access"]}}
    assert map_grants(KEYCLOAK, claims, "worcester-college") == {
        Grant(Role.PROGRAMME_MANAGER, "redditch"), Grant(Role.THEME_GROUP_LEAD, "pstg"),
        Grant(Role.PARTNER_OFFICER, "worcester-college")}  # a partner officer acts for their own organisation


def test_a_command_passes_only_when_one_grant_matches_both_role_and_scope() -> None:
    person = Principal("p-1", "wychavon-dc", frozenset({Grant(Role.PROGRAMME_MANAGER, "wychavon"),
                                                       Grant(Role.DISTRICT_COORDINATOR, "worcester")}))
    assert authorize(person, (Role.PROGRAMME_MANAGER, "wychavon"), refusal="no") == Grant(
        Role.PROGRAMME_MANAGER, "wychavon")
    assert authorize(person, (Role.DISTRICT_COORDINATOR, "worcester"), refusal="no").scope == "worcester"
    with pytest.raises(NotPermitted) as refused:  # manager somewhere and Worcester's coordinator: not both at once
        authorize(person, (Role.PROGRAMME_MANAGER, "worcester"), refusal="Only worcester's programme manager")
    assert refused.value.details["held"] == ["district_coordinator:worcester", "programme_manager:wychavon"]
    assert person.actor(Grant(Role.DISTRICT_COORDINATOR, "worcester")).scope == "worcester"


def test_a_mapping_rule_must_say_what_it_matches_and_which_role_it_gives() -> None:
    with pytest.raises(ValidationError, match="exactly one of value or match"):
        IssuerConfig.model_validate({"issuer": "https://idp.example.org", "audience": "a",
                                     "grants": [{"claim": "roles", "role": "auditor"}]})
    with pytest.raises(ValidationError, match="name the role"):
        IssuerConfig.model_validate({"issuer": "https://idp.example.org", "audience": "a",
                                     "grants": [{"claim": "roles", "value": "x"}]})
    with pytest.raises(ValidationError, match="https"):
        IssuerConfig.model_validate({"issuer": "http://idp.example.org", "audience": "a"})
    with pytest.raises(ValidationError):
        IssuerConfig.model_validate({"issuer": "https://idp.example.org", "audience": "a", "algorithms": ["HS256"]})


def test_a_distributed_process_refuses_hs256_only_configuration(tmp_path: Path) -> None:
    distributed = {"data_dir": tmp_path, "database_url": "postgresql://u:p@127.0.0.1:1/db", "jwt_secret": KEY}
    with pytest.raises(RuntimeError, match="only an identity provider's tokens"):
        make_tokens(Settings(**distributed))
    assert make_tokens(Settings(**distributed, dev_tokens=True)).can_mint  # explicitly: tests, a demo host
    with_idp = make_tokens(Settings(**distributed, oidc_issuers=[KEYCLOAK]))
    assert not with_idp.can_mint and with_idp.oidc is not None
    with pytest.raises(RuntimeError, match="signs no tokens of its own"):
        with_idp.mint("someone", "worcestershire-cc", ["auditor"])
    assert make_tokens(Settings(data_dir=tmp_path)).can_mint  # the embedded mode keeps its own tokens


def test_a_minted_token_may_carry_grants_in_several_scopes(tmp_path: Path) -> None:
    tokens = make_tokens(Settings(data_dir=tmp_path))
    token = tokens.mint("p-2", "wychavon-dc", ["programme_manager"], district="wychavon",
                        grants=[Grant(Role.DISTRICT_COORDINATOR, "worcester")])
    assert tokens.verify(token).grants == {Grant(Role.PROGRAMME_MANAGER, "wychavon"),
                                           Grant(Role.DISTRICT_COORDINATOR, "worcester")}


def test_every_role_has_the_kind_of_scope_its_grants_carry() -> None:
    # A role added without one made every token naming it a 500 (the witness role did, until it had one).
    from shared.auth import SCOPE_OF_ROLE, Role
    assert set(SCOPE_OF_ROLE) == set(Role)
