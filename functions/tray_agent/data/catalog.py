"""The catalog table: products, customers' contract prices and the pricing rules.

One partition per SKU (``PRODUCT#<sku>``) holds the product (``sk=PRODUCT``) and every
customer's contract price for it (``sk=CONTRACT#<customer>``), so validating a line is one
query. The pricing rules live at ``RULES``/``PRICING``.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from tray_agent.data import aws
from tray_agent.models.catalog import (
    Catalog,
    CatalogProduct,
    ContractPrice,
    PricingRules,
    ProductPricing,
    normalize_sku,
)

PRODUCT_SK = "PRODUCT"
RULES_KEY = {"pk": "RULES", "sk": "PRICING"}


def _product_pk(sku: str) -> str:
    return f"PRODUCT#{normalize_sku(sku)}"


def _clean(document: dict[str, Any]) -> dict[str, Any]:
    """Decimals stay Decimals (DynamoDB numbers); None values are left out."""
    return {key: value for key, value in document.items() if value is not None}


class CatalogRepository:
    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    def replace(self, catalog: Catalog) -> int:
        """Make the table hold exactly ``catalog``; returns the number of items written."""
        table = aws.table(self._table_name)
        items: list[dict[str, Any]] = [{**RULES_KEY, **_clean(catalog.rules.model_dump())}]
        for product in catalog.products:
            items.append({"pk": _product_pk(product.sku), "sk": PRODUCT_SK, **_clean(product.model_dump())})
        for contract in catalog.contract_prices:
            items.append(
                {
                    "pk": _product_pk(contract.sku),
                    "sk": f"CONTRACT#{contract.customer}",
                    **_clean(contract.model_dump()),
                }
            )
        wanted = {(item["pk"], item["sk"]) for item in items}
        stale = [key for key in self._all_keys() if key not in wanted]
        with table.batch_writer() as batch:
            for pk, sk in stale:
                batch.delete_item(Key={"pk": pk, "sk": sk})
            for item in items:
                batch.put_item(Item=item)
        return len(items)

    def rules(self) -> PricingRules:
        record = aws.table(self._table_name).get_item(Key=RULES_KEY).get("Item")
        if record is None:
            return PricingRules()
        return PricingRules.model_validate({k: v for k, v in record.items() if k not in RULES_KEY})

    def pricing(self, sku: str) -> ProductPricing | None:
        """The product and its contract prices, or None for a SKU the catalog does not know."""
        response = aws.table(self._table_name).query(KeyConditionExpression=Key("pk").eq(_product_pk(sku)))
        product: CatalogProduct | None = None
        contracts: list[ContractPrice] = []
        for record in response.get("Items", []):
            fields = {k: v for k, v in record.items() if k not in ("pk", "sk")}
            if record["sk"] == PRODUCT_SK:
                product = CatalogProduct.model_validate(fields)
            else:
                contracts.append(ContractPrice.model_validate(fields))
        return None if product is None else ProductPricing(product=product, contract_prices=contracts)

    def products(self) -> list[CatalogProduct]:
        """Every product (for closest-match suggestions; catalogs are thousands, not millions)."""
        return [
            CatalogProduct.model_validate({k: v for k, v in record.items() if k not in ("pk", "sk")})
            for record in self._scan(Attr("sk").eq(PRODUCT_SK))
        ]

    def _all_keys(self) -> list[tuple[str, str]]:
        return [(str(r["pk"]), str(r["sk"])) for r in self._scan(None, projection="pk, sk")]

    def _scan(self, condition: Any, projection: str | None = None) -> list[dict[str, Any]]:
        table = aws.table(self._table_name)
        kwargs: dict[str, Any] = {}
        if condition is not None:
            kwargs["FilterExpression"] = condition
        if projection:
            kwargs["ProjectionExpression"] = projection
        return list(aws.all_items(table.scan, **kwargs))
