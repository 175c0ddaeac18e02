"""Worker processes as the deployment runs them (``partnership worker <service> --port``) on real Kafka and
PostgreSQL: probes and metrics on their port, ``partnership demo`` loading the worked example once through them,
and SIGTERM ending each one cleanly with its relay's position recorded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from services.priorities.application import PrioritiesApplication
from tests.harness import Process, free_port, settings_env, settings_for, wait_until

pytestmark = pytest.mark.integration

WORKERS = ("priorities", "tasking", "projects", "reporting")


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_workers_serve_probes_and_metrics_load_the_demo_once_and_stop_cleanly_on_sigterm(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap)
    env = settings_env(settings)
    ports = {service: free_port() for service in WORKERS}
    processes = {service: Process(["worker", service, "--port", str(ports[service]), "--host", "127.0.0.1"], env,
                                  tmp_path / f"{service}-worker.log") for service in WORKERS}
    urls = {service: f"http://127.0.0.1:{port}" for service, port in ports.items()}
    try:
        wait_until(lambda: all(_ready(url) for url in urls.values()), 90, "every worker ready")
        body = httpx.get(f"{urls['priorities']}/readyz", timeout=5).json()
        assert body["checks"] == {"database": "ok", "broker": "ok"}
        assert body["relays"][settings.topic("priorities.events")]["leader"] is True
        assert httpx.get(f"{urls['tasking']}/healthz", timeout=5).json() == {"status": "ok"}
        assert "partnership_consumer_lag{" in httpx.get(f"{urls['reporting']}/metrics", timeout=5).text

        demo = [sys.executable, "-m", "services.cli", "demo", "--timeout", "60"]
        first = subprocess.run(demo, env={**_environ(), **env}, capture_output=True, text=True, timeout=180)
        assert first.returncode == 0, first.stderr[-3000:]
        assert "demo data loaded" in first.stdout
        again = subprocess.run(demo, env={**_environ(), **env}, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0 and "not loaded again" in again.stdout
        metrics = httpx.get(f"{urls['priorities']}/metrics", timeout=5).text
        assert f'partnership_relay_published_total{{topic="{settings.topic("priorities.events")}"}}' in metrics
    finally:
        for process in processes.values():
            process.terminate(timeout=30)
    for service, process in processes.items():
        assert process.popen.returncode == 0, (service, process.log_tail())
    # The relay recorded the position of everything it published before it stopped.
    app = PrioritiesApplication(settings)
    try:
        assert app.process_recorder.max_tracking_id(f"relay:{settings.topic('priorities.events')}") == \
            app.recorder.max_notification_id()
    finally:
        app.close()


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)
