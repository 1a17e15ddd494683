"""The words documents use for fields, table columns, totals and months (English, German, French,
Dutch, Spanish, Italian). The words themselves are data (``vocabulary.json`` beside this module),
so a language or a label is added without touching code; this module only compiles them. This is
a vocabulary, not a template: no position or vendor is assumed.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources

_DATA = json.loads(resources.files(__package__).joinpath("vocabulary.json").read_text(encoding="utf-8"))


def _table(name: str) -> dict[str, tuple[str, ...]]:
    return {key: tuple(words) for key, words in _DATA[name].items()}


HEADER_LABELS = _table("header_labels")
PARTY_LABELS = _table("party_labels")
COLUMN_LABELS = _table("column_labels")
TOTAL_LABELS = _table("total_labels")
# Month names and abbreviations in every language above -> month number.
MONTHS: dict[str, int] = {name: int(number) for number, names in _DATA["months"].items() for name in names}
# Words that make a line a detail of the item above, never an item ("Bruttopreis : 9,90").
DETAIL_WORDS: tuple[str, ...] = tuple(_DATA.get("detail_words", ()))
# Labels of a document's own identity line ("Rechnung Nr. 471102 vom 05.03.2018").
DATE_CONNECTORS: tuple[str, ...] = tuple(_DATA.get("date_connectors", ()))

PO_TITLE_RE = re.compile(
    r"\b(purchase\s+order|order|bestellung|auftrag|bon\s+de\s+commande|commande|bestelling|inkooporder|pedido|ordine)\b",
    re.IGNORECASE,
)
INVOICE_TITLE_RE = re.compile(r"\b(invoice|rechnung|facture|factuur|fattura|factura)\b", re.IGNORECASE)
FURNITURE_RE = re.compile(
    r"^\s*(page|seite|pagina|página|blatt)\s*:?\s*\d+\s*(of|von|de|/|sur|van|di)\s*\d+\s*$", re.IGNORECASE
)
# Running headers and footers of multi-page documents ("continued on next page").
CONTINUED_RE = re.compile(r"\b(continued|cont['\u2019]d|fortsetzung|suite|vervolg|übertrag)\b", re.IGNORECASE)
# Text after a party label that makes it a field, not an address block ("Vendor ID: V-1").
PARTY_FIELD_RE = re.compile(r"^(id|no\.?|nr\.?|number|#|code|date|ref\.?|reference|vat|tax)\b", re.IGNORECASE)
# "Date" labels that name a payment due date, not the order date.
DUE_DATE_RE = re.compile(
    r"^\s*(date\s+(limite|d['\u2019]échéance|due)|due\s+date|fällig|zahlbar|vervaldatum|échéance|payment\s+due)",
    re.IGNORECASE,
)
# Tax tags printed beside an amount: "29.99 € TTC", "1.234,00 netto".
TAX_TAG_RE = re.compile(
    r"\b(TTC|HT|incl\.?|excl\.?|inkl\.?|exkl\.?|netto|brutto|net|gross)(?=\s|$)", re.IGNORECASE
)
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
CONTACT_LINE_RE = re.compile(
    r"^\s*(phone|tel|telefon|téléphone|fax|e-?mail|mail|web|www|vat|ust|tva|btw|iban|bic|id|"
    r"contact|attn|kvk|siret|siren)\b",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=8192)
def normalise_label(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


def _pattern(labels: tuple[str, ...]) -> str:
    return "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))


def label_regex(labels: tuple[str, ...]) -> re.Pattern[str]:
    """``label[:#.]? rest`` at the start of a phrase; the label must end at a word boundary."""
    return re.compile(
        rf"^\s*(?P<label>{_pattern(labels)})(?![\w])\s*[:#.]{{0,3}}\s*(?P<rest>.*)$", re.IGNORECASE
    )


# A company name ends in its legal form ("GmbH", "a.G.", "SARL", "B.V."): a second address line
# ending in one is the rest of a name wrapped over two lines, not a street.
LEGAL_FORM_END_RE = re.compile(
    rf"(?:^|\s)(?:{_pattern(tuple(_DATA.get('legal_forms', ())))})\s*$",
    re.IGNORECASE,
)
