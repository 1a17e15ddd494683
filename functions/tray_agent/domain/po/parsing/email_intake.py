"""PDF attachments from a raw MIME message, as SES stores inbound mail in S3."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from tray_agent.domain.po.sanitize import clean_text
from tray_agent.errors import DocumentTooLargeError, InvalidInputError


def extract_pdfs_from_email(raw: bytes, *, max_bytes: int | None = None) -> list[tuple[str, bytes]]:
    """Every PDF attached (or inlined) in the message, as ``(filename, pdf bytes)``.

    ``max_bytes`` bounds the raw message (attachments are base64: a third larger than the PDF).
    An empty list means the message carries no PDF; the caller decides whether that is an error.
    """
    message = _message(raw, max_bytes=max_bytes)
    pdfs: list[tuple[str, bytes]] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        # Header bytes that are not UTF-8 arrive as lone surrogates (surrogateescape).
        filename = clean_text(part.get_filename() or "")
        content_type = part.get_content_type()
        if content_type != "application/pdf" and not filename.lower().endswith(".pdf"):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes) or not payload:
            continue
        pdfs.append((filename or f"attachment-{len(pdfs) + 1}.pdf", payload))
    return pdfs


XML_TYPES = frozenset({"application/xml", "text/xml", "application/cxml+xml", "text/cxml"})
XML_SUFFIXES = (".xml", ".cxml", ".ubl")


def extract_xml_from_email(raw: bytes, *, max_bytes: int | None = None) -> list[tuple[str, bytes]]:
    """Every XML attachment (Order-X, UBL Order, cXML OrderRequest...), as ``(filename, bytes)``."""
    message = _message(raw, max_bytes=max_bytes)
    documents: list[tuple[str, bytes]] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = clean_text(part.get_filename() or "")
        if part.get_content_type() not in XML_TYPES and not filename.lower().endswith(XML_SUFFIXES):
            continue
        if part.get_content_disposition() is None and not filename:
            continue  # an XML body part that is not an attachment
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and payload:
            documents.append((filename or f"attachment-{len(documents) + 1}.xml", payload))
    return documents


def xml_beside(pdf_name: str, pdf_count: int, xmls: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The XML documents that belong to this PDF: the one with its name (``PO-1.pdf`` and
    ``PO-1.xml``), else every XML when the email carries only one PDF."""
    stem = pdf_name.rsplit(".", 1)[0].lower()
    named = [(name, data) for name, data in xmls if name.rsplit(".", 1)[0].lower() == stem]
    if named:
        return named
    return list(xmls) if pdf_count == 1 else []


def _message(raw: bytes, *, max_bytes: int | None) -> EmailMessage:
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
    return message
