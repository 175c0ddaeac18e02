"""The relay: follows a service's own notification log and publishes every new event to its topic.

It records its position only after the broker acknowledged the batch, so a crash in between publishes the
batch again (at-least-once); consumers are idempotent on (aggregate id, version).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from eventsourcing.persistence import Tracking

from shared.envelope import encode, wrap
from shared.eventstore import ServiceApplication
from shared.transport import Publisher, Transport, TransportError

log = logging.getLogger(__name__)


@dataclass
class RelayStatus:
    published: int = 0
    position: int = 0
    degraded: str | None = None
    last_error_at: float | None = None
    extra: dict[str, str] = field(default_factory=dict)


class Relay:
    """Notification log -> ``<service>.events``, resumable from its own tracking record."""

    def __init__(self, app: ServiceApplication, transport: Transport, topic: str, *, batch_size: int = 500,
                 poll_interval: float = 0.01) -> None:
        self.app = app
        self.transport = transport
        self.topic = topic
        self.tracking_name = f"relay:{topic}"
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.status = RelayStatus()
        self._publisher: Publisher | None = None
        self._position: int | None = None

    def _current_position(self) -> int:
        if self._position is None:
            self._position = self.app.process_recorder.max_tracking_id(self.tracking_name) or 0
        return self._position

    def publish_batch(self) -> int:
        """Publish the next batch of stored events; returns how many were published."""
        start = self._current_position()
        notifications = self.app.recorder.select_notifications(
            start=start, limit=self.batch_size, inclusive_of_start=False
        )
        if not notifications:
            return 0
        if self._publisher is None:
            self._publisher = self.transport.publisher()
        for notification in notifications:
            event = self.app.mapper.to_domain_event(notification)
            envelope = wrap(event, source=f"/services/{self.app.service}")
            self._publisher.publish(self.topic, envelope.subject, encode(envelope))
        self._publisher.flush()
        last = notifications[-1].id
        self.app.process_recorder.insert_tracking(Tracking(self.tracking_name, last))
        self._position = last
        self.status.published += len(notifications)
        self.status.position = last
        return len(notifications)

    def run(self, stop: threading.Event) -> None:
        backoff = 0.1
        while not stop.is_set():
            try:
                if self.publish_batch() == 0:
                    stop.wait(self.poll_interval)
                self.status.degraded = None
                backoff = 0.1
            except TransportError as error:
                # The broker is away: commands are still accepted (they are in our store); retry with backoff.
                self.status.degraded = str(error)
                self.status.last_error_at = time.time()
                log.warning("relay degraded", extra={"topic": self.topic, "error": str(error)})
                self._reset_publisher()
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception:
                log.exception("relay failed; retrying", extra={"topic": self.topic})
                self._reset_publisher()
                self._position = None
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        self.close()

    def _reset_publisher(self) -> None:
        if self._publisher is not None:
            try:
                self._publisher.close()
            except Exception:
                log.exception("closing the publisher failed")
            self._publisher = None

    def close(self) -> None:
        self._reset_publisher()
