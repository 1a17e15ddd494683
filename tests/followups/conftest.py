"""The agent tests' LLM fixtures, for the follow-up tool's tests."""

from tests.agent.conftest import fake_openai, llm_env

__all__ = ["fake_openai", "llm_env"]
