"""demo.json: what a run leaves in its directory for `podium demo --verify DIR` to check again.

The payments as they were made (with their kind, which the executions do not carry), their
execution ARNs, where the database is, what the supervisor saw, and the orchestrator's
kills (`--kill-orchestrator`) with the starts the batch had to try again. The rest (statuses,
histories, ledgers) is read again from the database and the ledgers themselves, so that a
later verification judges what is there now, not what the run remembered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.demo.batch import Started
from podium.demo.kills import Kill
from podium.demo.payments import Payment

FILE = "demo.json"
VERSION = 1


@dataclass
class RunRecord:
    run_dir: Path
    db: str
    transport: str
    seconds: float
    executions: list[Started]
    restarts: dict[str, int] = field(default_factory=dict)
    kills_asked: int = 0
    kills: list[Kill] = field(default_factory=list)
    start_retries: int = 0

    @property
    def ledgers(self) -> Path:
        return self.run_dir / "ledgers"

    def save(self) -> None:
        document = {
            "version": VERSION,
            "db": self.db,
            "transport": self.transport,
            "seconds": self.seconds,
            "restarts": self.restarts,
            "orchestrator": {
                "kills_asked": self.kills_asked,
                "kills": [kill.to_json() for kill in self.kills],
                "start_retries": self.start_retries,
            },
            "payments": [
                {**run.payment.to_json(), "execution_arn": run.arn, "start_error": run.start_error}
                for run in self.executions
            ],
        }
        (self.run_dir / FILE).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, run_dir: Path) -> RunRecord:
        """The record of the run in `run_dir`; ValueError saying why it cannot be read."""
        path = run_dir / FILE
        try:
            document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"{run_dir} holds no podium demo run (no {FILE})") from None
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read {path}: {exc}") from None
        if document.get("version") != VERSION:
            raise ValueError(f"{path} is of another version of podium demo ({document.get('version')})")
        executions = []
        for item in document["payments"]:
            arn, error = item.pop("execution_arn"), item.pop("start_error")
            executions.append(Started(Payment.from_json(item), arn, "UNKNOWN", error))
        orchestrator = document.get("orchestrator", {})
        return cls(
            run_dir=run_dir,
            db=str(document["db"]),
            transport=str(document["transport"]),
            seconds=float(document["seconds"]),
            executions=executions,
            restarts={str(k): int(v) for k, v in document.get("restarts", {}).items()},
            kills_asked=int(orchestrator.get("kills_asked", 0)),
            kills=[Kill.from_json(item) for item in orchestrator.get("kills", [])],
            start_retries=int(orchestrator.get("start_retries", 0)),
        )
