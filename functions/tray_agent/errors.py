"""The domain exception tree.

HTTP handlers map these to status codes in one place; Step Functions states raise them by
name so ``Retry``/``Catch`` clauses can match ``error.__class__.__name__``.
"""

from __future__ import annotations


class TrayAgentError(Exception):
    """Base of every error this package raises on purpose."""

    http_status = 500

    def __init__(self, message: str, *, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ConfigurationError(TrayAgentError):
    """The environment or a configuration file is invalid."""


class InvalidInputError(TrayAgentError):
    """The caller sent something we cannot accept."""

    http_status = 400


class PayloadTooLargeError(InvalidInputError):
    http_status = 413


class MalformedJsonError(InvalidInputError):
    """The request body is not JSON at all (a syntax error, bad base64)."""


class NotUtf8Error(MalformedJsonError):
    """The request body's bytes are not UTF-8, so they cannot be JSON (RFC 8259)."""


class UnacceptableJsonError(InvalidInputError):
    """Well-formed JSON we refuse to hold: too deep, unstorable numbers, lone surrogates, duplicate keys."""

    http_status = 422


class CorruptDocumentError(InvalidInputError):
    """The document is not a readable PDF (truncated, damaged or another format)."""


class EncryptedDocumentError(InvalidInputError):
    """The PDF is password-protected and we hold no password for it."""


class DocumentTooLargeError(PayloadTooLargeError):
    """The document exceeds the byte or page limits in Settings."""


class DecompressionBombError(DocumentTooLargeError):
    """The document's compressed streams would inflate past the limit (a decompression bomb)."""


class NotAPurchaseOrderError(InvalidInputError):
    """The input holds no purchase order (e.g. an email without a PDF attachment)."""


class AuthenticationError(TrayAgentError):
    http_status = 401


class ForbiddenError(TrayAgentError):
    """Authenticated, but not allowed: e.g. a signed-in user outside the reviewers group."""

    http_status = 403


class NotFoundError(TrayAgentError):
    http_status = 404


class ConflictError(TrayAgentError):
    http_status = 409


class DuplicateInProgressError(ConflictError):
    """The same event is being processed right now by another invocation."""


class UpstreamError(TrayAgentError):
    """A dependency (Tray, the model, AWS) failed in a way the caller cannot fix."""

    http_status = 502


class StorageUnavailableError(TrayAgentError):
    """Our own storage (DynamoDB, S3) failed after its retries: nothing is lost, try again shortly."""

    http_status = 503


class PurchaseOrderRejectedError(ConflictError):
    """A reviewer rejected the purchase order (the paused execution fails with this name)."""


class DuplicatePurchaseOrderError(ConflictError):
    """This buyer's PO number was already ordered from another document."""


class TransientStorageError(StorageUnavailableError):
    """DynamoDB or S3 throttled us or failed (5xx, connection) even after botocore's retries.

    Step Functions retries a PO pipeline step that raises it (by this name) with backoff; the API
    answers it like any StorageUnavailableError (503, retry shortly).
    """


class PurchaseOrderHoldExpiredError(UpstreamError):
    """A PO held for Tray (outage, long Retry-After) outlived the hold window: it fails, re-runnable."""


class MethodNotAllowedError(TrayAgentError):
    """A known path asked with a method it does not serve (the API's 405)."""

    http_status = 405
