"""Follow-ups deployed (issue 12): the schedule group, a role that invokes one function, the daily job."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match, Template


def _function(template: Template, handler: str) -> tuple[str, dict[str, Any]]:
    found = template.find_resources("AWS::Lambda::Function", {"Properties": {"Handler": handler}})
    assert len(found) == 1, handler
    return next(iter(found.items()))


def test_the_scheduler_role_may_invoke_only_the_follow_ups_function(synthesized: Any) -> None:
    template: Template = synthesized[0]
    template.has_resource_properties("AWS::Scheduler::ScheduleGroup", {"Name": "tray-agent-followups"})
    logical_id, _ = _function(template, "tray_agent.handlers.followups.handler")
    roles = template.find_resources(
        "AWS::IAM::Role",
        {
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Statement": [Match.object_like({"Principal": {"Service": "scheduler.amazonaws.com"}})]
                }
            }
        },
    )
    # The batch schedules have a scheduler role of their own: this is the follow-ups' one.
    [role_id] = [r for r, role in roles.items() if "follow-ups" in role["Properties"].get("Description", "")]
    policies = template.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role_id}]}})
    [policy] = policies.values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert {s["Action"] for s in statements} == {"lambda:InvokeFunction"}
    for statement in statements:
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        assert all(logical_id in str(r) for r in resources)


def test_the_api_schedules_follow_ups_in_the_group_and_passes_only_that_role(synthesized: Any) -> None:
    template: Template = synthesized[0]
    _, api = _function(template, "tray_agent.handlers.api.handler")
    env = api["Properties"]["Environment"]["Variables"]
    assert env["TRAY_AGENT_FOLLOWUP_SCHEDULE_GROUP"] == "tray-agent-followups"
    assert "TRAY_AGENT_FOLLOWUP_TARGET_ARN" in env and "TRAY_AGENT_FOLLOWUP_ROLE_ARN" in env
    _, own = _function(template, "tray_agent.handlers.followups.handler")
    assert own["Properties"]["Environment"]["Variables"]["TRAY_AGENT_FOLLOWUP_TARGET_ARN"] == "self"
    # Whatever statements CDK merges (minimizePolicies): the API's role may manage the group's
    # schedules and pass the scheduler role, and nothing wider.
    role_id = api["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = template.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role_id}]}})
    actions: set[str] = set()
    for policy in policies.values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            found = statement["Action"]
            actions.update(found if isinstance(found, list) else [found])
    assert {"scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:DeleteSchedule"} <= actions
    assert "iam:PassRole" in actions
    assert not any(a in actions for a in ("scheduler:*", "iam:*", "scheduler:UpdateSchedule"))


def test_a_daily_rule_runs_the_health_sweep_and_the_summary(synthesized: Any) -> None:
    template: Template = synthesized[0]
    logical_id, daily = _function(template, "tray_agent.handlers.followups.daily_handler")
    assert daily["Properties"]["Timeout"] == 900
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "cron(10 0 * * ? *)",
            "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [logical_id, "Arn"]}})],
        },
    )
