"""Structured purchase-order data and large orders.

- ``po_embedded_xml_exact_ratio``: share of the development corpus (``shared/corpus/zugferd-v2``,
  real Factur-X/ZUGFeRD invoices with embedded XML and truth in ``*.gt.json``) read with
  ``--parser embedded-xml`` giving exactly the truth for the date, currency, both parties, the
  total, and every line (count, description, quantity, unit, unit price, amount, seller's id).
  Target 1.0. ``po_embedded_xml_documents`` says how many were scored.
- ``po_2000_lines_pipeline_lines_ordered`` / ``po_2000_lines_pipeline_s``: a 2,000-line order
  dropped as an e-mail (PDF plus its Order-X XML) through the state machine CDK synthesizes (moto,
  handlers in-process, the Tray simulator over HTTP): the lines Tray received, each once, and the
  wall time from the drop to the recorded outcome.
- ``po_2000_lines_review_pipeline_s`` / ``po_2000_lines_review_pipeline_lines_ordered``: the same
  order with every price off (2,000 findings: order and findings travel by reference) dropped,
  paused for review, approved through the API with three lines edited, ordered; the wall time from
  the drop to the recorded outcome (the reviewer answers at once) and the lines Tray received once.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from tray_agent.models.purchase_order import PurchaseOrder

ROOT = Path(__file__).resolve().parents[2]
LARGE_ORDER_LINES = 2_000


def corpus_dir() -> Path | None:
    """``shared/corpus/zugferd-v2`` beside the checkout (or ``TRAY_AGENT_CORPUS_DIR``)."""
    explicit = os.environ.get("TRAY_AGENT_CORPUS_DIR")
    candidates = [Path(explicit)] if explicit else []
    candidates += [parent / "shared" / "corpus" / "zugferd-v2" for parent in ROOT.parents]
    return next((path for path in candidates if path.is_dir()), None)


def _same(value: Any, truth: Any) -> bool:
    if isinstance(value, Decimal) and truth is not None:
        return value == Decimal(str(truth))
    return (value or None) == (truth or None)  # an empty element in the XML is no value


def differences(order: PurchaseOrder, truth: dict[str, Any]) -> list[str]:
    """Every field where ``order`` is not exactly the truth file's value."""
    found: list[str] = []
    checks = [
        (
            "order_date",
            order.order_date.strftime("%Y%m%d") if order.order_date else None,
            truth["issue_date"],
        ),
        ("currency", order.currency, truth["currency"]),
        ("vendor", order.vendor.name, truth["seller_name"]),
        ("buyer", order.buyer.name, truth["buyer_name"]),
        ("total", order.total, truth["totals"]["GrandTotalAmount"]),
    ]
    found += [
        f"{name}: {value!r} != {expected!r}" for name, value, expected in checks if not _same(value, expected)
    ]
    lines = truth["line_items"]
    if len(lines) != len(order.lines):
        return [*found, f"lines: {len(order.lines)} != {len(lines)}"]
    for number, (line, expected) in enumerate(zip(order.lines, lines, strict=True), start=1):
        for field, key in (
            ("description", "name"),
            ("quantity", "quantity"),
            ("unit", "unit_code"),
            ("unit_price", "net_unit_price"),
            ("amount", "line_total"),
            ("sku", "seller_assigned_id"),
        ):
            if not _same(getattr(line, field), expected.get(key)):
                found.append(f"line {number} {field}: {getattr(line, field)!r} != {expected.get(key)!r}")
    return found


def embedded_exact_ratio() -> tuple[float, int, dict[str, list[str]]]:
    from tray_agent.config import Settings
    from tray_agent.domain.po.parsing import parse_purchase_order

    corpus = corpus_dir()
    if corpus is None:
        raise FileNotFoundError("the development corpus shared/corpus/zugferd-v2 was not found")
    settings = Settings()
    misses: dict[str, list[str]] = {}
    truths = sorted(corpus.rglob("*.gt.json"))
    for truth_path in truths:
        truth = json.loads(truth_path.read_text())
        pdf = truth_path.with_name(truth_path.name.removesuffix(".gt.json") + ".pdf")
        order = parse_purchase_order(pdf.read_bytes(), settings=settings, prefer="embedded-xml")
        wrong = differences(order, truth)
        if wrong:
            misses[str(pdf.relative_to(corpus))] = wrong
    return (len(truths) - len(misses)) / len(truths), len(truths), misses


def run() -> dict[str, float]:
    ratio, documents, misses = embedded_exact_ratio()
    for name, wrong in misses.items():
        print(f"   miss {name}: {'; '.join(wrong[:3])}")
    figures = {"po_embedded_xml_exact_ratio": round(ratio, 4), "po_embedded_xml_documents": float(documents)}
    figures.update(large_order_figures())
    return figures


def large_order_figures() -> dict[str, float]:
    from tests.po_pipeline.large_orders import run_large_order

    ordered, seconds, reviewed = run_large_order(LARGE_ORDER_LINES, review=True)
    figures = {
        "po_2000_lines_pipeline_lines_ordered": float(ordered),
        "po_2000_lines_pipeline_s": round(seconds, 2),  # drop to recorded outcome (PDF+XML e-mail)
    }
    if reviewed is not None:
        review_ordered, review_seconds = reviewed
        figures["po_2000_lines_review_pipeline_lines_ordered"] = float(review_ordered)
        # drop → review → approve with edits → ordered
        figures["po_2000_lines_review_pipeline_s"] = round(review_seconds, 2)
    return figures
