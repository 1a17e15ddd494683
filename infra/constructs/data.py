"""Data: the DynamoDB tables (from the shared key specs) and the secrets."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.nag import acknowledge
from tray_agent.data.schema import ALL_TABLES, TableSpec


def _attribute(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class Data(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.tables: dict[str, dynamodb.Table] = {
            spec.settings_field: self._table(spec) for spec in ALL_TABLES
        }
        self.tray_tokens = secretsmanager.Secret(
            self,
            "TrayTokens",
            description='Tray master and user tokens: {"master_token": "...", "user_token": "..."}',
        )
        self.openai_api_key = secretsmanager.Secret(
            self, "OpenAiApiKey", description="API key of the OpenAI-compatible endpoint (optional)"
        )
        for secret in (self.tray_tokens, self.openai_api_key):
            acknowledge(
                secret,
                "AwsSolutions-SMG4",
                "Third-party API tokens are issued by Tray/OpenAI and cannot be rotated by a Lambda; "
                "operators rotate them in the vendor console and update the secret.",
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
        """Least privilege: only the named tables, read-only where that is enough."""
        role = function.role
        assert role is not None
        for field in settings_fields:
            table = self.tables[field]
            if read_only:
                table.grant_read_data(function)
            else:
                table.grant_read_write_data(function)
            if any(spec.settings_field == field and spec.indexes for spec in ALL_TABLES):
                logical_id = Stack.of(self).get_logical_id(table.node.default_child)  # type: ignore[arg-type]
                acknowledge(
                    role,
                    f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/index/*]",
                    f"Queries on the {field} table's own secondary indexes; no other table is reachable.",
                )

    @property
    def environment(self) -> dict[str, str]:
        """The Settings fields every function needs to find the tables and secrets."""
        env = {f"TRAY_AGENT_{field.upper()}": table.table_name for field, table in self.tables.items()}
        env["TRAY_AGENT_TRAY_TOKEN_SECRET_NAME"] = self.tray_tokens.secret_name
        env["TRAY_AGENT_OPENAI_API_KEY_SECRET_NAME"] = self.openai_api_key.secret_name
        return env
