"""Session fixtures for a real Kafka broker and PostgreSQL server, started only when a test asks for one.

``KAFKA_BOOTSTRAP_SERVERS`` / ``TEST_POSTGRES_URL`` point the tests at servers run elsewhere instead.
"""

from __future__ import annotations

import functools
import gc
import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import NoReturn
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tools.realservers import KafkaBroker, PostgresServer

# Properties are checked, not timed: Hypothesis' 200 ms deadline per example and its too-slow health check fail
# pure domain properties when other processes hold both cores (seen on test_every_coherent_target_is_accepted).
hypothesis_settings.register_profile("partnership", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("partnership")

pytest_plugins = ["tests.keycloak"]  # the session's real Keycloak (fixture ``keycloak``), started only when asked for


class ExternalServer:
    """A server this test run did not start (env override or testcontainers): lifecycle calls skip the test."""

    def __init__(self, source: str) -> None:
        self.source = source

    def _skip(self, action: str) -> NoReturn:
        pytest.skip(f"cannot {action} a server provided by {self.source}")

    def start(self) -> NoReturn:
        self._skip("start")

    def stop(self) -> NoReturn:
        self._skip("stop")

    def kill(self) -> NoReturn:
        self._skip("kill")

    def restart(self) -> NoReturn:
        self._skip("restart")


class ExternalKafka(ExternalServer):
    """A Kafka cluster given by its bootstrap servers."""

    def __init__(self, bootstrap: str, source: str) -> None:
        super().__init__(source)
        self.bootstrap = bootstrap


class ExternalPostgres(ExternalServer):
    """A PostgreSQL server given by a URL whose user may create databases."""

    def __init__(self, url: str, source: str) -> None:
        super().__init__(source)
        self.url = url

    def url_for(self, dbname: str) -> str:
        return urlsplit(self.url)._replace(path=f"/{dbname}").geturl()

    def create_database(self, name: str) -> str:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)


@functools.cache
def _use_testcontainers() -> bool:
    if os.environ.get("PARTNERSHIP_USE_TESTCONTAINERS") != "1" or shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[KafkaBroker | ExternalKafka]:
    """The session's Kafka broker; ``.restart()`` / ``.kill()`` skip the test when it is not ours."""
    if bootstrap := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield ExternalKafka(bootstrap, "KAFKA_BOOTSTRAP_SERVERS")
    elif _use_testcontainers():
        from testcontainers.community.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as container:
            yield ExternalKafka(container.get_bootstrap_server(), "testcontainers")
    else:
        with KafkaBroker() as broker:
            yield broker


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: KafkaBroker | ExternalKafka) -> str:
    """``host:port`` of the session's Kafka broker."""
    return kafka_broker.bootstrap


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | ExternalPostgres]:
    """The session's PostgreSQL server; ``.restart()`` / ``.kill()`` skip the test when it is not ours."""
    if url := os.environ.get("TEST_POSTGRES_URL"):
        yield ExternalPostgres(url, "TEST_POSTGRES_URL")
    elif _use_testcontainers():
        from testcontainers.community.postgres import PostgresContainer

        with PostgresContainer(
            "postgres:16", username="partnership", password="partnership", dbname="partnership", driver=None
        ) as container:
            yield ExternalPostgres(container.get_connection_url(), "testcontainers")
    else:
        with PostgresServer() as server:
            yield server


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer | ExternalPostgres) -> str:
    """``postgresql://user:password@127.0.0.1:PORT/dbname`` of the session's PostgreSQL server."""
    return postgres_server.url


def pytest_unconfigure(config: pytest.Config) -> None:
    """kafka-python's background threads may still log (the broker they knew has stopped) after pytest closed its
    capture streams; without this, each such line prints a '--- Logging error ---' traceback after the summary."""
    import logging

    logging.raiseExceptions = False
    _close_leftover_datastores()


def _close_leftover_datastores() -> None:
    """A PostgreSQL datastore still referenced when the run ends (a session fixture's, a cached application's) is
    closed here, while the interpreter is whole: its finaliser at exit met eventsourcing's module globals already
    torn down and printed "'NoneType' object has no attribute 'suppress'" once per store after the summary."""
    from eventsourcing.postgres import PostgresDatastore

    for leftover in [o for o in gc.get_objects() if isinstance(o, PostgresDatastore)]:
        leftover.close()
    # Each is closed now; its finaliser would close it again at interpreter teardown, where contextlib is already
    # gone, and print a traceback per store (14 after a full run).
    PostgresDatastore.__del__ = lambda self: None  # type: ignore[method-assign]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The fault suites (marker ``chaos``) kill and restart the session's shared broker and database: run them last,
    so that no other test meets a server they disturbed (a consumer group formed after a broker restart was seen not
    to balance in time). The sort is stable: every other test keeps its order."""
    items.sort(key=lambda item: item.get_closest_marker("chaos") is not None)


@pytest.fixture(scope="module")
def kafka_acl_broker() -> Iterator[KafkaBroker]:
    """A second broker of our own that authenticates with SCRAM-SHA-512 and enforces ACLs (KRaft's
    StandardAuthorizer, as Strimzi's ``simple`` authorization): ``.sasl_bootstrap`` for users, ``.bootstrap`` for
    the operator (a super user). Started only by the tests that check grants on the broker, one per module: the
    users, ACLs and unprefixed topics (ACLs name literal topics) of one module are none of the next one's."""
    with KafkaBroker(scram=True, heap_max="384m") as broker:
        yield broker


def _warm_field_docs() -> None:
    """Every contract's field descriptions are read from source (ast) once, here, before any test starts threads:
    afterwards schema generation in a server's or a worker's thread is a cache hit, not a parse."""
    from shared.contracts import all_contracts, json_schema

    for _, contract_class in all_contracts():
        json_schema(contract_class)


_warm_field_docs()


@pytest.fixture(autouse=True, scope="module")
def _leftovers_finalised() -> None:
    """Objects an earlier module left behind (stores, clients) are collected between modules, at a quiet moment,
    rather than by a collection that happens to run inside a later test (their finalisers close pools and log)."""
    gc.collect()
