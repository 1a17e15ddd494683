"""PDF attachments from a raw MIME message, as SES stores inbound mail in S3."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from tray_agent.errors import DocumentTooLargeError, InvalidInputError


def extract_pdfs_from_email(raw: bytes, *, max_bytes: int | None = None) -> list[tuple[str, bytes]]:
    """Every PDF attached (or inlined) in the message, as ``(filename, pdf bytes)``.

    ``max_bytes`` bounds the raw message (attachments are base64: a third larger than the PDF).
    An empty list means the message carries no PDF; the caller decides whether that is an error.
    """
    if max_bytes is not None and len(raw) > max_bytes:
        raise DocumentTooLargeError(
            f"email is {len(raw)} bytes, the limit is {max_bytes}",
            details={"bytes": len(raw), "limit": max_bytes},
        )
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception as exc:  # the stdlib parser is lenient; this guards truly broken input
        raise InvalidInputError(f"the email cannot be parsed: {exc}") from exc
    if not isinstance(message, EmailMessage):
        raise InvalidInputError("the email cannot be parsed")
    pdfs: list[tuple[str, bytes]] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename() or ""
        content_type = part.get_content_type()
        if content_type != "application/pdf" and not filename.lower().endswith(".pdf"):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes) or not payload:
            continue
        pdfs.append((filename or f"attachment-{len(pdfs) + 1}.pdf", payload))
    return pdfs
