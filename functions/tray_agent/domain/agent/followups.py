"""Follow-ups the agent schedules itself: a later check, recorded in the ledger, fired by a schedule.

    decision (rules' ``follow_up`` / the LLM's ``schedule_follow_up`` tool)
      → the work's calls went through → a ``followup`` work item (received, lease = due time)
        + an index entry per customer/person + a one-time EventBridge Scheduler schedule
      → due: the schedule invokes the follow-ups function with the work id (the sweeper fires a
        due one whose schedule was lost) → the check decides → the ledger runs the calls.

The work id comes from the scheduling work, the check and the miss number, so scheduling twice
records one follow-up, and firing twice checks once (the second finds it finished). Cancelling
(the hire left, the order was cancelled) rejects the item and deletes its schedule; nothing
lives in memory, so follow-ups survive deploys.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tray_agent.clock import Clock, utc_now
from tray_agent.data.followups import FollowUpIndex, subject_key
from tray_agent.data.schedules import SchedulesRepository
from tray_agent.data.work import StaleWorkError
from tray_agent.domain.agent.registry import ToolRegistry
from tray_agent.errors import InvalidInputError, NotFoundError
from tray_agent.models.decisions import Decision, DecisionAction, WorkflowCall
from tray_agent.models.followups import FollowUpPlan, FollowUpView
from tray_agent.models.work import MOVING_STATES, WorkItem, WorkKind, WorkState, work_id_for
from tray_agent.observability import logger

if TYPE_CHECKING:  # without an import cycle at runtime
    from tray_agent.domain.agent.health import CustomerHealth
    from tray_agent.domain.agent.work import WorkEngine

FOLLOWUP_NAMESPACE = uuid.UUID("3c8e7f21-5b2a-4d9e-8f10-6a4b2c1d0e93")
ACCOUNT_CHECK_WORKFLOW = "account_activity_check"
# A schedule may fire a little early (clock skew); earlier than this is not the due follow-up.
EARLY_TOLERANCE = timedelta(seconds=60)
# Setup instructions per tool: the nudge names only the tools this person has not set up.
SETUP_INSTRUCTIONS: dict[str, str] = {
    "google_workspace": "Sign in at accounts.google.com with your work e-mail; set up 2-step verification.",
    "slack": "Accept the Slack invitation in your inbox, then join #general and your team channel.",
    "okta": "Activate your Okta account from the activation e-mail and enrol Okta Verify.",
    "notion": "Open Notion through the Okta dashboard and accept the workspace invitation.",
    "github": "Accept the GitHub organisation invitation and add your SSH key; SSO goes through Okta.",
    "aws": "Open AWS through the Okta dashboard (AWS SSO); your role is read-only to start with.",
    "marketo": "Open Marketo through the Okta dashboard; your manager assigns your workspace.",
    "hubspot": "Accept the HubSpot invitation and connect your mailbox.",
    "salesforce": "Log in to Salesforce through Okta and verify your identity.",
}
CANCEL_EVENT_TYPES = frozenset(
    {"employee.left", "employee.offboarded", "hire.cancelled", "employee.hire_cancelled", "order.cancelled"}
)

Check = Callable[[WorkItem, FollowUpPlan], Decision]


class FollowUps:
    def __init__(
        self,
        engine: WorkEngine,
        schedules: SchedulesRepository,
        index: FollowUpIndex,
        registry: ToolRegistry,
        *,
        run_check_workflow: Callable[[str, dict[str, Any], str], dict[str, Any]],
        retention: timedelta,
        clock: Clock = utc_now,
    ) -> None:
        self._engine = engine
        self._ledger = engine.ledger
        self._schedules = schedules
        self._index = index
        self._registry = registry
        self._run_check_workflow = run_check_workflow  # (workflow id, input, key) -> the run's output
        self._retention = retention
        self._clock = clock
        self._checks: dict[str, Check] = {"accounts_active": self._accounts_active}
        self.health: CustomerHealth | None = None  # set by domain/agent/watchers.py

    def use_clock(self, clock: Clock) -> None:
        """A simulated clock (local runs, tests, the demo): follow-ups and health both follow it."""
        self._clock = clock
        if self.health is not None:
            self.health.use_clock(clock)

    def now(self) -> datetime:
        return self._clock()

    def register_check(self, name: str, check: Check) -> None:
        self._checks[name] = check

    # -- scheduling -----------------------------------------------------------------------------
    def schedule_for(self, origin: WorkItem) -> list[str]:
        """Schedule the follow-ups ``origin``'s decision asked for (called once its calls ran)."""
        decision = origin.decision
        return [self.schedule(plan, origin) for plan in (decision.follow_ups if decision else [])]

    def schedule(self, plan: FollowUpPlan, origin: WorkItem) -> str:
        """Record the follow-up, index it, schedule it; each step idempotent. Returns its work id."""
        if plan.check not in self._checks:
            raise InvalidInputError(
                f"no follow-up check {plan.check!r}", details={"known": sorted(self._checks)}
            )
        now = self._clock()
        work_id = work_id_for(WorkKind.FOLLOWUP, f"{origin.work_id}|{plan.check}|{plan.miss}")
        existing = self._ledger.get(work_id)
        due_at = (
            existing.lease_until
            if existing and existing.lease_until
            else now + timedelta(seconds=plan.after_s)
        )
        if existing is None:
            work = WorkItem(
                work_id=work_id,
                kind=WorkKind.FOLLOWUP,
                origin_id=origin.work_id,
                created_at=now,
                updated_at=now,
                lease_until=due_at,  # due: the sweeper's index lists it then (a lost schedule)
                event_type=f"followup.{plan.check}",
                source="tray-agent",
                customer_id=plan.customer_id or origin.customer_id,
                decision_id=str(uuid.uuid5(FOLLOWUP_NAMESPACE, work_id)),
            )
            document = {
                "id": work_id,
                "type": work.event_type,
                "followup": plan.model_dump(mode="json"),
                "scheduled_by": origin.work_id,
                "due_at": due_at.isoformat(),
            }
            self._ledger.create(work, document)  # intent first; False: another writer recorded it
        subjects = self._subjects(plan, plan.customer_id or origin.customer_id)
        expires = int((due_at + self._retention).timestamp())
        self._index.add(subjects, due_at, work_id, expires)
        self._schedules.create_once(work_id, due_at, {"work_id": work_id})
        logger.info("follow-up scheduled", work_id=work_id, check=plan.check, due_at=due_at.isoformat())
        return work_id

    @staticmethod
    def _subjects(plan: FollowUpPlan, customer_id: str | None) -> list[str]:
        subjects = []
        if customer_id:
            subjects.append(subject_key("customer", customer_id))
        if plan.person:
            subjects.append(subject_key("person", plan.person))
        return subjects

    # -- firing ---------------------------------------------------------------------------------
    def fire(self, work_id: str) -> WorkItem:
        """The schedule's target: run the follow-up's check once, if it is due and still pending."""
        work = self._ledger.get(work_id)
        if work is None or work.kind is not WorkKind.FOLLOWUP:
            raise NotFoundError(f"no follow-up {work_id!r}")
        now = self._clock()
        if work.state not in MOVING_STATES:
            logger.info("follow-up already handled", work_id=work_id, state=work.state.value)
            return work  # fired twice, or cancelled: one check
        if work.state is WorkState.RECEIVED and work.lease_until and work.lease_until > now + EARLY_TOLERANCE:
            logger.warning("follow-up fired early; left for its due time", work_id=work_id)
            return work
        lease = timedelta(seconds=60)
        try:
            taken = self._ledger.save(
                work.model_copy(update={"lease_until": max(now, utc_now()) + lease, "updated_at": now})
            )
        except StaleWorkError:
            return self._ledger.get(work_id) or work  # another firing took it
        return self._engine.advance(taken)

    def fire_due(self, now: datetime, limit: int = 500) -> list[WorkItem]:
        """Every due follow-up (the sweeper's safety net for a lost schedule)."""
        due = [
            w
            for w in self._ledger.open_items(WorkState.RECEIVED, due_before=now, limit=limit)
            if w.kind is WorkKind.FOLLOWUP
        ]
        return [self.fire(w.work_id) for w in due]

    def decide(self, work: WorkItem, document: dict[str, Any]) -> Decision:
        """The engine's decide step for a follow-up: its check, given its plan."""
        plan = FollowUpPlan.model_validate(document.get("followup") or {})
        check = self._checks.get(plan.check)
        if check is None:
            return Decision(
                action=DecisionAction.REVIEW,
                reason=f"follow-up check {plan.check!r} is not known to this version",
                rule=f"followup.{plan.check}",
            )
        return check(work, plan)

    # -- cancelling and listing -----------------------------------------------------------------
    def cancel_for(self, *, customer_id: str | None, person: str | None, reason: str) -> list[str]:
        """Cancel every pending follow-up of the customer or person (the hire left, ...)."""
        cancelled = []
        for view in self.list_for(customer_id=customer_id, person=person):
            if view.state != WorkState.RECEIVED.value:
                continue
            work = self._ledger.get(view.work_id)
            if work is None or work.state is not WorkState.RECEIVED:
                continue
            try:
                self._engine.cancel_pending(work, f"cancelled: {reason}")
            except StaleWorkError:
                continue  # it fired in between: its check ran
            self._schedules.delete(view.work_id)
            cancelled.append(view.work_id)
            logger.info("follow-up cancelled", work_id=view.work_id)
        return cancelled

    def list_for(self, *, customer_id: str | None = None, person: str | None = None) -> list[FollowUpView]:
        if not customer_id and not person:
            raise InvalidInputError("name a customer (?customer=) or a person (?person=)")
        ids: list[str] = []
        if customer_id:
            ids += self._index.work_ids(subject_key("customer", customer_id))
        if person:
            ids += [i for i in self._index.work_ids(subject_key("person", person)) if i not in ids]
        views = []
        for work_id in ids:
            work = self._ledger.get(work_id)
            if work is None:
                continue
            plan = FollowUpPlan.model_validate(self._ledger.event(work_id).get("followup") or {})
            views.append(
                FollowUpView(
                    work_id=work_id,
                    check=plan.check,
                    due_at=datetime.fromisoformat(str(self._ledger.event(work_id).get("due_at"))),
                    state=work.state.value,
                    customer_id=work.customer_id,
                    person=plan.person,
                    scheduled_by=work.origin_id,
                    miss=plan.miss,
                    reason=work.reason,
                )
            )
        return sorted(views, key=lambda v: v.due_at)

    # -- checks ---------------------------------------------------------------------------------
    def _accounts_active(self, work: WorkItem, plan: FollowUpPlan) -> Decision:
        """Onboarding: are the person's accounts active, and have they signed in to each?"""
        email = str(plan.input.get("employee_email") or plan.person or "")
        tools = [str(t) for t in plan.input.get("tools") or []]
        workflow_id = self._registry.get(ACCOUNT_CHECK_WORKFLOW).trigger.workflow_id or ACCOUNT_CHECK_WORKFLOW
        # A read: run again (a new key) if the item is re-decided after a crash.
        output = self._run_check_workflow(
            workflow_id,
            {"employee_email": email, "tools": tools},
            f"{work.work_id}.check{len(work.attempts)}",
        )
        rule = f"followup.accounts_active.miss{plan.miss}"
        if not isinstance(output.get("inactive"), list) or not isinstance(
            output.get("never_signed_in"), list
        ):
            return Decision(
                action=DecisionAction.REVIEW,
                reason=f"the account check for {email} gave no account status: a person looks",
                rule=rule,
            )
        inactive = {str(t) for t in output["inactive"]}
        unseen = {str(t) for t in output["never_signed_in"]}
        missing = [t for t in tools if t in inactive or t in unseen]
        if not missing:
            return Decision(
                action=DecisionAction.IGNORE,
                reason=f"all {len(tools)} accounts of {email} are active and signed in: nothing to do",
                rule=rule,
            )
        detail = ", ".join(f"{t} ({'not active' if t in inactive else 'never signed in'})" for t in missing)
        if plan.miss == 1:
            nudge = str(plan.then.get("workflow") or "onboarding_nudge")
            return Decision(
                action=DecisionAction.TRIGGER,
                calls=[
                    WorkflowCall(
                        workflow=nudge,
                        input={
                            "employee_email": email,
                            "tools": missing,
                            "instructions": [
                                {
                                    "tool": t,
                                    "steps": SETUP_INSTRUCTIONS.get(
                                        t, f"Sign in to {t} with your work e-mail."
                                    ),
                                }
                                for t in missing
                            ],
                        },
                    )
                ],
                reason=f"{email} is not set up on {detail}: nudged with setup instructions for those tools",
                rule=rule,
                follow_ups=[plan.model_copy(update={"miss": 2})],
            )
        manager = plan.input.get("manager_email")
        escalate = str(plan.then.get("escalate_workflow") or "onboarding_escalation")
        if not manager:
            return Decision(
                action=DecisionAction.REVIEW,
                reason=f"{email} is still not set up on {detail} after a nudge, and no manager is known",
                rule=rule,
            )
        return Decision(
            action=DecisionAction.TRIGGER,
            calls=[
                WorkflowCall(
                    workflow=escalate,
                    input={
                        "manager_email": manager,
                        "employee_email": email,
                        "tools": missing,
                        "detail": detail,
                    },
                )
            ],
            reason=f"{email} is still not set up on {detail} after a nudge: escalated to {manager}",
            rule=rule,
        )
