"""The work table: the ledger of accepted work, and the incidents that hold it.

Keys (data/schema.py WORK): ``work_id``; a sparse index ``by_open_state`` (``open_state``,
``due_at``) lists what is not finished — moving items by lease expiry, held items oldest
first, open incidents — and nothing else, so the sweeper never reads finished work.

    <work id>                 a work item (models/work.py WorkItem) as JSON in ``doc``
    incident#<incident id>    an incident
    open-incident#<key>       which incident is open for a key (one at a time: conditional put)

Every write of a work item is conditional on the version read, so two writers (a redelivery
and the sweeper, two reviewers) can never both move the same item.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from tray_agent.data import aws
from tray_agent.data.payloads import PayloadStore
from tray_agent.errors import ConflictError
from tray_agent.models.work import TERMINAL_STATES, Incident, WorkItem, WorkState

INCIDENT_PREFIX = "incident#"
OPEN_INCIDENT_PREFIX = "open-incident#"
OPEN_INCIDENTS = "incident"  # the open_state of an open incident
# With the document's own 300 KB at most, the item stays under DynamoDB's 400 KB.
EVENT_INLINE_LIMIT_BYTES = 64 * 1024


# Batched work (issue 9): queued items are indexed per batch key (the sweeper finds each queue and
# its oldest item); items a flush took wait under the plain "batched" state for their bulk run.
QUEUED_PREFIX = "batched#"


def open_state_of(work: WorkItem) -> str:
    if work.state is WorkState.BATCHED and work.batch is not None and work.batch.batch_id is None:
        return QUEUED_PREFIX + work.batch.batch_key
    return work.state.value


class StaleWorkError(ConflictError):
    """Someone else moved the work item since it was read (a conditional write lost)."""


def _conditional_failed(exc: ClientError) -> bool:
    return bool(exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


def _iso(at: datetime) -> str:
    return at.isoformat()


class WorkRepository:
    def __init__(self, table_name: str, payloads: PayloadStore, retention: timedelta) -> None:
        self._table_name = table_name
        self._payloads = payloads
        self._retention = retention

    @property
    def _table(self) -> Any:
        return aws.table(self._table_name)

    # -- work items -----------------------------------------------------------------------------
    def _item(self, work: WorkItem) -> dict[str, Any]:
        doc = work.model_dump_json()
        item: dict[str, Any] = {
            "work_id": work.work_id,
            "version": work.version,
            "state": work.state.value,
            "expires_at": int((work.created_at + self._retention).timestamp()),
            **self._payloads.inline_or_ref(doc, f"ledger/{work.work_id}/v{work.version}.json"),
        }
        if work.state not in TERMINAL_STATES:
            item["open_state"] = open_state_of(work)
            item["due_at"] = _iso(self._due_at(work))
        return item

    @staticmethod
    def _due_at(work: WorkItem) -> datetime:
        if work.state is WorkState.BATCHED and work.batch is not None:
            return work.batch.queued_at  # oldest first: a batch's age is its first item's
        if work.state is WorkState.HELD or work.state is WorkState.IN_REVIEW:
            return work.updated_at  # oldest first
        return work.lease_until or work.updated_at

    def create(self, work: WorkItem, event: dict[str, Any]) -> bool:
        """Record new work with its event, unless the id is already known (then False)."""
        event_item = self._payloads.inline_or_ref(_dumps(event), f"ledger/{work.work_id}/event.json")
        item = self._item(work)
        item["event"] = event_item.get("doc")
        if "doc_ref" in event_item:
            item["event_ref"] = event_item["doc_ref"]
            item.pop("event")
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(work_id)")
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def get(self, work_id: str) -> WorkItem | None:
        item = self._table.get_item(Key={"work_id": work_id}, ConsistentRead=True).get("Item")
        if item is None or "version" not in item:
            return None
        return WorkItem.model_validate_json(self._payloads.read(item))

    def event(self, work_id: str) -> dict[str, Any]:
        """The event a work item was created for (kept beside it, never rewritten)."""
        item = (
            self._table.get_item(
                Key={"work_id": work_id}, ConsistentRead=True, ProjectionExpression="event, event_ref"
            ).get("Item")
            or {}
        )
        if "event_ref" in item:
            text = self._payloads.read({"doc_ref": item["event_ref"]})
        else:
            text = str(item.get("event") or "{}")
        loaded: dict[str, Any] = json.loads(text)
        return loaded

    def save(self, work: WorkItem) -> WorkItem:
        """Write the next version of ``work``; raises StaleWorkError if it moved since it was read."""
        expected = work.version
        updated = work.model_copy(update={"version": expected + 1})
        item = self._item(updated)
        names = {"#v": "version", "#d": "doc", "#r": "doc_ref", "#s": "state", "#x": "expires_at"}
        values: dict[str, Any] = {":expected": expected, ":v": item["version"], ":s": item["state"]}
        values[":x"] = item["expires_at"]
        sets = ["#v = :v", "#s = :s", "#x = :x"]
        removes: list[str] = []
        if "doc" in item:
            sets.append("#d = :d")
            values[":d"] = item["doc"]
            removes.append("#r")
        else:
            sets.append("#r = :r")
            values[":r"] = item["doc_ref"]
            removes.append("#d")
        names.update({"#o": "open_state", "#due": "due_at"})
        if "open_state" in item:
            sets += ["#o = :o", "#due = :due"]
            values[":o"], values[":due"] = item["open_state"], item["due_at"]
        else:
            removes += ["#o", "#due"]
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            self._table.update_item(
                Key={"work_id": work.work_id},
                UpdateExpression=expression,
                ConditionExpression="#v = :expected",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                raise StaleWorkError(f"work {work.work_id} moved on since it was read") from exc
            raise
        return updated

    def open_items(
        self, state: WorkState, *, due_before: datetime | None = None, limit: int | None = None
    ) -> Iterator[WorkItem]:
        """Unfinished items in ``state``, by due time (lease expiry; for held, oldest first)."""
        condition: Any = Key("open_state").eq(state.value)
        if due_before is not None:
            condition = condition & Key("due_at").lte(_iso(due_before))
        for count, item in enumerate(self._query(condition)):
            if limit is not None and count >= limit:
                return
            yield WorkItem.model_validate_json(self._payloads.read(item))

    def queued(self, batch_key: str, *, limit: int | None = None) -> Iterator[WorkItem]:
        """Items waiting for ``batch_key``'s next bulk run, oldest first (the index: eventually
        consistent, so a flush re-reads each item before it claims it)."""
        for count, item in enumerate(self._query(Key("open_state").eq(QUEUED_PREFIX + batch_key))):
            if limit is not None and count >= limit:
                return
            yield WorkItem.model_validate_json(self._payloads.read(item))

    def queued_count(self, batch_key: str, *, up_to: int) -> int:
        """How many items wait for ``batch_key`` (counted up to ``up_to``; keys only, no documents)."""
        count, start = 0, None
        while count < up_to:
            kwargs: dict[str, Any] = {
                "IndexName": "by_open_state",
                "KeyConditionExpression": Key("open_state").eq(QUEUED_PREFIX + batch_key),
                "Select": "COUNT",
                "Limit": up_to - count,
            }
            if start is not None:
                kwargs["ExclusiveStartKey"] = start
            response = self._table.query(**kwargs)
            count += int(response.get("Count", 0))
            start = response.get("LastEvaluatedKey")
            if start is None:
                break
        return count

    def _query(self, condition: Any) -> Iterator[dict[str, Any]]:
        return aws.all_items(self._table.query, IndexName="by_open_state", KeyConditionExpression=condition)

    # -- incidents ------------------------------------------------------------------------------
    def open_incident(self, incident: Incident) -> Incident:
        """Open ``incident`` unless one is already open for its key; returns the open one."""
        pointer = {"work_id": OPEN_INCIDENT_PREFIX + incident.key, "incident_id": incident.incident_id}
        try:
            self._table.put_item(Item=pointer, ConditionExpression="attribute_not_exists(work_id)")
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            existing = self.open_incident_for(incident.key)
            if existing is not None:
                return existing
            return self.open_incident(incident)  # it closed in between: try again
        self.put_incident(incident)
        return incident

    def open_incident_for(self, key: str) -> Incident | None:
        pointer = self._table.get_item(Key={"work_id": OPEN_INCIDENT_PREFIX + key}, ConsistentRead=True).get(
            "Item"
        )
        return None if pointer is None else self.incident(str(pointer["incident_id"]))

    def incident(self, incident_id: str) -> Incident | None:
        item = self._table.get_item(Key={"work_id": INCIDENT_PREFIX + incident_id}, ConsistentRead=True).get(
            "Item"
        )
        return None if item is None else Incident.model_validate_json(str(item["doc"]))

    def put_incident(self, incident: Incident) -> None:
        """Write the incident's document and index keys (keeping its escalation claim)."""
        names = {"#d": "doc", "#x": "expires_at", "#o": "open_state", "#due": "due_at"}
        values: dict[str, Any] = {
            ":d": incident.model_dump_json(),
            ":x": int((incident.opened_at + self._retention).timestamp()),
        }
        if incident.open:
            values[":o"], values[":due"] = OPEN_INCIDENTS, _iso(incident.next_probe_at)
            expression = "SET #d = :d, #x = :x, #o = :o, #due = :due"
        else:
            expression = "SET #d = :d, #x = :x REMOVE #o, #due"
        self._table.update_item(
            Key={"work_id": INCIDENT_PREFIX + incident.incident_id},
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def close_incident(self, incident: Incident) -> None:
        """Close it (the next failure for its key opens a new incident, with its own escalation)."""
        self.put_incident(incident)
        try:
            self._table.delete_item(
                Key={"work_id": OPEN_INCIDENT_PREFIX + incident.key},
                ConditionExpression="incident_id = :id",
                ExpressionAttributeValues={":id": incident.incident_id},
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise

    def claim_escalation(self, incident_id: str) -> bool:
        """True for the first caller only: one escalation per incident, whoever sees it first."""
        try:
            self._table.update_item(
                Key={"work_id": INCIDENT_PREFIX + incident_id},
                UpdateExpression="SET escalated = :t",
                ConditionExpression="attribute_exists(work_id) AND attribute_not_exists(escalated)",
                ExpressionAttributeValues={":t": True},
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def release_escalation(self, incident_id: str) -> None:
        """The escalation could not be sent: the next caller claims it again."""
        self._table.update_item(
            Key={"work_id": INCIDENT_PREFIX + incident_id}, UpdateExpression="REMOVE escalated"
        )

    def open_incidents(self) -> list[Incident]:
        return [
            Incident.model_validate_json(str(item["doc"]))
            for item in self._query(Key("open_state").eq(OPEN_INCIDENTS))
        ]


def _dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), default=str)
