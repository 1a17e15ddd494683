"""Hostile HTTP requests for the API handler, as hypothesis strategies (shared by tests and bench).

Each ``HostileRequest`` is a body or header case and, where a rule decides the answer on its
own, the status that rule demands (``expect``); otherwise any non-5xx answer is acceptable.
Bodies are signed correctly when the point is a check after authentication, and headers are
garbled when the point is authentication itself.

Accepted events carry spam-lead data, which the policy ignores without a Tray run: a Unicode id
must get through the API layer, but the Tray trigger's ``Idempotency-Key`` header (the ledger's
business, being replaced) cannot carry non-ASCII yet.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3
from hypothesis import strategies as st

from tray_agent.data.schema import ALL_TABLES
from tray_agent.domain.auth import sign
from tray_local.apigw import HttpAnswer, LambdaContext, http_api_event
from tray_local.local_env import LOCAL_REVIEWER_TOKEN, LOCAL_SIGNING_SECRET

SPAM = {"email": "win@mailinator.com", "company": "Free Money"}  # ignored by the policy: no Tray run
MAX_DEPTH = 32
OCCURRED_AT = "2026-01-05T10:00:00+00:00"


@dataclass(frozen=True)
class HostileRequest:
    kind: str
    body: bytes | str  # str only for text that has no UTF-8 bytes (a lone surrogate character)
    method: str = "POST"
    path: str = "/events"
    signed: bool = True  # a correct HMAC signature and the reviewer's token
    headers: dict[str, str] = field(default_factory=dict)  # applied over the signed ones
    stage: str = "$default"
    base64: bool = False
    expect: int | None = None  # the status a rule demands; None: any answer below 500


def send(env: Any, request: HostileRequest) -> HttpAnswer:
    """Through the real handler (``LocalEnvironment.api`` when the body has bytes to sign)."""
    if isinstance(request.body, bytes) and not request.base64:
        return env.api(
            request.method,
            request.path,
            request.body,
            headers=request.headers,
            auth=request.signed,
            stage=request.stage,
        )
    from tray_agent.handlers import api

    raw = request.body if isinstance(request.body, bytes) else b""
    headers = {**(credentials(raw) if request.signed else {}), **request.headers}
    event = http_api_event(request.method, request.path, headers=headers, stage=request.stage)
    if request.base64:
        event.update(body=base64.b64encode(raw).decode(), isBase64Encoded=True)
    else:
        event["body"] = request.body
    env.api("GET", "/health")  # the container's init, as LocalEnvironment.api does it
    return HttpAnswer.from_proxy_result(api.handler(event, LambdaContext()))


class HostileRun:
    """Sends hostile requests one after another and keeps the score.

    Tables are counted after every request; that count is the next request's "before" (nothing
    else writes between two requests of one run), so each request costs one count, not two.
    """

    def __init__(self, env: Any) -> None:
        self.env = env
        self.tried = 0
        self.server_errors = 0
        self._counts: dict[str, int] | None = None

    def check(self, request: HostileRequest) -> list[str]:
        """Send one request; the problems found (empty when the API behaved)."""
        before = self._counts if self._counts is not None else stored_items(self.env.settings)
        self.tried += 1
        try:
            answer: HttpAnswer | None = send(self.env, request)
        except Exception as exc:
            answer, crash = None, repr(exc)[:200]
        self._counts = stored_items(self.env.settings)
        if answer is None or answer.status >= 500:
            self.server_errors += 1
            got = crash if answer is None else f"{answer.status} {answer.body}"
            return [f"{request.kind}: server error {got}"]
        problems = []
        if request.expect is not None and answer.status != request.expect:
            problems.append(f"{request.kind}: expected {request.expect}, got {answer.status} {answer.body}")
        if answer.status >= 400:
            if not (isinstance(answer.body, dict) and answer.body.get("error")):
                problems.append(f"{request.kind}: {answer.status} without a named error: {answer.body}")
            if self._counts != before:
                problems.append(f"{request.kind}: refused ({answer.status}) yet stored something")
        return problems


def credentials(body: bytes) -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
    return {
        "X-Tray-Agent-Timestamp": timestamp,
        "X-Tray-Agent-Nonce": nonce,
        "X-Tray-Agent-Signature": sign(LOCAL_SIGNING_SECRET, timestamp, nonce, body),
        "Authorization": f"Bearer {LOCAL_REVIEWER_TOKEN}",
    }


def stored_items(settings: Any) -> dict[str, int]:
    """Items in every table, except the replay guard's nonces (authentication's own record)."""
    dynamodb = boto3.client("dynamodb")
    counts: dict[str, int] = {}
    for spec in ALL_TABLES:
        name = getattr(settings, spec.settings_field)
        scan: dict[str, Any] = {"TableName": name, "Select": "COUNT"}
        if spec.partition_key == "pk":
            scan.update(
                FilterExpression="NOT begins_with(pk, :nonce)",
                ExpressionAttributeValues={":nonce": {"S": "nonce#"}},
            )
        total = 0
        while True:
            page = dynamodb.scan(**scan)
            total += int(page["Count"])
            if "LastEvaluatedKey" not in page:
                break
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        counts[name] = total
    return counts


# -- building blocks ------------------------------------------------------------------------------

event_ids = st.uuids().map(lambda u: f"hostile-{u}")
json_scalars = st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars | st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def event(event_id: str, data: Any = None, **fields: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "lead.created",
        "source": "hostile-suite",
        "occurred_at": OCCURRED_AT,
        "data": SPAM if data is None else data,
        **fields,
    }


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


def _with_raw(event_id: str, raw_value: str, key: str = "n") -> bytes:
    """An event whose ``data[key]`` is ``raw_value`` verbatim (text json.dumps would not write)."""
    text = json.dumps(event(event_id, data={**SPAM, key: "RAW-VALUE"}))
    return text.replace('"RAW-VALUE"', raw_value).encode()


# -- body cases (signed correctly: the checks after authentication) ------------------------------


@st.composite
def deep_nesting(draw: st.DrawFn) -> HostileRequest:
    levels = draw(st.integers(1, 40) | st.integers(41, 5000))
    pattern = draw(st.text(alphabet="[{", min_size=1, max_size=4))
    openers = (pattern * (levels // len(pattern) + 1))[:levels]
    closers = "".join("]" if c == "[" else "}" for c in reversed(openers))
    nest = "".join('{"k":' if c == "{" else "[" for c in openers) + "1" + closers
    total = 2 + levels  # the body's object, then data's
    return HostileRequest(
        "deep nesting", _with_raw(draw(event_ids), nest), expect=422 if total > MAX_DEPTH else 202
    )


@st.composite
def odd_numbers(draw: st.DrawFn) -> HostileRequest:
    choice = draw(st.sampled_from(["int", "float", "constant"]))
    if choice == "int":
        digits = draw(st.integers(1, 45) | st.integers(4000, 6000))
        literal = draw(st.sampled_from(["", "-"])) + "9" * digits
        expect: int | None = 422 if digits > 38 else 202
    elif choice == "float":
        mantissa = draw(st.integers(1, 60))
        exponent = draw(st.integers(-600, 600))
        literal = f"{draw(st.sampled_from(['', '-']))}1.{'3' * mantissa}e{exponent}"
        # Clear-cut cases only; the boundary cases are in the focused tests.
        expect = 422 if mantissa + 1 > 38 or abs(exponent) > 135 else (202 if abs(exponent) < 120 else None)
    else:
        literal, expect = draw(st.sampled_from(["NaN", "Infinity", "-Infinity"])), 422
    return HostileRequest("odd number", _with_raw(draw(event_ids), literal), expect=expect)


@st.composite
def lone_surrogates(draw: st.DrawFn) -> HostileRequest:
    surrogate = f"\\u{draw(st.integers(0xD800, 0xDFFF)):04x}"
    where = draw(st.sampled_from(["value", "key", "id", "type"]))
    text = json.dumps(event("SURROGATE-ID" if where == "id" else draw(event_ids), data={**SPAM, "v": "x"}))
    text = {
        "value": lambda t: t.replace('"v": "x"', f'"v": "a{surrogate}b"'),
        "key": lambda t: t.replace('"v": "x"', f'"a{surrogate}": "x"'),
        "id": lambda t: t.replace("SURROGATE-ID", f"evt-{surrogate}z"),
        "type": lambda t: t.replace('"lead.created"', f'"lead{surrogate}"'),
    }[where](text)
    return HostileRequest(f"lone surrogate in {where}", text.encode(), expect=422)


@st.composite
def lone_surrogate_text(draw: st.DrawFn) -> HostileRequest:
    """Text bodies with a surrogate *character* (not an escape): no bytes exist for them."""
    char = chr(draw(st.integers(0xD800, 0xDFFF)))
    body = json.dumps(event(draw(event_ids))).replace("Free Money", f"Free{char}Money")
    return HostileRequest("lone surrogate character", body, expect=400)


@st.composite
def invalid_utf8(draw: st.DrawFn) -> HostileRequest:
    body = _dumps(event(draw(event_ids)))
    bad = draw(
        st.sampled_from([b"\xff", b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\xf8\x88\x80"])
    )
    at = draw(st.integers(0, len(body)))
    return HostileRequest(
        "invalid UTF-8", body[:at] + bad + body[at:], base64=draw(st.booleans()), expect=400
    )


@st.composite
def not_an_object(draw: st.DrawFn) -> HostileRequest:
    value = draw(st.lists(json_values, max_size=5) | json_scalars)
    return HostileRequest("top-level array or scalar", _dumps(value), expect=422)


@st.composite
def unicode_ids(draw: st.DrawFn) -> HostileRequest:
    text = draw(st.text(st.characters(exclude_categories=["Cs"]), min_size=0, max_size=300))
    field_name = draw(st.sampled_from(["id", "customer_id"]))
    suffix = f"-{draw(st.uuids()).hex[:8]}" if field_name == "id" and text.strip() else ""
    value = text + suffix
    # A lead the policy sends to Tray (unique, so no content duplicate): the id travels all the way.
    lead = {"email": "ann@smallco.io", "company": f"Co {draw(st.uuids()).hex[:12]}", "employees": 12}
    body = event(draw(event_ids), lead, **{field_name: value})
    plain = value == value.strip() and not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in value)
    expect = 202 if plain and 1 <= len(value) <= 256 else (422 if len(value.strip()) > 256 else None)
    return HostileRequest(f"unicode {field_name}", _dumps(body), expect=expect)


@st.composite
def broken_fields(draw: st.DrawFn) -> HostileRequest:
    body = event(draw(event_ids))
    name = draw(st.sampled_from([*body, "customer_id", "unexpected"]))
    if draw(st.booleans()) and name in body:
        del body[name]
    else:
        body[name] = draw(json_values)
    return HostileRequest(f"broken field {name}", _dumps(body))


@st.composite
def duplicate_keys(draw: st.DrawFn) -> HostileRequest:
    key = draw(st.sampled_from(["id", "type", "data", "email"]))
    text = json.dumps(event(draw(event_ids)))
    duplicate = f'"{key}": {json.dumps(draw(json_scalars))}, '
    text = text.replace('"email"', duplicate + '"email"', 1) if key == "email" else "{" + duplicate + text[1:]
    return HostileRequest(f"duplicate key {key}", text.encode(), expect=422)


@st.composite
def oversize(draw: st.DrawFn, limit: int) -> HostileRequest:
    filler = draw(st.sampled_from(["x", "é", "😀"]))  # 1, 2 and 4 bytes a character
    over = draw(st.integers(1, 4096))
    body = _dumps(event(draw(event_ids), data={**SPAM, "note": ""}))
    padding = (limit - len(body) + over) // len(filler.encode()) + 1
    text = json.dumps(event(draw(event_ids), data={**SPAM, "note": filler * padding}), ensure_ascii=False)
    return HostileRequest("oversize", text.encode(), base64=draw(st.booleans()), expect=413)


@st.composite
def garbage_bodies(draw: st.DrawFn) -> HostileRequest:
    body = draw(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
    return HostileRequest("garbage body", body, base64=draw(st.booleans()))


@st.composite
def review_bodies(draw: st.DrawFn, limit: int) -> HostileRequest:
    """The same hostile bodies on the review routes (of reviews that do not exist)."""
    inner = draw(body_cases(limit, reviews=False))
    action = draw(st.sampled_from(["approve", "reject"]))
    path = f"/reviews/{draw(st.uuids())}/{action}"
    return HostileRequest(f"{inner.kind} on {action}", inner.body, path=path, base64=inner.base64)


def body_cases(limit: int, *, reviews: bool = True) -> st.SearchStrategy[HostileRequest]:
    cases = [
        deep_nesting(),
        odd_numbers(),
        lone_surrogates(),
        lone_surrogate_text(),
        invalid_utf8(),
        not_an_object(),
        unicode_ids(),
        broken_fields(),
        duplicate_keys(),
        garbage_bodies(),
    ]
    strategy = st.one_of(*cases)
    # Oversize bodies are costly to build: about one case in twenty.
    weighted = st.one_of(strategy, strategy, strategy, strategy, strategy, strategy, oversize(limit))
    return st.one_of(weighted, review_bodies(limit)) if reviews else weighted


# -- header cases (authentication refuses them: 401) ----------------------------------------------

any_text = st.text(max_size=80)  # control characters, surrogates, emoji, RTL marks ...
protected = st.sampled_from(
    [
        ("POST", "/events"),
        ("GET", "/reviews"),
        ("GET", "/decisions/d-1"),
        ("GET", "/customers/c-1/decisions"),
        ("POST", "/reviews/r-1/approve"),
        ("POST", "/reviews/r-1/reject"),
    ]
)


@st.composite
def header_cases(draw: st.DrawFn) -> HostileRequest:
    method, path = draw(protected)
    body = _dumps(event(draw(event_ids)))
    stage = draw(st.sampled_from(["$default", "prod", "v1"]))
    style = draw(st.sampled_from(["garbage", "one garbled", "signed sender on reviewer route"]))
    if style == "garbage":
        names = ["X-Tray-Agent-Timestamp", "X-Tray-Agent-Nonce", "X-Tray-Agent-Signature", "Authorization"]
        headers = draw(
            st.dictionaries(st.sampled_from(names), any_text | st.binary(max_size=40).map(_latin1))
        )
        return HostileRequest("garbage credentials", body, method, path, False, headers, stage, expect=401)
    valid = credentials(body)
    if style == "one garbled":
        name = draw(st.sampled_from(sorted(valid)))
        forged = draw(any_text.filter(lambda v, n=name: v != valid[n]))  # type: ignore[misc]
        headers = {k: v for k, v in valid.items() if k != "Authorization" or name == "Authorization"}
        headers[name] = forged
        if name == "Authorization":  # the signature may still vouch for the sender on sender routes
            method, path = draw(st.sampled_from([("GET", "/reviews"), ("POST", "/reviews/r-1/approve")]))
        return HostileRequest(f"garbled {name}", body, method, path, False, headers, stage, expect=401)
    del valid["Authorization"]
    reviewer_path = draw(st.sampled_from(["/reviews", "/reviews/r-1/approve", "/reviews/r-1/reject"]))
    method = "GET" if reviewer_path == "/reviews" else "POST"
    return HostileRequest(
        "sender on reviewer route", body, method, reviewer_path, False, valid, stage, expect=401
    )


def _latin1(raw: bytes) -> str:
    return raw.decode("latin-1")  # what a raw header byte string looks like once decoded
