"""Per-workflow counts go out as their own EMF record with a `workflow` dimension, which the
dashboard's per-workflow SEARCH reads (infra/constructs/observability.py)."""

from __future__ import annotations

import json

import pytest

from tray_agent.observability import workflow_metric


def test_a_workflow_count_is_one_emf_record_with_the_workflow_dimension(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    workflow_metric("TrayRuns", "order_processing", 7)
    [line] = [json.loads(text) for text in capsys.readouterr().out.splitlines() if '"TrayRuns"' in text]
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "TrayAgent"
    assert sorted(directive["Dimensions"][0]) == ["service", "workflow"]
    assert line["workflow"] == "order_processing" and line["service"] == "tray-agent"
    assert line["TrayRuns"] in (7.0, [7.0])
