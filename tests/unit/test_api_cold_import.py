"""The API's cold import stays cheap (issue 11): what importing the handler must not load or build.

Each check runs in a fresh interpreter, as a Lambda cold start does: what an earlier test imported
must not hide a module-level import that crept back in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Loaded on first use, never by importing the handler: boto3 (and s3transfer with it), the
# agent's service and brains, the PO and dead-letter services.
DEFERRED_MODULES = [
    "boto3",
    "s3transfer",
    "tray_agent.domain.agent.service",
    "tray_agent.domain.agent.brain",
    "tray_agent.domain.po.queries",
    "tray_agent.domain.po.rerun",
    "tray_agent.domain.redrive",
]

IMPORT_PROBE = """
import json, sys
import pydantic
import tray_agent.handlers.api
from tray_agent.models.base import Model

def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)

ours = [cls for cls in subclasses(pydantic.BaseModel) if cls.__module__.startswith("tray_agent.")]
print(json.dumps({
    "loaded": sorted(m for m in sys.modules if m in set(sys.argv[1:])),
    "models": len([cls for cls in ours if cls is not Model]),
    "built": sorted(cls.__qualname__ for cls in ours if cls.__pydantic_complete__),
}))
"""

# The local environment serves concurrent requests as threads of one process: the first uses of a
# model, at the same time, must each get a working validator (pydantic builds it once, under a lock).
CONCURRENT_PROBE = """
import json
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from tray_agent.models.events import InboundEvent
from tray_agent.models.reviews import RejectRequest

barrier = Barrier(8)

def first_use(i):
    barrier.wait()
    fields = {"id": f"e-{i}", "type": "order.created", "source": "shop"}
    fields["occurred_at"] = "2026-12-01T12:00:00Z"
    event = InboundEvent.model_validate({**fields, "data": {"n": i}})
    try:
        InboundEvent.model_validate({**fields, "bogus": 1})  # extra="forbid" holds on first use too
        refused = False
    except ValueError:
        refused = True
    return [event.id, refused, RejectRequest(reason=f"r{i}").model_dump()["reason"]]

with ThreadPoolExecutor(8) as pool:
    print(json.dumps(list(pool.map(first_use, range(8)))))
"""


def _run(probe: str, *args: str) -> object:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), str(ROOT)])}
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    out = subprocess.run(
        [sys.executable, "-c", probe, *args], check=True, capture_output=True, text=True, env=env, cwd=ROOT
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_importing_the_api_loads_no_boto3_and_no_domain_service() -> None:
    result = _run(IMPORT_PROBE, *DEFERRED_MODULES)
    assert isinstance(result, dict)
    assert result["loaded"] == []


def test_importing_the_api_builds_none_of_our_models() -> None:
    result = _run(IMPORT_PROBE, *DEFERRED_MODULES)
    assert isinstance(result, dict)
    assert result["models"] > 20  # the route models are defined (registered) …
    assert result["built"] == []  # … and none has built its validator yet


def test_concurrent_first_uses_of_a_deferred_model_all_validate() -> None:
    results = _run(CONCURRENT_PROBE)
    assert results == [[f"e-{i}", True, f"r{i}"] for i in range(8)]
