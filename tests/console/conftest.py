"""The whole local product on 127.0.0.1 for the console's tests: one fixture to swap for `serve`.

Until ``tray-agent serve`` exists this starts what ``local_env`` starts (moto in-process, the
Tray simulator over HTTP), the PO pipeline CDK synthesizes (moto's Step Functions, our
handlers), the product catalog, and the real API Lambda handler behind a local HTTP server
(``tray_local/api_bridge.py``). The tests only use ``Product``'s fields, so starting it
through ``serve`` instead changes this file alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@dataclass
class Product:
    base_url: str  # the API, as a browser or any HTTP client reaches it
    reviewer_token: str
    env: Any  # LocalEnvironment: the simulator, signed in-process API calls
    pipeline: Any  # LocalPoPipeline: drop PO documents, wait for their executions

    @property
    def console_url(self) -> str:
        return f"{self.base_url}/console/"


@pytest.fixture(scope="module")
def product(local_env: Any) -> Iterator[Product]:
    """Module-scoped like ``po_pipeline``: moto's Lambda dispatch patch is process-wide."""
    from tray_agent.domain.po.catalog import load_catalog, parse_catalog_file
    from tray_agent.handlers import api
    from tray_local.api_bridge import ApiBridge
    from tray_local.local_env import LOCAL_REVIEWER_TOKEN
    from tray_local.po_local import LocalPoPipeline

    load_catalog(parse_catalog_file(FIXTURES / "catalog.json"), settings=local_env.settings)
    with LocalPoPipeline.start(local_env) as pipeline, ApiBridge() as bridge:
        # Lambda's init phase: build the cached services before concurrent requests arrive.
        api._service()
        api._reviews()
        yield Product(bridge.base_url, LOCAL_REVIEWER_TOKEN, local_env, pipeline)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"
