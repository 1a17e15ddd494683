"""``tray-agent catalog load FILE.csv|json``: replace the catalog table's content with a file.

Writes to the table named by ``TRAY_AGENT_CATALOG_TABLE`` with the AWS credentials in the
environment (the deployed table), or to moto inside the local environment and tests.
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path
from typing import Any

from tray_local.cli_common import CommandFailedError, add_aws_options, apply_aws_options


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("catalog", help="product catalog and pricing rules")
    commands = parser.add_subparsers(dest="catalog_command", required=True)
    load = commands.add_parser(
        "load",
        help="replace the catalog with a CSV or JSON file",
        description="Replace the deployed catalog table's content with a CSV or JSON file.",
        epilog="example:\n  tray-agent catalog load catalog.csv --region eu-west-1 --price-tolerance 0.01",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    load.add_argument("file", type=Path, help="catalog.csv or catalog.json")
    load.add_argument(
        "--price-tolerance",
        type=Decimal,
        default=None,
        help="accepted deviation of a PO price from the expected one, as a fraction (0.01 = 1%%)",
    )
    add_aws_options(load)
    load.set_defaults(func=_load)


def _load(args: argparse.Namespace) -> int:
    from tray_agent.config import get_settings
    from tray_agent.domain.po.catalog import load_catalog, parse_catalog_file
    from tray_agent.errors import InvalidInputError
    from tray_agent.models.catalog import PricingRules

    rules = PricingRules(price_tolerance=args.price_tolerance) if args.price_tolerance is not None else None
    try:
        catalog = parse_catalog_file(args.file, rules=rules)
    except OSError as exc:
        raise CommandFailedError(f"cannot read {args.file}: {exc.strerror or exc}", usage=True) from None
    except InvalidInputError as exc:
        raise CommandFailedError(f"{args.file}: {exc.message}", usage=True) from None
    apply_aws_options(args)
    settings = get_settings()
    written = load_catalog(catalog, settings=settings)
    print(
        f"catalog {settings.catalog_table}: {len(catalog.products)} products, "
        f"{len(catalog.contract_prices)} contract prices, price tolerance "
        f"{catalog.rules.price_tolerance:%} ({written} items written)"
    )
    return 0
