"""``tray-agent monitor --once``: one monitor tick, locally (moto + the Tray simulator)."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("monitor", help="run the execution monitor locally")
    parser.add_argument("--once", action="store_true", required=True, help="run exactly one tick")
    parser.add_argument(
        "--stories",
        action="store_true",
        help="first seed the simulator with the seed stories (Clearbit 15%%, picklist, expired auth)",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from tray_local import demo_monitor
    from tray_local.local_env import LocalEnvironment

    with LocalEnvironment.start() as env:
        if args.stories:
            demo_monitor.run(env)
        else:
            print(json.dumps(demo_monitor.run_tick(), indent=2))
    return 0
