"""Field-level accuracy, confidence honesty and speed of the layout PO parser.

Real e-invoices (``shared/corpus/zugferd-v2``, text layer only, see tests/bench/real_corpus.py):
field and header accuracy, lost and phantom lines, each also for the development (``_dev``) and
held-out (``_held``) halves. ``po_wrong_fields_with_high_confidence`` is the share of scored fields
that are wrong yet carry a confidence at or above the review threshold (real corpus and the
generated corpus together).

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
    """The parsed line at the same position: a line read out of order is wrong."""
    index = len(used)
    if index >= len(parsed.lines):
        return None
    used.add(index)
    return parsed.lines[index]


def _wrong_high(wrong: list[str], parsed: PurchaseOrder, threshold: float) -> int:
    """Wrong fields whose confidence says they need no review."""
    count = 0
    for entry in wrong:
        name = entry.split(":", maxsplit=1)[0]
        key = "lines" if name.startswith("lines[") else name
        count += parsed.confidence.get(key, 0.0) >= threshold
    return count


def _real_corpus(settings: Settings) -> tuple[dict[str, float], int, int]:
    from tests.bench import real_corpus
    from tray_agent.domain.po.parsing.pdf_text import extract_pages

    scores = {"dev": real_corpus.Score(), "held": real_corpus.Score()}
    for truth in real_corpus.load():
        text = " ".join(w.text for page in extract_pages(truth.pdf, settings=settings) for w in page.words)
        parsed = parse_purchase_order(truth.pdf, settings=settings, prefer="layout")
        scores[truth.split].add(
            real_corpus.score(truth, parsed, text, threshold=settings.review_confidence_threshold)
        )
    both = real_corpus.Score()
    figures: dict[str, float] = {}
    for label, score in (("", both), *((f"_{k}", v) for k, v in scores.items())):
        if label:
            both.add(score)
    for label, score in (("", both), *((f"_{k}", v) for k, v in scores.items())):
        if not score.checked:
            continue
        figures[f"po_real_corpus_field_accuracy{label}"] = round(score.correct / score.checked, 4)
        figures[f"po_real_corpus_header_accuracy{label}"] = round(
            score.header_correct / score.header_checked, 4
        )
        figures[f"po_real_corpus_lost_lines{label}"] = float(score.lost)
        figures[f"po_real_corpus_phantom_lines{label}"] = float(score.phantom)
    if both.checked:
        figures["po_real_corpus_unreachable_values"] = float(both.unreachable)
    return figures, both.wrong_high, both.checked


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
    real, wrong_high, scored = _real_corpus(settings)
    figures.update(real)
    threshold = settings.review_confidence_threshold
    for label, documents in groups.items():
        correct = checked = lost = 0
        for _name, pdf, truth, fields in documents:
            parsed = parse_purchase_order(pdf, settings=settings, prefer="layout")
            c, n, wrong, silently_lost = compare(truth, parsed, fields or None)
            correct, checked, lost = correct + c, checked + n, lost + silently_lost
            wrong_high, scored = wrong_high + _wrong_high(wrong, parsed, threshold), scored + n
        figures[f"po_layout_field_accuracy{label}"] = round(correct / checked, 4) if checked else 0.0
        figures[f"po_silently_lost_lines{label}"] = float(lost)
        totals = [totals[0] + correct, totals[1] + checked, totals[2] + lost]
    figures["po_layout_field_accuracy"] = round(totals[0] / totals[1], 4) if totals[1] else 0.0
    figures["po_silently_lost_lines"] = float(totals[2])
    figures["po_wrong_fields_with_high_confidence"] = round(wrong_high / scored, 4) if scored else 0.0

    documents = [(d.pdf, d.pages) for d in corpus] + [
        (pdf, page_count(pdf)) for _, pdf, _, _ in groups["_samples"]
    ]
    pages = 0
    # CPU time of this process: "one core", whatever else the machine is running.
    started = time.process_time()
    for pdf, count in documents:  # single-threaded, text layer, parse + reconcile
        parse_purchase_order(pdf, settings=settings, prefer="layout")
        pages += count
    figures["po_pages_per_second"] = round(pages / (time.process_time() - started), 1)
    figures["po_parse_peak_mb"] = _peak_mb(documents, settings)
    return figures


def _peak_mb(documents: list[tuple[bytes, int]], settings: Settings) -> float:
    """Peak Python heap while parsing the largest document (tracemalloc: PDFium's own C heap is
    not counted, so this is the parser's share, not the process's)."""
    import tracemalloc

    if not documents:
        return 0.0
    pdf = max(documents, key=lambda d: (d[1], len(d[0])))[0]
    tracemalloc.start()
    try:
        parse_purchase_order(pdf, settings=settings, prefer="layout")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return round(peak / 1_000_000, 1)


def page_count(pdf: bytes) -> int:
    import pypdfium2

    return len(pypdfium2.PdfDocument(pdf))
