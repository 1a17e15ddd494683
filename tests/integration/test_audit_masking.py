"""The audit trail never holds a raw secret: events in, decisions and reviews out, over the API.

An event carries a card number, a password, an SSN and an IBAN; the rule maps them into the
call's input (by sensitive key names, and inside free text under ordinary keys) and into its
reason. The call needs approval, so a review is filed too. Whatever GET /decisions, GET /reviews
and the customer's history answer, serialized whole, none of the raw values appears in it.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from tests.conftest import new_event

CARD = "4111 1111 1111 1111"
CARD_COMPACT = CARD.replace(" ", "")
PASSWORD = "Tr0ub4dor&3-horse"
SSN = "123-45-6789"
IBAN = "DE89 3704 0044 0532 0130 00"
IBAN_COMPACT = IBAN.replace(" ", "")
RAW = [CARD, CARD_COMPACT, PASSWORD, SSN, IBAN, IBAN_COMPACT, "4111-1111-1111-1111"]

RULES = {
    "rules": [
        {
            "name": "payout-change",
            "when": {"event_type": "payout.changed"},
            "then": {
                "action": "trigger",
                "workflow": "issue_refund",
                "input": {
                    "customer_id": "$customer_id",
                    "amount": "$data.amount",
                    "currency": "$data.currency",
                    # ordinary key, sensitive values in free text: masked by pattern
                    "reason": "card {data.card_number} / ssn {data.ssn} / iban {data.iban} / "
                    "password: {data.password}",
                    # sensitive key names: masked whole
                    "card_number": "$data.card_number",
                    "password": "$data.password",
                    "ssn": "$data.ssn",
                    "iban": "$data.iban",
                    # an ordinary key holding a card number as it came
                    "note": "$data.note",
                },
                "reason": "payout moves to IBAN {data.iban} (card {data.card_number}, SSN {data.ssn})",
            },
        }
    ]
}


def _data() -> dict[str, Any]:
    return {
        "amount": 125.5,
        "currency": "EUR",
        "card_number": CARD,
        "password": PASSWORD,
        "ssn": SSN,
        "iban": IBAN,
        "note": f"old card {CARD_COMPACT}, ref PO-2024-000123 of 2024-01-15",
        "nested": {"account": {"IBAN": IBAN_COMPACT, "apiKey": "sk-live-SECRET123abc"}},
    }


def _leaks(body: Any) -> list[str]:
    text = json.dumps(body)
    return [raw for raw in [*RAW, "sk-live-SECRET123abc"] if raw in text]


def _read_everything(env: Any, answer: Any, customer_id: str) -> dict[str, Any]:
    decision = env.api("GET", f"/decisions/{answer.body['decision_id']}")
    assert decision.status == 200, decision.body
    review_id = answer.body["review_id"]
    assert review_id, answer.body
    review = env.api("GET", f"/reviews/{review_id}")
    assert review.status == 200, review.body
    pending = env.api("GET", "/reviews")
    assert pending.status == 200, pending.body
    assert review_id in {item["review_id"] for item in pending.body}
    history = env.api("GET", f"/customers/{customer_id}/decisions")
    assert history.status == 200, history.body
    return {  # (the sender's own 202 answer is not the audit trail: left out)
        "decision": decision.body,
        "review": review.body,
        "pending": pending.body,
        "history": history.body,
    }


def test_a_rule_that_maps_secrets_into_a_call_leaves_none_in_the_decision_or_review(
    local_env: Any, tmp_path: Path, capsys: Any
) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(RULES))
    customer_id = f"cust-{uuid.uuid4().hex[:10]}"
    with local_env.reconfigured(TRAY_AGENT_RULES_FILE=str(rules)):
        answer = local_env.api(
            "POST", "/events", new_event("payout.changed", customer_id=customer_id, data=_data())
        )
        assert answer.status == 202, answer.body
        seen = _read_everything(local_env, answer, customer_id)

    assert {part: _leaks(body) for part, body in seen.items()} == {part: [] for part in seen}
    decision, review = seen["decision"], seen["review"]
    assert decision["outcome"] == "in_review"
    assert decision["decision"]["rule"] == "payout-change"
    # Masked, not dropped: the reviewer still reads what kind of value was there.
    call = decision["decision"]["calls"][0]
    assert call["input"]["card_number"] == "[redacted:card]"
    assert call["input"]["password"] == "[redacted:secret]"
    assert call["input"]["ssn"] == "[redacted:ssn]"
    assert call["input"]["iban"] == "[redacted:iban]"
    assert call["input"]["reason"] == (
        "card [redacted:card] / ssn [redacted:ssn] / iban [redacted:iban] / password: [redacted:secret]"
    )
    assert call["input"]["note"] == "old card [redacted:card], ref PO-2024-000123 of 2024-01-15"
    assert call["input"]["amount"] == 125.5 and call["input"]["customer_id"] == customer_id
    assert decision["inputs"]["data"]["nested"]["account"] == {
        "IBAN": "[redacted:iban]",
        "apiKey": "[redacted:secret]",
    }
    assert decision["decision"]["reason"] == (
        "payout moves to IBAN [redacted:iban] (card [redacted:card], SSN [redacted:ssn])"
    )
    assert review["payload"]["calls"][0]["input"] == call["input"]
    assert any("[redacted:iban]" in finding for finding in review["findings"])
    logs = capsys.readouterr()
    assert [raw for raw in RAW if raw in logs.out + logs.err] == []


def test_the_shipped_refund_rule_masks_what_a_customer_writes_in_the_reason(local_env: Any) -> None:
    """The embedded rules, unchanged: refund.requested maps data.reason into the call's input."""
    customer_id = f"cust-{uuid.uuid4().hex[:10]}"
    data = {
        "amount": 40,
        "currency": "USD",
        "reason": f"charged twice on {CARD}; my SSN is {SSN}, refund to {IBAN}, login password={PASSWORD}",
        "password": PASSWORD,
        "card_number": CARD_COMPACT,
    }
    answer = local_env.api(
        "POST", "/events", new_event("refund.requested", customer_id=customer_id, data=data)
    )
    assert answer.status == 202, answer.body
    seen = _read_everything(local_env, answer, customer_id)

    assert {part: _leaks(body) for part, body in seen.items()} == {part: [] for part in seen}
    call = seen["decision"]["decision"]["calls"][0]
    assert call["workflow"] == "issue_refund"
    assert call["input"]["reason"] == (
        "charged twice on [redacted:card]; my SSN is [redacted:ssn], refund to [redacted:iban], "
        "login password=[redacted:secret]"
    )
    assert seen["review"]["payload"]["calls"][0]["input"]["reason"] == call["input"]["reason"]
