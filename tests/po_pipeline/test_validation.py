"""Validation findings, word for word: what a reviewer reads."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tray_agent.domain.po.validation import CatalogView, closest_skus, money, validate_order
from tray_agent.models.catalog import CatalogProduct, ContractPrice, PricingRules, ProductPricing
from tray_agent.models.po_pipeline import FindingCode
from tray_agent.models.purchase_order import Party, PurchaseOrder, PurchaseOrderLine

PRODUCTS = [
    CatalogProduct(
        sku="WIDGET-A", description="Widget A, steel", list_price=Decimal(48), currency="USD", unit="pcs"
    ),
    CatalogProduct(sku="WIDGET-B", description="Widget B, brass", list_price=Decimal(52), currency="USD"),
    CatalogProduct(
        sku="GADGET-9",
        description="Gadget nine",
        list_price=Decimal("10.00"),
        currency="USD",
        unit="box",
        min_quantity=Decimal(5),
        max_quantity=Decimal(100),
    ),
    CatalogProduct(sku="OLD-1", description="Old thing", list_price=Decimal(3), currency="USD", active=False),
]
CONTRACTS = [ContractPrice(customer="acme.com", sku="WIDGET-B", price=Decimal(50), currency="USD")]


def view(rules: PricingRules | None = None) -> CatalogView:
    pricing = {
        p.sku: ProductPricing(product=p, contract_prices=[c for c in CONTRACTS if c.sku == p.sku])
        for p in PRODUCTS
    }
    return CatalogView(pricing=pricing, products=lambda: PRODUCTS, rules=rules or PricingRules())


def order(
    *lines: tuple[str | None, str, str], currency: str = "USD", email: str = "buyer@acme.com", **kw: object
) -> PurchaseOrder:
    po_lines = [
        PurchaseOrderLine(
            sku=sku,
            description=f"item {sku}",
            quantity=Decimal(qty),
            unit_price=Decimal(price),
            amount=Decimal(qty) * Decimal(price),
        )
        for sku, qty, price in lines
    ]
    subtotal = sum((line.amount or Decimal(0) for line in po_lines), Decimal(0))
    fields: dict[str, object] = {
        "po_number": "PO-1",
        "currency": currency,
        "buyer": Party(name="Acme", email=email),
        "lines": po_lines,
        "subtotal": subtotal,
        "tax": Decimal(0),
        "total": subtotal,
        "confidence": {"overall": 0.95},
        **kw,
    }
    return PurchaseOrder.model_validate(fields)


def messages(po: PurchaseOrder, **kwargs: object) -> list[str]:
    return [f.message for f in validate_order(po, view(), confidence_threshold=0.7, **kwargs)]  # type: ignore[arg-type]


def test_clean_order_has_no_findings() -> None:
    assert messages(order(("WIDGET-A", "2", "48.00"), ("GADGET-9", "10", "10.00"))) == []


def test_price_mismatch_names_line_sku_and_both_prices() -> None:
    assert messages(order(("WIDGET-A", "1", "48.00"), ("WIDGET-A", "3", "45.00"))) == [
        "Line 2 (WIDGET-A): PO says $45.00/unit but the current price is $48.00/unit"
    ]


def test_contract_price_applies_to_its_customer_only() -> None:
    assert messages(order(("WIDGET-B", "1", "50.00"))) == []
    assert messages(order(("WIDGET-B", "1", "50.00"), email="someone@other.org")) == [
        "Line 1 (WIDGET-B): PO says $50.00/unit but the current price is $52.00/unit"
    ]
    assert messages(order(("WIDGET-B", "1", "52.00"))) == [
        "Line 1 (WIDGET-B): PO says $52.00/unit but the contract price is $50.00/unit"
    ]


def test_price_within_tolerance_is_accepted() -> None:
    po = order(("WIDGET-A", "1", "47.60"))  # 0.8 % below
    assert validate_order(po, view(), confidence_threshold=0.7) == []
    strict = view(PricingRules(price_tolerance=Decimal("0.001")))
    assert [f.code for f in validate_order(po, strict, confidence_threshold=0.7)] == [
        FindingCode.PRICE_MISMATCH
    ]


def test_unknown_sku_suggests_the_closest_catalog_matches() -> None:
    (finding,) = validate_order(order(("WIDGT-A", "1", "48.00")), view(), confidence_threshold=0.7)
    assert finding.code is FindingCode.UNKNOWN_SKU
    assert finding.message == "Line 1 (WIDGT-A): unknown SKU; closest catalog matches: WIDGET-A, WIDGET-B"
    assert finding.suggestions == ["WIDGET-A", "WIDGET-B"]


def test_line_without_sku_is_matched_by_description() -> None:
    line = PurchaseOrderLine(
        description="Widget B brass", quantity=Decimal(1), unit_price=Decimal(52), amount=Decimal(52)
    )
    assert closest_skus(line, PRODUCTS)[0] == "WIDGET-B"


def test_inactive_product_and_quantity_limits() -> None:
    assert messages(
        order(("OLD-1", "1", "3.00"), ("GADGET-9", "2", "10.00"), ("GADGET-9", "101", "10.00"))
    ) == [
        "Line 1 (OLD-1): the product is inactive and cannot be ordered",
        "Line 2 (GADGET-9): quantity 2 is below the minimum order quantity 5",
        "Line 3 (GADGET-9): quantity 101 is above the maximum order quantity 100",
    ]


def test_currency_mismatch_replaces_the_price_comparison() -> None:
    assert messages(order(("WIDGET-A", "1", "44.00"), currency="EUR")) == [
        "Line 1 (WIDGET-A): PO is in EUR but the current price is in USD"
    ]


def test_totals_that_do_not_add_up() -> None:
    po = order(("WIDGET-A", "2", "48.00"))
    po.lines[0].amount = Decimal("86.00")
    po.total = Decimal("200.00")
    assert messages(po) == [
        "Line 1 (WIDGET-A): 2 x $48.00 is $96.00 but the line amount says $86.00",
        "The lines add up to $86.00 but the subtotal says $96.00",
        "Subtotal, tax and shipping add up to $96.00 but the total says $200.00",
    ]


def test_low_confidence_parser_warnings_and_duplicates_are_findings() -> None:
    po = order(("WIDGET-A", "1", "48.00"), confidence={"overall": 0.4}, warnings=["line 3 may be missing"])
    assert messages(po, already_ordered_by="po-123") == [
        "The parser's confidence 0.40 is below the review threshold 0.70",
        "Parser: line 3 may be missing",
        "PO PO-1 from Acme was already ordered (intake po-123)",
    ]


def test_unit_synonyms_match_and_different_units_do_not() -> None:
    po = order(("WIDGET-A", "1", "48.00"), ("GADGET-9", "5", "10.00"))
    po.lines[0].unit = "EA"
    po.lines[1].unit = "pcs"
    assert messages(po) == ["Line 2 (GADGET-9): ordered per 'pcs' but the catalog sells per 'box'"]


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [("1234.5", "USD", "$1,234.50"), ("45", "EUR", "€45.00"), ("7", "CHF", "CHF 7.00"), ("7", None, "7.00")],
)
def test_money_formatting(amount: str, currency: str | None, text: str) -> None:
    assert money(Decimal(amount), currency) == text
