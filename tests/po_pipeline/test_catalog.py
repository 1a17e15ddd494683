"""Catalog files into the catalog table, through ``tray-agent catalog load`` (moto DynamoDB)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.po_pipeline.conftest import CATALOG_CSV, CATALOG_JSON
from tray_agent.data.catalog import CatalogRepository
from tray_agent.domain.po.catalog import parse_catalog_file
from tray_agent.errors import InvalidInputError
from tray_local.cli import main


def test_csv_and_json_fixtures_describe_the_same_catalog() -> None:
    from_csv, from_json = parse_catalog_file(CATALOG_CSV), parse_catalog_file(CATALOG_JSON)
    assert from_csv.products == from_json.products
    assert from_csv.contract_prices == from_json.contract_prices
    assert {p.sku for p in from_csv.products if not p.active} == {"WID-0900"}
    (contract,) = from_csv.contract_prices
    assert (contract.customer, contract.sku, contract.price) == ("acme-mfg.com", "BRK-220", Decimal("4.25"))


def test_invalid_catalog_files_are_refused_with_the_reason(tmp_path: Path) -> None:
    duplicate = tmp_path / "dup.csv"
    duplicate.write_text("sku,list_price,currency\nA-1,1.00,USD\na-1,2.00,USD\n")
    with pytest.raises(InvalidInputError, match="duplicate SKUs"):
        parse_catalog_file(duplicate)
    with pytest.raises(InvalidInputError, match=r"\.csv or \.json"):
        parse_catalog_file(tmp_path / "catalog.xlsx")


def test_cli_load_replaces_the_catalog_table(local_env: Any, tmp_path: Path, capsys: Any) -> None:
    table = local_env.settings.catalog_table
    assert main(["catalog", "load", str(CATALOG_CSV), "--price-tolerance", "0.05"]) == 0
    assert "6 products, 1 contract prices" in capsys.readouterr().out
    repository = CatalogRepository(table)
    pricing = repository.pricing("brk-220")
    assert pricing is not None
    assert pricing.product.list_price == Decimal("4.75")
    assert pricing.contract_price_for(["acme-mfg.com"]) is not None
    assert repository.rules().price_tolerance == Decimal("0.05")

    smaller = tmp_path / "smaller.csv"
    smaller.write_text("sku,description,list_price,currency\nWID-1001,Steel widget,13.00,USD\n")
    assert main(["catalog", "load", str(smaller)]) == 0
    assert repository.pricing("BRK-220") is None  # gone: the table now holds exactly the file
    assert [p.sku for p in repository.products()] == ["WID-1001"]

    assert main(["catalog", "load", str(CATALOG_JSON)]) == 0  # leave the fixture catalog in place
    assert len(repository.products()) == 6
