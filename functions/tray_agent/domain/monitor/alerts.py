"""Sending an alert: the configured Tray notification workflow and the SNS alerts topic."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tray_agent.data.alerts import AlertsTopic
from tray_agent.errors import TrayAgentError
from tray_agent.models.decisions import WorkflowCall
from tray_agent.models.monitor import Alert
from tray_agent.observability import logger, metrics

if TYPE_CHECKING:
    from tray_agent.domain.agent.runner import WorkflowRunner


class Alerter:
    def __init__(
        self,
        topic: AlertsTopic,
        runner: WorkflowRunner | None,
        workflow: str,
        claim: Callable[[str], bool] | None = None,
    ) -> None:
        self._topic = topic
        self._runner = runner
        self._workflow = workflow
        # Tray does not deduplicate triggers: the notification is claimed (recorded) before it runs.
        self._claim = claim

    def send(self, alert: Alert) -> None:
        """Both channels; one failing does not stop the other or the tick.

        The Tray notification is claimed per incident and kind before it runs (Tray itself does
        not deduplicate), so a tick that resumes after a crash does not notify twice through Tray.
        """
        logger.warning(
            "monitor alert", kind=alert.kind.value, key=alert.key, severity=alert.severity, title=alert.title
        )
        metrics.add_metric(name=f"MonitorAlert_{alert.kind.value}", unit="Count", value=1)
        try:
            self._topic.publish(
                alert.title,
                {"kind": alert.kind.value, "key": alert.key, "title": alert.title, **alert.details},
                severity=alert.severity,
            )
        except Exception:
            logger.exception("alert not published to SNS", key=alert.key)
        if self._runner is None or not self._workflow:
            return
        call = WorkflowCall(
            workflow=self._workflow,
            input={
                "severity": alert.severity,
                "title": alert.title,
                "details": {"kind": alert.kind.value, "key": alert.key, **alert.details},
            },
        )
        key = f"monitor-alert:{alert.kind.value}:{alert.key}"
        if self._claim is not None and not self._claim(key):
            return  # already sent for this incident
        try:
            self._runner.run(call, idempotency_key=key)
        except TrayAgentError as exc:
            logger.warning("alert not sent through Tray", key=alert.key, error=exc.message)
