"""Field-level accuracy and speed of the layout PO parser.

Accuracy is measured on the generated corpus (tests/fixtures/po_corpus) and, separately, on the
real documents in ``shared/samples`` (Order-X purchase orders; invoice2data invoices with the
fields that apply to an order). A line missing from the output without any warning counts as
silently lost: the figure that must stay at zero.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from tests.fixtures.po_corpus.generator import build_corpus
from tests.fixtures.po_corpus.samples import Sample, load_samples
from tray_agent.config import Settings
from tray_agent.domain.po.parsing import parse_purchase_order
from tray_agent.models.purchase_order import PurchaseOrder
from tray_agent.observability import logger

HEADER_FIELDS = ("po_number", "order_date", "delivery_date", "currency", "buyer", "vendor", "total")
LINE_FIELDS = ("sku", "quantity", "unit_price", "amount")


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, Decimal) or isinstance(actual, Decimal):
        try:
            return actual is not None and abs(Decimal(str(expected)) - Decimal(str(actual))) <= Decimal(
                "0.005"
            )
        except ArithmeticError:
            return False
    if isinstance(expected, str) and isinstance(actual, str):
        return " ".join(expected.split()).casefold() == " ".join(actual.split()).casefold()
    return bool(expected == actual)


def compare(
    truth: PurchaseOrder, parsed: PurchaseOrder, fields: dict[str, bool] | None = None
) -> tuple[int, int, list[str], int]:
    """(correct, checked, wrong field names, silently lost lines). Only fields the truth knows count."""
    correct = checked = 0
    wrong: list[str] = []
    wanted = fields or {}

    def check(name: str, expected: Any, actual: Any) -> None:
        nonlocal correct, checked
        if expected is None or (
            wanted and not wanted.get(name.split("[", maxsplit=1)[0].split(".", maxsplit=1)[0], False)
        ):
            return
        checked += 1
        if _same(expected, actual):
            correct += 1
        else:
            wrong.append(f"{name}: expected {expected!r}, got {actual!r}")

    for name in HEADER_FIELDS:
        if name == "buyer":
            check("buyer", truth.buyer.name, parsed.buyer.name)
        elif name == "vendor":
            check("vendor", truth.vendor.name, parsed.vendor.name)
        else:
            check(name, getattr(truth, name), getattr(parsed, name))
    used: set[int] = set()
    for index, line in enumerate(truth.lines):
        got = _best_match(line, parsed, used)
        for name in LINE_FIELDS:
            check(f"lines[{index}].{name}", getattr(line, name), getattr(got, name) if got else None)
    missing = max(0, len(truth.lines) - len(parsed.lines))
    silently_lost = missing if missing and not parsed.warnings else 0
    return correct, checked, wrong, silently_lost


def _best_match(expected: Any, parsed: PurchaseOrder, used: set[int]) -> Any:
    """The unused parsed line agreeing on most fields (ties: the earliest), so order is not scored."""
    best, best_score = None, 0
    for index, line in enumerate(parsed.lines):
        if index in used:
            continue
        score = sum(
            1
            for name in LINE_FIELDS
            if getattr(expected, name, None) is not None
            and _same(getattr(expected, name), getattr(line, name))
        )
        if score > best_score:
            best, best_score = index, score
    if best is None:
        return None
    used.add(best)
    return parsed.lines[best]


def run() -> dict[str, float]:
    """Accuracy overall, on the generated corpus and on the shared samples; pages per second."""
    logger.setLevel("WARNING")  # one INFO line per document would drown the figures
    settings = Settings()
    figures: dict[str, float] = {}
    corpus = build_corpus(seed=2026, per_layout=3)  # a seed the tests do not use
    groups: dict[str, list[Sample]] = {
        "_corpus": [(d.name, d.pdf, d.truth, {}) for d in corpus],
        "_samples": load_samples(),
    }
    totals = [0, 0, 0]
    for label, documents in groups.items():
        correct = checked = lost = 0
        for _name, pdf, truth, fields in documents:
            parsed = parse_purchase_order(pdf, settings=settings, prefer="layout")
            c, n, _wrong, silently_lost = compare(truth, parsed, fields or None)
            correct, checked, lost = correct + c, checked + n, lost + silently_lost
        figures[f"po_layout_field_accuracy{label}"] = round(correct / checked, 4) if checked else 0.0
        figures[f"po_silently_lost_lines{label}"] = float(lost)
        totals = [totals[0] + correct, totals[1] + checked, totals[2] + lost]
    figures["po_layout_field_accuracy"] = round(totals[0] / totals[1], 4) if totals[1] else 0.0
    figures["po_silently_lost_lines"] = float(totals[2])

    documents = [(d.pdf, d.pages) for d in corpus] + [
        (pdf, page_count(pdf)) for _, pdf, _, _ in groups["_samples"]
    ]
    pages = 0
    started = time.perf_counter()
    for pdf, count in documents:  # single-threaded, text layer, parse + reconcile
        parse_purchase_order(pdf, settings=settings, prefer="layout")
        pages += count
    figures["po_pages_per_second"] = round(pages / (time.perf_counter() - started), 1)
    return figures


def page_count(pdf: bytes) -> int:
    import pypdfium2

    return len(pypdfium2.PdfDocument(pdf))
