"""State machine aliases: Create/Describe/Update/Delete/ListStateMachineAliases.

An alias (`<state machine ARN>:<name>`) routes StartExecution to one or two versions of its
state machine, each with a weight; the weights sum to 100 (`arns.resolve_state_machine` does
the routing). Create is idempotent on name, description and routing; Delete of an alias that
does not exist succeeds; Describe and Update of one answer ResourceNotFound.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from podium.api.errors import (
    ApiError,
    ConflictException,
    ResourceNotFound,
    ServiceQuotaExceededException,
    ValidationException,
)
from podium.service.arns import (
    ALIAS_NAME,
    ALIAS_NAME_PATTERN,
    StateMachineArn,
    invalid_arn,
    parse_state_machine_arn,
    require_state_machine,
)
from podium.service.catalog import catalog_lock, now_ms, page_response, paginate, seconds
from podium.service.registry import Params, Response, Service, action
from podium.store.records import AliasRecord

MAX_ALIASES = 100  # per state machine, as AWS's quota
Routing = tuple[tuple[str, int], ...]


def _no_such_alias() -> ResourceNotFound:
    return ResourceNotFound("Request references a resource that does not exist.")


def _constraint(value: str, where: str, constraint: str) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{where}'"
        f" failed to satisfy constraint: {constraint}"
    )


def _check_alias_name(name: str) -> None:
    if len(name) > 80:
        raise _constraint(name, "name", "Member must have length less than or equal to 80")
    if not ALIAS_NAME.match(name):
        pattern = f"Member must satisfy regular expression pattern: {ALIAS_NAME_PATTERN}"
        raise _constraint(name, "name", pattern)


def _alias_arn(arn: str) -> StateMachineArn:
    parsed = parse_state_machine_arn(arn)
    if parsed.alias is None:
        raise invalid_arn(arn)
    return parsed


def _routing(service: Service, items: Sequence[Mapping[str, Any]]) -> tuple[str, Routing]:
    """The state machine ARN and the routing of a routingConfiguration, checked as AWS does."""
    routing: Routing = tuple((str(item["stateMachineVersionArn"]), int(item["weight"])) for item in items)
    arns = [arn for arn, _ in routing]
    listed = f"[{', '.join(arns)}]"
    if not 1 <= len(routing) <= 2:
        shown = ", ".join(
            f"RoutingConfigurationListItem(stateMachineVersionArn={arn}, weight={weight})"
            for arn, weight in routing
        )
        raise _constraint(
            f"[{shown}]", "routingConfiguration", "Member must have length less than or equal to 2"
        )
    if len(set(arns)) < len(arns):
        raise ValidationException(
            f"Routing configuration must contain distinct state machine version ARNs. Received: {listed}"
        )
    for i, (_, weight) in enumerate(routing, start=1):
        if weight < 0:
            raise _constraint(
                str(weight),
                f"routingConfiguration.{i}.member.weight",
                "Member must have value greater than or equal to 0",
            )
        if weight > 100:
            raise _constraint(
                str(weight),
                f"routingConfiguration.{i}.member.weight",
                "Member must have value less than or equal to 100",
            )
    if sum(weight for _, weight in routing) != 100:
        raise ValidationException(
            "Sum of routing configuration weights must equal 100."
            f" Received: {json.dumps([weight for _, weight in routing])}"
        )
    machines = set()
    for arn in arns:
        try:
            parsed = parse_state_machine_arn(arn)
        except ApiError:  # not even a state machine ARN
            parsed = None
        if parsed is None or parsed.version is None or service.store.get_version(arn) is None:
            raise ValidationException(
                f"Routing configuration must contain state machine version ARNs. Received: {listed}"
            )
        machines.add(parsed.machine_arn)
    if len(machines) > 1:
        raise ValidationException(
            f"Routing configuration must contain versions of the same state machine. Received: {listed}"
        )
    return machines.pop(), routing


def _routing_list(routing: Routing) -> list[dict[str, Any]]:
    return [{"stateMachineVersionArn": arn, "weight": weight} for arn, weight in routing]


@action("CreateStateMachineAlias")
def create_state_machine_alias(service: Service, params: Params) -> Response:
    name: str = params["name"]
    _check_alias_name(name)
    description: str | None = params.get("description")
    store = service.store
    with catalog_lock(service):
        machine_arn, routing = _routing(service, params["routingConfiguration"])
        require_state_machine(service, machine_arn)
        arn = f"{machine_arn}:{name}"
        existing: AliasRecord | None = store.get_alias(arn)
        if existing is not None:
            if existing.description == description and existing.routing == routing:
                return {"stateMachineAliasArn": arn, "creationDate": seconds(existing.created_ms)}
            raise ConflictException(
                "Failed to create alias because an alias with the same name and a different"
                " routing configuration already exists."
            )
        if len(store.list_aliases(machine_arn)) >= MAX_ALIASES:
            raise ServiceQuotaExceededException(
                f"Quota exceeded: a state machine can have at most {MAX_ALIASES} aliases: '{machine_arn}'"
            )
        now = now_ms(service)
        store.put_alias(
            AliasRecord(
                arn=arn,
                state_machine_arn=machine_arn,
                name=name,
                description=description,
                routing=routing,
                created_ms=now,
                updated_ms=now,
            )
        )
    return {"stateMachineAliasArn": arn, "creationDate": seconds(now)}


@action("DescribeStateMachineAlias")
def describe_state_machine_alias(service: Service, params: Params) -> Response:
    arn = _alias_arn(params["stateMachineAliasArn"]).text
    alias: AliasRecord | None = service.store.get_alias(arn)
    if alias is None:
        raise _no_such_alias()
    response: Response = {
        "stateMachineAliasArn": alias.arn,
        "name": alias.name,
        "routingConfiguration": _routing_list(alias.routing),
        "creationDate": seconds(alias.created_ms),
        "updateDate": seconds(alias.updated_ms),
    }
    if alias.description is not None:
        response["description"] = alias.description
    return response


@action("UpdateStateMachineAlias")
def update_state_machine_alias(service: Service, params: Params) -> Response:
    parsed = _alias_arn(params["stateMachineAliasArn"])
    description: str | None = params.get("description")
    items = params.get("routingConfiguration")
    if description is None and items is None:
        raise ValidationException("Either the description or the RoutingConfiguration must be specified")
    store = service.store
    with catalog_lock(service):
        routing = None
        if items is not None:
            machine_arn, routing = _routing(service, items)
            if machine_arn != parsed.machine_arn:
                raise ValidationException(
                    "Routing configuration must contain versions of the alias's state machine."
                    f" Received: [{', '.join(arn for arn, _ in routing)}]"
                )
        alias: AliasRecord | None = store.get_alias(parsed.text)
        if alias is None:
            raise _no_such_alias()
        updated = dataclasses.replace(
            alias,
            description=alias.description if description is None else description,
            routing=alias.routing if routing is None else routing,
        )
        if updated != alias:  # an update that changes nothing is idempotent, its date too
            updated = dataclasses.replace(updated, updated_ms=now_ms(service))
            store.put_alias(updated)
    return {"updateDate": seconds(updated.updated_ms)}


@action("DeleteStateMachineAlias")
def delete_state_machine_alias(service: Service, params: Params) -> Response:
    arn = _alias_arn(params["stateMachineAliasArn"]).text
    with catalog_lock(service):
        service.store.delete_alias(arn)  # as AWS: an alias that is not there is no error
    return {}


@action("ListStateMachineAliases")
def list_state_machine_aliases(service: Service, params: Params) -> Response:
    """The aliases of a state machine, or (given a version ARN) those that route to that version."""
    arn: str = params["stateMachineArn"]
    parsed = parse_state_machine_arn(arn)
    store = service.store
    if parsed.alias is not None:
        raise invalid_arn(arn)
    require_state_machine(service, parsed.machine_arn)
    aliases: list[AliasRecord] = store.list_aliases(parsed.machine_arn)
    if parsed.version is not None:
        if store.get_version(arn) is None:
            raise ResourceNotFound(f"Resource not found: '{arn}'")
        aliases = [alias for alias in aliases if any(v == arn for v, _ in alias.routing)]
    page, token = paginate(aliases, params, kind="aliases", key=lambda alias: alias.name)
    items = [{"stateMachineAliasArn": a.arn, "creationDate": seconds(a.created_ms)} for a in page]
    return page_response("stateMachineAliases", items, token)
