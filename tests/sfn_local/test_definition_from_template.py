"""definition_from_template turns CloudFormation intrinsics into the literal ASL that runs."""

from __future__ import annotations

from typing import Any

import pytest

from tray_local.sfn_local import (
    UnresolvableTemplateError,
    definition_from_template,
    function_name_from_reference,
)


def _template(definition_string: Any, **extra_properties: Any) -> dict[str, Any]:
    return {
        "Resources": {
            "Worker1A2B": {"Type": "AWS::Lambda::Function", "Properties": {}},
            "Named3C4D": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "po-named"}},
            "Orders5E6F": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "po-orders"}},
            "Alerts7A8B": {"Type": "AWS::SNS::Topic", "Properties": {}},
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"DefinitionString": definition_string, **extra_properties},
            },
        }
    }


def _join(*parts: Any) -> dict[str, Any]:
    return {"Fn::Join": ["", list(parts)]}


def _pass_with(parameters: Any) -> dict[str, Any]:
    """A Fn::Join'ed DefinitionString like CDK's, around a Pass state's Parameters."""
    return _join('{"StartAt":"P","States":{"P":{"Type":"Pass","End":true,"Parameters":', parameters, "}}}")


def test_getatt_arn_of_a_function_uses_the_given_name_then_the_literal_name_then_the_logical_id() -> None:
    definition_string = _join(
        '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"',
        {"Fn::GetAtt": ["Worker1A2B", "Arn"]},
        '","Next":"B"},"B":{"Type":"Task","Resource":"',
        {"Fn::GetAtt": "Named3C4D.Arn"},
        '","End":true}}}',
    )

    by_mapping = definition_from_template(
        _template(definition_string), "Machine", {"Worker1A2B": "po-worker"}
    )
    by_default = definition_from_template(_template(definition_string))

    assert by_mapping["States"]["A"]["Resource"] == "arn:aws:lambda:us-east-1:123456789012:function:po-worker"
    assert by_mapping["States"]["B"]["Resource"] == "arn:aws:lambda:us-east-1:123456789012:function:po-named"
    assert by_default["States"]["A"]["Resource"].endswith(":function:Worker1A2B")


def test_names_may_come_from_a_callable() -> None:
    definition_string = _join(
        '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"',
        {"Fn::GetAtt": ["Worker1A2B", "Arn"]},
        '","End":true}}}',
    )

    definition = definition_from_template(_template(definition_string), None, lambda logical: logical.lower())

    assert definition["States"]["A"]["Resource"].endswith(":function:worker1a2b")


def test_pseudo_parameters_refs_and_sub_resolve_to_literals() -> None:
    parameters = _join(
        '{"partition":"',
        {"Ref": "AWS::Partition"},
        '","table":"',
        {"Ref": "Orders5E6F"},
        '","topic":"',
        {"Ref": "Alerts7A8B"},
        '","sub":"',
        {"Fn::Sub": "${AWS::Region}/${Orders5E6F.Arn}/${!Literal}"},
        '","subvars":"',
        {"Fn::Sub": ["${Greeting}-${AWS::AccountId}", {"Greeting": {"Ref": "Named3C4D"}}]},
        '"}',
    )

    definition = definition_from_template(_template(_pass_with(parameters)), "Machine")

    assert definition["States"]["P"]["Parameters"] == {
        "partition": "aws",
        "table": "po-orders",
        "topic": "arn:aws:sns:us-east-1:123456789012:Alerts7A8B",
        "sub": "us-east-1/arn:aws:dynamodb:us-east-1:123456789012:table/po-orders/${Literal}",
        "subvars": "po-named-123456789012",
    }


def test_definition_substitutions_are_applied() -> None:
    template = _template(
        '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${WorkerArn}","End":true}}}',
        DefinitionSubstitutions={"WorkerArn": {"Fn::GetAtt": ["Worker1A2B", "Arn"]}},
    )

    definition = definition_from_template(template, "Machine", {"Worker1A2B": "po-worker"})

    assert definition["States"]["A"]["Resource"].endswith(":function:po-worker")


def test_object_definition_property_is_resolved_too() -> None:
    template = _template("unused")
    properties = template["Resources"]["Machine"]["Properties"]
    del properties["DefinitionString"]
    properties["Definition"] = {
        "StartAt": "A",
        "States": {"A": {"Type": "Task", "Resource": {"Fn::GetAtt": ["Named3C4D", "Arn"]}, "End": True}},
    }

    definition = definition_from_template(template)

    assert definition["States"]["A"]["Resource"].endswith(":function:po-named")


def test_region_and_account_are_configurable() -> None:
    definition_string = _join(
        '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"',
        {"Fn::GetAtt": ["Named3C4D", "Arn"]},
        '","End":true}}}',
    )

    definition = definition_from_template(
        _template(definition_string), region="eu-west-1", account="111122223333"
    )

    assert definition["States"]["A"]["Resource"] == "arn:aws:lambda:eu-west-1:111122223333:function:po-named"


def test_unknown_intrinsics_and_resources_are_reported_not_guessed() -> None:
    with pytest.raises(UnresolvableTemplateError, match="Fn::ImportValue"):
        definition_from_template(_template(_pass_with({"Fn::ImportValue": "shared-arn"})))
    with pytest.raises(UnresolvableTemplateError, match="Missing"):
        definition_from_template(_template(_pass_with({"Ref": "Missing"})))
    with pytest.raises(UnresolvableTemplateError, match="Fn::GetAtt"):
        definition_from_template(_template(_pass_with({"Fn::GetAtt": ["Orders5E6F", "StreamArn"]})))


def test_a_template_with_several_state_machines_needs_the_logical_id() -> None:
    template = _template('{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}')
    template["Resources"]["Other"] = template["Resources"]["Machine"]

    with pytest.raises(UnresolvableTemplateError, match="2 state machines"):
        definition_from_template(template)
    assert definition_from_template(template, "Other")["StartAt"] == "P"


@pytest.mark.parametrize(
    "reference",
    [
        "po-worker",
        "po-worker:live",
        "123456789012:function:po-worker",
        "arn:aws:lambda:us-east-1:123456789012:function:po-worker",
        "arn:aws:lambda:us-east-1:123456789012:function:po-worker:$LATEST",
    ],
)
def test_every_lambda_function_name_form_names_the_same_function(reference: str) -> None:
    assert function_name_from_reference(reference) == "po-worker"
