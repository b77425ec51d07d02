"""Record the start ($STARTS), live $CRASH_AFTER seconds, exit with $EXIT_CODE."""

import os
import sys
import time

with open(os.environ["STARTS"], "a") as starts:
    starts.write(f"{os.environ['PODIUM_WORKER_ID']} {time.time()}\n")
print(f"started as {os.environ['PODIUM_WORKER_ID']}")
time.sleep(float(os.environ.get("CRASH_AFTER", "0.1")))
print("crashing", file=sys.stderr)
sys.exit(int(os.environ.get("EXIT_CODE", "3")))
