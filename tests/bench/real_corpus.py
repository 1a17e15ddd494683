"""Scoring the layout parser on real e-invoices (``shared/corpus/zugferd-v2``).

Each PDF's truth is its embedded XML, normalised to ``NAME.gt.json`` (see the corpus README).
The parser reads the text layer only. Header fields scored: document date, currency, buyer,
vendor, total. Lines are aligned in order (a longest common subsequence on amounts, then on
quantity or price), so one missing line does not shift every line after it; an unaligned truth
line is lost, an unaligned parsed line is a phantom. Truth values the page does not print
(checked by searching the text layer) are counted as unreachable, not as misses.

The corpus is split by a hash of the file name (not by folder, so every producer is in both
halves): ``dev`` was used while building the parser, ``held`` only to check it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from tray_agent.models.purchase_order import PurchaseOrder

REPO_ROOT = Path(__file__).resolve().parents[2]
HEADER = ("order_date", "currency", "buyer", "vendor", "total")
LINE = ("sku", "quantity", "unit_price", "amount")


def corpus_dir() -> Path | None:
    """``shared/corpus/zugferd-v2`` beside the repository (or beside the worktree folder)."""
    for parent in REPO_ROOT.parents:
        candidate = parent / "shared" / "corpus" / "zugferd-v2"
        if candidate.is_dir():
            return candidate
    return None


@dataclass(slots=True)
class Truth:
    name: str
    pdf: bytes
    header: dict[str, Any]
    lines: list[dict[str, Any]]

    @property
    def split(self) -> str:
        return "dev" if hashlib.sha256(self.name.encode()).digest()[0] % 2 == 0 else "held"


def load() -> Iterator[Truth]:
    root = corpus_dir()
    if root is None:
        return
    for gt_path in sorted(root.rglob("*.gt.json")):
        pdf_path = gt_path.with_name(gt_path.name.removesuffix(".gt.json") + ".pdf")
        if not pdf_path.exists():
            continue
        gt = json.loads(gt_path.read_text())
        issue = gt.get("issue_date") or ""
        header = {
            "order_date": date(int(issue[:4]), int(issue[4:6]), int(issue[6:8])) if len(issue) == 8 else None,
            "currency": gt.get("currency"),
            "buyer": gt.get("buyer_name"),
            "vendor": gt.get("seller_name"),
            "total": _dec((gt.get("totals") or {}).get("GrandTotalAmount")),
        }
        lines = [
            {
                "sku": item.get("seller_assigned_id") or None,
                "quantity": _dec(item.get("quantity")),
                "unit_price": _dec(item.get("net_unit_price")),
                "amount": _dec(item.get("line_total")),
            }
            for item in gt.get("line_items") or []
        ]
        yield Truth(str(gt_path.relative_to(root)), pdf_path.read_bytes(), header, lines)


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, Decimal):
        try:
            return actual is not None and abs(expected - Decimal(str(actual))) <= Decimal("0.005")
        except ArithmeticError:
            return False
    if isinstance(expected, str):
        return isinstance(actual, str) and " ".join(expected.split()).casefold() == " ".join(
            actual.split()
        ).casefold().strip(" ,")
    return bool(expected == actual)


@dataclass(slots=True)
class Score:
    correct: int = 0
    checked: int = 0
    header_correct: int = 0
    header_checked: int = 0
    lost: int = 0
    phantom: int = 0
    unreachable: int = 0
    wrong_high: int = 0
    wrong: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for name in (
            "correct",
            "checked",
            "header_correct",
            "header_checked",
            "lost",
            "phantom",
            "unreachable",
            "wrong_high",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.wrong.extend(other.wrong)


def _printed(value: Any, text: str) -> bool:
    """Whether the page shows ``value`` at all (else the truth is unreachable from the text layer)."""
    if isinstance(value, str):
        squashed = "".join(text.split()).casefold()
        return "".join(value.split()).casefold() in squashed
    if isinstance(value, Decimal):
        digits = "".join(ch for ch in text if ch.isdigit())
        wanted = format(abs(value).normalize(), "f").replace(".", "").lstrip("0") or "0"
        return wanted.rstrip("0") in digits if wanted.rstrip("0") else True
    if isinstance(value, date):
        forms = (
            f"{value.day:02d}.{value.month:02d}.{value.year}",
            value.isoformat(),
            f"{value.day:02d}/{value.month:02d}/{value.year}",
            f"{value.day}.{value.month}.{value.year}",
        )
        return any(form in text for form in forms) or (str(value.year) in text and _spelled(value, text))
    return True


def _spelled(value: date, text: str) -> bool:
    from tray_agent.domain.po.parsing.values import parse_date

    return any(parse_date(text[i : i + 40]) == value for i in range(0, len(text), 20))


def _align(truth: list[dict[str, Any]], parsed: PurchaseOrder) -> list[tuple[int, int]]:
    """Order-preserving pairs (truth index, parsed index) maximising agreeing line fields."""

    def agree(t: dict[str, Any], index: int) -> int:
        line = parsed.lines[index]
        return sum(1 for name in LINE if t.get(name) is not None and same(t[name], getattr(line, name, None)))

    n, m = len(truth), len(parsed.lines)
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            score = agree(truth[i], j)
            best[i][j] = max(best[i + 1][j], best[i][j + 1], best[i + 1][j + 1] + score if score else 0)
    pairs: list[tuple[int, int]] = []
    i = j = 0
    while i < n and j < m:
        score = agree(truth[i], j)
        if score and best[i][j] == best[i + 1][j + 1] + score:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i + 1][j] >= best[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def score(truth: Truth, parsed: PurchaseOrder, text: str, *, threshold: float) -> Score:
    result = Score()

    def check(name: str, expected: Any, actual: Any, confidence: float, *, header: bool) -> None:
        if expected is None:
            return
        if not _printed(expected, text):
            result.unreachable += 1
            return
        result.checked += 1
        result.header_checked += header
        if same(expected, actual):
            result.correct += 1
            result.header_correct += header
        else:
            result.wrong.append(f"{truth.name} {name}: expected {expected!r}, got {actual!r} ({confidence})")
            result.wrong_high += confidence >= threshold

    confidence = parsed.confidence
    values = {
        "order_date": parsed.order_date,
        "currency": parsed.currency,
        "buyer": parsed.buyer.name,
        "vendor": parsed.vendor.name,
        "total": parsed.total,
    }
    for name in HEADER:
        check(name, truth.header[name], values[name], confidence.get(name, 0.0), header=True)
    if not truth.lines:
        # A profile without lines (MINIMUM, BASIC WL): the page prints lines the truth lacks.
        result.unreachable += len(parsed.lines)
        return result
    pairs = dict(_align(truth.lines, parsed))
    lines_confidence = confidence.get("lines", 0.0)
    printed = [line.get("amount") is None or _printed(line["amount"], text) for line in truth.lines]
    for index, line in enumerate(truth.lines):
        got = parsed.lines[pairs[index]] if index in pairs else None
        if got is None and not printed[index]:
            # The page does not print this line's amount (a truth that describes another
            # document's table): unreachable, like any unprinted value, not a lost line.
            result.unreachable += 1 + sum(line.get(name) is not None for name in LINE)
            continue
        if got is None:
            result.lost += 1
        for name in LINE:
            check(
                f"lines[{index}].{name}",
                line.get(name),
                getattr(got, name, None) if got else None,
                lines_confidence,
                header=False,
            )
    if not any(printed):
        # None of the truth's lines is on the page: the page's own lines cannot be judged.
        result.unreachable += len(parsed.lines) - len(pairs)
    else:
        result.phantom += len(parsed.lines) - len(pairs)
    return result
