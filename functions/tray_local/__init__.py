"""Local-only tools: Tray simulator, local runner, demo and CLI. Never packaged into Lambda."""
