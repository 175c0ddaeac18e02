"""Authentication and authorization: bearer tokens from an organisation's OpenID Connect identity provider (RS256 /
ES256, keys by discovery and JWKS) or, in the embedded mode, the process's own HS256 tokens; their claims mapped to
grants (a role in a scope); the one rule that authorizes a command; OAuth2 client credentials (RFC 6749 section
4.4) for partner systems in the embedded mode."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import httpx
import jwt
import yaml
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from jwt import PyJWKClient, PyJWKClientConnectionError, PyJWKClientError

from shared.audit.people import note_name
from shared.contracts import Actor
from shared.errors import NotPermitted, NotYetKnown
from shared.settings import IssuerConfig, Settings

log = logging.getLogger(__name__)

ALGORITHMS = ["HS256"]
"""The embedded mode's own tokens. Tokens of an organisation's identity provider are asymmetric: OIDC_ALGORITHMS."""
OIDC_ALGORITHMS = ("RS256", "ES256")


class Role(StrEnum):
    PARTNERSHIP_OFFICER = "partnership_officer"  # county partnership: SCS, targets
    THEME_GROUP_LEAD = "theme_group_lead"  # issues and retasks the group's taskings
    DISTRICT_COORDINATOR = "district_coordinator"  # acts for one district partnership
    PROGRAMME_MANAGER = "programme_manager"  # a district's programme of delivery
    PARTNER_OFFICER = "partner_officer"  # a partner organisation's people (lead partner, project manager)
    AUDITOR = "auditor"  # reads and verifies, never writes
    SCRUTINY_MEMBER = "scrutiny_member"  # elected member: reads, never writes
    WITNESS = "witness"  # an outside witness of the audit log: returns cosignatures of its checkpoints, nothing else
    PUBLIC = "public"  # anyone, signed in or not: sees what open data publishes (the public web pages), nothing more


READ_ONLY_ROLES = frozenset({Role.AUDITOR, Role.SCRUTINY_MEMBER, Role.PUBLIC})


class ScopeKind(StrEnum):
    """What a role's scope names: the whole partnership (no scope), a district, a theme group, an organisation."""

    PARTNERSHIP = "partnership"
    DISTRICT = "district"
    THEME_GROUP = "theme_group"
    ORGANISATION = "organisation"


SCOPE_OF_ROLE: dict[Role, ScopeKind] = {
    Role.PARTNERSHIP_OFFICER: ScopeKind.PARTNERSHIP,
    Role.THEME_GROUP_LEAD: ScopeKind.THEME_GROUP,
    Role.DISTRICT_COORDINATOR: ScopeKind.DISTRICT,
    Role.PROGRAMME_MANAGER: ScopeKind.DISTRICT,
    Role.PARTNER_OFFICER: ScopeKind.ORGANISATION,
    Role.AUDITOR: ScopeKind.PARTNERSHIP,
    Role.SCRUTINY_MEMBER: ScopeKind.PARTNERSHIP,
    Role.WITNESS: ScopeKind.PARTNERSHIP,  # cosigns the partnership's tree heads; reads nothing, writes no record
    Role.PUBLIC: ScopeKind.PARTNERSHIP,
}


@dataclass(frozen=True)
class Grant:
    """A role with its scope: programme manager *in Wychavon*, lead *of the PSTG*, partner officer *of the college*.
    A partnership-wide role (officer, auditor, scrutiny member) has no scope."""

    role: Role
    scope: str | None = None

    def __post_init__(self) -> None:
        if SCOPE_OF_ROLE[self.role] is ScopeKind.PARTNERSHIP and self.scope is not None:
            object.__setattr__(self, "scope", None)  # a partnership-wide role is the same grant whatever it names

    def covers(self, role: Role, scope: str | None) -> bool:
        """Does this grant allow acting as ``role`` on a record whose scope (district, theme group, organisation) is
        ``scope``? A scoped role needs the very scope; a grant that names none matches no scoped record."""
        if self.role is not role:
            return False
        return SCOPE_OF_ROLE[role] is ScopeKind.PARTNERSHIP or (self.scope is not None and self.scope == scope)

    def __str__(self) -> str:
        return self.role.value if self.scope is None else f"{self.role.value}:{self.scope}"

    def sort_key(self) -> tuple[str, str]:
        return self.role.value, self.scope or ""


class AuthenticationError(Exception):
    """No token, or a token that is expired, wrongly signed, for another audience or issuer."""


class IdentityProviderUnavailable(NotYetKnown):
    """The identity provider's discovery document or keys could not be fetched: the token may well be good."""

    code = "identity-provider-unavailable"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: who (an opaque subject id), for which organisation, and the grants they hold."""

    user_id: str
    organisation: str
    grants: frozenset[Grant]
    client_id: str | None = None
    """A partner system's client id (the token's ``azp``, or the built-in endpoint's client); None for a person."""
    queries: frozenset[str] | None = None
    """For a partner system's token: the GraphQL queries its client is granted (None: not restricted)."""
    name: str | None = None
    """The person's name as the token gives it (``name``): personal data, kept only in the people vault."""

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(grant.role for grant in self.grants)

    def has(self, role: Role) -> bool:
        return any(grant.role is role for grant in self.grants)

    def scopes(self, role: Role) -> list[str]:
        """The scopes in which the caller holds ``role`` (the districts one manages the programme of), sorted."""
        return sorted({g.scope for g in self.grants if g.role is role and g.scope is not None})

    def grant_for(self, role: Role, scope: str | None = None) -> Grant | None:
        """The grant that lets the caller act as ``role`` on a record of ``scope``, if any."""
        return next((grant for grant in sorted(self.grants, key=Grant.sort_key) if grant.covers(role, scope)), None)

    def may_query(self, name: str) -> bool:
        """May the caller run the GraphQL query ``name``? People: by role; a partner system: only if granted; the
        public (no other grant): only the queries of what open data publishes (``PUBLIC_QUERIES``)."""
        if self.is_public:
            return name in PUBLIC_QUERIES and (self.queries is None or name in self.queries)
        return self.queries is None or name in self.queries

    @property
    def is_public(self) -> bool:
        """Holds no grant but the public role: sees only what open data publishes, field by field. A person signed
        in whose claims map to no grant is authenticated, not authorized, and a witness only returns cosignatures: both
        see what the public sees."""
        return self.roles <= {Role.PUBLIC, Role.WITNESS}

    def actor(self, grant: Grant | Role) -> Actor:
        """The actor an event records: who, their organisation, and the grant the command passed under."""
        if isinstance(grant, Role):
            grant = Grant(grant)
        note_name(self.user_id, self.name)  # the vault records it with the pseudonym when the act is stored
        return Actor(user_id=self.user_id, organisation=self.organisation, role=grant.role.value, scope=grant.scope)


PUBLIC_QUERIES = frozenset({
    "partnership", "districts", "themeGroups", "objectives", "objectiveTree", "targets", "taskings", "decisions",
    "memberships", "meetings", "performanceReleases", "releasedPerformance", "node", "nodes",
})
"""The GraphQL queries the public may run: the partnership's published decisions (strategy, targets, taskings,
tables, meetings, decisions) and performance of released periods (``node``/``nodes`` answer it objects of those
only). Which fields of their answers it may select is ``services.reporting.public.PUBLIC_FIELDS``: never a person,
never an unreleased figure."""

PUBLIC = Principal(user_id="public", organisation="public", grants=frozenset({Grant(Role.PUBLIC)}))
"""The anonymous caller of the public web pages (``web``): never a service token."""


def _name(claims: dict[str, Any]) -> str | None:
    name = claims.get("name")
    return name[:200] if isinstance(name, str) and name.strip() else None


def authorize(principal: Principal, *allowed: tuple[Role, str | None], refusal: str) -> Grant:
    """The one authorization rule: a command passes when one of the caller's grants matches both a role it allows
    and the record's scope (``allowed``: pairs of role and the record's district, theme group or organisation, in
    order of preference). Returns that grant, which the command's events record; refuses with ``refusal``."""
    for role, scope in allowed:
        grant = principal.grant_for(role, scope)
        if grant is not None:
            return grant
    raise NotPermitted(refusal, needs=[str(Grant(role, scope)) for role, scope in allowed],
                       held=sorted(str(grant) for grant in principal.grants))


def grants_from_claims(roles: Iterable[object], organisation: str, *, district: str | None = None,
                       theme_group: str | None = None) -> frozenset[Grant]:
    """The grants of an embedded-mode token: each role in the scope its claim names (``district``, ``theme_group``;
    a partner officer acts for the token's organisation). Roles of other systems mean nothing here: default deny."""
    scope_of = {ScopeKind.DISTRICT: district, ScopeKind.THEME_GROUP: theme_group,
                ScopeKind.ORGANISATION: organisation, ScopeKind.PARTNERSHIP: None}
    grants: set[Grant] = set()
    for name in roles:
        try:
            role = Role(str(name))
        except ValueError:
            continue
        grants.add(Grant(role, scope_of[SCOPE_OF_ROLE[role]]))
    return frozenset(grants)


def key_id(key: str) -> str:
    """A token's ``kid``: names which signing key made it without revealing anything usable about the key."""
    return hashlib.sha256(b"partnership-jwt-kid:" + key.encode()).hexdigest()[:16]


VERIFIED_TOKENS_KEPT = 4096


class TokenService:
    """Verifies bearer tokens: an organisation's identity provider's (OpenID Connect, ``oidc``) and, in the embedded
    mode (or where development tokens are allowed explicitly), the process's own HS256 tokens, which it also mints."""

    def __init__(self, key: str | None, issuer: str, audience: str, previous_keys: Iterable[str] = (), *,
                 oidc: OidcVerifier | None = None) -> None:
        """``key`` signs new tokens (None: no HS256 tokens at all); tokens signed with ``previous_keys`` are still
        accepted (key rotation: deploy the new key with the old one as previous, wait for the old tokens to expire,
        then drop it)."""
        for candidate in (*((key,) if key is not None else ()), *previous_keys):
            if len(candidate) < 32:
                raise ValueError("a JWT signing key must be at least 32 characters")
        self._key = key
        self._keys = {key_id(k): k for k in (*previous_keys, *((key,) if key is not None else ()))}
        self.issuer = issuer
        self.audience = audience
        self.oidc = oidc
        # Verified tokens and their expiry: a client sends the same token with every request, and checking its
        # signature and claims again each time was a tenth of a command's CPU. Keys only change with a restart.
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._verified_lock = threading.Lock()

    @property
    def can_mint(self) -> bool:
        """Does this process sign tokens of its own (the embedded mode's, the built-in token endpoint's)?"""
        return self._key is not None

    def mint(self, user_id: str, organisation: str, roles: list[str], *, district: str | None = None,
             theme_group: str | None = None, ttl_seconds: int = 3600, client_id: str | None = None,
             queries: Iterable[str] | None = None, scope: str | None = None,
             grants: Iterable[Grant] = (), name: str | None = None) -> str:
        """An HS256 token of the embedded mode. ``roles`` take their scope from ``district`` / ``theme_group``;
        ``grants`` add roles in scopes of their own (programme manager in Wychavon *and* coordinator in Worcester)."""
        if self._key is None:
            raise RuntimeError("this process signs no tokens of its own: sign in through the identity provider "
                               "(PARTNERSHIP_OIDC_ISSUERS), or allow development tokens (PARTNERSHIP_DEV_TOKENS)")
        now = int(time.time())
        claims: dict[str, object] = {
            "sub": user_id, "org": organisation, "roles": roles, "iss": self.issuer, "aud": self.audience,
            "iat": now, "nbf": now, "exp": now + ttl_seconds, "jti": str(uuid.uuid4()),
        }
        if district:
            claims["district"] = district
        if theme_group:
            claims["theme_group"] = theme_group
        extra = sorted(set(grants), key=Grant.sort_key)
        if extra:
            claims["grants"] = [{"role": g.role.value, "scope": g.scope} for g in extra]
        if client_id:
            claims["client_id"] = client_id
            claims["queries"] = sorted(queries or ())
        if scope is not None:
            claims["scope"] = scope
        if name:
            claims["name"] = name
        return jwt.encode(claims, self._key, algorithm="HS256", headers={"kid": key_id(self._key)})

    def verified(self, token: str) -> Principal | None:
        """The principal of a token verified before and not yet expired (no signature checked, no I/O), or None."""
        with self._verified_lock:
            cached = self._verified.get(token)
            if cached is not None and time.time() < cached[1]:
                self._verified.move_to_end(token)
                return cached[0]
        return None

    def verify(self, token: str) -> Principal:
        with self._verified_lock:
            cached = self._verified.get(token)
            if cached is not None:
                if time.time() < cached[1]:
                    self._verified.move_to_end(token)
                    return cached[0]
                del self._verified[token]
        principal, expires = self._verify(token)
        with self._verified_lock:
            self._verified[token] = (principal, expires)
            if len(self._verified) > VERIFIED_TOKENS_KEPT:
                self._verified.popitem(last=False)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
            # Only to choose who verifies it: nothing of an unverified token is trusted beyond that choice.
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError as error:
            raise AuthenticationError(f"invalid token: {error}") from error
        if self.oidc is not None and isinstance(issuer, str) and self.oidc.trusts(issuer):
            return self.oidc.verify(token, header, issuer)
        if self._keys and issuer == self.issuer:
            return self._verify_own(token, header)
        raise AuthenticationError(f"invalid token: the issuer {str(issuer)[:200]!r} is not trusted here")

    def _verify_own(self, token: str, header: dict[str, Any]) -> tuple[Principal, float]:
        kid = header.get("kid")
        # The key the token names first (a token without a kid was minted before kids: try every key).
        keys = [self._keys[kid]] if isinstance(kid, str) and kid in self._keys else list(self._keys.values())
        claims: dict[str, Any] = {}
        for n, key in enumerate(keys):
            try:
                claims = jwt.decode(
                    token, key, algorithms=ALGORITHMS, audience=self.audience, issuer=self.issuer,
                    options={"require": ["exp", "iat", "sub", "iss", "aud"]},
                )
                break
            except jwt.InvalidSignatureError as error:
                if n == len(keys) - 1:
                    raise AuthenticationError(f"invalid token: {error}") from error
            except jwt.PyJWTError as error:
                raise AuthenticationError(f"invalid token: {error}") from error
        org = claims.get("org")
        if not isinstance(org, str) or not org:
            raise AuthenticationError("invalid token: no organisation claim")
        grants = set(grants_from_claims(claims.get("roles") or [], org, district=claims.get("district"),
                                        theme_group=claims.get("theme_group")))
        for entry in claims.get("grants") or []:
            with contextlib.suppress(ValueError, TypeError, KeyError):
                grants.add(Grant(Role(entry["role"]), entry.get("scope")))
        client_id = claims.get("client_id")
        queries: frozenset[str] | None = None
        if client_id is not None:
            # A partner system acts as ``client:<id>``: that is the actor every one of its writes records.
            if str(claims["sub"]) != client_subject(str(client_id)):
                raise AuthenticationError("invalid token: a client token's subject must be client:<client_id>")
            queries = frozenset(str(q) for q in claims.get("queries") or [])
        return Principal(user_id=str(claims["sub"]), organisation=org, grants=frozenset(grants),
                         client_id=client_id, queries=queries, name=_name(claims)), float(claims["exp"])


# -- OpenID Connect: an organisation's identity provider -----------------------------------------------------------


def claim_values(claims: dict[str, Any], path: str) -> list[str]:
    """The string values at a claim path: ``roles``, ``groups``, ``realm_access.roles``,
    ``resource_access.partnership-api.roles`` (a dot separates the levels). Absent: none; a string: one value."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return []
        value = value.get(part)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def map_grants(issuer: IssuerConfig, claims: dict[str, Any], organisation: str) -> frozenset[Grant]:
    """The grants the issuer's claim mapping gives these claims. Each rule takes one claim's values that equal its
    ``value`` (or fully match its ``match`` pattern) to a role (fixed, or the pattern's ``role`` group) in a scope
    (fixed, the pattern's ``scope`` group, or for a partner officer the caller's organisation)."""
    grants: set[Grant] = set()
    for rule in issuer.grants:
        for value in claim_values(claims, rule.claim):
            if rule.value is not None:
                if value != rule.value:
                    continue
                found: dict[str, str | None] = {}
            else:
                assert rule.match is not None
                matched = re.fullmatch(rule.match, value)
                if matched is None:
                    continue
                found = matched.groupdict()
            try:
                role = Role(rule.role or found.get("role") or "")
            except ValueError:
                log.warning("claim mapping names no known role", extra={"issuer": issuer.issuer, "claim": rule.claim})
                continue
            scope = rule.scope or found.get("scope")
            if scope is None and SCOPE_OF_ROLE[role] is ScopeKind.ORGANISATION:
                scope = organisation
            grants.add(Grant(role, scope))
    return frozenset(grants)


def _organisation(config: IssuerConfig, claims: dict[str, Any]) -> str | None:
    """The caller's organisation: the first value of the organisation claim (that matches ``organisation_match``,
    taking its ``organisation`` group), else the issuer's fixed organisation."""
    for value in claim_values(claims, config.organisation_claim) if config.organisation_claim else []:
        if config.organisation_match is None:
            return value
        matched = re.fullmatch(config.organisation_match, value)
        if matched is not None and matched.group("organisation"):
            return matched.group("organisation")
    return config.organisation


class _CountingJWKClient(PyJWKClient):
    """PyJWT's JWKS client (a cached key set; an unknown ``kid`` refetches it at most once per cool-down), counting
    its fetches for ``/metrics`` and the logs."""

    def __init__(self, uri: str, issuer: str, **options: Any) -> None:
        super().__init__(uri, **options)
        self.issuer = issuer
        self.fetches = 0

    def fetch_data(self) -> Any:
        data = super().fetch_data()
        self.fetches += 1
        log.info("identity provider keys fetched", extra={"issuer": self.issuer, "fetches": self.fetches,
                                                          "kids": [k.get("kid") for k in data.get("keys", [])]})
        return data


class OidcIssuer:
    """One trusted identity provider: its discovery document (fetched on first use), its keys (PyJWT's JWKS client),
    and its claim mapping."""

    def __init__(self, config: IssuerConfig, *, leeway: float, jwks_lifespan: float, refetch_interval: float,
                 timeout: float) -> None:
        self.config = config
        self.leeway = leeway
        self._jwks_lifespan = jwks_lifespan
        self._refetch_interval = refetch_interval
        self._timeout = timeout
        self._keys: _CountingJWKClient | None = None
        self._lock = threading.Lock()

    @property
    def discovery_url(self) -> str:
        return self.config.discovery_url or self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"

    def keys(self) -> _CountingJWKClient:
        """The JWKS client, after discovery (``/.well-known/openid-configuration``) names the keys' address."""
        with self._lock:
            if self._keys is None:
                try:
                    response = httpx.get(self.discovery_url, timeout=self._timeout, follow_redirects=False)
                    response.raise_for_status()
                    document = response.json()
                except (httpx.HTTPError, ValueError) as error:
                    log.warning("identity provider discovery failed",
                                extra={"issuer": self.config.issuer, "error": str(error)[:300]})
                    raise IdentityProviderUnavailable(
                        "The identity provider could not be reached to check the token; retry shortly.",
                        retry_after=5) from error
                if not isinstance(document, dict) or document.get("issuer") != self.config.issuer \
                        or not isinstance(document.get("jwks_uri"), str):
                    # OIDC Discovery 1.0 section 4.3: the document must name the very issuer it was fetched for.
                    raise IdentityProviderUnavailable(
                        f"The discovery document at {self.discovery_url} does not name the issuer "
                        f"{self.config.issuer} with a jwks_uri: check PARTNERSHIP_OIDC_ISSUERS.", retry_after=30)
                self._keys = _CountingJWKClient(
                    document["jwks_uri"], self.config.issuer, cache_jwk_set=True, lifespan=self._jwks_lifespan,
                    cooldown_duration=self._refetch_interval, timeout=self._timeout)
            return self._keys

    def verify(self, token: str, header: dict[str, Any], registry: ClientRegistry) -> tuple[Principal, float]:
        config = self.config
        algorithm = header.get("alg")
        if algorithm not in config.algorithms:
            raise AuthenticationError(f"invalid token: algorithm {str(algorithm)[:20]!r} is not accepted from "
                                      f"{config.issuer} (accepted: {', '.join(config.algorithms)})")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthenticationError("invalid token: no key id (kid) in its header")
        try:
            signing_key = self.keys().get_signing_key(kid)
        except PyJWKClientConnectionError as error:
            log.warning("identity provider keys unreachable", extra={"issuer": config.issuer, "error": str(error)})
            raise IdentityProviderUnavailable("The identity provider's keys could not be fetched; retry shortly.",
                                              retry_after=5) from error
        except PyJWKClientError as error:
            raise AuthenticationError(f"invalid token: no key {kid[:80]!r} among {config.issuer}'s keys") from error
        if signing_key.algorithm_name != algorithm:
            raise AuthenticationError(f"invalid token: key {kid[:80]!r} is for {signing_key.algorithm_name}, "
                                      f"not {algorithm}")
        try:
            claims: dict[str, Any] = jwt.decode(
                token, signing_key.key, algorithms=[algorithm], audience=config.audience, issuer=config.issuer,
                leeway=self.leeway, options={"require": ["exp", "iat", "iss", "aud", config.subject_claim]},
            )
        except jwt.PyJWTError as error:
            raise AuthenticationError(f"invalid token: {error}") from error
        client_id = next(iter(claim_values(claims, config.client_id_claim)), None)
        partner = registry.get(client_id) if client_id else None
        organisation = partner.organisation if partner is not None else _organisation(config, claims)
        if not organisation:
            named = config.organisation_claim or "an organisation claim"
            raise AuthenticationError(f"invalid token: no organisation (neither {named} nor a fixed organisation "
                                      f"for {config.issuer})")
        grants = map_grants(config, claims, organisation)
        if partner is not None:
            # A partner system: its actor is the client, and it holds no more than its registration allows.
            grants = frozenset(g for g in grants if g.role in partner.roles)
            return Principal(user_id=client_subject(partner.client_id), organisation=organisation, grants=grants,
                             client_id=partner.client_id, queries=partner.queries), float(claims["exp"])
        subject = next(iter(claim_values(claims, config.subject_claim)), "")
        if not subject:
            raise AuthenticationError(f"invalid token: no subject ({config.subject_claim})")
        return Principal(user_id=subject, organisation=organisation, grants=grants,
                         name=_name(claims)), float(claims["exp"])


class OidcVerifier:
    """The identity providers trusted here, by issuer, and the partner clients (keyed by the token's ``azp``)."""

    def __init__(self, issuers: Iterable[IssuerConfig], registry: ClientRegistry | None = None, *,
                 leeway: float = 30, jwks_lifespan: float = 300, refetch_interval: float = 30,
                 timeout: float = 10) -> None:
        self.issuers = {config.issuer: OidcIssuer(config, leeway=leeway, jwks_lifespan=jwks_lifespan,
                                                  refetch_interval=refetch_interval, timeout=timeout)
                        for config in issuers}
        self.registry = registry or ClientRegistry()

    @classmethod
    def from_settings(cls, settings: Settings, registry: ClientRegistry | None = None) -> OidcVerifier | None:
        issuers = settings.identity_providers()
        if not issuers:
            return None
        if registry is None:
            registry = ClientRegistry.from_settings(settings, secrets_needed=False)
        return cls(issuers, registry, leeway=settings.oidc_leeway, jwks_lifespan=settings.oidc_jwks_lifespan,
                   refetch_interval=settings.oidc_jwks_refetch_interval, timeout=settings.oidc_http_timeout)

    def trusts(self, issuer: str) -> bool:
        return issuer in self.issuers

    def verify(self, token: str, header: dict[str, Any], issuer: str) -> tuple[Principal, float]:
        return self.issuers[issuer].verify(token, header, self.registry)

    def key_fetches(self) -> dict[str, int]:
        """How often each issuer's key set was fetched (a refetch per unknown ``kid`` at most per cool-down)."""
        return {name: issuer._keys.fetches if issuer._keys else 0 for name, issuer in self.issuers.items()}


# -- OAuth2 client credentials for partner systems ---------------------------------------------------------------


def client_subject(client_id: str) -> str:
    """The token subject (and so the recorded actor) of a partner system: ``client:<client id>``."""
    return f"client:{client_id}"


_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_secret(secret: str, *, salt: bytes | None = None) -> str:
    """A client secret as kept at rest: ``scrypt$n$r$p$salt$hash`` (base64), never the secret itself."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    encoded = [base64.b64encode(part).decode() for part in (salt, digest)]
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${encoded[0]}${encoded[1]}"


LOCKED_SECRET = "!"
"""The secret hash of a client read without its secret (as ``!`` locks an account in /etc/shadow): matches none."""


def secret_matches(secret: str, hashed: str) -> bool:
    if hashed == LOCKED_SECRET:
        return False
    try:
        scheme, n, r, p, salt, expected = hashed.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(secret.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(base64.b64decode(expected)))
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(digest, base64.b64decode(expected))


@dataclass(frozen=True)
class PartnerClient:
    """A partner organisation's system: its organisation, the roles it may act in, what it may read."""

    client_id: str
    organisation: str
    roles: frozenset[Role]
    secret_hash: str = field(repr=False)
    district: str | None = None
    queries: frozenset[str] = frozenset()
    """GraphQL queries the client may run (root field names)."""
    topics: frozenset[str] = frozenset()
    """Topics the client may read (granted as Kafka ACLs to its Kafka user and consumer groups)."""
    commands: frozenset[str] = frozenset()
    """Commands the client's system may send on its organisation's inbound topic (``partner.<organisation>.commands``,
    write-only for its Kafka user) and be answered on ``partner.<organisation>.outcomes``: the CloudEvent types of
    ``services.partners.inbound.COMMANDS``, each allowed only as the client's roles allow it through REST."""
    documents: Mapping[str, str] = field(default_factory=dict, hash=False)
    """Trusted documents: the GraphQL documents the client registered, by the SHA-256 (hex) of each. A client
    that registered any runs only those (``services.reporting.trusted_documents``); none: not restricted."""

    def principal(self) -> Principal:
        """The client as the caller of a command: what its access token would carry (subject, organisation, the
        grants of its roles), for a command that comes through its Kafka user rather than an HTTP request."""
        return Principal(user_id=client_subject(self.client_id), organisation=self.organisation,
                         grants=grants_from_claims(sorted(self.roles), self.organisation, district=self.district),
                         client_id=self.client_id, queries=self.queries)


def _names(entry: dict[str, Any], key: str, client_id: str, path: Path) -> frozenset[str]:
    """A list of names in a client's entry (absent or empty: none). A bare string is refused: it is a common slip
    (``topics: projects.events``) that would otherwise grant each of its letters."""
    value = entry.get(key) or []
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ValueError(f"partner client {client_id}: {key} in {path} must be a list of names ({key}: [a, b])")
    return frozenset(value)


def document_hash(document: str) -> str:
    """A trusted document's id: the SHA-256 of its text (UTF-8), in hex, as persisted-query clients compute it."""
    return hashlib.sha256(document.encode()).hexdigest()


def registered_documents(entry: dict[str, Any], client_id: str, path: Path) -> dict[str, str]:
    """A client's trusted documents: ``documents`` lists files beside the clients file, each one GraphQL document
    (``.graphql``) or a manifest of them by hash (``.json``, as GraphQL Code Generator's persisted documents). A
    manifest's hash that is not the SHA-256 of its document is refused, naming it."""
    found: dict[str, str] = {}
    for name in _names(entry, "documents", client_id, path):
        file = (path.parent / name).resolve()
        if not file.is_file():
            raise ValueError(f"partner client {client_id}: document file {name} (in {path}) not found")
        if file.suffix == ".json":
            manifest = json.loads(file.read_text())
            if not isinstance(manifest, dict) or not all(isinstance(v, str) for v in manifest.values()):
                raise ValueError(f"partner client {client_id}: {name} is not a manifest {{hash: document}}")
            for key, text in manifest.items():
                digest = str(key).removeprefix("sha256:")
                if digest != document_hash(text):
                    raise ValueError(f"partner client {client_id}: in {name}, {key} is not the SHA-256 of its "
                                     "document")
                found[digest] = text
        else:
            text = file.read_text()
            found[document_hash(text)] = text
    return found


class ClientRegistry:
    """The partner clients, from the clients file (``PARTNERSHIP_PARTNER_CLIENTS_FILE``) and, for clients the file
    lists without a hash, secrets from the environment (``PARTNERSHIP_PARTNER_CLIENT_SECRETS``), hashed on load."""

    def __init__(self, clients: Iterable[PartnerClient] = ()) -> None:
        self._clients = {client.client_id: client for client in clients}
        self._dummy = hash_secret(secrets.token_urlsafe(16))

    @classmethod
    def from_settings(cls, settings: Settings, known_topics: Collection[str] | None = None, *,
                      secrets_needed: bool | None = None) -> ClientRegistry:
        """The clients of the settings' clients file. Where an identity provider issues the clients' credentials
        (``PARTNERSHIP_OIDC_ISSUERS``), the file lists their grants only, keyed by the token's ``azp``: an entry
        without a secret is then no mistake (``secrets_needed`` defaults to: no identity provider configured)."""
        if settings.partner_clients_file is None:
            return cls()
        if secrets_needed is None:
            secrets_needed = not settings.identity_providers()
        return cls.from_file(settings.partner_clients_file,
                             {k: v.get_secret_value() for k, v in settings.partner_client_secrets.items()},
                             known_topics=known_topics, secrets_needed=secrets_needed)

    @classmethod
    def from_file(cls, path: Path, secrets_from_environment: dict[str, str] | None = None, *,
                  known_topics: Collection[str] | None = None, secrets_needed: bool = True) -> ClientRegistry:
        """The clients ``path`` lists. ``known_topics``: the topics a client may be granted (a grant of any other is
        refused, naming it). ``secrets_needed=False`` reads the grants only (to write the broker's users, where no
        secret is at hand): a client without a secret is then kept with a locked one that no secret matches."""
        document = yaml.safe_load(path.read_text()) or {}
        if not isinstance(document, dict):
            raise ValueError(f"{path}: expected a mapping with a list of clients (clients: [...])")
        given = secrets_from_environment or {}
        clients: dict[str, PartnerClient] = {}
        for entry in document.get("clients") or []:
            if not isinstance(entry, dict) or not entry.get("client_id") or not entry.get("organisation"):
                raise ValueError(f"{path}: every client needs a client_id and an organisation, not {entry!r}")
            client_id = str(entry["client_id"])
            if client_id in clients:
                raise ValueError(f"partner client {client_id}: listed twice in {path}")
            secret_hash = entry.get("secret_hash")
            if not secret_hash:
                if client_id in given:
                    secret_hash = hash_secret(given[client_id])
                elif secrets_needed:
                    raise ValueError(f"partner client {client_id}: no secret_hash in {path} and no secret in the "
                                     "environment")
                else:
                    secret_hash = LOCKED_SECRET
            topics = _names(entry, "topics", client_id, path)
            unknown = sorted(topics - set(known_topics)) if known_topics is not None else []
            if unknown:
                raise ValueError(f"partner client {client_id}: unknown topic {', '.join(unknown)} in {path} (a client "
                                 f"may be granted: {', '.join(sorted(known_topics or ()))})")
            clients[client_id] = PartnerClient(
                client_id=client_id, organisation=str(entry["organisation"]),
                roles=frozenset(Role(r) for r in entry.get("roles", [Role.PARTNER_OFFICER.value])),
                secret_hash=str(secret_hash), district=entry.get("district"),
                queries=_names(entry, "queries", client_id, path), topics=topics,
                commands=_names(entry, "commands", client_id, path),
                documents=registered_documents(entry, client_id, path),
            )
        senders: dict[str, str] = {}
        for client in clients.values():
            if client.commands and (other := senders.setdefault(client.organisation, client.client_id)) != \
                    client.client_id:
                raise ValueError(f"partner clients {other} and {client.client_id}: both send commands for "
                                 f"{client.organisation} in {path}. One client per organisation may: its Kafka user "
                                 "alone writes the organisation's inbound topic, so the topic names who sent a record.")
        return cls(clients.values())

    def command_sender(self, organisation: str) -> PartnerClient | None:
        """The one client that may send commands for ``organisation`` (None: its inbound topic takes none)."""
        return next((c for c in self._clients.values() if c.organisation == organisation and c.commands), None)

    def __iter__(self) -> Any:
        return iter(self._clients.values())

    def get(self, client_id: str) -> PartnerClient | None:
        """The registered partner client of this id (an identity provider's token names it as ``azp``)."""
        return self._clients.get(client_id)

    def authenticate(self, client_id: str, secret: str) -> PartnerClient | None:
        """The client whose id and secret these are; None otherwise (in the same time for an unknown id)."""
        client = self._clients.get(client_id)
        matches = secret_matches(secret, client.secret_hash if client else self._dummy)
        return client if client is not None and matches else None


def _oauth_error(status: int, error: str, description: str, *, basic: bool = False) -> JSONResponse:
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="partnership"' if basic else 'Bearer realm="partnership"'
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)


# The token endpoint refuses as RFC 6749 says (not problem+json): OAuth client libraries read these.
_OAUTH_ERROR = {"type": "object", "required": ["error"],
                "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}}}
_TOKEN_FORM = {
    "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
        "type": "object", "required": ["grant_type"],
        "properties": {
            "grant_type": {"type": "string", "enum": ["client_credentials"]},
            "scope": {"type": "string", "description": "Space-separated roles wanted (default: all the client's)."},
            "client_id": {"type": "string", "description": "Only when not using HTTP Basic authentication."},
            "client_secret": {"type": "string", "description": "Only when not using HTTP Basic authentication."},
        }}}}},
    "responses": {"200": {"description": "An access token", "content": {"application/json": {"schema": {
        "type": "object", "required": ["access_token", "token_type", "expires_in"],
        "properties": {"access_token": {"type": "string"}, "token_type": {"const": "Bearer"},
                       "expires_in": {"type": "integer"}, "scope": {"type": "string"}}}}}},
        "400": {"description": "invalid_request, unsupported_grant_type or invalid_scope (RFC 6749 section 5.2)",
                "content": {"application/json": {"schema": _OAUTH_ERROR}}},
        "401": {"description": "invalid_client", "content": {"application/json": {"schema": _OAUTH_ERROR}}}},
}


def oauth_router(settings: Settings, tokens: TokenService, registry: ClientRegistry | None = None) -> APIRouter:
    """``POST /oauth/token``: the client credentials grant for partner systems (RFC 6749 section 4.4)."""
    clients = registry if registry is not None else ClientRegistry.from_settings(settings)
    router = APIRouter()

    @router.post("/oauth/token", tags=["partners"], include_in_schema=True, openapi_extra=_TOKEN_FORM,
                 summary="A partner system's access token (OAuth2 client credentials)")
    async def token(request: Request) -> JSONResponse:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return _oauth_error(400, "invalid_request", "Send the parameters form-encoded.")
        try:
            form = parse_qs((await request.body()).decode(), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            return _oauth_error(400, "invalid_request", "The body is not UTF-8.")
        if any(len(values) > 1 for values in form.values()):
            return _oauth_error(400, "invalid_request", "A parameter was sent more than once.")
        params = {name: values[0] for name, values in form.items()}
        grant_type = params.get("grant_type")
        if not grant_type:
            return _oauth_error(400, "invalid_request", "grant_type is required.")
        if grant_type != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "Only client_credentials is supported.")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            if "client_secret" in params:
                return _oauth_error(400, "invalid_request", "Use one way of authenticating the client.")
            try:
                raw_id, _, raw_secret = base64.b64decode(basic[6:].strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return _oauth_error(401, "invalid_client", "Malformed Basic credentials.", basic=True)
            client_id, secret = unquote(raw_id), unquote(raw_secret)
        else:
            client_id, secret = params.get("client_id", ""), params.get("client_secret", "")
        client = clients.authenticate(client_id, secret) if client_id and secret else None
        if client is None:
            return _oauth_error(401, "invalid_client", "Unknown client or wrong secret.", basic=bool(basic))
        wanted = params.get("scope", "").split()
        granted = {role.value for role in client.roles}
        if any(scope not in granted for scope in wanted):
            return _oauth_error(400, "invalid_scope", f"The client may ask only for: {' '.join(sorted(granted))}.")
        roles = sorted(wanted or granted)
        ttl = settings.partner_token_ttl
        access_token = tokens.mint(client_subject(client.client_id), client.organisation, roles,
                                   district=client.district, ttl_seconds=ttl, client_id=client.client_id,
                                   queries=client.queries, scope=" ".join(roles))
        return JSONResponse({"access_token": access_token, "token_type": "Bearer", "expires_in": ttl,
                             "scope": " ".join(roles)}, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    return router
