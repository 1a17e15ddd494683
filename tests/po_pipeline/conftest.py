from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CATALOG_CSV = FIXTURES / "catalog.csv"
CATALOG_JSON = FIXTURES / "catalog.json"


@pytest.fixture(scope="module")
def po_pipeline(local_env: Any) -> Iterator[Any]:
    """The state machine CDK synthesizes, in moto, our handlers in-process, the catalog loaded.

    Module-scoped: moto's Lambda dispatch patch is process-wide, and other modules (sfn_local's
    tests) need it free. The synthesized template is cached for the whole session.
    """
    from tray_agent.domain.po.catalog import load_catalog, parse_catalog_file
    from tray_local.po_local import LocalPoPipeline

    load_catalog(parse_catalog_file(CATALOG_JSON), settings=local_env.settings)
    with LocalPoPipeline.start(local_env) as pipeline:
        yield pipeline


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"
