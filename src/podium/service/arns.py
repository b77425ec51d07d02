"""ARNs and names as the API takes them: parsing, checking, and the errors AWS gives for bad ones.

    arn:<partition>:states:<region>:<account>:stateMachine:<name>              a state machine
    arn:<partition>:states:<region>:<account>:stateMachine:<name>:<n>          its version n
    arn:<partition>:states:<region>:<account>:stateMachine:<name>:<alias>      its alias
    arn:<partition>:states:<region>:<account>:activity:<name>                  an activity

A version qualifier is all digits; an alias name never is (it must hold a letter, `_`, `-` or
`.`), so the two cannot be confused. `resolve_state_machine` turns any of the three state
machine forms into what an execution runs: an alias picks one of its versions by weight.

Errors, in AWS's words:
    InvalidArn                "Invalid Arn: 'Invalid ARN prefix: <arn>'" when the text is not a
                              Step Functions ARN, "Invalid Arn: 'Resource type not valid in this
                              context: <type>'" when it names the wrong kind of resource
    InvalidName               "Invalid Name: '<name>'"
    StateMachineDoesNotExist  "State Machine Does Not Exist: '<arn>'" (also for a version or
                              alias ARN that names nothing)
"""

from __future__ import annotations

import dataclasses
import random
import re
from dataclasses import dataclass
from typing import NamedTuple

from podium.api.errors import InvalidArn, InvalidName, StateMachineDoesNotExist
from podium.service.registry import Service
from podium.store.records import StateMachineRecord, StateMachineType

STATE_MACHINE = "stateMachine"
ACTIVITY = "activity"
MAX_NAME_LENGTH = 80

# Names of state machines, activities and executions: 1 to 80 characters, none of them white
# space, brackets, wildcards, these specials, control characters, U+FFFE/U+FFFF, surrogates
# or U+10FFFF (the CreateStateMachine reference's list).
_FORBIDDEN_IN_NAMES = frozenset('<>{}[]?*"#%\\^|~`$&,;:/')
ALIAS_NAME = re.compile(r"^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$")
ALIAS_NAME_PATTERN = r"^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$"  # as AWS quotes it in messages
_VERSION = re.compile(r"^[0-9]+$")
_PARTITION = re.compile(r"^aws(-[a-z]+)*$")

# The random source of alias routing, kept in `Service.extras` unless a caller passes its own.
ROUTING_RANDOM = "podium.routing_random"


def is_valid_name(name: str) -> bool:
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        return False
    for char in name:
        code = ord(char)
        if (
            char in _FORBIDDEN_IN_NAMES
            or char.isspace()
            or code <= 0x1F
            or 0x7F <= code <= 0x9F
            or 0xD800 <= code <= 0xDFFF
            or code in (0xFFFE, 0xFFFF, 0x10FFFF)
        ):
            return False
    return True


def check_name(name: str) -> None:
    """Raise InvalidName unless `name` is a valid state machine or activity name."""
    if not is_valid_name(name):
        raise InvalidName(f"Invalid Name: '{name}'")


# --- parsing ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Arn:
    """A Step Functions ARN split at its colons; `resource` is what follows the resource type."""

    text: str
    partition: str
    region: str
    account: str
    resource_type: str
    resource: tuple[str, ...]


def parse_arn(text: str) -> Arn:
    """Any Step Functions ARN; InvalidArn ("Invalid ARN prefix") for anything else."""
    parts = text.split(":")
    if len(parts) < 7 or parts[0] != "arn" or not _PARTITION.match(parts[1]) or parts[2] != "states":
        raise InvalidArn(f"Invalid Arn: 'Invalid ARN prefix: {text}'")
    return Arn(text, parts[1], parts[3], parts[4], parts[5], tuple(parts[6:]))


def invalid_arn(text: str) -> InvalidArn:
    """A Step Functions ARN of the right type whose resource part cannot be right."""
    return InvalidArn(f"Invalid Arn: '{text}'")


def wrong_type(arn: Arn) -> InvalidArn:
    return InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {arn.resource_type.lower()}'")


@dataclass(frozen=True, slots=True)
class StateMachineArn:
    """A state machine ARN, perhaps qualified by a version number or an alias name."""

    text: str
    machine_arn: str  # the unqualified ARN
    name: str
    qualifier: str | None

    @property
    def version(self) -> int | None:
        return int(self.qualifier) if self.qualifier is not None and _VERSION.match(self.qualifier) else None

    @property
    def alias(self) -> str | None:
        return self.qualifier if self.qualifier is not None and self.version is None else None


def parse_state_machine_arn(text: str) -> StateMachineArn:
    """A state machine, version or alias ARN; InvalidArn for other ARNs or malformed ones."""
    arn = parse_arn(text)
    if arn.resource_type != STATE_MACHINE:
        raise wrong_type(arn)
    if len(arn.resource) > 2 or not all(arn.resource):
        raise invalid_arn(text)
    name = arn.resource[0]
    machine_arn = ":".join(text.split(":")[:7])
    return StateMachineArn(text, machine_arn, name, arn.resource[1] if len(arn.resource) == 2 else None)


def parse_activity_arn(text: str) -> Arn:
    arn = parse_arn(text)
    if arn.resource_type != ACTIVITY:
        raise wrong_type(arn)
    if len(arn.resource) != 1 or not arn.resource[0]:
        raise invalid_arn(text)
    return arn


def state_machine_does_not_exist(arn: str) -> StateMachineDoesNotExist:
    return StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")


def require_state_machine(service: Service, arn: str) -> StateMachineRecord:
    """The state machine of an unqualified ARN; a version or alias ARN names no state machine."""
    parsed = parse_state_machine_arn(arn)
    machine: StateMachineRecord | None = None
    if parsed.qualifier is None:
        machine = service.store.get_state_machine(arn)
    if machine is None:
        raise state_machine_does_not_exist(arn)
    return machine


# --- what an execution runs ------------------------------------------------------------------


class ResolvedStateMachine(NamedTuple):
    """What StartExecution runs for a state machine, version or alias ARN.

    `machine` is the state machine's record with, for a version (or an alias's version), that
    version's definition, role, type, revision and description: its `arn` and `name` stay the
    state machine's own (unqualified), as executions report them. Unpacks as
    `machine, version_arn, alias_arn`; the machine's fields are also readable directly.
    """

    machine: StateMachineRecord
    version_arn: str | None
    alias_arn: str | None

    @property
    def arn(self) -> str:
        return self.machine.arn

    @property
    def name(self) -> str:
        return self.machine.name

    @property
    def definition(self) -> str:
        return self.machine.definition

    @property
    def type(self) -> StateMachineType:
        return self.machine.type

    @property
    def role_arn(self) -> str:
        return self.machine.role_arn


def resolve_state_machine(
    service: Service, arn: str, *, rng: random.Random | None = None
) -> ResolvedStateMachine:
    """The state machine an execution started with `arn` runs.

    Raises InvalidArn when `arn` is not a state machine, version or alias ARN, and
    StateMachineDoesNotExist (naming `arn`) when it names nothing. An alias picks one of its
    versions at random by the routing weights, with `rng`, else the Service's own random source.
    """
    parsed = parse_state_machine_arn(arn)
    store = service.store
    machine: StateMachineRecord | None = store.get_state_machine(parsed.machine_arn)
    if machine is None:
        raise state_machine_does_not_exist(arn)
    if parsed.qualifier is None:
        return ResolvedStateMachine(machine, None, None)
    alias_arn = None
    version_arn = arn
    if parsed.alias is not None:
        alias = store.get_alias(arn)
        if alias is None:
            raise state_machine_does_not_exist(arn)
        alias_arn = arn
        version_arn = pick_version(alias.routing, rng or routing_random(service))
    version = store.get_version(version_arn)
    if version is None:
        raise state_machine_does_not_exist(arn)
    runs = dataclasses.replace(
        machine,
        definition=version.definition,
        role_arn=version.role_arn,
        type=version.type,
        revision_id=version.revision_id,
        description=version.description,
    )
    return ResolvedStateMachine(runs, version.arn, alias_arn)


def routing_random(service: Service) -> random.Random:
    found = service.extras.get(ROUTING_RANDOM)
    if not isinstance(found, random.Random):
        found = service.extras.setdefault(ROUTING_RANDOM, random.Random())
    return found


def pick_version(routing: tuple[tuple[str, int], ...], rng: random.Random) -> str:
    """One version ARN of an alias's routing, each with probability weight / 100."""
    draw = rng.randrange(sum(weight for _, weight in routing) or 1)
    for version_arn, weight in routing:
        if draw < weight:
            return version_arn
        draw -= weight
    return routing[-1][0]
