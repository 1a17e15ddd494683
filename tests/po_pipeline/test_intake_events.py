"""Object-created notices in both shapes S3 can deliver, and telling PDFs from emails."""

from __future__ import annotations

import pytest

from tray_agent.domain.po.intake import document_kind
from tray_agent.models.po_pipeline import DocumentKind, DroppedObject, intake_id_for
from tray_local.po_documents import build_email
from tray_local.po_local import object_created_event


def test_eventbridge_object_created_event() -> None:
    event = object_created_event("drops", "inbox/a b.eml", '"abc123"', 42)
    assert DroppedObject.from_event(event) == [
        DroppedObject(bucket="drops", key="inbox/a b.eml", etag="abc123", size=42)
    ]


def test_s3_notification_records_are_url_decoded_and_only_object_created_counts() -> None:
    event = {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": "drops"},
                    "object": {"key": "inbox/a+b%2B.eml", "eTag": "e1", "size": 7},
                },
            },
            {
                "eventName": "ObjectRemoved:Delete",
                "s3": {"bucket": {"name": "drops"}, "object": {"key": "inbox/x.eml"}},
            },
        ]
    }
    assert DroppedObject.from_event(event) == [
        DroppedObject(bucket="drops", key="inbox/a b+.eml", etag="e1", size=7)
    ]


def test_intake_id_is_stable_per_object_version_and_attachment() -> None:
    first = intake_id_for("drops", "inbox/a.eml", '"etag-1"', 0)
    assert first == intake_id_for("drops", "inbox/a.eml", "etag-1", 0)  # quotes or not, S3 or EventBridge
    assert first != intake_id_for("drops", "inbox/a.eml", "etag-1", 1)
    assert first != intake_id_for("drops", "inbox/a.eml", "etag-2", 0)  # the object was replaced
    assert len(first) <= 80  # a valid Step Functions execution name


@pytest.mark.parametrize(
    ("key", "head", "kind"),
    [
        ("inbox/po.pdf", b"%PDF-1.7\n", DocumentKind.PDF),
        ("inbox/no-extension", b"  %PDF-1.4\n", DocumentKind.PDF),
        ("inbox/ses-message-id", build_email([]), DocumentKind.EMAIL),
        ("inbox/mail.eml", b"garbage", DocumentKind.EMAIL),
        ("inbox/photo.png", b"\x89PNG\r\n", None),
    ],
)
def test_document_kind_from_content_then_extension(key: str, head: bytes, kind: DocumentKind | None) -> None:
    assert document_kind(key, head) is kind
