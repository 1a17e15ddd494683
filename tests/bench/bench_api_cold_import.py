"""Cold start of the API handler: its import time in a fresh interpreter, against baselines.

Baselines, each a fresh interpreter too:
- "bare Powertools": the canonical Powertools event-handler example (an APIGatewayHttpResolver
  with validation, Logger, Tracer and Metrics decorating the handler, one route);
- "resolver only": the same without Logger/Tracer/Metrics (reported for transparency).
Runs alternate between variants so machine noise hits them alike; medians are reported. The
ratios are the median of each round's own ratio (the variants of one round run back to back, under
the same load), which a shared, busy machine moves far less than a ratio of two medians; 21 rounds
because 7 still let one noisy minute swing the figure by ±0.2.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS = 21

BARE_POWERTOOLS = """
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths

logger = Logger(service="bare")
tracer = Tracer(service="bare")
metrics = Metrics(namespace="Bare", service="bare")
app = APIGatewayHttpResolver(enable_validation=True)


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    return app.resolve(event, context)
"""

RESOLVER_ONLY = """
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

app = APIGatewayHttpResolver(enable_validation=True)


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


def handler(event, context):
    return app.resolve(event, context)
"""

PROBE = """
import json, sys, time
started = time.perf_counter()
import {module}
elapsed = time.perf_counter() - started
print(json.dumps({{"s": elapsed, "openai": "openai" in sys.modules}}))
"""


def _import_once(module: str, extra_path: str) -> dict[str, float | bool]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([extra_path, str(ROOT / "functions")]),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "bench",
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=extra_path,
    ).stdout
    result: dict[str, float | bool] = json.loads(out.strip().splitlines()[-1])
    return result


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "bare_powertools_handler.py").write_text(BARE_POWERTOOLS)
        (Path(tmp) / "resolver_only_handler.py").write_text(RESOLVER_ONLY)
        variants = {
            "api": "tray_agent.handlers.api",
            "bare": "bare_powertools_handler",
            "resolver": "resolver_only_handler",
        }
        for module in variants.values():  # warm the file cache and .pyc files once
            _import_once(module, tmp)
        times: dict[str, list[float]] = {name: [] for name in variants}
        openai_imported = False
        for _ in range(RUNS):
            for name, module in variants.items():
                result = _import_once(module, tmp)
                times[name].append(float(result["s"]))
                openai_imported |= name == "api" and bool(result["openai"])
    api, bare = (statistics.median(times[name]) for name in ("api", "bare"))
    vs_bare = statistics.median(a / b for a, b in zip(times["api"], times["bare"], strict=True))
    vs_resolver = statistics.median(a / r for a, r in zip(times["api"], times["resolver"], strict=True))
    return {
        "api_cold_import_s": round(api, 4),
        "bare_powertools_cold_import_s": round(bare, 4),
        "api_cold_import_ratio_vs_bare_powertools": round(vs_bare, 3),
        "api_cold_import_ratio_vs_resolver_only": round(vs_resolver, 3),
        "api_cold_import_loads_openai": float(openai_imported),
    }
