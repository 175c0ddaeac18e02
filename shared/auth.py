"""Authentication (JWT bearer tokens: issuer, audience, roles, organisation) and the roles of the partnership."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from enum import StrEnum

import jwt

from shared.contracts import Actor

ALGORITHMS = ["HS256"]


class Role(StrEnum):
    PARTNERSHIP_OFFICER = "partnership_officer"  # county partnership: SCS, targets
    THEME_GROUP_LEAD = "theme_group_lead"  # issues and retasks the group's taskings
    DISTRICT_COORDINATOR = "district_coordinator"  # acts for one district partnership
    PROGRAMME_MANAGER = "programme_manager"  # a district's programme of delivery
    PARTNER_OFFICER = "partner_officer"  # a partner organisation's people (lead partner, project manager)
    AUDITOR = "auditor"  # reads and verifies, never writes
    SCRUTINY_MEMBER = "scrutiny_member"  # elected member: reads, never writes


READ_ONLY_ROLES = frozenset({Role.AUDITOR, Role.SCRUTINY_MEMBER})


class AuthenticationError(Exception):
    """No token, or a token that is expired, wrongly signed, for another audience or issuer."""


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, from the token's claims."""

    user_id: str
    organisation: str
    roles: frozenset[Role]
    district: str | None = None
    theme_group: str | None = None
    client_id: str | None = None

    def has(self, role: Role) -> bool:
        return role in self.roles

    def actor(self, role: Role) -> Actor:
        return Actor(user_id=self.user_id, organisation=self.organisation, role=role.value)


class TokenService:
    """Verifies and (for local use) mints tokens with one symmetric key."""

    def __init__(self, key: str, issuer: str, audience: str) -> None:
        if len(key) < 32:
            raise ValueError("the JWT signing key must be at least 32 characters")
        self._key = key
        self.issuer = issuer
        self.audience = audience

    def mint(self, user_id: str, organisation: str, roles: list[str], *, district: str | None = None,
             theme_group: str | None = None, ttl_seconds: int = 3600) -> str:
        now = int(time.time())
        claims: dict[str, object] = {
            "sub": user_id, "org": organisation, "roles": roles, "iss": self.issuer, "aud": self.audience,
            "iat": now, "nbf": now, "exp": now + ttl_seconds, "jti": str(uuid.uuid4()),
        }
        if district:
            claims["district"] = district
        if theme_group:
            claims["theme_group"] = theme_group
        return jwt.encode(claims, self._key, algorithm="HS256")

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token, self._key, algorithms=ALGORITHMS, audience=self.audience, issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise AuthenticationError(f"invalid token: {error}") from error
        roles: set[Role] = set()
        for name in claims.get("roles") or []:
            try:
                roles.add(Role(name))
            except ValueError:
                continue  # roles of other systems mean nothing here: default deny
        org = claims.get("org")
        if not isinstance(org, str) or not org:
            raise AuthenticationError("invalid token: no organisation claim")
        return Principal(
            user_id=str(claims["sub"]), organisation=org, roles=frozenset(roles),
            district=claims.get("district"), theme_group=claims.get("theme_group"),
            client_id=claims.get("client_id"),
        )
