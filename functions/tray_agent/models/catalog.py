"""The product catalog and pricing rules a purchase order is checked against."""

from __future__ import annotations

from decimal import Decimal

from pydantic import ConfigDict, Field, field_validator, model_validator

from tray_agent.models.base import Model


def normalize_sku(sku: str) -> str:
    return sku.strip().upper()


def customer_key(value: str) -> str:
    """How contract prices name a customer: an email domain or a company name, case-folded."""
    return " ".join(value.strip().casefold().split())


class CatalogProduct(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str = Field(min_length=1, max_length=64)
    description: str = ""
    list_price: Decimal = Field(ge=0)
    currency: str = Field(min_length=3, max_length=3)
    unit: str | None = None
    min_quantity: Decimal | None = Field(default=None, ge=0)
    max_quantity: Decimal | None = Field(default=None, gt=0)
    active: bool = True

    @field_validator("sku")
    @classmethod
    def _sku(cls, value: str) -> str:
        return normalize_sku(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return value.upper()

    @model_validator(mode="after")
    def _range(self) -> CatalogProduct:
        low, high = self.min_quantity, self.max_quantity
        if low is not None and high is not None and low > high:
            raise ValueError(f"{self.sku}: min_quantity is above max_quantity")
        return self


class ContractPrice(Model):
    """A customer's negotiated price for one SKU (the customer: email domain or company name)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    customer: str = Field(min_length=1)
    sku: str = Field(min_length=1, max_length=64)
    price: Decimal = Field(ge=0)
    currency: str = Field(min_length=3, max_length=3)

    @field_validator("sku")
    @classmethod
    def _sku(cls, value: str) -> str:
        return normalize_sku(value)

    @field_validator("customer")
    @classmethod
    def _customer(cls, value: str) -> str:
        return customer_key(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return value.upper()


class PricingRules(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # A PO unit price within this fraction of the expected price is accepted (0.01 = 1 %).
    price_tolerance: Decimal = Field(default=Decimal("0.01"), ge=0, le=1)
    # Sums (line amounts, subtotal + tax + shipping) may be off by this much (rounding).
    amount_tolerance: Decimal = Field(default=Decimal("0.02"), ge=0)


class Catalog(Model):
    """A whole catalog file: what ``tray-agent catalog load`` reads and writes."""

    model_config = ConfigDict(extra="forbid")

    products: list[CatalogProduct] = Field(default_factory=list)
    contract_prices: list[ContractPrice] = Field(default_factory=list)
    rules: PricingRules = Field(default_factory=PricingRules)

    @model_validator(mode="after")
    def _unique(self) -> Catalog:
        skus = [p.sku for p in self.products]
        duplicates = sorted({s for s in skus if skus.count(s) > 1})
        if duplicates:
            raise ValueError(f"duplicate SKUs in the catalog: {duplicates}")
        return self


class ProductPricing(Model):
    """One SKU as validation sees it: the product and the contract prices of every customer."""

    model_config = ConfigDict(frozen=True)

    product: CatalogProduct
    contract_prices: list[ContractPrice] = Field(default_factory=list)

    def contract_price_for(self, customers: list[str]) -> ContractPrice | None:
        keys = {customer_key(c) for c in customers if c}
        return next((c for c in self.contract_prices if c.customer in keys), None)
