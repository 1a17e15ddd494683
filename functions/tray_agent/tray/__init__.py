"""The Tray client: the only code in the package that talks to Tray.

The errors and models are light and load with the package; the clients (httpx) load on first
use, so code that only needs to name a Tray error (the API's cold start) never pays for httpx.
"""

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from tray_agent.tray.clients import TrayClients, build_tray_clients, get_tray_clients

_LAZY = {"TrayClients", "build_tray_clients", "get_tray_clients"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from tray_agent.tray import clients

        return getattr(clients, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
