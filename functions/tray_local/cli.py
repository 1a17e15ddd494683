"""tray-agent: run the AI operations agent for Tray.ai locally, talk to it, and operate it.

Start with `tray-agent serve`, then `tray-agent send --type lead.created --data '{...}'` in
another terminal. `tray-agent COMMAND --help` shows each command's options and an example.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

# Feature modules that contribute subcommands (each has ``register(subparsers)``).
COMMAND_MODULES: tuple[str, ...] = (
    "tray_local.cli_serve",
    "tray_local.demo",
    "tray_local.cli_tray",
    "tray_local.cli_tools",
    "tray_local.cli_po",
    "tray_local.cli_catalog",
    "tray_local.cli_monitor",
    "tray_local.cli_redrive",
    "tray_local.cli_llm",
)


def _version() -> str:
    try:
        return version("tray-agent")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tray-agent", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from tray_local.cli_common import EXIT_FAILED, EXIT_USAGE, CommandFailedError

    args = build_parser().parse_args(argv)  # usage errors: argparse prints one line, exits 2
    if getattr(args, "output", None) == "json" and hasattr(args, "json"):
        args.json = True  # commands older than --output read --json
    try:
        result: int = args.func(args)
    except CommandFailedError as exc:
        print(f"tray-agent {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        message = _expected_failure(exc)
        if message is None:
            raise  # a bug: the traceback is what a maintainer needs
        print(f"tray-agent {args.command}: error: {message}", file=sys.stderr)
        return EXIT_USAGE if _is_usage(exc) else EXIT_FAILED
    return result


def _is_usage(exc: Exception) -> bool:
    from botocore.exceptions import NoCredentialsError, NoRegionError, ProfileNotFound

    from tray_agent.errors import ConfigurationError

    return isinstance(exc, NoRegionError | NoCredentialsError | ProfileNotFound | ConfigurationError)


def _expected_failure(exc: Exception) -> str | None:  # noqa: PLR0911 - one answer per kind
    """The one line for a failure a user can fix (configuration, AWS, the network); None for a bug."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        NoRegionError,
    )
    from pydantic import ValidationError

    from tray_agent.errors import TrayAgentError

    if isinstance(exc, NoRegionError):
        return "no AWS region: pass --region or set AWS_REGION"
    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials: pass --profile or configure credentials (aws configure)"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"AWS refused: {error.get('Code', 'Error')}: {error.get('Message', '')}".rstrip(": ")
    if isinstance(exc, BotoCoreError):
        return f"AWS: {exc}"
    if isinstance(exc, TrayAgentError):
        return exc.message
    if isinstance(exc, ValidationError):
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()[:3]
        )
        return f"invalid settings: {problems}"
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}"
    return None


if __name__ == "__main__":
    sys.exit(main())
