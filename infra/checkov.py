"""checkov suppressions, each with its written reason in the template's metadata (like cdk-nag's).

checkov reads ``Metadata.checkov.skip: [{id, comment}]`` on a resource. The findings suppressed
here are choices this stack makes on purpose for every resource of a type; ``skip`` adds one
for a single resource. Anything not listed fails `tests/infra/test_template_lint.py`.
"""

from __future__ import annotations

from typing import Any

import jsii
from aws_cdk import CfnResource, IAspect
from constructs import IConstruct

# resource type → check id → why the finding does not apply to this stack.
BY_TYPE: dict[str, dict[str, str]] = {
    "AWS::Lambda::Function": {
        "CKV_AWS_116": "Asynchronously invoked functions send failed invocations to the failed-invocations "
        "queue through an on-failure destination (a superset of a DLQ); the others are invoked "
        "synchronously (API Gateway, Step Functions) and their callers see and retry the error.",
        "CKV_AWS_117": "The functions reach only AWS APIs and Tray's public HTTPS API; there is no VPC "
        "resource to reach, and a VPC would add NAT cost and cold-start latency for nothing.",
        "CKV_AWS_115": "Only the monitor needs a concurrency limit (reserved 1, set); reserving concurrency "
        "for the others would cap throughput and take from the account pool. Tray's rate limit is "
        "enforced account-wide by the shared limiter, not by concurrency.",
        "CKV_AWS_173": "Environment variables hold only resource names and settings, never secrets (those "
        "are read from Secrets Manager); Lambda encrypts them at rest with the AWS-managed key.",
    },
    "AWS::Logs::LogGroup": {
        "CKV_AWS_158": "Logs carry no secrets, tokens or document text (house rule, structured keys only); "
        "CloudWatch Logs encrypts them at rest with its own key.",
    },
    "AWS::DynamoDB::Table": {
        "CKV_AWS_119": "Encrypted at rest with the AWS-managed key; access is controlled per function "
        "by IAM, and a customer-managed key would add per-request KMS cost without a separate audience.",
    },
    "AWS::SecretsManager::Secret": {
        "CKV_AWS_149": "Encrypted with the aws/secretsmanager key; only the functions' roles may read each "
        "secret, so a customer-managed key would not narrow who can decrypt.",
    },
    "AWS::SQS::Queue": {
        "CKV_AWS_27": "Encrypted with SSE-SQS: EventBridge can only write to a KMS-encrypted dead-letter "
        "queue through a customer-managed key whose policy names it (see dead_letters.py).",
    },
    "AWS::S3::Bucket": {
        "CKV_AWS_21": "Objects are written once under unique keys (ledger/decision ids, PO uploads) and "
        "expire by lifecycle; versioning would only keep copies of expired documents.",
    },
}


def skip(resource: CfnResource, check_id: str, reason: str) -> None:
    """Suppress one checkov finding on one resource, with its reason."""
    metadata: Any = resource.get_metadata("checkov") or {}
    skips = [s for s in metadata.get("skip", []) if s["id"] != check_id]
    resource.add_metadata("checkov", {**metadata, "skip": [*skips, {"id": check_id, "comment": reason}]})


@jsii.implements(IAspect)
class CheckovSuppressions:
    """Adds the type-wide suppressions above to every resource of the stack."""

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, CfnResource):
            for check_id, reason in BY_TYPE.get(node.cfn_resource_type, {}).items():
                skip(node, check_id, reason)
