"""Which brain decides: the policy's first pass, then the model if one is configured, else
(or when the model fails) the policy's rules. Both return the same ``Decision``."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from tray_agent.config import Settings
from tray_agent.domain.agent.guardrails import redact
from tray_agent.domain.agent.policy import PolicyBrain
from tray_agent.models.decisions import Decision
from tray_agent.observability import logger, metrics

if TYPE_CHECKING:
    from tray_agent.domain.agent.llm import LLMBrain, Situation


class Brains:
    def __init__(self, policy: PolicyBrain, llm: LLMBrain | None) -> None:
        self.policy = policy
        self.llm = llm

    def decide(self, document: dict[str, Any], situation: Situation | None = None) -> Decision:
        """``document`` is what the rules see (event + ``context``); ``situation`` what a model sees."""
        screened = self.policy.screen(document)
        if screened is not None or self.llm is None or situation is None:
            return screened or self.policy.decide(document)
        return self.ask_model(situation, fallback=document)

    def ask_model(self, situation: Situation, *, fallback: dict[str, Any]) -> Decision:
        from tray_agent.domain.agent.llm import ModelUnavailableError

        assert self.llm is not None
        try:
            decision = self.llm.decide(situation)
        except ModelUnavailableError as exc:
            logger.warning(
                "model unavailable, policy decides", reason=exc.message, requests=exc.usage.requests
            )
            metrics.add_metric(name="ModelFallback", unit="Count", value=1)
            decision = self.policy.decide(fallback)
            return decision.model_copy(
                update={"fallback_reason": exc.message, "usage": exc.usage, "tool_calls": exc.trail}
            )
        if decision.usage is not None:
            metrics.add_metric(name="ModelTokens", unit="Count", value=decision.usage.total_tokens)
            if decision.usage.estimated_cost_usd is not None:
                metrics.add_metric(name="ModelCostUSD", unit="None", value=decision.usage.estimated_cost_usd)
        return decision


def decide_situation(
    settings: Settings,
    *,
    kind: str,
    summary: str,
    data: dict[str, Any],
    context: dict[str, Any] | None = None,
    customer_id: str | None = None,
) -> Decision:
    """Ask the agent about anything (e.g. the monitor: an unknown failure with its logs).

    The model (if configured) reads ``data`` and ``context`` as untrusted data and may use the
    tools; without a model, or when it fails, the policy rules decide on a document with
    ``type=kind``. The decision is *not* executed: hand it to ``EventService.carry_out`` (which
    applies the guardrails, files a review when needed, runs and audits it).
    """
    from tray_agent.domain.agent.llm import Situation

    brains = build_brains(settings)
    document = {
        "type": kind,
        "source": "agent",
        "customer_id": customer_id,
        "data": data,
        "context": context or {},
    }
    situation = Situation(
        kind=kind,
        summary=summary[:300],
        data=redact(data),
        context=redact(context or {}),
        customer_id=customer_id,
    )
    if brains.llm is None:
        return brains.policy.decide(document)
    return brains.ask_model(situation, fallback=document)


@cache
def build_brains(settings: Settings) -> Brains:
    from tray_agent.domain.agent.registry import ToolRegistry

    registry = ToolRegistry.from_file(settings.workflows_file)
    policy = PolicyBrain.from_file(settings.rules_file, known_workflows=registry.__contains__)
    llm = None
    if settings.model_configured:
        llm = _build_llm(settings, registry)
    return Brains(policy, llm)


def _build_llm(settings: Settings, registry: Any) -> LLMBrain:
    from tray_agent.domain.agent.llm import BuiltinTools, LLMBrain
    from tray_agent.domain.agent.memory import CustomerMemory
    from tray_agent.tray import get_tray_clients

    memory = CustomerMemory.from_settings(settings)

    def execution_status(execution_id: str) -> dict[str, Any]:
        execution = get_tray_clients(settings).workflows.get_execution(execution_id)
        failing = [s for s in execution.steps if s.status == "failed"]
        return {
            "id": execution.id,
            "workflow": execution.workflow_name,
            "status": execution.status,
            "error": execution.error.model_dump(mode="json", exclude_none=True) if execution.error else None,
            "failed_step": failing[0].name if failing else None,
            "logs": (failing[0].logs if failing else [])[-20:],
        }

    def execution_workflow(execution_id: str) -> str | None:
        return get_tray_clients(settings).workflows.get_execution(execution_id).workflow_name

    def api_key() -> str:
        if settings.openai_api_key_secret_name and not settings.openai_api_key:
            from tray_agent.data.secrets import read_secret

            return read_secret(settings.openai_api_key_secret_name)
        return settings.openai_api_key

    builtins = BuiltinTools(
        execution_status=execution_status,
        customer_context=lambda customer_id: memory.load(customer_id).brief(),
        execution_workflow=execution_workflow,
    )
    return LLMBrain(settings, registry, builtins, api_key)
