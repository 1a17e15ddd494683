"""The purchase order as the agent understands it, whichever parser read it.

Amounts are ``Decimal`` (serialised as decimal strings in JSON), dates ``date`` (YYYY-MM-DD),
and everything the document does not say is ``None``. ``confidence`` holds per-field scores in
0..1 plus ``"overall"``; ``warnings`` lists every reason a person should look at the order.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import ConfigDict, Field

from tray_agent.models.base import Model

# embedded-xml: structured data (Factur-X/ZUGFeRD/XRechnung in the PDF, Order-X/UBL/cXML beside it).
ParserName = Literal["layout", "llm", "vision", "embedded-xml"]
OVERALL = "overall"


class Party(Model):
    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    address: str | None = None
    email: str | None = None


class VendorParty(Model):
    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    address: str | None = None


class PurchaseOrderLine(Model):
    model_config = ConfigDict(extra="ignore")

    sku: str | None = None
    description: str | None = None
    quantity: Decimal
    unit: str | None = None
    unit_price: Decimal | None = None
    amount: Decimal | None = None
    # The buyer's own part number, when the document gives it (structured data, a second column):
    # reviewers' corrections are remembered per customer by it.
    buyer_sku: str | None = None


class PurchaseOrder(Model):
    model_config = ConfigDict(extra="ignore")

    po_number: str | None = None
    order_date: date | None = None
    delivery_date: date | None = None
    currency: str | None = None
    buyer: Party = Field(default_factory=Party)
    vendor: VendorParty = Field(default_factory=VendorParty)
    ship_to: str | None = None
    payment_terms: str | None = None
    lines: list[PurchaseOrderLine] = Field(default_factory=list)
    subtotal: Decimal | None = None
    tax: Decimal | None = None
    shipping: Decimal | None = None
    total: Decimal | None = None
    confidence: dict[str, float] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    parser: ParserName = "layout"
    # Structured data: which format was read (e.g. "CII CrossIndustryInvoice", "UBL Order").
    source_format: str | None = None
    # Where the embedded data and the text layer disagree (the structured value is kept).
    cross_check: list[str] = Field(default_factory=list)
    # Reviewers' earlier corrections for this customer applied to this order, in words.
    corrections_applied: list[str] = Field(default_factory=list)

    @property
    def overall_confidence(self) -> float:
        return self.confidence.get(OVERALL, 0.0)

    def needs_review(self, threshold: float) -> bool:
        """True when a person must check the order before anything acts on it."""
        return bool(self.warnings) or self.overall_confidence < threshold
