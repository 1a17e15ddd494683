"""A faster base-table Query for moto's DynamoDB backend (local runs, tests and benchmarks only).

moto 5 answers every base-table Query by sorting *every item in the table* and then filtering on
the partition key (``Table.all_items()``), so one Query costs O(table size · log). A table
holding 10,000 customers' health signals (60,000 items) makes each Query cost about a second,
and a daily sweep that queries each customer once would take hours on moto while it takes
minutes on DynamoDB, whose Query cost depends on the partition, not the table.

``install()`` changes only *which items moto looks at*: for a base-table Query it hands moto the
queried partition (a dict lookup on moto's own store) instead of the whole sorted table. moto
still applies its own key conditions, sorting, paging, filters, projections and limits, so
results are the same. Index queries, scans and numeric partition keys (whose hash may differ
between equal numbers written differently) keep moto's original path.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_current = threading.local()  # (table, partition key) of the Query running on this thread


def install() -> None:
    """Idempotent; safe with several threads querying at once (the hint is thread-local)."""
    from moto.dynamodb.models.table import Table

    with _lock:
        if getattr(Table, "_partition_query_installed", False):
            return

        original_query = Table.query
        original_all_items = Table.all_items

        def all_items(self: Any) -> list[Any]:
            hint = getattr(_current, "partition", None)
            if hint is None or hint[0] is not self:
                return original_all_items(self)
            partition = self.items.get(hint[1])
            if not partition:
                return []
            return sorted(partition.values(), key=lambda item: item.range_key)

        def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
            index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
            fast = (
                index_name is None
                and self.range_key_attr is not None
                and hash_key is not None
                and getattr(hash_key, "type", None) in ("S", "B")
            )
            if not fast:
                return original_query(self, hash_key, *args, **kwargs)
            _current.partition = (self, hash_key)
            try:
                return original_query(self, hash_key, *args, **kwargs)
            finally:
                _current.partition = None

        Table.all_items = all_items  # type: ignore[method-assign]
        Table.query = query  # type: ignore[method-assign]
        Table._partition_query_installed = True  # type: ignore[attr-defined]
