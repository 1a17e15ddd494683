"""The console's routes over real HTTP: static files open, page images behind the read credential."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import httpx
import pytest

from tests.console.conftest import Product, unique
from tray_local.po_documents import build_email, make_order, render_pdf

pytestmark = pytest.mark.slow

BRIGHTLINE = ("Brightline Components Ltd", "7 Mill Lane, Leeds LS1 4AB", "buying@brightline.co.uk")


def _client(product: Product, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=product.base_url, headers=headers, timeout=30, follow_redirects=False)


def _price_finding_po(product: Product, *, pages_text: str = "") -> str:
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
    return intake_id


def test_the_console_is_served_without_credentials_and_sends_no_data(product: Product) -> None:
    with _client(product) as client:
        index = client.get("/console/")
        redirect = client.get("/console")
        script = client.get("/console/app.js")
        style = client.get("/console/style.css")

    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="app.js"></script>' in index.text
    assert "script-src 'self'" in index.headers["content-security-policy"]
    assert index.headers["cache-control"] == "no-store"
    assert redirect.status_code == 308
    assert redirect.headers["location"] == "console/"  # relative: a named stage keeps its prefix
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "import" in script.text
    assert style.headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("name", ["nope.js", "__init__.py", "..%2F__init__.py", "%2E%2E", "index.html.bak"])
def test_only_shipped_console_files_are_served(product: Product, name: str) -> None:
    with _client(product) as client:
        answer = client.get(f"/console/{name}")
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"] == "NotFound"


def test_console_routes_do_not_open_other_methods_or_data(product: Product) -> None:
    with _client(product) as client:
        assert client.post("/console/app.js", content=b"{}").status_code == 401  # only GET is open
        assert client.get("/reviews").status_code == 401  # the data stays behind the token


def test_a_po_page_renders_as_png_for_a_reader(product: Product) -> None:
    intake_id = _price_finding_po(product)

    with _client(product, product.reviewer_token) as client:
        page = client.get(f"/po/intake/{intake_id}/pages/1.png")
        beyond = client.get(f"/po/intake/{intake_id}/pages/2.png")
        zero = client.get(f"/po/intake/{intake_id}/pages/0.png")
        word = client.get(f"/po/intake/{intake_id}/pages/one.png")
        unknown = client.get("/po/intake/po-0000/pages/1.png")
    with _client(product) as anonymous:
        refused = anonymous.get(f"/po/intake/{intake_id}/pages/1.png")

    assert page.status_code == 200, page.text
    assert page.headers["content-type"] == "image/png"
    assert page.headers["x-page-count"] == "1"
    assert page.content.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(page.content[16:20], "big"), int.from_bytes(page.content[20:24], "big")
    # An A4 page (595 x 842 pt) at the console's 110 dpi, to the pixel PDFium rounds to.
    assert abs(width - 595.28 * 110 / 72) <= 1
    assert abs(height - 841.89 * 110 / 72) <= 1
    assert beyond.status_code == 404
    assert "there is no page 2" in beyond.json()["message"]
    assert zero.status_code == 404
    assert word.status_code == 422
    assert unknown.status_code == 404
    assert refused.status_code == 401


def test_the_api_cold_start_loads_no_console_file_and_no_pdf_library() -> None:
    probe = (
        "import sys; import tray_agent.handlers.api; "
        "print(sorted(m for m in ('tray_agent.console', 'tray_agent.domain.po.pages', 'pypdfium2') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_console_page_lists_every_asset_it_loads(product: Any) -> None:
    """index.html and the modules name only files the API serves (a typo would be a browser 404)."""
    import re

    from tray_agent.console import asset_names, read_asset

    names = asset_names()
    referenced: set[str] = set()
    for name in names:
        found = read_asset(name)
        assert found is not None
        referenced |= set(re.findall(r'(?:src|href)="([\w.-]+\.(?:js|css))"', found[0]))
        referenced |= set(re.findall(r'from "\./([\w.-]+\.js)"', found[0]))
    assert referenced
    assert referenced <= names


def test_the_page_image_route_is_in_the_contract_and_the_console_is_not(product: Product) -> None:
    with _client(product) as client:
        paths = client.get("/openapi.json").json()["paths"]
    route = paths["/po/intake/{intake_id}/pages/{page}.png"]["get"]
    assert "image/png" in route["responses"]["200"]["content"]
    assert not [path for path in paths if path.startswith("/console")]
