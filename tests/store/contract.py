"""The Store contract: every implementation subclasses StoreContract and provides `store`.

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self, tmp_path): ...

Stores that keep their data across close() also override `reopen`, which turns on the
durability tests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from podium.core.history import HistoryEvent
from podium.core.messages import (
    Command,
    ExecutionInfo,
    InvokeTask,
    Signal,
    StartExecution,
    StartTimer,
    StopExecution,
    TaskFailed,
    TaskHeartbeat,
    TaskStarted,
    TaskSucceeded,
    TimerFired,
)
from podium.store.base import Store
from podium.store.errors import (
    ConflictError,
    DuplicateIdError,
    ExecutionClosedError,
    ExecutionDoesNotExistError,
    ExecutionNotRedrivableError,
    StoreClosedError,
)
from podium.store.records import (
    ActivityRecord,
    AliasRecord,
    ExecutionOutcome,
    ExecutionRecord,
    ExecutionStatus,
    StateMachineRecord,
    StateMachineVersionRecord,
    StepCommit,
)
from tests.callbacks import promise

REGION = "arn:aws:states:us-east-1:000000000000"
ORDERS = f"{REGION}:stateMachine:Orders"
REFUNDS = f"{REGION}:stateMachine:Refunds"


def machine(name: str = "Orders", **changes: Any) -> StateMachineRecord:
    fields: dict[str, Any] = {
        "arn": f"{REGION}:stateMachine:{name}",
        "name": name,
        "definition": '{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}',
        "type": "STANDARD",
        "role_arn": "arn:aws:iam::000000000000:role/podium",
        "created_ms": 1_700_000_000_000,
        "revision_id": "r1",
    }
    fields.update(changes)
    return StateMachineRecord(**fields)


def version(number: int = 1, state_machine_arn: str = ORDERS, **changes: Any) -> StateMachineVersionRecord:
    fields: dict[str, Any] = {
        "arn": f"{state_machine_arn}:{number}",
        "state_machine_arn": state_machine_arn,
        "version": number,
        "definition": '{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}',
        "role_arn": "arn:aws:iam::000000000000:role/podium",
        "type": "STANDARD",
        "revision_id": f"r{number}",
        "created_ms": 1_700_000_000_000 + number,
    }
    fields.update(changes)
    return StateMachineVersionRecord(**fields)


def alias(name: str = "live", state_machine_arn: str = ORDERS, **changes: Any) -> AliasRecord:
    fields: dict[str, Any] = {
        "arn": f"{state_machine_arn}:{name}",
        "state_machine_arn": state_machine_arn,
        "name": name,
        "routing": ((f"{state_machine_arn}:1", 100),),
        "created_ms": 1_700_000_000_000,
        "updated_ms": 1_700_000_000_000,
    }
    fields.update(changes)
    return AliasRecord(**fields)


def activity(name: str = "Approve", **changes: Any) -> ActivityRecord:
    fields: dict[str, Any] = {
        "arn": f"{REGION}:activity:{name}",
        "name": name,
        "created_ms": 1_700_000_000_000,
    }
    fields.update(changes)
    return ActivityRecord(**fields)


def execution(name: str = "run-1", state_machine_arn: str = ORDERS, **changes: Any) -> ExecutionRecord:
    machine_name = state_machine_arn.rsplit(":", 1)[1]
    fields: dict[str, Any] = {
        "arn": f"{REGION}:execution:{machine_name}:{name}",
        "name": name,
        "state_machine_arn": state_machine_arn,
        "definition": '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","End":true}}}',
        "input": '{"order":1}',
        "start_ms": 1_700_000_000_000,
    }
    fields.update(changes)
    return ExecutionRecord(**fields)


def start(record: ExecutionRecord) -> StartExecution:
    info = ExecutionInfo(
        execution_arn=record.arn,
        name=record.name,
        state_machine_arn=record.state_machine_arn,
        state_machine_name=record.state_machine_arn.rsplit(":", 1)[1],
        start_time="2023-11-14T22:13:20.000Z",
    )
    return StartExecution(now_ms=record.start_ms, input={"order": 1}, info=info, seed=42)


def event(
    event_id: int, type_: str = "PassStateEntered", details: dict[str, Any] | None = None
) -> HistoryEvent:
    return HistoryEvent(
        id=event_id,
        previous_event_id=event_id - 1,
        timestamp=1_700_000_000.123 + event_id,
        type=type_,
        details=details,
    )


def task(command_id: str, payload: Any = None) -> InvokeTask:
    return InvokeTask(
        command_id=command_id,
        resource="arn:aws:states:::lambda:invoke",
        payload={"n": command_id} if payload is None else payload,
        task_token=f"token-{command_id}",
        state_name="A",
    )


class StoreContract:
    @pytest.fixture
    def store(self) -> Iterator[Store]:
        raise NotImplementedError("a StoreContract subclass provides the `store` fixture")

    def reopen(self, store: Store) -> Store | None:
        """Close `store` and open its data again; None where nothing outlives close()."""
        return None

    def started(self, store: Store, name: str = "run-1", **changes: Any) -> ExecutionRecord:
        record = execution(name, **changes)
        created, is_new = store.create_execution(record, start(record))
        assert is_new
        return created

    # --- state machines ---------------------------------------------------------------------

    def test_state_machine_round_trip(self, store: Store) -> None:
        record = machine(
            description="orders, élan",
            type="EXPRESS",
            updated_ms=1_700_000_000_500,
            logging_configuration='{"level":"ALL","includeExecutionData":true}',
            tracing_configuration='{"enabled":false}',
            versions_published=3,
        )
        store.put_state_machine(record)
        assert store.get_state_machine(record.arn) == record
        assert store.get_state_machine(f"{REGION}:stateMachine:Nope") is None
        assert store.list_tags(record.arn) == {}

    def test_put_replaces_the_state_machine(self, store: Store) -> None:
        store.put_state_machine(machine())
        updated = machine(definition='{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}', revision_id="r2")
        store.put_state_machine(updated)
        assert store.get_state_machine(updated.arn) == updated
        assert store.list_state_machines() == [updated]

    def test_state_machines_are_listed_by_name(self, store: Store) -> None:
        for name in ("Zeta", "Alpha", "Mid"):
            store.put_state_machine(machine(name))
        assert [record.name for record in store.list_state_machines()] == ["Alpha", "Mid", "Zeta"]

    def test_delete_state_machine(self, store: Store) -> None:
        store.put_state_machine(machine())
        assert store.delete_state_machine(ORDERS) is True
        assert store.delete_state_machine(ORDERS) is False
        assert store.get_state_machine(ORDERS) is None

    def test_deleting_a_state_machine_takes_its_versions_aliases_and_tags(self, store: Store) -> None:
        store.put_state_machine(machine())
        store.put_state_machine(machine("Refunds"))
        for owner in (ORDERS, REFUNDS):
            store.put_version(version(1, owner))
            store.put_alias(alias("live", owner))
            store.tag_resource(owner, {"team": "billing"})
        assert store.delete_state_machine(ORDERS) is True
        assert store.list_versions(ORDERS) == []
        assert store.get_version(version(1).arn) is None
        assert store.list_aliases(ORDERS) == []
        assert store.get_alias(alias().arn) is None
        assert store.list_tags(ORDERS) == {}
        # ... and only its own.
        assert store.list_versions(REFUNDS) == [version(1, REFUNDS)]
        assert store.list_aliases(REFUNDS) == [alias("live", REFUNDS)]
        assert store.list_tags(REFUNDS) == {"team": "billing"}

    def test_deleting_no_state_machine_deletes_nothing(self, store: Store) -> None:
        store.put_version(version(1))
        store.tag_resource(ORDERS, {"a": "b"})
        assert store.delete_state_machine(ORDERS) is False
        assert store.list_versions(ORDERS) == [version(1)]
        assert store.list_tags(ORDERS) == {"a": "b"}

    # --- versions ---------------------------------------------------------------------------

    def test_versions(self, store: Store) -> None:
        store.put_state_machine(machine())
        one, three, two = version(1, description="first, élan"), version(3, type="EXPRESS"), version(2)
        for record in (one, three, two):
            store.put_version(record)
        store.put_version(version(1, state_machine_arn=REFUNDS))
        assert store.get_version(one.arn) == one
        assert store.get_version(f"{ORDERS}:9") is None
        assert store.list_versions(ORDERS) == [three, two, one]
        assert store.list_versions(f"{REGION}:stateMachine:Nope") == []
        assert store.delete_version(two.arn) is True
        assert store.delete_version(two.arn) is False
        assert store.list_versions(ORDERS) == [three, one]

    def test_put_replaces_the_version(self, store: Store) -> None:
        store.put_version(version(1))
        replaced = version(1, description="again")
        store.put_version(replaced)
        assert store.list_versions(ORDERS) == [replaced]

    # --- aliases ----------------------------------------------------------------------------

    def test_aliases(self, store: Store) -> None:
        split = alias(
            "canary",
            description="90/10",
            routing=((f"{ORDERS}:2", 90), (f"{ORDERS}:1", 10)),
            updated_ms=1_700_000_000_900,
        )
        live = alias("live")
        store.put_alias(live)
        store.put_alias(split)
        store.put_alias(alias("live", REFUNDS))
        assert store.get_alias(split.arn) == split
        assert store.get_alias(f"{ORDERS}:nope") is None
        assert store.list_aliases(ORDERS) == [split, live]
        assert store.delete_alias(split.arn) is True
        assert store.delete_alias(split.arn) is False
        assert store.list_aliases(ORDERS) == [live]

    def test_put_replaces_the_alias(self, store: Store) -> None:
        store.put_alias(alias())
        updated = alias(routing=((f"{ORDERS}:2", 50), (f"{ORDERS}:3", 50)), updated_ms=2)
        store.put_alias(updated)
        assert store.get_alias(updated.arn) == updated
        assert store.list_aliases(ORDERS) == [updated]

    # --- activities -------------------------------------------------------------------------

    def test_activities(self, store: Store) -> None:
        for name in ("Zeta", "Approve", "Mid"):
            store.put_activity(activity(name))
        assert store.get_activity(activity().arn) == activity()
        assert store.get_activity(activity("Nope").arn) is None
        assert [record.name for record in store.list_activities()] == ["Approve", "Mid", "Zeta"]
        store.put_activity(activity(created_ms=5))
        assert store.get_activity(activity().arn) == activity(created_ms=5)
        store.tag_resource(activity().arn, {"k": "v"})
        assert store.delete_activity(activity().arn) is True
        assert store.delete_activity(activity().arn) is False
        assert store.get_activity(activity().arn) is None
        assert store.list_tags(activity().arn) == {}
        assert [record.name for record in store.list_activities()] == ["Mid", "Zeta"]

    # --- tags -------------------------------------------------------------------------------

    def test_tags(self, store: Store) -> None:
        store.tag_resource(ORDERS, {"team": "billing", "env": "dev"})
        store.tag_resource(ORDERS, {"cost": "42", "team": "payments"})  # a key keeps its place
        store.tag_resource(REFUNDS, {"team": "refunds"})
        assert list(store.list_tags(ORDERS).items()) == [("team", "payments"), ("env", "dev"), ("cost", "42")]
        store.untag_resource(ORDERS, ["env", "not-there"])
        assert store.list_tags(ORDERS) == {"team": "payments", "cost": "42"}
        store.untag_resource(ORDERS, ["team", "cost"])
        assert store.list_tags(ORDERS) == {}
        store.untag_resource(f"{REGION}:activity:Nope", ["x"])
        store.tag_resource(ORDERS, {})
        assert store.list_tags(ORDERS) == {}
        assert store.list_tags(REFUNDS) == {"team": "refunds"}

    def test_tags_are_text_as_given(self, store: Store) -> None:
        tags = {"ünï cødé": "", "a:b/c=d+e-f@g.h": "v " * 64}
        store.tag_resource(ORDERS, tags)
        assert store.list_tags(ORDERS) == tags

    def test_executions_outlive_their_state_machine(self, store: Store) -> None:
        store.put_state_machine(machine())
        record = self.started(store)
        store.delete_state_machine(ORDERS)
        assert store.get_execution(record.arn) == record
        assert store.commit(record.arn, 0, events=[event(1)]) == 1

    # --- creating executions ----------------------------------------------------------------

    def test_create_execution_writes_the_record_and_the_first_signal(self, store: Store) -> None:
        record = execution()
        created, is_new = store.create_execution(record, start(record))
        assert (created, is_new) == (record, True)
        assert store.get_execution(record.arn) == record
        assert store.journal(record.arn) == [start(record)]
        assert store.history(record.arn) == []
        assert store.event_count(record.arn) == 0
        assert store.pending_commands(record.arn) == []

    def test_create_execution_is_idempotent_on_machine_and_name(self, store: Store) -> None:
        first = self.started(store)
        again = execution(input='{"order":2}', start_ms=first.start_ms + 5)
        existing, is_new = store.create_execution(again, start(again))
        assert (existing, is_new) == (first, False)
        assert store.get_execution(first.arn) == first
        assert store.journal(first.arn) == [start(first)]

    def test_submit_execution_is_create_execution_without_waiting(self, store: Store) -> None:
        record = execution()
        written, done = promise()
        store.submit_execution(record, start(record), done)
        assert written.result(timeout=30) == (record, True)
        assert store.get_execution(record.arn) == record
        assert store.journal(record.arn) == [start(record)]
        again = execution(input='{"order":2}', start_ms=record.start_ms + 5)
        written, done = promise()
        store.submit_execution(again, start(again), done)
        assert written.result(timeout=30) == (record, False)
        assert store.journal(record.arn) == [start(record)]

    def test_the_same_name_under_another_machine_is_another_execution(self, store: Store) -> None:
        orders = self.started(store)
        refunds = self.started(store, state_machine_arn=REFUNDS)
        assert orders.arn != refunds.arn
        assert store.get_execution(refunds.arn) == refunds

    def test_unknown_execution(self, store: Store) -> None:
        arn = execution("ghost").arn
        assert store.get_execution(arn) is None
        for call in (
            lambda: store.journal(arn),
            lambda: store.history(arn),
            lambda: store.event_count(arn),
            lambda: store.pending_commands(arn),
            lambda: store.inbox(arn),
            lambda: store.deliver(arn, TimerFired(now_ms=1, timer_id="t")),
            lambda: store.commit(arn, 0, events=[event(1)]),
        ):
            with pytest.raises(ExecutionDoesNotExistError):
                call()

    # --- listing executions -----------------------------------------------------------------

    def test_list_executions_newest_first_with_filters(self, store: Store) -> None:
        a = self.started(store, "a")
        b = self.started(store, "b", state_machine_arn=REFUNDS)
        c = self.started(store, "c")
        store.commit(c.arn, 0, outcome=ExecutionOutcome("SUCCEEDED", "{}", None, None, stop_ms=1))
        assert [r.name for r in store.list_executions()] == ["c", "b", "a"]
        assert [r.name for r in store.list_executions(ORDERS)] == ["c", "a"]
        assert [r.name for r in store.list_executions(status="RUNNING")] == ["b", "a"]
        assert store.list_executions(ORDERS, "RUNNING") == [a]
        assert store.list_executions(REFUNDS, "SUCCEEDED") == []
        assert store.list_executions(REFUNDS) == [b]

    def test_an_execution_keeps_what_it_was_started_through(self, store: Store) -> None:
        record = self.started(
            store,
            state_machine_version_arn=f"{ORDERS}:3",
            state_machine_alias_arn=f"{ORDERS}:live",
            type="EXPRESS",
            redrive_count=2,
            redrive_ms=1_700_000_000_010,
        )
        assert store.get_execution(record.arn) == record
        assert store.list_executions() == [record]

    def test_list_executions_by_version_and_alias(self, store: Store) -> None:
        v1, v2, live = f"{ORDERS}:1", f"{ORDERS}:2", f"{ORDERS}:live"
        plain = self.started(store, "plain")
        one = self.started(store, "one", state_machine_version_arn=v1)
        two = self.started(store, "two", state_machine_version_arn=v2, state_machine_alias_arn=live)
        three = self.started(store, "three", state_machine_version_arn=v1, state_machine_alias_arn=live)
        store.commit(three.arn, 0, outcome=ExecutionOutcome("SUCCEEDED", "{}", None, None, stop_ms=1))
        assert [r.name for r in store.list_executions(version_arn=v1)] == ["three", "one"]
        assert [r.name for r in store.list_executions(alias_arn=live)] == ["three", "two"]
        assert store.list_executions(ORDERS, "RUNNING", version_arn=v1) == [one]
        assert store.list_executions(version_arn=v2, alias_arn=live) == [two]
        assert store.list_executions(version_arn=v2, alias_arn=f"{ORDERS}:other") == []
        assert store.list_executions(REFUNDS, version_arn=v1) == []
        assert store.list_executions(alias_arn=live, limit=1, after_arn=three.arn) == [two]
        assert store.list_executions(version_arn=v1, after_arn=plain.arn) == []

    def test_list_executions_pages_are_stable(self, store: Store) -> None:
        for i in range(5):
            self.started(store, f"run-{i}")
        page = store.list_executions(limit=2)
        assert [r.name for r in page] == ["run-4", "run-3"]
        self.started(store, "run-late")  # does not shift the pages already handed out
        page = store.list_executions(limit=2, after_arn=page[-1].arn)
        assert [r.name for r in page] == ["run-2", "run-1"]
        page = store.list_executions(limit=2, after_arn=page[-1].arn)
        assert [r.name for r in page] == ["run-0"]
        assert store.list_executions(after_arn=page[-1].arn) == []
        assert len(store.list_executions()) == 6
        with pytest.raises(ExecutionDoesNotExistError):
            store.list_executions(after_arn=execution("ghost").arn)

    def test_unfinished_executions_oldest_first(self, store: Store) -> None:
        first = self.started(store, "first")
        done = self.started(store, "done")
        last = self.started(store, "last")
        store.commit(done.arn, 0, outcome=ExecutionOutcome("FAILED", None, "E", "C", stop_ms=9))
        assert store.unfinished_executions() == [first.arn, last.arn]

    # --- committing steps -------------------------------------------------------------------

    def test_a_commit_commits_the_journal_entries_before_it(self, store: Store) -> None:
        record = self.started(store)
        assert store.journal_entries(record.arn) == [(start(record), False)]
        store.commit(record.arn, 0, events=[event(1)])
        assert store.journal_entries(record.arn) == [(start(record), True)]
        done = TaskSucceeded(now_ms=2, task_id="t1", output=1)
        store.commit(record.arn, 1, signals=[done])
        assert store.journal_entries(record.arn) == [(start(record), True), (done, True)]
        assert store.journal(record.arn) == [start(record), done]

    def test_a_refused_commit_commits_no_journal_entry(self, store: Store) -> None:
        record = self.started(store)
        with pytest.raises(ConflictError):
            store.commit(record.arn, 7, events=[event(1)])
        store.commit(record.arn, 0, events=[event(1)])
        with pytest.raises(DuplicateIdError):
            store.commit(record.arn, 1, events=[event(1)])
        other = self.started(store, "other")
        with pytest.raises(ConflictError):
            store.commit(other.arn, 3, signals=[TimerFired(now_ms=1, timer_id="w")])
        assert store.journal_entries(other.arn) == [(start(other), False)]
        with pytest.raises(ExecutionDoesNotExistError):
            store.journal_entries(execution("ghost").arn)

    def test_commit_advances_the_version_and_appends_the_journal_in_order(self, store: Store) -> None:
        record = self.started(store)
        scheduled = task("t1")
        assert store.commit(record.arn, 0, events=[event(1), event(2)], new_commands=[scheduled]) == 1
        done = TaskSucceeded(now_ms=2, task_id="t1", output={"ok": True})
        fired = TimerFired(now_ms=3, timer_id="w")
        assert store.commit(record.arn, 1, signals=[done, fired], events=[event(3)], retired=["t1"]) == 2
        assert store.commit(record.arn, 2, signals=[TaskHeartbeat(now_ms=4, task_id="x")]) == 3
        assert store.journal(record.arn) == [start(record), done, fired, TaskHeartbeat(now_ms=4, task_id="x")]
        current = store.get_execution(record.arn)
        assert current is not None
        assert current.version == 3
        assert current.status == "RUNNING"

    def test_a_stale_version_is_a_conflict_and_writes_nothing(self, store: Store) -> None:
        record = self.started(store)
        store.commit(record.arn, 0, events=[event(1)], new_commands=[task("t1")])
        with pytest.raises(ConflictError) as raised:
            store.commit(
                record.arn,
                0,
                signals=[TaskSucceeded(now_ms=2, task_id="t1", output=1)],
                events=[event(2)],
                new_commands=[task("t2")],
                retired=["t1"],
            )
        assert (raised.value.expected, raised.value.actual) == (0, 1)
        self.assert_unchanged_after_step_one(store, record)

    @pytest.mark.parametrize("events", [[event(2), event(1)], [event(2), event(2)]], ids=["taken", "twice"])
    def test_a_duplicate_event_id_fails_the_whole_step(
        self, store: Store, events: list[HistoryEvent]
    ) -> None:
        record = self.started(store)
        store.commit(record.arn, 0, events=[event(1)], new_commands=[task("t1")])
        with pytest.raises(DuplicateIdError):
            store.commit(
                record.arn,
                1,
                signals=[TaskSucceeded(now_ms=2, task_id="t1", output=1)],
                events=events,
                new_commands=[task("t2")],
                retired=["t1"],
            )
        self.assert_unchanged_after_step_one(store, record)

    @pytest.mark.parametrize("commands", [[task("t1")], [task("t2"), task("t2")]], ids=["owed", "twice"])
    def test_a_duplicate_command_id_fails_the_whole_step(self, store: Store, commands: list[Command]) -> None:
        record = self.started(store)
        store.commit(record.arn, 0, events=[event(1)], new_commands=[task("t1")])
        with pytest.raises(DuplicateIdError):
            store.commit(record.arn, 1, events=[event(2)], new_commands=commands)
        self.assert_unchanged_after_step_one(store, record)

    def assert_unchanged_after_step_one(self, store: Store, record: ExecutionRecord) -> None:
        """The refused step left no trace: the execution is as its first step left it."""
        current = store.get_execution(record.arn)
        assert current is not None
        assert current.version == 1
        assert store.journal(record.arn) == [start(record)]
        assert store.history(record.arn) == [event(1)]
        assert store.pending_commands(record.arn) == [(record.arn, task("t1"))]
        # ... and the execution goes on from there.
        assert store.commit(record.arn, 1, events=[event(2)], retired=["t1"]) == 2
        assert store.pending_commands(record.arn) == []

    def test_steps_committed_together_stand_or_fail_each_on_its_own(self, store: Store) -> None:
        one, two, three = (self.started(store, name) for name in ("one", "two", "three"))
        ended = ExecutionOutcome("SUCCEEDED", "{}", None, None, stop_ms=1)
        results = store.commit_steps(
            [
                StepCommit(one.arn, 0, events=[event(1)], new_commands=[task("a")]),
                StepCommit(two.arn, 5, events=[event(1)]),  # not at version 5: refused
                StepCommit(one.arn, 1, events=[event(2)], retired=["a"]),  # after the first, in order
                StepCommit(three.arn, 0, events=[event(1), event(1)]),  # a duplicate event id
                StepCommit(two.arn, 0, events=[event(1)], outcome=ended),
            ]
        )
        assert [type(result) for result in results] == [
            type(None),
            ConflictError,
            type(None),
            DuplicateIdError,
            type(None),
        ]
        assert store.history(one.arn) == [event(1), event(2)]
        assert store.pending_commands(one.arn) == []
        assert store.history(three.arn) == []
        current = store.get_execution(three.arn)
        assert current is not None and current.version == 0
        ended = store.get_execution(two.arn)
        assert ended is not None and (ended.status, ended.version) == ("SUCCEEDED", 1)
        assert store.commit_steps([]) == []

    # --- the outbox -------------------------------------------------------------------------

    def test_outbox_holds_exactly_the_commands_still_owed(self, store: Store) -> None:
        one = self.started(store, "one")
        two = self.started(store, "two")
        timer = StartTimer(command_id="wait", fire_at_ms=1_700_000_060_000)
        store.commit(one.arn, 0, new_commands=[task("a"), timer])
        store.commit(two.arn, 0, new_commands=[task("a")])
        store.commit(one.arn, 1, new_commands=[task("b")], retired=["a", "never-owed"])
        assert store.pending_commands(one.arn) == [(one.arn, timer), (one.arn, task("b"))]
        assert store.pending_commands() == [(one.arn, timer), (two.arn, task("a")), (one.arn, task("b"))]
        store.commit(one.arn, 2, retired=["wait", "b"])
        assert store.pending_commands() == [(two.arn, task("a"))]

    def test_a_command_added_and_retired_in_one_step_is_not_owed(self, store: Store) -> None:
        record = self.started(store)
        store.commit(record.arn, 0, new_commands=[task("a"), task("b")], retired=["a"])
        assert store.pending_commands(record.arn) == [(record.arn, task("b"))]

    def test_a_retired_command_id_can_be_reused(self, store: Store) -> None:
        record = self.started(store)
        store.commit(record.arn, 0, new_commands=[task("a")])
        store.commit(record.arn, 1, retired=["a"])
        store.commit(record.arn, 2, new_commands=[task("a", payload=2)])
        assert store.pending_commands(record.arn) == [(record.arn, task("a", payload=2))]

    # --- the outcome ------------------------------------------------------------------------

    def test_the_outcome_ends_the_execution(self, store: Store) -> None:
        record = self.started(store)
        store.commit(record.arn, 0, events=[event(1)], new_commands=[task("t1")])
        store.deliver(record.arn, TaskSucceeded(now_ms=5, task_id="t1", output={}))
        outcome = ExecutionOutcome("FAILED", None, "Boom", "it broke", stop_ms=1_700_000_000_999)
        assert store.commit(record.arn, 1, events=[event(2, "ExecutionFailed")], outcome=outcome) == 2
        assert store.get_execution(record.arn) == ExecutionRecord(
            arn=record.arn,
            name=record.name,
            state_machine_arn=record.state_machine_arn,
            definition=record.definition,
            input=record.input,
            start_ms=record.start_ms,
            status="FAILED",
            output=None,
            error="Boom",
            cause="it broke",
            stop_ms=1_700_000_000_999,
            version=2,
        )
        # An ended execution owes nothing and will apply nothing more.
        assert store.pending_commands() == []
        assert store.inbox() == []
        assert store.unfinished_executions() == []
        with pytest.raises(ExecutionClosedError):
            store.commit(record.arn, 2, events=[event(3)])
        with pytest.raises(ExecutionClosedError):
            store.deliver(record.arn, TimerFired(now_ms=6, timer_id="x"))
        assert store.event_count(record.arn) == 2

    def test_a_stale_commit_to_an_ended_execution_is_a_conflict(self, store: Store) -> None:
        record = self.started(store)
        store.commit(record.arn, 0, outcome=ExecutionOutcome("ABORTED", None, None, None, stop_ms=1))
        with pytest.raises(ConflictError):
            store.commit(record.arn, 0, events=[event(1)])

    def test_succeeded_output(self, store: Store) -> None:
        record = self.started(store)
        store.commit(record.arn, 0, outcome=ExecutionOutcome("SUCCEEDED", '{"a":1}', None, None, stop_ms=7))
        current = store.get_execution(record.arn)
        assert current is not None
        assert (current.status, current.output, current.error, current.stop_ms) == (
            "SUCCEEDED",
            '{"a":1}',
            None,
            7,
        )

    # --- redrive ----------------------------------------------------------------------------

    def ended(self, store: Store, status: ExecutionStatus = "FAILED", name: str = "run-1") -> ExecutionRecord:
        record = self.started(store, name)
        store.commit(record.arn, 0, events=[event(1)], new_commands=[task("t1")])
        store.commit(
            record.arn,
            1,
            signals=[TaskFailed(now_ms=2, task_id="t1", error="Boom", cause="it broke")],
            events=[event(2, "ExecutionFailed")],
            outcome=ExecutionOutcome(status, '{"x":1}', "Boom", "it broke", stop_ms=9),
        )
        return record

    @pytest.mark.parametrize("status", ["FAILED", "TIMED_OUT", "ABORTED"])
    def test_reopen_runs_an_ended_execution_again(self, store: Store, status: ExecutionStatus) -> None:
        record = self.ended(store, status)
        redrive = TimerFired(now_ms=100, timer_id="redrive")
        assert store.reopen_execution(record.arn, 2, redrive, now_ms=100) == 3
        current = store.get_execution(record.arn)
        assert current is not None
        assert (current.status, current.output, current.error, current.cause, current.stop_ms) == (
            "RUNNING",
            None,
            None,
            None,
            None,
        )
        assert (current.version, current.redrive_count, current.redrive_ms) == (3, 1, 100)
        assert (current.start_ms, current.input) == (record.start_ms, record.input)
        entries = store.journal_entries(record.arn)
        assert entries[-1] == (redrive, False)
        assert all(committed for _, committed in entries[:-1])
        assert store.unfinished_executions() == [record.arn]
        assert [r.arn for r in store.list_executions(status="RUNNING")] == [record.arn]
        assert store.history(record.arn) == [event(1), event(2, "ExecutionFailed")]  # history stays
        # It goes on like any running execution; its next step commits the redrive.
        store.deliver(record.arn, TimerFired(now_ms=101, timer_id="w"))
        assert store.commit(record.arn, 3, events=[event(3)], new_commands=[task("t2")]) == 4
        assert store.journal_entries(record.arn)[-1] == (redrive, True)
        assert store.pending_commands(record.arn) == [(record.arn, task("t2"))]
        outcome = ExecutionOutcome("FAILED", None, "Again", None, stop_ms=200)
        store.commit(record.arn, 4, events=[event(4)], outcome=outcome)
        assert store.reopen_execution(record.arn, 5, redrive, now_ms=300) == 6
        again = store.get_execution(record.arn)
        assert again is not None
        assert (again.redrive_count, again.redrive_ms, again.status) == (2, 300, "RUNNING")

    def test_reopen_refuses_a_stale_version(self, store: Store) -> None:
        record = self.ended(store)
        with pytest.raises(ConflictError) as raised:
            store.reopen_execution(record.arn, 1, TimerFired(now_ms=1, timer_id="r"), now_ms=1)
        assert (raised.value.expected, raised.value.actual) == (1, 2)
        self.assert_still_ended(store, record)

    @pytest.mark.parametrize("status", ["RUNNING", "SUCCEEDED"])
    def test_reopen_refuses_what_cannot_be_redriven(self, store: Store, status: str) -> None:
        if status == "RUNNING":
            record = self.started(store)
            version_now = 0
        else:
            record = self.started(store)
            store.commit(record.arn, 0, outcome=ExecutionOutcome("SUCCEEDED", "{}", None, None, stop_ms=1))
            version_now = 1
        before = store.get_execution(record.arn)
        journal = store.journal_entries(record.arn)
        with pytest.raises(ExecutionNotRedrivableError) as raised:
            store.reopen_execution(record.arn, version_now, TimerFired(now_ms=1, timer_id="r"), now_ms=1)
        assert raised.value.status == status
        assert store.get_execution(record.arn) == before
        assert store.journal_entries(record.arn) == journal

    def test_reopen_an_unknown_execution(self, store: Store) -> None:
        with pytest.raises(ExecutionDoesNotExistError):
            store.reopen_execution(execution("ghost").arn, 0, TimerFired(now_ms=1, timer_id="r"), now_ms=1)

    def assert_still_ended(self, store: Store, record: ExecutionRecord) -> None:
        current = store.get_execution(record.arn)
        assert current is not None
        assert (current.status, current.version, current.redrive_count, current.redrive_ms) == (
            "FAILED",
            2,
            0,
            None,
        )
        assert all(committed for _, committed in store.journal_entries(record.arn))
        assert len(store.journal(record.arn)) == 2

    # --- what survives the trip through the store -------------------------------------------

    def test_every_kind_of_signal_and_command_round_trips(self, store: Store) -> None:
        record = self.started(store)
        big = {"blob": "é" * (128 * 1024), "nested": [1, 2.5, None, True, {"k": "v"}]}  # 256 KiB as UTF-8
        signals: list[Signal] = [
            TaskStarted(now_ms=1, task_id="t", worker_name="w"),
            TaskStarted(now_ms=1, task_id="t"),
            TaskSucceeded(now_ms=2, task_id="t", output=big),
            TaskFailed(now_ms=3, task_id="t", error="E", cause=None),
            TaskHeartbeat(now_ms=4, task_id="t"),
            TimerFired(now_ms=5, timer_id="w"),
            StopExecution(now_ms=6, error="Stop", cause="by hand"),
        ]
        commands: list[Command] = [
            task("t", payload=big),
            InvokeTask(
                command_id="full",
                resource="r",
                payload=[],
                task_token="tok",
                timeout_seconds=30,
                heartbeat_seconds=5,
                state_name="Ünïcode state",
                extra={"retry": {"attempt": 2}},
            ),
            StartTimer(command_id="timer", fire_at_ms=99),
        ]
        details = {"name": "A", "input": '{"x":"\\u00e9"}', "inputDetails": {"truncated": False}}
        events = [event(1, "TaskStateEntered", details), event(2, "ChoiceStateEntered", None)]
        store.commit(record.arn, 0, signals=signals, events=events, new_commands=commands)
        assert store.journal(record.arn) == [start(record), *signals]
        assert [command for _, command in store.pending_commands(record.arn)] == commands
        assert store.history(record.arn) == events

    # --- history ----------------------------------------------------------------------------

    def test_history_pages_forward_and_backward(self, store: Store) -> None:
        record = self.started(store)
        for version, first in enumerate(range(1, 13, 3)):
            store.commit(record.arn, version, events=[event(i) for i in range(first, first + 3)])
        everything = [event(i) for i in range(1, 13)]
        assert store.event_count(record.arn) == 12
        assert store.history(record.arn) == everything
        assert store.history(record.arn, after_id=10) == everything[10:]
        assert store.history(record.arn, limit=5) == everything[:5]
        assert store.history(record.arn, after_id=5, limit=3) == everything[5:8]
        assert store.history(record.arn, after_id=12) == []
        assert store.history(record.arn, reverse=True) == everything[::-1]
        assert store.history(record.arn, reverse=True, limit=2) == [event(12), event(11)]
        assert store.history(record.arn, reverse=True, after_id=4) == [event(3), event(2), event(1)]
        assert store.history(record.arn, reverse=True, after_id=4, limit=2) == [event(3), event(2)]
        assert self.read_in_pages(store, record.arn, reverse=False) == everything
        assert self.read_in_pages(store, record.arn, reverse=True) == everything[::-1]

    @staticmethod
    def read_in_pages(store: Store, arn: str, *, reverse: bool) -> list[HistoryEvent]:
        seen: list[HistoryEvent] = []
        while page := store.history(arn, after_id=seen[-1].id if seen else 0, limit=5, reverse=reverse):
            seen.extend(page)
        return seen

    def test_histories_are_per_execution(self, store: Store) -> None:
        one = self.started(store, "one")
        two = self.started(store, "two")
        store.commit(one.arn, 0, events=[event(1), event(2)])
        store.commit(two.arn, 0, events=[event(1, "ExecutionStarted")])
        assert store.history(two.arn) == [event(1, "ExecutionStarted")]
        assert store.event_count(one.arn) == 2

    # --- the inbox --------------------------------------------------------------------------

    def test_inbox(self, store: Store) -> None:
        one = self.started(store, "one")
        two = self.started(store, "two")
        done = TaskSucceeded(now_ms=10, task_id="t1", output={"r": 1})
        stop = StopExecution(now_ms=11)
        first = store.deliver(one.arn, done)
        other = store.deliver(two.arn, TimerFired(now_ms=12, timer_id="w"))
        second = store.deliver(one.arn, stop)
        assert first < other < second
        assert [(i.id, i.signal) for i in store.inbox(one.arn)] == [(first, done), (second, stop)]
        assert [(i.id, i.execution_arn) for i in store.inbox()] == [
            (first, one.arn),
            (other, two.arn),
            (second, one.arn),
        ]
        # A step consumes what it applied, in the same transaction; another's ids are not its own.
        store.commit(one.arn, 0, signals=[done], consumed_inbox=[first, other])
        assert [i.id for i in store.inbox()] == [other, second]
        with pytest.raises(ConflictError):
            store.commit(one.arn, 0, signals=[stop], consumed_inbox=[second])
        assert [i.id for i in store.inbox(one.arn)] == [second]

    # --- many threads -----------------------------------------------------------------------

    def test_concurrent_commits(self, store: Store) -> None:
        records = [self.started(store, f"run-{i}") for i in range(4)]
        winners: list[int] = []
        errors: list[BaseException] = []

        def work(record: ExecutionRecord) -> None:
            try:
                for version in range(25):
                    store.commit(
                        record.arn, version, events=[event(version + 1)], new_commands=[task(str(version))]
                    )
            except BaseException as error:
                errors.append(error)

        def race(version: int) -> None:
            try:
                store.commit(records[0].arn, version, events=[event(1000 + version)])
                winners.append(version)
            except ConflictError:
                pass
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=work, args=(r,)) for r in records[1:]]
        threads += [threading.Thread(target=race, args=(0,)) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert winners == [0]
        for record in records[1:]:
            assert store.event_count(record.arn) == 25
            assert len(store.pending_commands(record.arn)) == 25
        assert store.history(records[0].arn) == [event(1000)]

    # --- lifecycle --------------------------------------------------------------------------

    def test_close_is_idempotent_and_final(self, store: Store) -> None:
        record = self.started(store)
        store.close()
        store.close()
        with pytest.raises(StoreClosedError):
            store.get_execution(record.arn)
        with pytest.raises(StoreClosedError):
            store.commit(record.arn, 0, events=[event(1)])
        with pytest.raises(StoreClosedError):
            store.pending_commands()
        for call in (
            lambda: store.put_version(version()),
            lambda: store.get_version(version().arn),
            lambda: store.list_versions(ORDERS),
            lambda: store.delete_version(version().arn),
            lambda: store.put_alias(alias()),
            lambda: store.get_alias(alias().arn),
            lambda: store.list_aliases(ORDERS),
            lambda: store.delete_alias(alias().arn),
            lambda: store.put_activity(activity()),
            lambda: store.get_activity(activity().arn),
            store.list_activities,
            lambda: store.delete_activity(activity().arn),
            lambda: store.tag_resource(ORDERS, {"a": "b"}),
            lambda: store.untag_resource(ORDERS, ["a"]),
            lambda: store.list_tags(ORDERS),
            lambda: store.journal_entries(record.arn),
            lambda: store.reopen_execution(record.arn, 0, TimerFired(now_ms=1, timer_id="r"), now_ms=1),
        ):
            with pytest.raises(StoreClosedError):
                call()

    def test_everything_committed_survives_reopening(self, store: Store) -> None:
        store.put_state_machine(machine(updated_ms=5, logging_configuration='{"level":"OFF"}'))
        store.tag_resource(ORDERS, {"a": "b", "c": "d"})
        store.put_version(version(1))
        store.put_alias(alias(routing=((f"{ORDERS}:1", 60), (f"{ORDERS}:2", 40))))
        store.put_activity(activity())
        store.tag_resource(activity().arn, {"x": "y"})
        running = self.started(store, "running", state_machine_version_arn=f"{ORDERS}:1")
        ended = self.started(store, "ended", state_machine_alias_arn=f"{ORDERS}:live")
        fresh = self.started(store, "fresh")  # its start never committed
        store.commit(running.arn, 0, events=[event(1), event(2)], new_commands=[task("t1")])
        done = TaskSucceeded(now_ms=3, task_id="t1", output=[1])
        store.commit(
            running.arn, 1, signals=[done], events=[event(3)], retired=["t1"], new_commands=[task("t2")]
        )
        inbox_id = store.deliver(running.arn, TimerFired(now_ms=4, timer_id="w"))
        store.commit(
            ended.arn, 0, outcome=ExecutionOutcome("TIMED_OUT", None, "States.Timeout", None, stop_ms=8)
        )
        before = snapshot(store, [running.arn, ended.arn, fresh.arn])

        again = self.reopen(store)
        if again is None:
            pytest.skip("this store keeps nothing after close()")
        try:
            assert snapshot(again, [running.arn, ended.arn, fresh.arn]) == before
            assert [i.id for i in again.inbox()] == [inbox_id]
            assert again.commit(running.arn, 2, events=[event(4)], consumed_inbox=[inbox_id]) == 3
        finally:
            again.close()


def snapshot(store: Store, arns: list[str]) -> dict[str, Any]:
    """Everything the store tells about the given executions, to compare across a reopen."""
    return {
        "machines": store.list_state_machines(),
        "versions": store.list_versions(ORDERS),
        "aliases": store.list_aliases(ORDERS),
        "activities": store.list_activities(),
        "tags": [store.list_tags(ORDERS), store.list_tags(activity().arn)],
        "executions": [store.get_execution(arn) for arn in arns],
        "journals": [store.journal_entries(arn) for arn in arns],
        "histories": [store.history(arn) for arn in arns],
        "pending": store.pending_commands(),
        "inbox": store.inbox(),
        "unfinished": store.unfinished_executions(),
        "listed": store.list_executions(),
    }


class FirstStepContract:
    """create_execution(first_step=...) writes the execution and its first step at once."""

    store: Store

    def test_the_first_step_is_written_with_the_execution(self, store: Store) -> None:
        from podium.core.history import HistoryEvent
        from podium.core.messages import StartTimer
        from podium.store.records import FirstStep

        record = _first_step_record()
        event = HistoryEvent(1, 0, 1.0, "ExecutionStarted", {"input": "{}"})
        stored, created = store.create_execution(
            record,
            _first_step_start(),
            first_step=FirstStep(events=(event,), new_commands=(StartTimer("t-1", 5),)),
        )
        assert created
        assert stored.version == 1
        assert store.get_execution(record.arn) == stored
        assert [e.type for e in store.history(record.arn)] == ["ExecutionStarted"]
        assert [c.command_id for _, c in store.pending_commands(record.arn)] == ["t-1"]
        assert store.journal_entries(record.arn)[0][1] is True  # its step is committed
        assert store.commit(record.arn, 1) == 2

    def test_a_submitted_execution_is_written_with_its_first_step(self, store: Store) -> None:
        from podium.store.records import ExecutionOutcome, FirstStep

        record = _first_step_record()
        outcome = ExecutionOutcome("SUCCEEDED", "{}", None, None, 9)
        written, done = promise()
        store.submit_execution(record, _first_step_start(), done, first_step=FirstStep(outcome=outcome))
        stored, created = written.result(timeout=30)
        assert created and stored.status == "SUCCEEDED"
        assert store.get_execution(record.arn) == stored

    def test_a_first_step_that_ends_the_execution_closes_it(self, store: Store) -> None:
        from podium.store.records import ExecutionOutcome, FirstStep

        record = _first_step_record()
        outcome = ExecutionOutcome("SUCCEEDED", "{}", None, None, 9)
        stored, _ = store.create_execution(record, _first_step_start(), first_step=FirstStep(outcome=outcome))
        assert stored.status == "SUCCEEDED"
        assert stored.output == "{}"
        assert store.get_execution(record.arn) == stored
        assert store.unfinished_executions() == []


def _first_step_record() -> ExecutionRecord:
    return ExecutionRecord(
        arn="arn:aws:states:us-east-1:000000000000:execution:sm:first",
        name="first",
        state_machine_arn="arn:aws:states:us-east-1:000000000000:stateMachine:sm",
        definition="{}",
        input="{}",
        start_ms=1,
    )


def _first_step_start() -> Signal:
    from podium.core.messages import StopExecution

    return StopExecution(1)
