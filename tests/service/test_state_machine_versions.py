from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from podium.service.registry import Service

from .catalog_support import (
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


def update(service: Service, result: object, **params: object) -> dict[str, object]:
    return call(
        service, "UpdateStateMachine", stateMachineArn=ORDERS, definition=definition(result), **params
    )


def publish(service: Service, **params: object) -> dict[str, object]:
    return call(service, "PublishStateMachineVersion", stateMachineArn=ORDERS, **params)


def listed(service: Service, **params: object) -> list[str]:
    response = call(service, "ListStateMachineVersions", stateMachineArn=ORDERS, **params)
    return [item["stateMachineVersionArn"] for item in response["stateMachineVersions"]]


def test_publish_each_revision_once(service: Service) -> None:
    create(service)
    clock(service).advance()
    first = publish(service)
    assert first == {"creationDate": (START_MS + 1000) / 1000, "stateMachineVersionArn": f"{ORDERS}:1"}
    clock(service).advance()
    assert publish(service) == first  # the same revision: the same version
    assert publish(service, description="ignored") == first
    update(service, "two")
    second = publish(service, description="second")
    assert second["stateMachineVersionArn"] == f"{ORDERS}:2"
    assert listed(service) == [f"{ORDERS}:2", f"{ORDERS}:1"]
    described = call(service, "DescribeStateMachine", stateMachineArn=f"{ORDERS}:2")
    assert described["description"] == "second"
    assert described["definition"] == definition("two")


def test_version_numbers_are_never_given_twice(service: Service) -> None:
    create(service, publish=True)
    update(service, "two", publish=True)
    call(service, "DeleteStateMachineVersion", stateMachineVersionArn=f"{ORDERS}:2")
    # Revision two lost its version: publishing it makes a new one, numbered 3 (as AWS does).
    assert publish(service)["stateMachineVersionArn"] == f"{ORDERS}:3"
    assert listed(service) == [f"{ORDERS}:3", f"{ORDERS}:1"]
    call(service, "DeleteStateMachineVersion", stateMachineVersionArn=f"{ORDERS}:3")
    call(service, "DeleteStateMachineVersion", stateMachineVersionArn=f"{ORDERS}:1")
    update(service, "three")
    assert publish(service)["stateMachineVersionArn"] == f"{ORDERS}:4"


def test_publish_checks_the_revision(service: Service) -> None:
    create(service)
    publish(service, revisionId="INITIAL")  # the initial revision's name, as AWS accepts it
    revision = update(service, "two")["revisionId"]
    assert publish(service, revisionId=revision)["stateMachineVersionArn"] == f"{ORDERS}:2"
    current = update(service, "three")["revisionId"]
    message = (
        f"Failed to publish the State Machine version for revision {revision}."
        f" The current State Machine revision is {current}."
    )
    with refused("ConflictException", message):
        publish(service, revisionId=revision)
    assert listed(service) == [f"{ORDERS}:2", f"{ORDERS}:1"]


def test_publish_what_is_not_there(service: Service) -> None:
    nope = machine_arn("Nope")
    with refused("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{nope}'"):
        call(service, "PublishStateMachineVersion", stateMachineArn=nope)
    create(service, publish=True)
    with refused("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{ORDERS}:1'"):
        call(service, "PublishStateMachineVersion", stateMachineArn=f"{ORDERS}:1")
    with refused("InvalidArn", "Invalid Arn: 'Invalid ARN prefix: invalid_arn'"):
        call(service, "PublishStateMachineVersion", stateMachineArn="invalid_arn")


def test_versions_are_listed_newest_first_in_pages(service: Service) -> None:
    create(service)
    for n in range(1, 14):
        assert update(service, n, publish=True)["stateMachineVersionArn"] == f"{ORDERS}:{n}"
    everything = [f"{ORDERS}:{n}" for n in range(13, 0, -1)]
    assert listed(service) == everything
    assert listed(service, maxResults=0) == everything
    first = call(service, "ListStateMachineVersions", stateMachineArn=ORDERS, maxResults=10)
    assert [v["stateMachineVersionArn"] for v in first["stateMachineVersions"]] == everything[:10]
    second = call(
        service,
        "ListStateMachineVersions",
        stateMachineArn=ORDERS,
        maxResults=3,
        nextToken=first["nextToken"],
    )
    assert [v["stateMachineVersionArn"] for v in second["stateMachineVersions"]] == everything[10:]
    assert "nextToken" not in second
    with refused("InvalidToken"):
        call(service, "ListStateMachineVersions", stateMachineArn=ORDERS, nextToken="bm90IGpzb24=")


def test_list_versions_of_what_is_not_there(service: Service) -> None:
    # AWS lists no error for an unknown state machine here: it has no versions.
    empty = {"stateMachineVersions": []}
    assert call(service, "ListStateMachineVersions", stateMachineArn=machine_arn("Nope")) == empty
    with refused("InvalidArn"):
        call(service, "ListStateMachineVersions", stateMachineArn="nope")


def test_delete_version(service: Service) -> None:
    create(service, publish=True)
    update(service, "two", publish=True)
    assert call(service, "DeleteStateMachineVersion", stateMachineVersionArn=f"{ORDERS}:1") == {}
    assert listed(service) == [f"{ORDERS}:2"]
    # Deleting it again, or a version never published, succeeds.
    assert call(service, "DeleteStateMachineVersion", stateMachineVersionArn=f"{ORDERS}:1") == {}
    assert call(service, "DeleteStateMachineVersion", stateMachineVersionArn=f"{ORDERS}:99") == {}
    with refused("StateMachineDoesNotExist"):
        call(service, "DescribeStateMachine", stateMachineArn=f"{ORDERS}:1")


def test_a_version_an_alias_routes_to_cannot_be_deleted(service: Service) -> None:
    create(service, publish=True)
    update(service, "two", publish=True)
    for name, routing in (
        ("canary", [(f"{ORDERS}:1", 90), (f"{ORDERS}:2", 10)]),
        ("live", [(f"{ORDERS}:1", 100)]),
        ("next", [(f"{ORDERS}:2", 100)]),
    ):
        call(
            service,
            "CreateStateMachineAlias",
            name=name,
            routingConfiguration=[{"stateMachineVersionArn": v, "weight": w} for v, w in routing],
        )
    message = (
        "Version to be deleted must not be referenced by an alias."
        " Current list of aliases referencing this version: [canary, live]"
    )
    with refused("ConflictException", message):
        call(service, "DeleteStateMachineVersion", stateMachineVersionArn=f"{ORDERS}:1")
    call(service, "DeleteStateMachineAlias", stateMachineAliasArn=f"{ORDERS}:canary")
    call(service, "DeleteStateMachineAlias", stateMachineAliasArn=f"{ORDERS}:live")
    assert call(service, "DeleteStateMachineVersion", stateMachineVersionArn=f"{ORDERS}:1") == {}


@pytest.mark.parametrize("arn", [ORDERS, f"{ORDERS}:live"])
def test_delete_version_needs_a_version_arn(service: Service, arn: str) -> None:
    create(service, publish=True)
    with refused("InvalidArn", f"Invalid Arn: '{arn}'"):
        call(service, "DeleteStateMachineVersion", stateMachineVersionArn=arn)


def test_a_version_keeps_what_it_was_published_from(service: Service) -> None:
    create(service, publish=True, versionDescription="first")
    update(service, "two", roleArn="arn:aws:iam::123456789012:role/other")
    one = call(service, "DescribeStateMachine", stateMachineArn=f"{ORDERS}:1")
    assert (one["definition"], one["roleArn"], one["description"]) == (
        definition(),
        "arn:aws:iam::123456789012:role/podium",
        "first",
    )
