"""The running dashboard in a real headless Chromium: every page opens, shows the store's numbers,
shows strings from data as text, and leaves a screenshot under test-output/screenshots/.

`streamlit run dashboard_app/app.py` runs as a subprocess on a free port against a demo store the
real flow filled (plus tickets, feature requests and a cluster of reviews written by the test, some
of them Markdown bait). Selenium drives Debian's
/usr/bin/chromium through /usr/bin/chromedriver (`scripts/bootstrap.sh test` installs both).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.browser.dashboard_store import (BAIT_ICONS, HOSTILE_TICKET, MARKDOWN_BAIT, DemoStore,
                                           store_with_markdown_bait)
from tests.helpers import ROOT, free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SHOTS = ROOT / "test-output" / "screenshots"
PAGE_TIMEOUT = 120  # seconds for a page's content to appear (the first one imports everything)

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed: scripts/bootstrap.sh test")
if not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()):
    pytest.skip(f"no Chromium at {CHROMIUM} or no driver at {CHROMEDRIVER}: "
                "apt-get install chromium chromium-driver (scripts/bootstrap.sh test does it as root)",
                allow_module_level=True)

from selenium.common.exceptions import StaleElementReferenceException, TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> DemoStore:
    return store_with_markdown_bait(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def app_url(store, tmp_path_factory) -> Iterator[str]:
    """`streamlit run` on a free port; stopped (and its log kept) at the end."""
    port = free_port()
    log_path = tmp_path_factory.getbasetemp() / "streamlit.log"
    env = {**os.environ, **store.env, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard_app" / "app.py"),
             "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start (exit {proc.poll()}):\n{log_path.read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000", "--lang=en-US"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(PAGE_TIMEOUT)
    try:
        yield driver
    finally:
        driver.quit()


def body_text(driver) -> str:
    """The visible text; Streamlit re-renders often, so a node that went stale is read again."""
    for _ in range(10):
        try:
            return driver.find_element(By.TAG_NAME, "body").text
        except StaleElementReferenceException:
            time.sleep(0.2)
    return driver.find_element(By.TAG_NAME, "body").text


def wait_for(driver, name: str, check: Callable[[str], bool], what: str) -> str:
    """Wait until `check(page text)` holds and Streamlit has finished the run; screenshot either way."""
    def ready(d) -> bool:
        if d.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]'):
            return True  # fail below with the exception's text
        running = d.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]')
        return check(body_text(d)) and not any("Running" in e.text for e in running)

    try:
        WebDriverWait(driver, PAGE_TIMEOUT, poll_frequency=0.5,
                      ignored_exceptions=(StaleElementReferenceException,)).until(ready)
    except TimeoutException:
        screenshot(driver, f"{name}-timeout")
        raise AssertionError(f"{name}: {what} did not appear in {PAGE_TIMEOUT} s; page text:\n"
                             f"{body_text(driver)[:1500]}") from None
    errors = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')
    assert not errors, f"{name}: the page raised:\n{errors[0].text[:1500]}"
    return body_text(driver)


def charts_drawn(driver) -> int:
    """Vega-Lite charts that have drawn their canvas or SVG."""
    return len(driver.find_elements(By.CSS_SELECTOR, ".vega-embed canvas, .vega-embed svg.marks"))


def screenshot(driver, name: str) -> Path:
    """The whole page: the window grows to the height of the scrolled main area first."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script(
        "const m = document.querySelector('[data-testid=\"stMain\"]') || document.body;"
        "return Math.max(m.scrollHeight, document.body.scrollHeight);")
    driver.set_window_size(1400, min(max(int(height) + 80, 1000), 8000))
    time.sleep(0.5)
    path = SHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1400, 1000)
    return path


def open_page(driver, url: str, path: str, name: str, needs: list[str], charts: int = 0) -> str:
    """Open a page and wait until every text in `needs` shows and `charts` charts are drawn."""
    driver.get(f"{url}/{path}")
    text = wait_for(driver, name, lambda t: all(n in t for n in needs), f"all of {needs}")
    if charts:
        try:
            WebDriverWait(driver, PAGE_TIMEOUT, ignored_exceptions=(StaleElementReferenceException,)).until(
                lambda d: charts_drawn(d) >= charts)
        except TimeoutException:
            screenshot(driver, f"{name}-timeout")
            raise AssertionError(f"{name}: {charts_drawn(driver)} of {charts} charts drawn") from None
    return text


def test_overview_in_the_browser(browser, app_url, store):
    from dashboard_app import queries as q

    s = store.open()
    labels = q.series_frame(s.counts_over_time("primary_label", "day"), "day")
    window = q.window_of(labels, 7)
    reviews = int(q.compare_windows(labels, window)["current"].sum())
    open_page(browser, app_url, "", "overview",
              ["Volume per primary label", "Sentiment", window.label, f"Reviews\n{reviews:,}", "Spikes in window"],
              charts=3)
    assert screenshot(browser, "overview").stat().st_size > 20_000


def test_issues_in_the_browser(browser, app_url, store):
    s = store.open()
    clusters = s.top_clusters(app_id="paynest", limit=1000)
    text = open_page(browser, app_url, "issues", "issues",
                     ["Top 10 issues", "#10 · ", f"{len(clusters)} clusters", "App versions:"], charts=1)
    cards = [line for line in text.splitlines() if line.startswith("#") and " · " in line]
    assert len(cards) == 10
    names = {f"{c['primary_label']} · {c['name']}" for c in clusters}
    assert all(card.split(" · ", 1)[1] in names for card in cards), cards  # real labels and cluster names
    assert "representative ·" in text  # the cluster's representative review is quoted
    assert "Ticket nan" not in text  # a cluster without a ticket links to none
    screenshot(browser, "issues")


def test_search_in_the_browser(browser, app_url):
    open_page(browser, app_url, "search", "search", ["Type what users might say"])
    browser.find_element(By.XPATH, "//label[contains(., 'Keyword: these words')]").click()
    box = browser.find_element(By.CSS_SELECTOR, 'input[aria-label="Search reviews"]')
    box.send_keys("debited", Keys.ENTER)
    def quotes(text: str) -> list[str]:
        return [line for line in text.splitlines() if "debited" in line.lower()]

    # The count line renders before the results under it: wait for both, or the page is read half drawn.
    text = wait_for(browser, "search", lambda t: "best keyword matches pass the filters" in t and len(quotes(t)) >= 3,
                    "keyword results")
    assert len(quotes(text)) >= 3, text[:1500]
    screenshot(browser, "search")


def test_tickets_in_the_browser(browser, app_url, store):
    from dashboard_app import queries as q

    tickets = q.all_documents(store.open(), "tickets")
    first = q.tickets_frame(tickets).iloc[0]  # most severe first
    counts = q.severity_counts(tickets)
    open_page(browser, app_url, "tickets", "tickets",
              ["JSON for the snap-in", first["title"], f"Why: {first['why']}", f"Tickets\n{len(tickets)}",
               *(f"{name.capitalize()}\n{n}" for name, n in counts.items())], charts=1)
    browser.find_element(By.XPATH, "//*[@role='tab'][contains(., 'JSON for the snap-in')]").click()
    text = wait_for(browser, "tickets", lambda t: '"devrev"' in t, "the snap-in JSON")
    assert f'"id": "{first["id"]}"' in text and f'"severity": "{first["severity"]}"' in text
    screenshot(browser, "tickets")


def test_competitors_in_the_browser(browser, app_url, store):
    from dashboard_app import queries as q

    requests = q.all_documents(store.open(), "feature_requests")
    orgs = {r["org"] for r in requests}
    open_page(browser, app_url, "competitors", "competitors",
              ["Watched organisations", "Gaps against wins", f"Feature requests\n{len(requests)}",
               f"Organisations\n{len(orgs)}", "Most requested features"], charts=3)
    screenshot(browser, "competitors")


def test_pipeline_health_in_the_browser(browser, app_url, store):
    counts = store.open().counts()
    shown = [f"{label}\n{value:,}" for label, value in (("Ingested", store.lines), ("Stored", counts.total),
                                                        ("Enriched", counts.enriched), ("Rejected", counts.rejected))]
    open_page(browser, app_url, "health", "health", ["Rejected by reason", "Latest rejected records", *shown], charts=3)
    screenshot(browser, "health")


def rendered_bait(driver) -> list[str]:
    """What Markdown made of the bait anywhere on the page: links to its host, the icons it names,
    coloured or bold text. Empty when every string from data is shown as text."""
    found = [f"link {a.get_attribute('href')}" for a in driver.find_elements(By.CSS_SELECTOR, "a[href]")
             if "evil.example" in (a.get_attribute("href") or "")]
    found += [f"icon {e.text}" for e in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stIconMaterial"]')
              if e.text in BAIT_ICONS]
    found += [f"colour {e.text}" for e in driver.find_elements(By.CSS_SELECTOR, ".stMarkdownColoredText")]
    found += [f"bold {e.text}" for e in driver.find_elements(By.CSS_SELECTOR, "strong") if e.text == "bold"]
    return found


@pytest.mark.parametrize("path, name, shown", [
    (f"tickets?ticket={HOSTILE_TICKET}", "bait-tickets", [
        MARKDOWN_BAIT["title"], f"App versions: {MARKDOWN_BAIT['version']}", f"Tags: {MARKDOWN_BAIT['tag']}",
        f"Trend: {MARKDOWN_BAIT['trend']}"]),
    ("issues", "bait-issues", [
        f" · payments · {MARKDOWN_BAIT['name']}", f"Keywords: {MARKDOWN_BAIT['keyword']}, {MARKDOWN_BAIT['keyword2']}",
        f"App versions: {MARKDOWN_BAIT['version']}"]),
])
def test_strings_from_data_are_shown_as_text_in_the_browser(browser, app_url, path, name, shown):
    # Titles, org names (the ticket title is built from one), cluster names, keywords, versions, tags:
    # each appears character for character, and nothing on the page became a link, an icon or colour.
    open_page(browser, app_url, path, name, shown)
    assert rendered_bait(browser) == []
    screenshot(browser, name)
