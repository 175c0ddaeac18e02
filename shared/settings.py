"""One settings class per process, read from the environment (prefix ``PARTNERSHIP_``)."""

from __future__ import annotations

import re
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlparse

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Persistence(StrEnum):
    SQLITE = "sqlite"
    POSTGRES = "postgres"


class TransportKind(StrEnum):
    EMBEDDED = "embedded"
    KAFKA = "kafka"


ROLE_NAMES = ("partnership_officer", "theme_group_lead", "district_coordinator", "programme_manager",
              "partner_officer", "auditor", "scrutiny_member")
"""The roles a claim may be mapped to (``shared.auth.Role``; named here so that settings import nothing of auth)."""


_OIDC_ALGORITHMS: tuple[Literal["RS256", "ES256"], ...] = ("RS256", "ES256")


class ClaimGrant(BaseModel):
    """One rule of an issuer's claim mapping: the values of one claim that give a role in a scope.

    ``value`` matches one value exactly; ``match`` is a regular expression a value must match whole, whose named
    groups ``role`` and ``scope`` may supply the role and the scope (``^(?P<scope>[a-z-]+)-programme-managers$``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    claim: str = Field(min_length=1, description="Claim path: roles, groups, realm_access.roles, "
                                                 "resource_access.<client>.roles (dots separate the levels).")
    value: str | None = None
    match: str | None = None
    role: Literal[ROLE_NAMES] | None = None  # type: ignore[valid-type]
    scope: str | None = Field(None, description="The district, theme group or organisation the role is held in.")

    @model_validator(mode="after")
    def _one_matcher(self) -> ClaimGrant:
        if (self.value is None) == (self.match is None):
            raise ValueError(f"claim mapping for {self.claim}: give exactly one of value or match")
        if self.match is not None:
            try:
                pattern = re.compile(self.match)
            except re.error as error:
                raise ValueError(f"claim mapping for {self.claim}: match is not a regular expression: {error}") \
                    from error
            if self.role is None and "role" not in pattern.groupindex:
                raise ValueError(f"claim mapping for {self.claim}: name a role, or a (?P<role>...) group in match")
        elif self.role is None:
            raise ValueError(f"claim mapping for {self.claim}: name the role that value {self.value!r} gives")
        return self


class IssuerConfig(BaseModel):
    """An organisation's OpenID Connect identity provider whose access tokens the APIs accept, and how its claims
    map to grants. No identity provider has to be bent to this system's claim names."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str = Field(description="The tokens' iss, exactly (Entra ID: https://login.microsoftonline.com/<tenant>"
                                    "/v2.0; Keycloak: https://<host>/realms/<realm>).")
    audience: str | list[str] = Field(description="The aud this API must be named in (Entra ID: the API's "
                                                  "application id; Keycloak: an audience mapper's client).")
    discovery_url: str | None = Field(None, description="Default: <issuer>/.well-known/openid-configuration.")
    algorithms: list[Literal["RS256", "ES256"]] = Field(
        default_factory=lambda: list(_OIDC_ALGORITHMS), min_length=1)
    subject_claim: str = Field("sub", description="The claim naming the person (Entra ID: oid is stable across "
                                                  "applications).")
    client_id_claim: str = Field("azp", description="The claim naming the client (Entra ID v1 tokens: appid).")
    organisation: str | None = Field(None, description="The organisation of everyone this issuer signs in "
                                                       "(one council, one tenant).")
    organisation_claim: str | None = Field(None, description="Or the claim naming each person's organisation.")
    organisation_match: str | None = Field(None, description="A pattern the organisation claim's value must match "
                                                             "whole; its (?P<organisation>...) group names it "
                                                             "(Keycloak groups: ^/organisations/(?P<organisation>"
                                                             "[^/]+)$).")
    grants: list[ClaimGrant] = Field(default_factory=list, description="The claim mapping (app roles, groups, "
                                                                       "realm or client roles) to grants.")

    @field_validator("organisation_match")
    @classmethod
    def _organisation_pattern(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                compiled = re.compile(pattern)
            except re.error as error:
                raise ValueError(f"organisation_match is not a regular expression: {error}") from error
            if "organisation" not in compiled.groupindex:
                raise ValueError("organisation_match needs a (?P<organisation>...) group")
        return pattern

    @field_validator("issuer")
    @classmethod
    def _https(cls, issuer: str) -> str:
        url = urlparse(issuer)
        loopback = url.hostname in {"127.0.0.1", "localhost", "::1"}
        if url.scheme != "https" and not (url.scheme == "http" and loopback):
            raise ValueError(f"issuer {issuer!r}: an identity provider is reached over https (http only on loopback)")
        return issuer


_ISSUERS = TypeAdapter(list[IssuerConfig])

_ORIGIN = re.compile(r"https?://(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:[0-9]{1,5})?")
CORS_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
CORS_HEADERS = ("Authorization", "Content-Type", "Accept", "If-Match", "If-None-Match", "Idempotency-Key",
                "X-Correlation-ID", "traceparent")


class Settings(BaseSettings):
    """Everything a process needs to know; defaults run the embedded mode."""

    model_config = SettingsConfigDict(env_prefix="PARTNERSHIP_", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Folder of the SQLite stores and the embedded log.")
    database_url: str | None = Field(
        None, description="postgresql://user:pass@host:port/db; unset means SQLite files under data_dir."
    )
    people_database_url: str | None = Field(
        None, description="The people vault's database (pseudonyms, keys of sealed text), one that every service "
                          "and reporting reach: postgresql://...; unset means database_url (one database for all).")
    schema_prefix: str = Field("", description="Prefix of each service's PostgreSQL schema (tests isolate by it).")
    kafka_bootstrap_servers: str | None = Field(
        None, description="host:port[,host:port]; unset means the embedded SQLite log."
    )
    topic_prefix: str = Field("", description="Prefix of every topic name (tests isolate by it).")
    jwt_secret: SecretStr | None = Field(None, description="HS256 signing key; required unless embedded.")
    jwt_previous_secrets: list[SecretStr] = Field(
        default_factory=list, description='Keys that signed tokens still in use, as JSON ["old key"]: accepted, '
                                          'never used to sign (key rotation without downtime).')
    jwt_issuer: str = "partnership"
    jwt_audience: str = "partnership-api"
    dev_tokens: bool = Field(False, description="Accept and mint the HS256 development tokens outside the embedded "
                                                "mode (tests, a demo on one host); never in production.")
    oidc_issuers: list[IssuerConfig] = Field(
        default_factory=list, description="Trusted identity providers and their claim mappings, as JSON.")
    oidc_issuers_file: Path | None = Field(None, description="Or the same as YAML (issuers: [...]).")
    oidc_leeway: float = Field(30, ge=0, le=300, description="Clock skew tolerated on exp, nbf and iat, seconds.")
    oidc_jwks_lifespan: float = Field(300, gt=0, description="Seconds an identity provider's key set is kept.")
    oidc_jwks_refetch_interval: float = Field(
        30, gt=0, description="At least this many seconds between the refetches of a key set that an unknown kid "
                              "triggers (a rotated key is found at once; a flood of made-up kids fetches nothing).")
    oidc_http_timeout: float = Field(10, gt=0, description="Seconds to wait for discovery and keys.")
    partnership_file: Path | None = Field(None, description="Partnership definition (YAML); default Worcestershire.")
    relay_poll_interval: float = Field(0.01, gt=0, description="Seconds the relay sleeps when its log is idle.")
    relay_batch_size: int = Field(500, gt=0)
    consumer_batch_size: int = Field(500, gt=0)
    publish_unreleased_events: bool | None = Field(
        None, description="Publish events of contracts not yet released to partners (a pre-release environment with "
                          "no partner reading its topics, or the test suite). Default: only on the embedded log, "
                          "which no partner reads; on Kafka the relay holds at the first unreleased event.",
    )
    log_level: str = "INFO"
    consumer_groups: bool = Field(
        False, description="Share each topic's partitions among a worker's replicas (Kafka consumer groups)."
    )
    consumer_max_poll_interval: float = Field(
        30.0, gt=1, le=300,
        description="Seconds a consumer-group member may spend on one batch before its group gives its partitions "
                    "to the others; also the longest a rebalance waits for a member that stopped polling.")
    consumer_session_timeout: float = Field(
        10.0, ge=6, le=300, description="Seconds without a heartbeat before the broker drops a dead member.")
    kafka_security_protocol: str = Field("PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.")
    kafka_sasl_mechanism: str | None = Field(None, description="e.g. SCRAM-SHA-512 (a Strimzi scram KafkaUser).")
    kafka_username: str | None = None
    kafka_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = Field(None, description="CA certificate of the brokers' TLS listener.")
    service_urls: dict[str, str] = Field(
        default_factory=dict,
        description='Base URL of each service\'s REST API for the gateway\'s mutations, as JSON, e.g. '
                    '{"priorities": "http://priorities:8000"}; a service not named is called in-process (embedded).',
    )
    audit_signing_key: SecretStr | None = Field(
        None, description="Ed25519 private key (64 hex digits) signing audit checkpoints; generated only if embedded."
    )
    audit_public_key: str | None = Field(
        None, description="Published Ed25519 public key (64 hex digits) that verify trusts; default: the signing key's."
    )
    audit_checkpoint_every: int = Field(1000, ge=0, description="Events between automatic checkpoints (0: none).")
    audit_checkpoint_interval: float = Field(
        60.0, gt=0, description="Seconds within which a signed checkpoint covers every committed event."
    )
    audit_log_origin: str = Field(
        "partnership.invalid/audit", description="Prefix of each service's log origin (its checkpoints' first line "
                                                 "and key name): <prefix>/<service>. Make it your own domain."
    )
    audit_witness_keys: list[str] = Field(
        default_factory=list, description='Witnesses\' cosignature/v1 verifier keys accepted by POST '
                                          '/audit/cosignatures, as JSON ["name+hash+base64"].'
    )
    audit_checkpoints_off_unsafe: bool = Field(
        False, description="Run outside the embedded mode without a signing key: no checkpoints, tampering unseen."
    )
    partner_clients_file: Path | None = Field(
        None, description="Partner systems' OAuth2 clients (YAML): organisation, roles, grants, hashed secret."
    )
    partner_client_secrets: dict[str, SecretStr] = Field(
        default_factory=dict, description='Secrets of clients the file lists without a hash, as JSON '
                                          '{"client id": "secret"}; hashed when loaded, never stored.'
    )
    partner_token_ttl: int = Field(3600, gt=0, description="Seconds a partner system's access token lasts.")
    graphql_cache_mib: int = Field(64, ge=0, description="Memory for the GraphQL gateway's cached answers, MiB "
                                                         "(0: no response cache).")
    cors_origins: list[str] = Field(
        default_factory=list, description='Origins of the browser apps that may call the APIs, as JSON '
                                          '["https://dashboard.example.org"]; none by default ("*": any origin, '
                                          'never with credentials).')
    cors_allow_credentials: bool = Field(False, description="Let those origins send cookies or HTTP authentication "
                                                            "(a bearer token in Authorization needs none).")
    cors_methods: list[str] = Field(default_factory=lambda: list(CORS_METHODS),
                                    description="Methods those origins may use, as JSON.")
    cors_headers: list[str] = Field(default_factory=lambda: list(CORS_HEADERS),
                                    description="Request headers those origins may send, as JSON.")
    cors_max_age: int = Field(3600, ge=0, le=86400, description="Seconds a browser may cache a preflight's answer "
                                                                "(Chromium keeps it at most 7200).")
    # A pool opens its kept connections at start: a process has several stores and a deployment several processes,
    # so keep few open and let each store grow under load (same peak, 20 per store, as before).
    postgres_pool_size: int = Field(2, ge=1, description="Connections each store of a process keeps open.")
    postgres_max_overflow: int = Field(18, ge=0, description="Extra connections a store may open under load.")

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        # A browser sends its Origin as scheme://host[:port] in lower case: anything else would never match.
        origins = [origin.lower() for origin in origins]
        for origin in origins:
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(f"CORS origin {origin!r}: give scheme://host[:port] (no path, no trailing slash), "
                                 f"or *")
        return origins

    @model_validator(mode="after")
    def _no_credentials_for_everyone(self) -> Settings:
        if self.cors_allow_credentials and "*" in self.cors_origins:
            raise ValueError("PARTNERSHIP_CORS_ALLOW_CREDENTIALS with origin *: name the origins that may send "
                             "credentials")
        return self

    @property
    def persistence(self) -> Persistence:
        return Persistence.POSTGRES if self.database_url else Persistence.SQLITE

    @property
    def transport(self) -> TransportKind:
        return TransportKind.KAFKA if self.kafka_bootstrap_servers else TransportKind.EMBEDDED

    @property
    def publishes_unreleased_events(self) -> bool:
        if self.publish_unreleased_events is not None:
            return self.publish_unreleased_events
        return self.transport is TransportKind.EMBEDDED

    @property
    def embedded(self) -> bool:
        """Everything in one process on SQLite and the embedded log (no PostgreSQL, no Kafka)."""
        return self.transport is TransportKind.EMBEDDED and not self.database_url

    @property
    def own_tokens(self) -> bool:
        """Does this process accept (and mint) its own HS256 tokens? In the embedded mode, or where explicitly
        allowed; a distributed process otherwise trusts only the identity providers."""
        return self.embedded or self.dev_tokens

    def identity_providers(self) -> list[IssuerConfig]:
        """The trusted issuers: ``oidc_issuers`` and those of ``oidc_issuers_file``."""
        issuers = list(self.oidc_issuers)
        if self.oidc_issuers_file is not None:
            document = yaml.safe_load(self.oidc_issuers_file.read_text()) or {}
            if not isinstance(document, dict):
                raise ValueError(f"{self.oidc_issuers_file}: expected a mapping with a list (issuers: [...])")
            issuers += _ISSUERS.validate_python(document.get("issuers") or [])
        names = [config.issuer for config in issuers]
        if len(set(names)) != len(names):
            raise ValueError(f"an issuer is configured twice: {', '.join(sorted(names))}")
        return issuers

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def kafka_client_config(self) -> dict[str, Any]:
        """Security settings for every Kafka client (none on a plaintext listener)."""
        config: dict[str, Any] = {}
        if self.kafka_security_protocol != "PLAINTEXT":
            config["security_protocol"] = self.kafka_security_protocol
        if self.kafka_sasl_mechanism:
            config["sasl_mechanism"] = self.kafka_sasl_mechanism
            config["sasl_plain_username"] = self.kafka_username
            config["sasl_plain_password"] = self.kafka_password.get_secret_value() if self.kafka_password else None
        if self.kafka_ssl_cafile is not None:
            config["ssl_cafile"] = str(self.kafka_ssl_cafile)
        return config

    def store_env(self, service: str) -> dict[str, str]:
        """The ``eventsourcing`` environment of one service's event store (its own schema or file)."""
        if self.database_url:
            url = urlparse(self.database_url)
            return {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": url.path.lstrip("/") or "postgres",
                "POSTGRES_HOST": url.hostname or "127.0.0.1",
                "POSTGRES_PORT": str(url.port or 5432),
                "POSTGRES_USER": unquote(url.username or "postgres"),
                "POSTGRES_PASSWORD": unquote(url.password or ""),
                "POSTGRES_SCHEMA": f"{self.schema_prefix}{service}",
                "POSTGRES_POOL_SIZE": str(self.postgres_pool_size),
                "POSTGRES_MAX_OVERFLOW": str(self.postgres_max_overflow),
                "POSTGRES_CONN_MAX_AGE": "300",
                "POSTGRES_PRE_PING": "y",
                "PROCESS_RECORDER_TOPIC": "shared.recorder:OneStatementRecorder",  # a save in one statement
                "CREATE_TABLE": "y",
            }
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(self.data_dir / f"{service}.sqlite3"),
            "SQLITE_LOCK_TIMEOUT": "10",
            "CREATE_TABLE": "y",
        }

    def signing_key(self) -> str:
        """The JWT key: from the environment; in the embedded mode only, a generated one kept in data_dir."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        if not self.embedded:
            raise RuntimeError("PARTNERSHIP_JWT_SECRET must be set outside the embedded mode")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key_file = self.data_dir / "dev-jwt-secret"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        return key_file.read_text().strip()

    def audit_signing_seed(self) -> bytes | None:
        """The checkpoint signing key's 32-byte seed: from the environment; in the embedded mode only, a generated
        one kept in data_dir; None (no checkpoints) when it is not set outside the embedded mode."""
        if self.audit_signing_key is not None:
            return bytes.fromhex(self.audit_signing_key.get_secret_value().strip())
        if self.transport is TransportKind.KAFKA or self.database_url:
            return None
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key_file = self.data_dir / "dev-audit-signing-key"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        return bytes.fromhex(key_file.read_text().strip())
