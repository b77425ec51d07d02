"""Start the crash test's executions (those not started yet) and wait for all of them.

Run as `python -m tests.crash.driver DB`. The test kills this process with SIGKILL at random
moments and runs it again on the same database, until every execution has ended.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

from podium.connectors.functions import FunctionConnector, FunctionRegistry
from podium.runtime.engine import Engine
from podium.store.sqlite import SQLiteStore
from tests.crash import workload


def main(db: str) -> int:
    store = SQLiteStore(db)
    registry = FunctionRegistry(workload.FUNCTIONS)
    executor = ThreadPoolExecutor(max_workers=4)
    engine = Engine(store, connectors=[FunctionConnector(registry, executor)])
    with engine:
        machines = {
            name: engine.create_state_machine(name, workload.definition(name)) for name in workload.MACHINES
        }
        arns = []
        for machine, name, value in workload.executions():
            arn = engine.arns.execution(machine, name)
            if store.get_execution(arn) is None:
                engine.start_execution(machines[machine].arn, value, name=name)
            arns.append(arn)
        for arn in arns:
            engine.wait(arn, timeout=120)
    executor.shutdown(wait=True)
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
