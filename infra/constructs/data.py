"""Data: the DynamoDB tables (from the shared key specs) and the secrets."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.checkov import skip
from infra.nag import acknowledge
from tray_agent.data.schema import ALL_TABLES, TableSpec

READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:Query")
# What each table's data module (tray_agent/data/<table>.py) calls: a table no module deletes from
# grants no DeleteItem; BatchWriteItem only where a batch_writer replaces a set of items.
TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "decisions_table": (*READ_ACTIONS, "dynamodb:PutItem"),  # the audit trail: append-only
    "reviews_table": (*READ_ACTIONS, "dynamodb:PutItem"),  # a resolution is a conditional put
    "context_table": (*READ_ACTIONS, "dynamodb:PutItem", "dynamodb:UpdateItem"),
    "monitor_table": (
        *READ_ACTIONS,
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
    ),
    "catalog_table": (*READ_ACTIONS, "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"),
    "po_intake_table": (*READ_ACTIONS, "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
    "work_table": (*READ_ACTIONS, "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
    # The shared Tray limiter (data/tray_budget.py): conditional slot counters; a 429 fills slots.
    "tray_budget_table": ("dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:BatchWriteItem"),
}
# A table added later without an entry: read and write, still never Scan.
DEFAULT_ACTIONS = (*READ_ACTIONS, "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")


def _attribute(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class Data(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.tables: dict[str, dynamodb.Table] = {
            spec.settings_field: self._table(spec) for spec in ALL_TABLES
        }
        # What does not fit in a DynamoDB item: a near-1 MB event in the ledger, its decision's inputs.
        self.payloads = s3.Bucket(
            self,
            "Payloads",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            # As long as the ledger and the audit trail that reference them.
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(366))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.payloads,
            "AwsSolutions-S1",
            "Written and read only by the stack's own functions, keyed by ledger and decision ids; "
            "CloudTrail data events cover access auditing without a second log bucket.",
        )
        skip(
            self.payloads.node.default_child,  # type: ignore[arg-type]
            "CKV_AWS_18",
            "Written and read only by the stack's own functions; CloudTrail data events cover access "
            "auditing without a second log bucket.",
        )
        self.tray_tokens = secretsmanager.Secret(
            self,
            "TrayTokens",
            description='Tray master and user tokens: {"master_token": "...", "user_token": "..."}',
        )
        self.openai_api_key = secretsmanager.Secret(
            self, "OpenAiApiKey", description="API key of the OpenAI-compatible endpoint (optional)"
        )
        # API authentication (seed: machine senders sign, reviewers hold tokens).
        self.signing_secret = secretsmanager.Secret(
            self,
            "SigningSecret",
            description="Shared HMAC-SHA256 key machine senders sign requests with",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True, password_length=48
            ),
        )
        # No reviewer-token secret: deployed reviewers sign in with Cognito (reviewer_sign_in.py);
        # static reviewer tokens are for local runs only.
        for secret in (self.tray_tokens, self.openai_api_key, self.signing_secret):
            acknowledge(
                secret,
                "AwsSolutions-SMG4",
                "Shared with external parties (Tray/OpenAI tokens, senders' signing key, reviewers' "
                "tokens): rotation needs the other side to switch at the same time, so operators "
                "rotate them deliberately and update the secret.",
            )

    def _table(self, spec: TableSpec) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            spec.settings_field.removesuffix("_table").title().replace("_", "") + "Table",
            partition_key=_attribute(spec.partition_key),
            sort_key=_attribute(spec.sort_key) if spec.sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            time_to_live_attribute=spec.ttl_attribute,
            removal_policy=RemovalPolicy.RETAIN,
        )
        for index in spec.indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=_attribute(index.partition_key),
                sort_key=_attribute(index.sort_key) if index.sort_key else None,
            )
        return table

    def table(self, settings_field: str) -> dynamodb.Table:
        return self.tables[settings_field]

    def grant(self, function: lambda_.Function, *settings_fields: str, read_only: bool = False) -> None:
        """Least privilege: only the named tables, only the calls their data module makes, and
        only the table's own named indexes (no Scan anywhere; no Delete on the audit tables)."""
        stack = Stack.of(self)
        for field in settings_fields:
            table = self.tables[field]
            actions = READ_ACTIONS if read_only else TABLE_ACTIONS.get(field, DEFAULT_ACTIONS)
            spec = next((s for s in ALL_TABLES if s.settings_field == field), None)
            resources = [table.table_arn]
            if spec is not None and "dynamodb:Query" in actions:
                resources += [
                    stack.format_arn(
                        service="dynamodb",
                        resource="table",
                        resource_name=f"{table.table_name}/index/{i.name}",
                    )
                    for i in spec.indexes
                ]
            function.add_to_role_policy(iam.PolicyStatement(actions=sorted(actions), resources=resources))

    def grant_payloads(self, function: lambda_.Function, *prefixes: str) -> None:
        """Read and write large documents under the given prefixes only (ledger/, decisions/)."""
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject"],
                resources=[self.payloads.arn_for_objects(f"{prefix}*") for prefix in prefixes],
            )
        )
        role = function.role
        assert role is not None
        for prefix in prefixes:
            logical_id = Stack.of(self).get_logical_id(self.payloads.node.default_child)  # type: ignore[arg-type]
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/{prefix}*]",
                f"Objects under {prefix} in the payloads bucket, one per ledger item or decision id.",
            )

    @property
    def environment(self) -> dict[str, str]:
        """The Settings fields every function needs to find the tables and secrets."""
        env = {f"TRAY_AGENT_{field.upper()}": table.table_name for field, table in self.tables.items()}
        env["TRAY_AGENT_PAYLOADS_BUCKET"] = self.payloads.bucket_name
        env["TRAY_AGENT_TRAY_TOKEN_SECRET_NAME"] = self.tray_tokens.secret_name
        env["TRAY_AGENT_OPENAI_API_KEY_SECRET_NAME"] = self.openai_api_key.secret_name
        env["TRAY_AGENT_SIGNING_SECRET_NAME"] = self.signing_secret.secret_name
        return env
