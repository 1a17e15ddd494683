"""Environment configuration, validated once at cold start.

Only this module reads ``os.environ``; everything else receives a ``Settings`` instance.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from tray_agent.errors import ConfigurationError

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_WORKFLOWS_FILE = PACKAGE_DIR / "config_files" / "workflows.json"
DEFAULT_RULES_FILE = PACKAGE_DIR / "config_files" / "rules.json"
DEFAULT_PRICES_FILE = PACKAGE_DIR / "config_files" / "model_prices.json"

TrayRegion = Literal["us", "eu", "apac"]


class Settings(BaseModel):
    """Everything a function needs to know about its environment."""

    # defer_build: the validator is built by the first get_settings(), not by every import of
    # this module (the API's cold import stays cheap; see models/base.py).
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    # DynamoDB tables
    decisions_table: str = "tray-agent-decisions"
    context_table: str = "tray-agent-context"
    reviews_table: str = "tray-agent-reviews"
    monitor_table: str = "tray-agent-monitor"
    catalog_table: str = "tray-agent-catalog"
    po_intake_table: str = "tray-agent-po-intake"
    work_table: str = "tray-agent-work"

    # S3 / Step Functions / SNS
    po_bucket: str = "tray-agent-po-drops"
    po_state_machine_arn: str = ""
    po_inbox_prefix: str = "inbox/"  # where SES (or anyone) drops emails and PDFs
    po_work_prefix: str = "work/"  # extracted PDFs, one per pipeline execution
    po_max_attachments: int = Field(default=10, gt=0)  # PDF attachments read from one email
    alerts_topic_arn: str = ""
    # Documents too large for a DynamoDB item (a near-1 MB event, its decision's inputs).
    payloads_bucket: str = "tray-agent-payloads"

    # Dead letters (a queue's name or URL; the stack sets URLs) and the functions they may be
    # redriven to: records naming any other function are reported, never invoked.
    failed_invocations_queue: str = "tray-agent-failed-invocations"  # Lambda on-failure destination
    undelivered_events_queue: str = "tray-agent-undelivered-events"  # EventBridge targets' DLQ
    po_intake_function_name: str = "tray-agent-po-intake"
    monitor_function_name: str = "tray-agent-monitor"
    # Long polling (seconds) makes SQS look at every server, so a listing or a redrive misses nothing.
    dead_letter_wait_s: int = Field(default=1, ge=0, le=20)
    # Messages hidden from other readers while one is redriven (then deleted, or shown again).
    dead_letter_visibility_s: int = Field(default=60, ge=1, le=43200)

    # Tray
    tray_region: TrayRegion = "us"
    tray_api_base_url: HttpUrl | None = None  # overrides the region's URL (simulator, proxies)
    tray_webhook_base_url: HttpUrl | None = None  # resolves relative webhook paths in the workflows file
    tray_token_secret_name: str = ""  # Secrets Manager secret holding {"master_token", "user_token"}
    tray_master_token: str = Field(default="", repr=False)  # local runs only; Lambda reads the secret
    tray_user_token: str = Field(default="", repr=False)
    tray_timeout_s: float = 10.0
    tray_max_attempts: int = 4
    # Client-side limiter shared by every Tray call from one container: under Tray's 30 req/s.
    tray_client_rps: float = Field(default=28.5, gt=0)
    tray_client_burst: int = Field(default=10, ge=1)
    # One Tray limit across containers (issue 11): when on (deployed), every container draws
    # from the DynamoDB token bucket in tray_budget_table instead of keeping its own rate.
    tray_shared_limit: bool = False
    tray_budget_table: str = "tray-agent-tray-budget"

    # Agent
    workflows_file: Path = DEFAULT_WORKFLOWS_FILE
    rules_file: Path = DEFAULT_RULES_FILE
    openai_base_url: str = ""
    openai_api_key: str = Field(default="", repr=False)
    openai_api_key_secret_name: str = ""
    openai_model: str = ""  # empty: no model, the policy brain decides alone
    review_confidence_threshold: float = Field(default=0.7, ge=0, le=1)
    # LLM brain bounds (prices: llm_prices_file below)
    llm_max_iterations: int = Field(default=6, ge=1, le=20)
    llm_max_tokens: int = Field(default=1024, ge=16)
    llm_budget_s: float = Field(default=20.0, gt=0)
    llm_max_retries: int = Field(default=1, ge=0)
    # Model providers, prices and checks (issue 13; tray_agent/llm_profiles.py decides the parameters)
    llm_provider: Literal["auto", "openai", "azure", "compatible"] = "auto"  # auto: from the base URL
    llm_reasoning: Literal["auto", "on", "off"] = "auto"  # auto: o1/o3/o4…/gpt-5 by the model name
    # "" sends none (the model's default); "low" is accepted by every reasoning model so far.
    llm_reasoning_effort: Literal["", "none", "minimal", "low", "medium", "high", "xhigh"] = "low"
    llm_reasoning_room_tokens: int = Field(default=4096, ge=0)  # added to the cap for hidden reasoning
    llm_json_schema: Literal["auto", "on", "off"] = "auto"  # auto: strict schema on OpenAI/Azure only
    azure_openai_api_version: str = "2025-04-01-preview"
    azure_openai_deployment: str = ""  # empty: the deployment is named like openai_model
    llm_prices_file: Path = DEFAULT_PRICES_FILE
    # Your own price (USD per 1k tokens) for a model the prices file does not know (self-hosted, negotiated)
    llm_input_cost_per_1k: float | None = Field(default=None, ge=0)
    llm_output_cost_per_1k: float | None = Field(default=None, ge=0)

    # API authentication: HMAC signing secret for machine senders, tokens for reviewers
    signing_secret_name: str = ""  # Secrets Manager secret holding the shared HMAC key
    signing_secret: str = Field(default="", repr=False)  # local runs only
    reviewer_tokens_secret_name: str = ""  # secret: {"reviewer name": "token", ...}
    reviewer_tokens: str = Field(default="", repr=False)  # local runs only, same JSON
    signature_tolerance_s: int = Field(default=300, ge=1)

    # Reviewer sign-in (issue 11, point 8). "tokens": the static bearer tokens above (local runs,
    # the default). "jwt": the deployed stack's Cognito user pool; API Gateway's JWT authorizer has
    # verified the token on the reviewer routes, and the reviewer is read from its claims (the stack
    # sets these; no static token is accepted then).
    reviewer_auth: Literal["tokens", "jwt"] = "tokens"
    reviewer_group: str = "reviewers"  # the Cognito group (cognito:groups) whose members review
    cognito_domain_url: str = ""  # https://<prefix>.auth.<region>.amazoncognito.com: the console's Sign in
    cognito_client_id: str = ""  # the console's app client (public: authorization code + PKCE)

    # Execution monitor (issue 6): every value has a working default
    monitor_tick_s: int = Field(default=300, gt=0)  # the schedule; the first tick looks back this far
    monitor_page_size: int = Field(default=500, ge=1, le=500)  # Tray's maximum: fewest list calls
    monitor_lease_s: int = Field(default=900, gt=0)  # a crashed tick's lease expires after this
    monitor_alert_threshold: float = Field(default=0.10, ge=0, le=1)
    monitor_alert_thresholds: str = ""  # per workflow overrides: "lead_enrichment=0.05,order_processing=0.2"
    monitor_alert_min_runs: int = Field(default=10, ge=1)  # runs in the rolling hour before rates count
    # An open alert clears only after the rate stayed below the threshold this long, with enough runs.
    monitor_alert_clear_after_s: int = Field(default=1800, ge=0)
    monitor_alert_workflow: str = "ops_alert_notification"
    monitor_max_retries: int = Field(default=3, ge=0)  # per failed execution (its chain of retries)
    monitor_max_retries_per_workflow: int = Field(default=25, ge=0)  # per tick: the task-credit guard
    monitor_backoff_base_s: float = Field(default=30.0, ge=0)
    monitor_outage_min_failures: int = Field(default=3, ge=1)  # 5xx from one service in one tick
    monitor_outage_ratio: float = Field(default=0.5, gt=0, le=1)  # ... and at least this share of its calls
    monitor_probe_timeout_s: float = Field(default=20.0, ge=0)
    monitor_chunk_size: int = Field(default=200, ge=1)  # seed 001: 200 records a chunk
    monitor_salesforce_connector_version: str = "8.1"
    monitor_salesforce_auth_id: str = ""  # empty: the first Salesforce authentication Tray lists
    monitor_running_checks_per_tick: int = Field(default=100, ge=0)

    # Work ledger: leases, waiting for a concurrent duplicate, incidents and their probes
    work_lease_s: float = Field(default=60.0, gt=0)  # a crashed worker's item is swept after this
    work_duplicate_wait_s: float = Field(default=5.0, ge=0)  # a redelivery waits for the first
    work_probe_interval_s: float = Field(default=60.0, gt=0)  # how often an open incident is probed
    # A connector's expired authentication is probed by retrying one held run: rarely (task credits).
    work_auth_probe_interval_s: float = Field(default=900.0, gt=0)
    work_drain_per_sweep: int = Field(default=200, ge=1)  # held items run per sweep (Tray's limits)
    work_retention_days: int = Field(default=365, ge=1)
    # The same content from the same sender under a new id within this window is a duplicate
    # (a form submitted twice); a resend with the same occurred_at is one for 24 hours.
    duplicate_window_s: int = Field(default=300, ge=0)

    # Fix before trigger (issue 9): picklist values fetched from the Platform API are cached this
    # long per container; learnt fixes are read from the work table on every trigger (no cache).
    picklist_cache_ttl_s: float = Field(default=3600.0, ge=0)
    # A failure callback whose retry is due within this long (a rate limit's Retry-After) waits
    # for it in the same invocation instead of leaving it to the next tick; API Gateway's 30 s
    # integration timeout bounds it.
    callback_wait_max_s: float = Field(default=20.0, ge=0, le=25)
    fix_before_trigger: bool = True

    # Batching for non-urgent work (issue 9): the per-workflow policies live in the workflows file
    # ("batch"); this switch turns them on. Off by default: batched work finishes minutes later
    # (at most a policy's max_wait_s), which a deployment opts into.
    batching_enabled: bool = False

    # Retention and limits
    context_retention_days: int = 90
    decision_retention_days: int = 365
    max_body_bytes: int = 1024 * 1024
    po_max_bytes: int = Field(default=20 * 1024 * 1024, gt=0)  # a PDF or .eml handed to the PO parser
    po_max_pages: int = Field(default=200, gt=0)
    po_vision_max_pages: int = Field(default=5, gt=0)  # pages rendered and sent to a vision model
    po_vision_dpi: int = Field(default=110, ge=50, le=300)
    po_model_timeout_s: float = Field(default=60.0, gt=0)
    po_model_max_retries: int = Field(default=2, ge=0)
    # A PO whose Tray order cannot be sent now (an outage past the Trigger step's retries, or a
    # 429 asking to wait longer than po_trigger_max_retry_after_s) is held, retried with backoff,
    # and fails with its reason only when it has been held for po_hold_window_s.
    po_hold_window_s: int = Field(default=24 * 3600, ge=0)
    po_hold_backoff_base_s: int = Field(default=60, ge=1)
    po_hold_backoff_max_s: int = Field(default=30 * 60, ge=1)
    po_trigger_max_retry_after_s: float = Field(default=30.0, ge=0)

    # Follow-ups and customer health (issue 12): one-time EventBridge Scheduler schedules fire
    # follow-ups (the target: the follow-ups function, invoked through the scheduler role);
    # the daily sweep assesses every customer with signals and starts at most
    # health_sweep_max_tasks CSM tasks per run (Tray's limits; the rest wait for the next day).
    followup_schedule_group: str = "tray-agent-followups"
    followup_target_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:tray-agent-followups"
    followup_role_arn: str = "arn:aws:iam::000000000000:role/tray-agent-followups-scheduler"
    health_risk_threshold: float = Field(default=0.75, gt=0, le=2)
    health_recheck_days: int = Field(default=14, ge=1, le=60)
    health_sweep_max_tasks: int = Field(default=100, ge=0)
    summary_pattern_days: int = Field(default=7, ge=3, le=30)

    # Structured data, large orders and hostile documents (issue 14, points 1, 4-6):
    # the most a document's compressed streams may inflate to, all streams together (a 500 KB
    # bomb inflating to 512 MB is refused before PDFium touches it; the Parse Lambda has 1,536 MB);
    po_max_inflated_bytes: int = Field(default=256 * 1024 * 1024, gt=0)
    # a state bigger than this travels through S3 by reference (Step Functions' limit is 256 KiB);
    po_state_inline_max_bytes: int = Field(default=192 * 1024, gt=0)
    # the order goes to Tray in chunks of at most this many lines and bytes (Tray: 1 MB webhook
    # bodies, 6 MB between steps), each with its own idempotent chunk key.
    po_trigger_chunk_max_lines: int = Field(default=500, gt=0)
    po_trigger_chunk_max_bytes: int = Field(default=768 * 1024, gt=0)
    po_state_prefix: str = "state/"  # where offloaded pipeline states live in the PO bucket

    # Large orders in review (issue 14, point 5): an order whose JSON is larger than this is
    # reviewed by reference (the review item holds its S3 key, a summary and the flagged lines;
    # approval sends the approved order's key). Half the state limit: after an approval the state
    # carries the parsed and the approved order side by side.
    po_review_inline_max_bytes: int = Field(default=96 * 1024, gt=0)
    po_review_flagged_lines_max: int = Field(default=200, ge=0)  # flagged lines shown in the item

    # Findings on large orders (issue 14, point 5): when the state is still too large with the
    # order offloaded (most lines of a 2,000-line PO flagged), the findings go to S3 as well and
    # the state keeps this many of them inline, with their count and codes.
    po_state_findings_inline_max: int = Field(default=20, ge=0)

    @property
    def model_configured(self) -> bool:
        return bool(self.openai_model)

    def monitor_threshold_for(self, workflow: str) -> float:
        """The alert threshold of one workflow: its override, else the default."""
        for pair in self.monitor_alert_thresholds.split(","):
            name, _, value = pair.partition("=")
            if name.strip() == workflow and value.strip():
                return float(value)
        return self.monitor_alert_threshold


def settings_from_env(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from ``TRAY_AGENT_*`` variables (plus the standard OPENAI_* names)."""
    env = dict(os.environ if environ is None else environ)
    prefix = "TRAY_AGENT_"
    values: dict[str, str] = {k[len(prefix) :].lower(): v for k, v in env.items() if k.startswith(prefix)}
    for standard, field in (
        ("OPENAI_BASE_URL", "openai_base_url"),
        ("OPENAI_API_KEY", "openai_api_key"),
        ("OPENAI_MODEL", "openai_model"),
    ):
        if standard in env and field not in values:
            values[field] = env[standard]
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise ConfigurationError(f"invalid environment configuration: {exc}") from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The container's settings, validated on first use (cold start)."""
    return settings_from_env()
