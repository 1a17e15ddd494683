"""One Tray limit across containers: 20 worker processes, one account-wide budget.

Each worker process stands for one Lambda container: its own Tray client and its own
``SharedTokenBucket``, drawing from the DynamoDB budget (moto server over HTTP, shared by all
processes) while calling the simulator, which enforces Tray's 30 req/s with bursts to 50.

- ``tray_limit_20_workers_rps``: calls completed per second, all workers together (27..30).
- ``tray_limit_20_workers_429s_to_caller``: 429s that reached a caller (0).
- ``tray_limit_20_workers_429s_absorbed``: 429s the simulator sent (waited out by the client).
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import time
from typing import Any

WORKERS = int(os.environ.get("BENCH_TRAY_LIMIT_WORKERS", "20"))
DURATION_S = float(os.environ.get("BENCH_TRAY_LIMIT_S", "12"))
TABLE = "bench-tray-budget"


def _worker(args: tuple[str, str, str, str, str, Any]) -> tuple[float, float, list[float], int]:
    endpoint, base_url, master, user, execution_id, barrier = args
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    from tray_agent.config import Settings
    from tray_agent.tray import TrayRateLimitedError, build_tray_clients
    from tray_local.local_aws import use_fake_aws_credentials

    use_fake_aws_credentials()

    settings = Settings.model_validate(
        {
            "tray_api_base_url": base_url,
            "tray_master_token": master,
            "tray_user_token": user,
            "tray_shared_limit": True,
            "tray_budget_table": TABLE,
        }
    )
    clients = build_tray_clients(settings)  # tray_shared_limit: the DynamoDB budget
    done: list[float] = []
    limited = 0
    # A container's first call loads botocore's models and opens connections: done before the
    # clock starts, as a warm container has.
    from tray_agent.data import aws

    assert aws.table(TABLE).table_status == "ACTIVE"
    clients.workflows.get_execution(execution_id)
    barrier.wait()  # every process warm before the clock starts
    start_at = time.time()
    while time.time() < start_at + DURATION_S:
        try:
            clients.workflows.get_execution(execution_id)
            done.append(time.time())
        except TrayRateLimitedError:
            limited += 1
    ended_at = time.time()
    clients.close()
    return start_at, ended_at, done, limited


def run() -> dict[str, float]:
    from moto.server import ThreadedMotoServer

    from tray_agent.config import Settings
    from tray_agent.tray import build_tray_clients
    from tray_local.local_aws import use_fake_aws_credentials
    from tray_local.simulator import TraySimulator

    use_fake_aws_credentials()
    with socket.socket() as probe:  # a free port for the moto server every process talks to
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        import boto3

        boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1").create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        with TraySimulator(rate_limit_rps=30, burst=50) as sim:
            setup: Any = build_tray_clients(
                Settings.model_validate(
                    {
                        "tray_api_base_url": sim.base_url,
                        "tray_master_token": sim.master_token,
                        "tray_user_token": sim.user_token,
                    }
                )
            )
            execution_id = setup.workflows.execute(
                "wf-ops-alert", {"severity": "info"}, idempotency_key="l"
            ).id
            setup.close()
            context = multiprocessing.get_context("spawn")
            with context.Manager() as manager, context.Pool(WORKERS) as pool:
                barrier = manager.Barrier(WORKERS)
                args = (endpoint, sim.base_url, sim.master_token, sim.user_token, execution_id, barrier)
                results = pool.map(_worker, [args] * WORKERS)
            rejected = sim.rejected_429
    finally:
        server.stop()
    # Count over the span every worker was running (their clocks start a few ms apart).
    start, end = max(r[0] for r in results), min(r[1] for r in results)
    completed = sum(1 for r in results for t in r[2] if start <= t < end)
    return {
        "tray_limit_20_workers_rps": round(completed / (end - start), 2),
        "tray_limit_20_workers_429s_to_caller": float(sum(r[3] for r in results)),
        "tray_limit_20_workers_429s_absorbed": float(rejected),
    }


if __name__ == "__main__":
    print(run())
