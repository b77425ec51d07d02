"""State machine versions: PublishStateMachineVersion, ListStateMachineVersions,
DeleteStateMachineVersion, and the publishing that CreateStateMachine and UpdateStateMachine
share with them.

A version is an immutable snapshot of one revision of a state machine, numbered 1, 2, ... in
the order published; a number is never given twice, even after its version is deleted (AWS
publishes 3 after 1 and 2 when 2 was deleted). Publishing a revision that already has a
version returns that version instead of a new one.
"""

from __future__ import annotations

import dataclasses

from podium.api.errors import ConflictException, ServiceQuotaExceededException
from podium.service.arns import invalid_arn, parse_state_machine_arn, require_state_machine
from podium.service.catalog import catalog_lock, now_ms, page_response, paginate, seconds
from podium.service.registry import Params, Response, Service, action
from podium.store.records import StateMachineRecord, StateMachineVersionRecord

MAX_VERSIONS = 1000  # per state machine, as AWS's quota


def publish_version(
    service: Service, machine: StateMachineRecord, description: str | None
) -> tuple[StateMachineVersionRecord, StateMachineRecord]:
    """The version of the machine's current revision (published now if it has none yet), and
    the machine as it now is. The caller holds the catalog lock."""
    store = service.store
    versions: list[StateMachineVersionRecord] = store.list_versions(machine.arn)
    for version in versions:
        if version.revision_id == machine.revision_id:
            return version, machine
    if len(versions) >= MAX_VERSIONS:
        raise ServiceQuotaExceededException(
            f"Quota exceeded: a state machine can have at most {MAX_VERSIONS} versions;"
            f" delete unused ones with DeleteStateMachineVersion: '{machine.arn}'"
        )
    number = max(machine.versions_published, versions[0].version if versions else 0) + 1
    machine = dataclasses.replace(machine, versions_published=number)
    store.put_state_machine(machine)
    version = StateMachineVersionRecord(
        arn=f"{machine.arn}:{number}",
        state_machine_arn=machine.arn,
        version=number,
        definition=machine.definition,
        role_arn=machine.role_arn,
        type=machine.type,
        description=description,
        revision_id=machine.revision_id,
        created_ms=now_ms(service),
    )
    store.put_version(version)
    return version, machine


@action("PublishStateMachineVersion")
def publish_state_machine_version(service: Service, params: Params) -> Response:
    with catalog_lock(service):
        machine = require_state_machine(service, params["stateMachineArn"])
        revision_id = params.get("revisionId")
        if revision_id is not None and revision_id != machine.revision_id:
            raise ConflictException(
                f"Failed to publish the State Machine version for revision {revision_id}."
                f" The current State Machine revision is {machine.revision_id}."
            )
        version, _ = publish_version(service, machine, params.get("description"))
    return {"creationDate": seconds(version.created_ms), "stateMachineVersionArn": version.arn}


@action("ListStateMachineVersions")
def list_state_machine_versions(service: Service, params: Params) -> Response:
    parsed = parse_state_machine_arn(params["stateMachineArn"])
    # AWS names no StateMachineDoesNotExist for this action: an unknown machine has no versions.
    versions = [] if parsed.qualifier is not None else service.store.list_versions(parsed.text)
    page, token = paginate(versions, params, kind="versions", key=lambda v: v.version, descending=True)
    items = [{"stateMachineVersionArn": v.arn, "creationDate": seconds(v.created_ms)} for v in page]
    return page_response("stateMachineVersions", items, token)


@action("DeleteStateMachineVersion")
def delete_state_machine_version(service: Service, params: Params) -> Response:
    arn = params["stateMachineVersionArn"]
    parsed = parse_state_machine_arn(arn)
    if parsed.version is None:
        raise invalid_arn(arn)
    store = service.store
    with catalog_lock(service):
        if store.get_version(arn) is None:
            return {}  # as AWS: deleting a version that is not there succeeds
        referencing = [
            alias.name
            for alias in store.list_aliases(parsed.machine_arn)
            if any(version_arn == arn for version_arn, _ in alias.routing)
        ]
        if referencing:
            raise ConflictException(
                "Version to be deleted must not be referenced by an alias."
                f" Current list of aliases referencing this version: [{', '.join(referencing)}]"
            )
        store.delete_version(arn)
    return {}
