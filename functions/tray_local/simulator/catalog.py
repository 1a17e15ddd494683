"""The simulated Platform API's world: connectors, operations, authentications, triggers."""

from __future__ import annotations

from typing import Any

# Salesforce metadata the simulator serves (seed 000: "SaaS" is not valid, "Technology - SaaS" is).
SALESFORCE_PICKLISTS: dict[str, list[str]] = {
    "Account.Industry": [
        "Agriculture",
        "Banking",
        "Consulting",
        "Education",
        "Financial Services",
        "Healthcare",
        "Manufacturing",
        "Retail",
        "Technology - Hardware",
        "Technology - SaaS",
        "Technology - Services",
        "Telecommunications",
    ],
    "Account.Type": ["Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other"],
    "Lead.LeadSource": ["Web", "Phone Inquiry", "Partner Referral", "Trade Show", "Other"],
}

_OBJECT_SCHEMA: dict[str, Any] = {"type": "object"}


def _operation(name: str, title: str, description: str, input_schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "title": title,
        "description": description,
        "inputSchema": input_schema,
        "outputSchema": _OBJECT_SCHEMA,
    }


CONNECTOR_VERSIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("salesforce", "8.1"): {
        "name": "salesforce",
        "version": "8.1",
        "title": "Salesforce",
        "operations": [
            _operation(
                "get_picklist_values",
                "Get picklist values",
                "The valid values of a picklist field of an SObject.",
                {
                    "type": "object",
                    "required": ["sobject", "field"],
                    "properties": {"sobject": {"type": "string"}, "field": {"type": "string"}},
                },
            ),
            _operation(
                "describe_field",
                "Describe field",
                "Metadata of one SObject field (type, label, picklist values).",
                {
                    "type": "object",
                    "required": ["sobject", "field"],
                    "properties": {"sobject": {"type": "string"}, "field": {"type": "string"}},
                },
            ),
            _operation(
                "create_record",
                "Create record",
                "Creates one record of an SObject.",
                {
                    "type": "object",
                    "required": ["sobject", "fields"],
                    "properties": {"sobject": {"type": "string"}, "fields": {"type": "object"}},
                },
            ),
        ],
    },
    ("clearbit", "2.0"): {
        "name": "clearbit",
        "version": "2.0",
        "title": "Clearbit",
        "operations": [
            _operation(
                "enrich_person",
                "Enrich person",
                "Company and person data for an email address.",
                {"type": "object", "required": ["email"], "properties": {"email": {"type": "string"}}},
            )
        ],
    },
    ("slack", "10.2"): {
        "name": "slack",
        "version": "10.2",
        "title": "Slack",
        "operations": [
            _operation(
                "send_message",
                "Send message",
                "Posts a message to a channel.",
                {
                    "type": "object",
                    "required": ["channel", "text"],
                    "properties": {"channel": {"type": "string"}, "text": {"type": "string"}},
                },
            )
        ],
    },
}

AUTHENTICATIONS: list[dict[str, Any]] = [
    {
        "id": "auth-salesforce-prod",
        "name": "Salesforce (Production)",
        "serviceEnvironmentId": "senv-salesforce-prod",
        "scopes": ["api", "refresh_token"],
        "createdAt": "2026-01-12T09:30:00Z",
    },
    {
        "id": "auth-salesforce-csm-expired",
        "name": "Salesforce (CSM)",
        "serviceEnvironmentId": "senv-salesforce-prod",
        "scopes": ["api", "refresh_token"],
        "createdAt": "2025-03-02T14:00:00Z",
    },
    {
        "id": "auth-clearbit",
        "name": "Clearbit",
        "serviceEnvironmentId": "senv-clearbit",
        "scopes": [],
        "createdAt": "2026-02-20T11:15:00Z",
    },
    {
        "id": "auth-slack-ops",
        "name": "Slack (Ops)",
        "serviceEnvironmentId": "senv-slack",
        "scopes": ["chat:write"],
        "createdAt": "2026-02-21T08:00:00Z",
    },
]
# Authentications whose OAuth refresh token is no longer accepted (the seeds' "expired auth"),
# at start; ``sim.expire_authentication`` / ``sim.restore_authentication`` change it.
EXPIRED_AUTHENTICATIONS = frozenset({"auth-salesforce-csm-expired"})

# Which authentications each workflow's connector steps use: a run of a workflow using an
# expired one fails with AUTH_REFRESH_FAILED at its first work step. ``sim.set_authentications``
# changes it; workflows not listed use none.
WORKFLOW_AUTHENTICATIONS: dict[str, tuple[str, ...]] = {
    "lead_enrichment": ("auth-clearbit", "auth-salesforce-prod", "auth-slack-ops"),
    "enterprise_lead_routing": ("auth-salesforce-prod", "auth-slack-ops"),
    "salesforce_account_upsert": ("auth-salesforce-prod",),
    "support_ticket_triage": ("auth-slack-ops",),
    "ops_alert_notification": ("auth-slack-ops",),
}

TRIGGERS: list[dict[str, Any]] = [
    {
        "name": "salesforce_record_created",
        "title": "Record created",
        "description": "Fires when a record of the given SObject is created.",
        "connectorName": "salesforce",
        "inputSchema": {
            "type": "object",
            "required": ["sobject"],
            "properties": {"sobject": {"type": "string"}},
        },
    },
    {
        "name": "slack_message_posted",
        "title": "Message posted",
        "description": "Fires when a message is posted to a channel.",
        "connectorName": "slack",
        "inputSchema": {
            "type": "object",
            "required": ["channel"],
            "properties": {"channel": {"type": "string"}},
        },
    },
]


def connectors() -> list[dict[str, Any]]:
    by_name: dict[str, dict[str, Any]] = {}
    for (name, version), spec in CONNECTOR_VERSIONS.items():
        entry = by_name.setdefault(
            name,
            {
                "name": name,
                "title": spec["title"],
                "description": f"{spec['title']} connector",
                "versions": [],
            },
        )
        entry["versions"].append({"version": version, "isLatest": True})
    return list(by_name.values())
