"""Key schemas of every DynamoDB table, in one place.

The CDK stack and the local/test environments both build tables from these specs, so the
tables moto serves are the tables AWS gets. Pure data: no boto3 here.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class IndexSpec:
    name: str
    partition_key: str
    sort_key: str | None = None


@dataclass(frozen=True)
class TableSpec:
    settings_field: str  # the Settings attribute that holds the table's name
    partition_key: str
    sort_key: str | None = None
    ttl_attribute: str | None = None
    indexes: tuple[IndexSpec, ...] = field(default_factory=tuple)


DECISIONS = TableSpec(
    "decisions_table",
    partition_key="decision_id",
    ttl_attribute="expires_at",
    indexes=(IndexSpec("by_customer", partition_key="customer_id", sort_key="created_at"),),
)
CONTEXT = TableSpec("context_table", partition_key="pk", sort_key="sk", ttl_attribute="expires_at")
REVIEWS = TableSpec(
    "reviews_table",
    partition_key="review_id",
    ttl_attribute="expires_at",
    indexes=(IndexSpec("by_status", partition_key="status", sort_key="created_at"),),
)
MONITOR = TableSpec("monitor_table", partition_key="pk", sort_key="sk", ttl_attribute="expires_at")
CATALOG = TableSpec("catalog_table", partition_key="pk", sort_key="sk")
PO_INTAKE = TableSpec(
    "po_intake_table",
    partition_key="intake_id",
    ttl_attribute="expires_at",
    indexes=(IndexSpec("by_object", partition_key="object_key", sort_key="intake_id"),),
)

# The work ledger (models/work.py): the sparse index holds only unfinished work and open incidents.
WORK = TableSpec(
    "work_table",
    partition_key="work_id",
    ttl_attribute="expires_at",
    indexes=(IndexSpec("by_open_state", partition_key="open_state", sort_key="due_at"),),
)

# The account-wide Tray request budget (data/tray_budget.py): a counter per half-second slot.
TRAY_BUDGET = TableSpec("tray_budget_table", partition_key="pk", ttl_attribute="expires_at")

ALL_TABLES: tuple[TableSpec, ...] = (
    DECISIONS,
    CONTEXT,
    REVIEWS,
    MONITOR,
    CATALOG,
    PO_INTAKE,
    WORK,
    TRAY_BUDGET,
)
