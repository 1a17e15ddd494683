"""Bounded input: what the API refuses before anything acts on a request.

Two steps, in the handler's order:

1. ``request_body`` (before authentication, cheap): the body as bytes, base64 decoded, refused
   over ``Settings.max_body_bytes`` *bytes* (413) or when it cannot be bytes at all (400).
2. ``check_json_body`` (after authentication, before routing, validation or storage): a
   non-empty body must be UTF-8 (400), JSON (400), an object (422), at most ``MAX_DEPTH`` levels
   deep (Tray's Data Storage limit), with numbers DynamoDB can hold, no lone surrogates and no
   duplicate keys (422, naming the field's path).

Numbers are checked on their text while parsing, so a 5,000-digit integer never reaches
Python's ``int`` (whose digit limit raises ``ValueError``) and a deep array never recurses past
``MAX_DEPTH`` in our own code. Stdlib only: this runs on every cold start.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from tray_agent.errors import MalformedJsonError, NotUtf8Error, PayloadTooLargeError, UnacceptableJsonError

MAX_DEPTH = 32  # Tray Data Storage refuses deeper values; nothing we accept should be unstorable there
DYNAMODB_MAX_DIGITS = 38
DYNAMODB_MAX_MAGNITUDE = Decimal("9.9999999999999999999999999999999999999E+125")
DYNAMODB_MIN_MAGNITUDE = Decimal("1E-130")
_SHOWN_KEY_CHARS = 64  # a path names a key, it does not echo a megabyte of it back

_SURROGATE = re.compile("[\ud800-\udfff]")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_DEPTH_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},:]')


def request_body(event: dict[str, Any], limit: int) -> bytes:
    """The request body as the sender sent it (base64 decoded), at most ``limit`` bytes."""
    body = event.get("body") or ""
    too_large = PayloadTooLargeError(
        f"request body exceeds the {limit} byte limit", details={"limit_bytes": limit}
    )
    if not isinstance(body, str):
        raise MalformedJsonError("the request body is not text")
    if event.get("isBase64Encoded"):
        if len(body) > 4 * (limit // 3 + 1):  # decoding cannot make it fit: refuse before decoding
            raise too_large
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedJsonError("the request body is not valid base64") from None
    else:
        if len(body) > limit:  # every character is at least one byte
            raise too_large
        try:
            raw = body.encode()
        except UnicodeEncodeError as exc:  # a lone surrogate in the event's text: no bytes to sign or parse
            raise NotUtf8Error(
                f"the request body is not valid UTF-8 (lone surrogate at character {exc.start})",
                details={"offset": exc.start},
            ) from None
    if len(raw) > limit:
        raise too_large
    return raw


def check_json_body(raw: bytes, content_type: str | None = None) -> None:
    """Refuse a non-empty body that is not a JSON object we can store and forward.

    A body declared as something other than JSON (a form, multipart) is refused before any
    parser sees it; ``null`` is no body, as for the routes whose body is optional.
    """
    if not raw:
        return
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type and media_type != "application/json" and not media_type.endswith("+json"):
        raise MalformedJsonError(
            f"the request body must be application/json, not {media_type[:64]}",
            details={"content_type": media_type[:64]},
        )
    try:
        text = raw.decode()
    except UnicodeDecodeError as exc:
        raise NotUtf8Error(
            f"the request body is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            details={"offset": exc.start},
        ) from None
    try:
        value = json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
            object_pairs_hook=_object,
        )
    except RecursionError:  # far deeper than MAX_DEPTH: the parser gave up first
        path = _deep_path(text)
        raise _too_deep(path) from None
    except json.JSONDecodeError as exc:
        raise MalformedJsonError(
            "the request body is not valid JSON",
            details={"problem": exc.msg, "line": exc.lineno, "column": exc.colno},
        ) from None
    if value is None:
        return
    if not isinstance(value, dict):
        kind = "an array" if isinstance(value, list) else "a scalar"
        raise UnacceptableJsonError(
            f"body: the request body must be a JSON object, not {kind}", details={"path": "body"}
        )
    _check_tree(value)


class _BadNumber:
    """A number DynamoDB cannot hold, kept as a marker until the walk can name its path."""

    def __init__(self, problem: str) -> None:
        self.problem = problem


class _DuplicateKeys(dict[str, Any]):
    def __init__(self, pairs: list[tuple[str, Any]], duplicate: str) -> None:
        super().__init__(pairs)
        self.duplicate = duplicate


def _parse_int(text: str) -> int | _BadNumber:
    digits = len(text) - text.startswith("-")
    if digits > DYNAMODB_MAX_DIGITS:  # checked on the text: int() of 5,000 digits raises ValueError
        return _BadNumber(f"an integer of {digits} digits (at most {DYNAMODB_MAX_DIGITS} can be stored)")
    return int(text)


def _parse_float(text: str) -> float | _BadNumber:
    try:
        number = Decimal(text)  # exact, whatever the exponent: no overflow to inf, no rounding
    except InvalidOperation:  # pragma: no cover - the JSON grammar only hands over valid numbers
        return _BadNumber("not a number")
    if number.is_zero():
        return float(text)
    digits = "".join(map(str, number.as_tuple().digits)).strip("0")
    if len(digits) > DYNAMODB_MAX_DIGITS:
        return _BadNumber(f"{len(digits)} significant digits (at most {DYNAMODB_MAX_DIGITS} can be stored)")
    magnitude = number.copy_abs()  # exact; abs() would round to the context's 28 digits
    if magnitude > DYNAMODB_MAX_MAGNITUDE:
        return _BadNumber("too large: numbers above 9.99e125 cannot be stored")
    if magnitude < DYNAMODB_MIN_MAGNITUDE:
        return _BadNumber("too small: non-zero numbers below 1e-130 cannot be stored")
    return float(text)


def _parse_constant(text: str) -> _BadNumber:
    return _BadNumber(f"{text} is not a JSON number and cannot be stored")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) == len(pairs):
        return value
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return _DuplicateKeys(pairs, key)
        seen.add(key)
    return value  # pragma: no cover - unreachable: fewer keys than pairs means a repeat


def _check_tree(value: dict[str, Any]) -> None:
    # Iterative, so a tree at the depth limit costs no recursion of ours.
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, dict):
            if depth + 1 > MAX_DEPTH:
                raise _too_deep(path)
            if isinstance(node, _DuplicateKeys):
                key_path = _join(path, node.duplicate)
                raise _refuse(key_path, "the key appears more than once in the same object")
            for key, item in node.items():
                if _SURROGATE.search(key):
                    raise _refuse(_join(path, key), "the key contains a lone UTF-16 surrogate")
                stack.append((item, _join(path, key), depth + 1))
        elif isinstance(node, list):
            if depth + 1 > MAX_DEPTH:
                raise _too_deep(path)
            stack.extend((item, _join(path, index), depth + 1) for index, item in enumerate(node))
        elif isinstance(node, str):
            if _SURROGATE.search(node):
                raise _refuse(path, "the text contains a lone UTF-16 surrogate (not valid Unicode)")
        elif isinstance(node, _BadNumber):
            raise _refuse(path, node.problem)


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENTIFIER.fullmatch(key):
        return f"{path}.{key}" if path else key
    shown = key if len(key) <= _SHOWN_KEY_CHARS else key[:_SHOWN_KEY_CHARS] + "…"
    quoted = json.dumps(shown, ensure_ascii=False)
    # A lone surrogate stays an escape: the message must be text that can be written anywhere.
    return f"{path}[{_SURROGATE.sub(_escape, quoted)}]"


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}"


def _refuse(path: str, problem: str) -> UnacceptableJsonError:
    shown = path or "body"
    return UnacceptableJsonError(f"{shown}: {problem}", details={"path": shown, "problem": problem})


def _too_deep(path: str) -> UnacceptableJsonError:
    return _refuse(path, f"nested deeper than {MAX_DEPTH} levels")


def _deep_path(text: str) -> str:
    """The path of the first value nested deeper than MAX_DEPTH, found without recursing."""
    # One entry per open container: the current key of an object or index of an array.
    positions: list[str | int | None] = []
    last_string = ""
    for match in _DEPTH_TOKENS.finditer(text):
        part = match.group()
        if part in "[{":
            if len(positions) == MAX_DEPTH:
                break
            positions.append(0 if part == "[" else None)
        elif part in "]}":
            if positions:
                positions.pop()
        elif part == ",":
            if positions and isinstance(positions[-1], int):
                positions[-1] += 1
        elif part == ":":
            if positions:
                positions[-1] = last_string
        else:
            try:
                last_string = json.loads(part)
            except ValueError:
                last_string = part.strip('"')
    path = ""
    for position in positions:
        path = _join(path, position) if position is not None else path
    return path
