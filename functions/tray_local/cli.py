"""The ``tray-agent`` command line: local runs, demos and operator tools.

Each feature module exposes ``register(subparsers)`` and adds its own subcommands, so this
file only lists the modules.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Feature modules that contribute subcommands (each has ``register(subparsers)``).
COMMAND_MODULES: tuple[str, ...] = (
    "tray_local.demo",
    "tray_local.cli_tray",
    "tray_local.cli_tools",
    "tray_local.cli_po",
    "tray_local.cli_catalog",
    "tray_local.cli_monitor",
    "tray_local.cli_redrive",
    "tray_local.cli_llm",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tray-agent", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
