"""The scrutiny pack of the worked example, fetched from the reporting API as a scrutiny member: the HTML page renders
in a real headless browser (Debian's chromium) without errors, with its charts in the DOM and on the screenshot; the
PDF opens (pdftoppm renders its first page); the CSV tables carry the figures; the CLI writes the same pack."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image, ImageChops

from shared.contracts.tasking import COUNTED_STATUSES
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
    for heading in ("Summary", "Exceptions and corrective action", "Performance against target",
                    "What changed since the previous pack", "Decisions in the period",
                    "Overdue actions and milestones"):
        assert heading in dom.stdout
    assert dom.stdout.index("Summary") < dom.stdout.index("Performance against target")  # the summary first
    assert "Inward investment to the Blackpole business park" in dom.stdout
    assert "Council funds a dedicated inward-investment officer" in dom.stdout
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
    assert set(archive.namelist()) == {"summary.csv", "exceptions.csv", "performance.csv", "changes.csv",
                                       "decisions.csv", "retaskings.csv", "red_projects.csv", "overdue.csv"}
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
                           "--to", "2013-06-30", "--district", "worcester", "--out", str(out),
                           "--format", "html,pdf,csv,json"],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert {p.name for p in out.iterdir()} >= {"pack.html", "pack.pdf", "pack.json", "performance.csv", "overdue.csv"}
    assert (out / "pack.pdf").read_bytes().startswith(b"%PDF")
    assert hashlib.sha256((out / "pack.json").read_bytes()).hexdigest() in done.stdout
    refused = subprocess.run([sys.executable, "-m", "services.cli", "report", "scrutiny", "--from", "2011-04-01",
                              "--to", "2013-06-30", "--committee", "\U00013000", "--out", str(tmp_path / "no"),
                              "--format", "pdf"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert refused.returncode == 2 and "U+13000" in refused.stderr, refused.stderr[-2000:]


# -- a committee paper: summary first, decisions in words, names never ids, accessible, faithful ------------------

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "pack-screenshots"
TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]
GRAPHQL_FIGURES = """{
  deliveryProjects { status performance(on: "2013-06-30") { status direction } }
  deliveryRollups { performance(on: "2013-06-30") { status direction }
    shares { status performance(on: "2013-06-30") { status direction } } } }"""


def _counts(judged: list[dict[str, Any] | None]) -> dict[str, int]:
    """As a person would count GraphQL's answer: by status (RAG or stale) and by direction of travel."""
    found = {k: 0 for k in ("green", "amber", "red", "stale", "improving", "steady", "worsening")}
    for performance in judged:
        for key in (performance or {}).values():
            if key in found:
                found[key] += 1
    return found


def test_the_html_pack_reads_as_a_committee_paper(demo: Harness, tmp_path: Path) -> None:
    from tests.e2e.browser import Browser
    from tests.harness import chromium
    from tools.judges import npm_installed

    axe = (npm_installed() / "axe-core" / "axe.min.js").read_text()
    page = tmp_path / "pack.html"
    page.write_bytes(_pack(demo))
    browser = Browser(chromium(), tmp_path / "profile")
    try:
        browser.open(page.as_uri())
        text = str(browser.evaluate("document.querySelector('main').innerText"))
        summary = browser.evaluate("""Array.from(document.querySelectorAll('table.summary tbody tr')).map(
            tr => [tr.querySelector('th').innerText,
                   ...Array.from(tr.querySelectorAll('td')).map(td => td.innerText)])""")
        header = browser.evaluate("""Array.from(document.querySelectorAll('table.summary thead th')).map(
            th => th.innerText.trim())""")
        options = json.dumps({"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]})
        browser.evaluate(axe + ";0")
        checked = browser.evaluate(
            f"axe.run(document, {options}).then(r => ({{violations: r.violations.map(v => ({{id: v.id, "
            "help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})), passes: r.passes.length}))")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        browser.screenshot(SCREENSHOTS / "pack-first-page.png")
    finally:
        browser.close()
    assert checked["violations"] == [], checked["violations"]
    assert checked["passes"] > 10
    assert (SCREENSHOTS / "pack-first-page.png").stat().st_size > 10_000

    # Summary first, its counts those GraphQL gives.
    assert text.index("Summary") < text.index("Exceptions and corrective action") < text.index(
        "Performance against target") < text.index("Decisions in the period")
    columns = [h.split(":")[0].strip("\u25cf\u25b2\u25a0\u25cb ").lower() for h in header]
    rows = {row[0]: {c: int(v) for c, v in zip(columns[1:], row[1:], strict=True) if v.isdigit()}
            for row in summary}
    figures = demo.graphql(GRAPHQL_FIGURES, role="scrutiny_member")["data"]
    projects = _counts([p["performance"] for p in figures["deliveryProjects"] if p["status"] == "open"])
    targets = _counts([r["performance"] for r in figures["deliveryRollups"]])
    shares = _counts([s["performance"] for r in figures["deliveryRollups"] for s in r["shares"]
                      if s["status"] in COUNTED_STATUSES])
    for row, expected in (("open projects", projects), ("targets", targets), ("district shares", shares)):
        assert {k: rows[row][k] for k in expected} == expected, (row, rows[row], expected)
    assert targets["red"] == 1 and shares == {**shares, "red": 1, "stale": 1}  # the worked example's figures
    assert "Exceptions: red, worsening or stale" in text
    # Wychavon has reported nothing in two years: stale, not a colour from old data; each figure its forecast.
    assert rows["district shares"]["stale"] == 1 and "Stale: no recent report" in text
    assert "linear from the last two reports" in text

    # The retasking once, in words, with the PSTG's name, the meeting's title and its date.
    retasking = [line for line in text.splitlines() if "retasked" in line]
    assert len(retasking) == 1, retasking
    assert "Place Shaping Theme Group retasked Worcester's 1,200 jobs" in retasking[0]
    assert "\u201cPSTG: jobs target review\u201d on 14 June 2011" in retasking[0]
    assert "Wychavon" in retasking[0] and "minute PSTG/2011/06/7" in retasking[0]
    assert retasking[0].startswith("14 June 2011")  # in the period by its decision's date,
    entered = datetime.now(UTC).date()
    assert retasking[0].rstrip().endswith(f"{entered.day} {entered:%B %Y}")  # entered (today) beside it
    # Corrective action: the intervention, who decided it, and whether it has worked yet.
    assert "Anchor tenant postponed its decision to 2014" in text
    assert "No progress report since the intervention (24 April 2013)" in text
    assert "due by 1 October 2013" in text and "no due date was recorded" not in text  # due when, and by whom
    assert re.search(r"Carried out by\s+Worcestershire County Council", text)

    # Names, never ids; nothing printed as Python's None.
    definition = yaml.safe_load((Path(__file__).resolve().parents[2] / "shared" / "worcestershire.yaml").read_text())
    ids = {o["id"] for o in definition["organisations"]} | {b["id"] for b in definition["bodies"]} | {
        d["id"] for d in definition["districts"]}
    shown = [i for i in sorted(ids) if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text)]
    assert shown == [], shown
    assert not re.search(r"\bNone\b", text)
    assert "TaskingAccepted" not in text and "ProjectOpened" not in text


NON_LATIN = "\u7ecf\u6d4e\u7e41\u8363 Scrutiny Committee"  # 经济繁荣 ("economic prosperity")


def _first_page(pdftoppm: str, pdf: bytes, where: Path, name: str) -> Image.Image:
    (where / f"{name}.pdf").write_bytes(pdf)
    done = subprocess.run([pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile",
                           str(where / f"{name}.pdf"), str(where / name)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return Image.open(where / f"{name}.png").convert("RGB")


def test_the_pdf_draws_a_non_latin_title_with_the_noto_fallbacks_or_fails(demo: Harness, tmp_path: Path) -> None:
    from services.reporting.changes import Scope
    from services.reporting.pack_render import MissingGlyphs, to_pdf
    from services.reporting.packs import PackRequest, build_pack

    pdftoppm, pdffonts = _tool("pdftoppm"), _tool("pdffonts")
    served = _pack(demo, format="pdf", committee=NON_LATIN)
    (tmp_path / "served.pdf").write_bytes(served)
    fonts = subprocess.run([pdffonts, str(tmp_path / "served.pdf")], capture_output=True, text=True, check=True)
    embedded = [line.split()[0] for line in fonts.stdout.splitlines()[2:]]
    assert any(re.fullmatch(r"[A-Z]{6}\+NotoSansCJK\w*", f) for f in embedded), fonts.stdout
    assert any(re.fullmatch(r"[A-Z]{6}\+NotoSans", f) for f in embedded), fonts.stdout

    store = demo.system.read_model.store  # type: ignore[union-attr]
    request = PackRequest(committee=NON_LATIN, start=date(2011, 4, 1), end=date(2013, 6, 30), scope=Scope(),
                          as_of=datetime.now(UTC))
    pack = build_pack(store, request)
    with pytest.raises(MissingGlyphs):  # without the fallbacks the title cannot be drawn: refused, not "????"
        to_pdf(pack, fallback_fonts=False)
    with_fallbacks = _first_page(pdftoppm, to_pdf(pack), tmp_path, "with")
    without = _first_page(pdftoppm, to_pdf(pack, fallback_fonts=False, strict=False), tmp_path, "without")
    title = (0, 0, with_fallbacks.width, with_fallbacks.height // 12)  # the page's top: the title's line
    a, b = with_fallbacks.crop(title), without.crop(title)
    differing = sum(ImageChops.difference(a, b).convert("L").histogram()[1:])  # pixels not the same
    assert differing > 200, differing
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    a.save(SCREENSHOTS / "pdf-title-with-noto-fallbacks.png")
    b.save(SCREENSHOTS / "pdf-title-without-fallbacks.png")
    # Right-to-left and Indic text is shaped and drawn from their Noto fonts; a character no font has is refused.
    shaped = _pack(demo, format="pdf", committee="\u0644\u062c\u0646\u0629 \u0627\u0644\u062a\u062f\u0642\u064a\u0642 "
                   "\u0938\u092e\u093f\u0924\u093f")
    (tmp_path / "shaped.pdf").write_bytes(shaped)
    fonts = subprocess.run([pdffonts, str(tmp_path / "shaped.pdf")], capture_output=True, text=True, check=True)
    assert "NotoSansArabic" in fonts.stdout and "NotoSansDevanagari" in fonts.stdout, fonts.stdout
    refused = demo.client.get("/reports/scrutiny", params={**PERIOD, "format": "pdf", "committee": "\U00013000"},
                              headers=demo.headers("scrutiny_member"))
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json")
    assert "U+13000" in refused.json()["detail"]


# -- published for a meeting --------------------------------------------------------------------------------------

PUBLISH = {"committee": "Worcestershire Overview and Scrutiny", "meeting_on": "2013-07-15",
           "starts_on": "2011-04-01", "ends_on": "2013-06-30", "papers_public": True,
           "decision": {"body": "worcestershire-partnership", "decided_on": "2013-07-08",
                        "delegation": "county-officer-scrutiny-packs",
                        "reason": "The pack for the July committee, as the committee's papers are published"}}


def _published_row(h: Harness, pack_id: str) -> dict[str, Any] | None:
    store = h.system.read_model.store  # type: ignore[union-attr]
    rows = store.query("SELECT * FROM published_scrutiny_packs WHERE id = ?", [pack_id])
    return dict(rows[0]) if rows else None


def test_a_pack_published_for_a_meeting_is_read_without_a_token_and_rebuilds_byte_identical(
        demo: Harness, tmp_path: Path) -> None:
    from services.reporting.pack_publish import request_of
    from services.reporting.pack_render import to_json, to_pdf
    from services.reporting.packs import build_pack
    from services.reporting.projections import read_model_ddl
    from services.reporting.readmodel import ReportingReadModel
    from services.reporting.rebuild import rebuild
    from shared.readstore import ReadStore
    from web.session import DEMO_USERS

    refused = demo.client.post("/reports/scrutiny/publications", json=PUBLISH, headers=demo.headers("scrutiny_member"))
    assert refused.status_code == 403  # publishing is the partnership officer's
    undelegated = demo.client.post("/reports/scrutiny/publications", headers=demo.headers("partnership_officer"),
                                   json={**PUBLISH, "decision": {**PUBLISH["decision"],
                                                                 "delegation": "county-officer-data-protection"}})
    assert undelegated.status_code in (409, 422) and "scheme" in undelegated.text.lower(), undelegated.text

    published = demo.client.post("/reports/scrutiny/publications", json=PUBLISH,
                                 headers=demo.headers("partnership_officer"))
    assert published.status_code == 201, published.text
    answer = published.json()
    again = demo.client.post("/reports/scrutiny/publications", json=PUBLISH,
                             headers=demo.headers("partnership_officer"))
    assert again.status_code == 409  # one pack per meeting, never replaced
    row = wait_until(lambda: _published_row(demo, answer["id"]), what="the publication in reporting")
    assert row["sha256"] == answer["sha256"] and row["renderer_version"] == answer["renderer_version"]
    assert json.loads(row["positions"]) == answer["positions"] and answer["positions"]

    # Fetched as from a link in an e-mail: no token.
    page = demo.client.get(answer["url"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["x-pack-identical"] == "true"
    assert "Place Shaping Theme Group retasked Worcester&#x27;s 1,200 jobs" in page.text
    canonical = demo.client.get(answer["url"], params={"format": "json"})
    assert hashlib.sha256(canonical.content).hexdigest() == answer["sha256"]
    pdf = demo.client.get(answer["url"], params={"format": "pdf"}).content
    assert pdf.startswith(b"%PDF") and demo.client.get(answer["url"], params={"format": "pdf"}).content == pdf
    checked = demo.client.get(answer["url"] + "/verification").json()
    assert checked["identical"] and checked["same_positions"], checked
    assert checked["recorded_renderer_version"] == checked["renderer_version"]
    assert checked["audit"]["available"] and checked["audit"]["intact"], checked["audit"]

    # No personal data: people by role and organisation, never a pseudonym or a name.
    text = canonical.content.decode()
    assert "person:" not in text
    for user in DEMO_USERS:
        assert user.name.split(",")[0] not in text

    # Rebuilt from the history: the same canonical JSON, and with this renderer version the same PDF bytes.
    report = rebuild(demo.system.settings, demo.system.transport, "reporting_pack_rebuild", progress=False)
    assert report.events > 0
    rebuilt = ReadStore(demo.system.settings, "reporting_pack_rebuild")
    ReportingReadModel(rebuilt, read_model_ddl())  # opened as the live one is: sealed text opened by the vault
    try:
        rebuilt_row = rebuilt.query("SELECT * FROM published_scrutiny_packs WHERE id = ?", [answer["id"]])[0]
        pack = build_pack(rebuilt, request_of(rebuilt_row))
        assert to_json(pack) == canonical.content
        assert to_pdf(pack) == pdf
    finally:
        rebuilt.close()

    # A committee whose papers are not public: its pack needs a reader's token.
    private = demo.client.post("/reports/scrutiny/publications", headers=demo.headers("partnership_officer"),
                               json={**PUBLISH, "meeting_on": "2013-07-22", "papers_public": False})
    assert private.status_code == 201, private.text
    url = private.json()["url"]
    wait_until(lambda: _published_row(demo, private.json()["id"]), what="the private publication")
    assert demo.client.get(url).status_code == 401
    assert demo.client.get(url, headers=demo.headers("partner_officer")).status_code == 403
    assert demo.client.get(url, headers=demo.headers("scrutiny_member")).status_code == 200
    # The list the scrutiny pages link from: the public pack for anyone, the other for those who read packs.
    assert [p["url"] for p in demo.client.get("/reports/scrutiny/published").json()] == [answer["url"]]
    listed = demo.client.get("/reports/scrutiny/published", headers=demo.headers("scrutiny_member")).json()
    assert [p["url"] for p in listed] == [url, answer["url"]]  # the latest meeting first
