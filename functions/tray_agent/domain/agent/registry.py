"""The agent's tools: the Tray workflows it may run, with input validation.

Arguments are validated against each workflow's JSON Schema *before* any Tray call, so an
invalid call never costs a Tray task.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import fastjsonschema

from tray_agent.errors import InvalidInputError, NotFoundError
from tray_agent.models.workflows import WorkflowTool, load_workflows_file


class ToolInputError(InvalidInputError):
    """Arguments for a workflow do not match its input schema."""


class UnknownToolError(NotFoundError):
    """A decision named a workflow that is not in the registry."""


class _CompiledTool:
    def __init__(self, tool: WorkflowTool) -> None:
        self.tool = tool

    @cached_property
    def validate(self) -> Callable[[Any], Any]:
        # Compiled on first use: most containers only ever call a few tools.
        return fastjsonschema.compile(self.tool.input_schema, use_formats=False)


class ToolRegistry:
    def __init__(self, tools: list[WorkflowTool]) -> None:
        self._tools = {tool.name: _CompiledTool(tool) for tool in tools}

    @classmethod
    def from_file(cls, path: Path) -> ToolRegistry:
        return cls(load_workflows_file(path).workflows)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def names(self) -> list[str]:
        return sorted(self._tools)

    def tools(self) -> list[WorkflowTool]:
        return [compiled.tool for compiled in self._tools.values()]

    def get(self, name: str) -> WorkflowTool:
        try:
            return self._tools[name].tool
        except KeyError:
            raise UnknownToolError(
                f"workflow {name!r} is not in the tool registry", details={"known": self.names()}
            ) from None

    def validate_input(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Return the arguments (with schema defaults applied) or raise ToolInputError."""
        self.get(name)
        try:
            validated: dict[str, Any] = self._tools[name].validate(arguments)
        except fastjsonschema.JsonSchemaValueException as exc:
            raise ToolInputError(
                f"input for workflow {name!r} is invalid: {exc.message}",
                details={"workflow": name, "path": exc.path if hasattr(exc, "path") else None},
            ) from exc
        return validated
