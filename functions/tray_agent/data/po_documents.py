"""The PO drop bucket: read a dropped document within a byte limit, keep extracted PDFs."""

from __future__ import annotations

from tray_agent.data import aws
from tray_agent.errors import DocumentTooLargeError, NotFoundError


class DocumentStore:
    def __init__(self, bucket: str) -> None:
        self._bucket = bucket

    def read(self, key: str, *, max_bytes: int) -> bytes:
        """The object's bytes; never more than ``max_bytes`` are read into memory."""
        client = aws.client("s3")
        try:
            response = client.get_object(Bucket=self._bucket, Key=key)
        except client.exceptions.NoSuchKey as exc:
            raise NotFoundError(f"s3://{self._bucket}/{key} does not exist") from exc
        size = int(response["ContentLength"])
        if size > max_bytes:
            response["Body"].close()
            raise DocumentTooLargeError(
                f"the document is {size} bytes, the limit is {max_bytes}",
                details={"bytes": size, "limit": max_bytes},
            )
        data: bytes = response["Body"].read(max_bytes + 1)
        return data

    def write_pdf(self, key: str, data: bytes) -> None:
        aws.client("s3").put_object(
            Bucket=self._bucket,
            Key=key,
            Body=data,
            ContentType="application/pdf",
            ServerSideEncryption="AES256",
        )

    # -- pipeline state offload (large orders) and XML beside the PDF ---------------------------

    def write_bytes(self, key: str, data: bytes, *, content_type: str) -> None:
        aws.client("s3").put_object(
            Bucket=self._bucket, Key=key, Body=data, ContentType=content_type, ServerSideEncryption="AES256"
        )
