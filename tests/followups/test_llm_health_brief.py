"""With a model configured, the LLM brain writes the CSM's health brief (issue 12, point 2);
the events it rests on are always cited, and a model that fails leaves the policy's brief."""

from __future__ import annotations

from typing import Any

from tests.followups.test_customer_health import csm_tasks, customer, post, ticket, usage
from tests.support.fake_openai import FakeOpenAI, ScriptedReply

MODEL_BRIEF = "Acme's tickets doubled while active users fell by a third; a payment failed. Call the sponsor."


def _brief_writer(answer: ScriptedReply) -> Any:
    """Answers the brief request with ``answer``; any other request (an event's decision) gets a
    500, so those events are decided by the policy brain as when a model is down."""

    def reply(body: dict[str, Any]) -> ScriptedReply:
        system = str(body["messages"][0]["content"])
        if system.startswith("You write the brief"):
            assert "<situation>" in str(body["messages"][1]["content"])  # the facts go in as data
            assert "tools" not in body
            return answer
        return ScriptedReply(status=500, content="not this one")

    return reply


def _customer_at_risk(env: Any) -> tuple[str, list[str]]:
    cid = customer()
    for d in (34, 27, 20):
        ticket(env, cid, d)
    for d, n in ((33, 100), (26, 104), (19, 98)):
        usage(env, cid, d, n)
    rising = [ticket(env, cid, d) for d in (12, 9, 7, 5, 3)]
    usage(env, cid, 12, 80)
    usage(env, cid, 5, 64)
    failed = post(env, cid, "payment.failed", 2, invoice_id="INV-78", amount=900)
    return cid, [*rising, failed]


def test_the_model_writes_the_brief_and_the_events_are_cited(llm_env: Any, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(*[_brief_writer(ScriptedReply(content=MODEL_BRIEF))] * 40)
    cid, cited = _customer_at_risk(llm_env)
    [task] = csm_tasks(llm_env, cid)
    brief = task.input["brief"]
    assert brief.startswith(MODEL_BRIEF)
    assert "Events this rests on:" in brief
    for event_id in cited:
        assert event_id in brief, event_id
    briefs_asked = [
        r for r in fake_openai.requests if str(r["messages"][0]["content"]).startswith("You write")
    ]
    assert len(briefs_asked) == 1  # one brief per risk episode, not per event


def test_a_failing_model_leaves_the_policys_brief(llm_env: Any, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(*[_brief_writer(ScriptedReply(status=503, content="overloaded"))] * 40)
    cid, cited = _customer_at_risk(llm_env)
    [task] = csm_tasks(llm_env, cid)
    brief = task.input["brief"]
    assert brief.startswith(f"Churn risk for {cid}")
    for event_id in cited:
        assert event_id in brief, event_id
