"""The Tray client: the only code in the package that talks to Tray."""

from tray_agent.tray.clients import TrayClients, build_tray_clients, get_tray_clients
from tray_agent.tray.errors import (
    TrayAuthRefreshFailedError,
    TrayBadRequestError,
    TrayConnectorError,
    TrayError,
    TrayNotFoundError,
    TrayPayloadTooLargeError,
    TrayRateLimitedError,
    TrayServerError,
    TrayStepTimeoutError,
    TrayTimeoutError,
    TrayTransportError,
    TrayUnauthorizedError,
    TrayWorkflowDisabledError,
)
from tray_agent.tray.models import (
    Execution,
    ExecutionError,
    ExecutionPage,
    ExecutionStep,
    TriggerResult,
    WorkflowSummary,
)

__all__ = [
    "Execution",
    "ExecutionError",
    "ExecutionPage",
    "ExecutionStep",
    "TrayAuthRefreshFailedError",
    "TrayBadRequestError",
    "TrayClients",
    "TrayConnectorError",
    "TrayError",
    "TrayNotFoundError",
    "TrayPayloadTooLargeError",
    "TrayRateLimitedError",
    "TrayServerError",
    "TrayStepTimeoutError",
    "TrayTimeoutError",
    "TrayTransportError",
    "TrayUnauthorizedError",
    "TrayWorkflowDisabledError",
    "TriggerResult",
    "WorkflowSummary",
    "build_tray_clients",
    "get_tray_clients",
]
