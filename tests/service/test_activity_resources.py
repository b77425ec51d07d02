"""CreateActivity, DescribeActivity, DeleteActivity, ListActivities (the activity as a resource)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from podium.service.registry import Service

from .catalog_support import PREFIX, START_MS, STORES, call, clock, refused, service_over

APPROVE = f"{PREFIX}:activity:Approve"


@pytest.fixture(params=STORES)
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    yield from service_over(request.param, tmp_path)


def test_create_describe_delete(service: Service) -> None:
    created = call(service, "CreateActivity", name="Approve")
    assert created == {"activityArn": APPROVE, "creationDate": START_MS / 1000}
    clock(service).advance()
    assert call(service, "CreateActivity", name="Approve") == created  # idempotent on the name
    assert call(service, "DescribeActivity", activityArn=APPROVE) == {
        "activityArn": APPROVE,
        "name": "Approve",
        "creationDate": START_MS / 1000,
    }
    assert call(service, "DeleteActivity", activityArn=APPROVE) == {}
    assert call(service, "DeleteActivity", activityArn=APPROVE) == {}  # gone already: no error
    with refused("ActivityDoesNotExist", f"Activity Does Not Exist: '{APPROVE}'"):
        call(service, "DescribeActivity", activityArn=APPROVE)


def test_create_with_tags_and_again_with_others(service: Service) -> None:
    call(service, "CreateActivity", name="Approve", tags=[{"key": "team", "value": "ops"}])
    call(service, "CreateActivity", name="Approve", tags=[{"key": "other", "value": "x"}])
    assert call(service, "ListTagsForResource", resourceArn=APPROVE) == {
        "tags": [{"key": "team", "value": "ops"}]
    }
    call(service, "DeleteActivity", activityArn=APPROVE)
    call(service, "CreateActivity", name="Approve")
    assert call(service, "ListTagsForResource", resourceArn=APPROVE) == {"tags": []}


@pytest.mark.parametrize("name", ["TestActivity InvalidName$", "a:b", "x" * 81, "new\nline"])
def test_invalid_names(service: Service, name: str) -> None:
    with refused("InvalidName", f"Invalid Name: '{name}'"):
        call(service, "CreateActivity", check_input=False, name=name)


def test_too_many_tags(service: Service) -> None:
    with refused("TooManyTags"):
        call(
            service, "CreateActivity", name="Approve", tags=[{"key": f"k{i}", "value": ""} for i in range(51)]
        )
    with refused("ActivityDoesNotExist"):
        call(service, "DescribeActivity", activityArn=APPROVE)


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        ("activity_arn", "Invalid Arn: 'Invalid ARN prefix: activity_arn'"),
        (
            f"{PREFIX}:stateMachine:Approve",
            "Invalid Arn: 'Resource type not valid in this context: statemachine'",
        ),
        (f"{PREFIX}:activity:Approve:1", f"Invalid Arn: '{PREFIX}:activity:Approve:1'"),
    ],
)
def test_invalid_arns(service: Service, arn: str, message: str) -> None:
    with refused("InvalidArn", message):
        call(service, "DescribeActivity", activityArn=arn)
    with refused("InvalidArn", message):
        call(service, "DeleteActivity", activityArn=arn)


def test_list_activities_by_name_in_pages(service: Service) -> None:
    assert call(service, "ListActivities") == {"activities": []}
    names = ["Zeta", "Approve", "Mid", "Beta", "Kappa"]
    for name in names:
        call(service, "CreateActivity", name=name)
    listed = call(service, "ListActivities")
    assert [a["name"] for a in listed["activities"]] == sorted(names)
    assert listed["activities"][0] == {
        "activityArn": f"{PREFIX}:activity:Approve",
        "name": "Approve",
        "creationDate": START_MS / 1000,
    }
    seen: list[str] = []
    params: dict[str, object] = {"maxResults": 2}
    while True:
        page = call(service, "ListActivities", **params)
        seen += [a["name"] for a in page["activities"]]
        if "nextToken" not in page:
            break
        params["nextToken"] = page["nextToken"]
    assert seen == sorted(names)
    with refused("InvalidToken"):
        call(service, "ListActivities", nextToken="%%%")
