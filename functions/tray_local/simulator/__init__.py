"""A local Tray: real HTTP on 127.0.0.1 for tests, ``make demo`` and ``tray-agent tray-sim``.

Dev and test only: never part of the Lambda asset.
"""

from tray_agent.config import DEFAULT_WORKFLOWS_FILE
from tray_local.simulator.catalog import SALESFORCE_PICKLISTS
from tray_local.simulator.engine import CallRecord
from tray_local.simulator.scripts import SEED_STORIES, StepScript, WorkflowScript
from tray_local.simulator.server import Fault, TraySimulator

__all__ = [
    "DEFAULT_WORKFLOWS_FILE",
    "SALESFORCE_PICKLISTS",
    "SEED_STORIES",
    "CallRecord",
    "Fault",
    "StepScript",
    "TraySimulator",
    "WorkflowScript",
]
