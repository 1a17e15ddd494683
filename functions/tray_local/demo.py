"""``tray-agent demo``: the main job end to end on embedded defaults.

No AWS account (moto), no Tray account (the simulator), no OpenAI key (the policy brain).
Each section is a module with ``run(env: DemoEnvironment) -> None``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import warnings
from typing import Any

# Sections, in the order the demo tells the story.
SECTIONS: list[str] = [
    "tray_local.demo_events",
    "tray_local.demo_ledger",
    "tray_local.demo_scenarios",
    "tray_local.demo_po",
    "tray_local.demo_monitor",
    "tray_local.demo_followups",
]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the end-to-end demo locally",
        description="The main job end to end on this machine: moto, the Tray simulator, the policy brain.",
        epilog="example:\n  tray-agent demo        # what `make demo` runs",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    # The demo prints a story; the handlers' structured logs and EMF metrics would drown it.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "1")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    from tray_agent.observability import logger
    from tray_local.local_env import LocalEnvironment

    logger.setLevel("WARNING")  # other CLI modules may have created the logger before the variable was set

    with LocalEnvironment.start() as env:
        for section in SECTIONS:
            importlib.import_module(section).run(env)
    return 0
