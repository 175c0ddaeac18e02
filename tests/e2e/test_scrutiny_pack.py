"""The scrutiny pack of the worked example, fetched from the reporting API as a scrutiny member: the HTML page renders
in a real headless browser (Debian's chromium) without errors, with its charts in the DOM and on the screenshot; the
PDF opens (pdftoppm renders its first page); the CSV tables carry the figures; the CLI writes the same pack."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.harness import Harness, running_system, settings_env, settings_for, wait_until

pytestmark = pytest.mark.e2e

PERIOD = {"from": "2011-04-01", "to": "2013-06-30", "committee": "Worcestershire Overview and Scrutiny"}
ACTUAL_BLUE = (0x1F, 0x5F, 0xBF)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing: scripts/ensure-system-packages.sh installs it")
        pytest.skip(f"{name} is not installed (scripts/ensure-system-packages.sh installs it)")
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    data = tmp_path_factory.mktemp("pack")
    with running_system(settings_for(data_dir=data)) as h:
        assert h.system.load_demo_data()
        store = h.system.read_model.store  # type: ignore[union-attr]
        wait_until(lambda: store.query("SELECT COUNT(*) AS n FROM delivery_interventions")[0]["n"] == 1,
                   what="the demo's intervention in the read models")
        wait_until(lambda: h.graphql("{ overdueActions { id } }")["data"]["overdueActions"], what="overdue action")
        yield h


def _pack(h: Harness, role: str = "scrutiny_member", **params: str) -> bytes:
    response = h.client.get("/reports/scrutiny", params={**PERIOD, **params}, headers=h.headers(role))
    assert response.status_code == 200, response.text
    return response.content


def _browser(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
         f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args],
        capture_output=True, text=True, timeout=60, check=False)


def test_the_html_pack_renders_in_a_headless_browser_with_its_charts(demo: Harness, tmp_path: Path) -> None:
    chromium = _tool("chromium")
    page = tmp_path / "pack.html"
    page.write_bytes(_pack(demo))
    html = page.read_text()
    assert "<script" not in html  # charts are drawn in Python, nothing runs in the browser
    dom = _browser(chromium, tmp_path / "profile-dom", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Uncaught" not in dom.stderr and "CONSOLE" not in dom.stderr, dom.stderr[-2000:]
    # the DOM as the browser built it: every chart an SVG with its trajectory, actual line and report points
    assert dom.stdout.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 3  # county + 2 districts
    assert dom.stdout.count('class="trajectory"') == 3 and dom.stdout.count('class="actual"') == 3
    assert dom.stdout.count('class="report"') >= 4  # Worcester's progress reports
    assert 'class="direction improving"' in dom.stdout
    for heading in ("Performance against target", "What changed since the previous pack", "Decisions in the period",
                    "Retaskings in the period", "Red projects and corrective interventions",
                    "Overdue actions and milestones"):
        assert heading in dom.stdout
    assert "Inward investment to the Blackpole business park" in dom.stdout
    assert "Council funds a dedicated inward-investment officer" in dom.stdout
    assert "Worcester 1,200 -&gt; Worcester 1,000 + Wychavon 200" in dom.stdout
    assert "Report the employment land available for the new jobs" in dom.stdout

    shot = tmp_path / "pack.png"
    taken = _browser(chromium, tmp_path / "profile-shot", "--hide-scrollbars", "--window-size=1200,1100",
                     f"--screenshot={shot}", page.as_uri())
    assert taken.returncode == 0 and shot.exists(), taken.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 20  # not blank: text, tables, charts
    blue = sum(n for n, rgb in colours if all(abs(a - b) <= 24 for a, b in zip(rgb, ACTUAL_BLUE, strict=True)))
    assert blue > 300, "the charts' actual lines are not on the screenshot"


def test_the_pdf_pack_opens(demo: Harness, tmp_path: Path) -> None:
    pdftoppm = _tool("pdftoppm")
    pdf = _pack(demo, format="pdf")
    assert pdf.startswith(b"%PDF")
    (tmp_path / "pack.pdf").write_bytes(pdf)
    done = subprocess.run([pdftoppm, "-png", "-r", "40", "-f", "1", "-l", "1", str(tmp_path / "pack.pdf"),
                           str(tmp_path / "page")], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    pages = list(tmp_path.glob("page*.png"))
    assert len(pages) == 1
    image = Image.open(pages[0]).convert("RGB")
    assert len(image.getcolors(maxcolors=1_000_000) or []) > 10  # a page with something on it


def test_the_csv_tables_carry_the_figures_and_the_scope_narrows_them(demo: Harness) -> None:
    archive = zipfile.ZipFile(io.BytesIO(_pack(demo, format="csv")))
    assert set(archive.namelist()) == {"performance.csv", "changes.csv", "decisions.csv", "retaskings.csv",
                                       "red_projects.csv", "overdue.csv"}
    rows = list(csv.DictReader(io.StringIO(archive.read("performance.csv").decode())))
    worcester = next(r for r in rows if r["district"] == "Worcester")
    assert (worcester["actual"], worcester["goal"], worcester["rag"]) == ("340", "1000", "red")
    county = next(r for r in rows if r["district"] == "county total")
    assert county["goal"] == "6000"
    red = list(csv.DictReader(io.StringIO(_pack(demo, format="csv", table="red_projects").decode())))
    assert [r["project"] for r in red] == ["Inward investment to the Blackpole business park"]
    wychavon = list(csv.DictReader(io.StringIO(
        _pack(demo, format="csv", table="performance", district="wychavon").decode())))
    assert {r["district"] for r in wychavon} == {"total in scope", "Wychavon"}
    assert list(csv.DictReader(io.StringIO(
        _pack(demo, format="csv", table="red_projects", district="wychavon").decode()))) == []


def test_only_scrutiny_auditors_and_officers_read_packs(demo: Harness) -> None:
    refused = demo.client.get("/reports/scrutiny", params=PERIOD, headers=demo.headers("partner_officer"))
    assert refused.status_code == 403
    backwards = demo.client.get("/reports/scrutiny", params={**PERIOD, "from": "2014-01-01"},
                                headers=demo.headers("auditor"))
    assert backwards.status_code == 422


def test_the_cli_writes_the_pack(demo: Harness, tmp_path: Path) -> None:
    out = tmp_path / "cli-pack"
    env = {**os.environ, **settings_env(demo.system.settings)}
    done = subprocess.run([sys.executable, "-m", "services.cli", "report", "scrutiny", "--from", "2011-04-01",
                           "--to", "2013-06-30", "--district", "worcester", "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert {p.name for p in out.iterdir()} >= {"pack.html", "pack.pdf", "performance.csv", "overdue.csv"}
    assert (out / "pack.pdf").read_bytes().startswith(b"%PDF")
