"""cfn-lint and checkov on the template the CLI synthesizes: 0 errors, nothing unexplained."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra.app import stack_name
from infra.template_checks import cfn_lint, checkov_failures


def test_cfn_lint_finds_no_error_and_no_unacknowledged_warning(cdk_out: Path) -> None:
    report = cfn_lint(cdk_out / f"{stack_name()}.template.json")
    assert report.errors == []
    assert report.unacknowledged_warnings == []


def test_the_ignored_cfn_lint_checks_each_say_why() -> None:
    lines = (Path(__file__).resolve().parents[2] / ".cfnlintrc").read_text().splitlines()
    ignored = [i for i, line in enumerate(lines) if line.strip().startswith("- ")]
    assert ignored
    for index in ignored:
        assert lines[index - 1].lstrip().startswith("#"), f"{lines[index]} has no reason above it"


def test_checkov_passes_or_each_suppression_carries_its_reason(
    cdk_out: Path, template_json: dict[str, Any]
) -> None:
    assert checkov_failures(cdk_out / f"{stack_name()}.template.json") == []
    skips = [
        skip
        for resource in template_json["Resources"].values()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips, "the suppressions live in the template"
    for skip in skips:
        assert skip["id"].startswith("CKV_") and len(skip["comment"]) > 40, json.dumps(skip)


def test_no_audit_table_grant_allows_scan_or_delete(template_json: dict[str, Any]) -> None:
    audit_tables = {
        logical_id
        for logical_id, resource in template_json["Resources"].items()
        if resource["Type"] == "AWS::DynamoDB::Table"
        and ("DecisionsTable" in logical_id or "ReviewsTable" in logical_id)
    }
    assert len(audit_tables) == 2
    for resource in template_json["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert "dynamodb:Scan" not in actions
            text = json.dumps(statement["Resource"])
            if any(table in text for table in audit_tables):
                assert not {"dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} & set(actions), statement
            assert "/index/*" not in text, "indexes are named"


def test_functions_write_logs_only_to_their_own_log_group(template_json: dict[str, Any]) -> None:
    resources = template_json["Resources"]
    for logical_id, function in resources.items():
        if function["Type"] != "AWS::Lambda::Function":
            continue
        role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
        assert "ManagedPolicyArns" not in resources[role_id]["Properties"], logical_id
        log_group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        log_statements = [
            statement
            for policy in resources.values()
            if policy["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if any(str(a).startswith("logs:") for a in statement["Action"])
        ]
        assert log_statements == [
            {
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [log_group, "Arn"]},
            }
        ], logical_id
