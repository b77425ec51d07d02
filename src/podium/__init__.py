"""podium: a self-hosted orchestrator for services, speaking the Amazon States Language."""

from podium.task_error import TaskError

__all__ = ["TaskError"]
__version__ = "0.1.0"
