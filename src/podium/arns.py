"""ARNs in AWS's form, so that clients that parse them (boto3 users, the CDK) are at home."""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "000000000000"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{1,80}$")


@dataclass(frozen=True)
class ArnFactory:
    region: str = DEFAULT_REGION
    account: str = DEFAULT_ACCOUNT

    def state_machine(self, name: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:stateMachine:{name}"

    def execution(self, state_machine_name: str, name: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:execution:{state_machine_name}:{name}"

    def express_execution(self, state_machine_name: str, name: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:express:{state_machine_name}:{name}"

    def activity(self, name: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:activity:{name}"


def resource_name(arn: str) -> str:
    """The last name in an ARN: the state machine's, the execution's, the function's (no qualifier)."""
    parts = arn.split(":")
    if len(parts) >= 7 and parts[2] == "lambda":
        return parts[6]
    return parts[-1]
