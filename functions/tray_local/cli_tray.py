"""``tray-agent tray-sim``: run the Tray simulator in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "tray-sim",
        help="run the local Tray simulator on 127.0.0.1",
        description="A local Tray (webhooks, Workflow/Executions API, GraphQL, Platform API) until Ctrl-C.",
        epilog="example:\n  tray-agent tray-sim --port 8766 --stories",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=8766, help="port to listen on (0: any free port)")
    parser.add_argument("--workflows", type=Path, default=None, help="workflows file (default: embedded)")
    parser.add_argument(
        "--stories", action="store_true", help="script the seeds' stories (Clearbit 15%% failures, ...)"
    )
    parser.add_argument("--time-factor", type=float, default=1.0, help="scale every simulated duration")
    parser.add_argument("--rate-limit", type=float, default=30.0, help="requests per second before 429")
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0, help="seed for scripted failure rates")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from tray_local.simulator import DEFAULT_WORKFLOWS_FILE, SEED_STORIES, TraySimulator

    sim = TraySimulator(
        args.workflows or DEFAULT_WORKFLOWS_FILE,
        scripts=dict(SEED_STORIES) if args.stories else None,
        time_factor=args.time_factor,
        rate_limit_rps=args.rate_limit,
        burst=args.burst,
        seed=args.seed,
        port=args.port,
    )
    with sim:
        print(f"Tray simulator listening on {sim.base_url}")
        print(f"  export TRAY_AGENT_TRAY_API_BASE_URL={sim.base_url}")
        print(f"  export TRAY_AGENT_TRAY_MASTER_TOKEN={sim.master_token}")
        print(f"  export TRAY_AGENT_TRAY_USER_TOKEN={sim.user_token}")
        print("Ctrl-C to stop.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopping")
    return 0
