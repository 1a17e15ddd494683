"""The console in a real browser: Chromium from the system packages, driven by Selenium.

Nothing is downloaded at run time: the browser is /usr/bin/chromium and the driver the
matching /usr/bin/chromedriver (Debian's ``chromium`` and ``chromium-driver``). A reviewer signs
in, corrects a PO's price beside its page image and approves it, and the corrected order
reaches the Tray simulator; then rejects a held refund. Every page is checked for console
errors (script errors, failed requests, CSP violations).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import new_event
from tests.console.conftest import Product, unique
from tray_local.po_documents import build_email, make_order, render_pdf

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# The README's picture; rewritten only on request (TRAY_AGENT_UPDATE_SCREENSHOT=1), so a test run
# leaves the working tree as it found it.
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "console.png"
BRIGHTLINE = ("Brightline Components Ltd", "7 Mill Lane, Leeds LS1 4AB", "buying@brightline.co.uk")
WAIT_S = 30


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Selenium Manager would look for (and download) a driver; ours is named explicitly.
    os.environ.setdefault("SE_OFFLINE", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert CHROMIUM.exists() and CHROMEDRIVER.exists(), "apt-get install chromium chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1440,1150",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(WAIT_S)
    try:
        yield driver
    finally:
        driver.quit()


class Console:
    """The few steps the tests take, and the console-error check after each page."""

    def __init__(self, driver: Any, product: Product) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver = driver
        self.product = product
        self.wait = WebDriverWait(driver, WAIT_S)
        self.errors: list[dict[str, Any]] = []

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec

        return self.wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))

    def all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return list(self.driver.find_elements(By.CSS_SELECTOR, css))

    def until(self, condition: Any) -> Any:
        return self.wait.until(lambda _driver: condition())

    def go(self, fragment: str) -> None:
        self.driver.get(f"{self.product.console_url}{fragment}")

    def collect_errors(self) -> list[dict[str, Any]]:
        # get_log drains the buffer: what is returned happened since the last call.
        severe = [e for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]
        self.errors += severe
        return severe

    def flash(self, expected: str) -> bool:
        """Wait until the console shows ``expected`` as its message (actions answer asynchronously)."""
        from selenium.common.exceptions import StaleElementReferenceException

        def shown() -> bool:
            try:
                return any(e.text == expected for e in self.all("#flash .flash"))
            except StaleElementReferenceException:
                return False

        return bool(self.until(shown))


def _po_with_price_finding(product: Product) -> tuple[str, Any]:
    order = make_order(
        unique("BL"),
        [
            ("WID-1001", "Steel widget, zinc plated", 100, "11.00"),
            ("CAB-CAT6-5", "Network cable Cat6 shielded, 5 m", 40, "8.90"),
        ],
        buyer=BRIGHTLINE,
    )
    mail = build_email([(f"{order.po_number}.pdf", render_pdf(order), "application/pdf")])
    drop = product.pipeline.drop(f"inbox/{unique('msg')}.eml", mail)
    ((intake_id, paused),) = drop.executions.items()
    assert paused.paused, paused
    return intake_id, order


def _held_refund(product: Product) -> tuple[str, dict[str, Any]]:
    customer = f"cus-{unique('R').lower()}"
    event = new_event(
        "refund.requested", customer_id=customer, source="zendesk", data={"amount": 240.0, "currency": "EUR"}
    )
    answer = product.env.api("POST", "/events", event)
    assert answer.status == 202, answer.body
    assert answer.body["review_id"], answer.body
    return customer, answer.body


def _runs(product: Product, key_prefix: str) -> list[Any]:
    product.env.simulator.wait_idle()
    return [e for e in product.env.simulator.executions() if (e.idempotency_key or "").startswith(key_prefix)]


def test_a_reviewer_corrects_a_po_price_approves_it_and_rejects_a_held_refund(
    product: Product, browser: Any, tmp_path: Path
) -> None:
    intake_id, order = _po_with_price_finding(product)
    customer, refund = _held_refund(product)
    console = Console(browser, product)

    # Sign in: the bare /console redirects to /console/, the token is checked by the API.
    browser.get(f"{product.base_url}/console")
    console.find("#signin #token").send_keys(product.reviewer_token)
    console.find("#signin button[type=submit]").click()
    console.find("#review-filters")
    assert browser.current_url.startswith(product.console_url)
    assert console.collect_errors() == []

    # The queue, filtered to purchase orders, lists the PO; open it.
    console.go("#/reviews?kind=purchase_order")
    link = console.find(f'a.review-link[href="#/review/{intake_id}"]')
    assert all(badge.text == "purchase order" for badge in console.all("table.grid .badge-purchase_order"))
    link.click()

    # The page image beside the fields, the price finding marked on the line's price.
    page_shown = "const i = document.querySelector('img.page'); return i && i.complete && i.naturalWidth > 0"
    console.until(lambda: browser.execute_script(page_shown))
    (finding,) = console.all("li.finding")
    assert finding.text == "Line 1 (WID-1001): PO says $11.00/unit but the current price is $12.50/unit"
    price = console.find('input[data-path="lines.0.unit_price"]')
    assert "flagged" in price.get_attribute("class").split()
    assert price.get_attribute("value") == "11.00"
    other_price = console.find('input[data-path="lines.1.unit_price"]')
    assert "flagged" not in other_price.get_attribute("class").split()
    assert console.find('tr[data-line="1"]').get_attribute("class") == "flagged-row"

    # Edit the price (the line amount follows), and approve with a note.
    price.clear()
    price.send_keys("12.50")
    amount = console.find('input[data-path="lines.0.amount"]')
    assert amount.get_attribute("value") == "1250.00"
    console.find("input[name=note]").send_keys("price confirmed with Brightline")
    browser.execute_script("window.scrollTo(0, 0)")
    shot = SCREENSHOT if os.environ.get("TRAY_AGENT_UPDATE_SCREENSHOT") == "1" else tmp_path / "console.png"
    assert browser.save_screenshot(str(shot))  # the page, the finding, the edit
    assert shot.read_bytes().startswith(b"\x89PNG")
    console.find("button#approve").click()
    assert console.flash("Approved with your edits.")
    console.until(lambda: "approved by local-reviewer" in console.find("p.resolution").text)
    assert console.collect_errors() == []

    # The corrected order reached Tray, once, with the reviewer's edit on it.
    result = product.pipeline.wait(intake_id)
    assert result.succeeded, result
    assert result.output["outcome"] == "ordered"
    (run,) = _runs(product, f"{intake_id}:")
    assert run.workflow_name == "order_processing"
    sent = run.input["order_data"]
    assert sent["po_number"] == order.po_number
    assert Decimal(sent["lines"][0]["unit_price"]) == Decimal("12.50")
    assert Decimal(sent["lines"][0]["amount"]) == Decimal("1250.00")
    assert sent["review"] == {"review_id": intake_id, "reviewer": "local-reviewer", "edited": True}

    # The held refund: its reason and proposed input, found by kind and customer; reject it.
    console.go(f"#/reviews?kind=decision&customer={customer}")
    console.find(f'a.review-link[href="#/review/{refund["review_id"]}"]').click()
    assert "issue_refund" in console.find(".held ul").text
    assert '"amount": 240' in console.find("textarea[name=payload]").get_attribute("value")
    assert console.find("dd.reason").text
    console.find("button#reject").click()
    assert console.flash("Say why you reject it.")  # a reason is required; nothing was sent
    assert product.env.api("GET", f"/reviews/{refund['review_id']}").body["status"] == "pending"
    console.find("input[name=reason]").send_keys("outside the refund window")
    console.find("button#reject").click()
    assert console.flash("Rejected.")
    console.until(lambda: "rejected by local-reviewer" in console.find("p.resolution").text)

    item = product.env.api("GET", f"/reviews/{refund['review_id']}").body
    assert (item["status"], item["resolved_by"], item["resolution_note"]) == (
        "rejected",
        "local-reviewer",
        "outside the refund window",
    )
    assert _runs(product, refund["work_id"]) == []  # no refund ran

    # The decision's audit trail says so.
    console.find('a[href^="#/decision/"]').click()
    console.until(lambda: console.find("#outcome").text == "rejected")
    assert "policy" in console.find("dl.facts").text
    assert console.collect_errors() == []


def test_a_large_order_in_review_shows_its_summary_and_flagged_lines_and_sends_line_edits(
    product: Product, browser: Any
) -> None:
    """An 800-line PO is reviewed by reference: the console shows the summary and the two flagged
    lines under their own numbers, and approving sends only the changed fields by line number."""
    from tests.po_pipeline.large_orders import large_order, large_order_email

    base = large_order(800, unique("PO-BIG"))
    rows = [
        (
            line.sku or "",
            line.description or "",
            int(line.quantity),
            "1.00" if n in (5, 640) else str(line.unit_price),
        )
        for n, line in enumerate(base.lines, start=1)
    ]
    order = make_order(base.po_number or "", rows, shipping="0")
    drop = product.pipeline.drop(f"inbox/{unique('big')}.eml", large_order_email(order), timeout_s=300)
    ((intake_id, paused),) = drop.executions.items()
    assert paused.paused, paused
    item = product.env.api("GET", f"/reviews/{intake_id}").body
    assert "order_ref" in item["payload"] and "lines" not in item["payload"]

    console = Console(browser, product)
    console.go("")
    if console.all("#signin"):  # the session of an earlier test may still be signed in
        console.find("#signin #token").send_keys(product.reviewer_token)
        console.find("#signin button[type=submit]").click()
        console.find("#review-filters")
    console.go(f"#/review/{intake_id}")
    summary = console.find("p.large-order").text
    assert "800 lines, 2 with findings" in summary and order.po_number in summary
    assert [row.get_attribute("data-line") for row in console.all("table.lines tbody tr")] == ["5", "640"]
    price = console.find('input[data-path="lines.639.unit_price"]')
    assert "flagged" in price.get_attribute("class").split() and price.get_attribute("value") == "1.00"
    price.clear()
    price.send_keys("4.25")
    line_5 = console.find('input[data-path="lines.4.unit_price"]')
    line_5.clear()
    line_5.send_keys("12.50")
    console.find("button#approve").click()
    assert console.flash("Approved with your edits.")
    assert console.collect_errors() == []

    result = product.pipeline.wait(intake_id, timeout_s=300)
    assert result.succeeded and result.output["outcome"] == "ordered", result
    product.env.simulator.wait_idle()
    sent: dict[int, dict[str, Any]] = {}
    for run in product.env.simulator.engine.executions():
        if (run.idempotency_key or "").startswith(f"{intake_id}:") and run.took_effect:
            data = run.input["order_data"]
            first = int(data.get("chunk", {}).get("first_line", 1))
            for offset, line in enumerate(data["lines"]):
                assert first + offset not in sent, "a line was ordered twice"
                sent[first + offset] = line
    assert sorted(sent) == list(range(1, 801))
    assert Decimal(sent[640]["unit_price"]) == Decimal("4.25") and Decimal(sent[5]["unit_price"]) == Decimal(
        "12.50"
    )
    assert Decimal(sent[6]["unit_price"]) == Decimal(str(order.lines[5].unit_price))


def test_operator_pages_show_held_work_incidents_and_todays_failure_rates(
    product: Product, browser: Any
) -> None:
    _held_refund(product)  # at least one workflow has activity today
    console = Console(browser, product)
    console.go("")
    if console.all("#signin"):
        console.find("#signin #token").send_keys(product.reviewer_token)
        console.find("#signin button[type=submit]").click()
        console.find("#review-filters")

    console.go("#/work?state=in_review")
    console.find("h1")
    assert console.find("h1").text == "Held work and incidents"
    assert console.all("table.grid tbody tr"), "the held refund is in review"

    today = datetime.now(UTC).date().isoformat()
    console.go(f"#/summary/{today}")
    chart = console.find('svg.chart[aria-label="Failure rate per workflow"]')
    assert "issue_refund" in chart.text
    summary = product.env.api("GET", f"/summary/{today}").body
    assert len(console.all('svg.chart[aria-label="Failure rate per workflow"] rect.bar')) == len(
        [w for w in summary["workflows"] if w["total"] > 0]
    )
    assert console.collect_errors() == []
