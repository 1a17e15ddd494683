"""Where each Tray API lives, per region (seed 003 / tray-platform-openapi.yml ``servers``)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from tray_agent.config import Settings, TrayRegion
from tray_agent.errors import ConfigurationError


@dataclass(frozen=True)
class TrayEndpoints:
    workflow_api: str  # Workflow/Executions API, ".../api/v1"
    graphql: str  # Embedded API
    platform: str  # Platform (Connectivity) API, ".../core/v1"
    webhook_base: str | None  # resolves relative webhook paths from the workflows file


REGIONS: dict[TrayRegion, TrayEndpoints] = {
    "us": TrayEndpoints(
        workflow_api="https://tray.io/api/v1",
        graphql="https://tray.io/graphql",
        platform="https://api.tray.io/core/v1",
        webhook_base=None,
    ),
    "eu": TrayEndpoints(
        workflow_api="https://eu1.tray.io/api/v1",
        graphql="https://eu1.tray.io/graphql",
        platform="https://api.eu1.tray.io/core/v1",
        webhook_base=None,
    ),
    "apac": TrayEndpoints(
        workflow_api="https://ap1.tray.io/api/v1",
        graphql="https://ap1.tray.io/graphql",
        platform="https://api.ap1.tray.io/core/v1",
        webhook_base=None,
    ),
}


def endpoints_for(settings: Settings) -> TrayEndpoints:
    """The region's URLs, or all of them under ``tray_api_base_url`` (simulator, proxies)."""
    webhook_base = str(settings.tray_webhook_base_url).rstrip("/") if settings.tray_webhook_base_url else None
    if settings.tray_api_base_url is None:
        region = REGIONS[settings.tray_region]
        return TrayEndpoints(region.workflow_api, region.graphql, region.platform, webhook_base)
    base = str(settings.tray_api_base_url).rstrip("/")
    return TrayEndpoints(
        workflow_api=f"{base}/api/v1",
        graphql=f"{base}/graphql",
        platform=f"{base}/core/v1",
        webhook_base=webhook_base or base,
    )


def resolve_webhook_url(url: str, endpoints: TrayEndpoints) -> str:
    if url.startswith(("https://", "http://")):
        return url
    if not endpoints.webhook_base:
        raise ConfigurationError(f"webhook path {url!r} needs TRAY_AGENT_TRAY_WEBHOOK_BASE_URL")
    return urljoin(endpoints.webhook_base + "/", url.lstrip("/"))
