"""`podium demo`: the payment saga of examples/payment-saga, run end to end with a report.

It starts what `podium up` would start from the example's podium.yaml (the server's
assembly in this process, on SQLite, and the four services as supervised processes, two
replicas each), runs a batch of payments through the PaymentSaga state machine while the
services inject their faults, and then reads what happened back from the two sources of
truth: the orchestrator's histories and the services' own ledgers. With --kill-orchestrator N
the server runs as a child process instead, killed with SIGKILL N times mid-run and started
again on the same database, and the batch goes through its API.

    options.py   what the command takes (DemoOptions) and the run directory
    example.py   finding the example and adapting its podium.yaml to one run
    brokers.py   a broker namespace of the run's own, removed afterwards
    payments.py  the batch: good cards, declines, malformed cards, with their expected outcome
    batch.py     starting the executions a window at a time and waiting for them, with deadlines,
                 trying a start again (same name, same input) while the orchestrator is away
    client.py    the batch's client of the API, when the orchestrator is a child process
    orchestrator.py  `podium server` as a child process: started, SIGKILLed, started again
    kills.py     when to kill it, and the record of each kill
    progress.py  the progress bar on stderr
    calls.py     service calls out of the histories: latencies, retries, compensations
    audit.py     the checks: terminal, compensated, balanced, at most once per task token
    report.py    the table
    run.py       the whole run, and `verify` of an earlier one
"""

from podium.demo.options import DemoOptions
from podium.demo.run import DemoError, run_demo, verify_run

__all__ = ["DemoError", "DemoOptions", "run_demo", "verify_run"]
