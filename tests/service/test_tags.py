"""TagResource, UntagResource, ListTagsForResource on state machines and activities."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from podium.service.registry import Service

from .catalog_support import PREFIX, STORES, call, create, machine_arn, refused, service_over

ORDERS = machine_arn("Orders")
APPROVE = f"{PREFIX}:activity:Approve"


@pytest.fixture(params=STORES)
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    for service in service_over(request.param, tmp_path):
        create(service, publish=True)
        call(service, "CreateActivity", name="Approve")
        yield service


def tags(service: Service, arn: str) -> list[dict[str, str]]:
    listed: list[dict[str, str]] = call(service, "ListTagsForResource", resourceArn=arn)["tags"]
    return listed


@pytest.mark.parametrize("arn", [ORDERS, APPROVE])
def test_tag_untag_list(service: Service, arn: str) -> None:
    assert tags(service, arn) == []
    tagged = [{"key": "key1", "value": "value1"}, {"key": "key2", "value": ""}]
    assert call(service, "TagResource", resourceArn=arn, tags=tagged) == {}
    assert tags(service, arn) == tagged
    call(service, "TagResource", resourceArn=arn, tags=[{"key": "key1", "value": "new"}])
    assert tags(service, arn) == [{"key": "key1", "value": "new"}, {"key": "key2", "value": ""}]
    assert call(service, "UntagResource", resourceArn=arn, tagKeys=["key2", "not-there"]) == {}
    assert tags(service, arn) == [{"key": "key1", "value": "new"}]
    call(service, "UntagResource", resourceArn=arn, tagKeys=[])
    assert tags(service, arn) == [{"key": "key1", "value": "new"}]


def test_tags_are_per_resource(service: Service) -> None:
    call(service, "TagResource", resourceArn=ORDERS, tags=[{"key": "a", "value": "1"}])
    call(service, "TagResource", resourceArn=APPROVE, tags=[{"key": "b", "value": "2"}])
    assert tags(service, ORDERS) == [{"key": "a", "value": "1"}]
    assert tags(service, APPROVE) == [{"key": "b", "value": "2"}]


def test_at_most_50_tags(service: Service) -> None:
    call(service, "TagResource", resourceArn=ORDERS, tags=[{"key": f"k{i}", "value": "v"} for i in range(49)])
    call(
        service,
        "TagResource",
        resourceArn=ORDERS,
        tags=[{"key": "k0", "value": "again"}, {"key": "k49", "value": ""}],
    )
    with refused("TooManyTags"):
        call(service, "TagResource", resourceArn=ORDERS, tags=[{"key": "k50", "value": "v"}])
    assert len(tags(service, ORDERS)) == 50


@pytest.mark.parametrize(
    "arn",
    [f"{ORDERS}:1", f"{ORDERS}:live", machine_arn("Nope"), f"{PREFIX}:activity:Nope"],
    ids=["version", "alias", "no-machine", "no-activity"],
)
def test_what_cannot_be_tagged(service: Service, arn: str) -> None:
    message = f"Resource not found: '{arn}'"
    with refused("ResourceNotFound", message):
        call(service, "TagResource", resourceArn=arn, tags=[{"key": "a", "value": "b"}])
    with refused("ResourceNotFound", message):
        call(service, "UntagResource", resourceArn=arn, tagKeys=["a"])
    with refused("ResourceNotFound", message):
        call(service, "ListTagsForResource", resourceArn=arn)


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        ("nope", "Invalid Arn: 'Invalid ARN prefix: nope'"),
        (
            f"{PREFIX}:execution:Orders:run",
            "Invalid Arn: 'Resource type not valid in this context: execution'",
        ),
    ],
)
def test_invalid_arns(service: Service, arn: str, message: str) -> None:
    with refused("InvalidArn", message):
        call(service, "ListTagsForResource", resourceArn=arn)


def test_deleting_a_resource_deletes_its_tags(service: Service) -> None:
    for arn in (ORDERS, APPROVE):
        call(service, "TagResource", resourceArn=arn, tags=[{"key": "a", "value": "b"}])
    call(service, "DeleteStateMachine", stateMachineArn=ORDERS)
    call(service, "DeleteActivity", activityArn=APPROVE)
    create(service)
    call(service, "CreateActivity", name="Approve")
    assert tags(service, ORDERS) == []
    assert tags(service, APPROVE) == []
