"""State machines, versions, aliases, tags and definitions, through boto3 against `podium server`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.blackbox.process import ACCOUNT, REGION, ROLE, definition

Names = Callable[[str], str]
PASS = definition({"P": {"Type": "Pass", "Result": {"v": 1}, "End": True}})
PASS_2 = definition({"P": {"Type": "Pass", "Result": {"v": 2}, "End": True}})
PASS_3 = definition({"P": {"Type": "Pass", "Result": {"v": 3}, "End": True}})


def error_of(call: Callable[[], Any]) -> tuple[str, str]:
    """The AWS error code (`__type`) and message a call fails with."""
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return str(error["Code"]), str(error["Message"])


def machine_arn(name: str) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"


def all_pages(call: Callable[..., dict[str, Any]], member: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a List* action that boto3 has no paginator for, a page of one at a time."""
    items: list[dict[str, Any]] = []
    token = None
    while True:
        page = call(**params, maxResults=1, **({"nextToken": token} if token else {}))
        assert len(page[member]) <= 1
        items += page[member]
        token = page.get("nextToken")
        if token is None:
            return items


class TestStateMachines:
    def test_create_describe_update_delete(self, sfn: Any, names: Names) -> None:
        name = names("sm")
        created = sfn.create_state_machine(
            name=name, definition=PASS, roleArn=ROLE, tags=[{"key": "team", "value": "core"}]
        )
        arn = created["stateMachineArn"]
        assert arn == machine_arn(name) and "stateMachineVersionArn" not in created
        described = sfn.describe_state_machine(stateMachineArn=arn)
        assert (described["name"], described["status"], described["type"]) == (name, "ACTIVE", "STANDARD")
        assert (described["definition"], described["roleArn"]) == (PASS, ROLE)
        assert described["loggingConfiguration"] == {"level": "OFF", "includeExecutionData": False}
        assert described["tracingConfiguration"] == {"enabled": False}
        assert "revisionId" not in described  # the initial revision has none, as on AWS

        # The same request again is the same state machine; another definition is a conflict.
        again = sfn.create_state_machine(name=name, definition=PASS, roleArn=ROLE)
        assert again["stateMachineArn"] == arn and again["creationDate"] == created["creationDate"]
        assert error_of(lambda: sfn.create_state_machine(name=name, definition=PASS_2, roleArn=ROLE))[0] == (
            "StateMachineAlreadyExists"
        )

        updated = sfn.update_state_machine(stateMachineArn=arn, definition=PASS_2)
        assert updated["revisionId"]
        described = sfn.describe_state_machine(stateMachineArn=arn)
        assert (described["definition"], described["revisionId"]) == (PASS_2, updated["revisionId"])

        sfn.delete_state_machine(stateMachineArn=arn)
        code, message = error_of(lambda: sfn.describe_state_machine(stateMachineArn=arn))
        assert code == "StateMachineDoesNotExist" and arn in message
        sfn.delete_state_machine(stateMachineArn=arn)  # deleting again succeeds, as on AWS

    def test_list_state_machines_pages_in_name_order(self, sfn: Any, names: Names) -> None:
        prefix = names("list")
        arns = [
            sfn.create_state_machine(name=f"{prefix}-{i}", definition=PASS, roleArn=ROLE)["stateMachineArn"]
            for i in range(3)
        ]
        pages = list(sfn.get_paginator("list_state_machines").paginate(PaginationConfig={"PageSize": 2}))
        assert all(len(page["stateMachines"]) <= 2 for page in pages) and len(pages) >= 2
        listed = [m for page in pages for m in page["stateMachines"]]
        names_listed = [m["name"] for m in listed]
        assert names_listed == sorted(names_listed)
        ours = [m for m in listed if m["name"].startswith(prefix)]
        assert [m["stateMachineArn"] for m in ours] == arns
        assert {m["type"] for m in ours} == {"STANDARD"}

    def test_an_express_state_machine(self, sfn: Any, names: Names) -> None:
        arn = sfn.create_state_machine(name=names("express"), definition=PASS, roleArn=ROLE, type="EXPRESS")[
            "stateMachineArn"
        ]
        assert sfn.describe_state_machine(stateMachineArn=arn)["type"] == "EXPRESS"


class TestVersionsAndAliases:
    def test_publish_on_create_and_update_then_publish_version(self, sfn: Any, names: Names) -> None:
        name = names("versions")
        created = sfn.create_state_machine(
            name=name, definition=PASS, roleArn=ROLE, publish=True, versionDescription="first"
        )
        arn = created["stateMachineArn"]
        assert created["stateMachineVersionArn"] == f"{arn}:1"
        version_1 = sfn.describe_state_machine(stateMachineArn=f"{arn}:1")
        assert (version_1["definition"], version_1["description"]) == (PASS, "first")

        updated = sfn.update_state_machine(
            stateMachineArn=arn, definition=PASS_2, publish=True, versionDescription="second"
        )
        assert updated["stateMachineVersionArn"] == f"{arn}:2"

        # Publishing a revision that has a version already gives that version back.
        same = sfn.publish_state_machine_version(stateMachineArn=arn)
        assert same["stateMachineVersionArn"] == f"{arn}:2"
        # A stale revisionId is a conflict.
        code, message = error_of(
            lambda: sfn.publish_state_machine_version(stateMachineArn=arn, revisionId="not-the-revision")
        )
        assert code == "ConflictException" and "not-the-revision" in message

        revision = sfn.update_state_machine(stateMachineArn=arn, definition=PASS_3)["revisionId"]
        third = sfn.publish_state_machine_version(stateMachineArn=arn, revisionId=revision, description="3rd")
        assert third["stateMachineVersionArn"] == f"{arn}:3"

        versions = all_pages(sfn.list_state_machine_versions, "stateMachineVersions", stateMachineArn=arn)
        assert [v["stateMachineVersionArn"] for v in versions] == [f"{arn}:3", f"{arn}:2", f"{arn}:1"]

        # Numbers are never given twice: after deleting version 3, the next one is 4.
        sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:3")
        sfn.update_state_machine(stateMachineArn=arn, definition=PASS, publish=True)
        versions = sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
        assert [v["stateMachineVersionArn"] for v in versions] == [f"{arn}:4", f"{arn}:2", f"{arn}:1"]

    def test_aliases(self, sfn: Any, names: Names) -> None:
        arn = sfn.create_state_machine(name=names("aliases"), definition=PASS, roleArn=ROLE, publish=True)[
            "stateMachineArn"
        ]
        v2 = sfn.update_state_machine(stateMachineArn=arn, definition=PASS_2, publish=True)[
            "stateMachineVersionArn"
        ]
        v1 = f"{arn}:1"
        routing = [{"stateMachineVersionArn": v1, "weight": 100}]
        alias = sfn.create_state_machine_alias(name="live", description="prod", routingConfiguration=routing)[
            "stateMachineAliasArn"
        ]
        assert alias == f"{arn}:live"
        # Idempotent with the same routing, a conflict with another.
        assert sfn.create_state_machine_alias(name="live", description="prod", routingConfiguration=routing)[
            "stateMachineAliasArn"
        ] == (alias)
        other = [{"stateMachineVersionArn": v2, "weight": 100}]
        assert error_of(lambda: sfn.create_state_machine_alias(name="live", routingConfiguration=other))[
            0
        ] == ("ConflictException")
        described = sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
        assert (described["name"], described["description"]) == ("live", "prod")
        assert described["routingConfiguration"] == routing

        split = [{"stateMachineVersionArn": v1, "weight": 20}, {"stateMachineVersionArn": v2, "weight": 80}]
        sfn.update_state_machine_alias(stateMachineAliasArn=alias, routingConfiguration=split)
        assert sfn.describe_state_machine_alias(stateMachineAliasArn=alias)["routingConfiguration"] == split
        bad_weights = [
            {"stateMachineVersionArn": v1, "weight": 20},
            {"stateMachineVersionArn": v2, "weight": 70},
        ]
        code, message = error_of(
            lambda: sfn.update_state_machine_alias(
                stateMachineAliasArn=alias, routingConfiguration=bad_weights
            )
        )
        assert code == "ValidationException" and "must equal 100" in message

        sfn.create_state_machine_alias(name="canary", routingConfiguration=other)
        listed = all_pages(sfn.list_state_machine_aliases, "stateMachineAliases", stateMachineArn=arn)
        assert [a["stateMachineAliasArn"] for a in listed] == [f"{arn}:canary", alias]
        by_version = sfn.list_state_machine_aliases(stateMachineArn=v2)["stateMachineAliases"]
        assert {a["stateMachineAliasArn"] for a in by_version} == {f"{arn}:canary", alias}

        # A version an alias routes to cannot be deleted.
        code, message = error_of(lambda: sfn.delete_state_machine_version(stateMachineVersionArn=v1))
        assert code == "ConflictException" and "live" in message

        sfn.delete_state_machine_alias(stateMachineAliasArn=alias)
        assert error_of(lambda: sfn.describe_state_machine_alias(stateMachineAliasArn=alias))[0] == (
            "ResourceNotFound"
        )
        sfn.delete_state_machine_version(stateMachineVersionArn=v1)
        assert (
            error_of(lambda: sfn.describe_state_machine(stateMachineArn=v1))[0] == "StateMachineDoesNotExist"
        )


class TestTags:
    def test_tag_untag_and_list_for_a_state_machine_and_an_activity(self, sfn: Any, names: Names) -> None:
        machine = sfn.create_state_machine(
            name=names("tags"), definition=PASS, roleArn=ROLE, tags=[{"key": "a", "value": "1"}]
        )["stateMachineArn"]
        activity = sfn.create_activity(name=names("tags"))["activityArn"]
        for arn in (machine, activity):
            sfn.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}, {"key": "c", "value": "3"}])
            sfn.untag_resource(resourceArn=arn, tagKeys=["c"])
        assert sfn.list_tags_for_resource(resourceArn=machine)["tags"] == [
            {"key": "a", "value": "1"},
            {"key": "b", "value": "2"},
        ]
        assert sfn.list_tags_for_resource(resourceArn=activity)["tags"] == [{"key": "b", "value": "2"}]
        missing = machine_arn(names("missing"))
        assert error_of(lambda: sfn.list_tags_for_resource(resourceArn=missing))[0] == "ResourceNotFound"
        too_many = [{"key": f"k{i}", "value": "v"} for i in range(51)]
        assert error_of(lambda: sfn.tag_resource(resourceArn=machine, tags=too_many))[0] == "TooManyTags"


class TestDefinitions:
    def test_validate_state_machine_definition(self, sfn: Any) -> None:
        ok = sfn.validate_state_machine_definition(definition=PASS)
        assert (ok["result"], ok["diagnostics"], ok["truncated"]) == ("OK", [], False)
        bad = definition({"A": {"Type": "Pass", "Next": "Nowhere"}})
        failed = sfn.validate_state_machine_definition(definition=bad)
        assert failed["result"] == "FAIL"
        assert [(d["severity"], d["code"]) for d in failed["diagnostics"]] == [
            ("ERROR", "MISSING_TRANSITION_TARGET"),
            ("ERROR", "MISSING_END_STATE"),
        ]
        assert failed["diagnostics"][0]["location"] == "/States/A/Next"
        # What an EXPRESS state machine cannot run.
        activity = definition(
            {"T": {"Type": "Task", "Resource": f"arn:aws:states:{REGION}:{ACCOUNT}:activity:x", "End": True}}
        )
        express = sfn.validate_state_machine_definition(definition=activity, type="EXPRESS")
        assert express["result"] == "FAIL" and "Activity" in express["diagnostics"][0]["message"]

    def test_an_invalid_definition_is_refused_with_the_diagnostic(self, sfn: Any, names: Names) -> None:
        bad = definition({"A": {"Type": "Pass", "Next": "Nowhere"}})
        code, message = error_of(
            lambda: sfn.create_state_machine(name=names("bad"), definition=bad, roleArn=ROLE)
        )
        assert code == "InvalidDefinition"
        assert message.startswith("Invalid State Machine Definition: ")
        assert "MISSING_TRANSITION_TARGET" in message and "/States/A/Next" in message
        code, _ = error_of(
            lambda: sfn.create_state_machine(name=names("bad"), definition="{not json", roleArn=ROLE)
        )
        assert code == "InvalidDefinition"

    def test_an_action_podium_does_not_implement_says_so(self, sfn: Any) -> None:
        arn = "arn:aws:states:us-east-1:000000000000:mapRun:machine/map:0b1c2d3e-0000-4000-8000-000000000000"
        code, message = error_of(lambda: sfn.update_map_run(mapRunArn=arn, maxConcurrency=1))
        assert code == "UnknownOperationException"
        assert "UpdateMapRun" in message and "podium does not implement" in message
