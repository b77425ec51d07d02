from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from podium.service.arns import pick_version, resolve_state_machine
from podium.service.registry import Service

from .catalog_support import (
    PREFIX,
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
V1, V2, V3 = f"{ORDERS}:1", f"{ORDERS}:2", f"{ORDERS}:3"
LIVE = f"{ORDERS}:live"


@pytest.fixture(params=STORES)
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    for service in service_over(request.param, tmp_path):
        create(service, publish=True)
        for n in (2, 3):
            call(
                service,
                "UpdateStateMachine",
                stateMachineArn=ORDERS,
                definition=definition(n),
                publish=True,
            )
        yield service


def routing(*pairs: tuple[str, int]) -> list[dict[str, object]]:
    return [{"stateMachineVersionArn": arn, "weight": weight} for arn, weight in pairs]


def create_alias(
    service: Service, name: str = "live", *pairs: tuple[str, int], **params: object
) -> dict[str, object]:
    return call(
        service,
        "CreateStateMachineAlias",
        name=name,
        routingConfiguration=routing(*(pairs or ((V1, 100),))),
        **params,
    )


def test_create_describe_update(service: Service) -> None:
    clock(service).advance()
    created = create_alias(service, "live", (V1, 100), description="the live one")
    assert created == {"stateMachineAliasArn": LIVE, "creationDate": (START_MS + 1000) / 1000}
    described = call(service, "DescribeStateMachineAlias", stateMachineAliasArn=LIVE)
    assert described == {
        "stateMachineAliasArn": LIVE,
        "name": "live",
        "description": "the live one",
        "routingConfiguration": routing((V1, 100)),
        "creationDate": (START_MS + 1000) / 1000,
        "updateDate": (START_MS + 1000) / 1000,
    }
    clock(service).advance()
    updated = call(
        service,
        "UpdateStateMachineAlias",
        stateMachineAliasArn=LIVE,
        routingConfiguration=routing((V1, 50), (V2, 50)),
    )
    assert updated == {"updateDate": (START_MS + 2000) / 1000}
    clock(service).advance()
    call(service, "UpdateStateMachineAlias", stateMachineAliasArn=LIVE, description="new description")
    described = call(service, "DescribeStateMachineAlias", stateMachineAliasArn=LIVE)
    assert described["routingConfiguration"] == routing((V1, 50), (V2, 50))
    assert described["description"] == "new description"
    assert described["updateDate"] == (START_MS + 3000) / 1000
    assert described["creationDate"] == (START_MS + 1000) / 1000
    # An update that changes nothing keeps the date.
    clock(service).advance()
    again = call(service, "UpdateStateMachineAlias", stateMachineAliasArn=LIVE, description="new description")
    assert again == {"updateDate": (START_MS + 3000) / 1000}


def test_create_is_idempotent(service: Service) -> None:
    first = create_alias(service, "live", (V1, 100), description="d")
    clock(service).advance()
    assert create_alias(service, "live", (V1, 100), description="d") == first
    message = (
        "Failed to create alias because an alias with the same name and a different routing"
        " configuration already exists."
    )
    with refused("ConflictException", message):
        create_alias(service, "live", (V2, 100), description="d")
    with refused("ConflictException", message):
        create_alias(service, "live", (V1, 100), description="other")


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (
            ((V1, 50), (V2, 30), (V3, 20)),
            "1 validation error detected: Value '[RoutingConfigurationListItem(stateMachineVersionArn="
            f"{V1}, weight=50), RoutingConfigurationListItem(stateMachineVersionArn={V2}, weight=30),"
            f" RoutingConfigurationListItem(stateMachineVersionArn={V3}, weight=20)]'"
            " at 'routingConfiguration' failed to satisfy constraint:"
            " Member must have length less than or equal to 2",
        ),
        (
            ((V1, 50), (V1, 50)),
            f"Routing configuration must contain distinct state machine version ARNs. Received: [{V1}, {V1}]",
        ),
        (
            ((ORDERS, 50), (V2, 50)),
            f"Routing configuration must contain state machine version ARNs. Received: [{ORDERS}, {V2}]",
        ),
        (
            ((f"{ORDERS}:9", 100),),
            f"Routing configuration must contain state machine version ARNs. Received: [{ORDERS}:9]",
        ),
        (
            ((V1, 101),),
            "1 validation error detected: Value '101' at 'routingConfiguration.1.member.weight' failed to"
            " satisfy constraint: Member must have value less than or equal to 100",
        ),
        (((V1, 70), (V2, 29)), "Sum of routing configuration weights must equal 100. Received: [70, 29]"),
        (((V1, 70), (V2, 31)), "Sum of routing configuration weights must equal 100. Received: [70, 31]"),
    ],
    ids=["three", "twice", "unqualified", "no-such-version", "weight-101", "sum-99", "sum-101"],
)
def test_invalid_routing(service: Service, pairs: tuple[tuple[str, int], ...], message: str) -> None:
    with refused("ValidationException", message):
        call(
            service,
            "CreateStateMachineAlias",
            check_input=False,
            name="live",
            routingConfiguration=routing(*pairs),
        )
    with refused("ResourceNotFound"):
        call(service, "DescribeStateMachineAlias", stateMachineAliasArn=LIVE)


def test_routing_to_versions_of_two_machines(service: Service) -> None:
    other = machine_arn("Other")
    create(service, "Other", publish=True)
    with refused("ValidationException"):
        create_alias(service, "live", (V1, 50), (f"{other}:1", 50))
    create_alias(service, "live", (V1, 100))
    with refused("ValidationException"):
        call(
            service,
            "UpdateStateMachineAlias",
            stateMachineAliasArn=LIVE,
            routingConfiguration=routing((f"{other}:1", 100)),
        )


@pytest.mark.parametrize("name", ["123", "INVALID ALIAS", "!INVALID", "ALIAS@"])
def test_invalid_alias_names(service: Service, name: str) -> None:
    message = (
        f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint:"
        " Member must satisfy regular expression pattern: ^(?=.*[a-zA-Z_\\-\\.])[a-zA-Z0-9_\\-\\.]+$"
    )
    with refused("ValidationException", message):
        call(
            service,
            "CreateStateMachineAlias",
            check_input=False,
            name=name,
            routingConfiguration=routing((V1, 100)),
        )


def test_a_long_alias_name(service: Service) -> None:
    name = "A" * 81
    message = (
        f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint:"
        " Member must have length less than or equal to 80"
    )
    with refused("ValidationException", message):
        call(
            service,
            "CreateStateMachineAlias",
            check_input=False,
            name=name,
            routingConfiguration=routing((V1, 100)),
        )


def test_aliases_that_are_not_there(service: Service) -> None:
    message = "Request references a resource that does not exist."
    with refused("ResourceNotFound", message):
        call(service, "DescribeStateMachineAlias", stateMachineAliasArn=LIVE)
    with refused("ResourceNotFound", message):
        call(service, "UpdateStateMachineAlias", stateMachineAliasArn=LIVE, description="d")
    assert call(service, "DeleteStateMachineAlias", stateMachineAliasArn=LIVE) == {}
    with refused("InvalidArn"):
        call(service, "DescribeStateMachineAlias", stateMachineAliasArn=V1)
    with refused("InvalidArn"):
        call(service, "DeleteStateMachineAlias", stateMachineAliasArn=ORDERS)


def test_update_needs_something(service: Service) -> None:
    create_alias(service)
    with refused("ValidationException"):
        call(service, "UpdateStateMachineAlias", stateMachineAliasArn=LIVE)


def test_list_aliases(service: Service) -> None:
    assert call(service, "ListStateMachineAliases", stateMachineArn=ORDERS) == {"stateMachineAliases": []}
    names = [f"alias-{i}" for i in range(5)]
    for i, name in enumerate(names):
        clock(service).advance()
        create_alias(service, name, (V1, 100) if i % 2 else (V2, 100))
    listed = call(service, "ListStateMachineAliases", stateMachineArn=ORDERS)
    assert [a["stateMachineAliasArn"] for a in listed["stateMachineAliases"]] == [
        f"{ORDERS}:{n}" for n in names
    ]
    assert listed["stateMachineAliases"][0]["creationDate"] == (START_MS + 1000) / 1000
    # Given a version ARN: the aliases that route to it.
    of_v1 = call(service, "ListStateMachineAliases", stateMachineArn=V1)
    assert [a["stateMachineAliasArn"] for a in of_v1["stateMachineAliases"]] == [
        f"{ORDERS}:alias-1",
        f"{ORDERS}:alias-3",
    ]
    first = call(service, "ListStateMachineAliases", stateMachineArn=ORDERS, maxResults=2)
    rest = call(service, "ListStateMachineAliases", stateMachineArn=ORDERS, nextToken=first["nextToken"])
    assert [
        a["stateMachineAliasArn"] for a in first["stateMachineAliases"] + rest["stateMachineAliases"]
    ] == [f"{ORDERS}:{n}" for n in names]
    call(service, "DeleteStateMachineAlias", stateMachineAliasArn=f"{ORDERS}:alias-0")
    listed = call(service, "ListStateMachineAliases", stateMachineArn=ORDERS)
    assert len(listed["stateMachineAliases"]) == 4


def test_list_aliases_of_what_is_not_there(service: Service) -> None:
    nope = machine_arn("Nope")
    with refused("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{nope}'"):
        call(service, "ListStateMachineAliases", stateMachineArn=nope)
    with refused("ResourceNotFound"):
        call(service, "ListStateMachineAliases", stateMachineArn=f"{ORDERS}:9")


def test_too_many_aliases(service: Service) -> None:
    for i in range(100):
        create_alias(service, f"a{i}")
    with refused("ServiceQuotaExceededException"):
        create_alias(service, "one-more")


# --- resolve_state_machine: what StartExecution runs -----------------------------------------


def test_resolve_a_state_machine(service: Service) -> None:
    resolved = resolve_state_machine(service, ORDERS)
    machine, version_arn, alias_arn = resolved
    assert (version_arn, alias_arn) == (None, None)
    assert machine.arn == resolved.arn == ORDERS
    assert resolved.name == "Orders"
    assert resolved.definition == definition(3)
    assert resolved.type == "STANDARD"


def test_resolve_a_version(service: Service) -> None:
    resolved = resolve_state_machine(service, V1)
    assert (resolved.arn, resolved.version_arn, resolved.alias_arn) == (ORDERS, V1, None)
    assert resolved.definition == definition()
    assert resolved.role_arn == "arn:aws:iam::123456789012:role/podium"


def test_resolve_an_alias_by_its_weights(service: Service) -> None:
    create_alias(service, "live", (V1, 90), (V2, 10))
    rng = random.Random(7)
    picks = Counter(resolve_state_machine(service, LIVE, rng=rng).version_arn for _ in range(2000))
    assert set(picks) == {V1, V2}
    assert 1700 < picks[V1] < 1900
    resolved = resolve_state_machine(service, LIVE, rng=random.Random(1))
    assert resolved.alias_arn == LIVE
    assert resolved.definition == (definition() if resolved.version_arn == V1 else definition(2))
    # Without an rng: the Service's own random source.
    assert resolve_state_machine(service, LIVE).version_arn in (V1, V2)


def test_a_zero_weight_is_never_picked() -> None:
    rng = random.Random(0)
    assert {pick_version(((V1, 0), (V2, 100)), rng) for _ in range(500)} == {V2}
    assert {pick_version(((V1, 100), (V2, 0)), rng) for _ in range(500)} == {V1}


@pytest.mark.parametrize("suffix", ["Nope", "Orders:9", "Orders:nope"])
def test_resolve_what_is_not_there(service: Service, suffix: str) -> None:
    arn = f"{PREFIX}:stateMachine:{suffix}"
    with refused("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'"):
        resolve_state_machine(service, arn)


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        ("nope", "Invalid Arn: 'Invalid ARN prefix: nope'"),
        (f"{PREFIX}:execution:Orders:x", "Invalid Arn: 'Resource type not valid in this context: execution'"),
    ],
)
def test_resolve_an_invalid_arn(service: Service, arn: str, message: str) -> None:
    with refused("InvalidArn", message):
        resolve_state_machine(service, arn)
