"""Memory of the embedded mode (``make run``): the resident memory of the one process with the demo data loaded, at
idle and after it has served every public page, the scrutiny pack and a round of GraphQL reads (issue 20's aim: under
400 MB).

Run: ``python -m bench.memory [--rounds 20]``. It starts ``partnership run`` on a free port in a fresh data folder,
as ``make run`` does, and reads ``/proc/<pid>/status``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.lean_http import LeanClient

LIMIT_MB = 400
PAGES = ("/", "/taskings", "/decisions", "/tables", "/data", "/accessibility")
QUERY = ("{ objectives { id title } targets { id metric targetValue } taskings { id district share } "
         "decisionLog(first: 50) { nodes { aggregateId } } }")


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20, help="rounds of pages, pack and GraphQL reads")
    args = parser.parse_args(argv)
    from tests.harness import free_port, wait_until

    with tempfile.TemporaryDirectory(prefix="partnership-memory-") as data:
        port = free_port()
        env = {**os.environ, "PARTNERSHIP_DATA_DIR": data, "PARTNERSHIP_LOG_LEVEL": "WARNING"}
        process = subprocess.Popen([sys.executable, "-m", "services.cli", "run", "--port", str(port)], env=env,
                                   stdout=(Path(data) / "run.log").open("wb"), stderr=subprocess.STDOUT)
        client = LeanClient(f"http://127.0.0.1:{port}", timeout=60)
        try:
            started = time.monotonic()
            try:
                wait_until(lambda: _ready(client), 300, "the embedded system with its demo data")
            except AssertionError:
                print((Path(data) / "run.log").read_text()[-3000:], file=sys.stderr)
                raise
            ready_s = time.monotonic() - started
            time.sleep(2.0)
            idle = resident_mb(process.pid)
            token = subprocess.run([sys.executable, "-m", "services.cli", "token", "--user", "bench-scrutiny",
                                    "--org", "worcestershire-cc", "--role", "scrutiny_member"], env=env,
                                   capture_output=True, text=True, check=True).stdout.strip()
            auth = {"authorization": f"Bearer {token}"}
            peak = idle
            for _ in range(args.rounds):
                for page in PAGES:
                    assert client.get(page).status_code == 200, page
                assert client.post("/graphql", json={"query": QUERY}, headers=auth).status_code == 200
                assert client.get("/reports/scrutiny?from=2011-04-01&to=2013-03-31", headers=auth).status_code == 200
                peak = max(peak, resident_mb(process.pid))
            after = resident_mb(process.pid)
        finally:
            client.close()
            process.terminate()
            process.wait(30)
    print(f"embedded mode (make run) with the demo data: ready in {ready_s:.1f} s; resident memory {idle:.0f} MB idle, "
          f"{peak:.0f} MB at most and {after:.0f} MB after {args.rounds} rounds of the {len(PAGES)} public pages, a "
          f"GraphQL read and the county scrutiny pack (aim: under {LIMIT_MB} MB)")
    return 0 if peak < LIMIT_MB else 1


def _ready(client: LeanClient) -> bool:
    try:
        return client.get("/readyz").status_code == 200 and client.get("/").status_code == 200
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
