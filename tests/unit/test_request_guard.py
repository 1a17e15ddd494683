"""``request_guard`` on its own: the paths it names and the limits it measures."""

from __future__ import annotations

import base64

import pytest

from tray_agent.errors import MalformedJsonError, NotUtf8Error, PayloadTooLargeError, UnacceptableJsonError
from tray_agent.handlers.request_guard import MAX_DEPTH, check_json_body, request_body


def refusal(body: str | bytes) -> UnacceptableJsonError:
    with pytest.raises(UnacceptableJsonError) as caught:
        check_json_body(body.encode() if isinstance(body, str) else body)
    return caught.value


def test_the_deep_path_counts_indices_and_keys_and_ignores_brackets_inside_strings() -> None:
    # Past the parser's recursion limit, the path comes from a scan of the text.
    noise = '"a[{\\"b", {"x]}": "[[{{"}, '
    body = '{"data": [1, ' + noise + '{"odd key": ' + "[" * 5000 + "]" * 5000 + "}]}"
    path = "data[3]" + '["odd key"]' + "[0]" * 29
    assert refusal(body).details["path"] == path
    # The same shape within the parser's reach names the same path from the parsed tree.
    shallow = '{"data": [1, ' + noise + '{"odd key": ' + "[" * 40 + "]" * 40 + "}]}"
    assert refusal(shallow).details["path"] == path


def test_exactly_max_depth_passes() -> None:
    check_json_body(b'{"k": ' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}")
    with pytest.raises(UnacceptableJsonError):
        check_json_body(b'{"k": ' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}")


def test_long_keys_are_shortened_in_the_path() -> None:
    key = "ä" * 500
    error = refusal('{"' + key + '": NaN}')
    assert error.details["path"] == '["' + "ä" * 64 + '…"]'
    assert error.message.endswith("NaN is not a JSON number and cannot be stored")


@pytest.mark.parametrize(
    "literal", ["1e126", "-1e126", "1e-131", "9." + "9" * 36 + "1e-131", "1" * 39, "0." + "1" * 39]
)
def test_numbers_past_dynamodb_are_refused(literal: str) -> None:
    assert refusal('{"n": ' + literal + "}").details["path"] == "n"


@pytest.mark.parametrize("literal", ["9." + "9" * 37 + "e125", "-1e-130", "1.5e-130", "0e999", "-0.0"])
def test_numbers_within_dynamodb_pass(literal: str) -> None:
    check_json_body(('{"n": ' + literal + "}").encode())


def test_empty_body_is_left_to_the_route() -> None:
    check_json_body(b"")


def test_malformed_json_and_bad_utf8_are_told_apart() -> None:
    with pytest.raises(NotUtf8Error):
        check_json_body(b'{"a": "\xc3"}')
    with pytest.raises(MalformedJsonError) as caught:
        check_json_body(b'{"a": }')
    assert not isinstance(caught.value, NotUtf8Error)


def test_request_body_measures_bytes_after_base64() -> None:
    assert request_body({"body": "é" * 5}, limit=10) == "é".encode() * 5
    with pytest.raises(PayloadTooLargeError):
        request_body({"body": "é" * 6}, limit=10)
    encoded = base64.b64encode(b"x" * 10).decode()
    assert request_body({"body": encoded, "isBase64Encoded": True}, limit=10) == b"x" * 10
    with pytest.raises(PayloadTooLargeError):
        request_body({"body": base64.b64encode(b"x" * 11).decode(), "isBase64Encoded": True}, limit=10)
    with pytest.raises(PayloadTooLargeError):  # refused without decoding it
        request_body({"body": "A" * 10_000, "isBase64Encoded": True}, limit=10)
    assert request_body({"body": None}, limit=10) == b""
