"""What the deployed stack must contain, checked on the synthesized template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_cdk.assertions import Match, Template

from infra.app import stack_name
from tray_agent.data.schema import ALL_TABLES


def _template(synthesized: Any) -> Template:
    return synthesized[0]


def _resources(template: Template, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = template.find_resources(kind)
    return found


def test_every_function_is_arm64_python312_traced_with_json_logs(synthesized: Any) -> None:
    template = _template(synthesized)
    functions = _resources(template, "AWS::Lambda::Function")
    assert functions, "the stack has Lambda functions"
    for logical_id, function in functions.items():
        props = function["Properties"]
        assert props["Architectures"] == ["arm64"], logical_id
        assert props["Runtime"] == "python3.12", logical_id
        assert props["TracingConfig"] == {"Mode": "Active"}, logical_id
        assert props["LoggingConfig"]["LogFormat"] == "JSON", logical_id
        assert props["Handler"].startswith("tray_agent.handlers."), logical_id


def test_every_function_log_group_has_retention(synthesized: Any) -> None:
    groups = _resources(_template(synthesized), "AWS::Logs::LogGroup")
    assert groups
    assert all("RetentionInDays" in group["Properties"] for group in groups.values())


def test_tables_have_pitr_and_ttl_where_records_expire(synthesized: Any) -> None:
    tables = list(_resources(_template(synthesized), "AWS::DynamoDB::Table").values())
    assert len(tables) == len(ALL_TABLES)
    for table in tables:
        props = table["Properties"]
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["BillingMode"] == "PAY_PER_REQUEST"
    ttl_attributes = sorted(
        t["Properties"]["TimeToLiveSpecification"]["AttributeName"]
        for t in tables
        if "TimeToLiveSpecification" in t["Properties"]
    )
    expected = sorted(spec.ttl_attribute for spec in ALL_TABLES if spec.ttl_attribute)
    assert ttl_attributes == expected


def test_http_api_routes_to_the_api_function_with_access_logs(synthesized: Any) -> None:
    template = _template(synthesized)
    template.resource_count_is("AWS::ApiGatewayV2::Api", 1)
    template.has_resource_properties("AWS::ApiGatewayV2::Api", {"ProtocolType": "HTTP"})
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {"AccessLogSettings": Match.object_like({"DestinationArn": Match.any_value()})},
    )
    template.has_resource_properties(
        "AWS::Lambda::Function", {"Handler": "tray_agent.handlers.api.handler", "Timeout": 29}
    )


def test_grants_are_least_privilege(synthesized: Any) -> None:
    """No function may use dynamodb:* or act on every table."""
    policies = _resources(_template(synthesized), "AWS::IAM::Policy")
    for logical_id, policy in policies.items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert "dynamodb:*" not in actions, logical_id
            assert "*" not in actions, logical_id
            if any(a.startswith("dynamodb:") for a in actions):
                assert statement["Resource"] != "*", logical_id


def test_the_lambda_asset_holds_the_package_but_not_local_only_code(tmp_path: Path) -> None:
    from infra.bundling import copy_package, runtime_requirements

    copy_package(tmp_path)
    assert (tmp_path / "tray_agent" / "handlers" / "api.py").is_file()
    assert (tmp_path / "tray_agent" / "config_files" / "workflows.json").is_file()
    assert not (tmp_path / "tray_local").exists()
    assert not list(tmp_path.rglob("__pycache__"))
    names = {requirement.split("[")[0].split(">")[0].split("<")[0] for requirement in runtime_requirements()}
    assert {"aws-lambda-powertools", "boto3", "httpx", "pydantic", "openai"} <= names
    assert not names & {"moto", "pytest", "aws-cdk-lib"}


def test_cdk_nag_passes_with_written_reasons(synthesized: Any) -> None:
    _, assembly = synthesized
    stack_artifact = assembly.get_stack_by_name(stack_name())
    template = json.dumps(stack_artifact.template)
    assert "AWS::Lambda::Function" in template  # synth (with AwsSolutionsChecks) completed


def test_each_role_gets_its_own_asset_with_only_what_it_imports(template_json: dict[str, Any]) -> None:
    from infra.bundling import role_requirements

    def names(role: str, **options: bool) -> set[str]:
        return {r.split("[")[0].split(">")[0].split("<")[0] for r in role_requirements(role, **options)}

    assert not names("api") & {"pypdfium2", "openai", "boto3"}
    assert "openai" in names("api", with_model=True)
    assert "pypdfium2" not in names("monitor") and "openai" in names("monitor")
    assert {"pypdfium2", "openai"} <= names("po")
    assets_by_handler = {
        resource["Properties"]["Handler"]: resource["Properties"]["Code"]["S3Key"]
        for resource in template_json["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
    }
    api = assets_by_handler["tray_agent.handlers.api.handler"]
    monitor = assets_by_handler["tray_agent.handlers.monitor.handler"]
    po = {path for handler, path in assets_by_handler.items() if ".po_" in handler}
    assert len({api, monitor, *po}) == 3, "api, monitor and the PO pipeline each have one asset"
