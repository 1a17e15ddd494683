"""``tray-agent tools sync`` against a simulator whose workflows drifted from the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tray_agent.config import DEFAULT_WORKFLOWS_FILE
from tray_local.cli import main
from tray_local.simulator import TraySimulator


def _drifted_tray(tmp_path: Path) -> Path:
    workflows = json.loads(DEFAULT_WORKFLOWS_FILE.read_text())["workflows"]
    workflows = [w for w in workflows if w["name"] != "ops_alert_notification"]  # deleted in Tray
    for workflow in workflows:
        if workflow["name"] == "csm_health_task":
            workflow["trigger"]["webhook_url"] = "/webhooks/new-csm-url"  # trigger rebuilt in Tray
    workflows.append(
        {
            "name": "invoice_reminder",
            "description": "Sends invoice reminders (built in Tray, not yet a tool).",
            "trigger": {"workflow_id": "wf-invoice-reminder"},
        }
    )
    path = tmp_path / "tray-side.json"
    path.write_text(json.dumps({"workflows": workflows}))
    return path


def test_sync_reports_missing_disabled_changed_and_absent(
    local_env: Any, tmp_path: Path, capsys: Any
) -> None:
    with TraySimulator(_drifted_tray(tmp_path)) as tray:
        tray.set_enabled("order_processing", False)
        code = main(["tools", "sync", "--tray-url", tray.base_url, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [w["name"] for w in report["missing_from_file"]] == ["invoice_reminder"]
    assert report["disabled"] == ["order_processing"]
    assert report["absent_in_tray"] == ["ops_alert_notification"]
    [change] = report["changed"]
    assert change["tool"] == "csm_health_task"
    assert change["field"] == "trigger_url"
    assert change["in_tray"].endswith("/webhooks/new-csm-url")
    assert "lead_enrichment" in report["in_sync"]


def test_sync_of_an_unchanged_tray_is_clean(local_env: Any, capsys: Any) -> None:
    with TraySimulator(DEFAULT_WORKFLOWS_FILE) as tray:
        code = main(["tools", "sync", "--tray-url", tray.base_url])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "all in sync" in out
