"""Holding work that cannot run now, behind incidents, and noticing when it can run again.

An incident names why (Tray refused our credentials, a workflow is disabled, Tray is failing
or rate limiting longer than a request can wait), keyed so that at most one is open per
cause. Each incident is escalated once, to people (the alerts topic) and to the daily
summary. It closes when recovery is observed — a run of the same kind succeeds, or the
sweeper's probe (the oldest held item, run again) goes through — and its held items then
drain, oldest first. A failure after closing opens a new incident, escalated again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError

from tray_agent.clock import Clock, utc_now
from tray_agent.config import Settings
from tray_agent.data.alerts import AlertsTopic
from tray_agent.data.work import WorkRepository
from tray_agent.domain.agent.memory import OperationsSummary
from tray_agent.models.decisions import WorkflowCall
from tray_agent.models.work import Incident, IncidentKind, WorkItem
from tray_agent.observability import logger, metrics
from tray_agent.tray.errors import (
    TrayAuthRefreshFailedError,
    TrayError,
    TrayRateLimitedError,
    TrayServerError,
    TrayUnauthorizedError,
    TrayWorkflowDisabledError,
)

TRAY_SERVICE = "service:tray"
TRAY_AUTH = "auth:tray"


def incident_for(workflow: str, exc: TrayError) -> tuple[IncidentKind, str, str] | None:
    """(kind, key, reason) when ``exc`` means "not now" rather than "never"; None means never."""
    if isinstance(exc, TrayWorkflowDisabledError):
        return IncidentKind.WORKFLOW, f"workflow:{workflow}", f"workflow {workflow} is disabled in Tray"
    if isinstance(exc, TrayAuthRefreshFailedError):
        return IncidentKind.AUTH, f"auth:{workflow}", f"the authentication {workflow} uses has expired"
    if isinstance(exc, TrayUnauthorizedError):
        return IncidentKind.AUTH, TRAY_AUTH, "Tray refused the agent's credentials"
    if isinstance(exc, TrayRateLimitedError):
        return IncidentKind.SERVICE, TRAY_SERVICE, "Tray is rate limiting longer than a request can wait"
    if isinstance(exc, TrayServerError):
        return IncidentKind.SERVICE, TRAY_SERVICE, "Tray is failing (5xx)"
    return None


class Holds:
    def __init__(
        self,
        ledger: WorkRepository,
        alerts: AlertsTopic,
        summary: OperationsSummary,
        settings: Settings,
        clock: Clock = utc_now,
    ) -> None:
        self._ledger = ledger
        self._alerts = alerts
        self._summary = summary
        self._probe_interval = timedelta(seconds=settings.work_probe_interval_s)
        self._auth_probe_interval = timedelta(seconds=settings.work_auth_probe_interval_s)
        self._clock = clock

    def hold_for(
        self, work: WorkItem, call: WorkflowCall, exc: TrayError, *, workflow_id: str | None = None
    ) -> Incident | None:
        """The open incident ``work`` is held behind, or None when the refusal is final."""
        found = incident_for(call.workflow, exc)
        if found is None:
            return None
        kind, key, reason = found
        wait = None
        if isinstance(exc, TrayRateLimitedError) and exc.retry_after_s:
            wait = timedelta(seconds=exc.retry_after_s)
        incident, _ = self.open(
            kind, key, reason, first_held=work.work_id, code=exc.code, workflow_id=workflow_id, wait=wait
        )
        return incident

    def open(
        self,
        kind: IncidentKind,
        key: str,
        reason: str,
        *,
        first_held: str,
        code: str | None = None,
        workflow_id: str | None = None,
        wait: timedelta | None = None,
        notify: bool = True,
    ) -> tuple[Incident, bool]:
        """The open incident for ``key`` (opened now if none is), and whether it is new: escalated once.

        ``notify`` False: the caller escalates it itself (the monitor, through its own alerter).
        """
        now = self._clock()
        incident = self._ledger.open_incident(
            Incident(
                incident_id=f"{key}@{int(now.timestamp() * 1000)}",
                key=key,
                kind=kind,
                reason=reason,
                opened_at=now,
                next_probe_at=now + max(self._interval(kind, key), wait or timedelta(0)),
                workflow_id=workflow_id,
            )
        )
        first = self._ledger.claim_escalation(incident.incident_id)
        if first:
            self._escalate(incident, first_held, code, notify=notify)
        return incident, first

    def _interval(self, kind: IncidentKind, key: str) -> timedelta:
        """A connector's authentication is probed by a real retry: rarely. Anything else is cheap."""
        connector_auth = kind is IncidentKind.AUTH and key != TRAY_AUTH
        return self._auth_probe_interval if connector_auth else self._probe_interval

    def _escalate(self, incident: Incident, first_held: str, code: str | None, *, notify: bool) -> None:
        message = {
            "incident_id": incident.incident_id,
            "kind": incident.kind.value,
            "reason": incident.reason,
            "code": code,
            "first_held_work": first_held,
            "what_to_do": _what_to_do(incident.kind),
        }
        if notify:
            try:
                self._alerts.publish(f"tray-agent: work held — {incident.reason}", message, severity="high")
            except (ClientError, BotoCoreError) as exc:
                # The work is held and visible either way; the escalation is owed: the next hold
                # or probe of this incident sends it.
                self._ledger.release_escalation(incident.incident_id)
                logger.error(
                    "escalation not sent", incident_id=incident.incident_id, error=type(exc).__name__
                )
                return
        incident.escalated_at = self._clock()
        self._ledger.put_incident(incident)
        self._summary.record(None, "incident", incident.key, "opened", note=f"{incident.reason} (held)")
        metrics.add_metric(name="IncidentOpened", unit="Count", value=1)
        logger.warning("incident opened", incident_id=incident.incident_id, kind=incident.kind.value)

    def recovered(self, work: WorkItem) -> list[Incident]:
        """Tray took the work's calls: close the incidents that acceptance disproves.

        Tray answering proves Tray is up, our credentials work and the workflow is enabled. It
        proves nothing about a connector's authentication (that run fails later, on its own):
        those incidents close when a run is seen succeeding (``observed_success``).
        """
        keys = {TRAY_SERVICE, TRAY_AUTH} | {f"workflow:{call.workflow}" for call in work.calls}
        return self._close_keys(keys, why=f"Tray took {work.work_id}")

    def observed_successes(self, last_success: dict[str, datetime]) -> list[Incident]:
        """Runs succeeded (the monitor saw them, by workflow name): their auth works, they are enabled."""
        closed = []
        for incident in self._ledger.open_incidents():
            kind, _, workflow = incident.key.partition(":")
            at = last_success.get(workflow) if kind in ("auth", "workflow") else None
            if at is not None and at > incident.opened_at:
                self.close(incident, why=f"a {workflow} run succeeded")
                closed.append(incident)
        return closed

    def _close_keys(self, keys: set[str], *, why: str, after: datetime | None = None) -> list[Incident]:
        closed = [
            incident
            for incident in self._ledger.open_incidents()
            if incident.key in keys and (after is None or after > incident.opened_at)
        ]
        for incident in closed:
            self.close(incident, why=why)
        return closed

    def close(self, incident: Incident, *, why: str) -> None:
        incident.closed_at = self._clock()
        self._ledger.close_incident(incident)
        self._summary.record(None, "incident", incident.key, "closed", note=why)
        logger.info("incident closed", incident_id=incident.incident_id, why=why)

    def probed(self, incident: Incident) -> None:
        """The probe did not go through: look again after the interval."""
        incident.probes += 1
        incident.next_probe_at = self._clock() + self._interval(incident.kind, incident.key)
        self._ledger.put_incident(incident)


def _what_to_do(kind: IncidentKind) -> str:
    return {
        IncidentKind.AUTH: "re-connect the authentication in Tray; held work runs by itself once it is valid",
        IncidentKind.WORKFLOW: "enable the workflow in Tray; held work runs by itself once it is enabled",
        IncidentKind.SERVICE: "nothing: held work runs by itself when Tray answers again",
    }[kind]
