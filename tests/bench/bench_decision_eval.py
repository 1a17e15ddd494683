"""The labelled decision set on the policy brain, and the model profiles the tests exercise.

``decision_eval_cases``: labelled events (``tray_local/eval_decisions.json``, >= 100);
``decision_eval_policy_accuracy``: the share the policy brain (no model) gets right, scored as a
user sees it (after the guardrails) against labels taken from the seed stories, not from the
policy; ``decision_eval_unsafe_actions``: decisions that would run something needing a person
(target 0); ``model_profiles_tested``: distinct provider profiles the scripted endpoint's kinds
(``tests/support/fake_openai.ENDPOINTS``, every LLM brain and parser test runs under each) select.
"""

from __future__ import annotations

from tests.support.fake_openai import ENDPOINTS, FakeOpenAI
from tray_agent.config import Settings
from tray_agent.llm_profiles import profile_for
from tray_local.eval_decisions import DEFAULT_CASES, evaluate, load_cases


def run() -> dict[str, float]:
    cases = load_cases(DEFAULT_CASES)
    report = evaluate(cases, Settings(), brain="policy")
    for story, figures in report.per_story().items():
        print(f"   policy on {story}: {int(figures['correct'])}/{int(figures['cases'])}")
    with FakeOpenAI() as fake:
        profiles = {
            profile_for(Settings.model_validate(e.settings_values(fake))).name for e in ENDPOINTS.values()
        }
    return {
        "decision_eval_cases": float(report.cases),
        "decision_eval_policy_accuracy": round(report.accuracy, 4),
        "decision_eval_unsafe_actions": float(report.unsafe),
        "decision_eval_policy_p95_ms": round(report.latency_ms(0.95), 3),
        "model_profiles_tested": float(len(profiles)),
    }
