"""Re-running a failed purchase order: one new execution from the original document.

Only a ``failed`` intake is re-run. ``rejected`` is a person's decision (a re-run would put the
same PO back in front of reviewers against that decision: the buyer resends instead); ``refused``
never had a PO to run; anything else is still running, held, in review, or ordered. The intake
moves from failed to started conditionally (two concurrent re-runs: one wins, the other gets
409), records who asked, and the execution is named ``<intake id>-r<attempt>``; its Trigger uses
the attempt's own Tray idempotency key, so a re-run after Tray refused the order is a new order,
while repeating one attempt never is.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tray_agent.config import Settings
from tray_agent.data.aws import transient_storage_errors
from tray_agent.data.po_intake import IntakeRepository
from tray_agent.data.stepfunctions import StepFunctionsGateway
from tray_agent.errors import ConfigurationError, ConflictError, NotFoundError
from tray_agent.models.po_pipeline import (
    IntakeStatus,
    PoPipelineState,
    Rerun,
    RerunAnswer,
    execution_name_for,
)
from tray_agent.observability import logger, metrics

RERUNNABLE = frozenset({IntakeStatus.FAILED})


class PoRerunService:
    def __init__(self, settings: Settings, intakes: IntakeRepository, stepfunctions: StepFunctionsGateway):
        self._settings = settings
        self._intakes = intakes
        self._sfn = stepfunctions

    def rerun(self, intake_id: str, *, requested_by: str) -> RerunAnswer:
        arn = self._settings.po_state_machine_arn
        if not arn:
            raise ConfigurationError("po_state_machine_arn is not configured")
        with transient_storage_errors():
            return self._rerun(arn, intake_id, requested_by)

    def _rerun(self, arn: str, intake_id: str, requested_by: str) -> RerunAnswer:
        record = self._intakes.get(intake_id)
        if record is None:
            raise NotFoundError(f"no PO intake {intake_id!r}")
        if record.status not in RERUNNABLE:
            raise ConflictError(
                f"PO intake {intake_id} is {record.status.value}; only a failed PO can be re-run"
                + (
                    " (a rejected PO was a reviewer's decision: the buyer resends it)"
                    if record.status is IntakeStatus.REJECTED
                    else ""
                ),
                details={"status": record.status.value},
            )
        if record.document is None:
            raise ConflictError(
                f"PO intake {intake_id} was recorded before re-runs existed and does not say which "
                "document it came from: drop the document again",
                details={"status": record.status.value},
            )
        attempt = record.attempt + 1
        rerun = Rerun(
            attempt=attempt,
            execution_name=execution_name_for(intake_id, attempt),
            requested_by=requested_by,
            requested_at=datetime.now(UTC),
            previous_error=record.error,
            previous_reason=record.reason,
        )
        if not self._intakes.begin_rerun(intake_id, rerun, previous_attempt=record.attempt):
            raise ConflictError(
                f"PO intake {intake_id} changed meanwhile (another re-run?); read it again",
                details={"status": "changed"},
            )
        state = PoPipelineState(intake_id=intake_id, document=record.document, attempt=attempt)
        try:
            # The name is per attempt and the input deterministic: a repeated start is a no-op.
            self._sfn.start_execution(arn, rerun.execution_name, state.dump())
        except Exception:
            self._intakes.undo_rerun(intake_id, rerun)
            raise
        metrics.add_metric(name="PurchaseOrdersRerun", unit="Count", value=1)
        logger.info(
            "purchase order re-run",
            intake_id=intake_id,
            attempt=attempt,
            previous_error=record.error,
            requested_by=requested_by,
        )
        return RerunAnswer(
            intake_id=intake_id,
            attempt=attempt,
            execution_name=rerun.execution_name,
            status=IntakeStatus.STARTED,
        )


def build_rerun_service(settings: Settings) -> PoRerunService:
    return PoRerunService(
        settings,
        IntakeRepository(
            settings.po_intake_table, retention=timedelta(days=settings.decision_retention_days)
        ),
        StepFunctionsGateway(),
    )
