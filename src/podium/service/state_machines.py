"""State machines: CreateStateMachine, DescribeStateMachine, UpdateStateMachine,
DeleteStateMachine, ListStateMachines.

What AWS does, and so podium:
- CreateStateMachine is idempotent on the name, the definition (as text: the same JSON
  formatted differently is another definition), the type, and the logging and tracing
  configurations; a different roleArn or tags are ignored then. Any other difference is
  StateMachineAlreadyExists.
- A state machine starts at its initial revision, which has no revisionId. Every update that
  changes something (definition, role, logging, tracing) makes a new revision with a new id;
  an update that changes nothing keeps the revision.
- DescribeStateMachine also describes a version (its ARN, definition, role, description).
- DeleteStateMachine deletes the versions and aliases too, and succeeds for a state machine
  that does not exist.
- loggingConfiguration defaults to {"level": "OFF", "includeExecutionData": false} and
  tracingConfiguration to {"enabled": false} in what DescribeStateMachine shows.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

from podium.api.errors import (
    InvalidLoggingConfiguration,
    MissingRequiredParameter,
    StateMachineAlreadyExists,
    ValidationException,
)
from podium.arns import ArnFactory
from podium.service.arns import (
    check_name,
    parse_arn,
    parse_state_machine_arn,
    require_state_machine,
    state_machine_does_not_exist,
)
from podium.service.catalog import (
    INITIAL_REVISION,
    catalog_lock,
    check_tag_count,
    now_ms,
    page_response,
    paginate,
    revision_of,
    seconds,
    tags_of,
)
from podium.service.registry import Params, Response, Service, action
from podium.service.validate import check_definition
from podium.service.versions import publish_version
from podium.store.records import StateMachineRecord, StateMachineType

_LOGGING_DEFAULTS: dict[str, Any] = {"level": "OFF", "includeExecutionData": False}
_TRACING_DEFAULTS: dict[str, Any] = {"enabled": False}
_VERSION_DESCRIPTION_WITHOUT_PUBLISH = "Version description can only be set when publish is true"


def arn_factory(service: Service) -> ArnFactory:
    return ArnFactory(region=service.region, account=service.account)


# --- configurations --------------------------------------------------------------------------


def _config_text(config: dict[str, Any] | None) -> str | None:
    return None if config is None else json.dumps(config, separators=(",", ":"), ensure_ascii=False)


def logging_view(text: str | None) -> dict[str, Any]:
    """The loggingConfiguration DescribeStateMachine shows for the stored text."""
    return {**_LOGGING_DEFAULTS, **(json.loads(text) if text else {})}


def tracing_view(text: str | None) -> dict[str, Any]:
    return {**_TRACING_DEFAULTS, **(json.loads(text) if text else {})}


def _check_logging(config: dict[str, Any] | None) -> None:
    if config is None:
        return
    destinations = config.get("destinations") or []
    if len(destinations) > 1 or (config.get("level", "OFF") != "OFF" and not destinations):
        raise InvalidLoggingConfiguration(
            "Invalid Logging Configuration: Must specify exactly one Log Destination."
        )


def _check_role(role_arn: str) -> None:
    if not role_arn.startswith("arn:"):
        parse_arn(role_arn)  # raises InvalidArn in AWS's words


def _check_version_description(params: Params) -> None:
    if params.get("versionDescription") is not None and not params.get("publish"):
        raise ValidationException(_VERSION_DESCRIPTION_WITHOUT_PUBLISH)


# --- actions ---------------------------------------------------------------------------------


@action("CreateStateMachine")
def create_state_machine(service: Service, params: Params) -> Response:
    name: str = params["name"]
    check_name(name)
    _check_version_description(params)
    type_: StateMachineType = params.get("type") or "STANDARD"
    definition: str = params["definition"]
    role_arn: str = params["roleArn"]
    _check_role(role_arn)
    _check_logging(params.get("loggingConfiguration"))
    check_definition(definition, type_)
    logging = _config_text(params.get("loggingConfiguration"))
    tracing = _config_text(params.get("tracingConfiguration"))
    arn = arn_factory(service).state_machine(name)
    tags = tags_of(params.get("tags"))
    check_tag_count(arn, {}, tags)
    publish = bool(params.get("publish"))
    description = params.get("versionDescription")
    store = service.store

    with catalog_lock(service):
        existing: StateMachineRecord | None = store.get_state_machine(arn)
        if existing is not None:
            return _created_again(service, existing, params, definition, type_, logging, tracing)
        now = now_ms(service)
        machine = StateMachineRecord(
            arn=arn,
            name=name,
            definition=definition,
            type=type_,
            role_arn=role_arn,
            created_ms=now,
            revision_id=INITIAL_REVISION,
            logging_configuration=logging,
            tracing_configuration=tracing,
        )
        store.put_state_machine(machine)
        if tags:
            store.tag_resource(arn, tags)
        response: Response = {"stateMachineArn": arn, "creationDate": seconds(now)}
        if publish:
            version, machine = publish_version(service, machine, description)
            response["stateMachineVersionArn"] = version.arn
    return response


def _created_again(
    service: Service,
    existing: StateMachineRecord,
    params: Params,
    definition: str,
    type_: StateMachineType,
    logging: str | None,
    tracing: str | None,
) -> Response:
    """A CreateStateMachine for a name already taken: the same state machine, or a conflict."""
    same = (
        existing.definition == definition
        and existing.type == type_
        and logging_view(existing.logging_configuration) == logging_view(logging)
        and tracing_view(existing.tracing_configuration) == tracing_view(tracing)
    )
    response: Response = {"stateMachineArn": existing.arn, "creationDate": seconds(existing.created_ms)}
    if same and params.get("publish"):
        # Idempotent on publish and versionDescription too: the version this request published.
        description = params.get("versionDescription")
        published = [
            version
            for version in service.store.list_versions(existing.arn)
            if version.revision_id == existing.revision_id and version.description == description
        ]
        same = bool(published)
        if same:
            response["stateMachineVersionArn"] = published[0].arn
    if not same:
        raise StateMachineAlreadyExists(f"State Machine Already Exists: '{existing.arn}'")
    return response


@action("DescribeStateMachine")
def describe_state_machine(service: Service, params: Params) -> Response:
    arn: str = params["stateMachineArn"]
    parsed = parse_state_machine_arn(arn)
    store = service.store
    machine: StateMachineRecord | None = store.get_state_machine(parsed.machine_arn)
    if machine is None:
        raise state_machine_does_not_exist(arn)
    if parsed.qualifier is None:
        return _description(machine, arn=machine.arn, created_ms=machine.created_ms)
    version = store.get_version(arn) if parsed.version is not None else None
    if version is None:
        raise state_machine_does_not_exist(arn)
    as_published = dataclasses.replace(
        machine,
        definition=version.definition,
        role_arn=version.role_arn,
        type=version.type,
        revision_id=version.revision_id,
        description=version.description,
    )
    return _description(as_published, arn=version.arn, created_ms=version.created_ms)


def _description(machine: StateMachineRecord, *, arn: str, created_ms: int) -> Response:
    response: Response = {
        "stateMachineArn": arn,
        "name": machine.name,
        "status": machine.status,
        "definition": machine.definition,
        "roleArn": machine.role_arn,
        "type": machine.type,
        "creationDate": seconds(created_ms),
        "loggingConfiguration": logging_view(machine.logging_configuration),
        "tracingConfiguration": tracing_view(machine.tracing_configuration),
    }
    revision_id = revision_of(machine.revision_id)
    if revision_id is not None:
        response["revisionId"] = revision_id
    if machine.description is not None:
        response["description"] = machine.description
    return response


@action("UpdateStateMachine")
def update_state_machine(service: Service, params: Params) -> Response:
    arn: str = params["stateMachineArn"]
    parse_state_machine_arn(arn)
    changes = ("definition", "roleArn", "loggingConfiguration", "tracingConfiguration")
    if all(params.get(name) is None for name in changes):
        raise MissingRequiredParameter(
            "Either the definition, the role ARN, the LoggingConfiguration,"
            " or the TracingConfiguration must be specified"
        )
    _check_version_description(params)
    if params.get("roleArn") is not None:
        _check_role(params["roleArn"])
    _check_logging(params.get("loggingConfiguration"))
    store = service.store

    with catalog_lock(service):
        machine = require_state_machine(service, arn)
        definition = params.get("definition")
        if definition is not None:
            check_definition(definition, machine.type)
        updated = dataclasses.replace(
            machine,
            definition=machine.definition if definition is None else definition,
            role_arn=params.get("roleArn") or machine.role_arn,
        )
        if params.get("loggingConfiguration") is not None:
            updated = dataclasses.replace(
                updated, logging_configuration=_config_text(params["loggingConfiguration"])
            )
        if params.get("tracingConfiguration") is not None:
            updated = dataclasses.replace(
                updated, tracing_configuration=_config_text(params["tracingConfiguration"])
            )
        now = now_ms(service)
        if _revision(updated) != _revision(machine):
            updated = dataclasses.replace(updated, revision_id=str(uuid.uuid4()), updated_ms=now)
            store.put_state_machine(updated)
        else:
            updated = machine
        response: Response = {"updateDate": seconds(now)}
        revision_id = revision_of(updated.revision_id)
        if revision_id is not None:
            response["revisionId"] = revision_id
        if params.get("publish"):
            version, updated = publish_version(service, updated, params.get("versionDescription"))
            response["stateMachineVersionArn"] = version.arn
    return response


def _revision(machine: StateMachineRecord) -> tuple[Any, ...]:
    """What makes a revision: a change to any of it is a new one."""
    return (
        machine.definition,
        machine.role_arn,
        logging_view(machine.logging_configuration),
        tracing_view(machine.tracing_configuration),
    )


@action("DeleteStateMachine")
def delete_state_machine(service: Service, params: Params) -> Response:
    arn: str = params["stateMachineArn"]
    parsed = parse_state_machine_arn(arn)
    if parsed.qualifier is not None:
        raise ValidationException(
            f"Invalid Arn: a version or alias ARN cannot be deleted with DeleteStateMachine: '{arn}'"
        )
    with catalog_lock(service):
        service.store.delete_state_machine(arn)  # and its versions, aliases and tags
    return {}


@action("ListStateMachines")
def list_state_machines(service: Service, params: Params) -> Response:
    machines: list[StateMachineRecord] = service.store.list_state_machines()
    page, token = paginate(machines, params, kind="stateMachines", key=lambda machine: machine.name)
    items = [
        {
            "stateMachineArn": machine.arn,
            "name": machine.name,
            "type": machine.type,
            "creationDate": seconds(machine.created_ms),
        }
        for machine in page
    ]
    return page_response("stateMachines", items, token)
