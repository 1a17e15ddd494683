"""How a simulated workflow's runs behave: a ``WorkflowScript`` per workflow.

A script comes from a test (``TraySimulator(scripts=...)`` / ``sim.set_script``), or from the
workflows file's optional ``simulation`` field (same fields, as JSON), or defaults to "every
run succeeds at once".
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Seed 001 "Timeouts": standard connectors 45 s, CDK-built 120 s, HTTP Client 15 min.
STEP_TIMEOUT_S: dict[str, float] = {"http-client": 15 * 60.0, "cdk": 120.0}
STANDARD_STEP_TIMEOUT_S = 45.0
# Seed 001 "Data between workflow steps": 6 MB.
STEP_DATA_LIMIT_BYTES = 6 * 1024 * 1024


class StepScript(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    connector: str = "script"
    seconds: float = Field(default=0.0, ge=0)  # how long the step works (before the time factor)
    output_bytes: int = Field(default=0, ge=0)  # size of the data it hands to the next step


def timeout_for(connector: str) -> float:
    return STEP_TIMEOUT_S.get(connector, STANDARD_STEP_TIMEOUT_S)


class LoopScript(BaseModel):
    """Tray's "Loop collection" over the input's records (a bulk workflow, issue 9).

    The workflow's step whose connector is ``loop`` runs ``steps`` once per record of
    ``records_field``; every step of every iteration is a step run (a task credit, as Tray
    bills). A record that fails (a picklist value Salesforce refuses, a connector outage) fails
    only its own iteration: the run succeeds and its output lists each record's result under
    ``records`` ({id_field, "status": "succeeded" | "failed", "error"?}).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    records_field: str = "records"
    id_field: str = "record_id"
    steps: list[StepScript] = Field(min_length=1)
    picklist_fields: dict[str, str] = Field(default_factory=dict)  # record field -> "Object.Field"


class WorkflowScript(BaseModel):
    """What happens when the workflow runs.

    - ``outcome="fail"``: the run fails with ``error_code``/``error_message`` at step index
      ``fail_after_steps`` (that many steps succeed first);
    - ``failure_rate``: each run fails like that with this probability (the simulator's seeded RNG);
    - ``picklist_fields``: input field -> Salesforce "Object.Field"; a value outside the simulated
      picklist fails the Salesforce step with CONNECTOR_ERROR / FIELD_CUSTOM_VALIDATION_EXCEPTION;
    - a step whose ``seconds`` exceed its connector's timeout fails with STEP_TIMEOUT at the
      timeout; one whose ``output_bytes`` exceed 6 MB fails with PAYLOAD_TOO_LARGE.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: list[StepScript] | None = None  # None: a trigger step, a work step and a reply step
    outcome: Literal["succeed", "fail"] = "succeed"
    failure_rate: float = Field(default=0.0, ge=0, le=1)
    fail_after_steps: int = Field(default=1, ge=0)
    error_code: str = "CONNECTOR_ERROR"
    error_message: str = "the target service returned an error"
    service_code: str | None = None
    retry_after_s: float | None = None
    picklist_fields: dict[str, str] = Field(default_factory=dict)
    output: dict[str, Any] | None = None  # the reply on success (default: {"ok": true})
    loop: LoopScript | None = None  # what the step with connector "loop" runs per record

    def resolved_steps(self, connector: str = "script") -> list[StepScript]:
        if self.steps:
            return list(self.steps)
        return [
            StepScript(name="trigger", connector="webhook"),
            StepScript(name="run", connector=connector),
            StepScript(name="reply", connector="webhook"),
        ]


def _steps(*specs: tuple[str, str]) -> list[StepScript]:
    return [StepScript(name=name, connector=connector) for name, connector in specs]


LEAD_STEPS = _steps(
    ("trigger", "webhook"),
    ("clearbit_enrich", "clearbit"),
    ("zoominfo_enrich", "zoominfo"),
    ("score_lead", "script"),
    ("salesforce_create_lead", "salesforce"),
    ("slack_notify", "slack"),
)
ACCOUNT_STEPS = _steps(
    ("trigger", "webhook"),
    ("map_fields", "script"),
    ("salesforce_upsert_account", "salesforce"),
    ("reply", "webhook"),
)
ORDER_STEPS = _steps(
    ("trigger", "webhook"),
    ("create_fulfillment", "shipstation"),
    ("post_to_accounting", "netsuite"),
    ("send_invoice", "stripe"),
)

# The seeds' stories (seed 000), for ``tray-agent tray-sim --stories`` and the demo.
SEED_STORIES: dict[str, WorkflowScript] = {
    # "the Clearbit enrichment connector has been failing at a 15% rate since Tuesday"
    "lead_enrichment": WorkflowScript(
        steps=LEAD_STEPS,
        failure_rate=0.15,
        fail_after_steps=1,
        error_code="CONNECTOR_ERROR",
        error_message="Clearbit returned HTTP 502: upstream enrichment service error",
        service_code="HTTP_502",
    ),
    # Salesforce rejects Industry "SaaS": the valid picklist value is "Technology - SaaS".
    "salesforce_account_upsert": WorkflowScript(
        steps=ACCOUNT_STEPS, picklist_fields={"industry": "Account.Industry"}
    ),
    # A stale OAuth token: Tray gave up refreshing it.
    "csm_health_task": WorkflowScript(
        outcome="fail",
        fail_after_steps=1,
        error_code="AUTH_REFRESH_FAILED",
        error_message="OAuth token refresh failed after 3 retries for authentication 'Salesforce (CSM)'",
    ),
    # A downstream outage: NetSuite answers 503 for a while.
    "order_processing": WorkflowScript(
        steps=ORDER_STEPS,
        outcome="fail",
        fail_after_steps=2,
        error_code="SERVICE_UNAVAILABLE",
        error_message="NetSuite returned HTTP 503 Service Unavailable",
        service_code="HTTP_503",
        retry_after_s=120,
    ),
}
