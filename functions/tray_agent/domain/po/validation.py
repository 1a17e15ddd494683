"""A parsed purchase order checked against the catalog and the pricing rules.

Pure: the caller looks up what is needed (``CatalogView``) and gets back findings a person can
read, e.g. ``Line 2 (WIDGET-A): PO says $45.00/unit but the current price is $48.00/unit``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from tray_agent.models.catalog import CatalogProduct, PricingRules, ProductPricing, customer_key
from tray_agent.models.po_pipeline import Finding, FindingCode
from tray_agent.models.purchase_order import PurchaseOrder, PurchaseOrderLine

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
_UNIT_SYNONYMS = {
    "ea": "each", "each": "each", "pc": "each", "pcs": "each", "piece": "each", "pieces": "each",
    "unit": "each", "units": "each", "stk": "each", "stück": "each", "pce": "each",
    "c62": "each", "h87": "each",  # UN/ECE Rec. 20 codes in structured data (one, piece)
}  # fmt: skip


def money(amount: Decimal, currency: str | None) -> str:
    text = f"{amount.quantize(Decimal('0.01'), ROUND_HALF_UP):,.2f}"
    symbol = SYMBOLS.get((currency or "").upper())
    return f"{symbol}{text}" if symbol else f"{currency or ''} {text}".strip()


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _unit(value: str) -> str:
    folded = value.strip().casefold().rstrip(".")
    return _UNIT_SYNONYMS.get(folded, folded)


def buyer_identities(order: PurchaseOrder) -> list[str]:
    """The names a contract price may use for this buyer: email domain, company name."""
    identities = []
    if order.buyer.email and "@" in order.buyer.email:
        identities.append(order.buyer.email.rsplit("@", 1)[1])
    if order.buyer.name:
        identities.append(order.buyer.name)
    return [customer_key(i) for i in identities]


def buyer_key(order: PurchaseOrder) -> str:
    identities = buyer_identities(order)
    return identities[0] if identities else "unknown-buyer"


@dataclass(frozen=True)
class CatalogView:
    """What validation needs from the catalog (looked up by the caller)."""

    pricing: dict[str, ProductPricing | None]  # by the PO's SKU, upper-cased
    products: Callable[[], list[CatalogProduct]]  # all products, only asked for suggestions
    rules: PricingRules


def closest_skus(line: PurchaseOrderLine, products: Iterable[CatalogProduct], n: int = 3) -> list[str]:
    products = list(products)
    by_sku = {p.sku: p for p in products}
    matches: list[str] = []
    if line.sku:
        matches = difflib.get_close_matches(line.sku.upper(), list(by_sku), n=n, cutoff=0.6)
    if not matches and line.description:  # no SKU (or nothing like it): go by the description
        by_description = {p.description.casefold(): p.sku for p in products if p.description}
        for found in difflib.get_close_matches(
            line.description.casefold(), list(by_description), n=n, cutoff=0.4
        ):
            if by_description[found] not in matches:
                matches.append(by_description[found])
    return matches[:n]


def validate_order(
    order: PurchaseOrder,
    catalog: CatalogView,
    *,
    confidence_threshold: float,
    already_ordered_by: str | None = None,
) -> list[Finding]:
    findings: list[Finding] = []
    findings += _document_findings(order, confidence_threshold, already_ordered_by)
    customers = buyer_identities(order)
    for number, line in enumerate(order.lines, start=1):
        findings += _line_findings(number, line, order, catalog, customers)
    findings += _totals_findings(order, catalog.rules)
    return findings


def finding_messages(findings: list[Finding], limit: int) -> list[str]:
    """The findings as a person reads them: at most ``limit``, then one saying how many more.

    A 2,000-line PO can have thousands (every price off, every SKU unknown): the review item and
    the intake record that list them stay far below DynamoDB's 400 KB item limit.
    """
    messages = [f.message for f in findings[:limit]]
    if len(findings) > limit:
        messages.append(f"... and {len(findings) - limit} more finding(s)")
    return messages


def _document_findings(
    order: PurchaseOrder, threshold: float, already_ordered_by: str | None
) -> list[Finding]:
    findings = []
    if order.overall_confidence < threshold:
        findings.append(
            Finding(
                code=FindingCode.LOW_CONFIDENCE,
                message=f"The parser's confidence {order.overall_confidence:.2f} is below "
                f"the review threshold {threshold:.2f}",
            )
        )
    findings += [Finding(code=FindingCode.PARSER_WARNING, message=f"Parser: {w}") for w in order.warnings]
    if not order.po_number:
        findings.append(Finding(code=FindingCode.MISSING_FIELD, message="The PO number is missing"))
    if not order.currency:
        findings.append(Finding(code=FindingCode.MISSING_FIELD, message="The PO does not state its currency"))
    if not order.lines:
        findings.append(Finding(code=FindingCode.MISSING_FIELD, message="The PO has no order lines"))
    if already_ordered_by:
        findings.append(
            Finding(
                code=FindingCode.DUPLICATE_PO,
                message=f"PO {order.po_number} from {order.buyer.name or 'this buyer'} was already ordered "
                f"(intake {already_ordered_by})",
            )
        )
    return findings


def _line_findings(
    number: int,
    line: PurchaseOrderLine,
    order: PurchaseOrder,
    catalog: CatalogView,
    customers: list[str],
) -> list[Finding]:
    label = (
        f"Line {number} ({line.sku})" if line.sku else f'Line {number} ("{(line.description or "")[:40]}")'
    )
    sku = line.sku.upper() if line.sku else None

    def finding(code: FindingCode, message: str, suggestions: list[str] | None = None) -> Finding:
        return Finding(
            code=code, message=f"{label}: {message}", line=number, sku=sku, suggestions=suggestions or []
        )

    findings = []
    if line.amount is not None and line.unit_price is not None:
        expected_amount = line.quantity * line.unit_price
        if abs(expected_amount - line.amount) > catalog.rules.amount_tolerance:
            findings.append(
                finding(
                    FindingCode.TOTALS_MISMATCH,
                    f"{_number(line.quantity)} x {money(line.unit_price, order.currency)} is "
                    f"{money(expected_amount, order.currency)} but the line amount says "
                    f"{money(line.amount, order.currency)}",
                )
            )
    pricing = catalog.pricing.get(sku) if sku else None
    if pricing is None:
        suggestions = closest_skus(line, catalog.products())
        hint = f"; closest catalog matches: {', '.join(suggestions)}" if suggestions else ""
        if sku:
            findings.append(finding(FindingCode.UNKNOWN_SKU, f"unknown SKU{hint}", suggestions))
        else:
            findings.append(finding(FindingCode.MISSING_SKU, f"no SKU on the line{hint}", suggestions))
        return findings
    product = pricing.product
    if not product.active:
        findings.append(
            finding(FindingCode.INACTIVE_PRODUCT, "the product is inactive and cannot be ordered")
        )
    if product.min_quantity is not None and line.quantity < product.min_quantity:
        findings.append(
            finding(
                FindingCode.QUANTITY_OUT_OF_RANGE,
                f"quantity {_number(line.quantity)} is below the minimum order quantity "
                f"{_number(product.min_quantity)}",
            )
        )
    if product.max_quantity is not None and line.quantity > product.max_quantity:
        findings.append(
            finding(
                FindingCode.QUANTITY_OUT_OF_RANGE,
                f"quantity {_number(line.quantity)} is above the maximum order quantity "
                f"{_number(product.max_quantity)}",
            )
        )
    if line.unit and product.unit and _unit(line.unit) != _unit(product.unit):
        findings.append(
            finding(
                FindingCode.UNIT_MISMATCH,
                f"ordered per '{line.unit}' but the catalog sells per '{product.unit}'",
            )
        )
    contract = pricing.contract_price_for(customers)
    expected_price, currency, kind = (
        (contract.price, contract.currency, "contract price")
        if contract
        else (product.list_price, product.currency, "current price")
    )
    if order.currency and order.currency.upper() != currency:
        findings.append(
            finding(
                FindingCode.CURRENCY_MISMATCH,
                f"PO is in {order.currency.upper()} but the {kind} is in {currency}",
            )
        )
        return findings
    if line.unit_price is None:
        findings.append(finding(FindingCode.MISSING_FIELD, "no unit price on the line"))
    elif abs(line.unit_price - expected_price) > expected_price * catalog.rules.price_tolerance:
        findings.append(
            finding(
                FindingCode.PRICE_MISMATCH,
                f"PO says {money(line.unit_price, currency)}/unit but the {kind} is "
                f"{money(expected_price, currency)}/unit",
            )
        )
    return findings


def _totals_findings(order: PurchaseOrder, rules: PricingRules) -> list[Finding]:
    findings = []
    amounts = [line.amount for line in order.lines]
    if order.subtotal is not None and amounts and all(a is not None for a in amounts):
        lines_sum = sum((a for a in amounts if a is not None), Decimal(0))
        if abs(lines_sum - order.subtotal) > rules.amount_tolerance:
            findings.append(
                Finding(
                    code=FindingCode.TOTALS_MISMATCH,
                    message=f"The lines add up to {money(lines_sum, order.currency)} but the subtotal says "
                    f"{money(order.subtotal, order.currency)}",
                )
            )
    if order.total is not None and order.subtotal is not None:
        computed = order.subtotal + (order.tax or Decimal(0)) + (order.shipping or Decimal(0))
        if abs(computed - order.total) > rules.amount_tolerance:
            findings.append(
                Finding(
                    code=FindingCode.TOTALS_MISMATCH,
                    message=f"Subtotal, tax and shipping add up to {money(computed, order.currency)} but the "
                    f"total says {money(order.total, order.currency)}",
                )
            )
    return findings
