"""Line items read from the values, not from the header words.

A text line whose numbers multiply out (quantity x unit price = amount, or per a base quantity) is
an item's anchor; which number is the quantity is decided by the document's own evidence (a unit
attached to it, a price printed with decimals, the column that other rows put their quantities
in). The text lines around the anchors are grouped into the items: when the anchors carry their
description, the lines under an anchor are its details (identifier, wrapped description,
``Bruttopreis : 9,90``, ``incl. 19 % VAT``); when the anchors carry only numbers, the text above
belongs to them. Identifier-like tokens (letters and digits, no spaces) become the SKU. Nothing
here knows a vendor or a layout; the header-driven table reader in layout.py is the other opinion,
and the caller keeps whichever one the arithmetic confirms better.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import median

from tray_agent.domain.po.parsing import vocabulary as vocab
from tray_agent.domain.po.parsing.lines import Line, Phrase
from tray_agent.domain.po.parsing.reconcile import amounts_match
from tray_agent.domain.po.parsing.values import parse_date
from tray_agent.models.purchase_order import PurchaseOrderLine

Number = Callable[[str], Decimal | None]

# "20 Stk", "5 pcs", "3 x", "12,5 kg", "x 3"
_QTY_UNIT_RE = re.compile(
    r"^(?:[x\u00d7]\s*)?(?P<num>-?[\d][\d.,'\u00a0]*)\s*(?P<unit>[A-Za-zÄÖÜäöüé\u00d7][A-Za-zÄÖÜäöüé0-9.²³()]{0,11})?$"
)
_SKU_RE = re.compile(r"^(?=[^\s]*\d)(?=[^\s]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9\-_./#]{2,29}$")
_DETAIL_RE = re.compile(r"^[^\d:]{2,40}:\s*\S")  # "Bruttopreis : 9,90", "Serial: X1"
DETAIL_RE = _DETAIL_RE  # shared with the header reading in layout.py
_LINE_NO_RE = re.compile(r"^\d{1,4}\.?$")
_MAX_DETAIL_LINES = 8


@dataclass(slots=True)
class _Value:
    position: int
    value: Decimal
    phrase: Phrase
    unit: str | None
    decimals: bool


@dataclass(slots=True)
class _Anchor:
    index: int
    quantity: _Value
    price: _Value
    amount: _Value
    base: Decimal | None = None
    alternatives: bool = False  # quantity and price could be read either way round
    details: list[int] = field(default_factory=list)


@dataclass(slots=True)
class ValueItems:
    start: int  # index of the first line used
    end: int  # index after the last line used
    lines: list[PurchaseOrderLine]
    rows: set[int]  # every line index the items used


def _values(line: Line, number: Number, *, day_first: bool) -> list[_Value]:
    values: list[_Value] = []
    for position, phrase in enumerate(line.phrases):
        text = _before_rate(phrase.text.strip())
        if not text or _DETAIL_RE.match(text) or parse_date(text, day_first=day_first) is not None:
            continue
        value = number(text)
        unit = None
        if value is None:
            match = _QTY_UNIT_RE.match(text)
            if not match or (value := number(match.group("num"))) is None:
                continue
            unit = (match.group("unit") or "").strip(".").removesuffix("(s)") or (
                "x" if text.lower().startswith(("x", "\u00d7")) else None
            )
            if unit and unit.upper() in _CURRENCY_WORDS:
                unit = None  # "9,90 EUR" is a price, not a quantity of euros
        if unit is None and position + 1 < len(line.phrases):
            # A unit code in its own cell right after the number ("4,05 | MTK"): a quantity.
            following = line.phrases[position + 1].text.strip()
            if _UNIT_CELL_RE.match(following) and following.upper() not in _CURRENCY_WORDS:
                unit = following.rstrip(".")
        values.append(_Value(position, value, phrase, unit, bool(re.search(r"\d[.,]\d{1,4}\b", text))))
    return values


_UNIT_CELL_RE = re.compile(r"^[A-Za-z]{1,4}\.?$|^[A-Za-z]{1,3}\d$")


def _before_rate(text: str) -> str:
    """A cell run into a tax rate ("2 Stk 19 % VAT"): only what precedes the rate is a value."""
    if "%" not in text:
        return text
    words = text.split()
    cut = next(i for i, word in enumerate(words) if "%" in word)
    if words[cut] == "%":
        cut -= 1
    return " ".join(words[: max(cut, 0)])


_CURRENCY_WORDS = frozenset(
    {"EUR", "USD", "GBP", "CHF", "EURO", "JPY", "SEK", "NOK", "DKK", "PLN", "CAD", "AUD"}
)


def _anchor(index: int, values: list[_Value], hints: dict[str, float]) -> _Anchor | None:
    """The best reading of one line's numbers as quantity x price = amount."""
    best: tuple[int, _Anchor] | None = None
    readings = 0
    for amount in reversed(values):
        if amount.unit is not None:
            continue
        if amount.value == 0:
            # A free line ("1 Stk | 0,00 | 0,00") only with a quantity that says it is one.
            free = [v for v in values if v.position < amount.position and v.value == 0]
            counted = [v for v in values if v.position < amount.position and v.unit and v.value > 0]
            if free and counted:
                best = (0, _Anchor(index, counted[0], free[-1], amount))
                break
            continue
        left = [v for v in values if v.position < amount.position]
        for quantity in left:
            for price in left:
                if quantity is price or quantity.value == 0:
                    continue
                base = None
                if not amounts_match(quantity.value * price.value, amount.value):
                    base = next(
                        (
                            b.value
                            for b in left
                            if b is not quantity
                            and b is not price
                            and b.value > 1
                            and amounts_match(quantity.value * price.value / b.value, amount.value)
                        ),
                        None,
                    )
                    if base is None:
                        continue
                readings += 1
                score = (
                    4 * (quantity.unit is not None)
                    - 4 * (price.unit is not None)
                    + 2 * (price.decimals and not quantity.decimals)
                    + (price.position > quantity.position and not quantity.decimals)
                    + 3 * (amount is values[-1])
                    - 3 * (quantity.position == 0 and _LINE_NO_RE.match(quantity.phrase.text) is not None)
                    - 2 * (base is not None)
                    + 3 * _under(quantity.phrase, "quantity", hints)
                    + 3 * _under(price.phrase, "unit_price", hints)
                )
                anchor = _Anchor(index, quantity, price, amount, base)
                if best is None or score > best[0]:
                    best = (score, anchor)
        if best is not None:
            break  # the rightmost amount that factorises is the line total
    if best is None:
        return None
    anchor = best[1]
    anchor.alternatives = (
        readings > 1 and anchor.quantity.unit is None and anchor.quantity.decimals == anchor.price.decimals
    )
    return anchor


def _under(phrase: Phrase, role: str, hints: dict[str, float]) -> bool:
    """The phrase sits nearer the column header naming ``role`` than any other named column."""
    if role not in hints:
        return False
    center = (phrase.x0 + phrase.x1) / 2
    return min(hints, key=lambda r: abs(hints[r] - center)) == role


def _settle_columns(anchors: list[_Anchor]) -> None:
    """Rows that could be read either way round follow the column the other rows use for quantity."""
    settled = [a for a in anchors if not a.alternatives]
    if not settled:
        return
    quantity_x = median((a.quantity.phrase.x0 + a.quantity.phrase.x1) / 2 for a in settled)
    price_x = median((a.price.phrase.x0 + a.price.phrase.x1) / 2 for a in settled)
    for anchor in anchors:
        if not anchor.alternatives or anchor.base is not None:
            continue
        q_center = (anchor.quantity.phrase.x0 + anchor.quantity.phrase.x1) / 2
        if abs(q_center - price_x) < abs(q_center - quantity_x):
            anchor.quantity, anchor.price = anchor.price, anchor.quantity


def value_items(
    lines: list[Line],
    *,
    number: Number,
    day_first: bool,
    stop: Callable[[Line], bool],
    hints: dict[str, float] | None = None,
) -> ValueItems | None:
    """Items anchored on rows whose numbers multiply out; ``stop`` says a line ends a detail run
    (a totals label, the next header)."""
    anchors: list[_Anchor] = []
    for index, line in enumerate(lines):
        if stop(line):
            continue
        values = _values(line, number, day_first=day_first)
        if len(values) < 3:
            continue
        anchor = _anchor(index, values, hints or {})
        if anchor is not None:
            anchors.append(anchor)
    if not anchors:
        return None
    _settle_columns(anchors)
    # Do the anchors carry their own description? Then the lines under each are its details;
    # else (numbers alone on their row) the text above each anchor is its description.
    described = sum(1 for a in anchors if _texts(lines[a.index], a)) * 2 >= len(anchors)
    anchor_rows = {a.index for a in anchors}
    for number_in_list, anchor in enumerate(anchors):
        following = anchors[number_in_list + 1].index if number_in_list + 1 < len(anchors) else len(lines)
        previous = anchors[number_in_list - 1].index if number_in_list else -1
        if described:
            anchor.details = _run(lines, anchor.index, following, stop, step=1)
        else:
            anchor.details = _run(lines, anchor.index, previous, stop, step=-1)
    used = anchor_rows | {i for a in anchors for i in a.details}
    items = [_to_line(lines, anchor, number) for anchor in anchors]
    return ValueItems(min(used), max(used) + 1, items, used)


def _run(lines: list[Line], start: int, limit: int, stop: Callable[[Line], bool], *, step: int) -> list[int]:
    """Lines next to an anchor, up to the next anchor, a wide gap, a stop line or a page's worth."""
    taken: list[int] = []
    current = lines[start]
    index = start + step
    while (index < limit if step > 0 else index > limit) and len(taken) < _MAX_DETAIL_LINES:
        line = lines[index]
        upper, lower = (current, line) if step > 0 else (line, current)
        if stop(line):
            break
        same_page = upper.page == lower.page
        if same_page and lower.top - upper.bottom > 2.5 * max(upper.size, lower.size):
            break
        taken.append(index)
        current = line
        index += step
    return taken


def _texts(line: Line, anchor: _Anchor) -> list[Phrase]:
    numeric = {anchor.quantity.phrase.x0, anchor.price.phrase.x0, anchor.amount.phrase.x0}
    return [
        p
        for p in line.phrases
        if p.x0 not in numeric
        and p.x1 <= anchor.amount.phrase.x0
        and (sum(ch.isalpha() for ch in p.text) >= 3 or _is_sku(p.text))
        and "%" not in p.text
        and not (anchor.quantity.unit and p.text.strip(".") == anchor.quantity.unit)
    ]


def _is_sku(text: str) -> bool:
    token = text.strip()
    return bool(_SKU_RE.match(token)) and parse_date(token) is None and not token.startswith("(")


def _to_line(lines: list[Line], anchor: _Anchor, number: Number) -> PurchaseOrderLine:
    row = lines[anchor.index]
    own = _texts(row, anchor)
    sku = next((p.text for p in own if _is_sku(p.text)), None)
    description_phrases = [p for p in own if p.text != sku]
    description_x = description_phrases[0].x0 if description_phrases else None
    detail_texts: list[str] = []
    for index in sorted(anchor.details):
        for phrase in lines[index].phrases:
            text = phrase.text.strip()
            if sku is None and _is_sku(text):
                sku = text
                continue
            if _DETAIL_RE.match(text) or number(text) is not None or "%" in text:
                continue  # "Bruttopreis : 9,90", a stray number or a tax rate: not description
            aligned = description_x is None or abs(phrase.x0 - description_x) <= 4
            if aligned and sum(ch.isalpha() for ch in text) >= 2:
                detail_texts.append(text)
                description_x = phrase.x0 if description_x is None else description_x
    description = " ".join([*(p.text for p in description_phrases), *detail_texts]) or None
    return PurchaseOrderLine(
        sku=sku,
        description=description,
        quantity=anchor.quantity.value,
        unit=anchor.quantity.unit,
        unit_price=anchor.price.value,
        amount=anchor.amount.value,
    )


def confirmed(line: PurchaseOrderLine) -> bool:
    """quantity x unit price = amount on this line."""
    if line.unit_price is None or line.amount is None:
        return False
    return amounts_match(line.quantity * line.unit_price, line.amount)


__all__ = ["ValueItems", "confirmed", "value_items", "vocab"]
