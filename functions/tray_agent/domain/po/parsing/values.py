"""Numbers, dates and currencies as documents print them.

Both decimal conventions are read (1,234.56 and 1.234,56, also 1 234,56 and 1'234.56); a value
that is ambiguous on its own (``1,234``) is settled by the document's convention, which
``detect_decimal_comma`` infers from the unambiguous numbers around it.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation

from tray_agent.domain.po.parsing import vocabulary as vocab

CURRENCY_SYMBOLS: dict[str, str] = {
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "₽": "RUB",
    "₺": "TRY",
    "zł": "PLN",
    "R$": "BRL",
    "CHF": "CHF",
    "Fr.": "CHF",
    "kr": "SEK",
    "Rs.": "INR",
    "US$": "USD",
    "C$": "CAD",
    "A$": "AUD",
    "$": "USD",
}
CURRENCY_CODES = frozenset(
    (
        "USD",
        "EUR",
        "GBP",
        "CHF",
        "JPY",
        "CNY",
        "INR",
        "CAD",
        "AUD",
        "NZD",
        "SEK",
        "NOK",
        "DKK",
        "PLN",
        "CZK",
        "HUF",
        "RON",
        "BGN",
        "BRL",
        "MXN",
        "ZAR",
        "SGD",
        "HKD",
        "KRW",
        "TRY",
        "RUB",
        "AED",
        "SAR",
        "ILS",
        "THB",
        "MYR",
        "IDR",
        "PHP",
    )
)
_CODE_RE = re.compile(r"(?<![\w\-/])(" + "|".join(sorted(CURRENCY_CODES)) + r")(?![\w\-/])")
_SYMBOL_RE = re.compile("|".join(re.escape(s) for s in sorted(CURRENCY_SYMBOLS, key=len, reverse=True)))

# "Rs 1939" / "Rs. 40.00": rupees written out, which plain symbol matching would take from words.
_RUPEES_RE = re.compile(r"\bRs\.?(?=\s?[-\d])")

# A number as printed: optional sign/parentheses, digits with optional group separators
# (",", ".", space, thin space, apostrophe) and an optional decimal part.
_NUMBER_RE = re.compile(
    r"(?P<neg>[-(])?\s*"
    r"(?P<num>\d{1,3}(?:[,.\u00a0\u202f' ]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)"
    r"\s*(?P<trail>[-)])?"
)
MINUS_SIGN = "\u2212"


def detect_decimal_comma(texts: Iterable[str]) -> bool:
    """True when the document writes decimals with a comma (1.234,56).

    Each number with exactly two decimals votes for its separator; fully grouped amounts
    (1.234,56 / 1,234.56) count double, being unambiguous.
    """
    votes: Counter[str] = Counter()
    for text in texts:
        for match in re.finditer(r"\d([.,])\d{2}(?!\d)", text):
            votes[match.group(1)] += 1
        votes[","] += 2 * len(re.findall(r"\d{1,3}(?:\.\d{3})+,\d{2}\b", text))
        votes["."] += 2 * len(re.findall(r"\d{1,3}(?:,\d{3})+\.\d{2}\b", text))
    return votes[","] > votes["."]


@functools.lru_cache(maxsize=16384)  # pure, and asked of the same cell text many times per page
def parse_number(text: str, *, decimal_comma: bool = False) -> Decimal | None:
    """The one number in ``text`` (currency marks and codes allowed), or None."""
    cleaned = _RUPEES_RE.sub(" ", text)
    cleaned = _SYMBOL_RE.sub(" ", cleaned)
    cleaned = _CODE_RE.sub(" ", cleaned).strip()
    if not cleaned or not any(ch.isdigit() for ch in cleaned):
        return None
    match = _NUMBER_RE.fullmatch(cleaned.replace(MINUS_SIGN, "-"))
    if match is None:
        return None
    raw = match.group("num")
    negative = bool(match.group("neg")) or bool(match.group("trail"))
    if match.group("neg") == "(" and match.group("trail") != ")":
        return None
    value = _normalise(raw, decimal_comma=decimal_comma)
    if value is None:
        return None
    return -value if negative else value


def _normalise(raw: str, *, decimal_comma: bool) -> Decimal | None:
    digits = re.sub(r"[\u00a0\u202f' ]", "", raw)
    has_dot, has_comma = "." in digits, "," in digits
    if has_dot and has_comma:
        decimal_sep = "." if digits.rfind(".") > digits.rfind(",") else ","
    elif has_dot or has_comma:
        sep = "." if has_dot else ","
        groups = digits.split(sep)
        if len(groups) > 2:
            decimal_sep = ""  # 1.234.567: only grouping
        elif len(groups[1]) != 3:
            decimal_sep = sep  # 12,5 / 12.50 cannot be grouping
        else:
            # 1,234 or 1.234: the document's convention decides.
            decimal_sep = "," if decimal_comma else "."
            if sep != decimal_sep:
                decimal_sep = ""
    else:
        decimal_sep = ""
    if decimal_sep:
        whole, _, fraction = digits.rpartition(decimal_sep)
        whole = whole.replace(".", "").replace(",", "")
        normal = f"{whole or '0'}.{fraction}"
    else:
        normal = digits.replace(".", "").replace(",", "")
    try:
        return Decimal(normal)
    except InvalidOperation:
        return None


def currency_votes(texts: Iterable[str]) -> Counter[str]:
    votes: Counter[str] = Counter()
    for text in texts:
        for match in _CODE_RE.finditer(text):
            votes[match.group(1)] += 2  # a code is explicit, a "$" could be CAD or AUD
        for match in _SYMBOL_RE.finditer(text):
            symbol = match.group()
            if symbol in ("kr", "CHF", "Fr.", "Rs."):
                continue  # too easily part of words; the code form counts above
            votes[CURRENCY_SYMBOLS[symbol]] += 1
        votes["INR"] += len(_RUPEES_RE.findall(text))
    return +votes  # drop zero counts


# ---------------------------------------------------------------------------------------------- dates

MONTHS = vocab.MONTHS

_MONTH_RE = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))
_ISO_RE = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b")
_NUMERIC_RE = re.compile(r"\b(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})\b")
_DAY_MONTH_RE = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th|er|e)?\.?\s*(?:of\s+|de\s+)?({_MONTH_RE})\.?,?\s+(?:de\s+)?(\d{{4}})\b",
    re.IGNORECASE,
)
_MONTH_DAY_RE = re.compile(
    rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s+(\d{{4}})\b", re.IGNORECASE
)
_DAY_MON_YEAR_RE = re.compile(rf"\b(\d{{1,2}})-({_MONTH_RE})-(\d{{2,4}})\b", re.IGNORECASE)
_COMPACT_RE = re.compile(r"\b(20\d{2})(\d{2})(\d{2})\b")


@functools.lru_cache(maxsize=8192)  # pure; the same line is asked about for several labels
def parse_date(text: str, *, day_first: bool = False, allow_compact: bool = False) -> date | None:
    """The first date in ``text``; ``day_first`` settles 03/04/2026 (European documents)."""
    candidates: list[tuple[int, date]] = []
    for match in _ISO_RE.finditer(text):
        _add(candidates, match.start(), int(match.group(1)), int(match.group(2)), int(match.group(3)))
    for match in _NUMERIC_RE.finditer(text):
        first, second, year = int(match.group(1)), int(match.group(3)), _year(match.group(4))
        separator = match.group(2)
        if first > 12 or (separator == "." and second <= 12) or (day_first and second <= 12):
            day, month = first, second
        else:
            month, day = first, second
        _add(candidates, match.start(), year, month, day)
    for match in _DAY_MONTH_RE.finditer(text):
        month = MONTHS[match.group(2).lower()]
        _add(candidates, match.start(), int(match.group(3)), month, int(match.group(1)))
    for match in _MONTH_DAY_RE.finditer(text):
        month = MONTHS[match.group(1).lower()]
        _add(candidates, match.start(), int(match.group(3)), month, int(match.group(2)))
    for match in _DAY_MON_YEAR_RE.finditer(text):
        month = MONTHS[match.group(2).lower()]
        _add(candidates, match.start(), _year(match.group(3)), month, int(match.group(1)))
    if allow_compact:
        for match in _COMPACT_RE.finditer(text):
            _add(candidates, match.start(), int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if not candidates:
        return None
    return min(candidates, key=lambda c: c[0])[1]


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 100 else year


def _add(candidates: list[tuple[int, date]], position: int, year: int, month: int, day: int) -> None:
    try:
        candidates.append((position, date(year, month, day)))
    except ValueError:
        return
