"""A bulk workflow's loop over records (Tray's "Loop collection"), for the simulator's engine.

Each iteration runs the loop's steps for one record; each step run is recorded on the execution
(so it is billed: one task credit per step per iteration). A record that fails fails only its
own iteration; the run goes on with the next record and reports every record's result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tray_local.simulator.catalog import SALESFORCE_PICKLISTS
from tray_local.simulator.scripts import LoopScript, StepScript

if TYPE_CHECKING:
    from tray_local.simulator.engine import Engine, ExecutionRecord


def run_loop(engine: Engine, record: ExecutionRecord, loop: LoopScript) -> list[dict[str, Any]]:
    from tray_local.simulator.engine import StepRecord, utc_now

    records = record.input.get(loop.records_field)
    results: list[dict[str, Any]] = []
    for position, entry in enumerate(records if isinstance(records, list) else []):
        item = entry if isinstance(entry, dict) else {}
        result: dict[str, Any] = {loop.id_field: item.get(loop.id_field), "status": "succeeded"}
        for step in loop.steps:
            step_record = StepRecord(
                name=f"{step.name}[{position}]", connector=step.connector, started_at=utc_now()
            )
            with engine._lock:
                record.steps.append(step_record)
            error = _iteration_error(engine, step, item, loop)
            step_record.finished_at = utc_now()
            if error is not None:
                step_record.status, step_record.error = "failed", error
                step_record.logs.append(f"{step.name} failed for record {position}: {error['message']}")
                result.update(status="failed", error=error)
                break  # only this iteration stops
            engine._sleep(step.seconds)
            step_record.status = "succeeded"
        results.append(result)
    return results


def _iteration_error(
    engine: Engine, step: StepScript, item: dict[str, Any], loop: LoopScript
) -> dict[str, Any] | None:
    base = {"step": step.name, "connector": step.connector}
    outage = engine.service_outages.get(step.connector)
    if outage is not None:
        return {
            "code": "SERVICE_UNAVAILABLE",
            "message": f"{step.connector} returned HTTP {outage.status} Service Unavailable",
            "serviceCode": f"HTTP_{outage.status}",
            **base,
        }
    fault = engine.connector_faults.get(step.connector)
    if fault is not None and engine.chance(fault.rate):
        return {
            "code": fault.code,
            "message": fault.message,
            "serviceCode": fault.service_code,
            "retryAfter": fault.retry_after_s,
            **base,
        }
    if step.connector != "salesforce":
        return None
    for field_name, picklist in loop.picklist_fields.items():
        value = item.get(field_name)
        if value is not None and value not in SALESFORCE_PICKLISTS.get(picklist, []):
            return {
                "code": "CONNECTOR_ERROR",
                "message": f"FIELD_CUSTOM_VALIDATION_EXCEPTION: {picklist.split('.')[-1]}: bad value "
                f"for restricted picklist field: {value}",
                "serviceCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                "details": {"field": picklist, "value": value},
                **base,
            }
    return None
