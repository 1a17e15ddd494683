"""Large orders in review (issue 14, point 5): the API reads and writes reviewed orders under state/ only."""

from __future__ import annotations

import json
from typing import Any

from tests.infra.test_po_pipeline_stack import _statements_of, _template


def _grants(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(action, resource) pairs: CDK merges statements, so either may be a list."""

    def listed(value: Any) -> list[Any]:
        return value if isinstance(value, list) else [value]

    return {
        (action, json.dumps(resource))
        for s in statements
        for action in listed(s["Action"])
        for resource in listed(s["Resource"])
    }


def test_the_api_reads_and_writes_reviewed_orders_under_state_only(synthesized: Any) -> None:
    template = _template(synthesized)
    po_bucket = {
        (action, resource)
        for action, resource in _grants(_statements_of(template, "api"))
        if "PoPipelinePoDrops" in resource
    }
    assert {action for action, _ in po_bucket} == {"s3:GetObject", "s3:PutObject"}
    assert all(resource.endswith('"/state/*"]]}') for _, resource in po_bucket), po_bucket
    functions = template.find_resources("AWS::Lambda::Function")
    (api,) = [
        fn for fn in functions.values() if fn["Properties"]["Handler"] == "tray_agent.handlers.api.handler"
    ]
    assert "PoPipelinePoDrops" in json.dumps(
        api["Properties"]["Environment"]["Variables"]["TRAY_AGENT_PO_BUCKET"]
    )
