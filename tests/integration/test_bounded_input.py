"""Bounded input through the real API handler: one test per rule, each refusal changes nothing.

Rules (``tray_agent.handlers.request_guard`` and ``tray_agent.domain.auth``): the body limit in
bytes of the decoded body; UTF-8; a JSON object; at most 32 levels; numbers DynamoDB can hold;
no lone surrogates or duplicate keys; Unicode ids within 256 characters; malformed credential
headers are 401; authentication decides on the path the router routes (named stages included).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import boto3
import pytest

from tests.conftest import new_event
from tray_agent.data.schema import ALL_TABLES
from tray_agent.domain.auth import sign
from tray_local.apigw import HttpAnswer, LambdaContext, http_api_event
from tray_local.local_env import LOCAL_SIGNING_SECRET

SPAM = {"email": "win@mailinator.com", "company": "Free Money"}  # decided without any Tray run


def stored_items(env: Any) -> dict[str, int]:
    """Item count of every table, without the replay guard's nonces (written by authentication)."""
    dynamodb = boto3.client("dynamodb")
    counts = {}
    for spec in ALL_TABLES:
        name = getattr(env.settings, spec.settings_field)
        items = dynamodb.scan(TableName=name)["Items"]
        counts[name] = sum(1 for item in items if not item.get("pk", {}).get("S", "").startswith("nonce#"))
    return counts


def signed_headers(body: bytes) -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
    return {
        "x-tray-agent-timestamp": timestamp,
        "x-tray-agent-nonce": nonce,
        "x-tray-agent-signature": sign(LOCAL_SIGNING_SECRET, timestamp, nonce, body),
    }


def call_handler(env: Any, event: dict[str, Any]) -> HttpAnswer:
    """The handler with a hand-built event (base64 bodies, text that has no UTF-8 bytes)."""
    from tray_agent.handlers import api

    env.api("GET", "/health")  # the container's init, as LocalEnvironment.api does it
    return HttpAnswer.from_proxy_result(api.handler(event, LambdaContext()))


def refused(env: Any, expected_status: int, body: Any, **kwargs: Any) -> HttpAnswer:
    before = stored_items(env)
    answer = env.api("POST", "/events", body, **kwargs)
    assert answer.status == expected_status, answer.body
    assert stored_items(env) == before
    return answer


def nested(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = {"k": value}
    return value


# -- size ---------------------------------------------------------------------------------------


def test_the_body_limit_counts_bytes_not_characters(local_env: Any) -> None:
    limit = local_env.settings.max_body_bytes
    # 2-byte characters: fewer characters than the limit, more bytes.
    event = new_event(data={**SPAM, "note": "é" * (limit // 2)})
    text = json.dumps(event, ensure_ascii=False)
    assert len(text) < limit < len(text.encode())
    answer = refused(local_env, 413, text)
    assert answer.body["error"] == "PayloadTooLarge"
    assert f"{limit} byte limit" in answer.body["message"]


def test_a_base64_body_is_measured_after_decoding(local_env: Any) -> None:
    limit = local_env.settings.max_body_bytes
    # Encoded it is longer than the limit; decoded it fits, so it is accepted.
    fits = json.dumps(new_event(data={**SPAM, "note": "x" * (limit - 1000)})).encode()
    assert len(fits) <= limit < len(base64.b64encode(fits))
    event = http_api_event("POST", "/events", headers=signed_headers(fits))
    event.update(body=base64.b64encode(fits).decode(), isBase64Encoded=True)
    assert call_handler(local_env, event).status == 202

    over = json.dumps(new_event(data={**SPAM, "note": "x" * limit})).encode()
    event = http_api_event("POST", "/events", headers=signed_headers(over))
    event.update(body=base64.b64encode(over).decode(), isBase64Encoded=True)
    before = stored_items(local_env)
    answer = call_handler(local_env, event)
    assert answer.status == 413
    assert stored_items(local_env) == before


def test_broken_base64_is_400(local_env: Any) -> None:
    event = http_api_event("POST", "/events", headers=signed_headers(b""))
    event.update(body="not*base64!", isBase64Encoded=True)
    answer = call_handler(local_env, event)
    assert answer.status == 400
    assert "base64" in answer.body["message"]


# -- encoding and JSON shape --------------------------------------------------------------------


def test_invalid_utf8_is_400_naming_the_byte(local_env: Any) -> None:
    body = json.dumps(new_event()).encode().replace(b"SmallCo", b"Small\xffCo")
    answer = refused(local_env, 400, body)
    assert answer.body["error"] == "NotUtf8"
    assert "0xff" in answer.body["message"]
    assert answer.body["details"]["offset"] == body.index(b"\xff")


def test_text_with_a_lone_surrogate_character_is_400_not_500(local_env: Any) -> None:
    # The event's body is text that has no UTF-8 bytes at all (not even to check a signature).
    event = http_api_event("POST", "/events", headers=signed_headers(b""))
    event["body"] = '{"id": "\ud800"}'
    answer = call_handler(local_env, event)
    assert answer.status == 400
    assert answer.body["error"] == "NotUtf8"


@pytest.mark.parametrize(
    ("body", "kind"), [("[1, 2]", "an array"), ('"text"', "a scalar"), ("42", "a scalar")]
)
def test_a_top_level_array_or_scalar_is_422(local_env: Any, body: str, kind: str) -> None:
    answer = refused(local_env, 422, body)
    assert answer.body["message"] == f"body: the request body must be a JSON object, not {kind}"


def test_malformed_json_is_400_with_where(local_env: Any) -> None:
    answer = refused(local_env, 400, '{"id": "x",, }')
    assert answer.body["error"] == "MalformedJson"
    assert answer.body["details"]["column"] == 12


def test_duplicate_keys_are_422_naming_the_key(local_env: Any) -> None:
    answer = refused(local_env, 422, '{"data": {"amount": 1, "amount": 1000}}')
    assert answer.body["details"]["path"] == "data.amount"
    assert "more than once" in answer.body["message"]


# -- depth ----------------------------------------------------------------------------------------


def test_thirty_two_levels_are_accepted_and_thirty_three_are_422_naming_the_path(local_env: Any) -> None:
    at_limit = new_event(data={**SPAM, "deep": nested(30)})  # body → data → 30 more objects = 32
    assert local_env.api("POST", "/events", at_limit).status == 202
    too_deep = new_event(data={**SPAM, "deep": nested(31)})
    answer = refused(local_env, 422, too_deep)
    assert answer.body["details"]["path"] == "data.deep" + ".k" * 30
    assert "deeper than 32 levels" in answer.body["message"]


def test_nesting_far_past_the_parser_is_422_naming_the_path_not_500(local_env: Any) -> None:
    answer = refused(local_env, 422, '{"data": {"x": ' + "[" * 100_000 + "]" * 100_000 + "}}")
    assert answer.body["details"]["path"] == "data.x" + "[0]" * 30


# -- numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "problem"),
    [
        ("9" * 5000, "an integer of 5000 digits"),
        ("-" + "1" * 41, "an integer of 41 digits"),
        ("1e200", "too large"),
        ("-1e126", "too large"),
        ("1e-131", "too small"),
        ("1." + "1" * 40, "41 significant digits"),
        ("NaN", "NaN is not a JSON number"),
        ("-Infinity", "-Infinity is not a JSON number"),
    ],
)
def test_numbers_dynamodb_cannot_hold_are_422_naming_the_field(
    local_env: Any, literal: str, problem: str
) -> None:
    body = json.dumps(new_event(data={**SPAM, "items": [{"qty": 1}]})).replace(
        '"qty": 1', f'"qty": {literal}'
    )
    answer = refused(local_env, 422, body)
    assert answer.body["details"]["path"] == "data.items[0].qty"
    assert problem in answer.body["message"], answer.body


@pytest.mark.parametrize("literal", ["1" * 38, "9.9e125", "1e-130", "1.5", "0.000", "-0"])
def test_numbers_at_dynamodb_limits_are_accepted(local_env: Any, literal: str) -> None:
    body = json.dumps(new_event(data={**SPAM, "n": 0})).replace('"n": 0', f'"n": {literal}')
    assert local_env.api("POST", "/events", body).status == 202


# -- strings and ids ------------------------------------------------------------------------------


def test_a_lone_surrogate_escape_is_422_naming_the_field(local_env: Any) -> None:
    body = json.dumps(new_event(data={**SPAM, "name": "PLACEHOLDER"})).replace("PLACEHOLDER", "A\\udc00B")
    answer = refused(local_env, 422, body)
    assert answer.body["details"]["path"] == "data.name"
    assert "surrogate" in answer.body["message"]

    key = json.dumps(new_event(data={**SPAM})).replace('"company"', '"\\ud83d"')  # a key, not a value
    answer = refused(local_env, 422, key)
    assert answer.body["details"]["path"] == 'data["\\ud83d"]'


@pytest.mark.parametrize("event_id", ["订单-2024-0001", "evt-😀-🚀", "ü" * 256, "ᄀ" * 10, "id with spaces"])
def test_unicode_event_ids_are_accepted_and_recorded(local_env: Any, event_id: str) -> None:
    unique = f"{event_id}-{uuid.uuid4().hex[:8]}"[-256:]  # still within the 256-character limit
    event = new_event(id=unique, data=SPAM)
    answer = local_env.api("POST", "/events", event)
    assert answer.status == 202, answer.body
    again = local_env.api("POST", "/events", event)  # the idempotency key holds any Unicode
    assert again.body == answer.body
    record = local_env.api("GET", f"/decisions/{answer.body['decision_id']}")
    assert record.body["event_id"] == event["id"]


@pytest.mark.parametrize(
    ("event_id", "problem"),
    [
        ("x" * 257, "at most 256 characters"),
        ("a\x00b", "U+0000"),
        ("line\nbreak", "U+000A"),
        ("a\x85b", "U+0085"),
    ],
)
def test_overlong_or_control_character_ids_are_422(local_env: Any, event_id: str, problem: str) -> None:
    answer = refused(local_env, 422, new_event(id=event_id))
    assert answer.body["details"]["problems"][0]["location"] == ["body", "id"]
    assert problem in answer.body["message"]


def test_customer_ids_follow_the_same_rule(local_env: Any) -> None:
    answer = local_env.api("POST", "/events", new_event(customer_id="客户-😀", data=SPAM))
    assert answer.status == 202, answer.body
    refused(local_env, 422, new_event(customer_id="c\x07"))


# -- credential headers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"x-tray-agent-signature": "v1=" + "é" * 64},
        {"x-tray-agent-signature": "v1=😀"},
        {"x-tray-agent-signature": "sha256=abc"},
        {"x-tray-agent-timestamp": "١٧٦٧٢٢٥٦٠٠"},  # Arabic-Indic digits: int() would accept them
        {"x-tray-agent-timestamp": "1_767_225_600"},
        {"x-tray-agent-timestamp": "9" * 5000},
        {"x-tray-agent-nonce": "ñ" * 20},
        {"x-tray-agent-nonce": "a" * 20 + "\n"},
        {"x-tray-agent-nonce": "\ud800" * 20},
    ],
)
def test_malformed_or_non_ascii_signature_headers_are_401(local_env: Any, overrides: dict[str, str]) -> None:
    body = json.dumps(new_event()).encode()
    before = stored_items(local_env)
    answer = local_env.api("POST", "/events", body, headers={**signed_headers(body), **overrides}, auth=False)
    assert answer.status == 401, answer.body
    assert answer.body["error"] == "Authentication"
    assert stored_items(local_env) == before


@pytest.mark.parametrize("authorization", ["Bearer 😀", "Bearer \ud800", "Bearer ä-token", "\x00"])
def test_odd_authorization_headers_are_401(local_env: Any, authorization: str) -> None:
    answer = local_env.api("GET", "/reviews", headers={"Authorization": authorization}, auth=False)
    assert answer.status == 401, answer.body


# -- one path for authentication and routing ------------------------------------------------------


def _held_review(env: Any) -> str:
    event = new_event("refund.requested", customer_id=f"cust-{uuid.uuid4().hex[:8]}", source="zendesk")
    event["data"] = {"amount": 120.0, "currency": "EUR"}
    answer = env.api("POST", "/events", event)
    assert answer.body["review_id"], answer.body
    return str(answer.body["review_id"])


def test_a_named_stage_does_not_let_a_signed_sender_reach_reviewer_routes(local_env: Any) -> None:
    review_id = _held_review(local_env)
    body = b"{}"
    for method, path in (("POST", f"/reviews/{review_id}/approve"), ("GET", "/reviews")):
        answer = local_env.api(method, path, body, headers=signed_headers(body), auth=False, stage="prod")
        assert answer.status == 401, (path, answer.body)
        assert "reviewer token" in answer.body["message"]
    assert local_env.api("GET", f"/reviews/{review_id}").body["status"] == "pending"
    # With a reviewer token the same stage URL routes to the same route.
    listed = local_env.api("GET", "/reviews", stage="prod")
    assert listed.status == 200
    assert review_id in {item["review_id"] for item in listed.body}


def test_public_and_signed_routes_behind_a_named_stage(local_env: Any) -> None:
    assert local_env.api("GET", "/health", auth=False, stage="prod").status == 200
    assert local_env.api("POST", "/events", new_event(data=SPAM), auth=False, stage="prod").status == 401
    assert local_env.api("POST", "/events", new_event(data=SPAM), stage="prod").status == 202


def test_authentication_decides_on_the_routed_path() -> None:
    from tray_agent.handlers.api import app

    staged = http_api_event("POST", "/reviews/r-1/approve", stage="prod")
    assert staged["rawPath"] == "/prod/reviews/r-1/approve"
    assert app.routed_request(staged) == ("POST", "/reviews/r-1/approve")
    assert app.routed_request(http_api_event("get", "/health")) == ("GET", "/health")
