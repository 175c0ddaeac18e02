"""Authentication (JWT bearer tokens: issuer, audience, roles, organisation), the roles of the partnership, and
OAuth2 client credentials (RFC 6749 section 4.4) for partner organisations' systems."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import jwt
import yaml
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from shared.contracts import Actor
from shared.settings import Settings

ALGORITHMS = ["HS256"]


class Role(StrEnum):
    PARTNERSHIP_OFFICER = "partnership_officer"  # county partnership: SCS, targets
    THEME_GROUP_LEAD = "theme_group_lead"  # issues and retasks the group's taskings
    DISTRICT_COORDINATOR = "district_coordinator"  # acts for one district partnership
    PROGRAMME_MANAGER = "programme_manager"  # a district's programme of delivery
    PARTNER_OFFICER = "partner_officer"  # a partner organisation's people (lead partner, project manager)
    AUDITOR = "auditor"  # reads and verifies, never writes
    SCRUTINY_MEMBER = "scrutiny_member"  # elected member: reads, never writes
    WITNESS = "witness"  # an outside witness of the audit log: returns cosignatures of its checkpoints, nothing else


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
    queries: frozenset[str] | None = None
    """For a partner system's token: the GraphQL queries its client is granted (None: not restricted)."""

    def has(self, role: Role) -> bool:
        return role in self.roles

    def may_query(self, name: str) -> bool:
        """May the caller run the GraphQL query ``name``? People: by role; a partner system: only if granted."""
        return self.queries is None or name in self.queries

    def actor(self, role: Role) -> Actor:
        return Actor(user_id=self.user_id, organisation=self.organisation, role=role.value)


def key_id(key: str) -> str:
    """A token's ``kid``: names which signing key made it without revealing anything usable about the key."""
    return hashlib.sha256(b"partnership-jwt-kid:" + key.encode()).hexdigest()[:16]


VERIFIED_TOKENS_KEPT = 4096


class TokenService:
    """Verifies and (for local use) mints tokens with one symmetric key."""

    def __init__(self, key: str, issuer: str, audience: str, previous_keys: Iterable[str] = ()) -> None:
        """``key`` signs new tokens; tokens signed with ``previous_keys`` are still accepted (key rotation: deploy
        the new key with the old one as previous, wait for the old tokens to expire, then drop it)."""
        for candidate in (key, *previous_keys):
            if len(candidate) < 32:
                raise ValueError("a JWT signing key must be at least 32 characters")
        self._key = key
        self._keys = {key_id(k): k for k in (*previous_keys, key)}  # the current key wins a (theoretical) clash
        self.issuer = issuer
        self.audience = audience
        # Verified tokens and their expiry: a client sends the same token with every request, and checking its
        # signature and claims again each time was a tenth of a command's CPU. Keys only change with a restart.
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._verified_lock = threading.Lock()

    def mint(self, user_id: str, organisation: str, roles: list[str], *, district: str | None = None,
             theme_group: str | None = None, ttl_seconds: int = 3600, client_id: str | None = None,
             queries: Iterable[str] | None = None, scope: str | None = None) -> str:
        now = int(time.time())
        claims: dict[str, object] = {
            "sub": user_id, "org": organisation, "roles": roles, "iss": self.issuer, "aud": self.audience,
            "iat": now, "nbf": now, "exp": now + ttl_seconds, "jti": str(uuid.uuid4()),
        }
        if district:
            claims["district"] = district
        if theme_group:
            claims["theme_group"] = theme_group
        if client_id:
            claims["client_id"] = client_id
            claims["queries"] = sorted(queries or ())
        if scope is not None:
            claims["scope"] = scope
        return jwt.encode(claims, self._key, algorithm="HS256", headers={"kid": key_id(self._key)})

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
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as error:
            raise AuthenticationError(f"invalid token: {error}") from error
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
        roles: set[Role] = set()
        for name in claims.get("roles") or []:
            try:
                roles.add(Role(name))
            except ValueError:
                continue  # roles of other systems mean nothing here: default deny
        org = claims.get("org")
        if not isinstance(org, str) or not org:
            raise AuthenticationError("invalid token: no organisation claim")
        client_id = claims.get("client_id")
        queries: frozenset[str] | None = None
        if client_id is not None:
            # A partner system acts as ``client:<id>``: that is the actor every one of its writes records.
            if str(claims["sub"]) != client_subject(str(client_id)):
                raise AuthenticationError("invalid token: a client token's subject must be client:<client_id>")
            queries = frozenset(str(q) for q in claims.get("queries") or [])
        return Principal(
            user_id=str(claims["sub"]), organisation=org, roles=frozenset(roles),
            district=claims.get("district"), theme_group=claims.get("theme_group"),
            client_id=client_id, queries=queries,
        ), float(claims["exp"])


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


def _names(entry: dict[str, Any], key: str, client_id: str, path: Path) -> frozenset[str]:
    """A list of names in a client's entry (absent or empty: none). A bare string is refused: it is a common slip
    (``topics: projects.events``) that would otherwise grant each of its letters."""
    value = entry.get(key) or []
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ValueError(f"partner client {client_id}: {key} in {path} must be a list of names ({key}: [a, b])")
    return frozenset(value)


class ClientRegistry:
    """The partner clients, from the clients file (``PARTNERSHIP_PARTNER_CLIENTS_FILE``) and, for clients the file
    lists without a hash, secrets from the environment (``PARTNERSHIP_PARTNER_CLIENT_SECRETS``), hashed on load."""

    def __init__(self, clients: Iterable[PartnerClient] = ()) -> None:
        self._clients = {client.client_id: client for client in clients}
        self._dummy = hash_secret(secrets.token_urlsafe(16))

    @classmethod
    def from_settings(cls, settings: Settings, known_topics: Collection[str] | None = None) -> ClientRegistry:
        if settings.partner_clients_file is None:
            return cls()
        return cls.from_file(settings.partner_clients_file,
                             {k: v.get_secret_value() for k, v in settings.partner_client_secrets.items()},
                             known_topics=known_topics)

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
            )
        return cls(clients.values())

    def __iter__(self) -> Any:
        return iter(self._clients.values())

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
