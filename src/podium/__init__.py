"""podium: a self-hosted orchestrator for services, speaking the Amazon States Language."""

__version__ = "0.1.0"
