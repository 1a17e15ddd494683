"""The Tray client: the only code in the package that talks to Tray.

The errors load with the package; the clients (httpx) and the models load on first use, so
code that only needs to name a Tray error (the API's cold start) pays for neither.
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

if TYPE_CHECKING:
    from tray_agent.tray.clients import TrayClients, build_tray_clients, get_tray_clients
    from tray_agent.tray.models import (
        Execution,
        ExecutionError,
        ExecutionPage,
        ExecutionStep,
        TriggerResult,
        WorkflowSummary,
    )

_LAZY = {
    "TrayClients": "clients",
    "build_tray_clients": "clients",
    "get_tray_clients": "clients",
    "Execution": "models",
    "ExecutionError": "models",
    "ExecutionPage": "models",
    "ExecutionStep": "models",
    "TriggerResult": "models",
    "WorkflowSummary": "models",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"tray_agent.tray.{_LAZY[name]}"), name)
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
