"""The one redaction: key names, value patterns, no false positives on business data, restoring.

Pure units (no AWS, no Tray): ``tray_agent.redaction`` is what the decisions and reviews tables,
and what a model reads, go through.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tray_agent.errors import InvalidInputError
from tray_agent.models.decisions import (
    Decision,
    DecisionAction,
    DecisionRecord,
    Outcome,
    ToolCallRecord,
    Usage,
    WorkflowCall,
)
from tray_agent.models.reviews import ReviewItem, ReviewKind
from tray_agent.redaction import (
    check_restorable,
    iban_ok,
    key_kind,
    luhn_ok,
    mask,
    mask_decision_record,
    mask_review_item,
    mask_text,
    redact,
    restore_masked,
)

# Published test numbers: valid Luhn digit, real network prefixes.
CARDS = [
    "4111111111111111",  # Visa
    "4012888888881881",  # Visa
    "5555555555554444",  # Mastercard
    "2223003122003222",  # Mastercard 2-series
    "378282246310005",  # Amex (15)
    "6011111111111117",  # Discover
    "3530111333300000",  # JCB
    "30569309025904",  # Diners (14)
]
IBANS = [
    "DE89370400440532013000",
    "GB82WEST12345698765432",
    "FR1420041010050500013M02606",
    "NL91ABNA0417164300",
    "NO9386011117947",  # the shortest (15)
]
SSNS = ["123-45-6789", "078-05-1120"]
RAW_SECRETS = ["hunter2", "sk-live-SECRET123", "s3cr3t-Pa55"]


def grouped(digits: str, size: int = 4, sep: str = " ") -> str:
    return sep.join(digits[i : i + size] for i in range(0, len(digits), size))


# -- key names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("password", "secret"),
        ("Password", "secret"),
        ("passwd", "secret"),
        ("pass", "secret"),
        ("user_password_hash", "secret"),
        ("client_secret", "secret"),
        ("token", "secret"),
        ("refresh_token", "secret"),
        ("accessToken", "secret"),
        ("api_key", "secret"),
        ("apiKey", "secret"),
        ("x-api-key", "secret"),
        ("APIKey", "secret"),
        ("Authorization", "secret"),
        ("card", "card"),
        ("card_number", "card"),
        ("cardNumber", "card"),
        ("creditCard", "card"),
        ("PAN", "card"),
        ("cvv", "cvv"),
        ("CVC", "cvv"),
        ("cvv2", "cvv"),
        ("ssn", "ssn"),
        ("socialSecurityNumber", "ssn"),
        ("iban", "iban"),
        ("vendorIBAN", "iban"),
        ("account_number", "account"),
        ("accountNumber", "account"),
        ("routing_number", "account"),
        ("RoutingNumber", "account"),
        ("date_of_birth", "personal"),
        ("dob", "personal"),
    ],
)
def test_sensitive_key_names_are_recognised_whatever_their_case_or_separator(key: str, kind: str) -> None:
    assert key_kind(key) == kind


@pytest.mark.parametrize(
    "key",
    [
        "email",
        "customer_id",
        "order_id",
        "po_number",
        "amount",
        "currency",
        "card_type",  # the brand, not the number
        "cardinality",
        "discard_reason",
        "passenger",
        "compass",
        "classname",  # contains "ssn" as letters, not as a word
        "prompt_tokens",
        "token_count",
        "span",
        "japan_office",
        "employees",
        "payment_terms",
    ],
)
def test_ordinary_key_names_are_left_alone(key: str) -> None:
    assert key_kind(key) is None


def test_a_sensitive_key_masks_its_whole_value_at_any_depth_and_keeps_the_rest() -> None:
    document = {
        "email": "ann@x.io",
        "password": "hunter2",
        "nested": {"apiKey": "k-123", "cardNumber": 4111111111111111, "credentials": {"user": "u"}},
        "items": [{"ssn": "123-45-6789", "qty": 2}],
        "has_password": True,  # a flag reveals nothing
        "pin": None,
    }
    masked = mask(document)
    assert masked == {
        "email": "ann@x.io",
        "password": "[redacted:secret]",
        "nested": {
            "apiKey": "[redacted:secret]",
            "cardNumber": "[redacted:card]",
            "credentials": "[redacted:secret]",
        },
        "items": [{"ssn": "[redacted:ssn]", "qty": 2}],
        "has_password": True,
        "pin": None,
    }
    assert document["password"] == "hunter2"  # a copy
    assert mask(masked) == masked  # idempotent: stored records can be put again


# -- value patterns -----------------------------------------------------------------------------


@pytest.mark.parametrize("card", CARDS)
def test_card_numbers_are_masked_in_free_text_plain_spaced_or_dashed(card: str) -> None:
    assert luhn_ok(card)
    if len(card) in (14, 15):  # Amex and Diners print 4-6-5 / 4-6-4
        printings = [card, f"{card[:4]} {card[4:10]} {card[10:]}", f"{card[:4]}-{card[4:10]}-{card[10:]}"]
    else:
        printings = [card, grouped(card), grouped(card, sep="-")]
    for printed in printings:
        text = f"Please refund to card {printed}, thanks."
        assert mask_text(text) == "Please refund to card [redacted:card], thanks."


def test_a_card_followed_by_another_number_loses_only_the_card() -> None:
    assert mask_text("4111 1111 1111 1111 12/29") == "[redacted:card] 12/29"


@pytest.mark.parametrize("ssn", SSNS)
def test_ssns_are_masked(ssn: str) -> None:
    assert mask_text(f"SSN: {ssn}.") == "SSN: [redacted:ssn]."


@pytest.mark.parametrize("iban", IBANS)
def test_ibans_are_masked_compact_or_grouped(iban: str) -> None:
    assert iban_ok(iban)
    for printed in (iban, grouped(iban), iban.lower()):
        assert mask_text(f"Pay to {printed} by Friday") == "Pay to [redacted:iban] by Friday"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9abc.def", "Authorization: Bearer [redacted:token]"),
        ("key sk-live-SECRET123 rotated", "key [redacted:secret] rotated"),
        ("use sk-proj-abcDEF123456_xyz", "use [redacted:secret]"),
        ("gh token ghp_0123456789abcdefghijABCDEFGHIJ", "gh token [redacted:secret]"),
        ("aws AKIAIOSFODNN7EXAMPLE", "aws [redacted:secret]"),
        ("user=ann password=hunter2 retry=3", "user=ann password=[redacted:secret] retry=3"),
        ('{"api_key": "abc123", "n": 5}', '{"api_key": "[redacted:secret]", "n": 5}'),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: [redacted:secret]"),
        ("note: password=hunter2", "note: password=[redacted:secret]"),
        ("?token=abc.def&page=2", "?token=[redacted:secret]&page=2"),
    ],
)
def test_tokens_keys_and_secret_pairs_in_text_are_masked(text: str, expected: str) -> None:
    assert mask_text(text) == expected
    assert mask_text(expected) == expected  # idempotent


@pytest.mark.parametrize(
    "text",
    [
        "PO-2024-000123",
        "PO 4500012345 dated 2024-01-15",
        "Order ORD-1234567890123456 shipped",  # 16 digits that fail Luhn
        "order 4111111111111112",  # a Visa-looking number with a wrong check digit
        "invoice 1234567890123",  # starts like no card network
        "9400111899223100012345",  # a USPS tracking number
        "call +1 (555) 123-4567 or +44 20 7946 0958 or 555-123-4567",
        "2024-01-15T10:30:00Z until 2024-02-16",
        "total $1,234,567.89, tax 12500.00, unit 4111111111111.11",
        "quantities 4000 4000 4000 4000 shipped",  # grouped like a card, but fails Luhn
        "qty 40 41 42 43 44 45 46 47",
        "SKU WID-1001, BRK-220, CAB-CAT6-5",
        "ref 000-12-3456 and 666-12-3456 and 912-34-5678",  # SSN shapes never issued
        "Lot DE12 3456 7890 1234 5678 90",  # IBAN shape, bad checksum
        "Net 30, 2% 10",
        "bearer bonds are old",
        "password reset requested",  # the word, no value
        "token_count: 1024",
    ],
)
def test_ordinary_business_text_is_never_masked(text: str) -> None:
    assert mask_text(text) == text


def test_ordinary_numbers_in_documents_are_never_masked() -> None:
    document = {
        "po_number": "4500012345",
        "order_id": 1234567890123456,  # fails Luhn
        "amount": 1234.56,
        "quantity": 4000,
        "date": "2024-01-15",
        "phone": "+1 555 123 4567",
        "lines": [{"sku": "WID-1001", "unit_price": "12.50"}],
    }
    assert mask(document) == document


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789", min_size=13, max_size=19))
def test_digit_runs_that_fail_luhn_are_never_masked(digits: str) -> None:
    if not luhn_ok(digits):
        assert mask_text(f"id {digits} ok") == f"id {digits} ok"


@settings(max_examples=200, deadline=None)
@given(
    st.dates().map(lambda d: d.isoformat()),
    st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False).map(str),
    st.integers(min_value=0, max_value=10**10).map(lambda n: f"PO-{n:010d}"),
)
def test_dates_prices_and_po_numbers_are_never_masked(date: str, price: str, po: str) -> None:
    text = f"{po} placed {date} for ${price}"
    assert mask_text(text) == text


def test_redact_for_a_model_masks_and_cuts() -> None:
    clean = redact({"notes": "card 4111111111111111 " + "n" * 5000, "rows": list(range(500))})
    assert clean["notes"].startswith("card [redacted:card] ")
    assert len(clean["notes"]) < 2100
    assert len(clean["rows"]) == 100


# -- the audit records --------------------------------------------------------------------------


def _record() -> DecisionRecord:
    return DecisionRecord(
        decision_id="d-1",
        event_id="e-1",
        event_type="refund.requested",
        source="shop",
        customer_id="cust-1",
        created_at=datetime.now(UTC),
        inputs={"data": {"card_number": "4111111111111111", "note": "SSN 123-45-6789"}},
        decision=Decision(
            action=DecisionAction.TRIGGER,
            calls=[
                WorkflowCall(
                    workflow="issue_refund",
                    input={"reason": "to IBAN DE89 3704 0044 0532 0130 00", "password": "hunter2"},
                )
            ],
            reason="refund to card 5555 5555 5555 4444",
            brain="llm",
            tool_calls=[
                ToolCallRecord(
                    name="lookup",
                    arguments={"api_key": "sk-live-SECRET123", "q": "4111111111111111"},
                    ok=True,
                    result='{"ssn": "078-05-1120", "status": "ok"}',
                )
            ],
            usage=Usage(model="m", prompt_tokens=10, completion_tokens=5),
            fallback_reason="model saw password=hunter2",
        ),
        outcome=Outcome.FAILED,
        error="Tray refused card 4111111111111111",
        guardrail="'378282246310005' is not of type 'integer'",
    )


RAW = [
    "4111111111111111",
    "123-45-6789",
    "DE89 3704 0044 0532 0130 00",
    "hunter2",
    "5555 5555 5555 4444",
    "sk-live-SECRET123",
    "078-05-1120",
    "378282246310005",
]


def test_a_masked_decision_record_holds_no_raw_value_anywhere_and_keeps_its_shape() -> None:
    record = _record()
    masked = mask_decision_record(record)
    body = masked.model_dump_json()
    assert [raw for raw in RAW if raw in body] == []
    assert masked.decision.usage == record.decision.usage  # token counts are not "tokens"
    assert masked.decision.calls[0].input["reason"] == "to IBAN [redacted:iban]"
    assert masked.customer_id == "cust-1" and masked.decision_id == "d-1"
    assert mask_decision_record(masked) == masked  # re-put after a review: unchanged
    assert "4111111111111111" in record.model_dump_json()  # the original is untouched


def test_a_masked_review_item_holds_no_raw_value_and_keeps_its_task_token() -> None:
    item = ReviewItem(
        review_id="r-1",
        kind=ReviewKind.DECISION,
        created_at=datetime.now(UTC),
        title="refund for card 4111111111111111",
        reason="held: SSN 123-45-6789 in the note",
        findings=["IBAN DE89 3704 0044 0532 0130 00 is new", "password=hunter2 seen"],
        payload={"calls": [{"workflow": "w", "input": {"card": "5555555555554444"}}]},
        task_token="token-123",
        resolution_note="checked 378282246310005",
        resolution_payload={"calls": [{"workflow": "w", "input": {"secret": "sk-live-SECRET123"}}]},
    )
    masked = mask_review_item(item)
    body = json.dumps(masked.model_dump(mode="json"))
    assert [raw for raw in [*RAW, "5555555555554444"] if raw in body] == []
    assert masked.task_token == "token-123"
    assert masked.payload == {"calls": [{"workflow": "w", "input": {"card": "[redacted:card]"}}]}


# -- restoring what a reviewer did not change ---------------------------------------------------

ORIGINAL: dict[str, Any] = {
    "customer_id": "c-1",
    "amount": 25,
    "password": "hunter2",
    "card": 4111111111111111,
    "credentials": {"user": "u", "pass": "p"},
    "reason": "refund to IBAN DE89 3704 0044 0532 0130 00 and card 5555 5555 5555 4444",
    "lines": [{"note": "SSN 123-45-6789"}, {"note": "plain"}],
}


def test_an_untouched_masked_document_restores_to_the_original() -> None:
    assert restore_masked(mask(ORIGINAL), ORIGINAL) == ORIGINAL


def test_edits_are_kept_and_markers_get_the_real_values_back() -> None:
    edited = mask(ORIGINAL)
    edited["amount"] = 30
    edited["reason"] = "partial refund: IBAN [redacted:iban], card [redacted:card]"
    edited["lines"][1]["note"] = "changed"
    restored = restore_masked(edited, ORIGINAL)
    assert restored["amount"] == 30
    assert restored["password"] == "hunter2"
    assert restored["card"] == 4111111111111111
    assert restored["credentials"] == {"user": "u", "pass": "p"}
    assert restored["reason"] == "partial refund: IBAN DE89 3704 0044 0532 0130 00, card 5555 5555 5555 4444"
    assert restored["lines"] == [{"note": "SSN 123-45-6789"}, {"note": "changed"}]
    assert ORIGINAL["amount"] == 25  # nothing was changed in place


def test_a_reviewer_may_replace_a_masked_value_with_a_new_one() -> None:
    edited = mask(ORIGINAL)
    edited["password"] = "new-password"
    assert restore_masked(edited, ORIGINAL)["password"] == "new-password"


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (lambda d: d.update(extra="[redacted:secret]"), "$.extra"),  # a key the original lacks
        (lambda d: d["lines"].append({"note": "[redacted:ssn]"}), "$.lines[2].note"),
        (lambda d: d["lines"][1].update(note="[redacted:ssn]"), "$.lines[1].note"),  # nothing masked there
        (lambda d: d.update(reason="[redacted:iban] [redacted:iban]"), "$.reason"),  # only one IBAN
        (lambda d: d.update(customer_id="[redacted:card]"), "$.customer_id"),
    ],
)
def test_a_marker_where_the_original_has_no_masked_value_is_refused_naming_the_path(
    edit: Any, path: str
) -> None:
    edited = mask(ORIGINAL)
    edit(edited)
    with pytest.raises(InvalidInputError) as caught:
        restore_masked(edited, ORIGINAL)
    assert caught.value.message.startswith(path)
    with pytest.raises(InvalidInputError):
        check_restorable(edited, mask(ORIGINAL))  # the same verdict, knowing only the masked copy


def test_check_restorable_accepts_what_restore_masked_accepts() -> None:
    edited = mask(ORIGINAL)
    edited["reason"] = "IBAN [redacted:iban] only"
    check_restorable(edited, mask(ORIGINAL))
    restore_masked(edited, ORIGINAL)


_SENSITIVE_VALUES = st.sampled_from(
    [*CARDS, *IBANS, *SSNS, *RAW_SECRETS, grouped(CARDS[0]), grouped(IBANS[0]), 4111111111111111]
)
_PLAIN = st.one_of(st.integers(-1000, 10**6), st.text(max_size=20), st.booleans(), st.none())
_KEYS = st.sampled_from(["note", "password", "card", "iban", "id", "memo", "api_key", "qty"])


def _documents() -> st.SearchStrategy[Any]:
    leaf = st.one_of(
        _PLAIN,
        _SENSITIVE_VALUES,
        st.tuples(st.text(max_size=10), _SENSITIVE_VALUES, st.text(max_size=10)).map(
            lambda parts: f"{parts[0]} {parts[1]} {parts[2]}"
        ),
    )
    return st.recursive(
        leaf,
        lambda children: st.one_of(
            st.lists(children, max_size=4), st.dictionaries(_KEYS, children, max_size=4)
        ),
        max_leaves=12,
    )


@settings(max_examples=300, deadline=None)
@given(_documents())
def test_restoring_an_unedited_masked_document_always_gives_back_the_original(document: Any) -> None:
    masked = mask(document)
    assert mask(masked) == masked
    check_restorable(masked, masked)
    assert restore_masked(masked, document) == document
