"""Catalog files (CSV or JSON) into the catalog table.

JSON is the ``Catalog`` model: ``{"products": [...], "contract_prices": [...], "rules": {...}}``.
CSV has one row per product (``sku, description, list_price, currency, unit, min_quantity,
max_quantity, active``); a row with a ``customer`` is a contract price for that customer
(``sku, customer, contract_price, currency``). Pricing rules come from the caller then.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tray_agent.config import Settings
from tray_agent.data.catalog import CatalogRepository
from tray_agent.errors import InvalidInputError
from tray_agent.models.catalog import Catalog, PricingRules
from tray_agent.observability import logger

_TRUE = {"1", "true", "yes", "y", "active"}


def parse_catalog_file(path: Path, *, rules: PricingRules | None = None) -> Catalog:
    if path.suffix.lower() not in (".json", ".csv"):
        raise InvalidInputError(f"{path.name}: a catalog is a .csv or .json file")
    text = path.read_text(encoding="utf-8-sig")
    try:
        if path.suffix.lower() == ".json":
            document = json.loads(text)
            if rules is not None:
                document["rules"] = rules.model_dump()
            return Catalog.model_validate(document)
        if path.suffix.lower() == ".csv":
            return _catalog_from_csv(text, rules or PricingRules())
    except (ValueError, ValidationError) as exc:
        raise InvalidInputError(f"{path.name} is not a valid catalog: {exc}") from exc
    raise InvalidInputError(f"{path.name}: a catalog is a .csv or .json file")


def _catalog_from_csv(text: str, rules: PricingRules) -> Catalog:
    products: list[dict[str, Any]] = []
    contracts: list[dict[str, Any]] = []
    for row in csv.DictReader(io.StringIO(text)):
        values = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        if not values.get("sku"):
            continue
        if values.get("customer"):
            contracts.append(
                {
                    "customer": values["customer"],
                    "sku": values["sku"],
                    "price": Decimal(values.get("contract_price") or values["list_price"]),
                    "currency": values["currency"],
                }
            )
            continue
        products.append(
            {
                "sku": values["sku"],
                "description": values.get("description", ""),
                "list_price": Decimal(values["list_price"]),
                "currency": values["currency"],
                "unit": values.get("unit") or None,
                "min_quantity": Decimal(values["min_quantity"]) if values.get("min_quantity") else None,
                "max_quantity": Decimal(values["max_quantity"]) if values.get("max_quantity") else None,
                "active": values.get("active", "true").lower() in _TRUE,
            }
        )
    return Catalog.model_validate({"products": products, "contract_prices": contracts, "rules": rules})


def load_catalog(catalog: Catalog, *, settings: Settings) -> int:
    """Replace the catalog table's content with ``catalog``; returns the items written."""
    written = CatalogRepository(settings.catalog_table).replace(catalog)
    logger.info(
        "catalog loaded",
        products=len(catalog.products),
        contract_prices=len(catalog.contract_prices),
        items=written,
    )
    return written
