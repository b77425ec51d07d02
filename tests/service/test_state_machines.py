from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from podium.service.registry import Service

from .catalog_support import (
    PREFIX,
    ROLE,
    START_MS,
    STORES,
    call,
    clock,
    create,
    definition,
    machine_arn,
    refused,
    service_over,
)

ORDERS = machine_arn("Orders")


@pytest.fixture(params=STORES)
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    yield from service_over(request.param, tmp_path)


def describe(service: Service, arn: str = ORDERS) -> dict[str, object]:
    return call(service, "DescribeStateMachine", stateMachineArn=arn)


# --- CreateStateMachine ----------------------------------------------------------------------


def test_create_then_describe(service: Service) -> None:
    assert create(service) == {"stateMachineArn": ORDERS, "creationDate": START_MS / 1000}
    assert describe(service) == {
        "stateMachineArn": ORDERS,
        "name": "Orders",
        "status": "ACTIVE",
        "definition": definition(),
        "roleArn": ROLE,
        "type": "STANDARD",
        "creationDate": START_MS / 1000,
        "loggingConfiguration": {"level": "OFF", "includeExecutionData": False},
        "tracingConfiguration": {"enabled": False},
    }  # no revisionId: the initial revision has none


def test_create_keeps_the_configurations_and_the_type(service: Service) -> None:
    logging = {
        "level": "ERROR",
        "includeExecutionData": True,
        "destinations": [
            {"cloudWatchLogsLogGroup": {"logGroupArn": "arn:aws:logs:us-east-1:1:log-group:x:*"}}
        ],
    }
    create(service, type="EXPRESS", loggingConfiguration=logging, tracingConfiguration={"enabled": True})
    described = describe(service)
    assert described["type"] == "EXPRESS"
    assert described["loggingConfiguration"] == logging
    assert described["tracingConfiguration"] == {"enabled": True}


def test_create_is_idempotent_and_ignores_a_new_role_and_new_tags(service: Service) -> None:
    first = create(service, tags=[{"key": "team", "value": "billing"}])
    clock(service).advance()
    again = create(service, roleArn=f"{ROLE}-other", tags=[{"key": "other", "value": "x"}])
    assert again == first
    assert describe(service)["roleArn"] == ROLE
    tags = call(service, "ListTagsForResource", resourceArn=ORDERS)
    assert tags == {"tags": [{"key": "team", "value": "billing"}]}


@pytest.mark.parametrize(
    "change",
    [
        {"definition": json.dumps(json.loads(definition()), indent=2)},  # the same JSON, other text
        {"definition": definition("two")},
        {"type": "EXPRESS"},
        {"tracingConfiguration": {"enabled": True}},
        {"loggingConfiguration": {"level": "OFF", "includeExecutionData": True}},
    ],
    ids=["reformatted", "definition", "type", "tracing", "logging"],
)
def test_create_with_the_name_of_another_state_machine(service: Service, change: dict[str, object]) -> None:
    create(service)
    with refused("StateMachineAlreadyExists", f"State Machine Already Exists: '{ORDERS}'"):
        create(service, **change)


def test_default_configurations_are_the_same_as_none(service: Service) -> None:
    first = create(service)
    again = create(
        service,
        loggingConfiguration={"level": "OFF", "includeExecutionData": False},
        tracingConfiguration={"enabled": False},
    )
    assert again == first


def test_create_and_publish(service: Service) -> None:
    created = create(service, publish=True, versionDescription="first")
    assert created == {
        "stateMachineArn": ORDERS,
        "creationDate": START_MS / 1000,
        "stateMachineVersionArn": f"{ORDERS}:1",
    }
    version = describe(service, f"{ORDERS}:1")
    assert version["stateMachineArn"] == f"{ORDERS}:1"
    assert version["description"] == "first"
    assert version["name"] == "Orders"
    assert "revisionId" not in version
    # Idempotent on publish and versionDescription too.
    assert create(service, publish=True, versionDescription="first") == created
    with refused("StateMachineAlreadyExists"):
        create(service, publish=True, versionDescription="another")
    versions = call(service, "ListStateMachineVersions", stateMachineArn=ORDERS)["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in versions] == [f"{ORDERS}:1"]


def test_a_version_description_needs_publish(service: Service) -> None:
    with refused("ValidationException", "Version description can only be set when publish is true"):
        create(service, versionDescription="v1")
    with refused("ValidationException", "Version description can only be set when publish is true"):
        create(service, publish=False, versionDescription="v1")


@pytest.mark.parametrize(
    "name",
    [
        "with space",
        "colon:name",
        "slash/name",
        "brace{",
        "star*",
        "dollar$",
        "tab\t",
        "nul\x00",
        "c1\x85",
        "x" * 81,
    ],
)
def test_invalid_names(service: Service, name: str) -> None:
    with refused("InvalidName", f"Invalid Name: '{name}'"):
        create(service, name, check_input=False)


@pytest.mark.parametrize("name", ["Orders-2024_v1.final", "ünïcødé", "x" * 80, "1"])
def test_valid_names(service: Service, name: str) -> None:
    assert create(service, name)["stateMachineArn"] == machine_arn(name)


def test_an_invalid_definition(service: Service) -> None:
    message = (
        "Invalid State Machine Definition:"
        " 'SCHEMA_VALIDATION_FAILED: These fields are required: [States] at /'"
    )
    with refused("InvalidDefinition", message):
        create(service, definition='{"StartAt": "A"}')
    with refused("InvalidDefinition"):
        create(service, definition='{"StartAt": "A",')
    assert call(service, "ListStateMachines") == {"stateMachines": []}


def test_several_problems_are_quoted_one_by_one(service: Service) -> None:
    two = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "C": {"Type": "Succeed"}}}
    try:
        create(service, definition=json.dumps(two))
    except Exception as error:
        message = str(error)
    else:
        pytest.fail("created")
    assert message.startswith("Invalid State Machine Definition: ''MISSING_TRANSITION_TARGET: ")
    assert "', '" in message
    assert message.endswith("''")


def test_express_cannot_wait_for_a_task_token(service: Service) -> None:
    waiting = {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "q", "MessageBody": {"t.$": "$$.Task.Token"}},
                "End": True,
            }
        },
    }
    message = (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support"
        " '.waitForTaskToken' service integration  at /States/A/Resource'"
    )
    with refused("InvalidDefinition", message):
        create(service, type="EXPRESS", definition=json.dumps(waiting))
    assert create(service, definition=json.dumps(waiting))["stateMachineArn"] == ORDERS


def test_an_invalid_role_arn(service: Service) -> None:
    with refused("InvalidArn", "Invalid Arn: 'Invalid ARN prefix: not-a-role'"):
        create(service, roleArn="not-a-role")


@pytest.mark.parametrize(
    "logging",
    [
        {"level": "ALL"},
        {"level": "ERROR", "destinations": []},
        {
            "level": "ALL",
            "destinations": [
                {"cloudWatchLogsLogGroup": {"logGroupArn": "arn:aws:logs:us-east-1:1:log-group:a:*"}},
                {"cloudWatchLogsLogGroup": {"logGroupArn": "arn:aws:logs:us-east-1:1:log-group:b:*"}},
            ],
        },
    ],
    ids=["no-destination", "empty-destinations", "two-destinations"],
)
def test_an_invalid_logging_configuration(service: Service, logging: dict[str, object]) -> None:
    message = "Invalid Logging Configuration: Must specify exactly one Log Destination."
    with refused("InvalidLoggingConfiguration", message):
        create(service, loggingConfiguration=logging)


def test_too_many_tags(service: Service) -> None:
    tags = [{"key": f"k{i}", "value": "v"} for i in range(51)]
    with refused("TooManyTags"):
        create(service, tags=tags)
    assert create(service, tags=tags[:50])["stateMachineArn"] == ORDERS
    assert len(call(service, "ListTagsForResource", resourceArn=ORDERS)["tags"]) == 50


# --- DescribeStateMachine --------------------------------------------------------------------


def test_describe_what_is_not_there(service: Service) -> None:
    create(service, publish=True)
    for arn in (machine_arn("Nope"), f"{ORDERS}:2", f"{ORDERS}:live"):
        with refused("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'"):
            describe(service, arn)


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        ("not_a_valid_arn", "Invalid Arn: 'Invalid ARN prefix: not_a_valid_arn'"),
        ("arn:aws:sqs:us-east-1:1:q:x:y", "Invalid Arn: 'Invalid ARN prefix: arn:aws:sqs:us-east-1:1:q:x:y'"),
        (f"{PREFIX}:activity:Orders", "Invalid Arn: 'Resource type not valid in this context: activity'"),
        (f"{PREFIX}:execution:Orders:x", "Invalid Arn: 'Resource type not valid in this context: execution'"),
        (f"{PREFIX}:stateMachine:Orders:1:2", f"Invalid Arn: '{PREFIX}:stateMachine:Orders:1:2'"),
        (f"{PREFIX}:stateMachine:", f"Invalid Arn: '{PREFIX}:stateMachine:'"),
    ],
)
def test_describe_an_invalid_arn(service: Service, arn: str, message: str) -> None:
    with refused("InvalidArn", message):
        describe(service, arn)


def test_describe_a_version(service: Service) -> None:
    create(service)
    clock(service).advance(5000)
    call(
        service,
        "UpdateStateMachine",
        stateMachineArn=ORDERS,
        definition=definition("two"),
        roleArn=f"{ROLE}-2",
        publish=True,
        versionDescription="v1",
    )
    clock(service).advance(5000)
    call(service, "UpdateStateMachine", stateMachineArn=ORDERS, definition=definition("three"))
    version = describe(service, f"{ORDERS}:1")
    machine = describe(service)
    assert version["definition"] == definition("two")
    assert version["roleArn"] == f"{ROLE}-2"
    assert version["creationDate"] == (START_MS + 5000) / 1000
    assert version["description"] == "v1"
    assert machine["definition"] == definition("three")
    assert machine["creationDate"] == START_MS / 1000
    assert "description" not in machine
    assert version["revisionId"] != machine["revisionId"]


# --- UpdateStateMachine ----------------------------------------------------------------------


def test_update_makes_a_revision_when_something_changes(service: Service) -> None:
    create(service)
    clock(service).advance()
    updated = call(service, "UpdateStateMachine", stateMachineArn=ORDERS, definition=definition("two"))
    revision = updated["revisionId"]
    uuid.UUID(revision)
    assert updated == {"updateDate": (START_MS + 1000) / 1000, "revisionId": revision}
    described = describe(service)
    assert (described["definition"], described["revisionId"]) == (definition("two"), revision)
    # The same again: the same revision.
    again = call(service, "UpdateStateMachine", stateMachineArn=ORDERS, definition=definition("two"))
    assert again["revisionId"] == revision
    # The role alone is a change too.
    by_role = call(service, "UpdateStateMachine", stateMachineArn=ORDERS, roleArn=f"{ROLE}-2")
    assert by_role["revisionId"] not in (revision, None)
    by_tracing = call(
        service, "UpdateStateMachine", stateMachineArn=ORDERS, tracingConfiguration={"enabled": True}
    )
    assert by_tracing["revisionId"] != by_role["revisionId"]
    assert describe(service)["tracingConfiguration"] == {"enabled": True}
    assert describe(service)["roleArn"] == f"{ROLE}-2"


def test_update_that_changes_nothing_keeps_the_initial_revision(service: Service) -> None:
    create(service)
    updated = call(
        service, "UpdateStateMachine", stateMachineArn=ORDERS, definition=definition(), publish=True
    )
    assert set(updated) == {"updateDate", "stateMachineVersionArn"}
    assert updated["stateMachineVersionArn"] == f"{ORDERS}:1"
    again = call(service, "UpdateStateMachine", stateMachineArn=ORDERS, definition=definition(), publish=True)
    assert again["stateMachineVersionArn"] == f"{ORDERS}:1"


def test_update_and_publish(service: Service) -> None:
    create(service, publish=True)
    for n in (2, 3):
        updated = call(
            service,
            "UpdateStateMachine",
            stateMachineArn=ORDERS,
            definition=definition(n),
            publish=True,
            versionDescription=f"v{n}",
        )
        assert updated["stateMachineVersionArn"] == f"{ORDERS}:{n}"
    assert describe(service, f"{ORDERS}:3")["description"] == "v3"


def test_update_needs_something_to_change(service: Service) -> None:
    create(service)
    message = (
        "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be"
        " specified"
    )
    with refused("MissingRequiredParameter", message):
        call(service, "UpdateStateMachine", stateMachineArn=ORDERS)
    with refused("MissingRequiredParameter"):
        call(service, "UpdateStateMachine", stateMachineArn=ORDERS, publish=True)


def test_update_refusals(service: Service) -> None:
    create(service, publish=True)
    version = f"{ORDERS}:1"
    with refused("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{version}'"):
        call(service, "UpdateStateMachine", stateMachineArn=version, definition=definition("x"))
    nope = machine_arn("Nope")
    with refused("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{nope}'"):
        call(service, "UpdateStateMachine", stateMachineArn=nope, definition=definition("x"))
    with refused("InvalidDefinition"):
        call(service, "UpdateStateMachine", stateMachineArn=ORDERS, definition='{"States": {}}')
    with refused("ValidationException", "Version description can only be set when publish is true"):
        call(service, "UpdateStateMachine", stateMachineArn=ORDERS, roleArn=ROLE, versionDescription="d")
    with refused("InvalidArn"):
        call(service, "UpdateStateMachine", stateMachineArn=ORDERS, roleArn="role")
    with refused("InvalidLoggingConfiguration"):
        call(service, "UpdateStateMachine", stateMachineArn=ORDERS, loggingConfiguration={"level": "ALL"})
    assert describe(service)["definition"] == definition()


def test_update_checks_the_definition_for_the_machines_type(service: Service) -> None:
    create(service, type="EXPRESS")
    activity = {
        "StartAt": "A",
        "States": {"A": {"Type": "Task", "Resource": f"{PREFIX}:activity:Approve", "End": True}},
    }
    message = (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support"
        " Activity ARN at /States/A/Resource'"
    )
    with refused("InvalidDefinition", message):
        call(service, "UpdateStateMachine", stateMachineArn=ORDERS, definition=json.dumps(activity))


# --- DeleteStateMachine ----------------------------------------------------------------------


def test_delete_takes_versions_aliases_and_tags(service: Service) -> None:
    create(service, publish=True, tags=[{"key": "a", "value": "b"}])
    call(
        service,
        "CreateStateMachineAlias",
        name="live",
        routingConfiguration=[{"stateMachineVersionArn": f"{ORDERS}:1", "weight": 100}],
    )
    assert call(service, "DeleteStateMachine", stateMachineArn=ORDERS) == {}
    with refused("StateMachineDoesNotExist"):
        describe(service)
    with refused("StateMachineDoesNotExist"):
        describe(service, f"{ORDERS}:1")
    with refused("ResourceNotFound"):
        call(service, "DescribeStateMachineAlias", stateMachineAliasArn=f"{ORDERS}:live")
    assert call(service, "ListStateMachineVersions", stateMachineArn=ORDERS) == {"stateMachineVersions": []}
    # A state machine of the same name starts afresh: version numbers too.
    create(service, publish=True)
    assert call(service, "ListTagsForResource", resourceArn=ORDERS) == {"tags": []}
    versions = call(service, "ListStateMachineVersions", stateMachineArn=ORDERS)["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in versions] == [f"{ORDERS}:1"]


def test_delete_what_is_not_there(service: Service) -> None:
    assert call(service, "DeleteStateMachine", stateMachineArn=machine_arn("Nope")) == {}
    with refused("InvalidArn"):
        call(service, "DeleteStateMachine", stateMachineArn="nope")


def test_delete_refuses_a_version_arn(service: Service) -> None:
    create(service, publish=True)
    with refused("ValidationException"):
        call(service, "DeleteStateMachine", stateMachineArn=f"{ORDERS}:1")
    assert describe(service, f"{ORDERS}:1")["stateMachineArn"] == f"{ORDERS}:1"


# --- ListStateMachines -----------------------------------------------------------------------


def test_list_by_name_in_pages(service: Service) -> None:
    names = [f"sm_{i}" for i in range(13)]
    for name in names:
        create(service, name, type="EXPRESS" if name == "sm_3" else "STANDARD")
    listed = call(service, "ListStateMachines")
    assert "nextToken" not in listed
    assert [item["name"] for item in listed["stateMachines"]] == sorted(names)
    assert listed["stateMachines"][0] == {
        "stateMachineArn": machine_arn("sm_0"),
        "name": "sm_0",
        "type": "STANDARD",
        "creationDate": START_MS / 1000,
    }
    assert listed["stateMachines"][sorted(names).index("sm_3")]["type"] == "EXPRESS"

    first = call(service, "ListStateMachines", maxResults=10)
    assert [item["name"] for item in first["stateMachines"]] == sorted(names)[:10]
    call(service, "DeleteStateMachine", stateMachineArn=machine_arn(sorted(names)[9]))  # the last one seen
    create(service, "sm_05")  # sorts into the first page, already handed out
    second = call(service, "ListStateMachines", maxResults=10, nextToken=first["nextToken"])
    assert [item["name"] for item in second["stateMachines"]] == sorted(names)[10:]
    assert "nextToken" not in second
    assert len(call(service, "ListStateMachines", maxResults=0)["stateMachines"]) == 13


def test_list_refuses_a_foreign_token(service: Service) -> None:
    for name in ("a", "b"):
        create(service, name)
    call(service, "CreateActivity", name="x")
    call(service, "CreateActivity", name="y")
    activities_token = call(service, "ListActivities", maxResults=1)["nextToken"]
    for token in ("garbage", activities_token, "e30="):
        with refused("InvalidToken", "Invalid Token: 'Invalid token'"):
            call(service, "ListStateMachines", nextToken=token)
