"""Documents too large for one DynamoDB item (400 KB) live in S3, referenced from the item.

Records keep their JSON in one attribute; past ``INLINE_LIMIT_BYTES`` the JSON is written to
the payloads bucket under a key that names the record and its version, and the item keeps
only the reference. Objects are written before the item that points to them, so a reference
never dangles; a version that lost its conditional write leaves an unreferenced object that
the bucket's lifecycle rule removes.
"""

from __future__ import annotations

from typing import Any

from tray_agent.data import aws

# DynamoDB's item limit is 400 KB including attribute names and the other attributes.
INLINE_LIMIT_BYTES = 300 * 1024


class PayloadStore:
    def __init__(self, bucket: str) -> None:
        self._bucket = bucket

    def inline_or_ref(self, text: str, key: str, *, limit: int = INLINE_LIMIT_BYTES) -> dict[str, Any]:
        """``{"doc": text}`` when it fits in ``limit`` bytes, else ``{"doc_ref": key}`` after storing it."""
        data = text.encode("utf-8")
        if len(data) <= limit:
            return {"doc": text}
        aws.client("s3").put_object(Bucket=self._bucket, Key=key, Body=data, ContentType="application/json")
        return {"doc_ref": key}

    def read(self, item: dict[str, Any]) -> str:
        """The JSON text of an item written by ``inline_or_ref``."""
        if "doc" in item:
            return str(item["doc"])
        body = aws.client("s3").get_object(Bucket=self._bucket, Key=str(item["doc_ref"]))["Body"]
        return str(body.read().decode("utf-8"))
