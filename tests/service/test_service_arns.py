"""ARN parsing and name rules of the API (podium.service.arns)."""

from __future__ import annotations

import pytest

from podium.service.arns import is_valid_name, parse_arn, parse_state_machine_arn

from .catalog_support import PREFIX, refused


def test_state_machine_arns() -> None:
    plain = parse_state_machine_arn(f"{PREFIX}:stateMachine:Orders")
    assert (plain.machine_arn, plain.name, plain.qualifier, plain.version, plain.alias) == (
        f"{PREFIX}:stateMachine:Orders",
        "Orders",
        None,
        None,
        None,
    )
    version = parse_state_machine_arn(f"{PREFIX}:stateMachine:Orders:12")
    assert (version.machine_arn, version.version, version.alias) == (
        f"{PREFIX}:stateMachine:Orders",
        12,
        None,
    )
    alias = parse_state_machine_arn(f"{PREFIX}:stateMachine:Orders:PROD-1")
    assert (alias.version, alias.alias) == (None, "PROD-1")


def test_other_partitions() -> None:
    arn = parse_arn("arn:aws-cn:states:cn-north-1:123456789012:activity:A")
    assert (arn.partition, arn.region, arn.account, arn.resource_type, arn.resource) == (
        "aws-cn",
        "cn-north-1",
        "123456789012",
        "activity",
        ("A",),
    )
    assert parse_arn("arn:aws-us-gov:states:us-gov-west-1:1:stateMachine:x").partition == "aws-us-gov"


@pytest.mark.parametrize(
    "text",
    ["", "arn", "arn:aws:states", "arn:aws:lambda:us-east-1:1:function:f", "ARN:aws:states:r:a:t:n", "x:y:z"],
)
def test_not_step_functions_arns(text: str) -> None:
    with refused("InvalidArn", f"Invalid Arn: 'Invalid ARN prefix: {text}'"):
        parse_arn(text)


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("a", True),
        ("Orders_2024-v1.final", True),
        ("ünïcødé-名前", True),
        ("x" * 80, True),
        ("x" * 81, False),
        ("", False),
        ("with space", False),
        ("non\u00a0breaking", False),
        *((f"a{c}b", False) for c in '<>{}[]?*"#%\\^|~`$&,;:/'),
        ("\x1f", False),
        ("\x7f", False),
        ("\x9f", False),
        ("\ufffe", False),
        ("\U0010ffff", False),
        ("\ud800", False),
    ],
)
def test_names(name: str, valid: bool) -> None:
    assert is_valid_name(name) is valid
