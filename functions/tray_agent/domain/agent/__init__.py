"""The agent: tool registry, brains (policy, LLM), and acting through Tray."""
