"""tray-agent: an AI operations agent on top of Tray.ai workflows (Lambda package)."""
