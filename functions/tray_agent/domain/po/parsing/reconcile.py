"""Arithmetic checks every parsed order goes through, whichever parser read it.

quantity x unit price = amount on each line, lines add up to the subtotal, and subtotal + tax +
shipping = total. Every mismatch is a warning and lowers confidence, so the order goes to review:
a line that a parser missed shows up here as a sum that does not add up.
"""

from __future__ import annotations

from decimal import Decimal

from tray_agent.models.purchase_order import OVERALL, PurchaseOrder

LOW = 0.3
# Fields whose confidence bounds the overall score: without them the order cannot be acted upon.
KEY_FIELDS = ("po_number", "lines", "total")


def amounts_match(expected: Decimal, actual: Decimal) -> bool:
    """One line: equal to the cent, or within half a percent (unit prices printed rounded)."""
    difference = abs(expected - actual)
    return difference <= Decimal("0.011") or difference <= abs(actual) * Decimal("0.005")


def sums_match(expected: Decimal, actual: Decimal, *, terms: int = 1) -> bool:
    """A sum: to the cent, plus half a cent of rounding per term. No relative slack, or a
    small line missing from a large order would pass unnoticed."""
    return abs(expected - actual) <= Decimal("0.011") + Decimal("0.005") * terms


def reconcile(order: PurchaseOrder) -> PurchaseOrder:
    """Return ``order`` with reconciliation warnings added and confidence lowered accordingly."""
    warnings = list(order.warnings)
    confidence = dict(order.confidence)
    lines_ok = _check_lines(order, warnings)
    sums_lines_ok, totals_ok = _check_sums(order, warnings)
    if not (lines_ok and sums_lines_ok):
        confidence["lines"] = min(confidence.get("lines", 1.0), LOW)
    if not totals_ok:
        confidence["total"] = min(confidence.get("total", 1.0), LOW)
    overall = min((confidence.get(field, 0.0) for field in KEY_FIELDS), default=0.0)
    if warnings:
        overall = min(overall, LOW)
    confidence[OVERALL] = round(overall, 3)
    return order.model_copy(update={"warnings": _unique(warnings), "confidence": confidence})


def _check_lines(order: PurchaseOrder, warnings: list[str]) -> bool:
    if not order.lines:
        warnings.append("no line items were found")
        return False
    ok = True
    for number, line in enumerate(order.lines, start=1):
        if line.unit_price is None or line.amount is None:
            missing = "unit price" if line.unit_price is None else "amount"
            warnings.append(f"line {number}: no {missing}")
            ok = False
            continue
        expected = line.quantity * line.unit_price
        if not amounts_match(expected, line.amount):
            warnings.append(
                f"line {number}: quantity {line.quantity} x unit price {line.unit_price} = {expected}, "
                f"but the amount is {line.amount}"
            )
            ok = False
    return ok


def _check_sums(order: PurchaseOrder, warnings: list[str]) -> tuple[bool, bool]:
    """(lines agree with the sums, totals agree with each other)."""
    lines_ok = totals_ok = True
    line_sum = sum((line.amount for line in order.lines if line.amount is not None), Decimal(0))
    extras = (order.tax or Decimal(0)) + (order.shipping or Decimal(0))
    terms = len(order.lines)
    if order.lines and order.subtotal is not None and not sums_match(line_sum, order.subtotal, terms=terms):
        warnings.append(
            f"lines add up to {line_sum} but the subtotal is {order.subtotal}: "
            "a line may be missing or misread"
        )
        lines_ok = False
    if order.subtotal is not None and order.total is not None:
        if not sums_match(order.subtotal + extras, order.total, terms=3):
            warnings.append(
                f"subtotal {order.subtotal} + tax {order.tax or 0} + shipping {order.shipping or 0} "
                f"= {order.subtotal + extras}, but the total is {order.total}"
            )
            totals_ok = False
    elif order.lines and order.total is not None:
        if not sums_match(line_sum + extras, order.total, terms=terms + 2):
            warnings.append(
                f"lines add up to {line_sum} (+ tax and shipping {extras}) but the total is {order.total}: "
                "a line may be missing or misread"
            )
            lines_ok = totals_ok = False
    elif order.total is None:
        warnings.append("no order total was found to check the lines against")
        totals_ok = False
    return lines_ok, totals_ok


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
