"""Batching for non-urgent work (issue 9): wait in the ledger, flush as one bulk run, settle per item.

Real parts only: the API handler, moto, the Tray simulator over HTTP (its bulk workflow loops over
the records and bills each iteration's steps). Time is injected through the sweeper's ``now``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import new_event, work_key
from tests.work.conftest import fresh_ledger
from tray_local.simulator import Fault

WORKFLOWS = Path(__file__).parents[2] / "functions/tray_agent/config_files/workflows.json"
RULES = Path(__file__).parents[2] / "functions/tray_agent/config_files/rules.json"
BULK = "lead_enrichment_bulk"
BULK_WEBHOOK = "/webhooks/5c1f0d2e-lead-enrichment-bulk"


@contextmanager
def batching(env: Any, tmp_path: Path, **policy: Any) -> Iterator[Any]:
    """A ledger of its own, batching on, lead_enrichment's policy changed by ``policy``."""
    document = json.loads(WORKFLOWS.read_text())
    for workflow in document["workflows"]:
        if workflow["name"] == "lead_enrichment":
            workflow["batch"].update(policy)
            workflow["batch"] = {k: v for k, v in workflow["batch"].items() if v is not None}
    workflows = tmp_path / "workflows.json"
    workflows.write_text(json.dumps(document))
    rules = json.loads(RULES.read_text())
    # A lead asking for a demo is urgent: enriched at high priority, never batched.
    rules["rules"].insert(
        0,
        {
            "name": "demo-request-lead",
            "when": {"event_type": "lead.created", "all": [{"path": "data.demo", "op": "eq", "value": True}]},
            "then": {
                "action": "trigger",
                "workflow": "lead_enrichment",
                "input": {
                    "email": "$data.email",
                    "source": "$source",
                    "company": "$data.company",
                    "priority": "high",
                },
                "reason": "asked for a demo: enriched at once",
            },
        },
    )
    # A lead that names its Salesforce lead source passes it on (a picklist: a bad value fails).
    rules["rules"].insert(
        1,
        {
            "name": "lead-with-source",
            "when": {"event_type": "lead.created", "all": [{"path": "data.lead_source", "op": "exists"}]},
            "then": {
                "action": "trigger",
                "workflow": "lead_enrichment",
                "input": {
                    "email": "$data.email",
                    "source": "$source",
                    "company": "$data.company",
                    "priority": "normal",
                    "lead_source": "$data.lead_source",
                },
                "reason": "new lead from {source} ({data.lead_source})",
            },
        },
    )
    rules_file = tmp_path / "rules.json"
    rules_file.write_text(json.dumps(rules))
    with fresh_ledger(
        env,
        TRAY_AGENT_BATCHING_ENABLED="true",
        TRAY_AGENT_WORKFLOWS_FILE=str(workflows),
        TRAY_AGENT_RULES_FILE=str(rules_file),
    ) as configured:
        yield configured


def lead(**data: Any) -> dict[str, Any]:
    event = new_event()
    event["data"].update(data)
    return event


def sweep(at: datetime | None = None) -> Any:
    from tray_agent.config import get_settings
    from tray_agent.domain.agent.service import build_sweeper

    return build_sweeper(get_settings()).sweep(at)


def bulk_runs(env: Any, *answers: Any) -> list[Any]:
    """This test's bulk runs: those carrying any of ``answers``' work items (the simulator is shared)."""
    env.simulator.wait_idle()
    ids = {a.body["work_id"] for a in answers}
    return [r for r in env.simulator.runs(BULK) if ids & set(records_of(r))]


def single_runs(env: Any, event: dict[str, Any]) -> list[Any]:
    env.simulator.wait_idle()
    return [
        r
        for r in env.simulator.runs("lead_enrichment")
        if (r.idempotency_key or "").startswith(work_key(event["id"]))
    ]


def work(env: Any, answer: Any) -> dict[str, Any]:
    body: dict[str, Any] = env.api("GET", f"/work/{answer.body['work_id']}").body
    return body


def records_of(run: Any) -> list[str]:
    return [r.get("record_id") for r in run.input.get("records", [])]


def test_a_full_batch_flushes_on_size_as_one_bulk_run_and_each_item_ends_done(
    local_env: Any, tmp_path: Path
) -> None:
    with batching(local_env, tmp_path, max_items=3, off_peak=None) as env:
        events = [lead() for _ in range(3)]
        answers = [env.api("POST", "/events", e) for e in events]
        assert [a.status for a in answers] == [202] * 3, [a.body for a in answers]
        # The third filled the batch, sent it, and its answer came after the run had settled.
        assert [a.body["status"] for a in answers] == ["batched", "batched", "done"]
        assert "waits for a bulk run of lead_enrichment_bulk" in answers[0].body["reason"]
        [run] = bulk_runs(env, *answers)  # the third accept filled the batch and sent it
        assert sorted(records_of(run)) == sorted(a.body["work_id"] for a in answers)
        assert all(single_runs(env, e) == [] for e in events)  # no single runs
        # The bulk run had finished by the time Tray answered: it is settled at once, not at the
        # next sweep; each item is done, with the bulk execution and the batch's attempt key.
        settled_item = work(env, answers[0])
        assert settled_item["batch"]["bulk_execution_id"] == run.id
        assert settled_item["attempts"][0]["key"] == run.idempotency_key
        assert env.api("GET", "/work", query={"state": "batched"}).body == []
        batch_id = settled_item["batch"]["batch_id"]
        batch = env.api("GET", f"/batches/{batch_id}").body
        assert batch["trigger"] == "size" and batch["attempt_key"] == run.idempotency_key
        assert len(batch["work_ids"]) == 3
        for answer in answers:
            item = work(env, answer)
            assert item["state"] == "done"
            assert item["executions"] == [{"workflow": BULK, "execution_id": run.id, "status_code": 200}]
            assert item["batch"]["record_status"] == "succeeded"
            decision = env.api("GET", f"/decisions/{answer.body['decision_id']}").body
            assert decision["outcome"] == "triggered"
        assert env.api("POST", "/events", events[0]).body["status"] == "done"  # a redelivery: same answer
        assert sweep().batch_items_done == 0 and len(bulk_runs(env, *answers)) == 1  # nothing runs twice
        settled = env.api("GET", f"/batches/{batch_id}").body
        assert settled["status"] == "settled" and settled["succeeded"] == 3
        assert env.api("GET", "/batches/batch-unknown").status == 404


def test_a_batch_flushes_on_age_when_its_oldest_item_waited_max_wait(local_env: Any, tmp_path: Path) -> None:
    with batching(local_env, tmp_path, max_items=50, max_wait_s=900, off_peak=None) as env:
        first, second, dropped = lead(), lead(), lead()
        answers = [env.api("POST", "/events", e) for e in (first, second, dropped)]
        assert [a.body["status"] for a in answers] == ["batched"] * 3
        # A queued item can be cancelled: it never runs.
        cancelled = env.api("POST", f"/work/{answers[2].body['work_id']}/cancel", {"reason": "not wanted"})
        assert cancelled.status == 200 and cancelled.body["state"] == "rejected"
        now = datetime.now(UTC)
        assert sweep(now + timedelta(seconds=600)).batches_flushed == 0  # not old enough yet
        assert bulk_runs(env, *answers) == []
        assert sweep(now + timedelta(seconds=901)).batches_flushed == 1
        [run] = bulk_runs(env, *answers)
        assert sorted(records_of(run)) == sorted(a.body["work_id"] for a in answers[:2])
        # Once in a bulk run, an item is no longer cancelled (it may already have run).
        late = env.api("POST", f"/work/{answers[0].body['work_id']}/cancel", {"reason": "too late"})
        assert late.status == 409
        sweep(now + timedelta(seconds=902))
        assert [work(env, a)["state"] for a in answers] == ["done", "done", "rejected"]


def test_a_batch_flushes_in_its_off_peak_window_and_on_the_window_schedule(
    local_env: Any, tmp_path: Path
) -> None:
    from tray_agent.handlers import monitor
    from tray_local.apigw import LambdaContext

    window = {"start": "02:00", "end": "03:00"}
    with batching(local_env, tmp_path, max_items=50, max_wait_s=30 * 86400, off_peak=window) as env:
        day = datetime.now(UTC).date() + timedelta(days=1)
        noon = datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)
        waiting = env.api("POST", "/events", lead())
        assert sweep(noon).batches_flushed == 0 and bulk_runs(env, waiting) == []  # outside the window
        assert sweep(noon.replace(hour=2, minute=30)).batches_flushed == 1  # inside it
        [run] = bulk_runs(env, waiting)
        assert records_of(run) == [waiting.body["work_id"]]

        # The window's EventBridge Scheduler schedule invokes the monitor function with this input.
        later = env.api("POST", "/events", lead())
        event = {"action": "flush_batches", "workflow": "lead_enrichment", "time": "2026-12-02T02:00:00Z"}
        result = monitor.handler(event, LambdaContext())
        assert result["flush_batches"]["flushed"] == 1
        assert result["flush_batches"]["items_done"] == 1  # the first batch settled on the way
        runs = bulk_runs(env, waiting, later)
        assert len(runs) == 2 and records_of(runs[1]) == [later.body["work_id"]]
        sweep(noon)
        assert work(env, later)["state"] == "done"


def test_a_record_that_fails_in_the_bulk_run_is_retried_alone_and_the_others_end_done(
    local_env: Any, tmp_path: Path
) -> None:
    with batching(local_env, tmp_path, max_items=3, off_peak=None) as env:
        good = [lead(lead_source="Web"), lead()]
        bad = lead(lead_source="Webinar")  # not a Salesforce LeadSource picklist value: its record fails
        answers = [env.api("POST", "/events", e) for e in (*good, bad)]
        [run] = bulk_runs(env, *answers)
        assert run.status == "succeeded"  # one record failing does not fail the run
        results = {r["record_id"]: r for r in run.output["records"]}
        assert results[answers[2].body["work_id"]]["status"] == "failed"
        assert "picklist" in results[answers[2].body["work_id"]]["error"]["message"]

        # Settled as soon as the bulk run's answer came: the failed record already ran alone.
        assert sweep().batch_items_done == 0
        assert [work(env, a)["state"] for a in answers[:2]] == ["done", "done"]
        assert all(single_runs(env, e) == [] for e in good)
        [alone] = single_runs(env, bad)  # retried ALONE, as a normal run with its own key
        assert alone.idempotency_key == f"{answers[2].body['work_id']}.a2.0"
        retried = work(env, answers[2])
        assert retried["state"] == "done"
        assert retried["batch"]["retried_alone"] is True
        assert "picklist" in retried["batch"]["record_error"]
        assert [a["status"] for a in retried["attempts"]] == ["refused", "sent"]
        assert [e["execution_id"] for e in retried["executions"]] == [run.id, alone.id]
        assert sweep().batch_items_alone == 0 and len(single_runs(env, bad)) == 1


def test_urgent_work_bypasses_the_batch(local_env: Any, tmp_path: Path) -> None:
    with batching(local_env, tmp_path, max_items=3, off_peak=None) as env:
        urgent = lead(demo=True)
        answer = env.api("POST", "/events", urgent)
        assert answer.body["status"] == "done", answer.body
        assert len(single_runs(env, urgent)) == 1
        assert single_runs(env, urgent)[0].input["priority"] == "high"
        assert work(env, answer)["batch"] is None
        assert bulk_runs(env, answer) == []


@pytest.mark.parametrize("crash", ["storage", "lost_answer"])
def test_a_crash_between_the_batch_record_and_tray_resumes_with_one_bulk_run(
    local_env: Any, tmp_path: Path, crash: str
) -> None:
    from botocore.exceptions import ClientError

    from tests.work.fault_matrix import storage_hook

    with batching(local_env, tmp_path, max_items=2, off_peak=None) as env:
        first = env.api("POST", "/events", lead())
        armed = {"after_batch_record": False, "fired": False}

        def crash_after_batch_record(model: Any = None, params: Any = None, **_: Any) -> None:
            name = getattr(model, "name", "")
            if name == "PutItem" and "batch#" in str((params or {}).get("body", "")):
                armed["after_batch_record"] = True
            elif armed["after_batch_record"] and not armed["fired"]:
                armed["fired"] = True  # the flusher dies right after writing the batch record
                raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, name)

        if crash == "storage":
            with storage_hook(crash_after_batch_record):
                second = env.api("POST", "/events", lead())
            assert armed["fired"]
        else:  # Tray took the bulk run, then the connection dropped: its answer is lost
            env.simulator.inject_fault(Fault(kind="reset", path_prefix=BULK_WEBHOOK, after_processing=True))
            second = env.api("POST", "/events", lead())
        assert second.status == 202 and second.body["status"] == "batched", (
            second.body
        )  # accepted all the same
        assert len(bulk_runs(env, first, second)) == (0 if crash == "storage" else 1)

        now = datetime.now(UTC)
        sweep(now)  # the batch's lease has not expired: nobody sends it yet
        sweep(now + timedelta(seconds=120))  # taken over: looked for by its key, sent only if absent
        sweep(now + timedelta(seconds=121))
        [run] = bulk_runs(env, first, second)
        assert sorted(records_of(run)) == sorted([first.body["work_id"], second.body["work_id"]])
        assert [work(env, a)["state"] for a in (first, second)] == ["done", "done"]
        assert {work(env, a)["batch"]["bulk_execution_id"] for a in (first, second)} == {run.id}


def test_batched_items_cost_fewer_task_credits_than_single_runs(local_env: Any, tmp_path: Path) -> None:
    from tray_local.simulator.scripts import LEAD_STEPS, WorkflowScript

    count = 5
    sim = local_env.simulator
    saved = sim.engine.workflow("lead_enrichment").script
    sim.set_script("lead_enrichment", WorkflowScript(steps=LEAD_STEPS))  # the seed's lead workflow
    try:
        with fresh_ledger(local_env) as env:  # batching off: each lead is its own run
            singles = [lead() for _ in range(count)]
            assert all(env.api("POST", "/events", e).body["status"] == "done" for e in singles)
            single_credits = sum(r.task_credits for e in singles for r in single_runs(env, e))
        with batching(local_env, tmp_path, max_items=count, off_peak=None) as env:
            answers = [env.api("POST", "/events", lead()) for _ in range(count)]
            sweep()
            assert all(work(env, a)["state"] == "done" for a in answers)
            [run] = bulk_runs(env, *answers)
            batched_credits = run.task_credits
    finally:
        sim.set_script("lead_enrichment", saved)
    # Single: trigger, processed-ids check and 5 steps per lead. Bulk: trigger, check, loop and one
    # Slack summary once, then 4 steps per lead (each iteration's steps are billed).
    assert single_credits == count * 7
    assert batched_credits == 4 + count * 4
    assert batched_credits < single_credits


def test_a_bulk_run_that_fails_whole_sends_each_item_alone_and_the_monitor_leaves_it_to_the_batcher(
    local_env: Any, tmp_path: Path
) -> None:
    from tray_local.simulator.scripts import WorkflowScript

    sim = local_env.simulator
    saved = sim.engine.workflow(BULK).script
    sim.set_script(BULK, saved.model_copy(update={"outcome": "fail", "error_code": "CONNECTOR_ERROR"}))
    try:
        with batching(local_env, tmp_path, max_items=2, off_peak=None) as env:
            events = [lead(), lead()]
            answers = [env.api("POST", "/events", e) for e in events]
            [run] = bulk_runs(env, *answers)
            assert run.status == "failed"
            # Tray's alerting workflow reports the failed bulk run: the monitor does not retry it.
            callback = {
                "workflow_id": run.workflow_id,
                "workflow_name": BULK,
                "execution_id": run.id,
                "error": {"code": "CONNECTOR_ERROR", "message": "the target service returned an error"},
            }
            reported = env.api("POST", "/callbacks/tray-failure", callback)
            assert reported.status == 202 and reported.body["action"] == "left_to_batcher", reported.body
            assert sweep().batch_items_alone == 0  # each item already ran alone when the run failed
            for event, answer in zip(events, answers, strict=True):
                assert len(single_runs(env, event)) == 1
                item = work(env, answer)
                assert item["state"] == "done" and "failed" in item["batch"]["record_error"]
            assert len([r for r in sim.runs(BULK) if r.retry_of == run.id]) == 0
    finally:
        sim.set_script(BULK, saved if isinstance(saved, WorkflowScript) else WorkflowScript())
