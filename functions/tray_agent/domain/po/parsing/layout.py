"""The layout parser: a purchase order from positioned text, without a model or templates.

Header fields come from label/value pairs (value after the label, to its right, or below it),
parties from the address block under a label (or the letterhead). Line items come from the table
whose header row names the columns: the rows' own alignment (runs of ink that no vertical gap
crosses) says which column a word is in, with boundaries in the widest white corridor between two
headers as the fallback; rows are grouped into items by the vertical gaps between them. Without a
usable header, rows whose numbers multiply out (quantity x price = amount) are taken as items.
Totals come from labelled amounts. The vocabulary (vocabulary.py) is the only language-specific
part; nothing is specific to a vendor or a layout.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import accumulate, pairwise

from tray_agent.domain.po.parsing import vocabulary as vocab
from tray_agent.domain.po.parsing.items import DETAIL_RE, confirmed, value_items
from tray_agent.domain.po.parsing.lines import Line, Phrase, build_lines
from tray_agent.domain.po.parsing.pdf_text import PageText, Word
from tray_agent.domain.po.parsing.reconcile import amounts_match, sums_match
from tray_agent.domain.po.parsing.values import (
    currency_votes,
    detect_decimal_comma,
    parse_date,
    parse_number,
)
from tray_agent.models.purchase_order import Party, PurchaseOrder, PurchaseOrderLine, VendorParty

HIGH, MEDIUM = 0.95, 0.6
_HEADER_RES = {name: vocab.label_regex(labels) for name, labels in vocab.HEADER_LABELS.items()}
_PARTY_RES = {name: vocab.label_regex(labels) for name, labels in vocab.PARTY_LABELS.items()}
_TOTAL_RE = vocab.label_regex(tuple(label for labels in vocab.TOTAL_LABELS.values() for label in labels))
_TOTAL_CLASS = {label: name for name, labels in vocab.TOTAL_LABELS.items() for label in labels}
_COLUMN_ROLE = {label: role for role, labels in vocab.COLUMN_LABELS.items() for label in labels}
_COLUMN_MAX_WORDS = max(len(label.split()) for label in _COLUMN_ROLE)
_PO_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-_/.#]*\d[A-Za-z0-9\-_/.]*$|^\d[A-Za-z0-9\-_/.]*$")
_NUMERIC_ROLES = ("quantity", "unit_price", "amount")
# Words that qualify the label before them ("Price incl. VAT"): what follows is not a new column.
_QUALIFIERS = frozenset(
    {"incl", "excl", "inkl", "exkl", "zzgl", "ohne", "mit", "ex", "hors", "avec", "per", "pro"}
)
_RATE_RE = re.compile(r"(?<![\d.,])\d{1,2}(?:[.,]\d{1,2})?\s*%")
# A unit may carry its plural in brackets: "Unit(s)", "Litre(s)", "Stück(e)".
_QTY_UNIT_RE = re.compile(
    r"^(?P<num>[-\d.,'\u00a0 ]*\d)\s*(?P<unit>[A-Za-zÄÖÜäöüéè][A-Za-zÄÖÜäöüéè.²³]{0,9}(?:\([a-z]{1,2}\))?)?$"
)


@dataclass(slots=True)
class Column:
    role: str
    x0: float
    x1: float
    label: str

    @property
    def center(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass(slots=True)
class _Item:
    cells: dict[str, list[str]] = field(default_factory=dict)
    has_numbers: bool = False
    numbered: bool = False

    def add(self, role: str, text: str) -> None:
        self.cells.setdefault(role, []).append(text)


@dataclass(slots=True)
class _Context:
    lines: list[Line]
    decimal_comma: bool
    day_first: bool
    confidence: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    item_rows: set[int] = field(default_factory=set)
    day_order_known: bool = True
    # Items whose quantity was not printed and was assumed (by division or as 1): such a line
    # multiplies out by construction, so the arithmetic does not confirm it.
    assumed_quantities: int = 0
    kind: str | None = None  # "order" or "invoice" once _document_kind has read it
    kind_read: bool = False

    def number(self, text: str) -> Decimal | None:
        return parse_number(text, decimal_comma=self.decimal_comma)


def parse_layout(pages: list[PageText]) -> PurchaseOrder:
    words: list[Word] = [w for page in pages for w in page.words]
    lines = [ln for ln in build_lines(words) if not _is_furniture(ln)]
    texts = [ln.text for ln in lines]
    decimal_comma = detect_decimal_comma(texts)
    day_first, evidence = _day_order(texts, decimal_comma)
    ctx = _Context(lines=lines, decimal_comma=decimal_comma, day_first=day_first, day_order_known=evidence)

    header = _header_fields(ctx)
    table_end, items = _line_items(ctx)
    totals = _totals(ctx, start=table_end, lines=items)
    if items and not _sum_confirmed(items, totals):
        # Every line may multiply out and still one be missing: only a printed sum they meet
        # confirms the set.
        ctx.confidence["lines"] = min(ctx.confidence.get("lines", 0.0), MEDIUM)
    parties = _parties(ctx)
    _sender_line(ctx, parties)
    _letterhead(ctx, parties)
    _address_window(ctx, parties)
    currency = _currency(ctx, header.get("currency"))

    order = PurchaseOrder(
        po_number=header.get("po_number"),
        order_date=_as_date(header.get("order_date"), ctx),
        delivery_date=_as_date(header.get("delivery_date"), ctx),
        currency=currency,
        buyer=Party(**parties.get("buyer", {})),
        vendor=VendorParty(**{k: v for k, v in parties.get("vendor", {}).items() if k != "email"}),
        ship_to=_ship_to(parties.get("ship_to")),
        payment_terms=header.get("payment_terms"),
        lines=items,
        subtotal=totals.get("subtotal"),
        tax=totals.get("tax"),
        shipping=totals.get("shipping"),
        total=totals.get("total"),
        confidence=ctx.confidence,
        warnings=ctx.warnings,
        parser="layout",
    )
    return order


def _sum_confirmed(items: list[PurchaseOrderLine], totals: dict[str, Decimal]) -> bool:
    line_sum = sum((line.amount for line in items if line.amount is not None), Decimal(0))
    terms = len(items)
    if totals.get("subtotal") is not None and sums_match(line_sum, totals["subtotal"], terms=terms):
        return True
    total = totals.get("total")
    extras = (totals.get("tax") or Decimal(0)) + (totals.get("shipping") or Decimal(0))
    return total is not None and sums_match(line_sum + extras, total, terms=terms + 2)


def _is_furniture(line: Line) -> bool:
    text = line.text
    return bool(vocab.FURNITURE_RE.match(text)) or (len(text) < 60 and bool(vocab.CONTINUED_RE.search(text)))


# ------------------------------------------------------------------------------------- header fields


def _header_fields(ctx: _Context) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, regex in _HEADER_RES.items():
        best: tuple[int, str] | None = None  # (label length, value): the most specific label wins
        for index, line in enumerate(ctx.lines):
            for position, phrase in enumerate(line.phrases):
                match = regex.match(phrase.text)
                if not match or (name == "order_date" and vocab.DUE_DATE_RE.match(phrase.text)):
                    continue
                label = match.group("label")
                for value in _values_for(ctx, index, position, match.group("rest")):
                    if _valid(name, value, ctx):
                        if best is None or len(label) > best[0]:
                            best = (len(label), _clean_value(name, value))
                        break
        if best is not None:
            found[name] = best[1]
            ctx.confidence[name] = HIGH if best[0] > 4 else MEDIUM
        else:
            ctx.confidence[name] = 0.0
    if "order_date" not in found and (title := _title_date(ctx)) is not None:
        found["order_date"] = title
        ctx.confidence["order_date"] = HIGH - 0.1
    _doubt_day_order(ctx, found)
    return found


def _doubt_day_order(ctx: _Context, found: dict[str, str]) -> None:
    """A date like 11/05/2026 in a document that says nothing about its day/month order is a
    guess: below the review threshold, with a warning saying why."""
    for name in ("order_date", "delivery_date"):
        match = _AMBIGUOUS_DATE_RE.search(found.get(name, ""))
        if match is None or ctx.day_order_known or match.group(1) == match.group(2):
            continue
        ctx.confidence[name] = min(ctx.confidence[name], MEDIUM)
        ctx.warnings.append(
            f"{name} {found[name]!r}: day and month could be either way round and nothing "
            "else in the document settles it"
        )


_AMBIGUOUS_DATE_RE = re.compile(r"\b(\d{1,2})[/-](\d{1,2})[/-](\d{2,4})\b")
# Currencies of countries that write day before month; USD documents write month first.
_DAY_FIRST_CURRENCIES = frozenset(
    {"EUR", "GBP", "CHF", "AUD", "NZD", "INR", "SEK", "NOK", "DKK", "PLN", "BRL", "ZAR"}
)


def _day_order(texts: list[str], decimal_comma: bool) -> tuple[bool, bool]:
    """(day before month, whether the document itself says so): another date with a day over 12,
    dotted dates, a decimal comma, the currency. Without any of these the order is a guess."""
    for text in texts:
        for match in _AMBIGUOUS_DATE_RE.finditer(text):
            first, second = int(match.group(1)), int(match.group(2))
            if first > 12 >= second:
                return True, True
            if second > 12 >= first:
                return False, True
    if decimal_comma or any(re.search(r"\b\d{1,2}\.\d{1,2}\.\d{2,4}\b", t) for t in texts):
        return True, True
    votes = currency_votes(texts)
    if votes:
        currency = votes.most_common(1)[0][0]
        return currency in _DAY_FIRST_CURRENCIES, currency in _DAY_FIRST_CURRENCIES or currency == "USD"
    return False, False


# Words naming a document, also inside compounds ("Handelsrechnung", "Sammelbestellung").
_DOCUMENT_WORD_RE = re.compile(
    r"(invoice|rechnung|gutschrift|facture|avoir|factuur|fattura|factura|credit\s+note|order|bestellung|"
    r"auftrag|commande|pedido|ordine|bestelling)",
    re.IGNORECASE,
)


def _title_date(ctx: _Context) -> str | None:
    """The date on the document's title line ("Rechnung Nr. 471102 vom 05.03.2018", "Purchase
    Order Nr. X / 24. Januar 2014"): the largest text on the first page that names the document."""
    first_page = [line for line in ctx.lines if line.page == 0]
    for line in sorted(first_page, key=lambda ln: -ln.size)[:4]:
        text = line.text
        if not _DOCUMENT_WORD_RE.search(text):
            continue
        index = first_page.index(line)
        if index + 1 < len(first_page) and abs(first_page[index + 1].size - line.size) < 0.5:
            text = f"{text} {first_page[index + 1].text}"  # a title wrapped onto a second line
        if parse_date(text, day_first=ctx.day_first) is not None:
            return text
    return None


def _values_for(ctx: _Context, index: int, position: int, rest: str) -> list[str]:
    """Candidate values of a label: after it in the phrase, right of it, or right below it."""
    line = ctx.lines[index]
    phrase = line.phrases[position]
    candidates = []
    if rest.strip():
        candidates.append(rest.strip())
    if position + 1 < len(line.phrases):
        candidates.append(line.phrases[position + 1].text)
    below = _phrase_below(ctx, index, phrase)
    if below is not None:
        candidates.append(below.text)
    return candidates


def _phrase_below(ctx: _Context, index: int, phrase: Phrase) -> Phrase | None:
    line = ctx.lines[index]
    for following in ctx.lines[index + 1 : index + 3]:
        if following.page != line.page or following.top - line.bottom > 2.0 * line.size:
            return None
        for candidate in following.phrases:
            if candidate.x0 < phrase.x1 + 2 and candidate.x1 > phrase.x0 - 2:
                return candidate
    return None


def _valid(name: str, value: str, ctx: _Context) -> bool:
    value = value.strip()
    if not value:
        return False
    if name == "po_number":
        token = _clean_value(name, value)
        return bool(_PO_ID_RE.match(token)) and parse_date(token, day_first=ctx.day_first) is None
    if name in ("order_date", "delivery_date"):
        return parse_date(value, day_first=ctx.day_first, allow_compact=True) is not None
    if name == "currency":
        return bool(re.search(r"\b[A-Z]{3}\b", value))
    if name == "payment_terms":
        return len(value) <= 80 and not any(r.match(value) for r in _HEADER_RES.values())
    return True


def _clean_value(name: str, value: str) -> str:
    value = value.strip()
    if name == "po_number":
        value = value.split()[0].strip(":#,;")
    if name == "currency":
        match = re.search(r"\b[A-Z]{3}\b", value)
        value = match.group() if match else value
    return value


def _as_date(value: str | None, ctx: _Context) -> date | None:
    return parse_date(value, day_first=ctx.day_first, allow_compact=True) if value else None


# ------------------------------------------------------------------------------------------- parties


def _parties(ctx: _Context) -> dict[str, dict[str, str | None]]:
    """Each party from the block under (or right of) its label. A label counts when it stands
    alone or ends in a colon; a label word running into a name ("Lieferant GmbH") is the name."""
    parties: dict[str, dict[str, str | None]] = {}
    for name, regex in _PARTY_RES.items():
        for index, line in enumerate(ctx.lines):
            for position, phrase in enumerate(line.phrases):
                match = regex.match(phrase.text) or _split_label(regex, phrase.text)
                if not match or vocab.PARTY_FIELD_RE.match(match.group("rest")):
                    continue
                rest = _label_rest(match.string, match)
                if rest is None:
                    continue
                if any(
                    r.match(phrase.text) for r in _HEADER_RES.values() if r is not _HEADER_RES["currency"]
                ):
                    continue
                block = _block(ctx, index, phrase, rest)
                if not block and position + 1 < len(line.phrases):
                    # Two-column label/value table: the value sits right of the label.
                    right = line.phrases[position + 1]
                    block = _block(ctx, index, right, right.text)
                block = [text for text in block if not _is_id_line(text)]
                if block and sum(ch.isalpha() for ch in block[0]) < 2:
                    # "Customer: 2", "Client : 10577874": the label names an account number, not a
                    # party; what follows it is not an address.
                    continue
                if block:
                    parties[name] = _party_from_block(block)
                    certain = _name_certain(
                        block[1:] if _SALUTATION_RE.fullmatch(block[0].strip()) else block
                    )
                    ctx.confidence[name] = HIGH - 0.1 if certain else MEDIUM
                    break
            if name in parties:
                break
        ctx.confidence.setdefault(name, 0.0)
    return parties


def _split_label(regex: re.Pattern[str], text: str) -> re.Match[str] | None:
    """A label the text layer split inside a word ("Ver käufer:"): short, ends in a colon."""
    if not text.endswith(":") or len(text.split()) > 3:
        return None
    return regex.match(text.replace(" ", ""))


def _label_rest(text: str, match: re.Match[str]) -> str | None:
    """What follows a party label when it is a label: "" (alone), the value after a colon, or
    None when the label word is part of a name or of a longer label ("Käufer/Leistungsempfänger:")."""
    rest = match.group("rest").strip()
    between = text[match.end("label") : match.start("rest")]
    if not rest:
        return ""
    if rest.endswith(":") and len(rest.split()) <= 2:
        return ""  # a compound label ("Käufer/Leistungsempfänger:")
    if ":" in between or "#" in between:
        return rest
    return None


_ID_LINE_RE = re.compile(
    r"^\s*([\w.\- ]{0,30}\b(nummer|number|no|nr|id|gln|gtin|duns|ust|vat|tva|steuer\w*|siret|siren|"
    r"kundennummer|lieferantennummer|registration)\b[\w.\- ]*|(?-i:\(?[A-Z]{2,5}\)?))\s*:",
    re.IGNORECASE,
)


def _is_id_line(text: str) -> bool:
    """An identifier line inside an address block ("Nummer : 549910", "GLN: 4000001"), not the name."""
    return bool(_ID_LINE_RE.match(text)) or bool(re.fullmatch(r"[\d\s\-/().]{5,}", text))


def _block(ctx: _Context, index: int, label: Phrase, rest: str) -> list[str]:
    """The lines of the address block under a party label, in the label's column."""
    block = [rest.strip()] if rest.strip() else []
    previous = ctx.lines[index]
    for following in ctx.lines[index + 1 : index + 10]:
        if following.page != previous.page or following.top - previous.bottom > 1.6 * previous.size + 2:
            break
        candidates = [p for p in following.phrases if label.x0 - 6 <= p.x0 <= label.x0 + 60]
        if not candidates:
            continue  # text in another column (a title beside the label); the gap check ends the block
        text = candidates[0].text
        if _is_label(text) or _TOTAL_RE.match(text) or _header_like(ctx, following):
            break  # the next field, the totals or the line-item table
        previous = following
        if _is_id_line("  ".join(p.text for p in following.phrases if p.x0 >= candidates[0].x0)):
            continue  # "Nummer  : 549910" under the label: an identifier, not the name
        block.append(text)
        previous = following
    return block


def _is_label(text: str) -> bool:
    """A label that starts another block or field ("Ship To:", "Buyer: Acme"), not an address line."""
    for regex in (*_PARTY_RES.values(), *_HEADER_RES.values()):
        match = regex.match(text)
        if match and (not match.group("rest") or text[match.end("label") :].lstrip().startswith(":")):
            return True
    return False


_SALUTATION_RE = re.compile(
    r"(herrn?|frau|firma|mr\.?|mrs\.?|ms\.?|m\.|mme|monsieur|madame|sr\.?|sra\.?|sig\.?|sig\.ra|dhr\.?|mevr\.?)",
    re.IGNORECASE,
)


def _name_certain(block: list[str]) -> bool:
    """A name is certain when the line after it reads as an address (a number in it) or there is
    none; a second line without digits may be the rest of the name."""
    if len(block) > 2 and _name_wraps(block[0], block[1]):
        block = block[1:]  # the legal form closes the name; the next line must read as an address
    return len(block) < 2 or any(ch.isdigit() for ch in block[1]) or bool(vocab.EMAIL_RE.search(block[1]))


def _name_wraps(first: str, second: str) -> bool:
    """A name wrapped over two lines: the second, without digits, ends in the legal form the
    first lacks ("MVM Musterhafter" / "Versicherungsverein Musterstadt a.G.")."""
    return (
        not any(ch.isdigit() for ch in second)
        and re.search(r"\d{4}", first) is None  # "GLN 4304171000002": an identifier, not a name
        and vocab.LEGAL_FORM_END_RE.search(second) is not None
        and vocab.LEGAL_FORM_END_RE.search(first) is None
        and not vocab.EMAIL_RE.search(second)
        and not vocab.CONTACT_LINE_RE.match(second)
    )


def _party_from_block(block: list[str]) -> dict[str, str | None]:
    if len(block) == 1:
        # "Acme, Inc., 12 Main St, Springfield" on one line: the address starts with the first
        # comma-separated part that holds a number (a street number or a postcode).
        parts = block[0].split(", ")
        start = next((i for i, part in enumerate(parts) if i and any(ch.isdigit() for ch in part)), None)
        if start is not None:
            block = [", ".join(parts[:start]), *parts[start:]]
    email = next((m.group() for text in block if (m := vocab.EMAIL_RE.search(text))), None)
    address_lines = [
        t for t in block[1:] if not vocab.CONTACT_LINE_RE.match(t) and not vocab.EMAIL_RE.search(t)
    ]
    name = block[0] if block else None
    if name and len(block) > 1 and _name_wraps(name, block[1]):
        name, block = f"{name} {block[1]}", [f"{name} {block[1]}", *block[2:]]
        address_lines = address_lines[1:]
    if name and _SALUTATION_RE.fullmatch(name.strip()) and len(block) > 1:
        name, block = f"{name} {block[1]}", [f"{name} {block[1]}", *block[2:]]  # "Herrn" / "Max Mustermann"
    return {
        "name": name,
        "address": ", ".join(address_lines) or None,
        "email": email,
    }


def _document_kind(ctx: _Context) -> str | None:
    """ "order" or "invoice": the title in the first lines, or else a line further down page one
    that starts with the title word ("Invoice # RE-508 issued at ..." under the address block)."""
    if not ctx.kind_read:
        ctx.kind, ctx.kind_read = _read_document_kind(ctx), True
    return ctx.kind


def _read_document_kind(ctx: _Context) -> str | None:
    head = " ".join(ln.text for ln in ctx.lines[:8] if ln.page == 0)
    if vocab.PO_TITLE_RE.search(head):
        return "order"
    if vocab.INVOICE_TITLE_RE.search(head):
        return "invoice"
    for line in ctx.lines[8:30]:
        if line.page != 0 or _header_like(ctx, line):
            break
        first = line.phrases[0].text
        if (match := vocab.PO_TITLE_RE.match(first)) is not None and match.start() == 0:
            return "order"
        if (match := vocab.INVOICE_TITLE_RE.match(first)) is not None and match.start() == 0:
            return "invoice"
    return None


_SENDER_SEPARATOR_RE = re.compile("\\s*[\u25cf\u2022\u00b7|]\\s*|\\s+[-\u2013]\\s+")


def _sender_line(ctx: _Context, parties: dict[str, dict[str, str | None]]) -> None:
    """The issuer's return address on one line above the addressee ("Bei Spiel GmbH ● Ecke 12 ●
    12345 Stadthausen", "Acme Ltd · 1 High St · Bristol BS1 4QA"): the name, then parts one of
    which is a postcode and town. The issuer is the vendor on an invoice, the buyer on an order;
    a reading by position, so below the review threshold."""
    kind = _document_kind(ctx)
    issuer = "buyer" if kind == "order" else "vendor" if kind == "invoice" else None
    if issuer is None or issuer in parties:
        return
    for line in ctx.lines[:30]:
        if line.page != 0 or _header_like(ctx, line):
            return
        parts = [part.strip(" ,") for part in _SENDER_SEPARATOR_RE.split(line.text) if part.strip(" ,")]
        if len(parts) < 3 or not any(_POSTCODE_LINE_RE.search(part) for part in parts[1:]):
            continue
        name = parts[0]
        if (
            sum(ch.isalpha() for ch in name) < 3
            or any(ch.isdigit() for ch in name)
            or _is_label(name)
            or vocab.PO_TITLE_RE.search(name)
            or vocab.INVOICE_TITLE_RE.search(name)
        ):
            continue
        parties[issuer] = {"name": name, "address": ", ".join(parts[1:]), "email": None}
        ctx.confidence[issuer] = MEDIUM
        return


def _letterhead(ctx: _Context, parties: dict[str, dict[str, str | None]]) -> None:
    """Without a label, the letterhead names the issuer: the buyer on an order, the vendor on an invoice."""
    head = [ln for ln in ctx.lines[:8] if ln.page == 0]
    kind = _document_kind(ctx)
    issuer = "buyer" if kind == "order" else "vendor" if kind == "invoice" else None
    if issuer is None or issuer in parties:
        return
    labels = (*_HEADER_RES.values(), *_PARTY_RES.values())
    sizes = sorted(w.size for line in ctx.lines for w in line.words)
    body_size = sizes[len(sizes) // 2] if sizes else 0.0
    candidates = [
        (phrase.words[0].size, -i, i, phrase)
        for i, line in enumerate(head)
        if not any(r.match(p.text) and not _is_title(p.text) for p in line.phrases for r in labels)
        for phrase in line.phrases
        # A letterhead stands out from the body text; key/value lines never hold it.
        if phrase.words[0].size > 1.15 * body_size
        and not vocab.PO_TITLE_RE.search(phrase.text)
        and not vocab.INVOICE_TITLE_RE.search(phrase.text)
        and sum(ch.isalpha() for ch in phrase.text) >= 3
    ]
    if not candidates:
        return
    _, _, index, phrase = max(candidates, key=lambda c: (c[0], c[1]))
    other = parties.get("vendor" if issuer == "buyer" else "buyer", {})
    if other.get("name") == phrase.text:
        return
    parties[issuer] = _party_from_block(_block(ctx, index, phrase, phrase.text))
    ctx.confidence[issuer] = MEDIUM


# A postcode and town starting an address line: "69001 Lyon", "DE 12345 Stadt", "F-75001 Paris",
# "1012 AB Amsterdam", "Bristol BS1 4QA" (a UK/Dutch postcode ending the line).
_POSTCODE_LINE_RE = re.compile(
    r"^(?:[A-Z]{1,2}[- ]?)?\d{4,5}(?:\s?[A-Z]{2})?\s+[^\W\d]|\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}$"
)


def _address_window(ctx: _Context, parties: dict[str, dict[str, str | None]]) -> None:
    """Without a label, the addressee's block above the table (the envelope window): a name, then
    lines that end in a postcode and town. The addressee is the buyer on an invoice and the vendor
    on an order; a guess by position, so below the review threshold."""
    kind = _document_kind(ctx)
    recipient = "vendor" if kind == "order" else "buyer" if kind == "invoice" else None
    if recipient is None or recipient in parties:
        return
    issuer = parties.get("buyer" if recipient == "vendor" else "vendor", {}).get("name")
    for block in _column_blocks(ctx):
        texts = [p.text for p in block]
        if (
            issuer is not None
            and len(texts) > 1
            and issuer.casefold() in texts[0].casefold()
            and len(_SENDER_SEPARATOR_RE.split(texts[0])) >= 3
        ):
            texts = texts[1:]  # the issuer's return address line right above the addressee
        name = texts[0]
        if (
            len(texts) < 3
            or len(texts) > 8
            or _is_label(name)
            or _is_title(name)
            or _is_id_line(name)
            or re.search(r"\d{4}", name)
            or sum(ch.isalpha() for ch in name) < 3
            or not any(_POSTCODE_LINE_RE.search(t) for t in texts[1:])
            or (issuer is not None and issuer.casefold() in " ".join(texts).casefold())
        ):
            continue
        parties[recipient] = _party_from_block(texts)
        ctx.confidence[recipient] = MEDIUM
        return


def _column_blocks(ctx: _Context) -> list[list[Phrase]]:
    """Runs of phrases on page one starting at the same left edge on consecutive lines, above the
    line-item table."""
    blocks: list[list[Phrase]] = []
    open_blocks: list[tuple[list[Phrase], Line]] = []
    for line in ctx.lines:
        if line.page != 0 or _header_like(ctx, line):
            break
        still_open: list[tuple[list[Phrase], Line]] = []
        for block, last in open_blocks:
            if line.top - last.bottom <= 1.6 * last.size + 2:
                still_open.append((block, last))
        open_blocks = still_open
        for phrase in line.phrases:
            for position, (block, _last) in enumerate(open_blocks):
                if abs(block[0].x0 - phrase.x0) <= 3:
                    block.append(phrase)
                    open_blocks[position] = (block, line)
                    break
            else:
                block = [phrase]
                blocks.append(block)
                open_blocks.append((block, line))
    return blocks


def _is_title(text: str) -> bool:
    text = text.strip(" :")
    return bool(vocab.PO_TITLE_RE.fullmatch(text) or vocab.INVOICE_TITLE_RE.fullmatch(text))


def _ship_to(block: dict[str, str | None] | None) -> str | None:
    if not block:
        return None
    parts = [block.get("name"), block.get("address")]
    return ", ".join(p for p in parts if p) or None


# -------------------------------------------------------------------------------------------- currency


def _currency(ctx: _Context, labelled: str | None) -> str | None:
    if labelled:
        return labelled
    votes = currency_votes(ln.text for ln in ctx.lines)
    if not votes:
        ctx.confidence["currency"] = 0.0
        return None
    ctx.confidence["currency"] = HIGH if len(votes) == 1 else MEDIUM
    return votes.most_common(1)[0][0]


# ---------------------------------------------------------------------------------------------- totals


def _totals(ctx: _Context, *, start: int, lines: list[PurchaseOrderLine]) -> dict[str, Decimal]:
    candidates: dict[str, list[Decimal]] = {}
    # Totals normally follow the table; some layouts put a totals box on the first page.
    after = ctx.lines[start:]
    before = ctx.lines[:start] if start else []
    for line in [*before, *after] if _has_total_label(after) is False else after:
        for position, phrase in enumerate(line.phrases):
            match = _TOTAL_RE.match(phrase.text)
            if not match:
                continue
            kind = _TOTAL_CLASS[vocab.normalise_label(match.group("label"))]
            value = _amount_after(ctx, match.group("rest"), line.phrases[position + 1 :])
            split = _net_tax_gross_row(ctx, line.phrases[position + 1 :]) if kind == "total" else None
            if split is not None:
                for name, amount in zip(("subtotal", "tax", "total"), split, strict=True):
                    candidates.setdefault(name, []).append(amount)
            elif value is not None:
                candidates.setdefault(kind, []).append(value)
    totals = _choose_totals(candidates, lines)
    confirmed_totals = _confirmed_totals(ctx, lines)
    for kind in ("subtotal", "tax", "shipping", "total"):
        # A labelled amount alone is a reading, not a confirmation: below the review threshold.
        ctx.confidence[kind] = MEDIUM if kind in totals else 0.0
    if confirmed_totals is not None:
        totals.update(confirmed_totals)
        for kind in confirmed_totals:
            ctx.confidence[kind] = HIGH
    totals.pop("allowance", None)
    return totals


def _net_tax_gross_row(ctx: _Context, following: list[Phrase]) -> tuple[Decimal, Decimal, Decimal] | None:
    """A total row across net, tax and gross columns ("Total | 24.99 | 5.00 | 29.99"): the three
    amounts after the label, when the first two add up to the third."""
    amounts = []
    for phrase in following:
        text = vocab.TAX_TAG_RE.sub("", phrase.text)
        if "%" in text:
            continue
        value = ctx.number(text)
        if value is None:
            return None
        amounts.append(value)
    if len(amounts) != 3 or amounts[1] <= 0 or amounts[0] <= 0 or amounts[0] + amounts[1] != amounts[2]:
        return None
    return amounts[0], amounts[1], amounts[2]


def _summary_amounts(ctx: _Context) -> list[tuple[str | None, Decimal]]:
    """(kind named by its label or None, amount) for every labelled amount outside the items."""
    found: list[tuple[str | None, Decimal]] = []
    for index, line in enumerate(ctx.lines):
        if index in ctx.item_rows:
            continue
        first = line.phrases[0].text
        if len(line.phrases) == 1:
            # "Subtotal: 219,743.60" in one phrase
            match = _TOTAL_RE.match(first)
            if match and (value := _amount_after(ctx, match.group("rest"), [])) is not None:
                found.append((_TOTAL_CLASS.get(vocab.normalise_label(match.group("label"))), value))
            continue
        if not any(ch.isalpha() for ch in first) or parse_date(first, day_first=ctx.day_first):
            continue
        last = line.phrases[-1].text
        if "%" in last:
            continue
        value = ctx.number(last)
        if value is None:
            continue
        match = _TOTAL_RE.match(first)
        kind = _TOTAL_CLASS.get(vocab.normalise_label(match.group("label"))) if match else None
        found.append((kind, value))
    return found


def _confirmed_totals(ctx: _Context, lines: list[PurchaseOrderLine]) -> dict[str, Decimal] | None:
    """net + tax = gross among the printed amounts, with net = the lines' sum (less or plus a
    printed allowance or charge) or a labelled net: the arithmetic names the real total, whatever
    the labels say (an allowances row or a prepayment is never taken for it)."""
    printed = _summary_amounts(ctx)
    if not printed:
        return None
    values = [value for _, value in printed]
    line_sum = sum((line.amount for line in lines if line.amount is not None), Decimal(0))
    bases: list[Decimal] = []
    if lines and all(confirmed(line) for line in lines):
        bases.append(line_sum)
        # A printed net that differs from the lines by a printed allowance or charge.
        bases.extend(
            v for v in values if v > 0 and v not in bases and abs(line_sum - v) in {abs(w) for w in values}
        )
    bases.extend(v for kind, v in printed if kind == "subtotal" and v not in bases and v > 0)
    return _net_tax_gross(printed, bases)


def _net_tax_gross(
    printed: list[tuple[str | None, Decimal]], bases: list[Decimal]
) -> dict[str, Decimal] | None:
    """The first net (in ``bases`` order) for which net + tax (+ shipping) = a printed gross."""
    values = [value for _, value in printed]
    taxes = [(kind, v) for kind, v in printed if v >= 0 and kind not in ("total", "subtotal", "shipping")]
    shipping = [(None, Decimal(0)), *((kind, v) for kind, v in printed if kind == "shipping")]
    totals = [(kind, v) for kind, v in printed if kind in (None, "total")]
    for base in bases:
        options = []
        for tax_kind, tax in [(None, Decimal(0)), *taxes]:
            if tax >= base:
                continue
            for ship_kind, ship in shipping:
                for total_kind, total in totals:
                    if tax == 0 and ship == 0 and total_kind != "total":
                        continue  # the net repeated is not a confirmation
                    if sums_match(base + tax + ship, total, terms=3):
                        score = (
                            3 * (total_kind == "total") + 2 * (tax_kind == "tax") + (ship_kind is not None)
                        )
                        options.append((score, tax, ship, total))
        if options:
            _, tax, ship, total = max(options, key=lambda o: o[0])
            # Only what the page prints: a net that is just the lines' sum is not a printed subtotal.
            found = {"total": total}
            if base in values:
                found["subtotal"] = base
            if tax or any(kind == "tax" and value == 0 for kind, value in printed):
                found["tax"] = tax
            if ship:
                found["shipping"] = ship
            return found
    return None


def _choose_totals(
    candidates: dict[str, list[Decimal]], lines: list[PurchaseOrderLine]
) -> dict[str, Decimal]:
    """One value per kind. Where a label repeats (section subtotals, a net and a gross "Total"),
    the value that agrees with the lines and the other totals wins, else the last printed."""
    chosen = {kind: values[-1] for kind, values in candidates.items()}
    line_sum = sum((line.amount for line in lines if line.amount is not None), Decimal(0))
    if lines and line_sum in candidates.get("subtotal", []):
        chosen["subtotal"] = line_sum
    base = chosen.get("subtotal", line_sum if lines else None)
    if base is not None and len(candidates.get("total", [])) > 1:
        expected = base + chosen.get("tax", Decimal(0)) + chosen.get("shipping", Decimal(0))
        if expected in candidates["total"]:
            chosen["total"] = expected
    return chosen


def _factorisation(
    numbers: list[tuple[int, Decimal]],
) -> tuple[int, Decimal, int, Decimal, Decimal] | None:
    """(quantity position, quantity, price position, price, amount): two numbers left of a third
    that multiply to it, preferring the rightmost amount."""
    for a_pos, amount in reversed(numbers):
        if amount == 0:
            continue
        for q_pos, quantity in numbers:
            for p_pos, price in numbers:
                if (
                    q_pos != p_pos
                    and q_pos < a_pos
                    and p_pos < a_pos
                    and amounts_match(quantity * price, amount)
                ):
                    return q_pos, quantity, p_pos, price, amount
    return _factorisation_with_base(numbers)


def _factorisation_with_base(
    numbers: list[tuple[int, Decimal]],
) -> tuple[int, Decimal, int, Decimal, Decimal] | None:
    """Prices per a base quantity ("20.00 per 2 units"): quantity x price / base = amount."""
    for a_pos, amount in reversed(numbers):
        if amount == 0:
            continue
        left = [(position, value) for position, value in numbers if position < a_pos]
        for q_pos, quantity in left:
            for p_pos, price in left:
                for b_pos, base in left:
                    if (
                        len({q_pos, p_pos, b_pos}) == 3
                        and base > 1
                        and amounts_match(quantity * price / base, amount)
                    ):
                        return q_pos, quantity, p_pos, price, amount
    return None


def _closer(phrase: Phrase, first: float | None, second: float | None) -> bool:
    """True when ``phrase`` sits closer to the ``first`` column centre than to the ``second``."""
    if first is None or second is None:
        return False
    center = (phrase.x0 + phrase.x1) / 2
    return abs(center - first) < abs(center - second)


def _has_total_label(lines: list[Line]) -> bool:
    return any(_TOTAL_RE.match(p.text) for line in lines for p in line.phrases)


def _amount_after(ctx: _Context, rest: str, following: list[Phrase]) -> Decimal | None:
    rest = (
        re.sub(r"^\(?[A-Z]{3}\)?\s*:?\s*", "", rest.strip())
        if re.match(r"^\(?[A-Z]{3}\)?\s*:?\s*\S", rest)
        else rest
    )
    rest = vocab.TAX_TAG_RE.sub("", rest).strip(" :")
    if rest and (value := ctx.number(rest)) is not None:
        return value
    for phrase in following:
        text = vocab.TAX_TAG_RE.sub("", phrase.text)
        if "%" in text:
            continue
        if (value := ctx.number(text)) is not None:
            return value
        if _TOTAL_RE.match(text):
            return None
    return None


# ---------------------------------------------------------------------------------------- line items


def _line_items(ctx: _Context) -> tuple[int, list[PurchaseOrderLine]]:
    """Returns the index of the line after the table and the items read from it.

    Two readings compete: the table under a recognised column header, and the items anchored on
    rows whose values multiply out (items.py). The one the arithmetic confirms better wins; on a
    tie the header reading (it knows the SKU and description columns by name)."""
    warned = len(ctx.warnings)
    assumed = ctx.assumed_quantities
    header_index, columns = _find_header(ctx)
    header_end, header_items = _header_items(ctx, header_index, columns)
    hints = {c.role: c.center for c in columns if c.role in ("quantity", "unit_price")}
    found = value_items(
        ctx.lines,
        number=ctx.number,
        day_first=ctx.day_first,
        hints=hints,
        stop=lambda line: _has_total_label([line]) or _header_like(ctx, line),
    )
    if found is not None and _prefer_values(ctx, found.lines, header_items):
        ctx.item_rows = found.rows
        del ctx.warnings[warned:]  # the header reading's doubts are not about these lines
        _merge_identifiers(found.lines, header_items)
        ctx.confidence["lines"] = HIGH if all(confirmed(line) for line in found.lines) else MEDIUM
        return found.end, found.lines
    if header_items:
        if found is not None:
            _merge_identifiers(header_items, found.lines)
        certain = ctx.assumed_quantities == assumed and all(confirmed(line) for line in header_items)
        ctx.confidence["lines"] = HIGH if certain else MEDIUM
        return header_end, header_items
    ctx.warnings.append("no line-item table was recognised")
    ctx.confidence["lines"] = 0.0
    return 0, []


def _prefer_values(ctx: _Context, values: list[PurchaseOrderLine], header: list[PurchaseOrderLine]) -> bool:
    """Whether the value reading beats the header reading: the one whose lines add up to a
    printed sum; else the value reading when it found lines the header reading did not and the
    arithmetic confirms it at least as well (the header reading keeps a discounted line that does
    not multiply out, which the value reading cannot see)."""
    sums = _labelled_amounts(ctx)
    values_ok, header_ok = _adds_up(values, sums), _adds_up(header, sums)
    if values_ok != header_ok:
        return values_ok
    known = [(line.amount, line.quantity) for line in header]
    new = [line for line in values if (line.amount, line.quantity) not in known]
    if header_ok and not new and all(line.amount and line.unit_price for line in header):
        # Both add up to a printed sum (one, say, to a tax base) and the header reading holds
        # every value line: its extra lines, each with a price and an amount, are real ones the
        # arithmetic cannot confirm (a discounted line).
        return False
    value_score, header_score = _arithmetic_score(values), _arithmetic_score(header)
    return value_score > header_score or (bool(new) and value_score == header_score)


def _labelled_amounts(ctx: _Context) -> list[Decimal]:
    amounts = []
    for line in ctx.lines:
        for position, phrase in enumerate(line.phrases):
            match = _TOTAL_RE.match(phrase.text)
            if match and (value := _amount_after(ctx, match.group("rest"), line.phrases[position + 1 :])):
                amounts.append(value)
    return amounts


def _adds_up(lines: list[PurchaseOrderLine], sums: list[Decimal]) -> bool:
    if not lines:
        return False
    line_sum = sum((line.amount for line in lines if line.amount is not None), Decimal(0))
    return any(sums_match(line_sum, value, terms=len(lines)) for value in sums)


def _arithmetic_score(lines: list[PurchaseOrderLine]) -> int:
    """Lines that multiply out, less those that do not (a phantom costs what a line gains)."""
    good = sum(1 for line in lines if confirmed(line))
    return 2 * good - (len(lines) - good) * 2


def _merge_identifiers(lines: list[PurchaseOrderLine], others: list[PurchaseOrderLine]) -> None:
    """Fill a missing SKU or description from the other reading's line with the same amount and
    quantity (the header reading names its SKU column; the value reading finds identifier-like
    tokens where no header names one)."""
    pool = [line for line in others if line.sku and line.amount is not None]
    for line in lines:
        match = next((o for o in pool if o.amount == line.amount and o.quantity == line.quantity), None)
        if match is not None:
            pool.remove(match)
            line.sku = line.sku or match.sku
            line.description = line.description or match.description


def _header_items(
    ctx: _Context, header_index: int | None, columns: list[Column]
) -> tuple[int, list[PurchaseOrderLine]]:
    if header_index is not None:
        rows, end = _table_rows(ctx, header_index, columns)
        column_map = _ColumnMap(columns, _boundaries(columns, rows), _segments(ctx, columns, rows))
        items = _items(ctx, rows, column_map)
        parsed = [line for item in items if (line := _to_line(ctx, item)) is not None]
        if parsed:
            return end, parsed
    start = header_index + 1 if header_index is not None else 0
    end, parsed = _arithmetic_items(ctx, start)
    return (end, parsed) if parsed else (start, [])


def _arithmetic_items(ctx: _Context, start: int) -> tuple[int, list[PurchaseOrderLine]]:
    """Rows holding a quantity, a unit price and an amount with quantity x price = amount."""
    found: list[PurchaseOrderLine] = []
    end = start
    # Column labels near the (unusable) header still tell which factor is the quantity.
    hints: dict[str, float] = {}
    for line in ctx.lines[max(0, start - 3) : start + 2]:
        for column in _header_columns(line):
            hints.setdefault(column.role, column.center)
    for index in range(start, len(ctx.lines)):
        line = ctx.lines[index]
        numbers = [
            (position, value)
            for position, phrase in enumerate(line.phrases)
            if "%" not in phrase.text
            and parse_date(phrase.text, day_first=ctx.day_first) is None
            and (value := _leading_number(ctx, phrase.text)) is not None
        ]
        if len(numbers) < 3 or _TOTAL_RE.match(line.phrases[0].text):
            continue
        best = _factorisation(numbers)
        if best is None:
            continue
        q_pos, quantity, p_pos, price, amount = best
        if hints and _closer(line.phrases[q_pos], hints.get("unit_price"), hints.get("quantity")):
            q_pos, quantity, p_pos, price = p_pos, price, q_pos, quantity
        numeric_positions = {position for position, _ in numbers}
        # Words, not leftovers such as "20,00%" or "(D) - 5,00": those are rates and discounts.
        text = [
            p.text
            for i, p in enumerate(line.phrases)
            if i not in numeric_positions and sum(ch.isalpha() for ch in p.text) >= 3 and "%" not in p.text
        ]
        unit = next((t for t in text if re.fullmatch(r"[A-Za-z]{1,4}\.?", t)), None)
        description = " ".join(t for t in text if t != unit) or None
        found.append(
            PurchaseOrderLine(
                description=description, quantity=quantity, unit=unit, unit_price=price, amount=amount
            )
        )
        end = index + 1
    return end, found


def _header_columns(line: Line) -> list[Column]:
    """The header columns a line would name; read once per line, handed out as fresh copies
    because callers widen and merge them."""
    cached: list[Column] | None = line.memo.get("header_columns")
    if cached is None:
        cached = line.memo["header_columns"] = _read_header_columns(line)
    return [Column(c.role, c.x0, c.x1, c.label) for c in cached]


def _read_header_columns(line: Line) -> list[Column]:
    columns: list[Column] = []
    for phrase in line.phrases:
        words = phrase.words
        i = 0
        while i < len(words):
            match = None
            for size in range(min(_COLUMN_MAX_WORDS, len(words) - i), 0, -1):
                text = _strip_header_noise(" ".join(w.text for w in words[i : i + size]))
                if (role := _column_role(text)) is not None:
                    match = (size, role, text)
                    break
            if match is None or (i > 0 and words[i - 1].text.lower().rstrip(".") in _QUALIFIERS and columns):
                if columns and columns[-1].x1 >= words[i].x0 - 1.5 * words[i].size:
                    columns[-1].x1 = words[i].x1  # "(EUR)", "incl." and the like stay with their label
                else:
                    columns.append(Column("other", words[i].x0, words[i].x1, words[i].text))
                i += 1
                continue
            size, role, text = match
            columns.append(Column(role, words[i].x0, words[i + size - 1].x1, text))
            i += size
    return columns


def _column_role(label: str) -> str | None:
    """The role a header label names; "Qty." and "Qty" alike."""
    return _COLUMN_ROLE.get(label) or _COLUMN_ROLE.get(label.rstrip("."))


_CURRENCY_NOISE_RE = re.compile(r"\((?:[a-z]{3}|[€$£¥])\)|[€$£¥]")


@functools.lru_cache(maxsize=8192)
def _strip_header_noise(text: str) -> str:
    text = vocab.normalise_label(text)
    text = _CURRENCY_NOISE_RE.sub("", text).strip()
    return text.rstrip(":")


def _find_header(ctx: _Context) -> tuple[int | None, list[Column]]:
    best: tuple[int, int | None, list[Column]] = (0, None, [])
    for index, line in enumerate(ctx.lines):
        if any(ctx.number(p.text) is not None for p in line.phrases):
            continue
        columns = _header_columns(line)
        columns = _merge_stacked_header(ctx, index, columns)
        roles = {c.role for c in columns} - {"other", "line_no"}
        if not roles & set(_NUMERIC_ROLES) or not roles & {"description", "sku"}:
            continue
        score = len(roles)
        if score >= 3 and score > best[0]:
            best = (score, index, columns)
    _, found, columns = best
    if found is None:
        return None, []
    columns = _resolve_roles(columns)
    return found, sorted(columns, key=lambda c: c.x0)


def _merge_stacked_header(ctx: _Context, index: int, columns: list[Column]) -> list[Column]:
    """Headers set on several lines: words under each other join ("Unit" over "Price"), and a
    column labelled only on the lines above ("Positions" / "betrag" beside a header row set
    lower) is added."""
    columns = _merge_below(ctx, index, columns)
    return _columns_above(ctx, index, columns)


def _columns_above(ctx: _Context, index: int, columns: list[Column]) -> list[Column]:
    """Columns named only on the label lines just above the header row (a multi-line header
    whose main row sits lower): phrases clear of every known column, stacked in one x range,
    that together name a role. Text overlapping a known column (a paragraph) is ignored."""
    line = ctx.lines[index]
    above: list[Line] = []
    previous = line
    for candidate in reversed(ctx.lines[max(0, index - 3) : index]):
        if (
            candidate.page != line.page
            or previous.top - candidate.bottom > 0.8 * line.size
            or any(ctx.number(p.text) is not None for p in candidate.phrases)
        ):
            break
        above.insert(0, candidate)
        previous = candidate
    if not above:
        return columns
    stacks: list[list[Phrase]] = []
    for candidate in above:
        for phrase in candidate.phrases:
            if any(phrase.x0 < c.x1 and phrase.x1 > c.x0 for c in columns):
                continue
            stack = next((st for st in stacks if phrase.x0 < st[-1].x1 and phrase.x1 > st[-1].x0), None)
            if stack is None:
                stacks.append([phrase])
            else:
                stack.append(phrase)
    added: list[Column] = []
    for stack in stacks:
        joined = _strip_header_noise(" ".join(p.text for p in stack))
        role = _column_role(joined) or _column_role(joined.replace(" ", ""))
        if role is not None:
            added.append(Column(role, min(p.x0 for p in stack), max(p.x1 for p in stack), joined))
    if not added:
        return columns
    return sorted([*columns, *added], key=lambda c: c.x0)


def _merge_below(ctx: _Context, index: int, columns: list[Column]) -> list[Column]:
    line = ctx.lines[index]
    if index + 1 >= len(ctx.lines):
        return columns
    below = ctx.lines[index + 1]
    if below.page != line.page or below.top - line.bottom > 0.8 * line.size:
        return columns
    if any(ctx.number(p.text) is not None for p in below.phrases):
        return columns
    merged = list(columns)
    for phrase in below.phrases:
        for column in merged:
            if phrase.x0 < column.x1 and phrase.x1 > column.x0:
                joined = _strip_header_noise(f"{column.label} {phrase.text}")
                own = _column_role(_strip_header_noise(phrase.text)) or "other"
                role = (
                    _column_role(joined)
                    # A word broken over two lines without a hyphen ("Positions" / "betrag").
                    or _column_role(joined.replace(" ", ""))
                    or (column.role if column.role != "other" else own)
                )
                column.role, column.label = role, joined
                column.x0, column.x1 = min(column.x0, phrase.x0), max(column.x1, phrase.x1)
                break
    return merged


def _resolve_roles(columns: list[Column]) -> list[Column]:
    roles = [c.role for c in columns]
    # "Item" names the code column when a description column also exists.
    if roles.count("description") > 1:
        for column in columns:
            if (
                column.label in ("item", "items", "artikel", "article", "product")
                and roles.count("description") > 1
            ):
                column.role = "sku"
                roles = [c.role for c in columns]
    # Two amount-like columns ("Price" ... "Total"): the left one is the unit price.
    prices = [c for c in columns if c.role == "unit_price"]
    if len(prices) > 1 and not any(c.role == "amount" for c in columns):
        prices[-1].role = "amount"
    amounts = [c for c in columns if c.role == "amount"]
    if len(amounts) > 1 and not any(c.role == "unit_price" for c in columns):
        amounts[0].role = "unit_price"
    seen: set[str] = set()
    for column in sorted(columns, key=lambda c: c.x0, reverse=True):
        # The rightmost amount column is the line total; earlier duplicates are something else.
        if column.role in seen and column.role != "other":
            column.role = "other"
        seen.add(column.role)
    return columns


def _table_rows(ctx: _Context, header_index: int, columns: list[Column]) -> tuple[list[Line], int]:
    header = ctx.lines[header_index]
    header_text = header.text
    rows: list[Line] = []
    skip_to_header_page = -1
    previous = header
    index = header_index + 1
    while index < len(ctx.lines):
        line = ctx.lines[index]
        if line.page == skip_to_header_page:
            if line.text == header_text or _header_like(ctx, line):
                skip_to_header_page = -1
                previous = line
            index += 1
            continue
        if line.page != previous.page:
            if any(ln.page == line.page and (ln.text == header_text) for ln in ctx.lines[index : index + 40]):
                skip_to_header_page = line.page  # running page header above a repeated table header
                continue
            if rows and _section_heading(line, header):
                break  # the table ended at the page break; a new section opens this page
            if not _has_numbers(ctx, line):
                index += 1  # a running header on a page that continues the table without its header
                continue
        elif line.top - previous.bottom > 5 * max(previous.size, 6):
            break
        if line.text == header_text or (not rows and _header_like(ctx, line)):
            previous = line
            index += 1
            continue
        new_section = _header_like(ctx, line) or _section_heading(line, header)
        if rows and line.page == previous.page and new_section:
            break  # another table (tax breakdown, payment schedule) or a new section begins
        if _is_summary(ctx, line, columns):
            if _items_follow(ctx, index, columns):
                previous = line
                index += 1
                continue  # a section subtotal inside the table
            break
        rows.append(line)
        previous = line
        index += 1
    return rows, index


def _section_heading(line: Line, header: Line) -> bool:
    """A heading that opens a new section ("Zahlungsbedingungen:", "Payment terms:"): one phrase
    ending in a colon, no digits, starting at or left of the table's left edge."""
    if len(line.phrases) != 1 or line.x0 > header.x0 + 1:
        return False
    text = line.text.strip()
    return text.endswith(":") and not any(ch.isdigit() for ch in text) and len(text.split()) <= 4


def _is_summary(ctx: _Context, line: Line, columns: list[Column]) -> bool:
    """A totals line: a label such as "Subtotal" or "Grand Total", not an item."""
    first = line.phrases[0]
    if any(_TOTAL_RE.match(p.text) for p in line.phrases) and not _has_quantity(ctx, line, columns):
        return True
    return first.x0 > _description_right(columns) and ctx.number(first.text) is None


def _has_quantity(ctx: _Context, line: Line, columns: list[Column]) -> bool:
    quantity = next((c for c in columns if c.role == "quantity"), None)
    if quantity is None:
        return False
    return any(
        p.x1 >= quantity.x0 - 2 * p.words[0].size
        and p.x0 <= quantity.x1 + p.words[0].size
        and _leading_number(ctx, p.text) is not None
        for p in line.phrases[1:]
    )


def _items_follow(ctx: _Context, index: int, columns: list[Column]) -> bool:
    for line in ctx.lines[index + 1 : index + 5]:
        if _is_summary(ctx, line, columns):
            continue
        numeric = sum(1 for p in line.phrases if ctx.number(p.text) is not None)
        if line.phrases[0].x0 <= _description_right(columns) and numeric >= 2:
            return True
    return False


def _has_numbers(ctx: _Context, line: Line) -> bool:
    return any(ctx.number(p.text) is not None for p in line.phrases)


def _description_right(columns: list[Column]) -> float:
    text_columns = [c for c in columns if c.role in ("description", "sku")]
    return max((c.x1 for c in text_columns), default=columns[0].x1)


def _header_like(ctx: _Context, line: Line) -> bool:
    if any(ctx.number(p.text) is not None for p in line.phrases):
        return False  # cheap checks first: this runs on every line
    roles = {c.role for c in _header_columns(line)} - {"other"}
    return len(roles) >= 2


@dataclass(slots=True)
class _ColumnMap:
    """Which column a word belongs to: by the data's own alignment where it is unambiguous,
    else by the boundaries between the headers."""

    columns: list[Column]
    boundaries: list[float]
    segments: list[tuple[float, float, int]]  # (x0, x1, column index) of aligned runs of text

    def column_of(self, word: Word) -> Column:
        center = (word.x0 + word.x1) / 2
        for x0, x1, index in self.segments:
            if x0 <= center <= x1:
                return self.columns[index]
        return self.columns[bisect_right(self.boundaries, center)]


def _segments(ctx: _Context, columns: list[Column], rows: list[Line]) -> list[tuple[float, float, int]]:
    """Columns found from alignment: x ranges that some row inks and no gap crosses, each given to
    the header it sits under, or else to the header on its left."""
    centres = [c.center for c in columns]
    words = sorted(
        (w for row in rows for p in row.phrases if not _spans_columns(p, centres) for w in p.words),
        key=lambda w: w.x0,
    )
    # A word is a value when its phrase reads as one ("50 pcs"), not when it sits in text ("box of 100").
    numeric_words = {
        id(word)
        for row in rows
        for phrase in row.phrases
        if _leading_number(ctx, phrase.text) is not None
        for word in phrase.words
    }
    runs: list[list[Word]] = []
    right = 0.0  # the rightmost edge of the last run, kept as it grows
    for word in words:
        if runs and word.x0 <= right + 0.5:
            runs[-1].append(word)
            right = max(right, word.x1)
        else:
            runs.append([word])
            right = word.x1
    segments: list[tuple[float, float, int]] = []
    for run in runs:
        x0, x1 = run[0].x0, max(w.x1 for w in run)
        numeric = sum(id(w) in numeric_words for w in run) * 2 > len(run)
        under = [i for i, c in enumerate(columns) if c.x0 < x1 and c.x1 > x0]
        if len(under) > 1 or (under and not numeric and columns[under[0]].role in _NUMERIC_ROLES):
            continue  # spans two headers, or text spilling under a number column: the boundaries decide
        if under:
            segments.append((x0, x1, under[0]))
            continue
        # Not under any header: a header names the column that starts at it, so the run belongs
        # to the nearest header on its left (text and numbers run on past a left-aligned label).
        left = max(
            (i for i, c in enumerate(columns) if c.x1 <= x0), default=None, key=lambda i: columns[i].x1
        )
        if left is not None:
            segments.append((x0, x1, left))
    if any(b[2] < a[2] for a, b in pairwise(segments)):
        return []  # crossing assignments: the alignment is not telling a consistent story
    return segments


def _boundaries(columns: list[Column], rows: list[Line]) -> list[float]:
    """x positions separating adjacent columns, in the least-covered corridor between them.
    A note running across the columns says nothing about where one ends (see ``_spans_columns``)."""
    centres = [c.center for c in columns]
    spans = [
        (w.x0, w.x1)
        for row in rows
        for phrase in row.phrases
        if not _spans_columns(phrase, centres)
        for w in phrase.words
    ]
    boundaries: list[float] = []
    for left, right in pairwise(columns):
        start, end = int(left.center), int(right.center)
        if end <= start:
            boundaries.append((left.x1 + right.x0) / 2)
            continue
        # How many words cover each x between the centres: +1 where a word starts, -1 after it ends.
        steps = [0] * (end - start + 2)
        for x0, x1 in spans:
            lo, hi = max(start, int(x0)), min(end, int(x1))
            if lo <= hi:
                steps[lo - start] += 1
                steps[hi - start + 1] -= 1
        coverage = list(accumulate(steps[:-1]))
        least = min(coverage)
        best_run, run_start, best = 0, None, (left.x1 + right.x0) / 2
        for offset, count in enumerate([*coverage, least + 1]):
            if count == least and run_start is None:
                run_start = offset
            elif count != least and run_start is not None:
                if offset - run_start > best_run:
                    best_run, best = offset - run_start, start + (run_start + offset - 1) / 2
                run_start = None
        boundaries.append(best)
    return boundaries


@dataclass(slots=True)
class _Row:
    line: Line
    texts: dict[str, str]
    numeric: bool  # a value in the quantity, unit price or amount column
    numbered: bool  # a line number in the line-number column


def _items(ctx: _Context, lines: list[Line], column_map: _ColumnMap) -> list[_Item]:
    """Group table lines into items.

    Rows are first cut into blocks at the wider vertical gaps (cell padding between items is
    wider than the leading inside a wrapped description). A block with one row of numbers is one
    item, wherever the numbers sit (top-, middle- or bottom-aligned cells); blocks holding several
    rows of numbers (tables of single-line rows) are read row by row.
    """
    has_line_numbers = any(c.role == "line_no" for c in column_map.columns)
    rows = [_row(ctx, line, column_map) for line in lines]
    items: list[_Item] = []
    for block in _blocks(rows):
        anchors = [
            row
            for row in block
            if (row.numeric and not _detail_row(row, has_line_numbers=has_line_numbers))
            or (has_line_numbers and row.numbered)
        ]
        if len(anchors) == 1:
            item = _Item()
            for row in block:
                _add_row(item, row, numbers=row is anchors[0])
            items.append(item)
        elif not anchors:
            if items:  # notes under an item ("Serial number: ...") stay with it
                for row in block:
                    _add_row(items[-1], row, numbers=False)
        else:
            items.extend(_items_row_by_row(block, has_line_numbers=has_line_numbers))
    return [item for item in items if item.has_numbers or item.numbered]


def _detail_row(row: _Row, *, has_line_numbers: bool) -> bool:
    """In a table whose items carry line numbers, a "Label: value" row without one
    ("Zählerstand von-bis: 1 - 2", "Serial no.: 4711") details the item above, whatever numbers
    it holds."""
    return has_line_numbers and not row.numbered and DETAIL_RE.match(row.line.text) is not None


def _spans_columns(phrase: Phrase, centres: list[float]) -> bool:
    """A phrase of text running across two column centres or more ("Includes 19 % insurance tax
    = 12.77", "- Fire cover - part A 62.000") is a note spilling over the table, not cells: its
    numbers are not the item's values. A phrase that starts with a number is left to the columns
    (values set close together can read as one phrase)."""
    if any(ch.isdigit() for ch in phrase.words[0].text):
        return False
    x0, x1 = phrase.x0, phrase.x1
    inside = 0
    for x in centres:
        if x0 <= x <= x1:
            inside += 1
            if inside == 2:
                return True
    return False


def _row(ctx: _Context, line: Line, column_map: _ColumnMap) -> _Row:
    cells: dict[str, list[str]] = {}
    centres = [c.center for c in column_map.columns]
    for phrase in line.phrases:
        if _spans_columns(phrase, centres):
            cells.setdefault(column_map.column_of(phrase.words[0]).role, []).append(phrase.text)
            continue
        for word in phrase.words:
            cells.setdefault(column_map.column_of(word).role, []).append(word.text)
    texts = {role: " ".join(parts) for role, parts in cells.items()}
    numeric = any(_leading_number(ctx, texts.get(role, "")) is not None for role in _NUMERIC_ROLES)
    if not numeric:
        # A line of text only (a wrapped description running under the number columns): each
        # phrase stays whole, in the column where it starts.
        cells = {}
        for phrase in line.phrases:
            cells.setdefault(column_map.column_of(phrase.words[0]).role, []).append(phrase.text)
        texts = {role: " ".join(parts) for role, parts in cells.items()}
    numbered = bool(re.fullmatch(r"\d{1,4}\.?", texts.get("line_no", "")))
    return _Row(line, texts, numeric, numbered)


def _blocks(rows: list[_Row]) -> list[list[_Row]]:
    gaps = [b.line.top - a.line.bottom for a, b in pairwise(rows) if a.line.page == b.line.page]
    tightest = min(gaps, default=0.0)
    blocks: list[list[_Row]] = [[rows[0]]] if rows else []
    for previous, row in pairwise(rows):
        gap = row.line.top - previous.line.bottom
        if row.line.page != previous.line.page or gap > tightest + 0.3 * previous.line.size:
            blocks.append([row])
        else:
            blocks[-1].append(row)
    return blocks


def _add_row(item: _Item, row: _Row, *, numbers: bool) -> None:
    for role, text in row.texts.items():
        if role in _NUMERIC_ROLES and not numbers:
            continue
        item.add(role, text)
    item.has_numbers = item.has_numbers or (numbers and row.numeric)
    item.numbered = item.numbered or row.numbered


def _items_row_by_row(rows: list[_Row], *, has_line_numbers: bool) -> list[_Item]:
    """Each row of numbers (or line number) starts an item; text rows join the item above, or the
    first item when they come before it."""
    items: list[_Item] = []
    pending: list[_Row] = []
    for row in rows:
        if has_line_numbers:
            # Numbers on a row without a line number complete the item above, unless it has its own.
            detail = bool(items) and _detail_row(row, has_line_numbers=True)
            starts = row.numbered or (row.numeric and (not items or items[-1].has_numbers) and not detail)
        else:
            starts = row.numeric
        if starts:
            item = _Item()
            for earlier in pending:
                _add_row(item, earlier, numbers=False)
            pending.clear()
            _add_row(item, row, numbers=True)
            items.append(item)
        elif items:
            _add_row(items[-1], row, numbers=row.numeric and not items[-1].has_numbers)
        else:
            pending.append(row)
    return items


def _leading_number(ctx: _Context, text: str) -> Decimal | None:
    text = text.strip()
    if not text:
        return None
    value = ctx.number(text)
    if value is not None:
        return value
    match = _QTY_UNIT_RE.match(text)
    return ctx.number(match.group("num")) if match else None


def _to_line(ctx: _Context, item: _Item) -> PurchaseOrderLine | None:
    def text(role: str) -> str | None:
        parts = [p for p in item.cells.get(role, []) if p.strip()]
        return " ".join(parts) if parts else None

    unit = text("unit")
    quantity_text = _RATE_RE.sub(" ", text("quantity") or "").strip()
    quantity = ctx.number(quantity_text) if quantity_text else None
    if quantity is None and quantity_text:
        match = _QTY_UNIT_RE.match(quantity_text.strip())
        if match:
            quantity = ctx.number(match.group("num"))
            unit = unit or re.sub(r"\([a-z]{1,2}\)$", "", match.group("unit") or "") or None
    unit_price = _price(ctx, text("unit_price"))
    amount = _price(ctx, text("amount"))
    description = text("description")
    if quantity is not None and unit_price and amount is not None and quantity * unit_price != amount:
        # A quantity printed rounded ("6 Stk" for 6.5 km): the amount over the price, when it
        # rounds to the printed figure, is the quantity; still a derived value, not a confirmed one.
        exact = _rounded_quantity(quantity, unit_price, amount)
        if exact is not None:
            quantity = exact
            ctx.assumed_quantities += 1
            ctx.warnings.append(
                f"item {description or text('sku') or '?'}: quantity printed rounded, read as {quantity}"
            )
    if quantity is None:
        if unit_price and amount is not None and unit_price != 0:
            quantity = (amount / unit_price).quantize(Decimal("0.001")).normalize()
        else:
            quantity = Decimal(1)
        ctx.assumed_quantities += 1
        ctx.warnings.append(
            f"item {description or text('sku') or '?'}: no quantity printed, assumed {quantity}"
        )
    return PurchaseOrderLine(
        sku=text("sku"),
        description=description,
        quantity=quantity,
        unit=unit,
        unit_price=unit_price,
        amount=amount,
    )


def _rounded_quantity(printed: Decimal, unit_price: Decimal, amount: Decimal) -> Decimal | None:
    """amount / unit price when the printed quantity is that value cut to its own decimals and the
    value has just one decimal more (6.5 printed "6"); else None. A single unit (1 x 100 = 150)
    is a priced line (a surcharge, a discount), not a rounded quantity."""
    exponent = printed.as_tuple().exponent
    if not isinstance(exponent, int):
        return None
    step = Decimal(1).scaleb(exponent)
    exact = amount / unit_price
    if printed <= step or not printed < exact < printed + step or exact != exact.quantize(step / 10):
        return None
    return exact.quantize(step / 10).normalize()


def _price(ctx: _Context, text: str | None) -> Decimal | None:
    # A rate beside the value ("0 % 1163,40", "80,00 19 %") is the tax column spilling over.
    text = _RATE_RE.sub(" ", text).strip() if text else text
    if not text:
        return None
    value = ctx.number(text)
    if value is None:
        # "12.50 / pc" or two numbers in one cell: take the first number.
        match = re.search(r"[-(]?[\d][\d.,'\u00a0 ]*", text)
        value = ctx.number(match.group().strip()) if match else None
    return value
