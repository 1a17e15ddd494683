"""The monitor table: the tick's lease and checkpoint, the recovery queue, health, circuits, memory.

One table, ``pk``/``sk`` keys (data/schema.py MONITOR). Every record but the lease keeps its
model as one JSON document in ``doc``: nothing here is queried by attribute.

    LEASE      / tick                 who runs the current tick, until when (conditional write)
    CHECKPOINT / executions           the scan's window, Tray's page cursor, partial counts
    WORK       / <root execution id>  a failed execution chain waiting for recovery
    RUNNING    / <execution id>       executions still running when scanned: checked next tick
    HEALTH     / <workflow id>        failure rates, last success, the open incident
    CIRCUIT    / <service>            an open circuit (a service in outage)
    ESCALATION / <key>                an escalation already sent (expires after a day)
    MAPPING    / <field>#<value>      a learnt value mapping ("Account.Industry#SaaS")
    FAILURE    / <execution id>       who handles a failed execution (callback or tick), and the answer
    BUDGET     / <workflow id>#<start> retries callbacks spent on a workflow in one tick interval
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TypeVar

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError
from pydantic import BaseModel

from tray_agent.data import aws
from tray_agent.models.monitor import Checkpoint, Circuit, WorkflowHealth, WorkItem

M = TypeVar("M", bound=BaseModel)

LEASE = ("LEASE", "tick")
CHECKPOINT = ("CHECKPOINT", "executions")
ESCALATION_TTL_S = 24 * 3600
RUNNING_TTL_S = 2 * 24 * 3600
FAILURE_TTL_S = 2 * 24 * 3600  # longer than any window a tick can still be reading


def _conditional_failed(exc: ClientError) -> bool:
    return bool(exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


class MonitorRepository:
    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    @property
    def _table(self) -> Any:
        return aws.table(self._table_name)

    # -- documents ----------------------------------------------------------------------------
    def _put(self, pk: str, sk: str, model: BaseModel, *, expires_at: int | None = None) -> None:
        item: dict[str, Any] = {"pk": pk, "sk": sk, "doc": model.model_dump_json()}
        if expires_at is not None:
            item["expires_at"] = expires_at
        self._table.put_item(Item=item)

    def _get(self, pk: str, sk: str, model: type[M]) -> M | None:
        item = self._table.get_item(Key={"pk": pk, "sk": sk}, ConsistentRead=True).get("Item")
        return None if item is None else model.model_validate_json(str(item["doc"]))

    def _query(self, pk: str) -> Iterator[dict[str, Any]]:
        return aws.all_items(self._table.query, KeyConditionExpression=Key("pk").eq(pk), ConsistentRead=True)

    def _delete(self, pk: str, sk: str) -> None:
        self._table.delete_item(Key={"pk": pk, "sk": sk})

    # -- lease --------------------------------------------------------------------------------
    def acquire_lease(self, owner: str, now: datetime, lease_s: int) -> bool:
        """Take the tick's lease unless another live tick holds it."""
        now_s = int(now.timestamp())
        try:
            self._table.put_item(
                Item={"pk": LEASE[0], "sk": LEASE[1], "owner": owner, "lease_until": now_s + lease_s},
                ConditionExpression=Attr("pk").not_exists() | Attr("lease_until").lt(now_s),
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def release_lease(self, owner: str) -> None:
        try:
            self._table.delete_item(
                Key={"pk": LEASE[0], "sk": LEASE[1]}, ConditionExpression=Attr("owner").eq(owner)
            )
        except ClientError as exc:
            if not _conditional_failed(exc):  # expired and taken by the next tick: not ours
                raise

    # -- checkpoint ---------------------------------------------------------------------------
    def load_checkpoint(self) -> Checkpoint | None:
        return self._get(*CHECKPOINT, Checkpoint)

    def save_checkpoint(self, checkpoint: Checkpoint) -> None:
        self._put(*CHECKPOINT, checkpoint)

    # -- the recovery queue ---------------------------------------------------------------------
    def put_work(self, items: Iterable[WorkItem]) -> None:
        with self._table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for item in items:
                batch.put_item(Item={"pk": "WORK", "sk": item.root_id, "doc": item.model_dump_json()})

    def save_work(self, item: WorkItem) -> None:
        self._put("WORK", item.root_id, item)

    def get_work(self, root_id: str) -> WorkItem | None:
        return self._get("WORK", root_id, WorkItem)

    def work(self) -> list[WorkItem]:
        return [WorkItem.model_validate_json(str(item["doc"])) for item in self._query("WORK")]

    def done(self, root_id: str) -> None:
        self._delete("WORK", root_id)

    # -- executions still running -----------------------------------------------------------------
    def put_running(self, executions: Iterable[tuple[str, str]], now: datetime) -> None:
        expires_at = int(now.timestamp()) + RUNNING_TTL_S
        with self._table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for execution_id, workflow_id in executions:
                batch.put_item(
                    Item={
                        "pk": "RUNNING",
                        "sk": execution_id,
                        "workflow_id": workflow_id,
                        "expires_at": expires_at,
                    }
                )

    def running(self, limit: int) -> list[str]:
        found: list[str] = []
        for item in self._query("RUNNING"):
            if len(found) >= limit:
                break
            found.append(str(item["sk"]))
        return found

    def running_done(self, execution_id: str) -> None:
        self._delete("RUNNING", execution_id)

    # -- workflow health ----------------------------------------------------------------------
    def health(self) -> dict[str, WorkflowHealth]:
        """Every workflow's health, by workflow id (the dashboard's and daily summary's source)."""
        found = (WorkflowHealth.model_validate_json(str(item["doc"])) for item in self._query("HEALTH"))
        return {health.workflow_id: health for health in found}

    def put_health(self, health: WorkflowHealth) -> None:
        self._put("HEALTH", health.workflow_id, health)

    # -- circuits -------------------------------------------------------------------------------
    def circuits(self) -> dict[str, Circuit]:
        found = (Circuit.model_validate_json(str(item["doc"])) for item in self._query("CIRCUIT"))
        return {circuit.service: circuit for circuit in found}

    def put_circuit(self, circuit: Circuit) -> None:
        self._put("CIRCUIT", circuit.service, circuit)

    def close_circuit(self, service: str) -> None:
        self._delete("CIRCUIT", service)

    # -- escalations, sent once -------------------------------------------------------------------
    def claim_escalation(self, key: str, now: datetime) -> bool:
        """True for the first caller with this key (until it expires a day later)."""
        now_s = int(now.timestamp())
        try:
            self._table.put_item(
                Item={"pk": "ESCALATION", "sk": key, "expires_at": now_s + ESCALATION_TTL_S},
                ConditionExpression=Attr("pk").not_exists() | Attr("expires_at").lt(now_s),
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def record_claim_result(self, key: str, execution_id: str) -> None:
        """What a claimed action started (so whoever meets the claim again can record it)."""
        self._table.update_item(
            Key={"pk": "ESCALATION", "sk": key},
            UpdateExpression="SET execution_id = :e",
            ExpressionAttributeValues={":e": execution_id},
        )

    def claim_result(self, key: str) -> str | None:
        item = self._table.get_item(Key={"pk": "ESCALATION", "sk": key}, ConsistentRead=True).get("Item")
        return None if item is None or "execution_id" not in item else str(item["execution_id"])

    def release_claim(self, key: str) -> None:
        """Forget a claim whose action surely did not happen (so it may be tried again)."""
        self._table.delete_item(Key={"pk": "ESCALATION", "sk": key})

    # -- failed executions, handled once (callback or tick) ---------------------------------------
    def claim_failure(
        self,
        execution_id: str,
        owner: str,
        now: datetime,
        *,
        resume_own: bool,
        stale_owner: str,
        stale_before: datetime,
    ) -> bool:
        """True when ``owner`` may handle the failure: nobody claimed it, a ``stale_owner`` claim
        never finished and went stale (that owner crashed), or (``resume_own``) ``owner`` claimed it
        before (a page read again after a crash)."""
        now_s = int(now.timestamp())
        unfinished = Attr("answer").not_exists()
        condition = Attr("pk").not_exists() | (
            Attr("owner").eq(stale_owner) & unfinished & Attr("claimed_at").lt(int(stale_before.timestamp()))
        )
        if resume_own:
            condition = condition | (Attr("owner").eq(owner) & unfinished)
        try:
            self._table.put_item(
                Item={
                    "pk": "FAILURE",
                    "sk": execution_id,
                    "owner": owner,
                    "claimed_at": now_s,
                    "expires_at": now_s + FAILURE_TTL_S,
                },
                ConditionExpression=condition,
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def finish_failure(self, execution_id: str, answer: BaseModel) -> None:
        """What the claim's owner did (a repeated callback gets this answer)."""
        self._table.update_item(
            Key={"pk": "FAILURE", "sk": execution_id},
            UpdateExpression="SET answer = :a",
            ExpressionAttributeValues={":a": answer.model_dump_json()},
        )

    def failure_claim(self, execution_id: str) -> tuple[str, str | None] | None:
        """(owner, its answer as JSON if finished) for a claimed failure."""
        item = self._table.get_item(Key={"pk": "FAILURE", "sk": execution_id}, ConsistentRead=True).get(
            "Item"
        )
        if item is None:
            return None
        answer = item.get("answer")
        return str(item["owner"]), None if answer is None else str(answer)

    def spend_budget(self, workflow_id: str, window_start: int, cap: int, expires_at: int) -> bool:
        """Count one retry against the workflow's budget for the interval; False when it is spent."""
        try:
            self._table.update_item(
                Key={"pk": "BUDGET", "sk": f"{workflow_id}#{window_start}"},
                UpdateExpression="ADD spent :one SET expires_at = :e",
                ConditionExpression=Attr("spent").not_exists() | Attr("spent").lt(cap),
                ExpressionAttributeValues={":one": 1, ":e": expires_at},
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    # -- learnt mappings --------------------------------------------------------------------------
    def mapping(self, field: str, value: str) -> str | None:
        item = self._table.get_item(Key={"pk": "MAPPING", "sk": f"{field}#{value}"}).get("Item")
        return None if item is None else str(item["mapped"])

    def remember_mapping(self, field: str, value: str, mapped: str, *, learnt_at: datetime) -> None:
        self._table.put_item(
            Item={
                "pk": "MAPPING",
                "sk": f"{field}#{value}",
                "mapped": mapped,
                "learnt_at": learnt_at.isoformat(),
            }
        )

    def mappings(self) -> dict[str, str]:
        return {str(item["sk"]): str(item["mapped"]) for item in self._query("MAPPING")}
