"""``tray-agent serve`` as a user runs it: a subprocess, found through the state dir it writes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def cli_env() -> dict[str, str]:
    """The environment of a user's shell: no test-process settings, the worktree's code first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAY_AGENT_", "AWS_", "OPENAI_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "functions"), str(REPO)])
    env["HOME"] = os.environ.get("HOME", "/root")
    return env


def tray_agent(
    *args: str, input: str | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run ``tray-agent ARGS`` (the console script's entry point) and wait for it."""
    return subprocess.run(
        [sys.executable, "-m", "tray_local.cli", *args],
        capture_output=True,
        text=True,
        input=input,
        timeout=timeout,
        env=cli_env(),
        cwd=REPO,
        check=False,
    )


@dataclass
class Served:
    process: subprocess.Popen[str]
    state_dir: Path
    api_url: str
    log: Path

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        return self.log.read_text()


def start_serve(state_dir: Path, *extra: str) -> Served:
    log = state_dir.with_suffix(".log")
    handle = log.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tray_local.cli",
            "serve",
            "--port",
            "0",
            "--state-dir",
            str(state_dir),
            *extra,
        ],
        stdout=handle,
        stderr=subprocess.STDOUT,
        text=True,
        env=cli_env(),
        cwd=REPO,
    )
    info = state_dir / "serve.json"
    deadline = time.monotonic() + 180
    while not info.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"tray-agent serve did not start:\n{log.read_text()}")
        time.sleep(0.2)
    while "Ctrl-C to stop" not in log.read_text():  # the banner is printed once it serves
        time.sleep(0.1)
    return Served(process, state_dir, json.loads(info.read_text())["api_url"], log)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server = start_serve(tmp_path_factory.mktemp("serve") / "state", "--fresh", "--monitor-every", "2")
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.stop()
