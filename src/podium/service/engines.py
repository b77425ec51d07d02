"""The engines behind the service, and what they share: connectors, activity queues, task tokens.

`attach(service)` completes a Service whose durable engine was built with its function
connector (podium.service.assembly): it adds the activity connector and the child-execution
connector to that engine, and builds the EXPRESS engine (in memory: AWS keeps no history of an
EXPRESS execution) with the same function connector. EXPRESS machines cannot use activities
(CreateStateMachine refuses them, as AWS does); the child executions they start run on the
durable engine. It is idempotent; the assembly calls it through `on_start`, before the
engine resumes anything, and tests call it directly.
"""

from __future__ import annotations

from typing import Any

from podium.api.errors import ApiError
from podium.connectors.activities import ActivityConnector, ActivityQueues
from podium.connectors.children import ChildExecutionConnector
from podium.connectors.functions import FunctionConnector
from podium.connectors.http import HttpConnector
from podium.runtime.engine import Engine
from podium.service.registry import Service
from podium.store.memory import MemoryStore
from podium.store.records import StateMachineRecord

ACTIVITIES = "podium.activity_queues"
LONG_POLL = "podium.activity_long_poll_seconds"  # tests shorten GetActivityTask's 60 s
_ATTACHED = "podium.engines_attached"


def attach(service: Service) -> None:
    if service.extras.get(_ATTACHED):
        return
    engine: Engine = service.engine
    store = service.store
    queues = ActivityQueues()
    activities = ActivityConnector(queues, lambda arn: store.get_activity(arn) is not None)

    def resolve(arn: str) -> tuple[StateMachineRecord, str | None, str | None] | None:
        from podium.service.arns import resolve_state_machine

        try:
            machine, version_arn, alias_arn = resolve_state_machine(service, arn)
        except ApiError:
            return None
        return machine, version_arn, alias_arn

    children = ChildExecutionConnector(engine, resolve)
    engine.connectors.extend([activities, children])
    if service.express_engine is None:
        # Tasks that answer at once run the same way in EXPRESS executions: functions, HTTP calls.
        functions = [c for c in engine.connectors if isinstance(c, FunctionConnector | HttpConnector)]
        service.express_engine = Engine(
            MemoryStore(),
            connectors=[*functions, children],
            clock=engine.clock,
            arns=engine.arns,
            payload_limit=engine.payload_limit,
            express=True,
        )
    service.extras[ACTIVITIES] = queues
    service.extras[_ATTACHED] = True


def activity_queues(service: Service) -> ActivityQueues:
    attach(service)
    queues: ActivityQueues = service.extras[ACTIVITIES]
    return queues


def engine_for(service: Service, execution_arn: str) -> Engine:
    """The engine that runs an execution: EXPRESS ones (`:express:` ARNs) run in memory."""
    attach(service)
    engine: Any = service.express_engine if ":express:" in execution_arn else service.engine
    return engine  # type: ignore[no-any-return]


def on_start(service: Service) -> None:
    attach(service)
    activity_queues(service).reopen()
    service.express_engine.start()


def on_drain(service: Service) -> None:
    """A server is stopping: the long polls answer now (no task), and later ones at once."""
    if service.extras.get(_ATTACHED):
        activity_queues(service).close()


def on_stop(service: Service) -> None:
    if not service.extras.get(_ATTACHED):
        return
    activity_queues(service).close()  # wake the long polls before the server waits for them
    service.express_engine.stop()
