"""How a Task's `Resource` shows in the history: which family of events, with which names.

Step Functions records a Lambda function ARN with LambdaFunction* events, an activity with
Activity* events, and every service integration (`arn:aws:states:::service:action[.pattern]`)
with Task* events whose `resource`/`resourceType` are the action and the service. podium's
own local functions (`podium:function:NAME`, or `podium:function:NAME.waitForTaskToken` for the
callback pattern) are recorded like a service integration whose resourceType is `function`, and
its command queues (`podium:queue:NAME`, answered with the task token: `.waitForTaskToken` is
implied) like one whose resourceType is `queue`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum


class ResourceFamily(StrEnum):
    LAMBDA_FUNCTION = "LambdaFunction"
    ACTIVITY = "Activity"
    TASK = "Task"


class IntegrationPattern(StrEnum):
    REQUEST_RESPONSE = "RequestResponse"
    SYNC = "sync"
    WAIT_FOR_TASK_TOKEN = "waitForTaskToken"


@dataclass(frozen=True)
class ResourceKind:
    family: ResourceFamily
    resource: str  # as the events name it: the ARN, or the action ("invoke", "sendMessage.waitForTaskToken")
    resource_type: str  # the service ("lambda", "sqs", "function"); "" for Lambda ARNs and activities
    pattern: IntegrationPattern = IntegrationPattern.REQUEST_RESPONSE


_LAMBDA_ARN = re.compile(r"^arn:aws[\w-]*:lambda:[^:]*:[^:]*:function:[^:]+(:[^:]+)?$")
_ACTIVITY_ARN = re.compile(r"^arn:aws[\w-]*:states:[^:]*:[^:]*:activity:.+$")
_SERVICE_ARN = re.compile(r"^arn:aws[\w-]*:states:[^:]*:[^:]*:([\w-]+):(.+)$")
LOCAL_FUNCTION_PREFIX = "podium:function:"
LOCAL_QUEUE_PREFIX = "podium:queue:"
WAIT_FOR_TASK_TOKEN_SUFFIX = ".waitForTaskToken"


# A state's Resource is a constant of its definition: every Task of a running machine asks
# about the same few strings, each through up to four regular expressions.
@functools.lru_cache(maxsize=1024)
def classify(resource: str) -> ResourceKind:
    if _LAMBDA_ARN.match(resource):
        return ResourceKind(ResourceFamily.LAMBDA_FUNCTION, resource, "")
    if _ACTIVITY_ARN.match(resource):
        return ResourceKind(ResourceFamily.ACTIVITY, resource, "")
    if resource.startswith(LOCAL_FUNCTION_PREFIX):
        action = resource[len(LOCAL_FUNCTION_PREFIX) :]
        pattern = IntegrationPattern.REQUEST_RESPONSE
        if action.endswith(WAIT_FOR_TASK_TOKEN_SUFFIX):
            pattern = IntegrationPattern.WAIT_FOR_TASK_TOKEN
        return ResourceKind(ResourceFamily.TASK, action, "function", pattern)
    if resource.startswith(LOCAL_QUEUE_PREFIX):
        queue = resource[len(LOCAL_QUEUE_PREFIX) :]
        return ResourceKind(ResourceFamily.TASK, queue, "queue", IntegrationPattern.WAIT_FOR_TASK_TOKEN)
    m = _SERVICE_ARN.match(resource)
    if m:
        service, action = m.group(1), m.group(2)
        if service == "aws-sdk" and ":" in action:  # aws-sdk:sfn:startExecution: service "aws-sdk:sfn"
            sdk_service, action = action.split(":", 1)
            service = f"aws-sdk:{sdk_service}"
        pattern = IntegrationPattern.REQUEST_RESPONSE
        if action.endswith(WAIT_FOR_TASK_TOKEN_SUFFIX):
            pattern = IntegrationPattern.WAIT_FOR_TASK_TOKEN
        elif action.endswith(".sync") or ".sync:" in action:
            pattern = IntegrationPattern.SYNC
        return ResourceKind(ResourceFamily.TASK, action, service, pattern)
    return ResourceKind(ResourceFamily.TASK, resource, "unknown")
