"""``tray-agent serve``: the whole product on 127.0.0.1, for a person (and for tests) to use.

``start_local_product(state_dir, fresh=False, port=8765)`` starts, in this process:

- AWS as moto, in-process (the very backends ``make demo`` and the tests use; Step Functions runs
  the CDK-synthesized PO pipeline with our handlers, ``.waitForTaskToken`` included), and the
  same backends served by moto's server on ``aws_port`` so the AWS CLI can look inside
  (``aws --endpoint-url … dynamodb scan --table-name tray-agent-work``);
- the Tray simulator on its own port;
- the API Lambda handler behind waitress (``tray_local.api_bridge``), on ``port``;
- the scheduled monitor (and with it the work ledger's sweeper) ticking every ``monitor_every_s``
  on its own thread, with an injectable clock;
- a local inbox: a directory whose new files are put into the PO bucket and announced to the
  intake handler, as S3 → EventBridge does (``tray-agent drop`` writes there);
- the policy brain, or the LLM brain when ``OPENAI_MODEL`` / ``OPENAI_*`` are set.

State: moto keeps everything in memory and has no persistence of its own, so the product's
durable state (every DynamoDB table, the PO and payload buckets) is snapshotted to
``state_dir/snapshot.json`` every ``snapshot_every_s`` and on stop, and loaded on the next start
(``fresh=True`` starts empty). Not carried over, and said so on start: Step Functions executions
(a PO paused for review when the server stopped cannot resume; reject it and drop it again) and
the Tray simulator's run history (it stands for Tray, which is not ours to persist).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tray_agent.clock import Clock, utc_now

DEFAULT_PORT = 8765
DEFAULT_API_URL = f"http://127.0.0.1:{DEFAULT_PORT}"
SNAPSHOT_FILE = "snapshot.json"
INFO_FILE = "serve.json"
INBOX_PREFIX = "inbox/"
DOCUMENT_SUFFIXES = (".pdf", ".eml")


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "tray-agent"


@dataclass
class LocalProduct:
    """A running local product: where everything is, the local credentials, ``stop()``."""

    api_url: str
    simulator_url: str
    aws_url: str
    state_dir: Path
    inbox_dir: Path
    po_bucket: str
    signing_secret: str
    reviewer: str
    reviewer_token: str
    brain: str
    env: Any  # tray_local.local_env.LocalEnvironment
    pipeline: Any  # tray_local.po_local.LocalPoPipeline
    restored_items: int = 0
    _stack: ExitStack = field(default_factory=ExitStack, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _threads: list[threading.Thread] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    monitor_ticks: int = 0
    last_tick_error: str | None = None

    def signed_headers(self, body: bytes) -> dict[str, str]:
        """The headers a machine sender puts on ``body``."""
        from tray_local.send import signed_headers

        return signed_headers(self.signing_secret, body)

    def reviewer_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.reviewer_token}"}

    def snapshot(self) -> int:
        """Write the durable state to ``state_dir``; the number of items and objects written."""
        with self._lock:
            state = _dump_state(self.env.settings)
            target = self.state_dir / SNAPSHOT_FILE
            temporary = target.with_suffix(".tmp")
            temporary.write_text(json.dumps(state))
            temporary.replace(target)  # atomic: a crash mid-write keeps the previous snapshot
            return sum(len(items) for items in state["tables"].values()) + len(state["objects"])

    def tick(self, moment: datetime | None = None) -> dict[str, Any]:
        """One monitor tick (and sweep), now or at ``moment``, as EventBridge would run it."""
        from tray_local.demo_monitor import run_tick

        return run_tick(moment)

    def deliver_inbox(self) -> list[str]:
        """Put each new file of the inbox into the PO bucket and announce it; the keys delivered."""
        delivered: list[str] = []
        for path in sorted(self.inbox_dir.iterdir()):
            if not path.is_file() or path.name.startswith("."):
                continue
            body = path.read_bytes()
            key = f"{INBOX_PREFIX}{path.name}"
            etag = self.pipeline.put(key, body)
            path.unlink()
            self.pipeline.deliver(key, etag=etag, size=len(body))  # executions run on in moto
            delivered.append(key)
        return delivered

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        try:
            self.snapshot()
        finally:
            with contextlib.suppress(OSError):
                (self.state_dir / INFO_FILE).unlink()
            self._stack.close()

    def __enter__(self) -> LocalProduct:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _every(self, seconds: float, name: str, work: Callable[[], object]) -> None:
        def loop() -> None:
            while not self._stop.wait(seconds):
                try:
                    work()
                except Exception as exc:  # a background job must outlive one bad round
                    from tray_agent.observability import logger

                    self.last_tick_error = f"{type(exc).__name__}: {exc}"
                    logger.warning("local background job failed", job=name, error=type(exc).__name__)

        thread = threading.Thread(target=loop, name=f"serve-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)


def start_local_product(
    state_dir: Path | None = None,
    *,
    fresh: bool = False,
    port: int = DEFAULT_PORT,
    monitor_every_s: float = 60.0,
    snapshot_every_s: float = 30.0,
    inbox_every_s: float = 0.5,
    clock: Clock = utc_now,
    static: dict[str, Path] | None = None,
    extra_env: dict[str, str] | None = None,
    aws_port: int = 0,
) -> LocalProduct:
    """Start the whole product on 127.0.0.1 (``port=0``: any free port); call ``stop()`` after.

    ``clock`` is what the scheduled monitor believes "now" is (a test can run a day in seconds);
    ``static`` maps URL prefixes to directories served as files beside the API (a console).
    """
    from tray_agent.handlers import api
    from tray_local.api_bridge import ApiBridge
    from tray_local.local_env import LOCAL_REVIEWER, LOCAL_REVIEWER_TOKEN, LocalEnvironment
    from tray_local.po_local import LocalPoPipeline, pipeline_definition, synthesized_template

    state_dir = (state_dir or default_state_dir()).expanduser().resolve()
    if fresh and (state_dir / SNAPSHOT_FILE).exists():
        (state_dir / SNAPSHOT_FILE).unlink()
    inbox_dir = state_dir / "inbox"
    inbox_dir.mkdir(parents=True, exist_ok=True)
    definition = _cached_pipeline_definition(lambda: pipeline_definition(synthesized_template()))

    stack = ExitStack()
    try:
        env = stack.enter_context(LocalEnvironment.start(extra_env=extra_env))
        pipeline = stack.enter_context(LocalPoPipeline.start(env, definition))
        settings = env.settings = _current_settings()
        restored = _restore(state_dir / SNAPSHOT_FILE, settings)
        if not restored:
            _load_demo_catalog(settings)
        api._service()  # Lambda's init phase, before the first of many concurrent requests
        api._reviews()
        bridge = stack.enter_context(ApiBridge(port, static=static))
        aws_url = _start_moto_server(stack, aws_port)
    except BaseException:
        stack.close()
        raise
    product = LocalProduct(
        api_url=bridge.base_url,
        simulator_url=env.simulator.base_url,
        aws_url=aws_url,
        state_dir=state_dir,
        inbox_dir=inbox_dir,
        po_bucket=settings.po_bucket,
        signing_secret=settings.signing_secret,
        reviewer=LOCAL_REVIEWER,
        reviewer_token=LOCAL_REVIEWER_TOKEN,
        brain=f"LLM ({settings.openai_model})" if settings.openai_model else "policy",
        env=env,
        pipeline=pipeline,
        restored_items=restored,
        _stack=stack,
    )

    def monitor_tick() -> None:
        # EventBridge times are whole seconds: round up so "now" covers runs started this second.
        product.tick(clock() + timedelta(seconds=1))
        product.monitor_ticks += 1

    product._every(monitor_every_s, "monitor", monitor_tick)
    product._every(snapshot_every_s, "snapshot", product.snapshot)
    product._every(inbox_every_s, "inbox", product.deliver_inbox)
    (state_dir / INFO_FILE).write_text(
        json.dumps(
            {
                "api_url": product.api_url,
                "simulator_url": product.simulator_url,
                "aws_url": product.aws_url,
                "inbox": str(inbox_dir),
                "po_bucket": product.po_bucket,
                "pid": os.getpid(),
            }
        )
    )
    return product


def _start_moto_server(stack: ExitStack, port: int) -> str:
    """moto's server over the backends this process uses (moto keeps one set per process)."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request on the console
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    stack.callback(server.stop)
    host, bound = server.get_host_and_port()
    return f"http://{host}:{bound}"


def _current_settings() -> Any:
    from tray_agent.config import get_settings

    return get_settings()  # after the pipeline set its state machine ARN


def _cached_pipeline_definition(build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The synthesized pipeline (about ten seconds of CDK), cached while ``infra/`` is unchanged."""
    from tray_local.po_local import REPO_ROOT

    cache_dir = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tray-agent"
    cache_dir.mkdir(parents=True, exist_ok=True)

    digest = hashlib.sha256()
    for path in sorted((REPO_ROOT / "infra").rglob("*.py")):
        digest.update(path.read_bytes())
    cache = cache_dir / f"pipeline-{digest.hexdigest()[:16]}.json"
    if cache.exists():
        cached: dict[str, Any] = json.loads(cache.read_text())
        return cached
    definition = build()
    temporary = cache.with_suffix(f".{os.getpid()}.tmp")  # two first starts at once: no torn file
    temporary.write_text(json.dumps(definition))
    temporary.replace(cache)
    return definition


def _load_demo_catalog(settings: Any) -> None:
    from tray_agent.domain.po.catalog import load_catalog, parse_catalog_file
    from tray_local.demo_po import CATALOG_FILE

    load_catalog(parse_catalog_file(CATALOG_FILE), settings=settings)


def _table_names(settings: Any) -> list[str]:
    from tray_agent.data.schema import ALL_TABLES

    return [getattr(settings, spec.settings_field) for spec in ALL_TABLES]


def _encode(value: Any) -> Any:
    """DynamoDB's typed JSON with binary values as ``{"$b64": …}`` (JSON has no bytes)."""
    if isinstance(value, bytes | bytearray):
        return {"$b64": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$b64"}:
            return base64.b64decode(value["$b64"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _dump_state(settings: Any) -> dict[str, Any]:
    import boto3

    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    tables: dict[str, list[Any]] = {}
    for name in _table_names(settings):
        items: list[Any] = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
            items.extend(_encode(item) for item in page.get("Items", []))
        tables[name] = items
    s3 = boto3.client("s3", region_name="us-east-1")
    objects: list[dict[str, str]] = []
    for bucket in (settings.po_bucket, settings.payloads_bucket):
        for listing in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for entry in listing.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
                objects.append(
                    {"bucket": bucket, "key": entry["Key"], "body": base64.b64encode(body).decode()}
                )
    return {"version": 1, "saved_at": time.time(), "tables": tables, "objects": objects}


def _restore(path: Path, settings: Any) -> int:
    """Load a snapshot into the (empty) local AWS; the number of items and objects loaded."""
    import boto3

    if not path.exists():
        return 0
    state = json.loads(path.read_text())
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    known = set(_table_names(settings))
    count = 0
    for name, items in state.get("tables", {}).items():
        if name not in known:
            continue
        for item in items:
            dynamodb.put_item(TableName=name, Item=_decode(item))
            count += 1
    s3 = boto3.client("s3", region_name="us-east-1")
    for entry in state.get("objects", []):
        s3.put_object(Bucket=entry["bucket"], Key=entry["key"], Body=base64.b64decode(entry["body"]))
        count += 1
    return count


def banner(product: LocalProduct) -> str:
    """What ``tray-agent serve`` prints: where everything is, and what to paste next."""
    restored = (
        f"restored {product.restored_items} items from {product.state_dir / SNAPSHOT_FILE}"
        if product.restored_items
        else "started empty, demo catalog loaded"
    )
    event = json.dumps({"email": "ann@smallco.io", "company": "SmallCo", "employees": 12})
    return "\n".join(
        [
            "tray-agent is serving on 127.0.0.1",
            f"  API             {product.api_url}   (OpenAPI: {product.api_url}/openapi.json)",
            f"  Tray simulator  {product.simulator_url}",
            f"  AWS (moto)      {product.aws_url}   (aws --endpoint-url {product.aws_url} …)",
            f"  brain           {product.brain}",
            f"  state           {product.state_dir} ({restored}; --fresh starts empty)",
            f"  PO inbox        {product.inbox_dir}  (or: tray-agent drop FILE.pdf|.eml)",
            f"  reviewer token  {product.reviewer_token}  (Authorization: Bearer …, as {product.reviewer})",
            "  not kept across restarts: Step Functions executions, the simulator's run history",
            "",
            "Try it (another terminal):",
            f"  tray-agent send --api-url {product.api_url} --type lead.created --source hubspot \\",
            f"      --data '{event}'",
            "",
            "Ctrl-C to stop (the state is saved).",
        ]
    )


def new_event_id() -> str:
    return f"evt-{uuid.uuid4()}"


def clear_state(state_dir: Path) -> None:
    """Remove a state directory made by ``serve`` (tests and ``--fresh`` housekeeping)."""
    shutil.rmtree(state_dir, ignore_errors=True)
