from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tray_agent.domain.po.parsing.values import currency_votes, detect_decimal_comma, parse_date, parse_number


@pytest.mark.parametrize(
    ("text", "decimal_comma", "expected"),
    [
        ("1,234.56", False, "1234.56"),
        ("1.234,56", True, "1234.56"),
        ("1.234,56", False, "1234.56"),  # unambiguous whatever the document says
        ("1 234,56", True, "1234.56"),
        ("1\u00a0234,56 €", True, "1234.56"),
        ("1'234.50", False, "1234.50"),
        ("$1,017,800", False, "1017800"),
        ("€ 399,00", True, "399.00"),
        ("EUR 12.50", False, "12.50"),
        ("12.50 USD", False, "12.50"),
        ("£0.90", False, "0.90"),
        ("¥11,100", False, "11100"),
        ("-9,32", True, "-9.32"),
        ("(45.00)", False, "-45.00"),
        ("45.00-", False, "-45.00"),
        ("1,234", False, "1234"),  # ambiguous: the document's convention decides
        ("1,234", True, "1.234"),
        ("4,052", True, "4.052"),
        ("1.234", True, "1234"),
        ("12,5", False, "12.5"),
        ("1.234.567", True, "1234567"),
        ("Rs 1939", False, "1939"),
        ("Rs. -40.00", False, "-40.00"),
    ],
)
def test_numbers_in_both_conventions(text: str, decimal_comma: bool, expected: str) -> None:
    assert parse_number(text, decimal_comma=decimal_comma) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "Widget", "12 pcs of 4", "1.2.3,4,5", "(12"])
def test_non_numbers(text: str) -> None:
    assert parse_number(text) is None


def test_decimal_convention_detection() -> None:
    assert detect_decimal_comma(["Summe 1.234,56 €", "Menge 3", "12,00"])
    assert not detect_decimal_comma(["Total $1,234.56", "12.00"])


@pytest.mark.parametrize(
    ("text", "day_first", "expected"),
    [
        ("2026-12-31", False, date(2026, 12, 31)),
        ("31.12.2026", False, date(2026, 12, 31)),
        ("12/31/2026", False, date(2026, 12, 31)),
        ("31/12/2026", False, date(2026, 12, 31)),
        ("03/04/2026", False, date(2026, 3, 4)),
        ("03/04/2026", True, date(2026, 4, 3)),
        ("Dec 31, 2026", False, date(2026, 12, 31)),
        ("December 31st, 2026", False, date(2026, 12, 31)),
        ("31 December 2026", False, date(2026, 12, 31)),
        ("5th January 2026", False, date(2026, 1, 5)),
        ("Jan. 5, 2026", False, date(2026, 1, 5)),
        ("31-Dec-2026", False, date(2026, 12, 31)),
        ("7. Mai 2014", False, date(2014, 5, 7)),
        ("19 april 2014", False, date(2014, 4, 19)),
        ("02 Juillet 2015", False, date(2015, 7, 2)),
        ("8-9-2022", True, date(2022, 9, 8)),
        ("31.12.26", False, date(2026, 12, 31)),
        ("Order date: 2026/01/05 (revised)", False, date(2026, 1, 5)),
    ],
)
def test_dates_in_common_formats(text: str, day_first: bool, expected: date) -> None:
    assert parse_date(text, day_first=day_first) == expected


def test_compact_dates_only_when_allowed() -> None:
    assert parse_date("20200415") is None
    assert parse_date("20200415", allow_compact=True) == date(2020, 4, 15)
    assert parse_date("31/02/2026") is None


def test_currency_votes_prefer_codes_and_ignore_codes_inside_skus() -> None:
    votes = currency_votes(["Total USD 1,234.00", "$ 12.00", "PAL-EUR Euro pallet"])
    assert votes.most_common(1)[0][0] == "USD"
    assert "EUR" not in votes
    assert currency_votes(["€ 12,00", "£ 3.00", "¥500"]) == {"EUR": 1, "GBP": 1, "JPY": 1}
    assert currency_votes(["Grand Total Rs 1939", "Mrs Smith"]) == {"INR": 1}
