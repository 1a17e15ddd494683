"""One redaction for everything that leaves the hot path: the model's view and the audit trail.

Two ways a value is masked, everywhere a document is walked:

- **by key name**: the whole value under a key such as ``password``, ``apiKey``, ``card_number``,
  ``IBAN`` or ``routing-number`` becomes a marker (names are split on ``_``/``-``/camelCase, so
  ``cardNumber`` and ``card_number`` are the same, but ``cardinality`` or ``prompt_tokens`` are not);
- **by value pattern** inside any string, under any key: payment card numbers (13-19 digits,
  optionally in groups, with a network prefix and a valid Luhn check digit), US SSNs
  (``###-##-####`` outside the ranges never issued), IBANs (country length and mod-97 checksum),
  bearer tokens and well-known API-key shapes, and ``password=…``-style pairs in free text. Only
  the matched part is replaced, so ``"refund to card 4111 1111 1111 1111 please"`` stays readable.

Checksums keep ordinary business data (PO numbers, order ids, dates, amounts, phone numbers)
unmasked. A masked value reads ``[redacted:<kind>]``; a reviewer who edits a masked document
sends those markers back for what they did not change, and ``restore_masked`` puts the real
values back before anything runs.

This module sits at the package top so that models, domain and data code may all use it; it
imports only models.
"""

from __future__ import annotations

import bisect
import copy
import functools
import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any

from tray_agent.errors import InvalidInputError
from tray_agent.models.decisions import DecisionRecord
from tray_agent.models.reviews import ReviewItem

MARKER = re.compile(r"\[redacted(?::[a-z_]+)?\]")

# Limits only for what a model reads (``redact``); the audit copy keeps every value's place so
# that ``restore_masked`` can find it again.
MODEL_MAX_TEXT = 2000
MODEL_MAX_DEPTH = 6
MODEL_MAX_ITEMS = 100
# A hard bound on how deep any walk goes (a hostile document cannot exhaust the stack).
AUDIT_MAX_DEPTH = 64


def marker(kind: str) -> str:
    return f"[redacted:{kind}]"


# -- key names ------------------------------------------------------------------------------------

_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

# Word sequences that mark a key as sensitive wherever they appear in it (``user_password_hash``).
_ANYWHERE: dict[tuple[str, ...], str] = {
    ("password",): "secret",
    ("passwords",): "secret",
    ("passwd",): "secret",
    ("passphrase",): "secret",
    ("secret",): "secret",
    ("secrets",): "secret",
    ("apikey",): "secret",
    ("api", "key"): "secret",
    ("private", "key"): "secret",
    ("access", "key"): "secret",
    ("secret", "key"): "secret",
    ("authorization",): "secret",
    ("credentials",): "secret",
    ("ssn",): "ssn",
    ("social", "security"): "ssn",
    ("cvv",): "cvv",
    ("cvc",): "cvv",
    ("cvv2",): "cvv",
    ("card", "number"): "card",
    ("card", "no"): "card",
    ("card", "num"): "card",
    ("cardnumber",): "card",
    ("credit", "card"): "card",
    ("iban",): "iban",
    ("account", "number"): "account",
    ("account", "no"): "account",
    ("bank", "account"): "account",
    ("routing", "number"): "account",
    ("routing", "no"): "account",
    ("sort", "code"): "account",
    ("date", "of", "birth"): "personal",
    ("tax", "id"): "personal",
}
# Words that are sensitive only as the key's last word: ``refresh_token`` but not ``token_count``,
# ``card`` but not ``card_type``.
_AT_END: dict[str, str] = {
    "token": "secret",
    "pwd": "secret",
    "pw": "secret",
    "cookie": "secret",
    "auth": "secret",
    "card": "card",
    "pan": "card",
    "pin": "card",
    "dob": "personal",
}
_WHOLE_KEY: dict[str, str] = {"pass": "secret"}


def key_kind(key: object) -> str | None:
    """The kind of secret a key holds (``"secret"``, ``"card"``, …), or None for an ordinary key."""
    return _key_kind(str(key))


@functools.lru_cache(maxsize=4096)  # documents repeat their keys: each name is split once
def _key_kind(key: str) -> str | None:
    words = tuple(w.lower() for w in _WORDS.findall(key))
    if not words:
        return None
    if len(words) == 1 and words[0] in _WHOLE_KEY:
        return _WHOLE_KEY[words[0]]
    for size in (3, 2, 1):
        for start in range(len(words) - size + 1):
            kind = _ANYWHERE.get(words[start : start + size])
            if kind is not None:
                return kind
    return _AT_END.get(words[-1])


# -- value patterns -------------------------------------------------------------------------------

_CARD = re.compile(r"(?<![\w.,])\d(?:[ -]?\d){12,18}(?![\w]|[.,]\d)")
_SSN = re.compile(r"(?<![\w-])(\d{3})-(\d{2})-(\d{4})(?![\w-])")
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})(\d{2})(?=[ ]?[A-Za-z0-9])")
_BEARER = re.compile(r"(?i)\b(bearer)(\s+)([A-Za-z0-9\-._~+/]{16,}=*)")
_API_KEYS = re.compile(
    r"\b(?:sk|pk|rk)-(?:live-|test-|proj-)?[A-Za-z0-9_\-]{8,}"  # OpenAI / Stripe style
    r"|\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{8,}"
    r"|\bgh[pousr]_[A-Za-z0-9]{20,}"  # GitHub
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}"  # Slack
    r"|\bAKIA[0-9A-Z]{16}\b"  # AWS access key id
    r"|\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"  # a JWT
)
# ``password=hunter2``, ``"api_key": "abc"``, ``Authorization: Basic …`` inside free text: the key
# is judged by ``key_kind``, the value runs to the next space, quote or separator.
_PAIR_KEY = re.compile(r"""(?<![A-Za-z0-9_-])([A-Za-z][A-Za-z0-9_-]{1,40})["']?\s*[:=]\s*["']?""")
# A value stops at a space, a quote, a closing bracket, "&next=" (a query string) or ", "/"; "
# (a list); a password such as "Tr0ub4dor&3-horse,x" stays whole.
_PAIR_VALUE = re.compile(r"""(?:[^\s"'&,;}\]]|&(?![\w.-]+=)|[,;](?=[^\s"'])(?![\w.-]+=)){1,512}""")
_SCHEMES = {"bearer", "basic", "token", "digest"}

# IBAN length per country (ISO 13616 registry).
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        n = int(char)
        if index % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _card_network(digits: str) -> bool:
    """Does the number start like a payment card (Visa, Mastercard, Amex, Discover, JCB, Diners,
    UnionPay, Maestro)? Numbers starting 0, 1, 7, 8, 9 (most ids) are never cards."""
    first = digits[0]
    if first == "4":
        return True
    if first == "5":
        return True  # Mastercard 51-55, Maestro 50, 56-59
    if first == "6":
        return True  # Discover, UnionPay, Maestro
    if first == "3":
        return digits[:2] in {"30", "34", "35", "36", "37", "38", "39"}
    if first == "2":
        return 2221 <= int(digits[:4]) <= 2720  # Mastercard's 2-series
    return False


def _is_card(text: str) -> bool:
    digits = text.replace(" ", "").replace("-", "")
    if not 13 <= len(digits) <= 19 or not _card_network(digits) or not luhn_ok(digits):
        return False
    groups = [len(g) for g in re.split(r"[ -]", text)]
    if len(groups) == 1:
        return True
    # Printed cards are grouped 4-4-4-4(-3), 4-6-5 (Amex) or 4-6-4 (Diners); a run of numbers
    # separated at random (a list of quantities) is not a card.
    if groups in ([4, 6, 5], [4, 6, 4]):
        return True
    return len(groups) >= 4 and all(g == 4 for g in groups[:-1]) and 1 <= groups[-1] <= 4


def _card_end(text: str) -> int:
    """How much of a run of digits (and single spaces or dashes) is a card number: the whole run,
    or its longest leading groups (``4111 1111 1111 1111 12`` is a card followed by a 12); 0: none."""
    if _is_card(text):
        return len(text)
    cuts = [m.start() for m in re.finditer(r"[ -]", text)]
    for cut in reversed(cuts):
        if _is_card(text[:cut]):
            return cut
    return 0


def _is_ssn(area: str, group: str, serial: str) -> bool:
    return area not in {"000", "666"} and area[0] != "9" and group != "00" and serial != "0000"


def iban_ok(candidate: str) -> bool:
    iban = candidate.replace(" ", "").upper()
    if _IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban[2:4].isdigit() or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def _iban_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for start in _IBAN_START.finditer(text):
        country = start.group(1).upper()
        length = _IBAN_LENGTHS.get(country)
        if length is None:
            continue
        # Walk the alphanumerics after the check digits, allowing single spaces between groups,
        # and try the one cut that gives this country's length.
        position, count = start.end(), 4
        while position < len(text) and count < length:
            char = text[position]
            if char.isalnum() and char.isascii():
                count += 1
            elif not (char == " " and position + 1 < len(text) and text[position + 1].isalnum()):
                break
            position += 1
        if count != length or (position < len(text) and text[position].isalnum()):
            continue
        if iban_ok(text[start.start() : position]):
            spans.append((start.start(), position))
    return spans


Piece = tuple[str, str]  # (marker, the raw text it replaced)


Span = tuple[int, int, str]  # (start, end, kind) in the original text


_DIGIT = re.compile(r"\d")
# One cheap search before the token patterns: what every one of them starts with.
_TOKEN_HINT = re.compile(r"(?i:bearer)|[spr]k[-_]|gh[pousr]_|xox[abprs]-|AKIA|eyJ")
_SHORTEST_NUMBER = 11  # an SSN; IBANs (15+) and cards (13+) are longer


def _pattern_spans(text: str) -> Iterator[Span]:
    if len(text) >= _SHORTEST_NUMBER and _DIGIT.search(text):  # most short strings skip this
        for start, end in _iban_spans(text):
            yield start, end, "iban"
        for match in _CARD.finditer(text):
            length = _card_end(match.group())
            if length:
                yield match.start(), match.start() + length, "card"
        for match in _SSN.finditer(text):
            if _is_ssn(*match.groups()):
                yield match.start(), match.end(), "ssn"
    if _TOKEN_HINT.search(text) is None:
        return
    for match in _BEARER.finditer(text):
        yield match.start(3), match.end(3), "token"
    for match in _API_KEYS.finditer(text):
        yield match.start(), match.end(), "secret"


_SCHEME_CREDENTIAL = re.compile(r"\s+" + _PAIR_VALUE.pattern)


def _pair_spans(text: str) -> Iterator[Span]:
    if ":" not in text and "=" not in text:
        return
    for match in _PAIR_KEY.finditer(text):
        kind = key_kind(match.group(1))
        if kind is None or MARKER.match(text, match.end()):
            continue
        value = _PAIR_VALUE.match(text, match.end())
        if value is None:
            continue
        start, end = value.start(), value.end()
        if value.group().lower() in _SCHEMES:  # "Basic dXNlcjpw...": the credential follows the scheme
            credential = _SCHEME_CREDENTIAL.match(text, end)
            end = credential.end() if credential else end
        already = MARKER.search(text, start)
        if already is not None and already.start() < end:
            # "Bearer [redacted:token]" was masked before: stop at the marker (and keep the scheme)
            before = text[start : already.start()]
            end = start if before.strip().lower() in _SCHEMES else already.start()
        if end > start:
            yield start, end, kind


def _mask_text(text: str, pieces: list[Piece] | None = None) -> str:
    """``text`` with every sensitive value pattern replaced by its marker (in place, in order);
    ``pieces`` collects each (marker, raw text) pair, for ``restore_masked``."""
    found: list[Span] = []  # kept sorted and non-overlapping
    for span in itertools.chain(_pattern_spans(text), _pair_spans(text)):
        at = bisect.bisect_left(found, span)
        if (at > 0 and found[at - 1][1] > span[0]) or (at < len(found) and found[at][0] < span[1]):
            continue  # overlaps a span found earlier: the first finder wins
        found.insert(at, span)
    if not found:
        return text
    out: list[str] = []
    cursor = 0
    for start, end, kind in found:
        out.append(text[cursor:start])
        out.append(marker(kind))
        if pieces is not None:
            pieces.append((marker(kind), text[start:end]))
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


def mask_text(text: str) -> str:
    """A free-text string with sensitive values (cards, SSNs, IBANs, tokens) masked in place."""
    return _mask_text(text)


# -- documents ------------------------------------------------------------------------------------


def _whole(value: Any, kind: str) -> Any:
    if value is None or value == "" or isinstance(value, bool):
        return value  # nothing to hide (and nothing a reviewer would have to restore)
    if isinstance(value, str) and MARKER.fullmatch(value):
        return value  # already masked: masking is idempotent
    return marker(kind)


def mask(value: Any) -> Any:
    """A masked deep copy of a JSON-like document (by key name and by value pattern)."""
    return _walk(value, 0, max_depth=AUDIT_MAX_DEPTH, max_text=None, max_items=None)


def redact(value: Any) -> Any:
    """What a model may read: ``mask`` plus cuts (depth, long text, long lists)."""
    return _walk(value, 0, max_depth=MODEL_MAX_DEPTH, max_text=MODEL_MAX_TEXT, max_items=MODEL_MAX_ITEMS)


def _walk(value: Any, depth: int, *, max_depth: int, max_text: int | None, max_items: int | None) -> Any:
    if depth > max_depth:
        return "[truncated]" if max_text is not None else marker("deep")
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            kind = key_kind(key)
            out[str(key)] = (
                _whole(item, kind)
                if kind is not None
                else _walk(item, depth + 1, max_depth=max_depth, max_text=max_text, max_items=max_items)
            )
        return out
    if isinstance(value, list | tuple):
        items = value if max_items is None else value[:max_items]
        return [
            _walk(item, depth + 1, max_depth=max_depth, max_text=max_text, max_items=max_items)
            for item in items
        ]
    return _leaf(value, max_text)


def _leaf(value: Any, max_text: int | None) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 10**12 and _is_card(str(value)):
        return marker("card")  # a card number sent as a JSON number
    if not isinstance(value, str):
        return value
    text = _mask_text(value)
    if max_text is not None and len(text) > max_text:
        return text[:max_text] + "…[truncated]"
    return text


def _text(value: str | None) -> str | None:
    return None if value is None else _mask_text(value)


def mask_decision_record(record: DecisionRecord) -> DecisionRecord:
    """A copy of the audit record with every secret and sensitive identifier masked."""
    decision = record.decision
    masked_decision = decision.model_copy(
        update={
            "calls": [call.model_copy(update={"input": mask(call.input)}) for call in decision.calls],
            "reason": _mask_text(decision.reason),
            "tool_calls": [
                tool.model_copy(update={"arguments": mask(tool.arguments), "result": _mask_text(tool.result)})
                for tool in decision.tool_calls
            ],
            "fallback_reason": _text(decision.fallback_reason),
        }
    )
    return record.model_copy(
        update={
            "inputs": mask(record.inputs),
            "decision": masked_decision,
            "error": _text(record.error),
            "guardrail": _text(record.guardrail),
        }
    )


def mask_review_item(item: ReviewItem) -> ReviewItem:
    """A copy of the review item as reviewers and the table may see it (the task token stays)."""
    return item.model_copy(
        update={
            "title": _mask_text(item.title),
            "reason": _mask_text(item.reason),
            "findings": [_mask_text(finding) for finding in item.findings],
            "payload": mask(item.payload),
            "resolution_note": _text(item.resolution_note),
            "resolution_payload": None if item.resolution_payload is None else mask(item.resolution_payload),
        }
    )


# -- restoring what a reviewer did not change -----------------------------------------------------

_MISSING = object()


def contains_marker(value: Any) -> bool:
    if isinstance(value, str):
        return MARKER.search(value) is not None
    if isinstance(value, dict):
        return any(contains_marker(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_marker(v) for v in value)
    return False


def restore_masked(edited: Any, original: Any) -> Any:
    """``edited`` with every mask marker replaced by ``original``'s value at the same path.

    A reviewer approves a masked document, possibly edited; what they did not touch still reads
    ``[redacted:…]``. The result is what actually runs: their edits, and the real values where
    they left a marker. A marker at a path where the original holds no masked value is an
    ``InvalidInputError`` naming the path (nothing to put back: the reviewer must type a value).
    Paths are keys and list positions: a reviewer who deletes a list entry shifts the ones after it.
    """
    return _restore(edited, original, "$", None, masked=False)


def check_restorable(edited: Any, masked: Any) -> None:
    """Would ``restore_masked(edited, original)`` succeed, knowing only ``masked = mask(original)``?

    For a resolver that holds the masked item but not the original (which lives elsewhere and is
    restored later): every marker must sit where the masked document shows that same marker.
    Raises the same ``InvalidInputError`` as ``restore_masked``.
    """
    _restore(edited, masked, "$", None, masked=True)


def _restore(edited: Any, original: Any, path: str, key: str | None, *, masked: bool) -> Any:
    if isinstance(edited, dict):
        source = original if isinstance(original, dict) else {}
        return {
            k: _restore(v, source.get(k, _MISSING), f"{path}.{k}", k, masked=masked)
            for k, v in edited.items()
        }
    if isinstance(edited, list):
        items = original if isinstance(original, list) else []
        return [
            _restore(v, items[i] if i < len(items) else _MISSING, f"{path}[{i}]", None, masked=masked)
            for i, v in enumerate(edited)
        ]
    if not isinstance(edited, str) or not MARKER.search(edited):
        return edited
    if original is _MISSING or original is None:
        raise InvalidInputError(
            f"{path} holds a mask ({edited[:60]!r}) but the original has no value there: "
            "type the value instead of the mask",
            details={"path": path},
        )
    kind = key_kind(key) if key is not None else None
    whole = MARKER.fullmatch(edited) is not None
    if masked:
        pieces: list[Piece] = (
            [(found, found) for found in MARKER.findall(original)] if isinstance(original, str) else []
        )
    elif whole and (kind is not None or not isinstance(original, str) or edited == marker("deep")):
        return copy.deepcopy(original)  # the whole value was masked: put it back as it was
    elif not isinstance(original, str):
        raise InvalidInputError(
            f"{path} mixes a mask with other text, but the original value there is not text",
            details={"path": path},
        )
    elif kind is not None:
        pieces = [(marker(kind), original)]
    else:
        pieces = []
        _mask_text(original, pieces)
    return MARKER.sub(_take_piece(pieces, path), edited)


def _take_piece(pieces: list[Piece], path: str) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        wanted = match.group()
        for index, (mark, raw) in enumerate(pieces):
            if wanted in (mark, "[redacted]"):  # the old unkinded marker takes any piece
                del pieces[index]
                return raw
        raise InvalidInputError(
            f"{path} holds {wanted!r} but the original has no such masked value there: "
            "type the value instead of the mask",
            details={"path": path},
        )

    return replace
