"""A TestState mock's result checked against the API of the service its Task integrates with.

TestState validates `mock.result` "against the API models" (fieldValidationMode): STRICT, the
default, wants every required member and every present member of the right type; PRESENT only
the latter; NONE nothing. The models are botocore's (the service definitions the AWS SDKs are
built from), looked up from the Task's Resource:

    arn:aws:states:::events:putEvents            events / PutEvents
    arn:aws:states:::aws-sdk:s3:getObject        s3 / GetObject
    arn:aws:states:::states:startExecution       stepfunctions / StartExecution

Step Functions writes every member name with a capital first letter (StartExecution's
`executionArn` is `ExecutionArn` in a Task's result), so the model's names are compared that
way. Members the model does not know are accepted (as AWS does: a mock may carry more).
Nothing is checked where the result is not an API's output: Lambda function ARNs and podium's
own resources (the function's return value), activities and callbacks (what the worker sends),
`.sync` jobs (the integration's own polling result), HTTP and API Gateway tasks, and
integrations whose service or action botocore does not know.

The messages are AWS's: "Mock result schema validation error: Field 'Entries' must be an
array", "... Required field 'ExecutionArn' is missing", "... is not an expected value", "... is
smaller than the minimum length", "... is less than the minimum value", "... exceeds the
maximum value". Two are podium's own, where AWS's wording is not known: a result that is not an
object where the API returns one, and a string or blob longer than the model allows.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, NoReturn

from podium.api.errors import ValidationException
from podium.core.resources import IntegrationPattern, ResourceFamily, classify

STRICT = "STRICT"
PRESENT = "PRESENT"
NONE = "NONE"
_PREFIX = "Mock result schema validation error: "

# Step Functions' names of services (optimized integrations, `aws-sdk:` names) that botocore
# names otherwise. Any other name is looked up as it is.
_BOTOCORE_NAMES = {
    "states": ("stepfunctions",),
    "sfn": ("stepfunctions",),
    "eventbridge": ("events",),
    "cloudwatchlogs": ("logs",),
    "elasticmapreduce": ("emr",),
    "elasticloadbalancingv2": ("elbv2",),
    "elasticloadbalancing": ("elb",),
    # The bedrock integration's InvokeModel is the runtime API; its jobs are the control plane's.
    "bedrock": ("bedrock-runtime", "bedrock"),
}
# The service integrations whose result is not an AWS API's output.
_NO_MODEL = frozenset({"http", "apigateway"})


def check_mock_result(resource: str, result: Any, mode: str) -> None:
    """Raise ValidationException (AWS's words) if `result` does not fit the integration's output."""
    if mode == NONE:
        return
    shape = output_shape(resource)
    if shape is not None:
        _Checker(strict=mode == STRICT).value(result, shape, None)


def output_shape(resource: str) -> Any:
    """The botocore output shape of a Task resource's API action, or None when there is none."""
    kind = classify(resource)
    if kind.family != ResourceFamily.TASK or kind.pattern != IntegrationPattern.REQUEST_RESPONSE:
        return None
    service = kind.resource_type.removeprefix("aws-sdk:")
    if service in _NO_MODEL or service in ("function", "queue", "unknown"):
        return None
    for name in _BOTOCORE_NAMES.get(service, (service,)):
        operation = _operation(name, kind.resource)
        if operation is not None:
            return operation.output_shape
    return None


@functools.lru_cache(maxsize=64)
def _service_model(name: str) -> Any:
    from botocore.exceptions import UnknownServiceError
    from botocore.loaders import Loader
    from botocore.model import ServiceModel

    try:
        return ServiceModel(Loader().load_service_model(name, "service-2"), name)
    except UnknownServiceError:
        return None


def _operation(service: str, action: str) -> Any:
    model = _service_model(service)
    if model is None:
        return None
    wanted = action.lower()
    for name in model.operation_names:
        if name.lower() == wanted:
            return model.operation_model(name)
    return None


def sfn_name(member: str) -> str:
    """A model's member name as Step Functions writes it in a Task's result."""
    return member[:1].upper() + member[1:]


class _Checker:
    def __init__(self, *, strict: bool) -> None:
        self.strict = strict

    def value(self, value: Any, shape: Any, name: str | None) -> None:
        kind = shape.type_name
        if kind == "structure":
            self._structure(value, shape, name)
        elif kind == "list":
            if not isinstance(value, list):
                self._fail(name, "must be an array")
            for item in value:
                self.value(item, shape.member, name)
        elif kind == "map":
            if not isinstance(value, dict):
                self._fail(name, "must be an object")
            for item in value.values():
                self.value(item, shape.value, name)
        elif kind in ("string", "timestamp", "blob"):
            if not isinstance(value, str):
                self._fail(name, "must be a string")
            enum = shape.metadata.get("enum") if kind == "string" else None
            if enum and value not in enum:
                self._fail(name, "is not an expected value")
            too_short, too_long = "is smaller than the minimum length", "is longer than the maximum length"
            self._range(len(value), shape.metadata, name, too_short, too_long)
        elif kind in ("integer", "long", "float", "double"):
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if not numeric or (kind in ("integer", "long") and not float(value).is_integer()):
                self._fail(name, "must be a number")
            too_small, too_large = "is less than the minimum value", "exceeds the maximum value"
            self._range(value, shape.metadata, name, too_small, too_large)
        elif kind == "boolean" and not isinstance(value, bool):
            self._fail(name, "must be a boolean")
        # "document" (any JSON) and anything newer: accepted.

    def _structure(self, value: Any, shape: Any, name: str | None) -> None:
        if not isinstance(value, dict):
            if name is None:
                raise ValidationException(_PREFIX + "The mocked result must be a JSON object")
            self._fail(name, "must be an object")
        members: Mapping[str, Any] = {sfn_name(k): v for k, v in shape.members.items()}
        if self.strict:
            for required in shape.required_members:
                if sfn_name(required) not in value:
                    raise ValidationException(f"{_PREFIX}Required field '{sfn_name(required)}' is missing")
        for key, item in value.items():
            member = members.get(key)
            if member is not None:
                self.value(item, member, key)

    def _range(
        self, amount: float, metadata: Mapping[str, Any], name: str | None, low: str, high: str
    ) -> None:
        minimum, maximum = metadata.get("min"), metadata.get("max")
        if minimum is not None and amount < minimum:
            self._fail(name, low)
        if maximum is not None and amount > maximum:
            self._fail(name, high)

    @staticmethod
    def _fail(name: str | None, problem: str) -> NoReturn:
        raise ValidationException(f"{_PREFIX}Field '{name}' {problem}")
