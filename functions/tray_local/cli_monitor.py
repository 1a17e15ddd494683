"""``tray-agent monitor``: one monitor tick, locally (moto + the Tray simulator)."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "monitor",
        help="run one execution-monitor tick locally",
        description="Run one tick of the execution monitor against a local Tray simulator.",
        epilog="examples:\n  tray-agent monitor\n  tray-agent monitor --stories   # with the seeds' failures",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # One tick is all it ever does; --once stays accepted for scripts written against it.
    parser.add_argument("--once", action="store_true", help=argparse.SUPPRESS)
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
