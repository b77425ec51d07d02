"""The worker SDK: services in Python, the same handler code on every transport.

    from podium.worker import TaskError, Worker

    worker = Worker("payment-auth", concurrency=4)

    @worker.handler("authorize")
    def authorize(payment, ctx):
        if payment["amount"] > 10_000:
            raise TaskError("Payment.Declined", "over the card's limit")
        return {"authorization_id": ctx.idempotency_key[-12:]}

    worker.run("http://127.0.0.1:8083")   # or redis://..., amqp://..., a Transport, a Service

or from a shell: `python -m podium.worker payments.auth:worker --transport redis://localhost`.

Which handler runs. A task's input (the command's body, the activity task's input) is given
to the handler as it is. When it is a JSON object with a `"command"` field (the key is
`Worker(command_key=...)`; None turns this off), that field names the handler, and a name
the worker does not have fails the task with `Runtime.HandlerNotFound`. Otherwise the task
goes to the handler registered with `default=True`, or to the only handler when there is one.
So one queue (or activity) per service carries `{"command": "authorize", ...}` and
`{"command": "void", ...}`, while a queue per operation needs no field at all.

A handler takes `(input)` or `(input, ctx)` (a `TaskContext`: the task token, also as
`ctx.idempotency_key`, attempt, deadline, heartbeat(), a logger) and returns a JSON value.
It fails its task on purpose with `TaskError(error, cause)`, a business error, retried only
where the definition's Retry says so (its name, States.TaskFailed or States.ALL); any other
exception is a crash, reported as Lambda reports one (error = the exception's class name).
Tasks arrive at least once: apply steps through a `Ledger` keyed by the token to apply each
at most once.

Modules: worker.py (handlers, options, start / stop / run), runner.py (threads, answers,
graceful stop), context.py, outcomes.py (results and errors), heartbeats.py, sources.py (the
transport port and URLs), broker.py and activities.py (the two kinds of transport), ledger.py,
liveness.py (the health file `podium up` watches), timings.py (handler times for benchmarks,
opt-in), __main__.py (the command line).
"""

from podium.task_error import TaskError
from podium.worker.context import TaskContext
from podium.worker.ledger import Ledger
from podium.worker.sources import ReceivedTask, TaskSource
from podium.worker.worker import HandlerNotFoundError, Worker, WorkerOptions

__all__ = [
    "HandlerNotFoundError",
    "Ledger",
    "ReceivedTask",
    "TaskContext",
    "TaskError",
    "TaskSource",
    "Worker",
    "WorkerOptions",
]
