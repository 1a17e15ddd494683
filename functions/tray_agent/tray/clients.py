"""One set of Tray clients per container, sharing one HTTP connection pool and one rate limiter."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import httpx

from tray_agent.config import Settings
from tray_agent.tray.endpoints import TrayEndpoints, endpoints_for
from tray_agent.tray.graphql import GraphQLClient
from tray_agent.tray.http import RetryPolicy, TrayHttp
from tray_agent.tray.platform import PlatformClient
from tray_agent.tray.ratelimit import TokenBucket
from tray_agent.tray.tokens import TokenSource
from tray_agent.tray.webhooks import WebhookClient
from tray_agent.tray.workflows import WorkflowsClient

CONNECT_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class TrayClients:
    webhooks: WebhookClient
    workflows: WorkflowsClient
    graphql: GraphQLClient
    platform: PlatformClient
    http: TrayHttp
    endpoints: TrayEndpoints

    def close(self) -> None:
        self.http.client.close()


def build_tray_clients(
    settings: Settings, *, limiter: TokenBucket | None = None, retry_policy: RetryPolicy | None = None
) -> TrayClients:
    """A fresh set of clients (tests and tools); Lambda code uses ``get_tray_clients``."""
    timeout = httpx.Timeout(settings.tray_timeout_s, connect=min(CONNECT_TIMEOUT_S, settings.tray_timeout_s))
    client = httpx.Client(
        timeout=timeout,
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        headers={"User-Agent": "tray-agent/0.1", "Accept": "application/json"},
    )
    bucket = limiter or _default_limiter(settings)
    http = TrayHttp(client, bucket, retry_policy or RetryPolicy(max_attempts=settings.tray_max_attempts))
    endpoints = endpoints_for(settings)
    tokens = TokenSource(settings)
    return TrayClients(
        webhooks=WebhookClient(http, endpoints, timeout_s=settings.tray_timeout_s),
        workflows=WorkflowsClient(http, endpoints, lambda: tokens.get("master")),
        graphql=GraphQLClient(http, endpoints, lambda: tokens.get("user")),
        platform=PlatformClient(http, endpoints, tokens.get),
        http=http,
        endpoints=endpoints,
    )


def _default_limiter(settings: Settings) -> TokenBucket:
    if not settings.tray_shared_limit:
        return TokenBucket(settings.tray_client_rps, settings.tray_client_burst)
    # Composition only: the budget lives in data/ (boto3); tray/ sees the SharedBudget interface.
    from tray_agent.data.tray_budget import DynamoTrayBudget
    from tray_agent.tray.ratelimit import SharedTokenBucket

    budget = DynamoTrayBudget(settings.tray_budget_table, settings.tray_client_rps)
    return SharedTokenBucket(budget)


@lru_cache(maxsize=4)
def get_tray_clients(settings: Settings) -> TrayClients:
    """The container's clients: built on first use, then shared by every invocation."""
    return build_tray_clients(settings)
